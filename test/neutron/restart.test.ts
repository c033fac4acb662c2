// ofctl-ts under a real neutron-server when things restart (issue 17 point 3), counted with
// `ovs-ofctl monitor` on both bridges of both hosts: a restarted controller finds its host as it
// left it and sends nothing; RabbitMQ restarted while ports are being made: both agents reconnect
// and resync, no flow that was right before and after is removed, and the ports made meanwhile go
// ACTIVE.
import { expect } from 'chai';
import { dumpLineKey, FlowMonitor } from '../../testing/flow-monitor.js';
import { NeutronApi, Port } from '../../testing/neutron-api.js';
import { Hypervisor } from '../../testing/neutron-hv.js';
import { NeutronServer } from '../../testing/neutron-server.js';
import { RabbitMq } from '../../testing/rabbitmq.js';
import { eventually } from '../../testing/wait.js';

describe('ofctl-ts under Neutron: a restarted controller, a restarted RabbitMQ (issue 17)', function () {
  this.timeout(300_000);
  let rabbit: RabbitMq;
  let server: NeutronServer;
  let api: NeutronApi;
  let hvs: Hypervisor[] = [];
  let net: string;
  let sg: string;
  let taps = 0;

  /** Every VM port made so far. */
  const vms: Port[] = [];
  /** A VM port on a host: made through the API, plugged as Nova does. */
  const vm = async (hv: Hypervisor): Promise<Port> => {
    const p = await api.createPort({ network: net, hostId: hv.name, securityGroups: [sg], deviceOwner: 'compute:nova', deviceId: `vm-${taps}` });
    await hv.plug(`tap${taps++}`, p);
    vms.push(p);
    return p;
  };
  const active = (ports: readonly Port[], what: string): Promise<void> =>
    eventually(async () => (await Promise.all(ports.map((p) => api.getPort(p.id)))).every((p) => p.status === 'ACTIVE'), what, 60_000);
  /** Each bridge's flows as monitor keys. */
  const keys = async (): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const hv of hvs) for (const b of ['br-int', 'br-tun']) for (const l of await hv.ovs.dumpFlowsSorted(b)) out.add(`${hv.name} ${b} ${dumpLineKey(l)}`);
    return out;
  };
  const monitor = async (): Promise<Array<{ readonly where: string; readonly m: FlowMonitor }>> => {
    const out = [];
    for (const hv of hvs) for (const b of ['br-int', 'br-tun']) out.push({ where: `${hv.name} ${b}`, m: await FlowMonitor.start(hv.ovs, b) });
    return out;
  };

  before(async () => {
    rabbit = await RabbitMq.start();
    server = await NeutronServer.start({ amqpUrl: rabbit.url });
    api = new NeutronApi(server.url);
    hvs = [await Hypervisor.start('hv1', '10.0.0.1', rabbit.url), await Hypervisor.start('hv2', '10.0.0.2', rabbit.url)];
    net = (await api.createNetwork({ name: 'red' })).id;
    await api.createSubnet({ network: net, cidr: '192.168.78.0/24' });
    sg = (await api.createSecurityGroup({ name: 'web' })).id;
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 });
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', remoteGroup: sg });
    const ports = [await vm(hvs[0]!), await vm(hvs[1]!)];
    await active(ports, 'the first two ports ACTIVE');
    for (const hv of hvs) await hv.flowsAreRendered();
  });
  after(async () => {
    for (const hv of hvs) await hv.stop();
    await server?.stop();
    await rabbit?.stop();
  });

  it('a restarted controller waits for Neutron, then finds its host as it left it: no flow-mod, the port stays ACTIVE', async () => {
    const [hv1] = hvs as [Hypervisor];
    const before = await hv1.ovs.dumpFlowsSorted('br-int');
    const monitors = await monitor();
    await hv1.stopController();
    await hv1.startController();
    await eventually(() => hv1.source.agent.ready('hv1'), 'hv1\'s first sync');
    await hv1.flowsAreRendered();
    expect(await hv1.ovs.dumpFlowsSorted('br-int')).to.deep.equal(before);
    for (const { where, m } of monitors) {
      expect(m.events, where).to.deep.equal([]);
      m.stop();
    }
    expect(hv1.ctl.status().hosts[0]!.bridges['br-int']!.lastReconcile?.flowMods ?? 0).to.equal(0);
  });

  it('a port plugged while the controller was down is reported up only once its flows are in; the ports it had stay ACTIVE', async () => {
    const [hv1] = hvs as [Hypervisor];
    await hv1.stopController();
    const gap = await vm(hv1);
    // ovs-vswitchd held (SIGSTOP) from before the controller starts: nothing can program the new port.
    const vswitchd = hv1.ovs.vswitchdPid();
    process.kill(vswitchd, 'SIGSTOP');
    try {
      await hv1.startController(false);
      await eventually(() => hv1.source.agent.ready('hv1'), 'hv1\'s first sync');
      // The first sync has reported what it reports: the port it programmed before is up, the new one is not.
      const had = vms.filter((p) => p['binding:host_id'] === 'hv1' && p.id !== gap.id);
      expect(had.length).to.be.greaterThan(0);
      for (const p of had) expect((await api.getPort(p.id)).status, p.id).to.equal('ACTIVE');
      expect((await api.getPort(gap.id)).status).to.not.equal('ACTIVE');
      await new Promise((r) => setTimeout(r, 1000));
      expect((await api.getPort(gap.id)).status).to.not.equal('ACTIVE');
    } finally {
      process.kill(vswitchd, 'SIGCONT');
    }
    await active([gap], 'the port plugged in the gap ACTIVE once programmed');
    await hv1.flowsAreRendered();
  });

  /**
   * Ports made while `outage` runs (Nova does not wait for RabbitMQ) or after it: afterwards they are ACTIVE, both hosts
   * know the other's, the flows are the rendered ones, and no flow right before and after was
   * removed in between (ovs-ofctl monitor).
   */
  const throughOutage = async (outage: () => Promise<void>, during: boolean): Promise<void> => {
    const before = await keys();
    const monitors = await monitor();
    const made: Port[] = [];
    const make = async (): Promise<void> => {
      for (let i = 0; i < 4; i++) made.push(await vm(hvs[i % 2]!));
    };
    const making = during ? make() : Promise.resolve();
    await outage();
    await making;
    if (!during) await make();
    await active(made, 'the ports made during the restart ACTIVE');
    for (const hv of hvs) {
      await eventually(() => made.filter((p) => p['binding:host_id'] !== hv.name).every((p) => [...hv.store.topology.ports.values()].some((q) => q.mac === p.mac_address)), `${hv.name} to learn the other host's new ports`);
      await hv.flowsAreRendered();
    }
    const after = await keys();
    const removed = monitors.flatMap(({ where, m }) => m.events.filter((e) => e.event === 'DELETED').map((e) => `${where} ${e.key}`));
    for (const { m } of monitors) m.stop();
    // A flow there before and after that went away in between is a right flow removed.
    expect(removed.filter((k) => before.has(k) && after.has(k))).to.deep.equal([]);
  };

  it('RabbitMQ killed (SIGKILL) and restarted while ports are made: both agents reconnect and resync, no right flow is removed, the new ports go ACTIVE', async () => {
    await throughOutage(() => rabbit.restart(2000, 'kill'), true);
    for (const hv of hvs) expect(hv.source.agent.status()[0]!.ready).to.equal(true);
  });

  it('neutron-server killed and restarted: the agents carry on, no right flow is removed, ports made after it go ACTIVE', async () => {
    // Made after: the API is the server's, and Nova waits for it.
    await throughOutage(() => server.restart('SIGKILL', 2000), false);
    await eventually(async () => (await api.listAgents()).filter((a) => a.alive).length === 2, 'both agents alive after the server\'s restart');
  });
});
