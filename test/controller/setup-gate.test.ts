// A pass's OVSDB set-up and its bundles go out together (a new tunnel's flows name the ofport its
// set-up requests), but a bundle commits only once the set-up is done (ovs-vswitchd's cur_cfg): against a real
// host, a set-up that OVSDB refuses leaves every flow as it was; once it goes through, the flows follow.
import { expect } from 'chai';
import { Controller } from '../../lib/controller/controller.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually } from '../../testing/wait.js';
import { startHostA } from '../../testing/host-a.js';

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
    ({ ctl, store } = await startHostA(box, pipeline));
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
