// The live topology: events from any source are validated and applied; a bad event is rejected whole
// with its reason and place (counted, reported to its sender) and changes nothing. A batch (an HTTP
// request) is all or nothing. Hosts that rejected start-up lines concern can be frozen (freeze.ts).
import { Subject } from 'rxjs/internal/Subject';
import { isEventLine, parseEventLine, TopologyError } from './events.js';
import { Freeze, freezeFor, Freezes } from './freeze.js';
import { SecurityGroup, Topology } from './model.js';

export type ApplyResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly error: string };

/** A rejected line: where it came from (source and line number, counted from the source's start). */
export interface Rejection {
  readonly source: string;
  readonly lineNo?: number;
  readonly line: string;
  readonly error: string;
}

/** `file:line` (or the source alone when the input had no line). */
export function where(r: Pick<Rejection, 'source' | 'lineNo'>): string {
  return r.lineNo === undefined ? r.source : `${r.source}:${r.lineNo}`;
}

export class TopologyStore {
  /** Emits after every event that changed the topology. */
  readonly changes$ = new Subject<Topology>();
  /** Emits every rejected event with its reason. */
  readonly rejected$ = new Subject<Rejection>();
  /** Emits when accepted events lifted freezes: the freezes and the hosts no longer frozen. */
  readonly thawed$ = new Subject<{ readonly lifted: readonly Freeze[]; readonly hosts: ReadonlySet<string> }>();
  accepted = 0;
  rejected = 0;
  private readonly freezes = new Freezes();

  constructor(readonly topology = new Topology()) {}

  /** Applies one JSON line. */
  applyLine(line: string, source = 'topology', lineNo?: number): ApplyResult {
    if (!isEventLine(line)) return { ok: true, changed: false };
    try {
      const event = parseEventLine(line);
      const changed = this.topology.apply(event);
      this.accepted++;
      const { lifted, thawed } = this.freezes.accepted(event, this.topology);
      if (changed) this.changes$.next(this.topology);
      if (lifted.length) this.thawed$.next({ lifted, hosts: thawed });
      return { ok: true, changed };
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      this.reject(source, line, err.message, lineNo);
      return { ok: false, error: err.message };
    }
  }

  /**
   * Applies lines in order, each alone (validated against the topology after the earlier accepted
   * ones); `firstLineNo` numbers lines[0]. Returns the rejected lines.
   */
  applyLines(lines: readonly string[], source: string, firstLineNo = 1): Rejection[] {
    const rejected: Rejection[] = [];
    lines.forEach((line, i) => {
      const r = this.applyLine(line, source, firstLineNo + i);
      if (!r.ok) rejected.push({ source, lineNo: firstLineNo + i, line, error: r.error });
    });
    return rejected;
  }

  /**
   * All or nothing: the lines are first applied to a copy (each against the copy after the earlier
   * lines); if any is rejected, nothing applies and every rejected line is returned (and counted).
   * A single event needs no copy: applying one event is already all or nothing.
   */
  applyBatch(lines: readonly string[], source: string, firstLineNo = 1): Rejection[] {
    if (lines.filter(isEventLine).length > 1) {
      const rejected = new TopologyStore(this.topology.clone()).applyLines(lines, source, firstLineNo);
      for (const r of rejected) this.reject(r.source, r.line, r.error, r.lineNo);
      if (rejected.length) return rejected;
    }
    return this.applyLines(lines, source, firstLineNo);
  }

  /** Counts and reports a rejected line, or input a source could not even read as a line (cut off mid-line). */
  reject(source: string, line: string, error: string, lineNo?: number): void {
    this.rejected++;
    this.rejected$.next({ source, ...(lineNo !== undefined ? { lineNo } : {}), line, error });
  }

  /** Freezes the hosts each rejected line concerns (freeze.ts), until an accepted event names its entity. */
  freeze(rejected: readonly Rejection[]): readonly Freeze[] {
    const added = rejected.map((r) => freezeFor(where(r), r.error, r.line, this.topology));
    for (const f of added) this.freezes.add(f);
    return added;
  }

  /** The freezes in force. */
  get frozen(): readonly Freeze[] {
    return this.freezes.all;
  }

  /** Whether a host must not be touched (no agent: no OVSDB write, no flow-mod). */
  isFrozen(host: string): boolean {
    return this.freezes.isFrozen(host);
  }

  /** The topology as a snapshot stream of adds (what GET /topology returns). */
  snapshot(): string {
    const t = this.topology;
    const lines = [
      ...[...t.hosts.values()].map((h) => ({ type: 'host', ...h })),
      ...[...t.networks.values()].map((n) => ({ type: 'network', ...n })),
      ...groupsInOrder(t.securityGroups.values()),
      ...[...t.ports.values()].map((p) => ({ type: 'port', ...p })),
    ];
    return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
  }
}

/**
 * Security groups as events that apply in order: a rule may name only a known group, and groups may
 * name each other, so a group naming one not yet written comes first without those rules (and
 * without its rev, which its whole version after all groups carries). `known`: groups already
 * there (a rule may name them at once).
 */
export function groupsInOrder(groups: Iterable<SecurityGroup>, known: (id: string) => boolean = () => false): object[] {
  const written = new Set<string>();
  const first: object[] = [];
  const again: object[] = [];
  for (const g of groups) {
    const ready = g.rules.filter((r) => r.remoteGroupId === undefined || r.remoteGroupId === g.id || written.has(r.remoteGroupId) || known(r.remoteGroupId));
    if (ready.length === g.rules.length) first.push({ type: 'securityGroup', ...g });
    else {
      const { rev: _rev, ...bare } = g;
      first.push({ type: 'securityGroup', ...bare, rules: ready });
      again.push({ type: 'securityGroup', ...g });
    }
    written.add(g.id);
  }
  return [...first, ...again];
}
