// Host setup through OVSDB against a real ovsdb-server + ovs-vswitchd: bridges, controller, patch
// ports, VXLAN ports and VM port tags, idempotent (a second run sends nothing). Offline, vm-1's
// `ofport` says it is plugged; once OVSDB is there, the ports plugged into br-int say it.
import { expect } from 'chai';
import { applyHostSetup, planHostSetup, pluggedPortsFrom, vlanHintsFrom } from '../../lib/controller/host-setup.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { OvsdbClient } from '../../lib/ovsdb/client.js';
import { VSWITCH_TABLES, vswitchView } from '../../lib/ovsdb/vswitch.js';
import { parseTopology } from '../../lib/topology/model.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually } from '../../testing/wait.js';

const TOPO = [
  '{"type":"host","name":"compute","tunnelIp":"10.0.100.88"}',
  '{"type":"host","name":"network","tunnelIp":"10.0.100.77"}',
  '{"type":"network","id":"net-1001","vni":1001}',
  '{"type":"port","id":"vm-1","network":"net-1001","host":"compute","mac":"fa:16:3e:83:95:fa","fixedIps":["10.0.0.5"],"ofport":2}',
  '{"type":"port","id":"dhcp-1","network":"net-1001","host":"network","mac":"fa:16:3e:52:7a:f2","fixedIps":["10.0.0.3"]}',
].join('\n');

describe('host setup through OVSDB (real OVS)', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let client: OvsdbClient;
  let opts: { controllerTarget: string; datapathType: string; maxBackoffMs: number };
  before(async () => {
    ovs = await OvsSandbox.start({});
    client = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: VSWITCH_TABLES });
    opts = { controllerTarget: `unix:${ovs.dir}/ctl.sock`, datapathType: 'netdev', maxBackoffMs: 1000 };
  });
  after(async () => {
    await client?.close();
    await ovs?.stop();
  });

  it('creates br-int and br-tun with controller, patch ports and the VXLAN port, then is idempotent', async () => {
    const state = deriveHostState(parseTopology(TOPO), 'compute');
    expect(await applyHostSetup(client, state, opts)).to.be.above(0);
    const get = async (...a: string[]): Promise<string> => (await ovs.vsctl('get', ...a)).trim();
    expect(await get('Bridge', 'br-int', 'fail_mode')).to.equal('secure');
    expect(await get('Bridge', 'br-tun', 'protocols')).to.equal('[OpenFlow10, OpenFlow13]');
    expect(await get('Bridge', 'br-tun', 'other_config:disable-in-band')).to.equal('"true"');
    expect((await ovs.vsctl('get-controller', 'br-tun')).trim()).to.equal(opts.controllerTarget);
    expect(await get('Interface', 'patch-int', 'ofport')).to.equal('1');
    expect(await get('Interface', 'patch-tun', 'ofport')).to.equal('1');
    expect(await get('Interface', 'vxlan-0a00644d', 'ofport')).to.equal('2');
    expect(await get('Interface', 'vxlan-0a00644d', 'options')).to.equal(
      '{df_default="true", egress_pkt_mark="0", in_key=flow, local_ip="10.0.100.88", out_key=flow, remote_ip="10.0.100.77"}');
    // Nothing left to do: the second run sends no operation.
    expect(planHostSetup(vswitchView(client.replica), state, opts)).to.deep.equal([]);
    expect(await applyHostSetup(client, state, opts)).to.equal(0);
  });

  it('tags VM ports with their local VLAN (dead VLAN when unknown) and records it for restarts', async () => {
    await ovs.vsctl('add-port', 'br-int', 'tap-vm1', '--', 'set', 'Interface', 'tap-vm1', 'type=internal',
      'external_ids:iface-id=vm-1', 'external_ids:attached-mac="fa:16:3e:83:95:fa"',
      '--', 'add-port', 'br-int', 'tap-x', '--', 'set', 'Interface', 'tap-x', 'type=internal', 'external_ids:iface-id=unknown-port');
    // What is plugged is what OVSDB says, with the ofports ovs-vswitchd assigned.
    const ofport = async (i: string): Promise<number> => Number((await ovs.vsctl('get', 'Interface', i, 'ofport')).trim());
    await eventually(() => {
      const now = pluggedPortsFrom(vswitchView(client.replica));
      return now.has('vm-1') && now.has('unknown-port');
    }, 'the replica to see both ports plugged');
    expect([...pluggedPortsFrom(vswitchView(client.replica))].sort()).to.deep.equal([['unknown-port', await ofport('tap-x')], ['vm-1', await ofport('tap-vm1')]]);
    const state = deriveHostState(parseTopology(TOPO), 'compute', { plugged: pluggedPortsFrom(vswitchView(client.replica)) });
    expect(state.localPorts.map((p) => [p.id, p.ofport])).to.deep.equal([['vm-1', await ofport('tap-vm1')]]);
    expect(await applyHostSetup(client, state, opts)).to.be.above(0);
    expect((await ovs.vsctl('get', 'Port', 'tap-vm1', 'tag')).trim()).to.equal('1');
    expect((await ovs.vsctl('get', 'Port', 'tap-x', 'tag')).trim()).to.equal('4095');
    expect((await ovs.vsctl('get', 'Port', 'tap-vm1', 'other_config:net_uuid')).trim()).to.equal('net-1001');
    expect([...vlanHintsFrom(vswitchView(client.replica))]).to.deep.equal([['net-1001', 1]]);
    expect(await applyHostSetup(client, state, opts)).to.equal(0);
  });

  it('takes an interface with ofport -1 (it failed) as unplugged', async () => {
    // An interface ovs-vswitchd cannot open gets ofport -1 and an error. (On the netdev datapath a
    // system interface whose device does not exist still gets a positive ofport, measured on 3.1.)
    await ovs.vsctl('add-port', 'br-int', 'tap-gone', '--', 'set', 'Interface', 'tap-gone', 'type=bogus', 'external_ids:iface-id=vm-gone');
    await eventually(async () => (await ovs.vsctl('get', 'Interface', 'tap-gone', 'ofport')).trim() === '-1', 'ofport -1');
    await eventually(() => vswitchView(client.replica).bridges.get('br-int')!.ports.some((p) => p.name === 'tap-gone' && p.interfaces[0]?.ofport === -1),
      'the replica to see it');
    expect(pluggedPortsFrom(vswitchView(client.replica)).has('vm-gone')).to.equal(false);
    await ovs.vsctl('del-port', 'br-int', 'tap-gone');
  });

  it('guards port-list changes with wait: a plan made from a stale view is refused whole', async () => {
    const topo = parseTopology(`${TOPO}\n{"type":"remove","kind":"port","id":"dhcp-1"}`);
    const stale = vswitchView(client.replica);
    const plan = planHostSetup(stale, deriveHostState(topo, 'compute'), opts);
    expect(plan[0]).to.include({ op: 'wait', table: 'Bridge', until: '==' });
    // Someone (Nova) adds a port to br-tun after we planned.
    await ovs.vsctl('add-port', 'br-tun', 'extra', '--', 'set', 'Interface', 'extra', 'type=internal');
    await client.transact(plan).then(() => expect.fail('stale plan applied'), (err: Error) => expect(err.message).to.match(/operation 1 \(wait\): timed out/));
    expect((await ovs.vsctl('list-ports', 'br-tun')).trim().split('\n')).to.deep.equal(['extra', 'patch-int', 'vxlan-0a00644d']);
    await ovs.vsctl('del-port', 'br-tun', 'extra');
  });

  it('puts back a VXLAN port\'s options changed by hand, and sets dst_port for a VXLAN port other than 4789', async () => {
    const state = deriveHostState(parseTopology(TOPO), 'compute');
    const options = async (): Promise<string> => (await ovs.vsctl('get', 'Interface', 'vxlan-0a00644d', 'options')).trim();
    const neutrons = '{df_default="true", egress_pkt_mark="0", in_key=flow, local_ip="10.0.100.88", out_key=flow, remote_ip="10.0.100.77"}';
    const settled = async (want: string): Promise<void> => eventually(() => vswitchView(client.replica).bridges.get('br-tun')!.ports
      .find((p) => p.name === 'vxlan-0a00644d')!.interfaces[0]!.options.get('remote_ip') === want, 'the replica to show the options');
    for (const edit of [['options:remote_ip=10.0.100.99'], ['options:tos=inherit']]) {
      await ovs.vsctl('set', 'Interface', 'vxlan-0a00644d', ...edit);
      await settled(edit[0]!.endsWith('99') ? '10.0.100.99' : '10.0.100.77');
      const changes: Array<Record<string, unknown>> = [];
      expect(await applyHostSetup(client, state, opts, undefined, undefined, (c) => changes.push(...c))).to.be.above(0);
      expect(changes.map((c) => c.change)).to.deep.equal(['interface fixed']);
      expect(await options()).to.equal(neutrons);
    }
    await settled('10.0.100.77');
    expect(planHostSetup(vswitchView(client.replica), state, opts)).to.deep.equal([]);
    // Another VXLAN port: dst_port joins the options; back to 4789, it leaves them.
    expect(await applyHostSetup(client, state, { ...opts, vxlanPort: 4790 })).to.be.above(0);
    expect(await options()).to.equal(neutrons.replace('egress_pkt_mark', 'dst_port="4790", egress_pkt_mark'));
    await eventually(() => vswitchView(client.replica).bridges.get('br-tun')!.ports.find((p) => p.name === 'vxlan-0a00644d')!.interfaces[0]!.options.has('dst_port'), 'the replica to show dst_port');
    expect(planHostSetup(vswitchView(client.replica), state, { ...opts, vxlanPort: 4790 })).to.deep.equal([]);
    expect(await applyHostSetup(client, state, opts)).to.be.above(0);
    expect(await options()).to.equal(neutrons);
  });

  it('removes the VXLAN port of a remote host that no longer shares a network', async () => {
    const topo = parseTopology(`${TOPO}\n{"type":"remove","kind":"port","id":"dhcp-1"}`);
    const state = deriveHostState(topo, 'compute');
    expect(state.tunnels).to.deep.equal([]);
    await new Promise((r) => setTimeout(r, 200)); // let the replica see the port removed above
    expect(await applyHostSetup(client, state, opts)).to.be.above(0);
    expect((await ovs.vsctl('list-ports', 'br-tun')).trim()).to.equal('patch-int');
  });

  it('writes the controllers\' inactivity probe when given, puts back a changed one, and leaves it alone when not given', async () => {
    const state = deriveHostState(parseTopology(`${TOPO}\n{"type":"remove","kind":"port","id":"dhcp-1"}`), 'compute');
    const withProbe = { ...opts, inactivityProbeMs: 10_000 };
    const probe = async (br: string): Promise<string> => (await ovs.vsctl('get', 'Controller', br, 'inactivity_probe')).trim();
    const seen = (ms: number): Promise<void> =>
      eventually(() => vswitchView(client.replica).bridges.get('br-int')!.controllers[0]?.inactivityProbeMs === ms, `the replica to see ${ms}`);
    expect(await applyHostSetup(client, state, withProbe)).to.equal(2);
    expect([await probe('br-int'), await probe('br-tun')]).to.deep.equal(['10000', '10000']);
    await seen(10_000);
    expect(planHostSetup(vswitchView(client.replica), state, withProbe)).to.deep.equal([]);
    // Someone raises it by hand: put back when we are given one, left alone when not.
    await ovs.vsctl('set', 'Controller', 'br-int', 'inactivity_probe=600000');
    await seen(600_000);
    expect(planHostSetup(vswitchView(client.replica), state, opts)).to.deep.equal([]);
    expect(await applyHostSetup(client, state, withProbe)).to.equal(1);
    expect(await probe('br-int')).to.equal('10000');
  });
});
