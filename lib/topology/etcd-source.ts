// --topology etcd:HOST:PORT[,HOST:PORT…][/PREFIX]: the topology read from etcd (etcd.ts). At start,
// one range read of the prefix (one revision) applied as a snapshot, its rejections returned as a
// file's are; then a watch from the next revision, each revision's changes applied together in
// dependency order (a put is the entity's event, a delete its removal at the delete's revision).
// When the watch is cancelled (its revision compacted, or any other cancel), the prefix is read
// again at a known revision and only the DIFFERENCE is applied (puts for keys new or changed,
// removals for keys gone): the store is never emptied, so correct entities are never removed.
// While etcd is unreachable the topology stays as it is and the client keeps trying; the watch
// resumes where it was. How far the watch is behind etcd is checked apart from it (etcd-lag.ts).
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { applyChanges, EtcdTarget, etcdClient, etcdDetail, etcdFailure, formatTarget, KeyChange, readPrefix, PrefixRead, telling, untilAnswered } from './etcd.js';
import { NOT_CHECKED, WatchLag, WatchLagStatus } from './etcd-lag.js';
import { writeLines, WriteRefused } from './etcd-write.js';
import type { SnapshotSource } from './sources.js';
import type { Rejection, TopologyStore } from './store.js';

export interface EtcdSourceOptions {
  /** How the operator named this source, for errors (default `--topology etcd:TARGET`). */
  readonly option?: string;
  /** How long the first read may wait for etcd before the start fails. */
  readonly connectTimeoutMs?: number;
  /** Pause between two tries of a read that failed (etcd unreachable). */
  readonly retryMs?: number;
  /** Told of what happens that an operator should see (a relist, etcd lost or back): a line to log as it is. */
  readonly onEvent?: (what: 'relist' | 'disconnected' | 'connected', detail: string) => void;
  /** Time between two checks of the watch's lag behind etcd (default 5 s). */
  readonly lagCheckMs?: number;
}

export interface EtcdSourceStatus {
  readonly target: string;
  /** How the operator named it (--topology etcd:…, or --etcd …). */
  readonly named: string;
  readonly connected: boolean;
  /** The last revision whose changes are applied (the watch's progress included). */
  readonly revision: number;
  /** Reads of the whole prefix after the first, applied (the watch was cancelled, e.g. compacted). */
  readonly relists: number;
  /** etcd3's words for the last failure. */
  readonly lastError?: string;
  readonly lag: WatchLagStatus;
}

export interface EtcdSource extends SnapshotSource {
  status(): EtcdSourceStatus;
  /**
   * Writes event lines into etcd (checked against it, one transaction: etcd-write.ts) and resolves,
   * once the watch has applied them (or after 5 s), to the rejected lines: none when written.
   */
  write(lines: readonly string[], source: string): Promise<readonly Rejection[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function etcdSource(store: TopologyStore, target: EtcdTarget, o: EtcdSourceOptions = {}): Promise<EtcdSource> {
  const client = etcdClient(target);
  const named = o.option ?? `--topology etcd:${formatTarget(target)}`;
  const s = new Following(store, target, client, named, o);
  const read = await untilAnswered(() => readPrefix(client, target.prefix), {
    timeoutMs: o.connectTimeoutMs ?? 10_000, retryMs: o.retryMs ?? 250, named, meaning: 'nothing was done on any host',
  }).catch((err: unknown) => {
    client.close();
    throw err;
  });
  const snapshot = s.applySnapshot(read);
  s.watch(read.revision + 1);
  return {
    name: `etcd:${formatTarget(target)}`, snapshot, status: () => s.status(),
    write: async (lines, source) => {
      try {
        const { revision } = await writeLines(client, target.prefix, lines, source);
        await s.applied(revision, 5000);
        return [];
      } catch (err) {
        if (err instanceof WriteRefused) return err.rejected;
        throw err;
      }
    },
    stop: async () => s.stop(),
  };
}

class Following {
  /** Every key seen under the prefix and the mod_revision seen (applied or rejected). */
  private seen = new Map<string, number>();
  private revision = 0;
  private relists = 0;
  private connected = true;
  private lastError: string | undefined;
  private watcher: Watcher | undefined;
  private stopped = false;
  private relisting = false;
  /** Checked from the first watch on (what was seen and its revision are then etcd's at one revision). */
  private lag: WatchLag | undefined;

  constructor(private readonly store: TopologyStore, private readonly target: EtcdTarget, private readonly client: Etcd3,
    private readonly named: string, private readonly o: EtcdSourceOptions) {}

  status(): EtcdSourceStatus {
    return { target: formatTarget(this.target), named: this.named, connected: this.connected, revision: this.revision, relists: this.relists,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}), lag: this.lag?.status() ?? NOT_CHECKED };
  }

  /** Until the revision is applied (or the time is up). */
  async applied(revision: number, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.revision < revision && Date.now() < until && !this.stopped) await sleep(5);
  }

  applySnapshot(read: PrefixRead): Rejection[] {
    const rejected = applyChanges(this.store, this.target.prefix, read.changes);
    this.seen = new Map(read.changes.map((c) => [c.key, c.rev]));
    this.revision = read.revision;
    return rejected;
  }

  watch(from: number): void {
    const w = this.client.watch().prefix(`${this.target.prefix}/`).startRevision(String(from)).watcher();
    this.watcher = w;
    this.lag ??= new WatchLag(this.client, `${this.target.prefix}/`, () => ({ revision: this.revision, keys: this.seen.size }), this.o.lagCheckMs);
    w.on('data', (res: IWatchResponse) => {
      if (w !== this.watcher) return;
      this.applyWatch(res);
    });
    w.on('connected', () => this.setConnected(true));
    w.on('disconnected', (err: Error) => this.setConnected(false, err));
    // A cancelled watch (its start compacted away, or cancelled by etcd): list again.
    w.on('error', (err: Error) => {
      if (w !== this.watcher) return;
      this.lastError = etcdDetail(err);
      void this.relist('the watch was cancelled (its start revision compacted, or by etcd)');
    });
  }

  private setConnected(up: boolean, why?: unknown): void {
    if (!up) this.lastError = etcdDetail(why);
    if (up === this.connected) return;
    this.connected = up;
    this.o.onEvent?.(up ? 'connected' : 'disconnected', up ? `${this.named}: etcd answers again; watching from revision ${this.revision + 1}`
      : etcdFailure(this.named, 'the topology stays as it is and the hosts keep their flows; the watch resumes where it was once etcd answers', why, true));
  }

  /** One watch response: its events grouped by revision, each revision applied as one set of changes. */
  private applyWatch(res: IWatchResponse): void {
    const byRev = new Map<number, KeyChange[]>();
    for (const ev of res.events) {
      const c = change(ev.kv, ev.type === 'Delete');
      let list = byRev.get(c.rev);
      if (!list) byRev.set(c.rev, (list = []));
      list.push(c);
    }
    for (const rev of [...byRev.keys()].sort((a, b) => a - b)) {
      const changes = byRev.get(rev)!;
      applyChanges(this.store, this.target.prefix, changes);
      for (const c of changes) {
        if (c.value === undefined) this.seen.delete(c.key);
        else this.seen.set(c.key, c.rev);
      }
      this.revision = Math.max(this.revision, rev);
    }
    this.revision = Math.max(this.revision, Number(res.header.revision));
    this.setConnected(true);
  }

  /** Reads the prefix again (until it answers) and applies the difference from what was seen; then watches on. */
  private async relist(why: string): Promise<void> {
    if (this.relisting || this.stopped) return;
    this.relisting = true;
    // etcd cancelled the watch already (the client dropped it): a cancel of ours would wait for ever.
    this.watcher = undefined;
    let read: PrefixRead | undefined;
    let failure: unknown;
    while (!read && !this.stopped) {
      try {
        read = await readPrefix(this.client, this.target.prefix);
      } catch (err) {
        failure = telling(failure, err);
        this.setConnected(false, failure);
        await sleep(this.o.retryMs ?? 250);
      }
    }
    this.relisting = false;
    if (!read) return;
    const now = new Map(read.changes.map((c) => [c.key, c]));
    const diff: KeyChange[] = read.changes.filter((c) => this.seen.get(c.key) !== c.rev);
    for (const key of this.seen.keys()) if (!now.has(key)) diff.push({ key, rev: read.revision });
    applyChanges(this.store, this.target.prefix, diff);
    this.seen = new Map(read.changes.map((c) => [c.key, c.rev]));
    this.revision = read.revision;
    // Counted once applied: a reader of the count sees the difference in the store.
    this.relists++;
    this.setConnected(true);
    this.o.onEvent?.('relist', `${this.named}: ${why}: read the prefix again at revision ${read.revision}; applied ${diff.length} change(s)`);
    this.watch(read.revision + 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.lag?.stop();
    const w = this.watcher;
    this.watcher = undefined;
    // A watch waiting to be (re)created answers no cancel: the client is closed all the same.
    await Promise.race([w?.cancel().catch(() => undefined), sleep(1000)]);
    this.client.close();
  }
}

function change(kv: IKeyValue, deleted: boolean): KeyChange {
  return { key: kv.key.toString('utf8'), rev: Number(kv.mod_revision), ...(deleted ? {} : { value: kv.value.toString('utf8') }) };
}
