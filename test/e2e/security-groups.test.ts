// Security groups on real packets: the two-host bed with Neutron's openvswitch firewall in br-int.
// VM B (the server) is in sg-server: ingress ICMP from the subnet and TCP 22 from anywhere, egress
// only TCP to 5432 — so B's replies to A pass only because conntrack knows their connection. VM A
// (the client) is in sg-client: egress any, ingress TCP 5432 from members of sg-client itself.
// Each case runs under an underlay capture that must show VXLAN frames only. The cases build on each
// other, in order.
import { expect } from 'chai';
import { pipelineOptions } from '../../pipelines/options.js';
import { dumpLineKey, FlowMonitor } from '../../testing/flow-monitor.js';
import { eventually } from '../../testing/wait.js';
import { Bed, captureUnderlay, Host, listenTcp, ping, pings, startBed, tcpConnect, tcpOpen, TcpConnection } from './bed.js';

const SUBNET = '10.251.0.0/24'; // the bed's VM network (bed.ts)
const tcp = (port: number, from = '0.0.0.0/0'): Record<string, unknown> =>
  ({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: port, portRangeMax: port, remoteIpPrefix: from });
const ICMP_FROM_SUBNET = { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteIpPrefix: SUBNET };
const EGRESS_5432 = { direction: 'egress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 5432, portRangeMax: 5432 };
const server = (...rules: Record<string, unknown>[]): string => JSON.stringify({ type: 'securityGroup', id: 'sg-server', rules });
const CLIENT = JSON.stringify({ type: 'securityGroup', id: 'sg-client', rules: [
  { direction: 'egress', ethertype: 'IPv4' },
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 5432, portRangeMax: 5432, remoteGroupId: 'sg-client' },
] });

describe('two hosts, real VXLAN, security groups (openvswitch firewall)', function () {
  this.timeout(120_000);
  let bed: Bed;
  let a: Host;
  let b: Host;
  let open22: TcpConnection | undefined;

  /**
   * Applies a topology line (it must be accepted), waits until both hosts have their flows, then
   * until each datapath has them: a connection's cached datapath flow keeps its old actions until
   * a revalidator round re-translates it, which a loaded machine may start after the barrier.
   */
  const apply = async (line: string): Promise<void> => {
    const r = bed.store.applyLine(line, 'test');
    if (!r.ok) throw new Error(`topology line rejected (${r.error}): ${line}`);
    await bed.ctl.idle();
    await Promise.all(bed.hosts.map((h) => h.box!.appctl('revalidator/wait')));
  };
  /** Runs a case under an underlay capture on A: the wire must carry the tunnel's frames only. */
  const onTheWire = async (body: () => Promise<void>): Promise<void> => {
    const capture = await captureUnderlay(a);
    const frames = await body().then(() => capture.stop(), async (err: unknown) => {
      await capture.stop();
      throw err;
    });
    expect(frames.vxlan).to.be.greaterThan(0);
    expect(frames.other, frames.other.join('\n')).to.deep.equal([]);
  };

  before(async () => {
    bed = await startBed(pipelineOptions({ firewall: 'openvswitch' }), 'sg', {
      topology: [server(ICMP_FROM_SUBNET, tcp(22), EGRESS_5432), CLIENT],
      port: (h) => ({ securityGroups: [h.name === 'ha' ? 'sg-client' : 'sg-server'] }),
    });
    [a, b] = bed.hosts as [Host, Host];
    // Servers on both ports B's group names (80 listens too: its connections must time out, not be refused).
    await listenTcp(b, 22);
    await listenTcp(b, 80);
    await listenTcp(a, 5432);
    // Tunnel endpoints' ARP before any capture.
    await eventually(() => ping(a, b), 'the first ping (tunnel and ARP warm-up)', 15_000, undefined, 200);
  });
  after(async () => {
    await open22?.close();
    await bed?.stop();
  });

  it('ping and TCP 22 pass the tunnel; TCP 80 is dropped (a timeout, not a reset)', async () => {
    await onTheWire(async () => {
      expect(await pings(a, b, 3)).to.equal(3);
      expect(await tcpConnect(a, b, 22)).to.equal('connected');
      expect(await tcpConnect(a, b, 80, 500)).to.equal('timeout');
    });
  });

  it("B's replies pass by conntrack alone: B's group lets it start nothing but TCP to 5432", async () => {
    await onTheWire(async () => {
      // B can start neither a ping nor a TCP connection to A's port 22 (nothing listens there: a
      // passed SYN would be refused) ...
      expect(await pings(b, a, 2)).to.equal(0);
      expect(await tcpConnect(b, a, 22, 500)).to.equal('timeout');
      // ... yet the replies of A's connection to B's port 22 reach A, data both ways.
      open22 = await tcpOpen(a, b, 22);
      expect(open22.outcome).to.equal('connected');
      expect(await open22.exchange()).to.equal('ok');
      expect(await open22.exchange()).to.equal('ok');
    });
  });

  it('a rule for port 80 (the group sent again, one rule more) opens it; the open port-22 connection stays up', async () => {
    await onTheWire(async () => {
      await apply(server(ICMP_FROM_SUBNET, tcp(22), EGRESS_5432, tcp(80)));
      expect(await tcpConnect(a, b, 80)).to.equal('connected');
      expect(await open22!.exchange()).to.equal('ok');
      expect(await pings(a, b, 2)).to.equal(2);
    });
  });

  it('removing the port-22 rule drops new and established port-22 connections (ct_mark=1); port 80 stays open', async () => {
    await onTheWire(async () => {
      await apply(server(ICMP_FROM_SUBNET, EGRESS_5432, tcp(80)));
      expect(await open22!.exchange()).to.equal('timeout');
      expect(await tcpConnect(a, b, 22, 500)).to.equal('timeout');
      expect(await tcpConnect(a, b, 80)).to.equal('connected');
      // The established connection's entry in B's zone carries the mark the firewall set.
      const ct = await b.box!.appctl('dpctl/dump-conntrack', 'zone=1');
      expect(ct.split('\n').filter((l) => l.includes(`dst=${b.vmIp},sport=`) && l.includes('dport=22)')).some((l) => l.includes('mark=1')), ct)
        .to.equal(true);
    });
  });

  it("B's port joining sg-client reaches A's port 5432, and A's br-int gains exactly the member's IP flows", async () => {
    await onTheWire(async () => {
      // B's group lets it send to 5432: A's ingress is what refuses B while B is not a member.
      expect(await tcpConnect(b, a, 5432, 500)).to.equal('timeout');
      const before = await a.box!.dumpFlowsSorted('br-int');
      // The monitor sees every flow-mod, also one that would leave the dump unchanged (a flow rewritten as it was).
      const monitor = await FlowMonitor.start(a.box!, 'br-int');
      try {
        await apply(JSON.stringify({ type: 'port', id: b.portId, network: 'tenant', host: b.name, mac: b.vmMac, fixedIps: [b.vmIp],
          securityGroups: ['sg-server', 'sg-client'] }));
        const after = await a.box!.dumpFlowsSorted('br-int');
        const added = after.filter((l) => !before.includes(l));
        const removed = before.filter((l) => !after.includes(l));
        expect(removed).to.deep.equal([]);
        // One conjunction clause per conntrack state (new, established) for the member's address.
        expect(added).to.have.length(2);
        for (const l of added) expect(l).to.match(new RegExp(`table=82, priority=\\d+,ct_state=[^ ]*,ip,reg6=0x1,nw_src=${b.vmIp.replace(/\./g, '\\.')} actions=conjunction\\(\\d+,1/2\\)$`));
        await eventually(() => monitor.events.length >= 2, "the member's flows on A's monitor");
        await new Promise((r) => setTimeout(r, 300)); // room for a stray event to show
        expect(monitor.events).to.have.deep.members(added.map((l) => ({ event: 'ADDED', key: dumpLineKey(l) })));
        expect(monitor.events).to.have.length(2);
      } finally {
        monitor.stop();
      }
      expect(await tcpConnect(b, a, 5432)).to.equal('connected');
    });
  });
});
