// Writing the topology into etcd (etcd.ts): lines of events are checked against what the prefix
// holds at a revision R (a store built from it, the lines applied to it each in turn: any rejection
// refuses the whole write), then written in ONE transaction guarded by "nothing under the prefix
// modified since R": a compare that every key of the prefix has mod_revision <= R (a put by anyone,
// etcdctl included) and the same for a guard key beside the prefix that every write of ours puts
// (a delete by one of our writers; etcd cannot compare keys that are gone). When the guard fails,
// the write is checked again against the new state and retried.
import type { Etcd3 } from 'etcd3';
import { entityKey, entityOf, eventEntity, Kind, storeAt } from './etcd.js';
import { isEventLine, parseEventLine, TopologyError } from './events.js';
import { Rejection, where } from './store.js';

/** The whole write was refused: every rejected line (FILE:LINE and reason); nothing was written. */
export class WriteRefused extends Error {
  constructor(readonly rejected: readonly Rejection[]) {
    super(`${rejected.length} rejected line(s); nothing was written:\n${rejected.map((r) => `  ${where(r)}: ${r.error}`).join('\n')}`);
  }
}

export interface WriteResult {
  /** Keys put or deleted. */
  readonly keys: number;
  /** The revision of the transaction. */
  readonly revision: number;
  /** Transactions tried (more than 1: another writer came between a read and the transaction). */
  readonly attempts: number;
}

export interface WriteOptions {
  readonly attempts?: number;
  /** Runs between the check and the transaction (tests put a concurrent write there). */
  readonly beforeCommit?: (attempt: number) => Promise<void>;
}

/** The key beside the prefix that every write of ours puts, so that a delete by one is seen by the others. */
export function guardKey(prefix: string): string {
  return `${prefix}.guard`;
}

/** The key just after every key that starts with `p`. */
function rangeEnd(p: string): Buffer {
  const b = Buffer.from(p);
  b[b.length - 1]!++;
  return b;
}

/**
 * Checks `lines` (numbered from 1, named `source` in errors) against the prefix and writes them in
 * one guarded transaction. Empty lines and comments are skipped. Throws WriteRefused when a line is
 * rejected.
 */
export async function writeLines(client: Etcd3, prefix: string, lines: readonly string[], source: string, o: WriteOptions = {}): Promise<WriteResult> {
  const max = o.attempts ?? 5;
  for (let attempt = 1; attempt <= max; attempt++) {
    const { store, read } = await storeAt(client, prefix);
    const rejected: Rejection[] = [];
    const touched = new Map<string, { kind: Kind; id: string }>();
    lines.forEach((line, i) => {
      if (!isEventLine(line)) return;
      const lineNo = i + 1;
      try {
        const raw = JSON.parse(line) as unknown;
        if (typeof raw === 'object' && raw !== null && 'rev' in raw) {
          throw new TopologyError('"rev" is etcd\'s (each key\'s mod_revision): remove it from the line');
        }
      } catch (err) {
        if (err instanceof TopologyError) {
          rejected.push({ source, lineNo, line, error: err.message });
          return;
        }
        // Not JSON: applying it says so.
      }
      const r = store.applyLine(line, source, lineNo);
      if (!r.ok) rejected.push({ source, lineNo, line, error: r.error });
      else {
        const e = eventEntity(parseEventLine(line));
        touched.set(entityKey(prefix, e.kind, e.id), e);
      }
    });
    if (rejected.length) throw new WriteRefused(rejected);
    await o.beforeCommit?.(attempt);
    // Each touched key once, as the lines leave it: its entity's event, or deleted.
    const ops = [...touched].map(([key, { kind, id }]) => {
      const e = entityOf(store.topology, kind, id);
      return e ? { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(e)) } } : { request_delete_range: { key: Buffer.from(key) } };
    });
    if (!ops.length) return { keys: 0, revision: read.revision, attempts: attempt };
    const notSince = { target: 'Mod' as const, result: 'Less' as const, mod_revision: read.revision + 1 };
    const res = await client.kv.txn({
      compare: [{ key: Buffer.from(`${prefix}/`), range_end: rangeEnd(`${prefix}/`), ...notSince }, { key: Buffer.from(guardKey(prefix)), ...notSince }],
      success: [...ops, { request_put: { key: Buffer.from(guardKey(prefix)), value: Buffer.from(String(read.revision)) } }],
    }).catch((err: unknown) => {
      const m = err instanceof Error ? err.message : String(err);
      throw new Error(/too many operations/.test(m) ? `${ops.length} keys in one transaction: more than etcd's --max-txn-ops allows (128 by default); split the input or raise it` : m);
    });
    if (res.succeeded) return { keys: ops.length, revision: Number(res.header.revision), attempts: attempt };
  }
  throw new Error(`${source}: the topology in etcd changed between every read and write (${max} tries); nothing was written`);
}
