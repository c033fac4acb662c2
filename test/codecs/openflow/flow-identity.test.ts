// Flow identity (flowIdentity) against OVS's own: pairs of flows go into a real ovs-vswitchd 3.1 by
// ovs-ofctl, each pair into its own table, a then b. OVS's verdict is what it holds afterwards: one
// flow (b replaced a: the same flow) or two (different flows). Our key must give the same verdict
// for every pair, and the flows the switch holds, dumped and decoded, must have the keys of the flows
// we parsed (else a reconcile against an unchanged switch would resend them).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlow } from '../../../codecs/ofctl/parse-flow.js';
import { flowIdentity } from '../../../codecs/openflow/flow.js';
import { OfConnection } from '../../../lib/switch/connection.js';
import { dumpFlows } from '../../../lib/switch/flow-ops.js';
import { connectSwitch } from '../../../lib/switch/target.js';
import { OvsSandbox } from '../../../testing/sandbox.js';

/** [a, b, what OVS does with b after a]: the label keeps both kinds of pair in the list. */
const PAIRS: ReadonlyArray<readonly [string, string, 'replaces' | 'adds']> = [
  // Field order, spellings and aliases.
  ['udp,tp_dst=53,in_port=1', 'in_port=1,tp_dst=53,udp', 'replaces'],
  ['dl_type=0x0800,nw_proto=6', 'tcp', 'replaces'],
  ['eth_type=0x0806', 'arp', 'replaces'],
  ['tcp6,tp_src=1', 'ipv6,nw_proto=6,tcp_src=1', 'replaces'],
  ['arp,arp_tpa=10.0.0.1', 'arp,nw_dst=10.0.0.1', 'replaces'],
  ['arp,arp_op=1', 'arp,nw_proto=1', 'replaces'],
  ['icmp,icmp_type=8', 'icmp,tp_src=8', 'replaces'],
  ['ip,nw_tos=4', 'ip,ip_dscp=1', 'replaces'],
  ['dl_vlan=5', 'vlan_tci=0x1005/0x1fff', 'replaces'],
  ['priority=32768,ip', 'ip', 'replaces'],
  // Masks: all ones is exact; bits outside the mask do not count.
  ['ip,nw_src=10.0.0.1', 'ip,nw_src=10.0.0.1/32', 'replaces'],
  ['ip,nw_src=10.0.0.0/8', 'ip,nw_src=10.1.2.3/255.0.0.0', 'replaces'],
  ['reg0=5', 'reg0=0x5/0xffffffff', 'replaces'],
  ['tun_id=0x10', 'tun_id=0x10/0xffffffffffffffff', 'replaces'],
  ['dl_dst=01:00:00:00:00:00/01:00:00:00:00:00', 'dl_dst=01:00:5e:00:00:01/01:00:00:00:00:00', 'replaces'],
  ['ipv6,ipv6_label=5', 'ipv6,ipv6_label=0x5/0xfffff', 'replaces'],
  ['vlan_tci=0x1000/0x1000', 'vlan_tci=0x1005/0x1000', 'replaces'],
  ['icmp6,icmp_type=135,nd_target=::1', 'icmp6,icmpv6_type=135,nd_target=::1/128', 'replaces'],
  ['metadata=0x1/0x1', 'metadata=0x1/0x3', 'adds'],
  ['pkt_mark=0x1/0x1', 'pkt_mark=0x1', 'adds'],
  ['vlan_tci=0x0000/0x1000', 'vlan_tci=0x0000/0x1fff', 'adds'],
  ['vlan_tci=0x1000/0xf000', 'vlan_tci=0x1000/0x1000', 'adds'],
  ['ip,nw_ecn=1,nw_tos=4', 'ip,ip_dscp=1,ip_ecn=1', 'replaces'],
  ['icmp6,icmp_type=135,nd_target=::1', 'icmp6,icmp_type=135,nd_target=::1,icmp_code=0', 'adds'],
  // What OpenFlow 1.3 cannot carry: no PCP bits without a VID (OVS prints what it holds, 0x1fff).
  ['vlan_tci=0x0000/0xffff', 'vlan_tci=0x0000/0x1fff', 'replaces'],
  ['dl_vlan=0xffff', 'vlan_tci=0x0000/0x1fff', 'replaces'],
  // PCP bits alone are not sent at all, but the match said "Ethernet": OVS keeps packet_type.
  ['vlan_tci=0x2000/0xe000', 'packet_type=(0,0)', 'replaces'],
  ['vlan_tci=0x2000/0xe000', 'priority=32768', 'adds'],
  // Prerequisites and packet type: a field without its protocol is dropped, but it said "Ethernet".
  ['ip,packet_type=(0,0)', 'ip', 'replaces'],
  ['tp_dst=80', 'nw_src=10.0.0.1', 'replaces'],
  ['tp_dst=80', 'priority=32768', 'adds'],
  ['packet_type=(0,0)', 'priority=32768', 'adds'],
  ['nw_src=10.0.0.1', 'dl_type=0x0800', 'adds'],
  // Cookie, timeouts and actions are not identity; priority and every field are.
  ['cookie=0x1,priority=7,ip,actions=drop', 'cookie=0x2,priority=7,ip,idle_timeout=60,actions=output:1', 'replaces'],
  ['priority=7,ip', 'priority=8,ip', 'adds'],
  ['ip,nw_src=10.0.0.1', 'ip,nw_dst=10.0.0.1', 'adds'],
  ['tcp,tp_dst=80', 'udp,tp_dst=80', 'adds'],
  ['dl_vlan=5', 'dl_vlan=5,dl_vlan_pcp=0', 'adds'],
  ['in_port=1', 'in_port=2', 'adds'],
  ['ip,nw_ttl=5', 'ip', 'adds'],
  ['tun_src=1.1.1.1', 'tun_dst=1.1.1.1', 'adds'],
];

/** The flow text in table `t` (a default action where none is given). */
const inTable = (t: number, text: string): string => `table=${t},${text}${text.includes('actions=') ? '' : ',actions=drop'}`;

describe('flow identity against OVS: the same flow (replaced on add) or another (both kept)', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let conn: OfConnection;
  /** Flows OVS holds per table, as ovs-ofctl prints them. */
  const held = new Map<number, string[]>();

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0'], dummy: true });
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-identity-'));
    try {
      // One flow-mod per line, in order (no bundle): b meets a already in the table.
      const file = join(dir, 'pairs.flows');
      writeFileSync(file, PAIRS.flatMap(([a, b], i) => [inTable(i + 1, a), inTable(i + 1, b)]).join('\n') + '\n');
      await ovs.ofctl('add-flows', ovs.mgmtTarget('br0'), file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const line of await ovs.dumpFlowsSorted('br0')) {
      const t = Number(/(?:^|\s)table=(\d+),/.exec(line)?.[1] ?? 0);
      held.set(t, [...held.get(t) ?? [], line.trim()]);
    }
    conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br0') });
  });

  after(async () => {
    conn?.close('test done');
    await ovs?.stop();
  });

  it('every pair is one flow for OVS exactly when it is one key for us', () => {
    expect([...held.keys()].sort((x, y) => x - y), 'tables holding flows').to.deep.equal(PAIRS.map((_, i) => i + 1));
    for (const [i, [a, b, label]] of PAIRS.entries()) {
      const ovsSame = held.get(i + 1)!.length === 1;
      expect(ovsSame ? 'replaces' : 'adds', `OVS on ${a} | ${b}: ${held.get(i + 1)!.join(' | ')}`).to.equal(label);
      const oursSame = flowIdentity(parseFlow(inTable(i + 1, a))) === flowIdentity(parseFlow(inTable(i + 1, b)));
      expect(oursSame, `our keys of ${a} | ${b}`).to.equal(ovsSame);
    }
  });

  it('the flows the switch holds, as dumped, have the keys of the flows we parsed', async () => {
    const dumped = await dumpFlows(conn);
    for (const [i, [a, b]] of PAIRS.entries()) {
      const table = i + 1;
      const want = new Set([a, b].map((text) => flowIdentity(parseFlow(inTable(table, text)))));
      const got = new Set(dumped.filter((f) => f.table === table).map(flowIdentity));
      expect(got, `table ${table}: ${a} | ${b}`).to.deep.equal(want);
    }
  });

  it('keys differ by table, and a flow keeps its key whatever object holds it', () => {
    const f = parseFlow('table=3,priority=5,ip,actions=drop');
    expect(flowIdentity(f)).to.not.equal(flowIdentity(parseFlow('table=4,priority=5,ip,actions=drop')));
    expect(flowIdentity({ ...f })).to.equal(flowIdentity(f));
  });
});
