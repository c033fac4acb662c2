// How far one of our etcd watches (the topology's, the cluster's) is behind etcd (issue 18 point 5).
// etcd's revision counts every write to any key, so "etcd's revision minus the one applied" alone
// would show a lag whenever keys outside the watched prefix change (the cluster's beside the
// topology's). So a periodic check asks etcd about the prefix itself, in one range request: how
// many keys it holds and the newest mod_revision among them (keys only, sorted by mod_revision,
// limit 1). What the watch applied equals etcd's prefix at etcd's revision H exactly when no key
// there is newer than the applied revision and the key count is the same (a delete shows only in
// the count; a key put and deleted again in between changed nothing). That sorted read makes etcd
// read every key under the prefix (~5 ms at 6500 keys, more under load); so a check first asks for
// the count alone (etcd's in-memory index, <1 ms), whose header says etcd's revision: at the
// applied one, nothing can be newer, and the sorted read is skipped. npm etcd3 1.1.2 has no
// progress request (etcd's answer to one, watch id -1, is not a watcher's), and etcd's own progress
// notifications come every 10 minutes by default.
import { Etcd3, Range } from 'etcd3';

/** What a watch has applied: its revision and the number of keys it holds under the prefix. */
export interface WatchPosition {
  readonly revision: number;
  readonly keys: number;
}

export interface WatchLagStatus {
  /** etcd's revision at the last check that it answered. */
  readonly etcdRevision: number;
  /** etcd's revision minus the applied one while the prefix holds what the watch has not applied; else 0. */
  readonly revisions: number;
  /**
   * Seconds since the first check that found the watch behind and that it has not caught up with;
   * else 0. Checks are `intervalMs` apart: the figure is that coarse.
   */
  readonly seconds: number;
  /** When etcd last answered a check (ISO time); none yet: the lag is not known. */
  readonly checkedAt?: string;
}

/** Before the first check. */
export const NOT_CHECKED: WatchLagStatus = { etcdRevision: 0, revisions: 0, seconds: 0 };

/** Checks, every `intervalMs`, whether the watch holding `position()` has applied what etcd holds under `prefix`. */
export class WatchLag {
  private readonly range: Range;
  private readonly timer: NodeJS.Timeout;
  /** Checks that found the watch behind: the revision it must reach, and when the check was sent. */
  private behind: { readonly revision: number; readonly at: number }[] = [];
  private etcdRevision = 0;
  private checkedAt: number | undefined;
  private checking = false;

  constructor(private readonly client: Etcd3, prefix: string, private readonly position: () => WatchPosition, intervalMs = 5000) {
    this.range = Range.prefix(prefix);
    this.timer = setInterval(() => void this.check(), intervalMs);
    void this.check();
  }

  status(): WatchLagStatus {
    const applied = this.position().revision;
    this.behind = this.behind.filter((b) => b.revision > applied);
    const first = this.behind[0];
    return {
      etcdRevision: this.etcdRevision,
      revisions: first ? this.etcdRevision - applied : 0,
      seconds: first ? (Date.now() - first.at) / 1000 : 0,
      ...(this.checkedAt !== undefined ? { checkedAt: new Date(this.checkedAt).toISOString() } : {}),
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const at = Date.now();
    // Taken before the request: etcd answers at a revision no older than this.
    const pos = this.position();
    try {
      const head = await this.client.kv.range({ key: this.range.start, range_end: this.range.end, count_only: true });
      // In step (etcd at the applied revision, as many keys): nothing can be newer, no sorted read.
      const inStep = Number(head.header.revision) <= pos.revision && Number(head.count) === pos.keys;
      const res = inStep ? head : await this.client.kv.range({
        key: this.range.start, range_end: this.range.end, keys_only: true, sort_target: 'Mod', sort_order: 'Descend', limit: 1,
      });
      this.etcdRevision = Number(res.header.revision);
      this.checkedAt = Date.now();
      const newest = Number(res.kvs[0]?.mod_revision ?? 0);
      if (newest <= pos.revision && Number(res.count) === pos.keys) this.behind = [];
      // A newer key: applied once the watch reaches it; a key gone: known only at etcd's revision.
      else {
        const revision = newest > pos.revision ? newest : this.etcdRevision;
        // The first check to see a revision keeps its time: the lag counts from it.
        if (revision > (this.behind.at(-1)?.revision ?? 0)) this.behind.push({ revision, at });
      }
    } catch {
      // etcd did not answer: the watch's own state says so; the lag keeps growing from what was known.
    } finally {
      this.checking = false;
    }
  }
}
