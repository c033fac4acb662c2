// A pass's OVSDB set-up and its bundles go out together (a new tunnel's flows name the ofport its
// set-up requests), but a bundle commits only once the set-up's transaction has: against a real
// host, a set-up that OVSDB refuses leaves every flow as it was; once it goes through, the flows follow.
import { expect } from 'chai';
import { Controller } from '../../lib/controller/controller.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { hostAWithRemoteB } from '../../testing/small-topology.js';

describe('a pass\'s bundles commit only with its OVSDB set-up (real OVS)', function () {
  this.timeout(90_000);
  let box: OvsSandbox;
  let ctl: Controller;
  let store: TopologyStore;
  const pipeline = pipelineOptions({ l2pop: true });
  const dump = (br: string): Promise<string[]> => box.dumpFlowsSorted(br);
  const rendered = (br: 'br-tun' | 'br-int'): string[] => renderText(ctl.agents.get('a')!.state!, br, pipeline);

  before(async () => {
    box = await OvsSandbox.start({});
    const port = await freePort();
    store = new TopologyStore();
    for (const l of hostAWithRemoteB(box.dbSock)) expect(store.applyLine(l).ok).to.equal(true);
    ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    });
    await ctl.start();
    await eventually(() => Object.values(ctl.status().hosts[0]?.bridges ?? {}).filter((b) => b.connected).length === 2, 'both bridges to connect');
    await box.vsctl('add-port', 'br-int', 'tap-a', '--', 'set', 'Interface', 'tap-a', 'type=internal', 'external_ids:iface-id=vm-a',
      'external_ids:attached-mac="fa:16:3e:00:00:0a"');
    await eventually(async () => (await box.vsctl('get', 'Port', 'tap-a', 'tag')).trim() === '1', 'tap-a to be tagged');
    await ctl.idle();
    await eventually(async () => (await dump('br-tun')).join() === rendered('br-tun').join(), 'br-tun to converge');
  });
  after(async () => {
    await ctl?.stop();
    await box?.stop();
  });

  it('a set-up OVSDB refuses changes no flow; the same change goes in once the set-up can', async () => {
    // Host c's tunnel port (vxlan-0afa0003) cannot be created: a port of that name is on br-int.
    await box.vsctl('add-port', 'br-int', 'vxlan-0afa0003', '--', 'set', 'Interface', 'vxlan-0afa0003', 'type=internal');
    await ctl.idle();
    const before = { int: await dump('br-int'), tun: await dump('br-tun') };
    const monitors = { int: await FlowMonitor.start(box, 'br-int'), tun: await FlowMonitor.start(box, 'br-tun') };
    try {
      // A VM on c in red: br-tun's flood and unicast flows for c would change, through the new tunnel.
      for (const l of ['{"type":"host","name":"c","tunnelIp":"10.250.0.3"}',
        '{"type":"port","id":"vm-c","network":"red","host":"c","mac":"fa:16:3e:00:00:0c","fixedIps":["10.251.0.3"]}']) {
        expect(store.applyLine(l).ok).to.equal(true);
      }
      const agent = ctl.agents.get('a')!;
      await eventually(() => agent.status().errors.some((e) => /vxlan-0afa0003|constraint|index/i.test(e)), 'the set-up to be refused');
      await ctl.idle();
      // What the pass would have installed differs from what is there (so the silence below means something).
      expect(rendered('br-tun')).to.not.deep.equal(before.tun);
      expect(rendered('br-tun').some((l) => l.includes('fa:16:3e:00:00:0c'))).to.equal(true);
      expect(await dump('br-tun')).to.deep.equal(before.tun);
      expect(await dump('br-int')).to.deep.equal(before.int);
      expect(monitors.tun.events).to.deep.equal([]);
      expect(monitors.int.events).to.deep.equal([]);

      // The name freed, the next pass sets the tunnel up and its flows go in.
      await box.vsctl('del-port', 'br-int', 'vxlan-0afa0003');
      await eventually(async () => (await dump('br-tun')).join() === rendered('br-tun').join(), 'br-tun to converge with the tunnel');
      expect(agent.status().errors).to.deep.equal([]);
      expect((await box.vsctl('get', 'Interface', 'vxlan-0afa0003', 'ofport')).trim()).to.not.equal('[]');
      expect(monitors.tun.events.some((e) => e.event === 'ADDED')).to.equal(true);
    } finally {
      monitors.int.stop();
      monitors.tun.stop();
    }
  });
});
