// The live topology: events from any source are validated and applied one at a time; a bad event is
// rejected whole with its reason (counted, reported to its sender) and changes nothing.
import { Subject } from 'rxjs/internal/Subject';
import { parseEventLine, TopologyError } from './events.js';
import { Topology } from './model.js';

export type ApplyResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly error: string };

export class TopologyStore {
  readonly topology = new Topology();
  /** Emits after every event that changed the topology. */
  readonly changes$ = new Subject<Topology>();
  /** Emits every rejected event with its reason. */
  readonly rejected$ = new Subject<{ readonly source: string; readonly line: string; readonly error: string }>();
  accepted = 0;
  rejected = 0;

  /** Applies one JSON line. */
  applyLine(line: string, source = 'topology'): ApplyResult {
    if (line.trim() === '' || line.trim().startsWith('#')) return { ok: true, changed: false };
    try {
      const changed = this.topology.apply(parseEventLine(line));
      this.accepted++;
      if (changed) this.changes$.next(this.topology);
      return { ok: true, changed };
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      this.reject(source, line, err.message);
      return { ok: false, error: err.message };
    }
  }

  /** Counts and reports input a source could not even read as a line (e.g. cut off mid-line). */
  reject(source: string, line: string, error: string): void {
    this.rejected++;
    this.rejected$.next({ source, line, error });
  }

  /** The topology as a snapshot stream of adds (what GET /topology returns). */
  snapshot(): string {
    const t = this.topology;
    const lines = [
      ...[...t.hosts.values()].map((h) => ({ type: 'host', ...h })),
      ...[...t.networks.values()].map((n) => ({ type: 'network', ...n })),
      ...[...t.ports.values()].map((p) => ({ type: 'port', ...p })),
    ];
    return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
  }
}
