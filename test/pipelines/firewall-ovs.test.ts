// The openvswitch firewall's br-int in a real ovs-vswitchd, as ofproto/trace walks it, for each kind
// of rule and state: accepted (committed, output to the VM port or NORMAL), dropped (table 93 or a
// table's default), a reply or related packet accepted without a rule, invalid dropped, a connection
// marked ct_mark=1 dropped, anti-spoofing (MAC, IP, address-pair CIDR), DHCP, ARP, ND, remote-group
// members and non-members, a port without port security. The conntrack state of each pass after a
// ct() is given with --ct-next; the datapath's port numbers are read from dpif/show.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveHostState } from '../../lib/state/host-state.js';
import { readTopology } from '../../lib/topology/model.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { FIXTURES } from '../../testing/golden-cases.js';
import { OvsSandbox } from '../../testing/sandbox.js';

interface TracedBrInt {
  readonly ovs: OvsSandbox;
  trace(flow: string, ...ct: string[]): Promise<string>;
  /** The datapath port number of an OpenFlow port (they differ, and change between runs). */
  dp(ofport: number): string;
}

/**
 * A sandbox br-int holding the firewall's flows for host `compute` of a topology: patch-tun at ofport 1,
 * VM ports 2-4 as access ports of local VLAN 1 (as Nova and the agent leave them).
 */
async function loadBrInt(topology: string): Promise<TracedBrInt> {
  const ovs = await OvsSandbox.start({ bridges: ['br-int'] });
  try {
    const ports = ['add-port', 'br-int', 'patch-tun', '--', 'set', 'Interface', 'patch-tun', 'type=internal', 'ofport_request=1'];
    for (const p of [2, 3, 4]) {
      ports.push('--', 'add-port', 'br-int', `vm${p}`, 'tag=1', '--', 'set', 'Interface', `vm${p}`, 'type=internal', `ofport_request=${p}`);
    }
    await ovs.vsctl(...ports);
    const state = deriveHostState(readTopology(`${FIXTURES}topologies/${topology}`), 'compute');
    const file = join(ovs.dir, 'br-int.flows');
    writeFileSync(file, renderText(state, 'br-int', pipelineOptions({ firewall: 'openvswitch' })).join('\n'));
    await ovs.ofctl('--bundle', 'add-flows', ovs.mgmtTarget('br-int'), file);
    // "    vm2 2/3: (dummy-internal)": OpenFlow port 2 is datapath port 3.
    const dpif = new Map([...(await ovs.appctl('dpif/show')).matchAll(/^\s+\S+ (\d+)\/(\d+):/gm)].map((m) => [Number(m[1]), m[2]!]));
    return {
      ovs,
      trace: (flow, ...ct) => ovs.appctl('ofproto/trace', 'br-int', flow, ...ct.flatMap((s) => ['--ct-next', s])),
      dp: (ofport) => {
        const n = dpif.get(ofport);
        if (n === undefined) throw new Error(`no datapath port for OpenFlow port ${ofport}`);
        return n;
      },
    };
  } catch (err) {
    await ovs.stop();
    throw err;
  }
}

/** The last table a trace went through and its last datapath actions (after the last recirculation). */
function outcome(trace: string): { table: number; actions: string } {
  const tables = [...trace.matchAll(/^\s*(\d+)\. /gm)];
  const actions = [...trace.matchAll(/^Datapath actions: (.*)$/gm)];
  if (!tables.length || !actions.length) throw new Error(`not a trace: ${trace}`);
  return { table: Number(tables.at(-1)![1]), actions: actions.at(-1)![1]! };
}

/**
 * The datapath ports a list of datapath actions outputs to, each as `PORT` or `PORT vlan N` (pushed
 * before it). NORMAL's flood lists its ports in no fixed order, so tests look ports up here.
 */
function outputs(actions: string): string[] {
  const out: string[] = [];
  let vlan: string | undefined;
  let depth = 0;
  let token = '';
  for (const ch of `${actions},`) {
    if (ch === ',' && depth === 0) {
      const push = /^push_vlan\(vid=(\d+)/.exec(token);
      if (push) vlan = push[1];
      else if (token === 'pop_vlan') vlan = undefined;
      else if (/^\d+$/.test(token)) out.push(vlan === undefined ? token : `${token} vlan ${vlan}`);
      token = '';
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    token += ch;
  }
  return out;
}

describe('openvswitch firewall in a real ovs-vswitchd (ofproto/trace): sg-small', function () {
  this.timeout(120_000);
  let br: TracedBrInt;
  // sg-small: ports 2 (10.0.0.5) and 3 (10.0.0.6) on VLAN 1; egress any; ingress TCP 22 from anywhere, ICMP from 10.0.0.0/24.
  const VM = 'dl_src=fa:16:3e:83:95:fa,dl_dst=fa:16:3e:52:7a:f2';
  const LLA = 'fe80::f816:3eff:fe83:95fa';
  before(async () => {
    br = await loadBrInt('neutron-sg-small.jsonl');
  });
  after(async () => {
    await br?.ovs.stop();
  });

  it("ARP from a VM's own address goes on to NORMAL; claiming another address is dropped", async () => {
    const own = await br.trace(`in_port=2,${VM},arp,arp_op=1,arp_spa=10.0.0.5,arp_tpa=10.0.0.3`);
    expect(own).to.match(/71\. arp,reg5=0x2,in_port=2,dl_src=fa:16:3e:83:95:fa,arp_spa=10\.0\.0\.5, priority 95/);
    expect(own).to.match(/94\. priority 1[^\n]*\n\s+NORMAL/);
    const spoofed = await br.trace(`in_port=2,${VM},arp,arp_op=1,arp_spa=10.0.0.6,arp_tpa=10.0.0.3`);
    expect(spoofed).to.match(/71\. reg5=0x2,in_port=2, priority 10[^\n]*\n\s+ct_clear\n\s+resubmit\(,93\)/);
    expect(outcome(spoofed)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it('ARP to a VM is output to its port without conntrack', async () => {
    const out = await br.trace('arp,in_port=1,dl_vlan=1,dl_src=fa:16:3e:52:7a:f2,dl_dst=fa:16:3e:83:95:fa,arp_op=1,arp_spa=10.0.0.3,arp_tpa=10.0.0.5');
    expect(out).to.match(/81\. arp,reg5=0x2, priority 100[^\n]*\n\s+output:2/);
    expect(outcome(out)).to.deep.equal({ table: 81, actions: `pop_vlan,${br.dp(2)}` });
  });

  it('a DHCP server on a VM is dropped; its DHCP client (from 0.0.0.0) goes to NORMAL without conntrack', async () => {
    const server = await br.trace(`udp,in_port=2,${VM},nw_src=10.0.0.5,nw_dst=10.0.0.3,udp_src=67,udp_dst=68`);
    expect(server).to.match(/71\. udp,reg5=0x2,in_port=2,tp_src=67,tp_dst=68, priority 70/);
    expect(outcome(server)).to.deep.equal({ table: 93, actions: 'drop' });
    const client = await br.trace('udp,in_port=2,dl_src=fa:16:3e:83:95:fa,dl_dst=ff:ff:ff:ff:ff:ff,nw_src=0.0.0.0,nw_dst=255.255.255.255,udp_src=68,udp_dst=67');
    expect(client).to.match(/71\. udp,reg5=0x2,in_port=2,dl_src=fa:16:3e:83:95:fa,nw_src=0\.0\.0\.0,tp_src=68,tp_dst=67, priority 80/);
    expect(client).to.match(/73\. reg5=0x2, priority 80/);
    expect(client).not.to.match(/ct\(/);
    expect(outcome(client).table).to.equal(94);
    expect(outputs(outcome(client).actions)).to.include(`${br.dp(1)} vlan 1`); // flooded, to the tunnel too
  });

  it('ND: a neighbour solicitation from the link-local address passes; a router advertisement or a spoofed source is dropped; NS to the VM is output', async () => {
    const ns = `icmp6,in_port=2,dl_src=fa:16:3e:83:95:fa,dl_dst=33:33:ff:00:00:01,ipv6_dst=ff02::1:ff00:1,icmpv6_type=135,nd_target=fe80::1`;
    const own = await br.trace(`${ns},ipv6_src=${LLA}`);
    expect(own).to.match(/71\. icmp6,reg5=0x2,in_port=2,dl_src=fa:16:3e:83:95:fa,ipv6_src=fe80::f816:3eff:fe83:95fa,icmp_type=135, priority 95/);
    expect(outcome(own).table).to.equal(94);
    expect(outcome(await br.trace(`${ns},ipv6_src=fe80::99`))).to.deep.equal({ table: 93, actions: 'drop' });
    const ra = await br.trace(`icmp6,in_port=2,dl_src=fa:16:3e:83:95:fa,dl_dst=33:33:00:00:00:01,ipv6_src=${LLA},ipv6_dst=ff02::1,icmpv6_type=134`);
    expect(ra).to.match(/71\. icmp6,reg5=0x2,in_port=2,icmp_type=134, priority 70/);
    expect(outcome(ra)).to.deep.equal({ table: 93, actions: 'drop' });
    const toVm = await br.trace(`icmp6,in_port=1,dl_vlan=1,dl_src=fa:16:3e:52:7a:f2,dl_dst=fa:16:3e:83:95:fa,ipv6_src=fe80::1,ipv6_dst=${LLA},icmpv6_type=135,nd_target=${LLA}`);
    expect(outcome(toVm)).to.deep.equal({ table: 81, actions: `pop_vlan,${br.dp(2)}` });
  });

  it('egress: a new connection from the own MAC and IP is committed and goes to NORMAL; another MAC or IP is dropped', async () => {
    const out = await br.trace(`tcp,in_port=2,${VM},nw_src=10.0.0.5,nw_dst=10.0.0.3,tp_src=40000,tp_dst=443`, 'trk,new');
    expect(out).to.match(/71\. ip,reg5=0x2,in_port=2,dl_src=fa:16:3e:83:95:fa,nw_src=10\.0\.0\.5, priority 65[^\n]*\n\s+ct\(table=72,zone=NXM_NX_REG6\[0\.\.15\]\)/);
    expect(out).to.match(/73\. ct_state=\+new-est,ip,reg5=0x2, priority 90[^\n]*\n\s+ct\(commit,zone=NXM_NX_REG6\[0\.\.15\]\)/);
    expect(outcome(out).table).to.equal(94);
    expect(outcome(out).actions).to.match(/^ct\(commit,zone=1\),/);
    expect(outputs(outcome(out).actions)).to.include(`${br.dp(1)} vlan 1`);
    const otherMac = await br.trace('tcp,in_port=2,dl_src=fa:16:3e:83:95:99,dl_dst=fa:16:3e:52:7a:f2,nw_src=10.0.0.5,nw_dst=10.0.0.3', 'trk,new');
    expect(outcome(otherMac)).to.deep.equal({ table: 93, actions: 'drop' });
    const otherIp = await br.trace(`tcp,in_port=2,${VM},nw_src=10.0.0.99,nw_dst=10.0.0.3`, 'trk,new');
    expect(outcome(otherIp)).to.deep.equal({ table: 93, actions: 'drop' });
    expect(otherIp).not.to.match(/ct\(/);
  });

  const fromTunnel = 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:52:7a:f2,dl_dst=fa:16:3e:83:95:fa';
  const tcpIn = `${fromTunnel},tcp,nw_src=10.0.0.3,nw_dst=10.0.0.5`;

  it('a new TCP connection to port 22 is committed in the zone of its VLAN and output to the VM; its next packets pass without a commit', async () => {
    const out = await br.trace(`${tcpIn},tp_src=40000,tp_dst=22`, 'trk,new');
    expect(out).to.match(/60\. dl_vlan=1,dl_dst=fa:16:3e:83:95:fa, priority 90[^\n]*\n\s+set_field:0x2->reg5\n\s+set_field:0x1->reg6\n\s+pop_vlan/);
    expect(out).to.match(/81\. ct_state=-trk,ip,reg5=0x2, priority 90[^\n]*\n\s+ct\(table=82,zone=NXM_NX_REG6\[0\.\.15\]\)/);
    expect(out).to.match(/82\. ct_state=\+new-est,tcp,reg5=0x2,tp_dst=22, priority 77[^\n]*\n\s+ct\(commit,zone=NXM_NX_REG6\[0\.\.15\]\)/);
    expect(outcome(out)).to.deep.equal({ table: 92, actions: `ct(commit,zone=1),${br.dp(2)}` });
    const est = await br.trace(`${tcpIn},tp_src=40000,tp_dst=22`, 'trk,est');
    expect(est).to.match(/82\. ct_state=\+est-rel-rpl,tcp,reg5=0x2,tp_dst=22, priority 77/);
    expect(outcome(est)).to.deep.equal({ table: 82, actions: br.dp(2) });
  });

  it('ICMP from the rule\'s prefix is accepted, from outside it dropped', async () => {
    const inside = await br.trace(`${fromTunnel},icmp,nw_src=10.0.0.3,nw_dst=10.0.0.5,icmp_type=8`, 'trk,new');
    expect(inside).to.match(/82\. ct_state=\+new-est,icmp,reg5=0x2,nw_src=10\.0\.0\.0\/24, priority 75/);
    expect(outcome(inside).actions).to.equal(`ct(commit,zone=1),${br.dp(2)}`);
    const outside = await br.trace(`${fromTunnel},icmp,nw_src=192.168.0.3,nw_dst=10.0.0.5,icmp_type=8`, 'trk,new');
    expect(outcome(outside)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it('a new TCP connection to port 80 matches no rule and is dropped', async () => {
    const out = await br.trace(`${tcpIn},tp_src=40000,tp_dst=80`, 'trk,new');
    expect(out).to.match(/82\. ct_state=-est,reg5=0x2, priority 40[^\n]*\n\s+resubmit\(,93\)/);
    expect(out).not.to.match(/ct\(commit,zone=1\)/);
    expect(outcome(out)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it('the reply of a connection passes without a rule for it; related traffic too', async () => {
    const reply = await br.trace(`${tcpIn},tp_src=80,tp_dst=40000`, 'trk,est,rpl');
    expect(reply).to.match(/82\. ct_state=\+est-rel\+rpl,ct_zone=1,ct_mark=0,reg5=0x2, priority 50/);
    expect(outcome(reply)).to.deep.equal({ table: 82, actions: br.dp(2) });
    const related = await br.trace(`${fromTunnel},icmp,nw_src=192.168.0.3,nw_dst=10.0.0.5,icmp_type=3,icmp_code=3`, 'trk,rel');
    expect(related).to.match(/82\. ct_state=-new-est\+rel-inv,ct_zone=1,ct_mark=0,reg5=0x2, priority 50/);
    expect(outcome(related)).to.deep.equal({ table: 82, actions: br.dp(2) });
  });

  it('an invalid packet is dropped', async () => {
    const out = await br.trace(`${tcpIn},tp_src=40000,tp_dst=22`, 'trk,inv');
    expect(out).to.match(/82\. ct_state=\+inv\+trk, priority 50/);
    expect(outcome(out)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it('an established connection no rule allows is marked ct_mark=1 and dropped; a marked reply is dropped', async () => {
    const unruled = await br.trace(`${tcpIn},tp_src=40000,tp_dst=80`, 'trk,est');
    expect(unruled).to.match(/82\. ct_state=\+est,ip,reg5=0x2, priority 40[^\n]*\n\s+ct\(commit,zone=NXM_NX_REG6\[0\.\.15\],exec\(set_field:0x1->ct_mark\)\)/);
    expect(outcome(unruled).actions).to.equal('ct(commit,zone=1,mark=0x1/0xffffffff)'); // committed, output nowhere
    const marked = await br.trace(`${tcpIn},tp_src=80,tp_dst=40000,ct_mark=1`, 'trk,est,rpl');
    expect(marked).to.match(/82\. ct_mark=0x1,reg5=0x2, priority 50/);
    expect(outcome(marked)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it('between two local ports: egress committed in the sender\'s pass, ingress rules applied in the receiver\'s', async () => {
    const out = await br.trace('tcp,in_port=2,dl_src=fa:16:3e:83:95:fa,dl_dst=fa:16:3e:83:95:fb,nw_src=10.0.0.5,nw_dst=10.0.0.6,tp_src=40000,tp_dst=22', 'trk,new');
    expect(out).to.match(/73\. reg6=0x1,dl_dst=fa:16:3e:83:95:fb, priority 100[^\n]*\n\s+set_field:0x3->reg5\n\s+resubmit\(,81\)/);
    expect(out).to.match(/82\. ct_state=\+new-est,tcp,reg5=0x3,tp_dst=22, priority 77/);
    expect(outcome(out).actions).to.equal(`ct(commit,zone=1),${br.dp(3)}`);
    const blocked = await br.trace('tcp,in_port=2,dl_src=fa:16:3e:83:95:fa,dl_dst=fa:16:3e:83:95:fb,nw_src=10.0.0.5,nw_dst=10.0.0.6,tp_src=40000,tp_dst=80', 'trk,new');
    expect(outcome(blocked)).to.deep.equal({ table: 93, actions: 'drop' });
  });
});

describe('openvswitch firewall in a real ovs-vswitchd (ofproto/trace): sg-remote-group', function () {
  this.timeout(120_000);
  let br: TracedBrInt;
  // Port 2 (10.0.0.5) in sg-a, port 3 (10.0.0.6 + 10.0.0.128/25) in sg-b, port 4 (10.0.0.7) without port
  // security; the remote 10.0.0.3 is in sg-a. Both groups allow TCP 80 from members of sg-a and sg-b.
  const fromTunnel = 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:52:7a:f2,dl_dst=fa:16:3e:83:95:fa';
  before(async () => {
    br = await loadBrInt('neutron-sg-remote-group.jsonl');
  });
  after(async () => {
    await br?.ovs.stop();
  });

  it('a remote member (10.0.0.3) reaches port 80 through the conjunction; a non-member is dropped; a member on another port is dropped', async () => {
    const member = await br.trace(`tcp,${fromTunnel},nw_src=10.0.0.3,nw_dst=10.0.0.5,tp_src=40000,tp_dst=80`, 'trk,new');
    expect(member).to.match(/82\. conj_id=\d+,ct_state=\+new-est,ip,reg5=0x2, priority 73/);
    expect(outcome(member)).to.deep.equal({ table: 92, actions: `ct(commit,zone=1),${br.dp(2)}` });
    const stranger = await br.trace(`tcp,${fromTunnel},nw_src=10.0.0.9,nw_dst=10.0.0.5,tp_src=40000,tp_dst=80`, 'trk,new');
    expect(outcome(stranger)).to.deep.equal({ table: 93, actions: 'drop' });
    const port22 = await br.trace(`tcp,${fromTunnel},nw_src=10.0.0.3,nw_dst=10.0.0.5,tp_src=40000,tp_dst=22`, 'trk,new');
    expect(outcome(port22)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it("a member's address-pair CIDR counts as the member's address", async () => {
    const out = await br.trace(`tcp,${fromTunnel},nw_src=10.0.0.200,nw_dst=10.0.0.5,tp_src=40000,tp_dst=80`, 'trk,new');
    expect(out).to.match(/82\. conj_id=\d+,ct_state=\+new-est,ip,reg5=0x2, priority 73/);
    expect(outcome(out).actions).to.equal(`ct(commit,zone=1),${br.dp(2)}`);
  });

  it('anti-spoofing lets a source inside the address-pair CIDR out (IP and ARP), and drops one outside', async () => {
    const vmB = 'in_port=3,dl_src=fa:16:3e:83:95:fb,dl_dst=fa:16:3e:52:7a:f2';
    const inside = await br.trace(`tcp,${vmB},nw_src=10.0.0.200,nw_dst=10.0.0.3,tp_src=40000,tp_dst=22`, 'trk,new');
    expect(inside).to.match(/71\. ip,reg5=0x3,in_port=3,dl_src=fa:16:3e:83:95:fb,nw_src=10\.0\.0\.128\/25, priority 65/);
    expect(outcome(inside).table).to.equal(94);
    expect(outcome(inside).actions).to.match(/^ct\(commit,zone=1\),/);
    const arp = await br.trace('arp,in_port=3,dl_src=fa:16:3e:83:95:fb,dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=10.0.0.200,arp_tpa=10.0.0.3');
    expect(arp).to.match(/71\. arp,reg5=0x3,in_port=3,dl_src=fa:16:3e:83:95:fb,arp_spa=10\.0\.0\.128\/25, priority 95/);
    expect(outcome(arp).table).to.equal(94);
    const outside = await br.trace(`tcp,${vmB},nw_src=10.0.0.9,nw_dst=10.0.0.3,tp_src=40000,tp_dst=22`, 'trk,new');
    expect(outcome(outside)).to.deep.equal({ table: 93, actions: 'drop' });
  });

  it('a port without port security passes both ways with no conntrack', async () => {
    const out = await br.trace('tcp,in_port=4,dl_src=fa:16:3e:83:95:fc,dl_dst=fa:16:3e:52:7a:f2,nw_src=1.2.3.4,nw_dst=10.0.0.3,tp_src=40000,tp_dst=9999');
    expect(out).to.match(/60\. in_port=4, priority 100[^\n]*\n\s+set_field:0x4->reg5\n\s+set_field:0x1->reg6\n\s+resubmit\(,73\)/);
    expect(out).to.match(/73\. reg5=0x4, priority 80[^\n]*\n\s+resubmit\(,94\)/);
    expect(out).not.to.match(/ct\(/);
    expect(outputs(outcome(out).actions)).to.include(`${br.dp(1)} vlan 1`);
    const toIt = await br.trace('tcp,in_port=1,dl_vlan=1,dl_src=fa:16:3e:52:7a:f2,dl_dst=fa:16:3e:83:95:fc,nw_src=10.0.0.3,nw_dst=10.0.0.7,tp_src=40000,tp_dst=9999');
    expect(toIt).to.match(/60\. priority 3[^\n]*\n\s+NORMAL/);
    expect(toIt).not.to.match(/ct\(/);
    // NORMAL has not learned the MAC: it floods the VLAN's access ports, port 4 among them.
    expect(outputs(outcome(toIt).actions)).to.include(br.dp(4));
  });
});
