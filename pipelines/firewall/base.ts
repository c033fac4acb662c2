// The OVS firewall's flows that follow from a port alone, not from its rules: Neutron's
// firewall.py `initialize_port_flows`, `_initialize_tracked_egress/ingress` and
// `_initialize_egress_no_port_security`, and the tables' fixed flows (`_initialize_firewall`,
// `_initialize_third_party_tables`), as Neutron 21's agent installs them (fixtures/neutron-examples/sg-*).
import type { LocalPort } from '../../lib/state/host-state.js';
import { BR_INT as T } from '../br-int-tables.js';
// A function declaration: safe across br-int.ts's import of this module.
import { linkLocalOf } from '../br-int.js';
import { memo, memoOf, memoPer } from '../memo.js';
import type { FlowSpec, PipelineFlow } from '../table.js';

/** The conntrack zone of every ct action: the network's local VLAN, in reg6. */
export const ZONE = 'NXM_NX_REG6[0..15]';

/** ct_state shorthands of Neutron's ovsfw constants. */
export const CT = {
  tracked: '+trk',
  notTracked: '-trk',
  invalid: '+inv+trk',
  established: '+est',
  notEstablished: '-est',
  establishedNotReply: '+est-rel-rpl',
  newNotEstablished: '+new-est',
  establishedReply: '+est-rel+rpl',
  related: '-new-est+rel-inv',
} as const;

/** ct_mark 1: the connection's rule is gone; its packets are dropped. */
export const CT_MARK_INVALID = 1;

/** A port's (MAC, IP) pairs as Neutron's OFPort holds them: fixed IPs with the port's MAC, allowed pairs (CIDRs too), the LLA. */
export interface MacIpPairs {
  readonly v4: readonly (readonly [string, string])[];
  readonly v6: readonly (readonly [string, string])[];
  /** The port's MAC and its allowed pairs' (all_allowed_macs). */
  readonly macs: readonly string[];
}

export const pairsOf = memoOf((p: LocalPort): MacIpPairs => {
  const v4 = new Map<string, readonly [string, string]>();
  const v6 = new Map<string, readonly [string, string]>();
  const add = (mac: string, ip: string): void => {
    (ip.includes(':') ? v6 : v4).set(`${mac} ${ip}`, [mac, ip]);
  };
  for (const a of p.allowedAddressPairs) add(a.mac ?? p.mac, a.ip);
  for (const ip of p.fixedIps) add(p.mac, ip);
  add(p.mac, linkLocalOf(p.mac));
  return { v4: [...v4.values()], v6: [...v6.values()], macs: [...new Set([p.mac, ...p.allowedAddressPairs.map((a) => a.mac ?? p.mac)])] };
});

const ETHERTYPES = [{ ip: true }, { ipv6: true }] as const;

/** The flows every bridge with the firewall holds, whatever its ports. */
export const fixedFlows = memo((cookie: bigint, anyFiltered: boolean): PipelineFlow[] => [
  T.baseEgress.flow({ cookie, priority: 110, resetCounts: true, match: { ct_state: CT.tracked }, actions: [{ ctClear: true }, { resubmit: T.baseEgress }] }),
  ...[T.baseEgress, T.rulesEgress, T.acceptOrIngress, T.baseIngress, T.rulesIngress, T.acceptedIngressTraffic, T.droppedTraffic]
    .map((t) => t.flow({ cookie, priority: 0, resetCounts: true, actions: [] })),
  T.acceptedEgressTraffic.flow({ cookie, priority: 1, resetCounts: true, actions: [{ resubmit: T.acceptedEgressTrafficNormal }] }),
  T.acceptedEgressTrafficNormal.flow({ cookie, priority: 1, resetCounts: true, actions: [{ normal: true }] }),
  // Invalid connections are dropped; Neutron adds these with each port, the same flow each time.
  ...(anyFiltered ? [
    T.rulesEgress.flow({ cookie, priority: 50, match: { ct_state: CT.invalid }, actions: [{ resubmit: T.droppedTraffic }] }),
    T.rulesIngress.flow({ cookie, priority: 50, match: { ct_state: CT.invalid }, actions: [{ resubmit: T.droppedTraffic }] }),
  ] : []),
]);

/**
 * A port without port security, or a trusted one (`network:*`: DHCP, routers): its frames skip the
 * egress checks, straight to ACCEPT_OR_INGRESS (so a local VM still filters what it receives).
 */
export const unfilteredPortFlows = memoPer((p: LocalPort, cookie: bigint): PipelineFlow[] => [
  T.transient.flow({
    cookie, priority: 100, match: { in_port: p.ofport },
    actions: [{ setField: 'reg5', value: p.ofport, set: 'reg5' }, { setField: 'reg6', value: p.vlan, set: 'reg6' }, { resubmit: T.acceptOrIngress }],
  }),
  T.acceptOrIngress.flow({ cookie, priority: 80, match: { reg5: p.ofport }, actions: [{ resubmit: T.acceptedEgressTrafficNormal }] }),
]);

/** A filtered port's flows that do not depend on its rules, table by table. */
export const filteredPortFlows = memoPer((p: LocalPort, cookie: bigint): PipelineFlow[] => {
  const out: PipelineFlow[] = [];
  transient(p, cookie, out);
  baseEgress(p, cookie, out);
  trackedEgress(p, cookie, out);
  acceptOrIngress(p, cookie, out);
  baseIngress(p, cookie, out);
  trackedIngress(p, cookie, out);
  return out;
});

const regs = (p: LocalPort) => [{ setField: 'reg5', value: p.ofport, set: 'reg5' }, { setField: 'reg6', value: p.vlan, set: 'reg6' }] as const;

// Table 60 TRANSIENT: frames from the port to its egress checks; frames to one of its MACs on its
// network's VLAN, untagged, to its ingress checks.
function transient(p: LocalPort, cookie: bigint, out: PipelineFlow[]): void {
  out.push(T.transient.flow({ cookie, priority: 100, match: { in_port: p.ofport }, actions: [...regs(p), { resubmit: T.baseEgress }] }));
  for (const mac of pairsOf(p).macs) {
    out.push(T.transient.flow({
      cookie, priority: 90, match: { dl_vlan: p.vlan, dl_dst: mac },
      actions: [...regs(p), { popVlan: true, set: 'vlan' }, { resubmit: T.baseIngress }],
    }));
  }
}

/** ICMPv6 a port may send from its own (MAC, IP) pairs (MLD report, RS, NS); NA only for its own target. */
const ICMPV6_EGRESS_TYPES = [130, 133, 135];
const ICMPV6_NA = 136;
const ICMPV6_RA = 134;
/** ICMPv6 a port receives whatever its rules (MLD query, NS, NA, and RA). */
const ICMPV6_INGRESS_TYPES = [130, 134, 135, 136];

// Table 71 BASE_EGRESS: ARP, ND and DHCP requests from the port's own pairs are accepted; DHCP and
// RA servers are not; IP from its pairs goes through conntrack to RULES_EGRESS; the rest is dropped.
function baseEgress(p: LocalPort, cookie: bigint, out: PipelineFlow[]): void {
  const port = { reg5: p.ofport, in_port: p.ofport };
  const { v4, v6 } = pairsOf(p);
  const accept = [{ resubmit: T.acceptedEgressTrafficNormal }] as const;
  const toRules = [{ ct: { zone: ZONE, table: T.rulesEgress } }] as const;
  const dhcp = [{ resubmit: T.acceptOrIngress }] as const;
  for (const [mac, ip] of v4) {
    out.push(T.baseEgress.flow({ cookie, priority: 95, match: { ...port, arp: true, dl_src: mac, arp_spa: ip }, actions: accept }));
    out.push(T.baseEgress.flow({ cookie, priority: 65, match: { ...port, ip: true, dl_src: mac, nw_src: ip }, actions: toRules }));
  }
  const targets = new Set<string>();
  for (const [mac, ip] of v6) {
    for (const type of ICMPV6_EGRESS_TYPES) {
      out.push(T.baseEgress.flow({ cookie, priority: 95, match: { ...port, icmp6: true, dl_src: mac, ipv6_src: ip, icmp_type: type }, actions: accept }));
    }
    if (!targets.has(ip)) {
      targets.add(ip);
      out.push(T.baseEgress.flow({ cookie, priority: 95, match: { ...port, icmp6: true, icmp_type: ICMPV6_NA, nd_target: ip }, actions: accept }));
    }
    out.push(T.baseEgress.flow({ cookie, priority: 65, match: { ...port, ipv6: true, dl_src: mac, ipv6_src: ip }, actions: toRules }));
  }
  // DHCP discovery (also from 0.0.0.0) and DHCPv6 requests.
  for (const [mac, ip] of [...v4, [p.mac, '0.0.0.0'] as const]) {
    out.push(T.baseEgress.flow({ cookie, priority: 80, match: { ...port, udp: true, dl_src: mac, nw_src: ip, tp_src: 68, tp_dst: 67 }, actions: dhcp }));
  }
  for (const [mac, ip] of v6) {
    out.push(T.baseEgress.flow({ cookie, priority: 80, match: { ...port, udp6: true, dl_src: mac, ipv6_src: ip, tp_src: 546, tp_dst: 547 }, actions: dhcp }));
  }
  // No DHCP server nor router advertisements from a VM.
  const drop = [{ resubmit: T.droppedTraffic }] as const;
  out.push(T.baseEgress.flow({ cookie, priority: 70, match: { ...port, udp: true, tp_src: 67, tp_dst: 68 }, actions: drop }));
  out.push(T.baseEgress.flow({ cookie, priority: 70, match: { ...port, udp6: true, tp_src: 547, tp_dst: 546 }, actions: drop }));
  out.push(T.baseEgress.flow({ cookie, priority: 70, match: { ...port, icmp6: true, icmp_type: ICMPV6_RA }, actions: drop }));
  out.push(T.baseEgress.flow({ cookie, priority: 10, match: port, actions: [{ ctClear: true }, ...drop] }));
}

// Table 72 RULES_EGRESS, the part no rule decides: connections whose rule is gone (ct_mark 1) are
// dropped; replies and related packets accepted; what is not established and no rule accepted is
// dropped, and an established connection no rule accepts any more is marked (ct_mark 1).
function trackedEgress(p: LocalPort, cookie: bigint, out: PipelineFlow[]): void {
  tracked(T.rulesEgress, p, cookie, [{ resubmit: T.acceptedEgressTrafficNormal }], out);
}

// Table 73 ACCEPT_OR_INGRESS: a frame to a local VM's MAC on its network goes on to that VM's
// ingress checks (reg5 becomes the receiver); a new accepted connection is committed.
function acceptOrIngress(p: LocalPort, cookie: bigint, out: PipelineFlow[]): void {
  for (const mac of pairsOf(p).macs) {
    out.push(T.acceptOrIngress.flow({
      cookie, priority: 100, match: { reg6: p.vlan, dl_dst: mac },
      actions: [{ setField: 'reg5', value: p.ofport, set: 'reg5' }, { resubmit: T.baseIngress }],
    }));
  }
  for (const et of ETHERTYPES) {
    out.push(T.acceptOrIngress.flow({
      cookie, priority: 90, match: { ...et, ct_state: CT.newNotEstablished, reg5: p.ofport },
      actions: [{ ct: { commit: true, zone: ZONE } }, { resubmit: T.acceptedEgressTraffic }],
    }));
  }
  out.push(T.acceptOrIngress.flow({ cookie, priority: 80, match: { reg5: p.ofport }, actions: [{ resubmit: T.acceptedEgressTrafficNormal }] }));
}

// Table 81 BASE_INGRESS: ARP, ND and RA, and DHCP offers reach the VM; IP goes through conntrack
// to RULES_INGRESS; the rest is dropped.
function baseIngress(p: LocalPort, cookie: bigint, out: PipelineFlow[]): void {
  const deliver = [{ output: p.ofport, to: 'vm' }] as const;
  const port = { reg5: p.ofport };
  out.push(T.baseIngress.flow({ cookie, priority: 100, match: { ...port, arp: true }, actions: deliver }));
  for (const type of ICMPV6_INGRESS_TYPES) {
    out.push(T.baseIngress.flow({ cookie, priority: 100, match: { ...port, icmp6: true, icmp_type: type }, actions: deliver }));
  }
  out.push(T.baseIngress.flow({ cookie, priority: 95, match: { ...port, udp: true, tp_src: 67, tp_dst: 68 }, actions: deliver }));
  out.push(T.baseIngress.flow({ cookie, priority: 95, match: { ...port, udp6: true, tp_src: 547, tp_dst: 546 }, actions: deliver }));
  for (const et of ETHERTYPES) {
    out.push(T.baseIngress.flow({
      cookie, priority: 90, match: { ...port, ...et, ct_state: CT.notTracked }, actions: [{ ct: { zone: ZONE, table: T.rulesIngress } }],
    }));
  }
  out.push(T.baseIngress.flow({ cookie, priority: 80, match: { ...port, ct_state: CT.tracked }, actions: [{ resubmit: T.rulesIngress }] }));
}

// Table 82 RULES_INGRESS, the part no rule decides: as in RULES_EGRESS, replies and related packets
// going straight out to the VM.
function trackedIngress(p: LocalPort, cookie: bigint, out: PipelineFlow[]): void {
  tracked(T.rulesIngress, p, cookie, [{ output: p.ofport, to: 'vm' }], out);
}

/** RULES_EGRESS or RULES_INGRESS, as `tracked` uses them. */
interface RulesTable<N extends string> {
  flow(spec: FlowSpec<'reg5' | 'ct_state' | 'ct_mark' | 'ct_zone' | 'ip' | 'ipv6', 'ct_mark', N | 'droppedTraffic'>): PipelineFlow;
}

function tracked<N extends string>(
  t: RulesTable<N>, p: LocalPort, cookie: bigint, accept: FlowSpec<never, never, N>['actions'], out: PipelineFlow[],
): void {
  const drop = [{ resubmit: T.droppedTraffic }] as const;
  const port = { reg5: p.ofport };
  out.push(t.flow({ cookie, priority: 50, match: { ...port, ct_mark: CT_MARK_INVALID }, actions: drop }));
  for (const ct_state of [CT.establishedReply, CT.related]) {
    out.push(t.flow({ cookie, priority: 50, match: { ...port, ct_state, ct_mark: 0, ct_zone: p.vlan }, actions: accept }));
  }
  out.push(t.flow({ cookie, priority: 40, match: { ...port, ct_state: CT.notEstablished }, actions: drop }));
  for (const et of ETHERTYPES) {
    out.push(t.flow({
      cookie, priority: 40, match: { ...port, ...et, ct_state: CT.established },
      actions: [{ ct: { commit: true, zone: ZONE, exec: [{ setField: 'ct_mark', value: CT_MARK_INVALID, set: 'ct_mark' }] } }],
    }));
  }
}
