// The controller end to end against two sandboxed hosts (own ovsdb-server + ovs-vswitchd each):
// host setup, flows on both bridges of both hosts, topology changes applied minimally, a controller
// restart that sends nothing, and an ovs-vswitchd restart restored.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { Controller } from '../../lib/controller/controller.js';
import type { ReconcileResult } from '../../lib/flowset/reconciler.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('controller with two real hosts', function () {
  this.timeout(90_000);
  let a: OvsSandbox;
  let b: OvsSandbox;
  let port: number;
  const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'test' });
  const results: Array<[string, string, ReconcileResult]> = [];
  let store: TopologyStore;
  let ctl: Controller;

  const newController = async (): Promise<Controller> => {
    const c = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
      onReconciled: (h, br, r) => results.push([h, br, r]),
    });
    await c.start();
    return c;
  };
  const connected = (c: Controller): boolean => c.status().hosts.length === 2
    && c.status().hosts.every((h) => h.bridges['br-int']!.connected && h.bridges['br-tun']!.connected);
  const dump = async (box: OvsSandbox, br: string): Promise<string[]> => box.dumpFlowsSorted(br);

  before(async () => {
    [a, b] = await Promise.all([OvsSandbox.start({}), OvsSandbox.start({})]);
    port = await freePort();
    store = new TopologyStore();
    for (const l of [
      `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${a.dbSock}"}`,
      `{"type":"host","name":"b","tunnelIp":"10.250.0.2","ovsdb":"unix:${b.dbSock}"}`,
      '{"type":"network","id":"red","vni":1001}',
      '{"type":"port","id":"vm-a","network":"red","host":"a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.251.0.1"]}',
      '{"type":"port","id":"vm-b","network":"red","host":"b","mac":"fa:16:3e:00:00:0b","fixedIps":["10.251.0.2"]}',
    ]) expect(store.applyLine(l).ok).to.equal(true);
    ctl = await newController();
    await eventually(() => connected(ctl), 'both bridges of both hosts to connect');
    // Nova plugs the VMs.
    await a.vsctl('add-port', 'br-int', 'tap-a', '--', 'set', 'Interface', 'tap-a', 'type=internal', 'external_ids:iface-id=vm-a',
      'external_ids:attached-mac="fa:16:3e:00:00:0a"');
    await b.vsctl('add-port', 'br-int', 'tap-b', '--', 'set', 'Interface', 'tap-b', 'type=internal', 'external_ids:iface-id=vm-b',
      'external_ids:attached-mac="fa:16:3e:00:00:0b"');
    await eventually(async () => (await a.vsctl('get', 'Port', 'tap-a', 'tag')).trim() === '1', 'tap-a to be tagged');
    await ctl.idle();
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('sets up both hosts and installs exactly the rendered pipelines', async () => {
    for (const [box, host] of [[a, 'a'], [b, 'b']] as const) {
      const state = ctl.agents.get(host)!.state!;
      expect(await dump(box, 'br-tun')).to.deep.equal(renderText(state, 'br-tun', pipeline));
      expect(await dump(box, 'br-int')).to.deep.equal(renderText(state, 'br-int', pipeline));
    }
    expect((await a.vsctl('list-ports', 'br-tun')).trim().split('\n')).to.deep.equal(['patch-int', 'vxlan-0afa0002']);
    // A frame from A's VM to B's VM leaves on the VXLAN port with the network's VNI.
    const trace = await a.appctl('ofproto/trace', 'br-int', 'in_port=2,dl_src=fa:16:3e:00:00:0a,dl_dst=fa:16:3e:00:00:0b,dl_type=0x0800,nw_src=10.251.0.1,nw_dst=10.251.0.2');
    expect(trace).to.match(/bridge\("br-tun"\)/);
    expect(trace).to.match(/20\. dl_vlan=1,dl_dst=fa:16:3e:00:00:0b, priority 2, cookie 0x[0-9a-f]+\s+pop_vlan\s+set_field:0x3e9->tun_id\s+output:2/);
  });

  it('a new remote host with a shared network gets a tunnel and flows; removing it removes both', async () => {
    results.length = 0;
    store.applyLine('{"type":"host","name":"c","tunnelIp":"10.250.0.3"}');
    store.applyLine('{"type":"port","id":"vm-c","network":"red","host":"c","mac":"fa:16:3e:00:00:0c","fixedIps":["10.251.0.3"]}');
    await eventually(async () => (await a.vsctl('list-ports', 'br-tun')).includes('vxlan-0afa0003'), 'the tunnel to c');
    await ctl.idle();
    const flows = await dump(a, 'br-tun');
    expect(flows.some((l) => /priority=1,in_port=3 actions=goto_table:4/.test(l))).to.equal(true);
    expect(flows.some((l) => /table=22, priority=1,dl_vlan=1 actions=pop_vlan,set_field:0x3e9->tun_id,output:2,output:3/.test(l))).to.equal(true);
    store.applyLine('{"type":"remove","kind":"port","id":"vm-c"}');
    await eventually(async () => !(await a.vsctl('list-ports', 'br-tun')).includes('vxlan-0afa0003'), 'the tunnel to c to go');
    await ctl.idle();
    expect(await dump(a, 'br-tun')).to.deep.equal(renderText(ctl.agents.get('a')!.state!, 'br-tun', pipeline));
  });

  it('l2pop is incremental: a port up on host b adds exactly its two entries on host a; unplugged, they go', async () => {
    await ctl.idle();
    // Nova plugs the VM first; Neutron's port then comes (the order of a boot).
    await b.plugVm('tap-b3', 'vm-b3', 'fa:16:3e:00:00:b3');
    await eventually(async () => (await b.vsctl('get', 'Port', 'tap-b3', 'tag')).trim() === '4095', 'tap-b3 to get the dead VLAN');
    await ctl.idle();
    results.length = 0;
    store.applyLine('{"type":"port","id":"vm-b3","network":"red","host":"b","mac":"fa:16:3e:00:00:b3","fixedIps":["10.251.0.33"]}');
    await eventually(() => results.some(([h, br, r]) => h === 'a' && br === 'br-tun' && r.flowMods > 0), 'host a to converge');
    await ctl.idle();
    const onA = results.filter(([h, br, r]) => h === 'a' && br === 'br-tun' && r.flowMods > 0).map(([, , r]) => r);
    expect(onA).to.have.length(1);
    expect(onA[0]).to.include({ added: 2, modified: 0, deleted: 0, flowMods: 2 }); // table 20 unicast + table 21 ARP
    expect(results.filter(([h, br, r]) => h === 'a' && br === 'br-int' && r.flowMods > 0)).to.deep.equal([]);
    // The VM goes away on b (its port still in the topology): a drops its entries, as l2pop does.
    results.length = 0;
    await b.vsctl('del-port', 'br-int', 'tap-b3');
    await eventually(() => results.some(([h, br, r]) => h === 'a' && br === 'br-tun' && r.flowMods > 0), 'host a to converge');
    await ctl.idle();
    expect(results.filter(([h, br, r]) => h === 'a' && br === 'br-tun' && r.flowMods > 0).map(([, , r]) => r)[0])
      .to.include({ added: 0, modified: 0, deleted: 2, flowMods: 2 });
    expect((await dump(a, 'br-tun')).some((l) => l.includes('fa:16:3e:00:00:b3'))).to.equal(false);
    results.length = 0;
    store.applyLine('{"type":"remove","kind":"port","id":"vm-b3"}');
    await ctl.idle();
    expect(results.filter(([h, , r]) => h === 'a' && r.flowMods > 0)).to.deep.equal([]);
  });

  it('a new network gets a fresh VLAN and its table-4/22 flows; moving a port updates both hosts', async () => {
    store.applyLine('{"type":"network","id":"blue","vni":2001}');
    store.applyLine('{"type":"port","id":"vm-a2","network":"blue","host":"a","mac":"fa:16:3e:00:01:0a","fixedIps":["10.252.0.1"]}');
    store.applyLine('{"type":"port","id":"vm-b2","network":"blue","host":"b","mac":"fa:16:3e:00:01:0b","fixedIps":["10.252.0.2"]}');
    // A network comes to a host with its first port plugged there.
    await a.plugVm('tap-a2', 'vm-a2');
    await b.plugVm('tap-b2', 'vm-b2');
    await ctl.idle();
    await eventually(async () => (await dump(a, 'br-tun')).some((l) => l.includes('tun_id=0x7d1')), 'blue on host a');
    await ctl.idle();
    const onA = await dump(a, 'br-tun');
    expect(onA.some((l) => /table=4, priority=1,tun_id=0x7d1 actions=push_vlan:0x8100,set_field:4098->vlan_vid,goto_table:10/.test(l))).to.equal(true);
    expect(onA.some((l) => /table=22, priority=1,dl_vlan=2 actions=pop_vlan,set_field:0x7d1->tun_id,output:2/.test(l))).to.equal(true);
    // vm-b2 moves to host a: b no longer has blue; a no longer reaches vm-b2 through the tunnel.
    store.applyLine('{"type":"port","id":"vm-b2","network":"blue","host":"a","mac":"fa:16:3e:00:01:0b","fixedIps":["10.252.0.2"]}');
    await eventually(async () => !(await dump(b, 'br-tun')).some((l) => l.includes('tun_id=0x7d1')), 'blue to leave host b');
    await ctl.idle();
    expect((await dump(a, 'br-tun')).some((l) => l.includes('dl_dst=fa:16:3e:00:01:0b'))).to.equal(false);
    for (const [box, host] of [[a, 'a'], [b, 'b']] as const) {
      expect(await dump(box, 'br-tun')).to.deep.equal(renderText(ctl.agents.get(host)!.state!, 'br-tun', pipeline));
    }
  });

  it('a controller restart keeps VLANs and sends zero flow-mods; no flow is absent at any moment', async () => {
    const before = await dump(a, 'br-tun');
    // ovs-ofctl monitor reports every flow added, modified or deleted while the controller restarts.
    const monitor = spawn('stdbuf', ['-oL', 'ovs-ofctl', '-O', 'OpenFlow13', 'monitor', a.mgmtTarget('br-tun'), 'watch:!initial'], { env: { ...process.env, OVS_RUNDIR: a.dir } });
    let seen = '';
    monitor.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    monitor.stderr.on('data', (d: Buffer) => (seen += `STDERR ${d.toString()}`));
    // The monitor is registered once it printed its (empty, !initial) first reply.
    await eventually(() => seen.includes('FLOW_MONITOR reply'), 'ovs-ofctl monitor to start');
    await ctl.stop();
    results.length = 0;
    ctl = await newController();
    await eventually(() => connected(ctl), 'the bridges to reconnect');
    await ctl.idle();
    expect(results.length).to.be.above(0);
    expect(results.reduce((n, [, , r]) => n + r.flowMods, 0)).to.equal(0);
    expect(await dump(a, 'br-tun')).to.deep.equal(before);
    expect((await a.vsctl('get', 'Port', 'tap-a', 'tag')).trim()).to.equal('1');
    // Negative control: the monitor does report changes (one flow added and deleted by hand).
    await a.ofctl('add-flow', a.mgmtTarget('br-tun'), 'table=99,priority=1,actions=drop');
    await a.ofctl('del-flows', a.mgmtTarget('br-tun'), 'table=99');
    await eventually(() => seen.includes('event=DELETED'), 'the monitor to report the control flow');
    monitor.kill();
    const events = seen.split('\n').filter((l) => /event=/.test(l));
    expect(events).to.have.length(2);
    expect(events.every((l) => l.includes('table=99'))).to.equal(true);
  });

  it('reconnects to a restarted ovsdb-server, resyncs, and keeps converging', async () => {
    await a.killOvsdbServer();
    await eventually(() => !ctl.status().hosts.find((h) => h.host === 'a')!.ovsdbConnected, 'the agent to see ovsdb-server go');
    await a.startOvsdbServer();
    await eventually(() => ctl.status().hosts.find((h) => h.host === 'a')!.ovsdbConnected, 'the agent to reconnect');
    // A change after the resync still reaches host a, through OVSDB (a tunnel) and OpenFlow (flows).
    store.applyLine('{"type":"host","name":"d","tunnelIp":"10.250.0.4"}');
    store.applyLine('{"type":"port","id":"vm-d","network":"red","host":"d","mac":"fa:16:3e:00:00:0d","fixedIps":["10.251.0.4"]}');
    await eventually(async () => (await a.vsctl('list-ports', 'br-tun')).includes('vxlan-0afa0004'), 'the tunnel to d');
    await eventually(async () => (await dump(a, 'br-tun')).some((l) => l.includes('dl_dst=fa:16:3e:00:00:0d')), 'the flows for vm-d');
    await ctl.idle();
    expect(await dump(a, 'br-tun')).to.deep.equal(renderText(ctl.agents.get('a')!.state!, 'br-tun', pipeline));
  });

  it('restores the flows after ovs-vswitchd restarts', async () => {
    const before = await dump(b, 'br-tun');
    await b.killVswitchd();
    await b.startVswitchd();
    const t0 = Date.now();
    await eventually(async () => (await dump(b, 'br-tun').catch(() => [])).length === before.length, 'the flows to come back');
    expect(Date.now() - t0).to.be.below(5000);
    expect(await dump(b, 'br-tun')).to.deep.equal(before);
  });
});
