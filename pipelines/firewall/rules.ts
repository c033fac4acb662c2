// Neutron's security-group rules as flow specs: rules.py of its OVS firewall driver (port range
// masks, priority offsets, merged overlapping rules, conjunctions), as pure functions. The output is
// data, not flow text: the firewall pipeline (tables 72 egress / 82 ingress) turns each spec into a
// flow. Semantics are Neutron 2023.1's (neutron/agent/linux/openvswitch_firewall/rules.py, firewall.py,
// neutron/common/utils.py port_rule_masking); the goldens in fixtures/neutron-examples/sg-* are what its
// agent installed from the same functions.
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../codecs/openflow/fields.js';
import type { SecurityGroupRule } from '../../lib/topology/events.js';
import type { GroupMembers, MemberAddress } from '../../lib/topology/model.js';

export type Direction = SecurityGroupRule['direction'];
export type Ethertype = SecurityGroupRule['ethertype'];

/** The connection states a rule admits, in Neutron's order (rules.CT_STATES): established original
 *  direction first, then new. Replies and related packets are accepted by per-port flows, not rules. */
export const RULE_CT_STATES = ['+est-rel-rpl', '+new-est'] as const;
export type RuleCtState = (typeof RULE_CT_STATES)[number];

const PROTO_ICMP = Number(IPPROTO_ICMP);
const PROTO_ICMPV6 = Number(IPPROTO_ICMPV6);

/** Protocols whose rules carry a destination port range (ovsfw constants PROTOCOLS_WITH_PORTS). */
const PROTOCOLS_WITH_PORTS: ReadonlySet<number> = new Set([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP].map(Number));

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
  return { field: remoteField(direction, prefix.includes(':')), prefix };
}

/** Neutron's FLOW_FIELD_FOR_IPVER_AND_DIRECTION. */
function remoteField(direction: Direction, v6: boolean): RemoteField {
  return direction === 'ingress' ? (v6 ? 'ipv6_src' : 'nw_src') : v6 ? 'ipv6_dst' : 'nw_dst';
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
  // A whole SecurityGroupRule fits RuleBody; one naming a remote group is a conjunction (portFlowSpecs).
  const remoteGroup = (rule as Partial<SecurityGroupRule>).remoteGroupId;
  if (remoteGroup !== undefined) throw new Error(`a rule with remote group ${remoteGroup} becomes conjunction flows (portFlowSpecs), not plain flows`);
  return ruleBodies(rule, port, false).flatMap((body) =>
    RULE_CT_STATES.map((ctState) => ({ ...body, ctState, action: acceptAction(rule.direction, ctState) })),
  );
}

// ---- Remote-group rules: two-dimension conjunctions (Neutron's firewall.py _add_non_ip_conj_flows,
// ConjIPFlowManager, rules.py merge_* and create_*_flows).

/** A rule body with the conjunction id it feeds (Neutron's `(rule, conj_id)` pairs). */
export interface RuleWithConj {
  readonly rule: RuleBody;
  readonly conjId: number;
}

/** A rule body with every conjunction id a flow matching it must feed (Neutron's `(rule, conj_ids)`). */
export interface RuleWithConjs {
  readonly rule: RuleBody;
  readonly conjIds: readonly number[];
}

function withoutPorts(rule: RuleBody): RuleBody {
  const { portRangeMin: _min, portRangeMax: _max, ...rest } = rule;
  return rest;
}

function sameRule(a: RuleBody, b: RuleBody): boolean {
  return a.direction === b.direction && a.ethertype === b.ethertype && a.protocol === b.protocol && a.remoteIpPrefix === b.remoteIpPrefix;
}

/** Neutron's `_assert_mergeable_rules`: merged rules may differ in their port range only. */
function assertMergeable(list: readonly RuleWithConj[]): void {
  const first = list[0]!.rule;
  for (const { rule } of list.slice(1)) {
    if (!sameRule(first, rule)) {
      throw new Error(`incompatible security group rules ${JSON.stringify(first)} and ${JSON.stringify(rule)}: they differ in more than their port range`);
    }
  }
}

/**
 * Neutron's `merge_port_ranges` (TCP, UDP, SCTP): cuts overlapping port ranges so that every port is
 * matched by exactly one piece, each piece carrying the ids of every rule covering it, in the order
 * the rules came. A rule without range covers 1-65535; a single piece of 1-65535 loses its range.
 */
export function mergePortRanges(list: readonly RuleWithConj[]): RuleWithConjs[] {
  if (list.length === 0) return [];
  if (list.length === 1) return [{ rule: list[0]!.rule, conjIds: [list[0]!.conjId] }];
  assertMergeable(list);
  const edges = list
    .flatMap(({ rule, conjId }) => [
      { port: rule.portRangeMin ?? 1, min: true, conjId },
      { port: rule.portRangeMax ?? 65535, min: false, conjId },
    ])
    .sort((a, b) => a.port * 2 + (a.min ? 0 : 1) - (b.port * 2 + (b.min ? 0 : 1)));
  // Scan upwards: a min edge opens a rule's id, a max edge closes it; a piece ends at every change.
  const template = withoutPorts(list[0]!.rule);
  const out: RuleWithConjs[] = [];
  const open = new Map<number, number>();
  let from = 0;
  for (const { port, min, conjId } of edges) {
    if (min) {
      const n = open.get(conjId);
      if (n !== undefined) {
        open.set(conjId, n + 1);
        continue;
      }
      if (open.size > 0 && from !== port) out.push({ rule: { ...template, portRangeMin: from, portRangeMax: port - 1 }, conjIds: [...open.keys()] });
      from = port;
      open.set(conjId, 1);
    } else {
      const n = open.get(conjId)!;
      if (n > 1) {
        open.set(conjId, n - 1);
        continue;
      }
      if (from <= port) {
        out.push({ rule: { ...template, portRangeMin: from, portRangeMax: port }, conjIds: [...open.keys()] });
        from = port + 1;
      }
      open.delete(conjId);
    }
  }
  if (out.length === 1 && out[0]!.rule.portRangeMin === 1 && out[0]!.rule.portRangeMax === 65535) return [{ rule: template, conjIds: out[0]!.conjIds }];
  return out;
}

/**
 * Neutron's `merge_common_rules` (every other protocol): rules with the same port fields (ICMP
 * type/code) become one, carrying all their ids in order. Unlike Neutron, an id given twice is kept once.
 */
export function mergeCommonRules(list: readonly RuleWithConj[]): RuleWithConjs[] {
  if (list.length === 0) return [];
  if (list.length === 1) return [{ rule: list[0]!.rule, conjIds: [list[0]!.conjId] }];
  assertMergeable(list);
  const template = withoutPorts(list[0]!.rule);
  const byPorts = new Map<string, { min?: number; max?: number; ids: Set<number> }>();
  for (const { rule, conjId } of list) {
    const key = `${rule.portRangeMin}/${rule.portRangeMax}`;
    let entry = byPorts.get(key);
    if (!entry) byPorts.set(key, (entry = { min: rule.portRangeMin, max: rule.portRangeMax, ids: new Set() }));
    entry.ids.add(conjId);
  }
  return [...byPorts.values()].map(({ min, max, ids }) => ({
    rule: { ...template, ...(min !== undefined ? { portRangeMin: min } : {}), ...(max !== undefined ? { portRangeMax: max } : {}) },
    conjIds: [...ids],
  }));
}

/**
 * A conjunction block's key: Neutron's ConjIdMap key (group holding the rule, the rule's remote group,
 * direction, ethertype). Written `direction/ethertype/group/remoteGroup` (ids have no '/').
 */
export function conjKey(group: string, remoteGroup: string, direction: Direction, ethertype: Ethertype): string {
  return `${direction}/${ethertype}/${group}/${remoteGroup}`;
}

/** The largest conj_id OpenFlow can carry (32 bits); a base needs its 8 ids below it. */
const CONJ_ID_MAX = 0xffffffff;

/**
 * Stable conjunction id blocks. Each key gets a base, a multiple of 8 from 8 up (Neutron's ConjIdMap:
 * 4 priority offsets x 2 states; the id in use is base + 2*offset, +1 for `+new-est`).
 * - Keys in `previous` (what is installed: read back from the switch, or kept by the controller) keep
 *   their base: a restart or an unrelated change never renumbers an installed conjunction.
 * - Keys in `release` (removed by the caller, their flows gone) free their base; keys of `previous`
 *   neither wanted nor released are kept, so nothing installed is ever reused by another key.
 * - New keys, in sorted order, take the lowest free bases: the result is a function of its inputs.
 * Returns every kept key's base, in key order. Bad `previous` entries (not a positive multiple of 8,
 * out of range, a base given twice) are an error naming the key: nothing is allocated from them.
 */
export function allocateConjIds(keys: Iterable<string>, previous: ReadonlyMap<string, number>, release: Iterable<string> = []): Map<string, number> {
  const released = new Set(release);
  const used = new Map<number, string>();
  for (const [key, base] of previous) {
    if (!Number.isInteger(base) || base <= 0 || base % 8 !== 0 || base + 7 > CONJ_ID_MAX) {
      throw new RangeError(`conjunction base ${base} of ${key}: a base is a positive multiple of 8 up to ${CONJ_ID_MAX - 7}`);
    }
    const other = used.get(base);
    if (other !== undefined) throw new RangeError(`conjunction base ${base} given to both ${other} and ${key}`);
    used.set(base, key);
  }
  const kept = new Map([...previous].filter(([key]) => !released.has(key)));
  const taken = new Set(kept.values());
  const fresh = [...new Set(keys)].filter((k) => !kept.has(k)).sort();
  let next = 8;
  for (const key of fresh) {
    while (taken.has(next)) next += 8;
    if (next + 7 > CONJ_ID_MAX) throw new RangeError(`no conjunction id block left for ${key}`);
    kept.set(key, next);
    taken.add(next);
  }
  return new Map([...kept].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const CONJ_KEY_RE = /^(ingress|egress)\/(IPv4|IPv6)\/[^/]+\/[^/]+$/;

/**
 * The conjunction blocks as one string, to keep on the switch itself (e.g. an external_ids value of
 * br-int in OVSDB) and read back at start: then a restart, whatever the topology did meanwhile,
 * renumbers nothing (Neutron's LP 1934917 was ids reused after a restart). Keys in order.
 */
export function formatConjBases(bases: ReadonlyMap<string, number>): string {
  return JSON.stringify(Object.fromEntries([...bases].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Reads formatConjBases' string back, checked whole (every key's shape, every base through allocateConjIds). */
export function parseConjBases(text: string): Map<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SyntaxError(`conjunction blocks ${JSON.stringify(text.slice(0, 40))}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('conjunction blocks: not a JSON object of key: base');
  const bases = new Map<string, number>();
  for (const [key, base] of Object.entries(value)) {
    if (!CONJ_KEY_RE.test(key)) throw new SyntaxError(`conjunction block key ${JSON.stringify(key)}: not direction/ethertype/group/remoteGroup`);
    if (typeof base !== 'number') throw new SyntaxError(`conjunction block ${key}: base ${JSON.stringify(base)} is not a number`);
    bases.set(key, base);
  }
  allocateConjIds([], bases);
  return bases;
}

/** Neutron's `_flow_priority_offset_from_conj_id`: the priority offset an id encodes. */
export function conjPriorityOffset(conjId: number): number {
  return (conjId % 8) >> 1;
}

/** A security group as the rules need it: its id and its rules, in order. */
export interface RuleGroup {
  readonly id: string;
  readonly rules: readonly SecurityGroupRule[];
}

/** A protected port: its OpenFlow number and its groups, in the port's `securityGroups` order. */
export interface RulePort {
  readonly ofport: number;
  readonly groups: readonly RuleGroup[];
}

/** The conjunction keys a port's remote-group rules use (to allocate before building specs). */
export function conjKeysOf(port: RulePort): string[] {
  return port.groups.flatMap((g) => g.rules.flatMap((r) => (r.remoteGroupId === undefined ? [] : [conjKey(g.id, r.remoteGroupId, r.direction, r.ethertype)])));
}

function conjBase(bases: ReadonlyMap<string, number>, key: string): number {
  const base = bases.get(key);
  if (base === undefined) throw new Error(`no conjunction id block for ${key}: allocate it first (allocateConjIds)`);
  return base;
}

/** The conjunction id a remote-group rule of `group` feeds for its priority offset. */
function ruleConjId(group: string, rule: SecurityGroupRule, bases: ReadonlyMap<string, number>): number {
  return conjBase(bases, conjKey(group, rule.remoteGroupId!, rule.direction, rule.ethertype)) + 2 * flowPriorityOffset(rule, true);
}

export function specKey(s: RuleFlowSpec): string {
  return JSON.stringify(s);
}

/**
 * Every table-72/82 rule flow of one protected port (reg5 = ofport), in Neutron's order: the plain
 * rules of each group, then for the remote-group rules (merged per direction, ethertype and protocol
 * across all the port's groups) the second-dimension flows and the accept flows of each conj_id.
 * The first dimension (member addresses) is per network: networkMemberFlowSpecs. Identical flows
 * (a rule given twice) appear once.
 */
export function portFlowSpecs(port: RulePort, conjBases: ReadonlyMap<string, number>): RuleFlowSpec[] {
  const out: RuleFlowSpec[] = [];
  for (const g of port.groups) for (const r of g.rules) if (r.remoteGroupId === undefined) out.push(...ruleFlowSpecs(r, port.ofport));
  const byKind = new Map<string, { direction: Direction; ethertype: Ethertype; protocol?: number; list: RuleWithConj[] }>();
  for (const g of port.groups) {
    for (const r of g.rules) {
      if (r.remoteGroupId === undefined) continue;
      const kind = `${r.direction}/${r.ethertype}/${r.protocol}`;
      let entry = byKind.get(kind);
      if (!entry) byKind.set(kind, (entry = { direction: r.direction, ethertype: r.ethertype, protocol: r.protocol, list: [] }));
      const { remoteGroupId: _remote, ...rule } = r;
      entry.list.push({ rule, conjId: ruleConjId(g.id, r, conjBases) });
    }
  }
  for (const { direction, ethertype, protocol, list } of byKind.values()) {
    const merged = protocol !== undefined && PROTOCOLS_WITH_PORTS.has(protocol) ? mergePortRanges(list) : mergeCommonRules(list);
    for (const { rule, conjIds } of merged) {
      for (const body of ruleBodies(rule, port.ofport, true)) {
        RULE_CT_STATES.forEach((ctState, i) => out.push({ ...body, ctState, action: { kind: 'conjunction', clause: 2, ids: conjIds.map((id) => id + i) } }));
      }
    }
    for (const conjId of new Set(list.map((l) => l.conjId))) {
      RULE_CT_STATES.forEach((ctState, i) =>
        out.push({
          direction,
          priority: 70 + conjPriorityOffset(conjId),
          ctState,
          ethertype,
          port: port.ofport,
          conjId: conjId + i,
          action: acceptAction(direction, ctState, conjId + i),
        }),
      );
    }
  }
  const seen = new Set<string>();
  return out.filter((s) => !seen.has(specKey(s)) && !!seen.add(specKey(s)));
}

/** A remote group's member address, as the topology gives it (a /0 comes with its MAC). */
export type { MemberAddress };


/**
 * What a network's member flows follow from besides the member lists: per (direction, ethertype),
 * the remote groups its protected ports' rules name and their conj ids (Neutron's conj_ids[vlan]).
 */
export interface MemberUse {
  readonly direction: Direction;
  readonly ethertype: Ethertype;
  readonly byRemote: ReadonlyMap<string, ReadonlySet<number>>;
}

export function memberUse(ports: readonly RulePort[], conjBases: ReadonlyMap<string, number>): MemberUse[] {
  const used = new Map<string, { direction: Direction; ethertype: Ethertype; byRemote: Map<string, Set<number>> }>();
  for (const port of ports) {
    for (const g of port.groups) {
      for (const r of g.rules) {
        if (r.remoteGroupId === undefined) continue;
        const k = `${r.direction}/${r.ethertype}`;
        let entry = used.get(k);
        if (!entry) used.set(k, (entry = { direction: r.direction, ethertype: r.ethertype, byRemote: new Map() }));
        let ids = entry.byRemote.get(r.remoteGroupId);
        if (!ids) entry.byRemote.set(r.remoteGroupId, (ids = new Set()));
        ids.add(ruleConjId(g.id, r, conjBases));
      }
    }
  }
  return [...used.values()];
}

/** One member address as its flows match it: the prefix, and the MAC of a /0 (Neutron's `any_src_ip`). */
export interface MemberEntry {
  /** The prefix, with the MAC of a /0: one flow set per key. */
  readonly key: string;
  readonly prefix: string;
  readonly mac?: string;
}

const memberEntries = new WeakMap<readonly MemberAddress[], ReadonlyMap<string, MemberEntry>>();

/**
 * A member list's entries by key, once per list (the topology keeps a group's lists while its
 * membership stands). An address of the wrong version, or a /0 without MAC, is an error.
 */
export function memberEntriesOf(list: readonly MemberAddress[], v6: boolean, remote: string): ReadonlyMap<string, MemberEntry> {
  let m = memberEntries.get(list);
  if (m) return m;
  const out = new Map<string, MemberEntry>();
  for (const a of list) {
    const { address, mac } = typeof a === 'string' ? { address: a, mac: undefined } : a;
    if (address.includes(':') !== v6) throw new Error(`member ${address} of group ${remote} is not an ${v6 ? 'IPv6' : 'IPv4'} address`);
    const prefix = address.includes('/') ? address : `${address}/${v6 ? 128 : 32}`;
    const any = prefix.endsWith('/0');
    if (any && mac === undefined) throw new Error(`member ${address} of group ${remote}: a /0 member needs its MAC`);
    const key = any ? `${prefix} ${mac}` : prefix;
    if (!out.has(key)) out.set(key, { key, prefix, ...(any ? { mac } : {}) });
  }
  memberEntries.set(list, (m = out));
  return m;
}

/** A group's member list of one version. */
export function memberList(members: ReadonlyMap<string, GroupMembers>, remote: string, ethertype: Ethertype): readonly MemberAddress[] {
  return members.get(remote)?.[ethertype === 'IPv4' ? 'v4' : 'v6'] ?? [];
}

/**
 * The first dimension of the conjunctions on one network (reg6 = its local VLAN): per remote-group
 * member address, per priority offset in use, one flow per state carrying the conj_ids (sorted, as
 * Neutron's ConjIPFlowManager sorts them) of every rule of every protected port on the network that
 * names a group the address is a member of. One flow per address even when it is in several groups
 * (Neutron writes one per group and the last wins; here their ids are merged). A /0 member also
 * matches its MAC (Neutron's `any_src_ip`); one without MAC is an error. Members of groups no rule
 * names produce nothing. With `only`, the flows of those address keys alone.
 */
export function memberFlowSpecs(
  vlan: number,
  use: readonly MemberUse[],
  members: ReadonlyMap<string, GroupMembers>,
  only?: ReadonlySet<string>,
): RuleFlowSpec[] {
  const out: RuleFlowSpec[] = [];
  for (const { direction, ethertype, byRemote } of use) {
    const v6 = ethertype === 'IPv6';
    // address key -> the entry and its conj ids
    const byAddress = new Map<string, { entry: MemberEntry; ids: Set<number> }>();
    for (const [remote, ids] of byRemote) {
      const entries = memberEntriesOf(memberList(members, remote, ethertype), v6, remote);
      const keys = only ? [...only].filter((k) => entries.has(k)) : entries.keys();
      for (const k of keys) {
        let at = byAddress.get(k);
        if (!at) byAddress.set(k, (at = { entry: entries.get(k)!, ids: new Set() }));
        for (const id of ids) at.ids.add(id);
      }
    }
    const field = remoteField(direction, v6);
    for (const { entry: { prefix, mac }, ids } of byAddress.values()) {
      const sorted = [...ids].sort((a, b) => a - b);
      for (let offset = 0; offset < 4; offset++) {
        const atOffset = sorted.filter((id) => conjPriorityOffset(id) === offset);
        if (atOffset.length === 0) continue;
        RULE_CT_STATES.forEach((ctState, i) =>
          out.push({
            direction,
            priority: 70 + offset,
            ctState,
            ethertype,
            network: vlan,
            remote: { field, prefix },
            ...(mac !== undefined ? { dlSrc: mac } : {}),
            action: { kind: 'conjunction', clause: 1, ids: atOffset.map((id) => id + i) },
          }),
        );
      }
    }
  }
  return out;
}

/**
 * How many flows memberFlowSpecs makes, without making them: per address, two per priority offset
 * of its conj ids (worked out once per remote group when an entry names one; else by making them).
 */
export function memberFlowCount(vlan: number, use: readonly MemberUse[], members: ReadonlyMap<string, GroupMembers>): number {
  let n = 0;
  for (const u of use) {
    if (u.byRemote.size !== 1) {
      n += memberFlowSpecs(vlan, [u], members).length;
      continue;
    }
    const [[remote, ids]] = [...u.byRemote];
    const offsets = new Set([...ids].map(conjPriorityOffset)).size;
    n += memberEntriesOf(memberList(members, remote!, u.ethertype), u.ethertype === 'IPv6', remote!).size * offsets * RULE_CT_STATES.length;
  }
  return n;
}

/** All of a network's member flow specs (memberFlowSpecs of its ports' use). */
export function networkMemberFlowSpecs(
  vlan: number,
  ports: readonly RulePort[],
  members: ReadonlyMap<string, GroupMembers>,
  conjBases: ReadonlyMap<string, number>,
): RuleFlowSpec[] {
  return memberFlowSpecs(vlan, memberUse(ports, conjBases), members);
}
