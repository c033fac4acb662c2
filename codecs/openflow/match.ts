// OpenFlow 1.3 OXM match: encode (in OVS's canonical TLV order) and decode (any order, NXM or OXM
// headers) to a slot map. A Match is a map from flow slot to value/mask; an absent slot is wildcarded.
import { Reader, Writer } from './bytes.js';
import {
  allOnes, FieldDef, fieldByHeader, fieldByName, headerValueBytes, impliesEthernet, NXM_NX, NXM_OF, OFPXMC_EXPERIMENTER,
  OFPXMC_OPENFLOW_BASIC, of13Header, Slot, SLOT_BITS,
} from './fields.js';
import { portFromOf11, portToOf11 } from './ports.js';

export interface MatchEntry {
  readonly value: bigint;
  /** Bits that matter; never 0 (an all-zero mask is a wildcard and is not stored). */
  readonly mask: bigint;
}

export type Match = Map<Slot, MatchEntry>;

/** An OXM TLV the codec does not know, kept as raw bytes so it can be printed and re-encoded. */
export interface UnknownOxm {
  readonly header: number;
  readonly bytes: Buffer;
}

export const ETH_TYPE_IP = 0x0800n;
export const ETH_TYPE_ARP = 0x0806n;
export const ETH_TYPE_RARP = 0x8035n;
export const ETH_TYPE_IPV6 = 0x86ddn;
export const IPPROTO_ICMP = 1n;
export const IPPROTO_TCP = 6n;
export const IPPROTO_UDP = 17n;
export const IPPROTO_SCTP = 132n;
export const IPPROTO_ICMPV6 = 58n;

const VLAN_CFI = 0x1000n;
const VLAN_VID_CFI = 0x1fffn;
const VLAN_PCP_MASK = 0xe000n;

/** Fields that are the whole of their slot, so decoding can store them as they come. */
const DIRECT_SLOTS: ReadonlySet<string> = new Set([
  'packet_type', 'metadata', 'tun_id', 'tun_src', 'tun_dst', 'pkt_mark', 'conj_id', 'eth_src', 'eth_dst', 'eth_type', 'vlan_tci',
  'ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'tcp_src', 'tcp_dst',
  'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'nd_target',
  ...Array.from({ length: 16 }, (_, i) => `reg${i}`),
]);

/** Sets (merges) bits of a slot: bits under `mask` take `value`, other bits are kept. */
export function setSlot(match: Match, slot: Slot, value: bigint, mask: bigint): void {
  const width = allOnes(SLOT_BITS[slot]);
  const old = match.get(slot);
  if (old === undefined) {
    // Nothing to merge with (a parsed or decoded field, seen once): fewer BigInt operations, as
    // each allocates and this runs for every field of every flow of a file.
    if (mask !== width) mask &= width;
    if (mask === 0n) return;
    match.set(slot, { value: mask === width && value >= 0n && value <= width ? value : value & mask, mask });
    return;
  }
  mask &= width;
  const oldValue = old?.value ?? 0n;
  const oldMask = old?.mask ?? 0n;
  const newMask = oldMask | mask;
  const newValue = ((oldValue & ~mask) | (value & mask)) & newMask;
  if (newMask === 0n) match.delete(slot);
  else match.set(slot, { value: newValue, mask: newMask });
}

/** Applies one field's value/mask to a match the way OVS's mf_set does for that field. */
export function setField(match: Match, f: FieldDef, value: bigint, maskArg?: bigint): void {
  let mask = maskArg ?? allOnes(f.bits);
  switch (f.name) {
    case 'in_port_oxm':
      setSlot(match, 'in_port', BigInt(portFromOf11(Number(value))), 0xffffn);
      return;
    case 'dl_vlan':
      // dl_vlan=N: VID N with the tag-present bit; 0xffff means "no VLAN" (tci 0/0xffff) in OVS.
      if (value === 0xffffn) setSlot(match, 'vlan_tci', 0n, 0xffffn);
      else setSlot(match, 'vlan_tci', VLAN_CFI | (value & 0xfffn), VLAN_VID_CFI);
      return;
    case 'vlan_vid':
      // OXM vlan_vid is 13 bits on the wire: the 12-bit VID plus the present bit (0x1000).
      mask = maskArg === undefined ? VLAN_VID_CFI : mask & VLAN_VID_CFI;
      setSlot(match, 'vlan_tci', value & VLAN_VID_CFI, mask);
      return;
    case 'dl_vlan_pcp':
    case 'vlan_pcp':
      setSlot(match, 'vlan_tci', VLAN_CFI | ((value & 7n) << 13n), VLAN_CFI | VLAN_PCP_MASK);
      return;
    case 'ip_dscp':
      setSlot(match, 'nw_tos', (value & 0x3fn) << 2n, 0xfcn);
      return;
    case 'nw_tos':
      setSlot(match, 'nw_tos', value & 0xfcn, 0xfcn);
      return;
    case 'nw_ecn':
      setSlot(match, 'nw_tos', value & 3n, 3n);
      return;
    case 'arp_op':
    case 'nw_proto':
      setSlot(match, 'nw_proto', value & 0xffn, 0xffn);
      return;
    case 'ipv6_label':
      // OVS keeps an exact label with an all-ones 32-bit mask.
      setSlot(match, 'ipv6_label', value & 0xfffffn, mask === 0xfffffn ? 0xffffffffn : mask);
      return;
    case 'icmp_type':
    case 'icmp_code':
    case 'icmpv6_type':
    case 'icmpv6_code':
      setSlot(match, f.slot, value & 0xffn, 0xffffn);
      return;
    default:
      setSlot(match, f.slot, value, mask);
  }
}

/** Any of reg0..reg15? One pass over the few entries a match has, instead of 16 lookups. */
export function hasRegister(m: Match): boolean {
  for (const k of m.keys()) if (k.startsWith('reg')) return true;
  return false;
}

export function slotValue(match: Match, slot: Slot): bigint | undefined {
  const e = match.get(slot);
  return e && e.mask === allOnes(SLOT_BITS[slot]) ? e.value : undefined;
}

const PT_ETHERNET: MatchEntry = { value: 0n, mask: 0xffffffffn };

/**
 * The packet type as OVS keeps it: a match that says the packet is Ethernet (a protocol keyword,
 * any field that needs Ethernet, or packet_type=(0,0)) but holds no Ethernet-level field any more
 * (tp_dst=80 normalised away) keeps packet_type=Ethernet, which OVS matches, stores and sends; with
 * an Ethernet-level field it is implied and left out. So `tp_dst=80` selects the flows that match
 * Ethernet fields, not every flow. Settles `m` in place to that one form and returns it.
 */
export function settleEthernet(m: Match, saidEthernet: boolean): Match {
  const pt = m.get('packet_type');
  if (pt ? pt.value !== 0n : !saidEthernet) return m;
  for (const slot of m.keys()) {
    if (impliesEthernet(slot)) {
      if (pt) m.delete('packet_type');
      return m;
    }
  }
  if (!pt) m.set('packet_type', PT_ETHERNET);
  return m;
}

/** The flow value of a slot, whatever its mask (OVS reads match->flow, which holds value & mask). */
const flowValue = (m: Match, slot: Slot): bigint => m.get(slot)?.value ?? 0n;

/**
 * OVS's ofputil_normalize_match(): a field whose protocol the match does not pin down cannot be
 * matched, so OVS drops it (tp_dst=80 without tcp/udp/sctp, nw_src without ip or arp, ...) and
 * ovs-ofctl logs "normalization changed ofp_match" for the flow-mods it sends. Returns `m` itself
 * when nothing is dropped, else a copy without the dropped slots.
 */
export function normalizeMatch(m: Match): Match {
  const dlType = flowValue(m, 'dl_type');
  const proto = flowValue(m, 'nw_proto');
  let nwAddr = false, tpAddr = false, nwProto = false, ipVx = false, arpSha = false, arpTha = false, ipv6 = false, ndTarget = false;
  if (dlType === ETH_TYPE_IP) {
    nwProto = ipVx = nwAddr = true;
    tpAddr = proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_ICMP;
  } else if (dlType === ETH_TYPE_IPV6) {
    nwProto = ipVx = ipv6 = true;
    tpAddr = proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_ICMPV6;
    if (proto === IPPROTO_ICMPV6) {
      const type = flowValue(m, 'tp_src');
      if (type === 135n) ndTarget = arpSha = true; // neighbour solicitation: nd_target, nd_sll
      else if (type === 136n) ndTarget = arpTha = true; // neighbour advertisement: nd_target, nd_tll
    }
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    nwProto = nwAddr = arpSha = arpTha = true;
  }
  const drop: Slot[] = [];
  const unless = (may: boolean, ...slots: Slot[]): void => {
    if (!may) for (const s of slots) if (m.has(s)) drop.push(s);
  };
  unless(nwAddr, 'nw_src', 'nw_dst');
  unless(tpAddr, 'tp_src', 'tp_dst');
  unless(nwProto, 'nw_proto');
  unless(ipVx, 'nw_tos', 'nw_ttl');
  unless(arpSha, 'arp_sha');
  unless(arpTha, 'arp_tha');
  unless(ipv6, 'ipv6_src', 'ipv6_dst', 'ipv6_label');
  unless(ndTarget, 'nd_target');
  if (drop.length === 0) return m;
  const out: Match = new Map(m);
  for (const s of drop) out.delete(s);
  return out;
}

function isIpAny(m: Match): boolean {
  const t = slotValue(m, 'dl_type');
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function putTlv(w: Writer, f: FieldDef, value: bigint, mask: bigint, bytes: number): void {
  const h = of13Header(f)!;
  const full = allOnes(bytes * 8);
  if (mask === 0n) return;
  if (mask === full || (mask & full) === full || !f.maskable) {
    w.u32((h.header & 0xffffff00) | bytes).uint(value, bytes);
  } else {
    w.u32(((h.header & 0xffffff00) | 0x100 | (bytes * 2)) >>> 0).uint(value & mask, bytes).uint(mask, bytes);
  }
}

function put(w: Writer, m: Match, f: FieldDef, slot: Slot = f.slot): void {
  const e = m.get(slot);
  if (e) putTlv(w, f, e.value, e.mask, of13Header(f)!.header & 0xff);
}

const F = (name: string): FieldDef => fieldByName(name)!;
const F_PACKET_TYPE = F('packet_type'), F_CONJ = F('conj_id'), F_IN_PORT_OXM = F('in_port_oxm'), F_ETH_SRC = F('eth_src'), F_ETH_DST = F('eth_dst');
const F_ETH_TYPE = F('eth_type'), F_VLAN_VID = F('vlan_vid'), F_VLAN_PCP = F('vlan_pcp');
const F_IP_SRC = F('ip_src'), F_IP_DST = F('ip_dst'), F_IPV6_SRC = F('ipv6_src'), F_IPV6_DST = F('ipv6_dst');
const F_IPV6_LABEL = F('ipv6_label'), F_IP_DSCP = F('ip_dscp'), F_NW_ECN = F('nw_ecn'), F_NW_TTL = F('nw_ttl');
const F_NW_PROTO = F('nw_proto'), F_TCP_SRC = F('tcp_src'), F_TCP_DST = F('tcp_dst');
const F_UDP_SRC = F('udp_src'), F_UDP_DST = F('udp_dst'), F_SCTP_SRC = F('sctp_src'), F_SCTP_DST = F('sctp_dst');
const F_ICMP_TYPE = F('icmp_type'), F_ICMP_CODE = F('icmp_code'), F_ICMPV6_TYPE = F('icmpv6_type');
const F_ICMPV6_CODE = F('icmpv6_code'), F_ND_TARGET = F('nd_target'), F_ARP_OP = F('arp_op');
const F_ARP_SPA = F('arp_spa'), F_ARP_TPA = F('arp_tpa'), F_ARP_SHA = F('arp_sha'), F_ARP_THA = F('arp_tha');
const F_TUN_ID = F('tun_id'), F_TUN_SRC = F('tun_src'), F_TUN_DST = F('tun_dst'), F_PKT_MARK = F('pkt_mark');
const F_METADATA = F('metadata');
const F_REGS = Array.from({ length: 16 }, (_, i) => F(`reg${i}`));

/** Writes the OXM TLVs of a match in the order OVS 3.1's nx_put_raw() uses for OpenFlow 1.3. */
export function encodeMatchTlvs(w: Writer, m: Match, unknown: readonly UnknownOxm[] = []): void {
  put(w, m, F_PACKET_TYPE); // first, as OVS requires
  put(w, m, F_CONJ);
  const inPort = m.get('in_port');
  if (inPort) w.u32(F_IN_PORT_OXM.oxm!.header).u32(portToOf11(Number(inPort.value)));
  put(w, m, F_ETH_SRC);
  put(w, m, F_ETH_DST);
  put(w, m, F_ETH_TYPE);
  const tci = m.get('vlan_tci');
  if (tci) {
    const vidMask = tci.mask & VLAN_VID_CFI;
    const vid = tci.value & VLAN_VID_CFI;
    const h = F_VLAN_VID.oxm!.header & 0xffffff00;
    if (vidMask === VLAN_VID_CFI) w.u32(h | 2).u16(Number(vid));
    else if (vidMask) w.u32((h | 0x100 | 4) >>> 0).u16(Number(vid)).u16(Number(vidMask));
    if (vid && (tci.mask & VLAN_PCP_MASK)) w.u32(F_VLAN_PCP.oxm!.header).u8(Number((tci.value >> 13n) & 7n));
  }
  const dlType = slotValue(m, 'dl_type');
  if (isIpAny(m)) {
    if (dlType === ETH_TYPE_IP) {
      put(w, m, F_IP_SRC);
      put(w, m, F_IP_DST);
    } else {
      put(w, m, F_IPV6_SRC);
      put(w, m, F_IPV6_DST);
    }
    const tos = m.get('nw_tos');
    if (tos && tos.mask & 0xfcn) w.u32(F_IP_DSCP.oxm!.header).u8(Number((tos.value & 0xfcn) >> 2n));
    if (tos && tos.mask & 3n) w.u32(F_NW_ECN.oxm!.header).u8(Number(tos.value & 3n));
    put(w, m, F_NW_TTL);
    if (dlType === ETH_TYPE_IPV6) put(w, m, F_IPV6_LABEL);
    const proto = m.get('nw_proto');
    if (proto) {
      put(w, m, F_NW_PROTO);
      const p = proto.value;
      if (p === IPPROTO_TCP) {
        put(w, m, F_TCP_SRC);
        put(w, m, F_TCP_DST);
      } else if (p === IPPROTO_UDP) {
        put(w, m, F_UDP_SRC);
        put(w, m, F_UDP_DST);
      } else if (p === IPPROTO_SCTP) {
        put(w, m, F_SCTP_SRC);
        put(w, m, F_SCTP_DST);
      } else if (p === IPPROTO_ICMP && dlType === ETH_TYPE_IP) {
        putIcmp(w, m, F_ICMP_TYPE, F_ICMP_CODE);
      } else if (p === IPPROTO_ICMPV6 && dlType === ETH_TYPE_IPV6) {
        putIcmp(w, m, F_ICMPV6_TYPE, F_ICMPV6_CODE);
        if (isNd(m)) put(w, m, F_ND_TARGET);
      }
    }
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    const op = m.get('nw_proto');
    if (op) w.u32(F_ARP_OP.oxm!.header).u16(Number(op.value));
    put(w, m, F_ARP_SPA);
    put(w, m, F_ARP_TPA);
    put(w, m, F_ARP_SHA);
    put(w, m, F_ARP_THA);
  }
  put(w, m, F_TUN_ID);
  put(w, m, F_TUN_SRC);
  put(w, m, F_TUN_DST);
  if (hasRegister(m)) for (const r of F_REGS) put(w, m, r);
  put(w, m, F_PKT_MARK);
  put(w, m, F_METADATA);
  for (const u of unknown) w.bytes(u.bytes);
}

function putIcmp(w: Writer, m: Match, type: FieldDef, code: FieldDef): void {
  const t = m.get('tp_src');
  const c = m.get('tp_dst');
  if (t) w.u32(of13Header(type)!.header).u8(Number(t.value));
  if (c) w.u32(of13Header(code)!.header).u8(Number(c.value));
}

function isNd(m: Match): boolean {
  const t = slotValue(m, 'tp_src');
  const c = m.get('tp_dst');
  return (t === 135n || t === 136n) && (!c || c.value === 0n);
}

/** Writes an ofp_match (type OXM) padded to 8 bytes. */
export function encodeMatch(w: Writer, m: Match, unknown: readonly UnknownOxm[] = []): void {
  const start = w.pos;
  w.u16(1).u16(0);
  encodeMatchTlvs(w, m, unknown);
  w.patch16(start + 2, w.pos - start);
  w.padTo(8, start);
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecodedMatch {
  readonly match: Match;
  readonly unknown: readonly UnknownOxm[];
}

/** Reads OXM TLVs from r until it is exhausted. */
const NO_UNKNOWN: UnknownOxm[] = [];

export function decodeMatchTlvs(r: Reader): DecodedMatch {
  const match: Match = new Map();
  let unknown = NO_UNKNOWN;
  const seen: number[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const header = r.u32();
    const cls = header >>> 16;
    const hasMask = (header & 0x100) !== 0;
    const len = header & 0xff;
    if (len === 0) r.fail('OXM field with zero length', at);
    if (len > r.remaining) r.fail(`OXM field of ${len} bytes runs past the match`, at);
    const f = fieldByHeader(header);
    if (!f || (cls !== NXM_OF && cls !== NXM_NX && cls !== OFPXMC_OPENFLOW_BASIC)) {
      if (cls === OFPXMC_EXPERIMENTER && len < 4) r.fail('experimenter OXM shorter than its experimenter id', at);
      if (unknown === NO_UNKNOWN) unknown = [];
      unknown.push({ header, bytes: Buffer.from(r.buf.subarray(at, r.pos + len)) });
      r.skip(len);
      continue;
    }
    const key = header & 0xfffffe00;
    if (seen.includes(key)) r.fail(`duplicate OXM field ${f.name}`, at);
    seen.push(key);
    const bytes = headerValueBytes(f, header);
    if (len !== (hasMask ? bytes * 2 : bytes)) r.fail(`OXM field ${f.name} has length ${len}`, at);
    if (hasMask && !f.maskable && f.name !== 'vlan_vid') r.fail(`OXM field ${f.name} may not be masked`, at);
    // Read in place (no sub-reader per field): the length was checked against what is left.
    const value = r.uint(bytes);
    const mask = hasMask ? r.uint(bytes) : allOnes(bytes * 8);
    if (f.name === 'in_port' || f.name === 'in_port_oxm') {
      const port = f.name === 'in_port' ? Number(value) : portFromOf11(Number(value));
      setSlot(match, 'in_port', BigInt(port), 0xffffn);
    } else if (f.name === 'vlan_vid') {
      setField(match, f, value, hasMask ? mask : VLAN_VID_CFI);
    } else if (DIRECT_SLOTS.has(f.name) && !match.has(f.slot)) {
      // The common case (a field that owns its whole slot, seen once): no merging needed.
      if (!hasMask) match.set(f.slot, { value, mask: allOnes(f.bits) });
      else if (mask !== 0n) match.set(f.slot, { value: value & mask, mask });
    } else {
      setField(match, f, value & mask, hasMask ? mask : allOnes(f.bits));
    }
  }
  // A peer may send the Ethernet packet type beside fields that imply it: keep OVS's one form.
  if (match.has('packet_type')) settleEthernet(match, true);
  return { match, unknown };
}

/** Reads an ofp_match (type 1 = OXM) with its padding. */
export function decodeMatch(r: Reader): DecodedMatch {
  const at = r.pos;
  const type = r.u16();
  const length = r.u16();
  if (type !== 1) r.fail(`match type ${type} is not OXM`, at);
  if (length < 4) r.fail(`match length ${length} < 4`, at);
  const body = r.sub(length - 4);
  const padded = (length + 7) & ~7;
  r.skip(padded - length);
  return decodeMatchTlvs(body);
}

export function matchEquals(a: Match, b: Match): boolean {
  if (a.size !== b.size) return false;
  for (const [k, e] of a) {
    const o = b.get(k);
    if (!o || o.value !== e.value || o.mask !== e.mask) return false;
  }
  return true;
}

