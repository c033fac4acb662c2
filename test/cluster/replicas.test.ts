// Two controller replicas sharing one real host through a real etcd (issue 18 point 3): the
// shard's leader sets the host up (every replica's target on each bridge, the OVSDB fence at its
// generation) and is master; the other is slave and writes nothing. When the leader leaves, the
// other takes the host over with a larger generation and sends zero flow-mods where the flows are
// right (ovs-ofctl monitor), then applies what changes; the one that left writes nothing more.
import { expect } from 'chai';
import { joinCluster, Replica } from '../../lib/cluster/replica.js';
import { Controller } from '../../lib/controller/controller.js';
import { GENERATION_KEY } from '../../lib/controller/host-setup.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { EtcdCluster } from '../../testing/etcd.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

const BRIDGES = ['br-int', 'br-tun'] as const;
const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'test' });

interface Member { readonly id: string; readonly replica: Replica; readonly ctl: Controller; readonly store: TopologyStore }

describe('lib/cluster: two controller replicas on one real host, through etcd', function () {
  this.timeout(120_000);
  let etcd: EtcdCluster;
  let box: OvsSandbox;
  const members: Member[] = [];

  const start = async (id: string): Promise<Member> => {
    const port = await freePort();
    const target = `tcp:127.0.0.1:${port}`;
    const replica = await joinCluster({ endpoints: etcd.endpoints, prefix: '/replicas-test', replicaId: id, target, shards: 4 });
    const store = new TopologyStore();
    for (const l of [
      `{"type":"host","name":"h","tunnelIp":"10.250.0.1","ovsdb":"unix:${box.dbSock}"}`,
      '{"type":"network","id":"red","vni":1001}',
      '{"type":"host","name":"far","tunnelIp":"10.250.0.2"}',
      '{"type":"port","id":"p1","network":"red","host":"h","mac":"fa:16:3e:00:00:01","fixedIps":["10.0.0.1"]}',
      '{"type":"port","id":"far-1","network":"red","host":"far","mac":"fa:16:3e:00:00:02","fixedIps":["10.0.0.2"]}',
    ]) expect(store.applyLine(l).ok).to.equal(true);
    const ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: target, datapathType: 'netdev', maxBackoffMs: 1000 },
      cluster: replica.controllerOptions,
    });
    replica.bind(ctl);
    await ctl.start();
    const m = { id, replica, ctl, store };
    members.push(m);
    return m;
  };
  const roles = (m: Member): string[] => BRIDGES.map((b) => {
    const s = m.ctl.status().hosts[0]?.bridges[b];
    return `${b} ${s?.role} ${s?.generation}`;
  });
  const dumps = (): Promise<string[][]> => Promise.all(BRIDGES.map((b) => box.dumpFlowsSorted(b)));
  const rendered = (m: Member): string[][] => BRIDGES.map((b) => renderText(m.ctl.agents.get('h')!.state!, b, pipeline));
  const fence = async (): Promise<string> => (await box.vsctl('get', 'Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).trim().replace(/"/g, '');

  before(async () => {
    [etcd, box] = await Promise.all([EtcdCluster.start(), OvsSandbox.start({})]);
  });
  after(async () => {
    for (const m of members) {
      await m.ctl.stop();
      await m.replica.stop();
    }
    await box?.stop();
    await etcd?.stop();
  });

  let leader: Member;
  let follower: Member;
  let generation: bigint;

  it('the shard\'s leader sets the host up as master with both targets and the fence; the other is slave and writes nothing', async () => {
    const [a, b] = [await start('a'), await start('b')];
    await eventually(() => [a, b].some((m) => roles(m).every((r) => / master \d+$/.test(r))) && [a, b].some((m) => roles(m).every((r) => / slave /.test(r))),
      'one replica master of both bridges, the other slave', 20_000);
    [leader, follower] = roles(a)[0]!.includes('master') ? [a, b] : [b, a];
    generation = BigInt(/master (\d+)$/.exec(roles(leader)[0]!)![1]!);
    // A VM plugged as os-vif plugs it: the leader programs it.
    await box.vsctl('add-port', 'br-int', 'vm1', '--', 'set', 'Interface', 'vm1', 'type=internal', 'external_ids:iface-id=p1', 'external_ids:attached-mac=fa:16:3e:00:00:01');
    await eventually(() => leader.ctl.agents.get('h')!.state?.localPorts.length === 1, 'the port to be local');
    await leader.ctl.idle();
    expect(await dumps()).to.deep.equal(rendered(leader));
    expect((await dumps())[1]!.join('\n'), 'l2pop: the remote port on br-tun').to.include('dl_dst=fa:16:3e:00:00:02');
    expect(await fence()).to.equal(generation.toString());
    const targets = (await box.vsctl('--bare', '--columns=target', 'list', 'Controller')).split('\n').filter(Boolean).sort();
    expect(targets).to.deep.equal([...leader.replica.cluster.memberTargets(), ...leader.replica.cluster.memberTargets()].sort());
    expect(targets).to.have.length(4);
    expect(follower.ctl.status().hosts[0]!.bridges['br-tun']!.connected, 'the slave is connected (warm)').to.equal(true);
  });

  it('the leader leaves: the other takes over with a larger generation, zero flow-mods, then applies a change; the old one writes nothing', async () => {
    const monitors = await Promise.all(BRIDGES.map((b) => FlowMonitor.start(box, b)));
    try {
      const t0 = performance.now();
      await leader.replica.stop();
      await eventually(() => roles(follower).every((r) => / master \d+$/.test(r)), 'the follower to be master of both bridges', 10_000);
      await follower.ctl.idle();
      const took = performance.now() - t0;
      const g2 = BigInt(/master (\d+)$/.exec(roles(follower)[0]!)![1]!);
      expect(g2 > generation, `${g2} > ${generation}`).to.equal(true);
      await eventually(async () => await fence() === g2.toString(), 'the host taken over in OVSDB at the new generation', 5000);
      console.log(`      (measured: master and host taken over ${took.toFixed(0)} ms after the leader left)`);
      expect(monitors.map((m) => m.events), 'zero flow-mods: the flows were right').to.deep.equal([[], []]);
      // A change now reaches the bridges through the new leader only.
      expect(follower.store.applyLine('{"type":"port","id":"far-2","network":"red","host":"far","mac":"fa:16:3e:00:00:03","fixedIps":["10.0.0.3"]}').ok).to.equal(true);
      // The one that left sees another change, which it must not write.
      expect(leader.store.applyLine('{"type":"port","id":"far-9","network":"red","host":"far","mac":"fa:16:3e:00:00:09","fixedIps":["10.0.0.9"]}').ok).to.equal(true);
      await follower.ctl.idle();
      await leader.ctl.idle();
      expect(await dumps()).to.deep.equal(rendered(follower));
      expect((await dumps())[1]!.join('\n')).to.include('dl_dst=fa:16:3e:00:00:03').and.not.include('fa:16:3e:00:00:09');
      expect(monitors[1]!.events.some((e) => e.key.includes('fa:16:3e:00:00:09')), 'nothing of the old leader\'s far-9').to.equal(false);
      expect(monitors[1]!.events.length, 'br-tun changed for far-2').to.be.greaterThan(0);
      expect(monitors[1]!.events.every((e) => e.event === 'ADDED' || e.event === 'MODIFIED'), JSON.stringify(monitors[1]!.events)).to.equal(true);
      expect(roles(leader).every((r) => / slave /.test(r)), roles(leader).join()).to.equal(true);
    } finally {
      for (const m of monitors) m.stop();
    }
  });
});
