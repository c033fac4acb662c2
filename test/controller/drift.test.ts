// Drift against a real host: flows of ours deleted, changed or added by hand (ovs-ofctl) are found by
// the periodic audit and repaired within its interval; learned and foreign flows are left alone.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../lib/controller/controller.js';
import type { HostStatus } from '../../lib/controller/host-agent.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually } from '../../testing/wait.js';
import { startHostA } from '../../testing/host-a.js';

const INTERVAL_MS = 1000;
/** A pass, the dump and the bundle on a busy 2-core machine. */
const MARGIN_MS = 2000;

describe('drift: the controller audits its bridges and repairs them', function () {
  this.timeout(90_000);
  let box: OvsSandbox;
  let ctl: Controller;
  let store: TopologyStore;
  const pipeline = pipelineOptions({ controllerId: 'test' });
  const ourCookie = `0x${pipeline.cookies.brTun.toString(16)}`;
  const repairs: Array<{ host: string; bridge: string; n: number; seen: HostStatus['bridges'][string] }> = [];
  const dump = (br: string): Promise<string[]> => box.dumpFlowsSorted(br);
  const rendered = (br: 'br-tun' | 'br-int'): string[] => renderText(ctl.agents.get('a')!.state!, br, pipeline);

  before(async () => {
    box = await OvsSandbox.start({});
    ({ ctl, store } = await startHostA(box, pipeline, {
      auditIntervalMs: INTERVAL_MS,
      // What status says at the moment of the repair: the count the audit's dump found.
      onRepaired: (host, bridge, n) => repairs.push({ host, bridge, n, seen: ctl.agents.get(host)!.status().bridges[bridge]! }),
    }));
  });
  after(async () => {
    await ctl?.stop();
    await box?.stop();
  });

  it('an audit of a bridge in sync sends nothing, and leaves learned and foreign flows alone', async () => {
    // A frame from b's VM through the tunnel: br-tun's learn action writes the way back into table 20.
    await box.appctl('ofproto/trace', 'br-tun', 'in_port=2,tun_id=0x3e9,dl_src=fa:16:3e:00:00:0b,dl_dst=fa:16:3e:00:00:0a', '-generate');
    await box.ofctl('add-flow', box.mgmtTarget('br-tun'), 'cookie=0x1234,table=3,priority=7,dl_dst=fa:16:3e:00:00:99,actions=drop');
    const before = await dump('br-tun');
    expect(before.filter((l) => /table=20, hard_timeout=300, priority=1,vlan_tci=0x0001\/0x0fff,dl_dst=fa:16:3e:00:00:0b actions=.*output:2$/.test(l))).to.have.length(1);
    expect(before.filter((l) => l.includes('cookie=0x1234'))).to.have.length(1);
    repairs.length = 0;
    const agent = ctl.agents.get('a')!;
    const lastAudit = agent.status().bridges['br-tun']!.lastAudit!;
    await agent.audit();
    expect(agent.status().bridges['br-tun']!.lastAudit! > lastAudit).to.equal(true);
    // ...and the timer's audits too (two intervals).
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));
    await ctl.idle();
    expect(repairs).to.deep.equal([]);
    expect(await dump('br-tun')).to.deep.equal(before);
    const st = agent.status().bridges;
    expect(st['br-tun']).to.include({ observed: rendered('br-tun').length, flows: rendered('br-tun').length });
    expect(st['br-int']).to.include({ observed: rendered('br-int').length, flows: rendered('br-int').length });
  });

  it('repairs a deleted, a changed and a hand-added flow of ours within the interval', async () => {
    const tun = box.mgmtTarget('br-tun');
    const learnedAndForeign = (await dump('br-tun')).filter((l) => l.includes('table=20, hard_timeout') || l.includes('cookie=0x1234'));
    expect(learnedAndForeign).to.have.length(2);
    repairs.length = 0;
    // One atomic bundle (ovs-ofctl add-flows takes a command per line), so no audit sees half of it.
    const file = join(box.dir, 'drift.flows');
    writeFileSync(file, [
      'delete_strict table=4,priority=1,tun_id=0x3e9',
      'modify_strict table=22,priority=1,dl_vlan=1,actions=drop',
      `add cookie=${ourCookie},table=3,priority=5,dl_dst=fa:16:3e:00:00:77,actions=drop`,
    ].join('\n'));
    await box.ofctl('--bundle', 'add-flows', tun, file);
    await box.ofctl('del-flows', '--strict', box.mgmtTarget('br-int'), 'table=60,priority=3');
    const t0 = Date.now();
    const ours = (lines: string[]): string[] => lines.filter((l) => !learnedAndForeign.includes(l));
    await eventually(async () => ours(await dump('br-tun')).join() === rendered('br-tun').join()
      && (await dump('br-int')).join() === rendered('br-int').join(), 'the repairs', INTERVAL_MS + MARGIN_MS, undefined, 20);
    const elapsed = Date.now() - t0;
    expect(elapsed).to.be.below(INTERVAL_MS + MARGIN_MS);
    await ctl.idle();
    // One bundle per bridge: 3 flow-mods on br-tun (ADD, ADD, DELETE_STRICT), 1 on br-int.
    expect(repairs.map(({ host, bridge, n }) => [host, bridge, n]).sort()).to.deep.equal([['a', 'br-int', 1], ['a', 'br-tun', 3]]);
    // At the repair, status showed what the dump had found beside what we want.
    const int = repairs.find((r) => r.bridge === 'br-int')!.seen;
    expect(int).to.include({ observed: rendered('br-int').length - 1, flows: rendered('br-int').length });
    expect(int.lastReconcile).to.include({ added: 1, modified: 0, deleted: 0, flowMods: 1 });
    expect(repairs.find((r) => r.bridge === 'br-tun')!.seen.lastReconcile).to.include({ added: 1, modified: 1, deleted: 1, flowMods: 3 });
    // Learned and foreign flows are still there, untouched.
    const after = await dump('br-tun');
    for (const l of learnedAndForeign) expect(after).to.include(l);
  });

  it('an audit and a topology change at once: passes stay serialised, the end state is the new pipeline', async () => {
    // vm-a2 is plugged before it is in the topology (dead VLAN until then), so that its arrival
    // below changes what host a needs (only a plugged port makes a network local).
    await box.plugVm('tap-a2', 'vm-a2', 'fa:16:3e:00:01:0a');
    await eventually(async () => (await box.vsctl('get', 'Port', 'tap-a2', 'tag')).trim() === '4095', 'tap-a2 in the dead VLAN');
    await ctl.idle();
    repairs.length = 0;
    await box.ofctl('del-flows', '--strict', box.mgmtTarget('br-int'), 'table=60,priority=3');
    const agent = ctl.agents.get('a')!;
    const before = agent.state;
    // A new network with a port on each host: new flows on both bridges, while the audit repairs br-int.
    const audited = agent.audit();
    for (const l of [
      '{"type":"network","id":"blue","vni":2001}',
      '{"type":"port","id":"vm-a2","network":"blue","host":"a","mac":"fa:16:3e:00:01:0a","fixedIps":["10.252.0.1"]}',
      '{"type":"port","id":"vm-b2","network":"blue","host":"b","mac":"fa:16:3e:00:01:0b","fixedIps":["10.252.0.2"]}',
    ]) expect(store.applyLine(l).ok).to.equal(true);
    await audited;
    await ctl.idle();
    expect(agent.state).to.not.equal(before);
    expect(rendered('br-tun').some((l) => l.includes('tun_id=0x7d1'))).to.equal(true);
    await eventually(async () => (await dump('br-int')).join() === rendered('br-int').join(), 'br-int to hold the new pipeline', INTERVAL_MS + MARGIN_MS);
    const tun = (await dump('br-tun')).filter((l) => !l.includes('table=20, hard_timeout') && !l.includes('cookie=0x1234'));
    expect(tun).to.deep.equal(rendered('br-tun'));
    // The deleted flow came back once, through an audit (not through the topology change's pass).
    expect(repairs.filter((r) => r.bridge === 'br-int').map((r) => r.n)).to.deep.equal([1]);
    // No audit ran against a state older than the pass before it (it would have undone the new flows).
    expect(repairs.filter((r) => r.bridge === 'br-tun')).to.deep.equal([]);
  });
});
