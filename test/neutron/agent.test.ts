// ofctl-ts in neutron-openvswitch-agent's place, against Debian's real neutron-server and RabbitMQ
// and two sandboxed OVS hosts (issue 17). Everything is driven through Neutron's REST API only, as
// an operator or Nova would: one controller per hypervisor (as the agent runs), each speaking for
// its host on the bus. Checked: both hosts register as alive "Open vSwitch agent"s; ports bound to
// them and plugged into br-int go ACTIVE; each host's topology is what the REST API says (its own
// ports with their Neutron ids, the other's through l2pop) and its flows are what the pipelines
// render for it; a rule added to a group reaches the firewall flows; deleting a port removes it, and
// only it, on both hosts; unplugging makes it DOWN.
import { expect } from 'chai';
import { remotePortId } from '../../lib/topology/neutron-map.js';
import { NeutronApi, Port } from '../../testing/neutron-api.js';
import { NeutronServer } from '../../testing/neutron-server.js';
import { RabbitMq } from '../../testing/rabbitmq.js';
import { Hypervisor } from '../../testing/neutron-hv.js';
import { eventually } from '../../testing/wait.js';

/** A snapshot line without its rev (a group refreshed from Neutron has none). */
function dropRev(line: string): string {
  return line.replace(/,"rev":\d+/, '');
}

describe('ofctl-ts as the OVS agent of two hosts, against a real neutron-server (issue 17)', function () {
  this.timeout(300_000);
  let rabbit: RabbitMq;
  let server: NeutronServer;
  let api: NeutronApi;
  let hv1: Hypervisor;
  let hv2: Hypervisor;
  let net: string;
  let vni: number;
  let sg: string;
  let p1: Port;
  let p2: Port;

  before(async () => {
    rabbit = await RabbitMq.start();
    server = await NeutronServer.start({ amqpUrl: rabbit.url });
    api = new NeutronApi(server.url);
    hv1 = await Hypervisor.start('hv1', '10.0.0.1', rabbit.url);
    hv2 = await Hypervisor.start('hv2', '10.0.0.2', rabbit.url);
  });
  after(async () => {
    for (const hv of [hv1, hv2]) await hv?.stop();
    await server?.stop();
    await rabbit?.stop();
  });

  it('registers each host as an alive "Open vSwitch agent" with the configurations the real agent reports', async () => {
    await eventually(async () => (await api.listAgents()).filter((a) => a.alive).length === 2, 'both agents alive');
    const agents = await api.listAgents();
    for (const hv of [hv1, hv2]) {
      const a = agents.find((x) => x.host === hv.name)!;
      expect(a.agent_type).to.equal('Open vSwitch agent');
      expect(a.binary).to.equal('neutron-openvswitch-agent');
      expect(a.configurations).to.include({ tunneling_ip: hv.tunnelIp, l2_population: true, arp_responder_enabled: true, integration_bridge: 'br-int' });
      expect(a.configurations.tunnel_types).to.deep.equal(['vxlan']);
    }
  });

  it('binds ports to the hosts, makes them ACTIVE once plugged and programmed, and each host holds what the API says', async () => {
    const network = await api.createNetwork({ name: 'red' });
    net = network.id;
    vni = network['provider:segmentation_id']!;
    await api.createSubnet({ network: net, cidr: '192.168.77.0/24' });
    sg = (await api.createSecurityGroup({ name: 'web' })).id;
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 });
    // As Neutron's default group: the group's own members may reach each other (a remote-group rule).
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', remoteGroup: sg });
    p1 = await api.createPort({ network: net, hostId: 'hv1', securityGroups: [sg], deviceOwner: 'compute:nova', deviceId: 'vm-1' });
    p2 = await api.createPort({ network: net, hostId: 'hv2', securityGroups: [sg], deviceOwner: 'compute:nova', deviceId: 'vm-2' });
    expect(p1['binding:vif_type']).to.equal('ovs');
    expect(p1['binding:vif_details']).to.include({ bridge_name: 'br-int', ovs_hybrid_plug: false });
    await hv1.plug('tap1', p1);
    await hv2.plug('tap2', p2);
    await eventually(async () => (await api.getPort(p1.id)).status === 'ACTIVE' && (await api.getPort(p2.id)).status === 'ACTIVE', 'both ports ACTIVE');

    // What each host's topology holds, from the API's own answers.
    const t1 = hv1.store.topology;
    expect(t1.networks.get(net)).to.deep.include({ id: net, vni });
    expect(t1.ports.get(p1.id)).to.deep.include({
      host: 'hv1', network: net, mac: p1.mac_address, fixedIps: p1.fixed_ips.map((f) => f.ip_address), portSecurity: true, securityGroups: [sg],
    });
    await eventually(() => hv1.store.topology.ports.has(remotePortId(net, p2.mac_address)), 'hv1 to learn hv2\'s port from l2pop');
    // Neutron names no host in tunnel_update: a host first seen there is named by its tunnel IP.
    const at2 = [...hv1.store.topology.hosts.values()].find((h) => h.tunnelIp === '10.0.0.2')!;
    expect(hv1.store.topology.ports.get(remotePortId(net, p2.mac_address))).to.deep.include({
      host: at2.name, network: net, mac: p2.mac_address, fixedIps: p2.fixed_ips.map((f) => f.ip_address),
    });
    const rules = hv1.store.topology.securityGroups.get(sg)!.rules;
    expect(rules).to.deep.include({ direction: 'ingress', ethertype: 'IPv4', protocol: 6, portRangeMin: 22, portRangeMax: 22 });
    await eventually(() => hv2.store.topology.ports.has(remotePortId(net, p1.mac_address)), 'hv2 to learn hv1\'s port from l2pop');
    // The group's members on the other host, which l2pop does not tell, come from Neutron's sg_member_ips.
    const ip2 = p2.fixed_ips[0]!.ip_address;
    await eventually(() => (hv1.store.topology.securityGroups.get(sg)!.memberIps ?? []).includes(ip2), 'hv1 to know hv2\'s port as a member of the group');
    expect(hv1.store.topology.membersOf(sg).v4).to.include(ip2);
    for (const hv of [hv1, hv2]) await hv.flowsAreRendered();
    // The port's VLAN tag and its tunnel to the other host are there.
    expect((await hv1.ovs.vsctl('get', 'Port', 'tap1', 'tag')).trim()).to.match(/^[1-9]\d*$/);
    expect((await hv1.ovs.vsctl('list-ports', 'br-tun')).split('\n')).to.include('vxlan-0a000002');
  });

  it('a rule added to a security group reaches the firewall flows of the hosts with its ports', async () => {
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8080, portRangeMax: 8080 });
    for (const hv of [hv1, hv2]) {
      await eventually(() => hv.store.topology.securityGroups.get(sg)!.rules.some((r) => r.portRangeMin === 8080), `${hv.name} to get the rule`);
      await hv.flowsAreRendered();
      expect((await hv.ovs.dumpFlowsSorted('br-int')).some((l) => l.includes('tp_dst=8080'))).to.equal(true);
    }
    // A group's change refreshes the groups only: the ports are not rebuilt (BUILD) and stay ACTIVE.
    await new Promise((r) => setTimeout(r, 1000));
    for (const p of [p1, p2]) expect((await api.getPort(p.id)).status).to.equal('ACTIVE');
  });

  it('deleting a port removes it, and nothing else, on both hosts', async () => {
    const before1 = hv1.store.snapshot();
    const before2 = hv2.store.snapshot();
    await api.deletePort(p2.id);
    const ip2 = p2.fixed_ips[0]!.ip_address;
    await eventually(() => !hv2.store.topology.ports.has(p2.id), 'hv2 to drop the port');
    await eventually(() => !hv1.store.topology.ports.has(remotePortId(net, p2.mac_address)), 'hv1 to drop the port');
    await eventually(() => !(hv1.store.topology.securityGroups.get(sg)!.memberIps ?? []).includes(ip2), 'hv1 to drop its address from the group');
    // The snapshots less the port; on hv1 (whose port is in the group) less its address among the group's members
    // too. hv2 has no port left in the group: it does not ask again, and no flow of its uses the group.
    const gone = (snap: string, id: string, member: boolean): string[] => snap.split('\n').filter((l) => l && !l.includes(`"id":"${id}"`))
      .map((l) => (member ? l.replace(new RegExp(`"${ip2.replaceAll('.', '\\.')}",?`), '').replace(',]', ']').replace(',"memberIps":[]', '') : l)).map(dropRev);
    expect(hv1.store.snapshot().split('\n').filter(Boolean).map(dropRev)).to.deep.equal(gone(before1, remotePortId(net, p2.mac_address), true));
    expect(hv2.store.snapshot().split('\n').filter(Boolean).map(dropRev)).to.deep.equal(gone(before2, p2.id, false));
    for (const hv of [hv1, hv2]) await hv.flowsAreRendered();
    for (const hv of [hv1, hv2]) {
      expect((await hv.ovs.dumpFlowsSorted('br-int')).concat(await hv.ovs.dumpFlowsSorted('br-tun')).filter((l) => l.includes(p2.mac_address)), hv.name).to.deep.equal([]);
    }
  });

  it('unplugging a port makes it DOWN', async () => {
    await hv1.ovs.vsctl('del-port', 'br-int', 'tap1');
    await eventually(async () => (await api.getPort(p1.id)).status === 'DOWN', 'port DOWN');
    await hv1.flowsAreRendered();
  });
});
