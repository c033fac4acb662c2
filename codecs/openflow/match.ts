// OpenFlow 1.3 OXM match: encode (in OVS's canonical TLV order) and decode (any order, NXM or OXM
// headers) to a slot map. A Match is a map from flow slot to value/mask; an absent slot is wildcarded.
import { Reader, Writer } from './bytes.js';
import {
  allOnes, FieldDef, FieldHeader, fieldByHeader, FIELDS, FIELDS_OF_SLOT, headerOf, headerValueBytes, impliesEthernet, NXM_NX,
  NXM_OF, ERICOXM_OF, OFPXMC_EXPERIMENTER, OFPXMC_OPENFLOW_BASIC, OFPXMC_PACKET_REGS, of13Header, prereqHolds, ProtocolContext, Slot, SLOT_BITS,
} from './fields.js';
import { OFPP_MAX, portFromOf11, portToOf11 } from './ports.js';

export interface MatchEntry {
  readonly value: bigint;
  /**
   * Bits that matter; never 0 (an all-zero mask is a wildcard and is not stored), except for a
   * variable-length field, which a match may name without matching any of its bits (OVS's
   * `tun_metadata0`: the option's present bit). There, all ones (over the field's width) is exact.
   */
  readonly mask: bigint;
  /**
   * A variable-length field's value length in bytes (tun_metadata): what the wire carried, or, for
   * parsed text, the shortest that holds the value (and the mask when masked), as OVS writes it.
   * Undefined for every other field.
   */
  readonly len?: number;
  /**
   * The header a decoded field came with when it is one OVS writes only in OpenFlow 1.5 (the row's
   * of15: NXOXM_ET_DP_HASH), so the match re-encodes byte-exact. Undefined for every other entry.
   */
  readonly header?: FieldHeader;
}

export type Match = Map<Slot, MatchEntry>;

/** Whether a match holds a field of variable length (tun_metadataN), which only the decoder prints. */
export function hasVariableLengthField(m: Match): boolean {
  for (const e of m.values()) if (e.len !== undefined) return true;
  return false;
}

/** An OXM TLV the codec does not know, kept as raw bytes so it can be printed and re-encoded. */
export interface UnknownOxm {
  readonly header: number;
  readonly bytes: Buffer;
}

// The protocol numbers live with the field table; re-exported for the codec's other users.
export {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
} from './fields.js';

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

/**
 * Applies one field's value/mask to a match the way OVS's mf_set does for that field, from the
 * field's row: its value shifted into its bits of the slot, with the bits it always sets (VLAN
 * tag present); an exact match (or a field that takes no mask) stores the row's exact mask.
 */
export function setField(match: Match, f: FieldDef, value: bigint, maskArg?: bigint): void {
  if (f.variableLen) {
    setVariable(match, f, value, maskArg);
    return;
  }
  if (f.parts) {
    // A wide register: each 32-bit register its share, the most significant first.
    const n = f.parts.length;
    for (let i = 0; i < n; i++) {
      const shift = BigInt(32 * (n - 1 - i));
      const m = maskArg === undefined ? undefined : (maskArg >> shift) & 0xffffffffn;
      if (m !== 0n) setField(match, f.parts[i]!, (value >> shift) & 0xffffffffn, m);
    }
    return;
  }
  if (f.maskIsValue) {
    // OVS's bug, kept: the value is stored as its own mask.
    setSlot(match, f.slot, value & (maskArg ?? allOnes(f.bits)), value);
    return;
  }
  if (f.absentValue !== undefined && value === f.absentValue) {
    setSlot(match, f.slot, 0n, allOnes(SLOT_BITS[f.slot]));
    return;
  }
  if (f.of11Port) value = BigInt(portFromOf11(Number(value)));
  const shift = f.slotShift ? BigInt(f.slotShift) : 0n;
  const sm = f.slotMask;
  let mask = f.exactMask;
  if (maskArg !== undefined && f.maskable) {
    const m = shift ? (maskArg << shift) & sm : maskArg & sm;
    if (m !== sm) mask = m;
  }
  setSlot(match, f.slot, ((shift ? value << shift : value) & sm) | f.presentBits, mask | f.presentBits);
}

/** Bytes needed to hold v (0 for 0): OVS's field_len() of a variable-length value. */
export function byteLength(v: bigint): number {
  return v === 0n ? 0 : Math.ceil(v.toString(16).length / 2);
}

/**
 * A variable-length field as tun_metadata_set_match() keeps it without a TLV map: exact (all-ones
 * mask) at the shortest length that holds the value; masked at the shortest that holds the value
 * and the mask, even a zero mask (the field named alone).
 */
function setVariable(match: Match, f: FieldDef, value: bigint, mask?: bigint): void {
  const full = allOnes(f.bits);
  if (mask === undefined || mask === full) match.set(f.slot, { value, mask: full, len: byteLength(value) });
  else match.set(f.slot, { value: value & mask, mask, len: Math.max(byteLength(value), byteLength(mask)) });
}

/** Whether a variable-length field's entry is masked on the wire (its mask is not all ones over the field). */
export function variableMasked(f: FieldDef, e: MatchEntry): boolean {
  return e.mask !== allOnes(f.bits);
}

/**
 * The match with each variable-length value at the shortest length that holds it (and its mask),
 * as ovs-ofctl keeps a decoded match: a switch with a TLV map sends the mapped length, which OVS's
 * match equality ignores. For flow identity and comparison; `m` itself when nothing changes.
 */
export function shortestLengths(m: Match): Match {
  let out: Match | undefined;
  for (const [slot, e] of m) {
    if (e.len === undefined) continue;
    const f = FIELDS_OF_SLOT.get(slot)![0]!;
    const len = variableMasked(f, e) ? Math.max(byteLength(e.value), byteLength(e.mask)) : byteLength(e.value);
    if (len !== e.len) (out ??= new Map(m)).set(slot, { value: e.value, mask: e.mask, len });
  }
  return out ?? m;
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
const VLAN_VID_CFI = 0x1fffn;

/**
 * Whether a match entry stands for "Ethernet". PCP bits without a VID are not carried by OpenFlow
 * 1.3 (OVS's encoder writes nothing for them): such a vlan_tci does not.
 */
export function entryImpliesEthernet(slot: Slot, e: MatchEntry): boolean {
  return impliesEthernet(slot) && (slot !== 'vlan_tci' || (e.mask & VLAN_VID_CFI) !== 0n);
}

export function settleEthernet(m: Match, saidEthernet: boolean): Match {
  const pt = m.get('packet_type');
  if (pt ? pt.value !== 0n : !saidEthernet) return m;
  for (const [slot, e] of m) {
    if (entryImpliesEthernet(slot, e)) {
      if (pt) m.delete('packet_type');
      return m;
    }
  }
  if (!pt) m.set('packet_type', PT_ETHERNET);
  return m;
}

/** The flow value of a slot, whatever its mask (OVS reads match->flow, which holds value & mask). */
const flowValue = (m: Match, slot: Slot): bigint | undefined => m.get(slot)?.value;

/**
 * OVS's get_dl_type(): the Ethertype a packet type of namespace 1 names ((1,0x894f): NSH without
 * Ethernet), else the dl_type matched.
 */
export function packetDlType(m: Match, read: (m: Match, slot: Slot) => bigint | undefined = flowValue): bigint | undefined {
  const pt = m.get('packet_type');
  return pt && pt.value >> 16n === 1n ? pt.value & 0xffffn : read(m, 'dl_type');
}

/**
 * What the match says about protocols. `loose`: as ofputil_normalize_match() reads it (values
 * whatever their mask, the ICMP code unchecked); otherwise as nx_put_raw() does (exact values).
 */
export function protocolContext(m: Match, loose: boolean): ProtocolContext {
  const read = loose ? flowValue : slotValue;
  const code = m.get('tp_dst');
  return {
    dlType: packetDlType(m, read),
    nwProto: m.get('nw_proto')?.value,
    vlan: ((m.get('vlan_tci')?.value ?? 0n) & 0x1fffn) !== 0n,
    icmpType: read(m, 'tp_src'),
    ndCode: loose || !code || code.value === 0n,
    ctNwProto: m.get('ct_nw_proto')?.value,
    erspanVer: undefined, nshMdType: undefined,
  };
}

/**
 * OVS's ofputil_normalize_match(): a field whose protocol the match does not pin down cannot be
 * matched, so OVS drops it (tp_dst=80 without tcp/udp/sctp, nw_src without ip or arp, ...) and
 * ovs-ofctl logs "normalization changed ofp_match" for the flow-mods it sends. A slot stays when
 * the prerequisite of some field viewing it holds. Returns `m` itself when nothing is dropped,
 * else a copy without the dropped slots.
 */
export function normalizeMatch(m: Match): Match {
  let c: ProtocolContext | undefined;
  let out: Match | undefined;
  for (const slot of m.keys()) {
    const fields = FIELDS_OF_SLOT.get(slot)!;
    if (fields[0]!.prereq === 'none' || fields[0]!.prereq === 'ethernet') continue; // the common case, without a context
    c ??= protocolContext(m, true);
    const ctx = c;
    if (fields.some((f) => prereqHolds(f.prereq, ctx))) continue;
    out ??= new Map(m);
    out.delete(slot);
  }
  return out ?? m;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** The rows OVS writes in an OpenFlow 1.3 match, in nx_put_raw()'s order (built on the first encode, not at load). */
let ENCODED: readonly FieldDef[] = [];
/** ENCODED's indexes by slot, one pass (not a scan of ENCODED per slot: ~26k calls at every start). */
let ENCODED_OF_SLOT: ReadonlyMap<Slot, readonly number[]> | undefined;
/** Scratch: the ENCODED indexes of one match, sorted (matches are encoded one at a time; each row at most once). */
let order = new Int32Array(0);

function encodedOfSlot(): ReadonlyMap<Slot, readonly number[]> {
  if (ENCODED_OF_SLOT) return ENCODED_OF_SLOT;
  ENCODED = FIELDS.filter((f) => f.oxmRank !== undefined).sort((a, b) => a.oxmRank! - b.oxmRank!);
  const m = new Map<Slot, number[]>([...FIELDS_OF_SLOT.keys()].map((slot) => [slot, []]));
  ENCODED.forEach((f, i) => m.get(f.slot)!.push(i));
  order = new Int32Array(ENCODED.length);
  return (ENCODED_OF_SLOT = m);
}

/** Writes one field's TLV from its slot's entry: its bits of the slot, exact or masked. */
function putField(w: Writer, f: FieldDef, e: MatchEntry): void {
  const hdr = e.header !== undefined && e.header === f.of15 ? e.header : of13Header(f)!;
  if (f.variableLen) {
    const bytes = e.len ?? byteLength(e.value);
    if (variableMasked(f, e)) w.u32(((hdr.header & 0xffffff00) | 0x100 | (bytes * 2)) >>> 0).uint(e.value, bytes).uint(e.mask, bytes);
    else w.u32(((hdr.header & 0xffffff00) | bytes) >>> 0).uint(e.value, bytes);
    return;
  }
  const h = hdr.header;
  const bytes = h & 0xff;
  const shift = f.slotShift ? BigInt(f.slotShift) : 0n;
  let value = shift ? (e.value & f.slotMask) >> shift : e.value & f.slotMask;
  if (f.of11Port) value = BigInt(portToOf11(Number(value)));
  const mask = shift ? (e.mask & f.slotMask) >> shift : e.mask & f.slotMask;
  // An experimenter OXM's length also counts its 4-byte experimenter id.
  const exp = hdr.experimenter === undefined ? 0 : 4;
  if (mask === f.wireExact || !f.maskable) {
    w.u32(((h & 0xffffff00) | (bytes + exp)) >>> 0);
    if (exp) w.u32(hdr.experimenter!);
    w.uint(value, bytes);
  } else {
    w.u32(((h & 0xffffff00) | 0x100 | (bytes * 2 + exp)) >>> 0);
    if (exp) w.u32(hdr.experimenter!);
    w.uint(value & mask, bytes).uint(mask, bytes);
  }
}

/**
 * Writes the OXM TLVs of a match in the order OVS 3.1's nx_put_raw() uses for OpenFlow 1.3: each
 * row with an oxmRank, in rank order, whose slot the match holds (on some of the row's bits) and
 * whose prerequisite holds.
 */
export function encodeMatchTlvs(w: Writer, m: Match, unknown: readonly UnknownOxm[] = []): void {
  let n = 0;
  const ofSlot = encodedOfSlot();
  for (const slot of m.keys()) {
    for (const i of ofSlot.get(slot)!) {
      let k = n++;
      while (k > 0 && order[k - 1]! > i) order[k] = order[--k]!;
      order[k] = i;
    }
  }
  let c: ProtocolContext | undefined;
  for (let k = 0; k < n; k++) {
    const f = ENCODED[order[k]!]!;
    const e = m.get(f.slot)!;
    if ((e.mask & f.slotMask) === 0n && !f.variableLen) continue;
    if (f.prereq !== 'none' && f.prereq !== 'ethernet' && !prereqHolds(f.prereq, (c ??= protocolContext(m, false)))) continue;
    putField(w, f, e);
  }
  for (const u of unknown) w.bytes(u.bytes);
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
    let header = r.u32();
    const cls = header >>> 16;
    const hasMask = (header & 0x100) !== 0;
    let len = header & 0xff;
    if (len > r.remaining) r.fail(`OXM field of ${len} bytes runs past the match`, at);
    let f: FieldDef | undefined;
    if (cls === OFPXMC_EXPERIMENTER) {
      if (len < 4) r.fail('experimenter OXM shorter than its experimenter id', at);
      // Looked up with its length less the experimenter id, as the field table keeps it.
      f = len > 4 ? fieldByHeader(((header & 0xffffff00) | (len - 4)) >>> 0, r.buf.readUInt32BE(r.pos)) : undefined;
      if (f) {
        r.skip(4);
        len -= 4;
        header = ((header & 0xffffff00) | len) >>> 0;
      }
    } else if (cls === NXM_OF || cls === NXM_NX || cls === OFPXMC_OPENFLOW_BASIC || cls === OFPXMC_PACKET_REGS || cls === ERICOXM_OF) {
      f = fieldByHeader(header);
    }
    if (!f) {
      if (unknown === NO_UNKNOWN) unknown = [];
      unknown.push({ header, bytes: Buffer.from(r.buf.subarray(at, r.pos + len)) });
      r.skip(len);
      continue;
    }
    const key = header & 0xfffffe00;
    if (seen.includes(key)) r.fail(`duplicate OXM field ${f.name}`, at);
    seen.push(key);
    if (f.variableLen) {
      // Any length up to the field's (zero too: `tun_metadata0` alone is masked and empty).
      const bytes = hasMask ? len >> 1 : len;
      if ((hasMask && len & 1) || bytes > f.bits / 8) r.fail(`OXM field ${f.name} has length ${len}`, at);
      const value = r.uint(bytes);
      const mask = hasMask ? r.uint(bytes) : allOnes(f.bits);
      match.set(f.slot, { value: value & mask, mask, len: bytes });
      continue;
    }
    if (len === 0) r.fail('OXM field with zero length', at);
    const bytes = headerValueBytes(f, header);
    if (len !== (hasMask ? bytes * 2 : bytes)) r.fail(`OXM field ${f.name} has length ${len}`, at);
    if (hasMask && !f.maskable) r.fail(`OXM field ${f.name} may not be masked`, at);
    // Read in place (no sub-reader per field): the length was checked against what is left.
    const value = r.uint(bytes);
    // OVS's mf_is_value_valid() (OFPBMC_BAD_VALUE): no bits beyond the field's (ip_dscp, mpls_label…; a
    // VLAN VID carries its present bit), and an OpenFlow 1.1 port must have a 16-bit form.
    if ((f.bits < bytes * 8 && f.name !== 'vlan_vid' && value > allOnes(f.bits))
      || (f.of11Port && value >= BigInt(OFPP_MAX) && value < 0xffffff00n)) {
      r.fail(`OXM field ${f.name} has an invalid value 0x${value.toString(16)}`, at);
    }
    if (f.wholeSlot && !match.has(f.slot)) {
      // The common case (a field that owns its whole slot, seen once): no merging needed.
      if (!hasMask) match.set(f.slot, { value, mask: f.exactMask });
      else {
        const mask = r.uint(bytes);
        if (mask !== 0n) match.set(f.slot, { value: value & mask, mask });
      }
    } else if (hasMask) {
      const mask = r.uint(bytes);
      setField(match, f, value & mask, mask);
    } else {
      setField(match, f, value);
    }
    // A field under its OpenFlow 1.5 header keeps it, to be written back so.
    if (f.of15 && headerOf(f, header) === f.of15) {
      const e = match.get(f.slot);
      if (e) match.set(f.slot, { value: e.value, mask: e.mask, header: f.of15 });
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

