// A controller replica's place in the cluster, kept in etcd: who the replicas are, which are alive,
// and which shards this one leads. Under PREFIX/cluster/:
//   config                 {"shards":N}: written by the first replica; a replica with another N is refused
//   members/ID             {"id","target"}: every replica that ever joined, with where bridges reach it
//                          (kept when it dies: bridges list every member, and never lose a target)
//   alive/ID               on this replica's lease: it is alive
//   shards/S/ID            on the lease: ID campaigns for shard S; the key with the lowest create
//                          revision leads, and that revision is its generation (OpenFlow generation_id
//                          and the OVSDB fence): a later leader always has a larger one
// One lease per replica (TTL 2 s, etcd's least; kept alive by Keepalive), one watch over the whole
// cluster prefix. Each
// replica campaigns for the shards it should own and those it stands by for (lib/cluster/shards.ts),
// and gives a shard up when its owner campaigns for it. A leader whose lease may have run out (no
// keepalive answer for its TTL) holds no generation from that moment (writes ask generation()
// first), and steps down when it must have run out.
import { Etcd3, EtcdError, IDuplexStream, IKeyValue, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse, Lease, LeaseClient, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { EtcdFailure, etcdClientOptions, etcdDetail, etcdFailure, untilAnswered } from '../topology/etcd.js';
import { NOT_CHECKED, WatchLag, WatchLagStatus } from '../topology/etcd-lag.js';
import { Peer, peerHostOf, PeerWatch } from './peers.js';
import { planShards } from './shards.js';

export interface ClusterOptions {
  readonly endpoints: readonly string[];
  /** The key prefix, e.g. /ofctl-ts (the cluster keys are under PREFIX/cluster/). */
  readonly prefix: string;
  readonly replicaId: string;
  /** Where ovs-vswitchd reaches this replica (a bridge's Controller target), e.g. tcp:10.0.0.5:6653. */
  readonly target: string;
  readonly shards: number;
  /** The lease's TTL in seconds (default 2: etcd's least; a dead leader's shards move this long after). */
  readonly ttlS?: number;
  readonly log?: Logger;
  /** How long etcd may take to answer the first contact (ms, default 5000). */
  readonly connectTimeoutMs?: number;
  /** How the operator named the etcd, for errors (default `--etcd ENDPOINTS`). */
  readonly named?: string;
  /** Time between two checks of the watch's lag behind etcd (default 5 s). */
  readonly lagCheckMs?: number;
  /**
   * Notice a peer's process ending at once (lib/cluster/peers.ts) and revoke its lease, rather than
   * wait for the lease to run out (default true).
   */
  readonly peerWatch?: boolean;
}

export interface ClusterHooks {
  /** This replica now leads the shard with this generation (also after a lease hiccup, same generation). */
  onLead?: (shard: number, generation: bigint) => void;
  /** This replica no longer leads the shard (handed over, lost, or its lease may have run out). */
  onStepDown?: (shard: number, reason: string) => void;
  /** The members' targets changed (sorted). */
  onTargets?: (targets: readonly string[]) => void;
}

export interface ClusterStatus {
  readonly replica: string;
  readonly alive: readonly string[];
  readonly members: readonly { readonly id: string; readonly target: string }[];
  /** Shards this replica leads, with their generation. */
  readonly leads: readonly { readonly shard: number; readonly generation: string }[];
  /** Shards it campaigns for without leading. */
  readonly standby: readonly number[];
  /** The last etcd revision this replica has seen. */
  readonly revision: string;
  readonly leaseFresh: boolean;
  readonly leadershipChanges: number;
  readonly relists: number;
  /** Leases of peers whose process was seen gone, revoked by this replica. */
  readonly peersRevoked: number;
  /** How far the cluster watch is behind etcd. */
  readonly lag: WatchLagStatus;
}

export class ClusterError extends Error {}

/** A replica's id and the shard count, as an operator gives them: checked before anything connects. */
export function checkReplica(replicaId: string, shards: number): void {
  if (replicaId === '') throw new ClusterError('--replica-id needs a value: this replica\'s id, unique in the cluster');
  if (!ID.test(replicaId)) throw new ClusterError(`--replica-id ${JSON.stringify(replicaId)}: letters, digits, '.', '_' and '-' only (at most 63), starting with a letter or digit`);
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > 4096) throw new ClusterError(`--shards ${shards}: an integer from 1 to 4096`);
}

interface Kv {
  readonly value: string;
  readonly createRevision: bigint;
  /** The lease the key is on ('0': none). */
  readonly lease: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export class Cluster {
  private readonly client: RawClient;
  private peers: PeerWatch | undefined;
  /** Peers' leases this replica revoked (their process gone), for status and metrics. */
  private revoked = 0;
  private readonly root: string;
  private readonly ttlMs: number;
  private lease: Lease | undefined;
  private keepalive: Keepalive | undefined;
  /** The cluster keys as the watch last showed them (key without root -> value). */
  private readonly kvs = new Map<string, Kv>();
  private watcher: Watcher | undefined;
  private revision = 0n;
  /** Shards led, with their generation, as etcd's keys say (whether or not the lease is fresh). */
  private readonly led = new Map<number, bigint>();
  /** Shards whose lead was announced (onLead) and not withdrawn. */
  private readonly announced = new Map<number, bigint>();
  /** Campaign puts and deletes in flight, per shard (one at a time). */
  private readonly busy = new Set<number>();
  /** Shards whose key is being deleted: not led from the moment it was decided. */
  private readonly withdrawing = new Set<number>();
  /** The lease is known valid until this time (ms): keepalives sent, answered. */
  private validUntil = 0;
  private freshTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private targets: string[] = [];
  private changes = 0;
  /** The live replicas as last seen, and since when (ms): hand-overs for balance wait until it settles. */
  private aliveSeen = '';
  private aliveChangedAt = 0;
  private settleTimer: NodeJS.Timeout | undefined;
  private relists = 0;
  private lag: WatchLag | undefined;

  private constructor(private readonly o: ClusterOptions, private readonly hooks: ClusterHooks) {
    this.client = new RawClient(etcdClientOptions(o.endpoints));
    this.root = `${o.prefix.replace(/\/+$/, '')}/cluster/`;
    this.ttlMs = (o.ttlS ?? 2) * 1000;
  }

  /**
   * Joins: checks the shard count against the cluster's, refuses an id that is alive elsewhere,
   * registers as member and alive, then campaigns. Throws ClusterError (nothing kept) if it cannot.
   */
  static async start(o: ClusterOptions, hooks: ClusterHooks = {}): Promise<Cluster> {
    checkReplica(o.replicaId, o.shards);
    const c = new Cluster(o, hooks);
    const named = namedEtcd(o);
    const meaning = 'this replica did not join; nothing was done on any host';
    try {
      await untilAnswered(() => c.client.get(`${c.root}config`).exec(), { timeoutMs: o.connectTimeoutMs ?? 5000, retryMs: 250, named, meaning });
      await c.join();
    } catch (err) {
      await c.close();
      if (err instanceof ClusterError) throw err;
      throw new ClusterError(err instanceof EtcdFailure ? err.message : etcdFailure(named, meaning, err));
    }
    return c;
  }

  /** The generation of a shard this replica leads while its lease is fresh; otherwise undefined. */
  generation(shard: number): bigint | undefined {
    return this.fresh() ? this.led.get(shard) : undefined;
  }

  /**
   * What this replica may do for a shard now: its generation while it leads with a fresh lease;
   * 'paused' while it leads but its lease is not known to be alive (writes wait; no role change);
   * undefined when it does not lead.
   */
  leadership(shard: number): bigint | 'paused' | undefined {
    const g = this.announced.get(shard);
    if (g === undefined) return undefined;
    return this.generation(shard) === g ? g : 'paused';
  }

  /** Every member's controller target, sorted: what each bridge lists. */
  memberTargets(): readonly string[] {
    return this.targets;
  }

  status(): ClusterStatus {
    const fresh = this.fresh();
    return {
      replica: this.o.replicaId,
      alive: this.ids('alive/'),
      members: this.ids('members/').map((id) => ({ id, target: this.member(id)?.target ?? '' })),
      leads: (fresh ? [...this.led] : []).sort((a, b) => a[0] - b[0]).map(([shard, g]) => ({ shard, generation: g.toString() })),
      standby: this.campaigning().filter((s) => !fresh || !this.led.has(s)),
      revision: this.revision.toString(),
      leaseFresh: fresh,
      leadershipChanges: this.changes,
      relists: this.relists,
      peersRevoked: this.revoked,
      lag: this.lag?.status() ?? NOT_CHECKED,
    };
  }

  /** Leaves: gives up every shard at once (deletes its keys, revokes the lease) so standbys take over now. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of [...this.announced.keys()]) this.stepDown(s, 'stopping');
    await this.close(true);
  }

  private async close(revoke = false): Promise<void> {
    this.stopped = true;
    clearInterval(this.freshTimer);
    clearTimeout(this.settleTimer);
    this.lag?.stop();
    this.keepalive?.stop();
    await this.watcher?.cancel().catch(() => undefined);
    if (revoke) await this.lease?.revoke().catch(() => undefined);
    else this.lease?.release();
    // After the lease: a peer that sees these connections end finds nothing left to revoke.
    await this.peers?.stop();
    this.client.close();
  }

  private fresh(): boolean {
    return !this.stopped && Date.now() < this.validUntil - 250;
  }

  private async join(): Promise<void> {
    const r = this.root;
    // The shard count is the cluster's: a host's shard depends on it.
    const config = JSON.stringify({ shards: this.o.shards });
    const txn = await this.client.if(`${r}config`, 'Create', '==', 0).then(this.client.put(`${r}config`).value(config)).else(this.client.get(`${r}config`)).commit();
    if (!txn.succeeded) {
      const kv = txn.responses[0]?.response_range?.kvs[0];
      const have = kv ? (JSON.parse(kv.value.toString()) as { shards?: number }).shards : undefined;
      if (have !== this.o.shards) throw new ClusterError(`--shards ${this.o.shards}: the cluster under ${this.o.prefix} has ${have} shards (${r}config); every replica must use the same count`);
    }
    // A replica of this id alive elsewhere (or a previous life whose lease has not run out yet).
    const aliveKey = `${r}alive/${this.o.replicaId}`;
    const deadline = Date.now() + this.ttlMs + 1500;
    while ((await this.client.get(aliveKey).exec()).kvs.length) {
      if (Date.now() > deadline) throw new ClusterError(`--replica-id ${this.o.replicaId}: a replica of this id is alive (${aliveKey} is held by a live lease); each replica needs its own id`);
      await sleep(200);
    }
    if (this.o.peerWatch !== false) this.peers = await PeerWatch.start(peerHostOf(this.o.target), (p) => void this.peerGone(p), this.o.log);
    await this.client.put(`${r}members/${this.o.replicaId}`).value(JSON.stringify({ id: this.o.replicaId, target: this.o.target, ...(this.peers ? { peer: this.peers.address } : {}) }));
    await this.newLease();
    await this.relist();
    this.lag = new WatchLag(this.client, this.root, () => ({ revision: Number(this.revision), keys: this.kvs.size }), this.o.lagCheckMs);
    this.freshTimer = setInterval(() => this.checkFresh(), 100);
  }

  /** A lease, kept alive (see Keepalive); alive/ID on it. Its loss steps every shard down and makes a new one. */
  private async newLease(): Promise<void> {
    this.keepalive?.stop();
    const lease = this.client.lease(this.ttlMs / 1000, { autoKeepAlive: false });
    this.lease = lease;
    const lost = (why: string): void => {
      if (this.stopped || lease !== this.lease) return;
      this.o.log?.warn({ err: why }, 'cluster: lease lost; stepping down and joining again');
      this.keepalive?.stop();
      this.validUntil = -this.ttlMs;
      this.checkFresh();
      void this.rejoin();
    };
    lease.on('lost', (err: EtcdError) => lost(err.message));
    const granted = Date.now();
    const id = await lease.grant();
    this.validUntil = granted + this.ttlMs;
    this.keepalive = new Keepalive(this.o.endpoints, id, this.ttlMs, {
      renewed: (until) => (this.validUntil = Math.max(this.validUntil, until)),
      expired: () => lost('etcd says the lease has expired'),
      log: this.o.log,
    });
    await lease.put(`${this.root}alive/${this.o.replicaId}`).value(JSON.stringify({ id: this.o.replicaId, since: new Date().toISOString() }));
  }

  private rejoin(): Promise<void> {
    return this.patiently(async () => {
      await this.newLease();
      this.evaluate();
    }, (err) => this.o.log?.warn({ err: etcdDetail(err) }, `cluster: ${etcdFailure(namedEtcd(this.o), 'no new lease yet: this replica leads nothing, the hosts keep their flows; retrying', err)}`));
  }

  /** Tries `attempt` until it succeeds or the replica stops, 0.2 s apart and doubling to 2 s (etcd may be unreachable meanwhile). */
  private async patiently(attempt: () => Promise<void>, failed: (err: unknown, retryInMs: number) => void): Promise<void> {
    for (let wait = 200; !this.stopped; wait = Math.min(wait * 2, 2000)) {
      try {
        return await attempt();
      } catch (err) {
        failed(err, wait);
        await sleep(wait);
      }
    }
  }

  /** Reads the whole cluster prefix at one revision, then watches from the next. */
  private async relist(): Promise<void> {
    const res = await this.client.getAll().prefix(this.root).exec();
    this.kvs.clear();
    for (const kv of res.kvs) this.kvs.set(kv.key.toString().slice(this.root.length), toKv(kv));
    this.revision = BigInt(res.header.revision);
    await this.watcher?.cancel().catch(() => undefined);
    const w = await this.client.watch().prefix(this.root).startRevision((this.revision + 1n).toString()).create();
    this.watcher = w;
    w.on('put', (kv) => this.seen(kv, false));
    w.on('delete', (kv) => this.seen(kv, true));
    w.on('error', (err) => {
      if (this.stopped || w !== this.watcher) return;
      // Cancelled (a compacted revision): list again at a known revision, never start from nothing.
      this.relists++;
      this.o.log?.warn({ err: err.message }, 'cluster: watch cancelled; listing again');
      void this.patiently(() => this.relist(), (e, retryInMs) => this.o.log?.warn({ err: (e as Error).message, retryInMs }, 'cluster: relist failed; trying again'));
    });
    this.evaluate();
  }

  /**
   * A peer's process is gone (its peer connection closed): its lease is revoked, if its alive key
   * is still on the lease of that life, so that its keys go and the standbys lead now.
   */
  private async peerGone(p: Peer): Promise<void> {
    if (this.stopped || this.kvs.get(`alive/${p.id}`)?.lease !== p.lease) return;
    try {
      await new LeaseClient(this.client.callable).leaseRevoke({ ID: p.lease });
      this.revoked++;
      this.o.log?.warn({ replica: p.id, lease: p.lease }, 'cluster: revoked the lease of a replica whose process is gone; its shards go to their standbys now');
    } catch (err) {
      // Gone already (it expired, or another replica revoked it): nothing to do.
      this.o.log?.info({ replica: p.id, err: (err as Error).message }, 'cluster: the lease of a replica whose process is gone was not revoked');
    }
  }

  private seen(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString().slice(this.root.length);
    const rev = BigInt(kv.mod_revision);
    if (rev > this.revision) this.revision = rev;
    if (deleted) this.kvs.delete(key);
    else this.kvs.set(key, toKv(kv));
    this.evaluate();
  }

  private ids(kind: string): string[] {
    return [...this.kvs.keys()].filter((k) => k.startsWith(kind)).map((k) => k.slice(kind.length)).sort();
  }

  private member(id: string): { readonly target: string; readonly peer?: string } | undefined {
    const v = this.kvs.get(`members/${id}`)?.value;
    try {
      return v ? (JSON.parse(v) as { target: string; peer?: string }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Shard S's campaigners, earliest first. */
  private campaigners(s: number): { readonly id: string; readonly rev: bigint }[] {
    const pre = `shards/${s}/`;
    return [...this.kvs].filter(([k]) => k.startsWith(pre)).map(([k, v]) => ({ id: k.slice(pre.length), rev: v.createRevision })).sort((a, b) => (a.rev < b.rev ? -1 : 1));
  }

  private campaigning(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.o.shards; s++) if (this.kvs.has(`shards/${s}/${this.o.replicaId}`)) out.push(s);
    return out;
  }

  /** Campaigns, withdraws and hands over as the plan says; announces what this replica leads. */
  private evaluate(): void {
    if (this.stopped) return;
    const targets = this.ids('members/').map((id) => this.member(id)?.target).filter((t): t is string => !!t).sort();
    if (targets.join('\n') !== this.targets.join('\n')) {
      this.targets = [...new Set(targets)];
      this.hooks.onTargets?.(this.targets);
    }
    const me = this.o.replicaId;
    const alive = this.ids('alive/');
    if (alive.join('\n') !== this.aliveSeen) {
      this.aliveSeen = alive.join('\n');
      this.aliveChangedAt = Date.now();
    }
    // Shards move for balance only once the live replicas have stayed the same for a TTL: a dead
    // replica's shards go to their standbys at once, but the survivors do not also trade shards
    // during the failover, and replicas starting together cause one round of hand-overs, not one each.
    const settleIn = this.aliveChangedAt + this.ttlMs - Date.now();
    this.peers?.follow(alive.filter((id) => id !== me).flatMap((id) => {
      const address = this.member(id)?.peer;
      const lease = this.kvs.get(`alive/${id}`)?.lease;
      return address && lease && lease !== '0' ? [{ id, address, lease }] : [];
    }));
    const plan = planShards(this.o.shards, alive.includes(me) ? alive : []);
    for (let s = 0; s < this.o.shards; s++) {
      const keys = this.campaigners(s);
      const mine = keys.find((k) => k.id === me);
      const want = plan.owner[s] === me || plan.standby[s] === me;
      const leads = keys[0]?.id === me;
      if (leads && !this.withdrawing.has(s)) this.led.set(s, mine!.rev);
      else this.led.delete(s);
      if (this.busy.has(s)) continue;
      if (want && !mine) this.campaign(s);
      else if (mine && !want && !leads) this.withdraw(s, 'not owner nor standby');
      // The owner campaigns: the shard goes to it (a standby that won it keeps it only until then).
      else if (mine && leads && plan.owner[s] !== me && keys.some((k) => k.id === plan.owner[s])) {
        if (settleIn <= 0) this.withdraw(s, `handed to its owner ${plan.owner[s]!}`);
        else this.settleTimer ??= setTimeout(() => {
          this.settleTimer = undefined;
          this.evaluate();
        }, settleIn);
      }
    }
    this.checkFresh();
  }

  /**
   * Announces leads and step-downs. Without a keepalive answer the shards are paused at once
   * (generation() says no), which an etcd leader election (a member of three dying) causes for a
   * second: etcd extends every lease when its new leader starts, so the lead is kept. Only when
   * the lease must have run out by now (a TTL past its last known end) is it given up.
   */
  private checkFresh(): void {
    const fresh = this.fresh();
    const gone = Date.now() > this.validUntil + this.ttlMs;
    for (const [s, g] of this.announced) {
      if (gone) this.stepDown(s, 'lease ran out (no keepalive answer for twice its TTL)');
      else if (this.led.get(s) !== g) this.stepDown(s, 'no longer the earliest campaigner');
    }
    if (!fresh) return;
    for (const [s, g] of this.led) {
      if (this.announced.has(s)) continue;
      this.announced.set(s, g);
      this.changes++;
      this.o.log?.info({ shard: s, generation: g.toString() }, 'cluster: leading shard');
      this.hooks.onLead?.(s, g);
    }
  }

  private stepDown(s: number, reason: string): void {
    if (!this.announced.delete(s)) return;
    this.changes++;
    this.o.log?.warn({ shard: s, reason }, 'cluster: stepped down from shard');
    this.hooks.onStepDown?.(s, reason);
  }

  private campaign(s: number): void {
    const lease = this.lease;
    if (!lease) return;
    const key = `${this.root}shards/${s}/${this.o.replicaId}`;
    this.busy.add(s);
    const value = JSON.stringify({ id: this.o.replicaId });
    // Known from the watch only, never from the answer: the watch delivers every key created
    // before ours first, so this replica cannot think it leads while an earlier campaigner's key
    // is still on its way.
    void this.client.if(key, 'Create', '==', 0).then(lease.put(key).value(value)).commit()
      .catch((err: unknown) => this.o.log?.warn({ shard: s, err: (err as Error).message }, 'cluster: campaign failed; tried again'))
      .finally(() => {
        this.busy.delete(s);
        setTimeout(() => this.evaluate(), 0);
      });
  }

  private withdraw(s: number, reason: string): void {
    this.busy.add(s);
    // Stop acting as leader before the key goes: the next leader may start the moment it is gone.
    this.withdrawing.add(s);
    this.led.delete(s);
    this.stepDown(s, reason);
    void this.client.delete().key(`${this.root}shards/${s}/${this.o.replicaId}`).exec()
      .then(() => void this.kvs.delete(`shards/${s}/${this.o.replicaId}`))
      .catch((err: unknown) => this.o.log?.warn({ shard: s, err: (err as Error).message }, 'cluster: withdrawing failed; tried again'))
      .finally(() => {
        this.busy.delete(s);
        this.withdrawing.delete(s);
        setTimeout(() => this.evaluate(), 0);
      });
  }
}

/** An etcd client whose connections a LeaseClient may use directly. */
class RawClient extends Etcd3 {
  get callable(): ConstructorParameters<typeof LeaseClient>[0] {
    return this.pool;
  }
}

/**
 * Keeps a lease alive, four times per TTL, through one member at a time: a member that does not
 * answer within a quarter TTL is left for the next. (The client's own keepalive gives a stalled
 * stream a whole TTL and goes through any member, so an etcd leader change, a member of three
 * dying, starved the lease for longer than its TTL.) Each answer renews the lease from when its
 * request was sent, which is what etcd counts from at the latest.
 */
class Keepalive {
  private readonly clients: RawClient[];
  private member = 0;
  private stream: IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse> | undefined;
  private opening = false;
  private readonly sent: number[] = [];
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(endpoints: readonly string[], private readonly id: string, private readonly ttlMs: number,
    private readonly on: { renewed: (until: number) => void; expired: () => void; log: Logger | undefined }) {
    this.clients = endpoints.map((e) => new RawClient(etcdClientOptions([e])));
    this.timer = setInterval(() => this.tick(), ttlMs / 4);
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.stream?.end();
    for (const c of this.clients) c.close();
  }

  private tick(): void {
    if (this.stopped || this.opening) return;
    if (this.sent.length && Date.now() - this.sent[0]! > this.ttlMs / 4) this.next('no answer in time');
    if (!this.stream) return void this.open();
    this.sent.push(Date.now());
    this.stream.write({ ID: this.id });
  }

  private open(): void {
    this.opening = true;
    const client = this.clients[this.member]!;
    void new LeaseClient(client.callable).leaseKeepAlive().then((stream) => {
      this.opening = false;
      if (this.stopped) return void stream.end();
      this.stream = stream;
      stream.on('data', (res: ILeaseKeepAliveResponse) => {
        if (stream !== this.stream) return;
        const at = this.sent.shift() ?? Date.now();
        if (Number(res.TTL) <= 0) return this.on.expired();
        this.on.renewed(at + Number(res.TTL) * 1000);
      });
      stream.on('error', (err: Error) => stream === this.stream && this.next(err.message));
      stream.on('end', () => stream === this.stream && this.next('the member ended the stream'));
      this.tick();
    }, (err: Error) => {
      this.opening = false;
      this.next(err.message);
    });
  }

  /** Leaves this member's stream for the next member's. */
  private next(why: string): void {
    this.on.log?.debug({ member: this.member, err: why }, 'cluster: keepalive through another etcd member');
    this.stream?.end();
    this.stream = undefined;
    this.sent.length = 0;
    this.member = (this.member + 1) % this.clients.length;
  }
}

/** The etcd as the operator named it. */
function namedEtcd(o: ClusterOptions): string {
  return o.named ?? `--etcd ${o.endpoints.join(',')}`;
}

function toKv(kv: IKeyValue): Kv {
  return { value: kv.value.toString(), createRevision: BigInt(kv.create_revision), lease: kv.lease };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
