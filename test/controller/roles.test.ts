// Two controller replicas on one real host, both targets of br-int and br-tun: the slave writes
// nothing, the master programs the pipelines, a promoted slave reconciles with zero flow-mods
// where the flows are right (ovs-ofctl monitor), the demoted master sees ROLE_STATUS, and an old
// master coming back with an older generation is refused (STALE), steps down, and writes nothing
// although its pipeline differs.
import { expect } from 'chai';
import { Controller, ControllerOptions } from '../../lib/controller/controller.js';
import type { BridgeRole } from '../../lib/controller/host-agent.js';
import type { ReconcileResult } from '../../lib/flowset/reconciler.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

const BRIDGES = ['br-int', 'br-tun'] as const;

describe('OpenFlow roles: two controller replicas on one real host', function () {
  this.timeout(90_000);
  let box: OvsSandbox;
  let ports: number[];
  let targets: string[];
  const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'test' });
  const lost: Array<[string, string, string]> = [];
  const results: Array<[string, string, ReconcileResult]> = [];
  const controllers: Controller[] = [];
  let master: Controller;
  let slave: Controller;

  const start = async (name: string, port: number, role: BridgeRole, opts: Partial<ControllerOptions> = {}): Promise<Controller> => {
    const store = new TopologyStore();
    for (const l of [
      `{"type":"host","name":"h","tunnelIp":"10.250.0.1","ovsdb":"unix:${box.dbSock}"}`,
      '{"type":"network","id":"red","vni":1001}',
    ]) expect(store.applyLine(l).ok).to.equal(true);
    const c = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: targets, datapathType: 'netdev', maxBackoffMs: 1000 },
      role: () => role, onRoleLost: (_host, bridge, reason) => lost.push([name, bridge, reason]),
      onReconciled: (_host, bridge, r) => results.push([name, bridge, r]), ...opts,
    });
    controllers.push(c);
    await c.start();
    await eventually(() => BRIDGES.every((b) => c.status().hosts[0]?.bridges[b]?.role !== undefined), `${name}'s bridges to connect and get a role`);
    await c.idle();
    return c;
  };
  const roles = (c: Controller): string[] => BRIDGES.map((b) => {
    const s = c.status().hosts[0]!.bridges[b]!;
    return `${b} ${s.role} ${s.generation}`;
  });
  const dumps = async (): Promise<string[][]> => Promise.all(BRIDGES.map((b) => box.dumpFlowsSorted(b)));
  const rendered = (c: Controller): string[][] => BRIDGES.map((b) => renderText(c.agents.get('h')!.state!, b, pipeline));

  before(async () => {
    box = await OvsSandbox.start({});
    ports = [await freePort(), await freePort()];
    // Both replicas list both targets (host setup keeps every one, in place).
    targets = ports.map((p) => `tcp:127.0.0.1:${p}`);
    for (const b of BRIDGES) await box.addBridge(b);
    for (const b of BRIDGES) await box.setControllers(b, targets);
  });
  after(async () => {
    await Promise.all(controllers.map((c) => c.stop()));
    await box?.stop();
  });

  it('a slave replica connects, asks to be slave and writes no flow', async () => {
    slave = await start('B', ports[1]!, { role: 'slave' });
    expect(roles(slave)).to.deep.equal(['br-int slave 0', 'br-tun slave 0']);
    // As EQUAL (no role asked) it would have programmed both pipelines by now.
    expect(await dumps()).to.deep.equal([[], []]);
    expect(results.filter(([n]) => n === 'B')).to.deep.equal([]);
  });

  it('the master replica programs both bridges', async () => {
    master = await start('A', ports[0]!, { role: 'master', generationId: 10n });
    expect(roles(master)).to.deep.equal(['br-int master 10', 'br-tun master 10']);
    const flows = await dumps();
    expect(flows).to.deep.equal(rendered(master));
    expect(flows[1]!.length).to.be.greaterThan(5);
  });

  it('promoted with a higher generation, the slave reconciles with zero flow-mods; the old master sees ROLE_STATUS', async () => {
    const monitors = await Promise.all(BRIDGES.map((b) => FlowMonitor.start(box, b)));
    try {
      results.length = 0;
      const t0 = performance.now();
      await slave.setRole('all', { role: 'master', generationId: 11n });
      const grantedMs = performance.now() - t0;
      await slave.idle();
      console.log(`      (measured: master of both bridges ${grantedMs.toFixed(1)} ms after setRole (role request and re-dump), checked ${(performance.now() - t0).toFixed(1)} ms after)`);
      expect(roles(slave)).to.deep.equal(['br-int master 11', 'br-tun master 11']);
      await eventually(() => lost.filter(([n]) => n === 'A').length === 2, 'the old master to hear of it on both bridges');
      expect(lost.map(([n, b, r]) => `${n} ${b} ${r}`).sort()).to.deep.equal([
        'A br-int ROLE_STATUS: now slave (generation 11)', 'A br-tun ROLE_STATUS: now slave (generation 11)']);
      expect(roles(master)).to.deep.equal(['br-int slave 11', 'br-tun slave 11']);
      // The new master dumped and compared both bridges, and found nothing to do.
      expect(results.map(([n, b, r]) => `${n} ${b} ${r.flowMods}`).sort()).to.deep.equal(['B br-int 0', 'B br-tun 0']);
      // A flow added by hand shows the monitors are live: it is the only change they saw.
      await box.ofctl('add-flow', box.mgmtTarget('br-tun'), 'cookie=0x99,table=99,priority=1,ip,actions=drop');
      await eventually(() => monitors[1]!.events.length > 0, 'the monitor to see the hand-made flow');
      expect(monitors.map((m) => m.events.map((e) => `${e.event} ${e.key}`))).to.deep.equal([[], ['ADDED 99 ip']]);
      await box.ofctl('del-flows', box.mgmtTarget('br-tun'), 'table=99');
    } finally {
      for (const m of monitors) m.stop();
    }
  });

  it('an old master back with an older generation gets STALE, steps down to slave and writes nothing', async () => {
    // The old master restarts believing it still leads (its lease not yet expired), with a
    // pipeline that differs (no ARP responder): it would rewrite br-tun if it could.
    await master.stop();
    lost.length = 0;
    results.length = 0;
    const before = await dumps();
    const monitors = await Promise.all(BRIDGES.map((b) => FlowMonitor.start(box, b)));
    try {
      const back = await start('A2', ports[0]!, { role: 'master', generationId: 10n }, { pipeline: pipelineOptions({ l2pop: true, arpResponder: false, controllerId: 'test' }) });
      await eventually(() => lost.length === 2, 'both bridges to step down');
      expect(lost.map(([n, b, r]) => `${n} ${b} ${r}`).sort()).to.deep.equal(['A2 br-int generation 10 is stale', 'A2 br-tun generation 10 is stale']);
      await back.idle();
      // Stepped down with the switch's current generation (a slave request with 10 is stale too).
      expect(roles(back)).to.deep.equal(['br-int slave 11', 'br-tun slave 11']);
      const state = back.agents.get('h')!.state!;
      expect(renderText(state, 'br-tun', pipelineOptions({ l2pop: true, arpResponder: false, controllerId: 'test' }))).to.not.deep.equal(before[1]);
      // An audit of the slave's bridges repairs nothing either.
      await back.agents.get('h')!.audit();
      expect(results.filter(([n]) => n === 'A2')).to.deep.equal([]);
      expect(await dumps()).to.deep.equal(before);
      expect(monitors.map((m) => m.events)).to.deep.equal([[], []]);
      // OVS itself: the restarted replica is a slave, the promoted one the master.
      const ovsRoles = async (): Promise<string> => (await box.vsctl('--bare', '--columns=role', 'list', 'Controller')).split('\n').filter(Boolean).sort().join();
      await eventually(async () => await ovsRoles() === 'master,master,slave,slave', 'OVSDB to show one master and one slave per bridge', 15_000, undefined, 250);
    } finally {
      for (const m of monitors) m.stop();
    }
  });

  it('told to step down (its lease lost), the master writes nothing; promoted again, it repairs exactly the drift', async () => {
    await slave.setRole('all', { role: 'slave' });
    expect(roles(slave)).to.deep.equal(['br-int slave 11', 'br-tun slave 11']);
    // A flow of ours deleted by hand: a slave's audit leaves it missing.
    const before = await dumps();
    const gone = before[1]!.find((l) => /table=22,/.test(l)) ?? before[1]![before[1]!.length - 1]!;
    await box.ofctl('del-flows', '--strict', box.mgmtTarget('br-tun'), gone.replace(/^\s*cookie=0x[0-9a-f]+, /, '').replace(/ actions=.*$/, ''));
    results.length = 0;
    await slave.agents.get('h')!.audit();
    expect(results).to.deep.equal([]);
    expect((await dumps())[1]).to.not.include(gone);
    await slave.setRole('all', { role: 'master', generationId: 12n });
    await slave.idle();
    expect(roles(slave)).to.deep.equal(['br-int master 12', 'br-tun master 12']);
    expect(results.map(([n, b, r]) => `${n} ${b} +${r.added} ~${r.modified} -${r.deleted}`).sort()).to.deep.equal(['B br-int +0 ~0 -0', 'B br-tun +1 ~0 -0']);
    expect(await dumps()).to.deep.equal(before);
  });
});
