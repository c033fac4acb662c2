// Issue 17's "the two-host namespace ping works with the VMs created this way": Debian's real
// neutron-server and RabbitMQ, the two-host bed (bed.ts: two ovs-vswitchd in namespaces, a real
// underlay, VMs as namespaces), and on each host an `ofctl-ts controller --neutron-rpc` child
// process in neutron-openvswitch-agent's place, as an operator runs it (its own hosts file, broker
// credentials from a file, --firewall openvswitch). Everything is made through Neutron's REST API
// only: network, subnet, a security group (ICMP from its own members, Neutron's default egress),
// ports bound to the two hosts; each VM takes the MAC and fixed IP Neutron allocated and is plugged
// into br-int as os-vif does. Checked on real packets: both ports ACTIVE, the VMs ping each other
// through the VXLAN tunnel (the underlay carries VXLAN frames only), a TCP port no rule opens is
// dropped until a rule added through the API opens it, and deleting a port through the API stops
// the ping again. The cases build on each other, in order.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerProcess } from '../../testing/controller-process.js';
import { NeutronApi, Port } from '../../testing/neutron-api.js';
import { NeutronServer } from '../../testing/neutron-server.js';
import { RabbitMq } from '../../testing/rabbitmq.js';
import { eventually } from '../../testing/wait.js';
import {
  addressVm, controllerSocket, Host, Hosts, listenTcp, pings, pingsOverVxlanOnly, plugVm, startHosts, tcpConnect,
} from './bed.js';

const CIDR = '192.168.77.0/24';
const TCP_PORT = 8080;

describe('two hosts under a real neutron-server: VMs made through the REST API ping across VXLAN (issue 17)', function () {
  this.timeout(300_000);
  let rabbit: RabbitMq | undefined;
  let server: NeutronServer | undefined;
  let bed: Hosts | undefined;
  let dir: string | undefined;
  const controllers: ControllerProcess[] = [];
  let api: NeutronApi;
  let sg: string;
  /** The bed's hosts with the VM identities Neutron gave (port id, MAC, fixed IP). */
  let a: Host;
  let b: Host;
  let portB: Port;
  /** Throws when a controller has exited: passed as eventually()'s check. */
  const alive = async (): Promise<void> => {
    for (const c of controllers) await c.alive();
  };

  before(async () => {
    // The broker, Neutron's empty database and the two hosts need nothing of each other.
    const [r, , hosts] = await Promise.all([RabbitMq.start(), NeutronServer.prepare(), startHosts('np')]);
    rabbit = r;
    bed = hosts;
    server = await NeutronServer.start({ amqpUrl: r.url });
    api = new NeutronApi(server.url);
    dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-neutron-ping-'));
    const credentials = join(dir, 'rabbit.credentials');
    writeFileSync(credentials, 'guest:guest\n', { mode: 0o600 });
    // One controller per hypervisor, as neutron-openvswitch-agent runs: its hosts file names its host only.
    for (const h of hosts.hosts) {
      const file = join(dir, `${h.name}.hosts`);
      writeFileSync(file, `${JSON.stringify({ type: 'host', name: h.name, tunnelIp: h.underlayIp, ovsdb: `unix:${h.box!.dbSock}` })}\n`);
      controllers.push(ControllerProcess.start([
        '--listen', `unix:${controllerSocket(h)}`, '--neutron-rpc', `amqp://127.0.0.1:${r.port}/`, '--neutron-hosts', file,
        '--neutron-rpc-credentials', credentials, '--report-interval', '5', '--firewall', 'openvswitch', '--arp-responder',
        '--datapath-type', 'netdev', '--controller-id', `neutron-ping-${h.name}`,
      ]));
    }
    await eventually(async () => (await api.listAgents()).filter((x) => x.alive && x.agent_type === 'Open vSwitch agent').length === 2,
      'both hosts to register as alive Open vSwitch agents', 60_000, alive, 250);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const c of controllers) console.error(`--- controller ${c.pid} (last lines) ---\n${c.log.trimEnd().split('\n').slice(-30).join('\n')}`);
    if (server) console.error(`--- neutron-server.log (tail) ---\n${server.logTail(30)}`);
  });

  after(async () => {
    for (const c of controllers) await c.kill('SIGTERM');
    await server?.stop();
    await rabbit?.stop();
    await bed?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ports bound through the API go ACTIVE once plugged, and their VMs ping each other through the tunnel', async () => {
    const net = (await api.createNetwork({ name: 'ping' })).id;
    await api.createSubnet({ network: net, cidr: CIDR, enableDhcp: false });
    const group = await api.createSecurityGroup({ name: 'ping' });
    sg = group.id;
    // Neutron gives a new group its egress rules (any protocol, IPv4 and IPv6); ingress is ours to add.
    expect(group.security_group_rules.filter((x) => x.direction === 'egress' && x.ethertype === 'IPv4' && x.protocol === null)).to.have.length(1);
    expect(group.security_group_rules.filter((x) => x.direction === 'ingress')).to.deep.equal([]);
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteGroup: sg });
    const [hostA, hostB] = bed!.hosts as [Host, Host];
    const vm = async (h: Host): Promise<[Host, Port]> => {
      const p = await api.createPort({ network: net, hostId: h.name, securityGroups: [sg], deviceOwner: 'compute:nova', deviceId: `vm-${h.name}` });
      expect(p['binding:vif_type'], `${h.name}'s port binding`).to.equal('ovs');
      expect(p.fixed_ips).to.have.length(1);
      // The bed's VM as Nova would boot it: Neutron's MAC and address (the bed's own are not used).
      return [{ ...h, portId: p.id, vmMac: p.mac_address, vmIp: p.fixed_ips[0]!.ip_address }, p];
    };
    // One after the other: concurrent writes are what sqlite refuses most.
    const [vmA, portA] = await vm(hostA);
    const [vmB, pB] = await vm(hostB);
    [a, b, portB] = [vmA, vmB, pB];
    for (const h of [a, b]) {
      await addressVm(h, Number(CIDR.split('/')[1]));
      await plugVm(h);
    }
    await eventually(async () => (await api.getPort(portA.id)).status === 'ACTIVE' && (await api.getPort(portB.id)).status === 'ACTIVE',
      'both ports ACTIVE', 60_000, alive, 250);
    await pingsOverVxlanOnly(a, b, alive);
  });

  it('TCP to a port no rule opens is dropped; a rule added through the API opens it', async () => {
    await listenTcp(b, TCP_PORT);
    // A drop (the firewall), not a reset: the listener is there.
    expect(await tcpConnect(a, b, TCP_PORT, 500)).to.equal('timeout');
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: TCP_PORT, portRangeMax: TCP_PORT });
    await eventually(async () => (await tcpConnect(a, b, TCP_PORT, 500)) === 'connected', `TCP ${TCP_PORT} to pass after the rule`, 30_000, undefined, 100);
    // Ping is unaffected by the new rule, and the ports stay ACTIVE (a group's change is no reason to rebuild them).
    expect(await pings(a, b, 2)).to.equal(2);
    for (const id of [a.portId, portB.id]) expect((await api.getPort(id)).status, id).to.equal('ACTIVE');
  });

  it("deleting B's port through the API stops the ping both ways and parks B's tap on the dead VLAN", async () => {
    expect(await pings(a, b, 2)).to.equal(2);
    await api.deletePort(portB.id);
    await eventually(async () => (await b.box!.vsctl('get', 'Port', b.tap, 'tag')).trim() === '4095', "B's tap to be parked on the dead VLAN", 30_000);
    expect(await pings(a, b, 3)).to.equal(0);
    expect(await pings(b, a, 3)).to.equal(0);
    // A's own port is untouched: still on its network's VLAN.
    expect((await a.box!.vsctl('get', 'Port', a.tap, 'tag')).trim()).to.match(/^[1-9]\d*$/);
    expect((await api.getPort(a.portId)).status).to.equal('ACTIVE');
  });

  it('the controllers logged no error', () => {
    for (const c of controllers) {
      const errors = c.lines.filter((l) => typeof l.level === 'number' && l.level >= 50);
      expect(errors.map((l) => JSON.stringify(l)), `controller ${c.pid}`).to.deep.equal([]);
    }
  });
});
