// Neutron's security-group rules as flow specs: rules.py of its OVS firewall driver (port range
// masks, priority offsets, merged overlapping rules, conjunctions), as pure functions. The output is
// data, not flow text: the firewall pipeline (tables 72 egress / 82 ingress) turns each spec into a
// flow. Semantics are Neutron 2023.1's (neutron/agent/linux/openvswitch_firewall/rules.py, firewall.py,
// neutron/common/utils.py port_rule_masking); the goldens in fixtures/neutron-examples/sg-* are what its
// agent installed from the same functions.
import type { SecurityGroupRule } from '../../lib/topology/events.js';

export type Direction = SecurityGroupRule['direction'];
export type Ethertype = SecurityGroupRule['ethertype'];

/** The connection states a rule admits, in Neutron's order (rules.CT_STATES): established original
 *  direction first, then new. Replies and related packets are accepted by per-port flows, not rules. */
export const RULE_CT_STATES = ['+est-rel-rpl', '+new-est'] as const;
export type RuleCtState = (typeof RULE_CT_STATES)[number];

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
export const PROTO_SCTP = 132;

/** Protocols whose rules carry a destination port range (ovsfw constants PROTOCOLS_WITH_PORTS). */
const PROTOCOLS_WITH_PORTS: ReadonlySet<number> = new Set([PROTO_TCP, PROTO_UDP, PROTO_SCTP]);

function isIcmp(protocol: number | undefined): boolean {
  return protocol === PROTO_ICMP || protocol === PROTO_ICMPV6;
}

/** A transport port match: `value` alone is exact; with `mask`, the bits set in mask must match. */
export interface PortMatch {
  readonly value: number;
  readonly mask?: number;
}

/**
 * Neutron's `utils.port_rule_masking`: the range [min, max] as bitwise matches, in Neutron's order
 * (the matches below the range's split point, from the widest, then those above it). E.g.
 * 40-105 → 0x30/0xfff0, 0x28/0xfff8, 0x40/0xffe0, 0x60/0xfff8, 0x68.
 */
export function portRuleMasking(min: number, max: number): PortMatch[] {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max > 0xffff) {
    throw new RangeError(`port range ${min}-${max}: ports are integers 0-65535`);
  }
  if (max < min) throw new RangeError(`port range ${min}-${max}: the maximum is smaller than the minimum`);
  // `dontCare` is Neutron's `mask`: the low bits a match ignores; the OpenFlow mask is its complement.
  const match = (value: number, dontCare: number): PortMatch =>
    dontCare > 0 ? { value, mask: 0xffff & ~dontCare } : { value };
  const diff = min ^ max;
  if (diff === 0) return [{ value: min }];
  let topBit = 1;
  while (topBit <= diff) topBit <<= 1;
  // A whole aligned block of 2^k ports is one match.
  if ((min & (topBit - 1)) === 0 && (max & (topBit - 1)) === topBit - 1) return [match(min, topBit - 1)];
  topBit >>= 1;
  const out: PortMatch[] = [];
  // [min, split): greedy over the zeros of min.
  for (let bit = topBit, dontCare = topBit - 1; ; ) {
    if ((min & dontCare) === 0) {
      out.push(match(min, dontCare));
      break;
    }
    bit >>= 1;
    dontCare >>= 1;
    if ((min & bit) === 0) out.push(match((min & ~dontCare) | bit, dontCare));
  }
  // [split, max]: greedy over the ones of max.
  for (let bit = topBit, dontCare = topBit - 1; ; ) {
    if ((max & dontCare) === dontCare) {
      out.push(match(max & ~dontCare, dontCare));
      break;
    }
    bit >>= 1;
    dontCare >>= 1;
    if ((max & bit) === bit) out.push(match(max & ~dontCare & ~bit, dontCare));
  }
  return out;
}

/** The parts of a rule that shape its flows (a rule, or a merged piece of remote-group rules). */
export type RuleBody = Pick<SecurityGroupRule, 'direction' | 'ethertype' | 'protocol' | 'portRangeMin' | 'portRangeMax' | 'remoteIpPrefix'>;

/**
 * Neutron's `flow_priority_offset`: 0-3 for conjunction (remote-group) rules, 4-7 for the others; within
 * each, +0 without protocol, +1 ICMP without type, +2 ICMP with type but no code, +3 anything else. A
 * more specific rule thus never shares a priority with a less specific one that overlaps it.
 */
export function flowPriorityOffset(rule: Pick<SecurityGroupRule, 'protocol' | 'portRangeMin' | 'portRangeMax'>, conjunction: boolean): number {
  const base = conjunction ? 0 : 4;
  if (rule.protocol === undefined) return base;
  if (isIcmp(rule.protocol)) {
    if (rule.portRangeMin === undefined) return base + 1;
    if (rule.portRangeMax === undefined) return base + 2;
  }
  return base + 3;
}

/** The flow field a remote address goes in: the packet's destination for egress, its source for ingress. */
export type RemoteField = 'nw_src' | 'nw_dst' | 'ipv6_src' | 'ipv6_dst';

export interface RemoteMatch {
  readonly field: RemoteField;
  /** A CIDR as given (`10.0.0.3/32` prints as `10.0.0.3` in OVS). */
  readonly prefix: string;
}

/**
 * What a rule flow does:
 * - `continue`: egress, on to the ingress check of a local destination (`resubmit(,73)`); the new
 *   connection is committed there.
 * - `accept`: ingress, out to the port (`output:P`).
 * - `commit-accept`: ingress of a new connection: `ct(commit,zone=NXM_NX_REG6[0..15]),output:P,resubmit(,92)`.
 * - `conjunction`: one `conjunction(id,clause/2)` per id, in order.
 * `reg7`, on the accept flows of a conjunction, is loaded first (`set_field:N->reg7`, Neutron's
 * REG_REMOTE_GROUP, for logging): it is the flow's conj_id.
 */
export type RuleAction =
  | { readonly kind: 'continue' | 'accept' | 'commit-accept'; readonly reg7?: number }
  | { readonly kind: 'conjunction'; readonly clause: 1 | 2; readonly ids: readonly number[] };

/**
 * One flow of table 72 (egress) or 82 (ingress), as data. Fields absent are not matched. Every spec
 * matches `ct_state` and the ethertype (`dl_type` 0x0800 for IPv4, 0x86dd for IPv6).
 */
export interface RuleFlowSpec {
  readonly direction: Direction;
  /** 70-77: 70 + flowPriorityOffset. */
  readonly priority: number;
  readonly ctState: RuleCtState;
  readonly ethertype: Ethertype;
  /** reg5: the port's ofport (every spec but a conjunction's first dimension). */
  readonly port?: number;
  /** reg6: the network's local VLAN (a conjunction's first dimension only). */
  readonly network?: number;
  /** conj_id: the accept flow of a conjunction. */
  readonly conjId?: number;
  readonly nwProto?: number;
  readonly remote?: RemoteMatch;
  /** dl_src: a first-dimension flow of a member whose address is a /0 (Neutron's `any_src_ip`). */
  readonly dlSrc?: string;
  /** tp_dst (tcp_dst, udp_dst, sctp_dst by protocol), one mask of the rule's range. */
  readonly tpDst?: PortMatch;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly action: RuleAction;
}

/** Neutron's `is_valid_prefix`: a prefix that matches everything is no match at all. */
function remoteMatch(direction: Direction, prefix: string | undefined): RemoteMatch | undefined {
  if (prefix === undefined) return undefined;
  // Prefixes are normalised (host bits zero), so a /0 is 0.0.0.0/0 or ::/0.
  if (prefix.endsWith('/0')) return undefined;
  const v6 = prefix.includes(':');
  const field: RemoteField = direction === 'ingress' ? (v6 ? 'ipv6_src' : 'nw_src') : v6 ? 'ipv6_dst' : 'nw_dst';
  return { field, prefix };
}

type SpecBody = Omit<RuleFlowSpec, 'ctState' | 'action'>;

/** Neutron's create_flows_from_rule_and_port + create_protocol_flows: one body per port mask. */
function ruleBodies(rule: RuleBody, port: number, conjunction: boolean): SpecBody[] {
  const remote = remoteMatch(rule.direction, rule.remoteIpPrefix);
  const base: SpecBody = {
    direction: rule.direction,
    priority: 70 + flowPriorityOffset(rule, conjunction),
    ethertype: rule.ethertype,
    port,
    ...(rule.protocol !== undefined ? { nwProto: rule.protocol } : {}),
    ...(remote ? { remote } : {}),
  };
  if (isIcmp(rule.protocol)) {
    // ICMP keeps type and code in the port range fields, as Neutron does.
    if (rule.portRangeMin === undefined) return [base];
    return [{ ...base, icmpType: rule.portRangeMin, ...(rule.portRangeMax !== undefined ? { icmpCode: rule.portRangeMax } : {}) }];
  }
  // Like Neutron, a range is applied only to TCP/UDP/SCTP and only when both ends are non-zero.
  if (rule.protocol === undefined || !PROTOCOLS_WITH_PORTS.has(rule.protocol) || !rule.portRangeMin || !rule.portRangeMax) return [base];
  return portRuleMasking(rule.portRangeMin, rule.portRangeMax).map((tpDst) => ({ ...base, tpDst }));
}

/** The accepting action of a rule flow by direction and state (Neutron's populate_flow_common + create_accept_flows). */
function acceptAction(direction: Direction, ctState: RuleCtState, reg7?: number): RuleAction {
  const kind = direction === 'egress' ? 'continue' : ctState === '+new-est' ? 'commit-accept' : 'accept';
  return reg7 === undefined ? { kind } : { kind, reg7 };
}

/**
 * The flows of one plain rule (no remote group) for the port with OpenFlow number `port`: for each
 * port mask (or the single body), one flow per state of RULE_CT_STATES, in Neutron's order.
 */
export function ruleFlowSpecs(rule: RuleBody, port: number): RuleFlowSpec[] {
  return ruleBodies(rule, port, false).flatMap((body) =>
    RULE_CT_STATES.map((ctState) => ({ ...body, ctState, action: acceptAction(rule.direction, ctState) })),
  );
}
