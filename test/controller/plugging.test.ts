// A VM port's flows exist only while the port is plugged into br-int (an Interface with its iface-id
// and a real ofport), against a real OVS driven by the controller: an unrelated interface that gets
// the ofport a guess would have given the port is not caught by the port's anti-spoofing flows;
// plugging the port adds its flows on its real ofport (and its network's VLAN, tunnel and br-tun
// flows), unplugging removes them all again.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../lib/controller/controller.js';
import type { HostAgent } from '../../lib/controller/host-agent.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { runCli } from '../../testing/run-cli.js';

const MAC_A = 'fa:16:3e:00:00:0a';
const IP_A = '10.251.0.1';

describe('VM port flows follow plugging (real OVS)', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let ctl: Controller;
  let agent: HostAgent;
  const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'plug' });
  const brInt = (): Promise<string[]> => ovs.dumpFlowsSorted('br-int');
  const ofportOf = async (iface: string): Promise<number> => Number((await ovs.vsctl('get', 'Interface', iface, 'ofport')).trim());
  /** The agent has seen this interface (with the given ofport, when given) and finished its passes. */
  const seen = async (iface: string, ofport?: number): Promise<void> => {
    await eventually(() => agent.view()!.bridges.get('br-int')!.ports.some((p) => p.name === iface && p.interfaces[0]!.ofport !== undefined
      && (ofport === undefined || p.interfaces[0]!.ofport === ofport)), `the agent to see ${iface}`);
    await ctl.idle();
  };
  const exactlyRendered = async (): Promise<void> => {
    expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal(renderText(agent.state!, 'br-int', pipeline));
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(renderText(agent.state!, 'br-tun', pipeline));
  };
  const trace = (flow: string): Promise<string> => ovs.appctl('ofproto/trace', 'br-int', flow);
  const arpFrom = (inPort: number, mac: string, ip: string): string =>
    `in_port=${inPort},arp,dl_src=${mac},dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_sha=${mac},arp_spa=${ip},arp_tpa=10.251.0.2`;

  before(async () => {
    ovs = await OvsSandbox.start({});
    const port = await freePort();
    const store = new TopologyStore();
    for (const l of [
      `{"type":"host","name":"h1","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`,
      '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
      '{"type":"network","id":"red","vni":1001}',
      `{"type":"port","id":"port-a","network":"red","host":"h1","mac":"${MAC_A}","fixedIps":["${IP_A}"]}`,
      '{"type":"port","id":"port-b","network":"red","host":"h2","mac":"fa:16:3e:00:00:0b","fixedIps":["10.251.0.2"]}',
    ]) expect(store.applyLine(l).ok).to.equal(true);
    ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    });
    await ctl.start();
    agent = ctl.agents.get('h1')!;
    await eventually(() => ['br-int', 'br-tun'].every((b) => ctl.status().hosts[0]!.bridges[b]!.connected), 'both bridges to connect');
    await ctl.idle();
  });
  after(async () => {
    await ctl?.stop();
    await ovs?.stop();
  });

  it('gives a port that is not plugged no flows, and its network no VLAN, tunnel or br-tun flows', async () => {
    expect(agent.state!.localPorts).to.deep.equal([]);
    expect(agent.state!.networks).to.deep.equal([]);
    const flows = [...await brInt(), ...await ovs.dumpFlowsSorted('br-tun')];
    expect(flows.filter((l) => l.includes(MAC_A) || l.includes(IP_A) || l.includes('0x3e9'))).to.deep.equal([]);
    expect((await ovs.vsctl('list-ports', 'br-tun')).trim()).to.equal('patch-int');
    await exactlyRendered();
  });

  it('an unrelated interface on the ofport a guess would have given the port is not caught by the port\'s flows', async () => {
    // The controller used to guess 2, the first VM ofport after patch-tun, for port-a.
    await ovs.vsctl('add-port', 'br-int', 'tap-x', '--', 'set', 'Interface', 'tap-x', 'type=internal');
    const x = await ofportOf('tap-x');
    expect(x).to.equal(2);
    await seen('tap-x', x);
    expect((await brInt()).filter((l) => l.includes(`in_port=${x}`))).to.deep.equal([]);
    // A frame from it, even one claiming port-a's addresses, goes through table 0's default to NORMAL.
    for (const f of [arpFrom(x, 'fa:16:3e:00:00:99', '10.251.0.99'), arpFrom(x, MAC_A, IP_A)]) {
      const out = await trace(f);
      expect(out).to.match(/^ 0\. priority 0, cookie \S+\n\s+goto_table:59\n/m);
      expect(out).to.match(/^60\. priority 3, cookie \S+\n\s+NORMAL\n/m);
      expect(out).to.not.match(/^2[45]\. /m);
      expect(out).to.not.match(/Datapath actions: drop/);
    }
    // An interface whose iface-id the topology does not know is tagged with the dead VLAN, as
    // Neutron does, and gets no flow of its own either.
    await ovs.plugVm('tap-y', 'not-in-topology');
    await eventually(async () => (await ovs.vsctl('get', 'Port', 'tap-y', 'tag')).trim() === '4095', 'tap-y to get the dead VLAN');
    await ctl.idle();
    const y = await ofportOf('tap-y');
    expect((await brInt()).filter((l) => l.includes(`in_port=${y}`))).to.deep.equal([]);
    const out = await trace(arpFrom(y, 'fa:16:3e:00:00:98', '10.251.0.98'));
    expect(out).to.not.match(/^2[45]\. /m);
    expect(out).to.match(/^60\. priority 3, cookie \S+\n\s+NORMAL\n/m);
    // Not dropped in table 0 (its dl_vlan=4095 flow sees only frames that come in tagged): NORMAL
    // floods it on the dead VLAN to the trunk ports only (br-int's own port, the untagged tap-x and
    // patch-tun), and br-tun drops it (no flow for VLAN 4095).
    expect(out).to.match(/^22\. priority 0, cookie \S+\n\s+drop/m);
    expect(out).to.match(/Datapath actions: push_vlan\(vid=4095,pcp=0\),[\d,]+\n/);
    await exactlyRendered();
  });

  it('plugging the port installs its flows on its real ofport; unplugging removes them', async () => {
    const t0 = Date.now();
    await ovs.plugVm('tap-a', 'port-a', MAC_A);
    const a = await ofportOf('tap-a');
    expect(a).to.not.equal(2);
    await eventually(async () => (await brInt()).some((l) => l.includes(`priority=2,in_port=${a},dl_src=${MAC_A} actions=goto_table:30`)),
      'port-a\'s flows', 5000, undefined, 10);
    const plugMs = Date.now() - t0;
    await ctl.idle();
    expect(agent.state!.localPorts.map((p) => [p.id, p.ofport, p.vlan])).to.deep.equal([['port-a', a, 1]]);
    expect((await ovs.vsctl('get', 'Port', 'tap-a', 'tag')).trim()).to.equal('1');
    expect((await ovs.vsctl('list-ports', 'br-tun')).trim().split('\n')).to.deep.equal(['patch-int', 'vxlan-0afa0002']);
    expect((await ovs.dumpFlowsSorted('br-tun')).some((l) => /table=4, priority=1,tun_id=0x3e9 actions=push_vlan/.test(l))).to.equal(true);
    await exactlyRendered();
    // The flows are port-a's: its own frames pass, a spoofed one is dropped; tap-x is still not caught.
    expect(await trace(arpFrom(a, MAC_A, IP_A))).to.match(/^25\. in_port=\d+,dl_src=fa:16:3e:00:00:0a, priority 2/m);
    const spoofed = await trace(arpFrom(a, MAC_A, '10.251.0.77'));
    expect(spoofed).to.match(/^24\. priority 0, cookie \S+\n\s+drop/m);
    expect(spoofed).to.match(/Datapath actions: drop/);
    expect(await trace(arpFrom(2, MAC_A, IP_A))).to.not.match(/^2[45]\. /m);
    // Within the latency of a topology event (an OVSDB update schedules a pass, as a topology change does).
    expect(plugMs).to.be.below(2000);

    const t1 = Date.now();
    await ovs.vsctl('del-port', 'br-int', 'tap-a');
    await eventually(async () => !(await brInt()).some((l) => l.includes(`in_port=${a}`)), 'port-a\'s flows to go', 5000, undefined, 10);
    expect(Date.now() - t1).to.be.below(2000);
    await eventually(async () => (await ovs.vsctl('list-ports', 'br-tun')).trim() === 'patch-int', 'the tunnel to go');
    await ctl.idle();
    expect(agent.state!.localPorts).to.deep.equal([]);
    expect(agent.state!.networks).to.deep.equal([]);
    await exactlyRendered();
    console.log(`      (measured: flows ${plugMs} ms after the plug, gone ${Date.now() - t1} ms after the unplug)`);
  });

  it('an interface of the port that OVS could not open (ofport -1) gets no flows and the dead VLAN', async () => {
    await ovs.vsctl('add-port', 'br-int', 'tap-a', '--', 'set', 'Interface', 'tap-a', 'type=bogus', 'external_ids:iface-id=port-a');
    await eventually(async () => (await ovs.vsctl('get', 'Port', 'tap-a', 'tag')).trim() === '4095', 'tap-a to get the dead VLAN');
    await ctl.idle();
    expect(await ofportOf('tap-a')).to.equal(-1);
    expect(agent.state!.localPorts).to.deep.equal([]);
    expect((await brInt()).filter((l) => l.includes(MAC_A))).to.deep.equal([]);
    await exactlyRendered();
  });
});

// The other half: a port's l2pop entries, flood-list place and tunnel on the hosts it shares a
// network with also exist only while it is plugged on its own host (Neutron's l2pop adds a remote
// port when it goes ACTIVE there), with both hosts real and managed.
describe('remote hosts follow a port\'s plugging on its own host (two real hosts)', function () {
  this.timeout(90_000);
  let a: OvsSandbox;
  let b: OvsSandbox;
  let ctl: Controller;
  let topoFile: string;
  const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'plug2' });
  const MAC_B = 'fa:16:3e:00:00:0b';
  const MAC_B2 = 'fa:16:3e:00:00:b2';
  const tunA = (): Promise<string[]> => a.dumpFlowsSorted('br-tun');
  const exactlyRendered = async (): Promise<void> => {
    for (const [box, host] of [[a, 'a'], [b, 'b']] as const) {
      for (const br of ['br-int', 'br-tun'] as const) {
        expect(await box.dumpFlowsSorted(br), `${host} ${br}`).to.deep.equal(renderText(ctl.agents.get(host)!.state!, br, pipeline));
      }
    }
  };
  const traceToB = async (): Promise<string> => {
    const inPort = (await a.vsctl('get', 'Interface', 'tap-a', 'ofport')).trim();
    return a.appctl('ofproto/trace', 'br-int', `in_port=${inPort},dl_src=${MAC_A},dl_dst=${MAC_B},ip,nw_src=${IP_A},nw_dst=10.251.0.2`);
  };

  before(async () => {
    [a, b] = await Promise.all([OvsSandbox.start({}), OvsSandbox.start({})]);
    const port = await freePort();
    const lines = [
      `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${a.dbSock}"}`,
      `{"type":"host","name":"b","tunnelIp":"10.250.0.2","ovsdb":"unix:${b.dbSock}"}`,
      '{"type":"network","id":"red","vni":1001}',
      `{"type":"port","id":"vm-a","network":"red","host":"a","mac":"${MAC_A}","fixedIps":["${IP_A}"]}`,
      `{"type":"port","id":"vm-b","network":"red","host":"b","mac":"${MAC_B}","fixedIps":["10.251.0.2"]}`,
      // A port Neutron knows whose VM never booted on b.
      `{"type":"port","id":"vm-b2","network":"red","host":"b","mac":"${MAC_B2}","fixedIps":["10.251.0.22"]}`,
    ];
    topoFile = join(a.dir, 'topology.jsonl');
    writeFileSync(topoFile, `${lines.join('\n')}\n`);
    const store = new TopologyStore();
    for (const l of lines) expect(store.applyLine(l).ok).to.equal(true);
    ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    });
    await ctl.start();
    await a.plugVm('tap-a', 'vm-a', MAC_A);
    await b.plugVm('tap-b', 'vm-b', MAC_B);
    await eventually(async () => (await tunA()).some((l) => l.includes(`dl_dst=${MAC_B}`)), 'vm-b\'s entries on a');
    await ctl.idle();
  });
  after(async () => {
    await ctl?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('holds entries for the remote port that is plugged, none for the one that is not', async () => {
    const flows = await tunA();
    expect(flows.filter((l) => l.includes(MAC_B)).map((l) => l.replace(/^.*table=(\d+).*$/, '$1'))).to.deep.equal(['20', '21']);
    expect(flows.filter((l) => l.includes(MAC_B2) || l.includes('10.251.0.22'))).to.deep.equal([]);
    expect(await traceToB()).to.match(/20\. dl_vlan=1,dl_dst=fa:16:3e:00:00:0b, priority 2, cookie \S+\s+pop_vlan\s+set_field:0x3e9->tun_id\s+output:2/);
    await exactlyRendered();
    // The audit reads b's OVSDB too, so it expects what the controller installed.
    const r = await runCli(['audit', '--topology', topoFile, '--host', 'a', '--l2pop', '--arp-responder', '--controller-id', 'plug2']);
    expect(r.stdout, r.stderr).to.match(/host a bridge br-tun: equal/);
    expect(r.code, r.stdout).to.equal(0);
  });

  it('unplugged on b, the port leaves a (entries, flood list, tunnel) within a topology event\'s latency; plugged again, it is back', async () => {
    const t0 = Date.now();
    await b.vsctl('del-port', 'br-int', 'tap-b');
    await eventually(async () => !(await tunA()).some((l) => l.includes(MAC_B)), 'vm-b\'s entries to leave a', 5000, undefined, 10);
    const goneMs = Date.now() - t0;
    await eventually(async () => (await a.vsctl('list-ports', 'br-tun')).trim() === 'patch-int', 'a\'s tunnel to b to go');
    await ctl.idle();
    expect(ctl.agents.get('a')!.state!.remotePorts).to.deep.equal([]);
    expect((await tunA()).filter((l) => l.includes('->tun_id'))).to.deep.equal([]); // no unicast, no flood to a tunnel
    expect(await traceToB()).to.not.match(/set_field:0x3e9->tun_id/);
    await exactlyRendered();

    const t1 = Date.now();
    await b.plugVm('tap-b', 'vm-b', MAC_B);
    await eventually(async () => (await tunA()).some((l) => l.includes(`dl_dst=${MAC_B}`)), 'vm-b\'s entries to come back', 5000, undefined, 10);
    const backMs = Date.now() - t1;
    await ctl.idle();
    expect(await traceToB()).to.match(/set_field:0x3e9->tun_id\s+output:\d+/);
    await exactlyRendered();
    expect(goneMs).to.be.below(2000);
    expect(backMs).to.be.below(3000);
    console.log(`      (measured: gone from a ${goneMs} ms after the unplug on b, back ${backMs} ms after the plug)`);
  });

  it('b\'s OVSDB gone: a keeps what it last knew of b, and drops nothing', async () => {
    const before = await tunA();
    await b.killOvsdbServer();
    await eventually(() => !ctl.status().hosts.find((h) => h.host === 'b')!.ovsdbConnected, 'the controller to see b\'s OVSDB go');
    await ctl.agents.get('a')!.schedule();
    await ctl.idle();
    expect(await tunA()).to.deep.equal(before);
    await b.startOvsdbServer();
    await eventually(() => ctl.status().hosts.find((h) => h.host === 'b')!.ovsdbConnected, 'the controller to reach b again');
    await ctl.idle();
    expect(await tunA()).to.deep.equal(before);
  });
});
