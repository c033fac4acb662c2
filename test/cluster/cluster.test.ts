// Replicas and shards in a real etcd (issue 18 points 3 and 4, the etcd half): every shard has
// exactly one leader, the shards are shared out evenly, a leader that leaves or dies is replaced
// by its standby with a larger generation (within the lease's TTL for a SIGKILL), a SIGSTOPped
// leader steps down the moment it runs again, and one etcd member of three dying changes nothing.
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Cluster, ClusterError } from '../../lib/cluster/cluster.js';
import { EtcdCluster } from '../../testing/etcd.js';
import { eventually, freePort } from '../../testing/wait.js';

const REPLICA = fileURLToPath(new URL('../../testing/cluster-replica.js', import.meta.url));

interface Said { readonly event: string; readonly shard?: number; readonly generation?: string; readonly reason?: string; readonly t: number }

/** A replica in its own process, and what it has said. */
class Replica {
  readonly said: Said[] = [];
  readonly child: ChildProcess;
  constructor(endpoints: readonly string[], prefix: string, readonly id: string, shards: number) {
    this.child = spawn(process.execPath, [REPLICA, endpoints.join(','), prefix, id, `tcp:127.0.0.1:${6600 + Number(id.slice(-1))}`, String(shards)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (tail + d).split('\n');
      tail = lines.pop()!;
      for (const l of lines) this.said.push(JSON.parse(l) as Said);
    });
  }

  /** Shards it leads now, by what it said (lead minus stepDown), with their generation. */
  leads(): Map<number, bigint> {
    const m = new Map<number, bigint>();
    for (const s of this.said) {
      if (s.event === 'lead') m.set(s.shard!, BigInt(s.generation!));
      if (s.event === 'stepDown') m.delete(s.shard!);
    }
    return m;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Each shard's leaders, from every replica's own account. */
function leaders(replicas: readonly Replica[], shards: number): string[][] {
  const out: string[][] = Array.from({ length: shards }, () => []);
  for (const r of replicas) for (const s of r.leads().keys()) out[s]!.push(r.id);
  return out;
}

describe('lib/cluster: replicas sharing shards in a real etcd', function () {
  this.timeout(120_000);
  let etcd: EtcdCluster;
  const live: Replica[] = [];
  const inProcess: Cluster[] = [];
  let n = 0;
  const prefix = (): string => `/t${++n}`;

  before(async () => {
    etcd = await EtcdCluster.start({ members: 3 });
  });
  afterEach(async () => {
    for (const r of live.splice(0)) {
      r.child.kill('SIGCONT');
      r.child.kill('SIGKILL');
    }
    for (const c of inProcess.splice(0)) await c.stop();
  });
  after(async () => {
    await etcd?.stop();
  });

  const join = async (p: string, id: string, shards: number): Promise<Cluster> => {
    const c = await Cluster.start({ endpoints: etcd.endpoints, prefix: p, replicaId: id, target: `tcp:127.0.0.1:66${id.slice(-1)}0`, shards, lagCheckMs: 200 });
    inProcess.push(c);
    return c;
  };

  it('three replicas: one leader per shard, two shards each, every member\'s target listed; one leaving hands its shards over at once', async () => {
    const p = prefix();
    const cs = [await join(p, 'r1', 6), await join(p, 'r2', 6), await join(p, 'r3', 6)];
    const led = (): number[][] => cs.map((c) => c.status().leads.map((l) => l.shard));
    await eventually(() => led().every((l) => l.length === 2) && new Set(led().flat()).size === 6, 'each replica to lead two shards, all six led', 10_000);
    for (const c of cs) expect(c.memberTargets()).to.deep.equal(['tcp:127.0.0.1:6610', 'tcp:127.0.0.1:6620', 'tcp:127.0.0.1:6630']);
    const before = new Map(cs.flatMap((c) => c.status().leads.map((l) => [l.shard, BigInt(l.generation)] as const)));
    const gone = cs[0]!.status().leads.map((l) => l.shard);
    const t0 = Date.now();
    await cs[0]!.stop();
    const rest = cs.slice(1);
    await eventually(() => rest.every((c) => c.status().leads.length === 3), 'the two left to lead three shards each', 5000);
    expect(Date.now() - t0, 'a clean leave revokes the lease: no TTL to wait for').to.be.below(1500);
    for (const c of rest) {
      for (const l of c.status().leads) {
        if (gone.includes(l.shard)) expect(BigInt(l.generation) > before.get(l.shard)!, `shard ${l.shard}: a larger generation`).to.equal(true);
        expect(c.generation(l.shard)).to.equal(BigInt(l.generation));
      }
    }
    // A member stays listed after it left: a bridge never loses a target.
    expect(rest[0]!.memberTargets()).to.have.length(3);
    // The cluster watch holds what etcd holds under the cluster prefix (etcd-lag.ts).
    const settled = Number((await etcd.ctl('get', '-w', 'json', 'nothing').then((o) => JSON.parse(o) as { header: { revision: number } })).header.revision);
    await eventually(() => rest.every((c) => c.status().lag.etcdRevision >= settled), 'a lag check after the hand-over');
    for (const c of rest) expect(c.status().lag).to.deep.include({ revisions: 0, seconds: 0 });
  });

  it('an etcd that does not answer: the replica does not join, and says so naming the etcd as the operator did', async () => {
    const port = await freePort();
    const err = await Cluster.start({ endpoints: [`127.0.0.1:${port}`], prefix: '/x', replicaId: 'r1', target: 'tcp:127.0.0.1:1', shards: 4, connectTimeoutMs: 1000, named: `--etcd 127.0.0.1:${port}/x` })
      .then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(ClusterError);
    expect(err!.message).to.match(new RegExp(`^--etcd 127\\.0\\.0\\.1:${port}/x: etcd could not be reached; no answer within 1 s; this replica did not join; nothing was done on any host \\(etcd3: 14 UNAVAILABLE: .+\\)$`));
  });

  it('refuses a replica with another shard count, or an id that is alive, naming why; nothing is registered', async () => {
    const p = prefix();
    await join(p, 'r1', 4);
    await Cluster.start({ endpoints: etcd.endpoints, prefix: p, replicaId: 'r2', target: 'tcp:127.0.0.1:1', shards: 8 }).then(
      () => expect.fail('accepted'), (err: Error) => expect(err).to.be.instanceOf(ClusterError).with.property('message').that.matches(/--shards 8: the cluster under \/t\d+ has 4 shards/));
    await Cluster.start({ endpoints: etcd.endpoints, prefix: p, replicaId: 'r1', target: 'tcp:127.0.0.1:1', shards: 4 }).then(
      () => expect.fail('accepted'), (err: Error) => expect(err.message).to.match(/--replica-id r1: a replica of this id is alive/));
    await Cluster.start({ endpoints: etcd.endpoints, prefix: p, replicaId: 'bad id', target: 'tcp:127.0.0.1:1', shards: 4 }).then(
      () => expect.fail('accepted'), (err: Error) => expect(err.message).to.match(/--replica-id "bad id"/));
    expect(await etcd.ctl('get', '--prefix', '--keys-only', `${p}/cluster/members/`)).to.not.match(/r2/);
  });

  it('a SIGKILLed leader: its process gone, its lease is revoked and its standbys lead its shards at once, with larger generations', async () => {
    const p = prefix();
    const rs = ['r1', 'r2', 'r3'].map((id) => new Replica(etcd.endpoints, p, id, 6));
    live.push(...rs);
    await eventually(() => leaders(rs, 6).every((l) => l.length === 1) && rs.every((r) => r.leads().size === 2), 'two shards led by each', 15_000);
    const victim = rs[1]!;
    const held = victim.leads();
    const t0 = Date.now();
    victim.kill('SIGKILL');
    const rest = [rs[0]!, rs[2]!];
    await eventually(() => [...held.keys()].every((s) => leaders(rest, 6)[s]!.length === 1), 'the standbys to lead the dead replica\'s shards', 10_000);
    const took = Math.max(...rest.flatMap((r) => r.said.filter((s) => s.event === 'lead' && held.has(s.shard!) && s.t >= t0).map((s) => s.t))) - t0;
    // Its peer connections closed with it: a survivor revoked its lease, well before the TTL (2 s).
    expect(took, 'failover at once, not after the lease TTL').to.be.below(1000);
    for (const [s, g] of held) {
      const now = rest.find((r) => r.leads().has(s))!.leads().get(s)!;
      expect(now > g, `shard ${s}: generation ${now} > ${g}`).to.equal(true);
    }
    // The two left share the six evenly again; a shard handed over between them has no leader for the moment between.
    await eventually(() => leaders(rest, 6).every((l) => l.length === 1) && rest.every((r) => r.leads().size === 3), 'one leader per shard, three shards each', 8000);
    // But not during the failover: a survivor gives a shard up for balance only once the live
    // replicas have stayed the same for a TTL after the dead one's lease ran out.
    const early = rest.flatMap((r) => r.said.filter((s) => s.event === 'stepDown' && s.t >= t0 && s.t < t0 + took + 1800));
    expect(early, JSON.stringify(early)).to.deep.equal([]);
  });

  it('a SIGSTOPped leader is replaced, and steps down as soon as it runs again, claiming nothing', async () => {
    const p = prefix();
    const rs = ['r1', 'r2'].map((id) => new Replica(etcd.endpoints, p, id, 4));
    live.push(...rs);
    await eventually(() => rs.every((r) => r.leads().size === 2), 'two shards led by each', 15_000);
    const [stopped, other] = rs as [Replica, Replica];
    const held = stopped.leads();
    const t0 = Date.now();
    stopped.kill('SIGSTOP');
    await eventually(() => other.leads().size === 4, 'the other replica to lead all four shards', 10_000);
    // A stopped process closes nothing: its shards move only when its lease has run out.
    const took = Math.max(...other.said.filter((s) => s.event === 'lead' && held.has(s.shard!) && s.t >= t0).map((s) => s.t)) - t0;
    expect(took, 'after the lease TTL (2 s), within its expiry sweep').to.be.within(1400, 3000);
    const mark = stopped.said.length;
    const cont = Date.now();
    stopped.kill('SIGCONT');
    await eventually(() => stopped.said.slice(mark).filter((s) => s.event === 'stepDown').length === held.size, 'the woken replica to step down from what it held', 5000);
    const woke = stopped.said.slice(mark);
    expect(woke.slice(0, held.size).every((s) => s.event === 'stepDown'), JSON.stringify(woke)).to.equal(true);
    expect(Math.max(...woke.slice(0, held.size).map((s) => s.t)) - cont, 'at once').to.be.below(500);
    // It never again leads with a generation the other has superseded.
    await new Promise((r) => setTimeout(r, 3000));
    const superseded = (shard: number): bigint => other.said.filter((x) => x.event === 'lead' && x.shard === shard).reduce((m, x) => (BigInt(x.generation!) > m ? BigInt(x.generation!) : m), 0n);
    for (const s of stopped.said.slice(mark)) if (s.event === 'lead') expect(BigInt(s.generation!) > superseded(s.shard!), JSON.stringify(s)).to.equal(true);
    expect(leaders(rs, 4).every((l) => l.length === 1), JSON.stringify(leaders(rs, 4))).to.equal(true);
  });

  it('one etcd member of three killed: no leader steps down, and a replica joins', async () => {
    const p = prefix();
    const rs = ['r1', 'r2'].map((id) => new Replica(etcd.endpoints, p, id, 4));
    live.push(...rs);
    await eventually(() => rs.every((r) => r.leads().size === 2), 'two shards led by each', 15_000);
    const mark = rs.map((r) => r.said.length);
    await etcd.kill(0, 'SIGKILL');
    try {
      await new Promise((r) => setTimeout(r, 5000));
      rs.forEach((r, i) => expect(r.said.slice(mark[i]).filter((s) => s.event === 'stepDown'), r.id).to.deep.equal([]));
      const r3 = new Replica(etcd.endpoints, p, 'r3', 4);
      live.push(r3);
      await eventually(() => r3.leads().size >= 1, 'a third replica to take a shard', 15_000);
      await eventually(() => leaders([...rs, r3], 4).every((l) => l.length === 1), 'one leader per shard', 10_000);
    } finally {
      await etcd.restart(0);
    }
  });
});
