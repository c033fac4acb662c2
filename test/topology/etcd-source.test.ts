// The etcd topology source against a real etcd (testing/etcd.ts): the snapshot at one revision, the
// watch, bad values rejected with key and revision, a compacted watch relisted as a difference, etcd
// lost and back, and a three-member cluster losing the member the source reads from.
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../testing/etcd.js';
import { TcpProxy } from '../../testing/tcp-proxy.js';
import { eventually } from '../../testing/wait.js';
import { etcdClient, parseEtcdTarget } from '../../lib/topology/etcd.js';
import { EtcdSource, etcdSource } from '../../lib/topology/etcd-source.js';
import { Rejection, TopologyStore } from '../../lib/topology/store.js';

const P = '/ofctl-ts/topology';
const host = (n: number): string => JSON.stringify({ type: 'host', name: `h${n}`, tunnelIp: `10.9.0.${n}` });
const net = (id: string, vni: number): string => JSON.stringify({ type: 'network', id, vni });
const port = (id: string, network: string, n: number, more: object = {}): string => JSON.stringify({
  type: 'port', id, network, host: 'h1', mac: `fa:16:3e:00:00:${n.toString(16).padStart(2, '0')}`, fixedIps: [`10.1.0.${n}`], ...more,
});

describe('etcd targets', () => {
  it('reads HOST:PORT[,HOST:PORT…][/PREFIX] and names the option in its refusals', () => {
    expect(parseEtcdTarget('127.0.0.1:2379', '--etcd')).to.deep.equal({ endpoints: ['127.0.0.1:2379'], prefix: P });
    expect(parseEtcdTarget('a:1,[::1]:2/my/topo/', '--etcd')).to.deep.equal({ endpoints: ['a:1', '[::1]:2'], prefix: '/my/topo' });
    expect(() => parseEtcdTarget('127.0.0.1', '--etcd')).to.throw(/^--etcd 127\.0\.0\.1: "127\.0\.0\.1" is not HOST:PORT/);
    expect(() => parseEtcdTarget('h:70000', '--etcd')).to.throw(/is not HOST:PORT/);
    expect(() => parseEtcdTarget('h:1/', '--etcd')).to.throw(/^--etcd h:1\/: the prefix must be \/NAME/);
  });
});

describe('etcd topology source', function () {
  this.timeout(60_000);
  let etcd: EtcdCluster;
  let client: Etcd3;
  const sources: EtcdSource[] = [];
  const put = async (key: string, value: string): Promise<number> => Number((await client.put(`${P}/${key}`).value(value).exec()).header.revision);

  before(async () => {
    etcd = await EtcdCluster.start();
    client = etcdClient(parseEtcdTarget(etcd.endpoints.join(','), 'test'));
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await client.delete().prefix(`${P}/`).exec();
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  const start = async (store: TopologyStore, endpoints = etcd.endpoints): Promise<EtcdSource> => {
    const s = await etcdSource(store, parseEtcdTarget(endpoints.join(','), 'test'), { retryMs: 100, lagCheckMs: 200 });
    sources.push(s);
    return s;
  };

  it('applies the prefix at one revision in dependency order, then follows puts and deletes with their revisions', async () => {
    // Written ports first, groups naming each other: the snapshot still applies (dependency order).
    await put('port/p1', port('p1', 'n1', 1, { securityGroups: ['a'] }));
    await put('securityGroup/a', JSON.stringify({ type: 'securityGroup', id: 'a', rules: [{ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'b' }] }));
    await put('securityGroup/b', JSON.stringify({ type: 'securityGroup', id: 'b', rules: [{ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'a' }] }));
    await put('network/n1', net('n1', 100));
    const last = await put('host/h1', host(1));
    const store = new TopologyStore();
    const s = await start(store);
    expect(s.snapshot).to.deep.equal([]);
    const t = store.topology;
    expect([...t.ports.keys()]).to.deep.equal(['p1']);
    expect(t.securityGroups.get('a')!.rules).to.have.length(1);
    expect(t.securityGroups.get('b')!.rules).to.have.length(1);
    // Each entity's rev is its key's mod_revision.
    const mod = async (key: string): Promise<number> => Number((await client.get(`${P}/${key}`).exec()).kvs[0]!.mod_revision);
    expect(t.hosts.get('h1')!.rev).to.equal(await mod('host/h1'));
    expect(t.ports.get('p1')!.rev).to.equal(await mod('port/p1'));
    expect(s.status()).to.include({ revision: last, relists: 0, connected: true });

    const r2 = await put('port/p2', port('p2', 'n1', 2));
    await eventually(() => t.ports.get('p2')?.rev === r2, 'p2 from the watch');
    const r3 = Number((await client.delete().key(`${P}/port/p1`).exec()).header.revision);
    await eventually(() => !t.ports.has('p1'), 'p1 removed by the delete');
    await eventually(() => s.status().revision === r3, 'the delete\'s revision applied');

    // Keys outside the prefix move etcd's revision, not the watch: in step (etcd-lag.ts).
    const outside = Number((await client.put('/elsewhere/x').value('1').exec()).header.revision);
    await eventually(() => s.status().lag.etcdRevision >= outside, 'a lag check after the outside write');
    expect(s.status().lag).to.deep.include({ revisions: 0, seconds: 0 });
    expect(s.status().revision).to.be.below(outside);
  });

  it('rejects a bad value with its key and revision, changing nothing, at start and while watching', async () => {
    await put('host/h1', host(1));
    await put('network/n1', net('n1', 100));
    const badRev = await put('port/p9', port('p9', 'nope', 9));
    const store = new TopologyStore();
    const seen: Rejection[] = [];
    store.rejected$.subscribe((r) => seen.push(r));
    const s = await start(store);
    expect(s.snapshot.map((r) => `${r.source}: ${r.error}`)).to.deep.equal([`etcd:${P}/port/p9@rev ${badRev}: port p9: unknown network nope`]);
    const version = store.topology.version;
    const bad: Array<[string, string, RegExp]> = [
      ['port/p1', '{"type":"port",', /not JSON/],
      ['port/p1', port('p1', 'n1', 1, { rev: 5 }), /"rev" must not be in a value/],
      ['port/p1', port('p2', 'n1', 1), /"id" "p2" is not the key's "p1"/],
      ['network/n2', net('n2', 100), /VNI 100 is already network n1's/],
      ['network/n3', port('n3', 'n1', 1), /"type" "port": a network key holds a network event/],
      ['thing/x', '{}', /not an entity's key/],
    ];
    for (const [key, value, why] of bad) {
      const rev = await put(key, value);
      await eventually(() => seen.some((r) => r.source === `etcd:${P}/${key}@rev ${rev}`), `${key}@${rev} rejected`);
      expect(seen.find((r) => r.source === `etcd:${P}/${key}@rev ${rev}`)!.error).to.match(why);
    }
    expect(store.topology.version).to.equal(version);
    expect([...store.topology.ports.keys()]).to.deep.equal([]);
    expect([...store.topology.networks.keys()]).to.deep.equal(['n1']);
    // The key fixed: applied.
    await put('network/n9', net('n9', 109));
    const fixed = await put('port/p9', port('p9', 'n9', 9));
    await eventually(() => store.topology.ports.get('p9')?.rev === fixed, 'the fixed p9');
  });

  it('a compacted watch lists again at a known revision and applies only the difference; correct entities are never removed', async () => {
    // Through a proxy that the test cuts: the source loses etcd while others write and compact.
    const proxy = await TcpProxy.start(Number(etcd.endpoints[0]!.split(':')[1]));
    try {
      await put('host/h1', host(1));
      await put('network/n1', net('n1', 100));
      for (let i = 1; i <= 5; i++) await put(`port/p${i}`, port(`p${i}`, 'n1', i));
      const store = new TopologyStore();
      const s = await start(store, [proxy.endpoint]);
      const before = store.topology.version;
      // Every state the store goes through: p1, p2, p4 and the host and network must be in each.
      const states: string[][] = [];
      store.changes$.subscribe((t) => states.push([...t.ports.keys(), ...t.hosts.keys(), ...t.networks.keys()]));

      proxy.sever();
      await eventually(() => !s.status().connected, 'the source to see etcd lost');
      // Meanwhile: a port added, one changed, one deleted; then everything before compacted.
      await put('port/p6', port('p6', 'n1', 6));
      const changed = await put('port/p3', port('p3', 'n1', 3, { fixedIps: ['10.1.0.33'] }));
      await client.delete().key(`${P}/port/p5`).exec();
      const now = await put('port/p2', port('p2', 'n1', 2)); // the same value again: a new mod_revision
      await etcd.ctl('compaction', String(now));
      // The topology stayed as it was while etcd was away.
      expect(store.topology.version).to.equal(before);
      expect([...store.topology.ports.keys()].sort()).to.deep.equal(['p1', 'p2', 'p3', 'p4', 'p5']);

      proxy.mend();
      await eventually(() => s.status().relists === 1 && s.status().connected, 'the relist', 30_000);
      const t = store.topology;
      expect([...t.ports.keys()].sort()).to.deep.equal(['p1', 'p2', 'p3', 'p4', 'p6']);
      expect(t.ports.get('p3')!.fixedIps).to.deep.equal(['10.1.0.33']);
      expect(t.ports.get('p3')!.rev).to.equal(changed);
      expect(t.ports.get('p2')!.rev).to.equal(now);
      expect(s.status().revision).to.be.at.least(now);
      // Four changes (p6 put, p3 and p2 put again, p5 removed): the difference, not a reload.
      expect(states).to.have.length(4);
      for (const st of states) expect(st).to.include.members(['p1', 'p2', 'p4', 'h1', 'n1']);
      // The watch goes on from the relist's revision.
      const r = await put('port/p7', port('p7', 'n1', 7));
      await eventually(() => t.ports.get('p7')?.rev === r, 'p7 after the relist');
    } finally {
      await proxy.stop();
    }
  });

  it('fails the start with a clear error when etcd does not answer within the connect timeout', async () => {
    const proxy = await TcpProxy.start(Number(etcd.endpoints[0]!.split(':')[1]));
    proxy.sever();
    try {
      const t0 = Date.now();
      const err = await etcdSource(new TopologyStore(), parseEtcdTarget(proxy.endpoint, 'test'), { connectTimeoutMs: 1500, retryMs: 100 })
        .then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/^--topology etcd:127\.0\.0\.1:\d+: etcd could not be reached; no answer within 1\.5 s; nothing was done on any host \(etcd3: 14 UNAVAILABLE: No connection established\. Last error: .+\)$/);
      expect(Date.now() - t0).to.be.within(1400, 8000);
    } finally {
      await proxy.stop();
    }
  });
});

describe('etcd topology source on a three-member cluster', function () {
  this.timeout(90_000);

  it('keeps following when a member is killed, the one it watches included', async () => {
    const etcd = await EtcdCluster.start({ members: 3 });
    const client = etcdClient(parseEtcdTarget(etcd.endpoints.join(','), 'test'));
    let s: EtcdSource | undefined;
    try {
      await client.put(`${P}/host/h1`).value(host(1)).exec();
      await client.put(`${P}/network/n1`).value(net('n1', 100)).exec();
      const store = new TopologyStore();
      s = await etcdSource(store, parseEtcdTarget(etcd.endpoints.join(','), 'test'), { retryMs: 100 });
      for (let m = 0; m < 3; m++) {
        await etcd.kill(m, 'SIGKILL');
        const rev = Number((await client.put(`${P}/port/p${m}`).value(port(`p${m}`, 'n1', m + 1)).exec()).header.revision);
        await eventually(() => store.topology.ports.get(`p${m}`)?.rev === rev, `p${m} with member m${m} down`, 30_000);
        await etcd.restart(m);
      }
      expect([...store.topology.ports.keys()].sort()).to.deep.equal(['p0', 'p1', 'p2']);
      expect(s.status().relists).to.equal(0);
    } finally {
      await s?.stop();
      client.close();
      await etcd.stop();
    }
  });
});
