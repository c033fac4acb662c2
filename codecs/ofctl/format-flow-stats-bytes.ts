// `dump-flows` text straight from the bytes of an OFPMP_FLOW reply. A flow whose match uses only
// the common fields (in_port, registers, tun_id, metadata, Ethernet, VLAN VID, IPv4/ARP, TCP/UDP
// ports) is printed without building its Flow object: no Map and no BigInt per field, which is
// most of what decoding and printing a 100k-flow dump costs. Every other flow goes through the
// general decoder and printer (format-flow.ts), which stay the reference: tests hold this file to
// them on OVS's own replies and on fuzzed ones. The rule here: when in doubt (a field not listed,
// an odd length, a repeated slot), hand the flow to the general path, never guess.
import { Reader } from '../openflow/bytes.js';
import { FieldDef, FIELDS, headerValueBytes, PROTOCOL_KEYWORDS } from '../openflow/fields.js';
import { decodeInstructions } from '../openflow/instructions.js';
import { decodeFlowStatsEntry, OFP13_VERSION, OFPMP_FLOW, OfType } from '../openflow/messages.js';
import { formatPort, portFromOf11 } from '../openflow/ports.js';
import { formatInstructions } from './format-actions.js';
import { formatDuration, formatFlow, formatFlowStatsReplyHeader, FormatOptions, formatTimeoutsAndFlags } from './format-flow.js';
import { formatVlanTci } from './format-match.js';
import { HEX2 } from './values.js';

// The match slots this printer handles (fields.ts's slots), one scratch cell each.
const S_IN_PORT = 0;
const S_TUN_ID = 1;
const S_METADATA = 2;
const S_REG0 = 3; // reg0..reg15 are 3..18
const S_DL_SRC = 19;
const S_DL_DST = 20;
const S_DL_TYPE = 21;
const S_VLAN = 22;
const S_NW_SRC = 23;
const S_NW_DST = 24;
const S_NW_PROTO = 25;
const S_TP_SRC = 26;
const S_TP_DST = 27;
const S_ARP_SHA = 28;
const S_ARP_THA = 29;
const N_SLOTS = 30;

/** The fields (by fields.ts name) this printer reads, and their slot. */
const SLOT_OF_FIELD: ReadonlyMap<string, number> = new Map([
  ['in_port', S_IN_PORT], ['in_port_oxm', S_IN_PORT], ['tun_id', S_TUN_ID], ['metadata', S_METADATA],
  ...Array.from({ length: 16 }, (_, i): [string, number] => [`reg${i}`, S_REG0 + i]),
  ['eth_src', S_DL_SRC], ['eth_dst', S_DL_DST], ['eth_type', S_DL_TYPE], ['vlan_vid', S_VLAN],
  ['ip_src', S_NW_SRC], ['arp_spa', S_NW_SRC], ['ip_dst', S_NW_DST], ['arp_tpa', S_NW_DST],
  ['nw_proto', S_NW_PROTO], ['arp_op', S_NW_PROTO],
  ['tcp_src', S_TP_SRC], ['udp_src', S_TP_SRC], ['tcp_dst', S_TP_DST], ['udp_dst', S_TP_DST],
  ['arp_sha', S_ARP_SHA], ['arp_tha', S_ARP_THA],
]);

interface FastField {
  readonly def: FieldDef;
  readonly slot: number;
  /** Value width of this header on the wire (in_port: 2 bytes as NXM, 4 as OXM). */
  readonly bytes: number;
}

/** NXM/OXM header without the has-mask bit → field, for the fields above. */
const FAST_FIELDS: ReadonlyMap<number, FastField> = new Map(FIELDS.flatMap((def) => {
  const slot = SLOT_OF_FIELD.get(def.name);
  if (slot === undefined) return [];
  return [def.nxm, def.oxm].flatMap((h) => (h ? [[h.header, { def, slot, bytes: headerValueBytes(def, h.header) }] as const] : []));
}));

// Per-flow scratch: where each slot's value and mask (-1: none) start in the buffer, and the
// width of the field that set it. Flows are printed one at a time, so one set serves them all.
const valueAt = new Int32Array(N_SLOTS);
const maskAt = new Int32Array(N_SLOTS);
const widthOf = new Int8Array(N_SLOTS);

const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_IPV6 = 0x86dd;
// The protocol keywords formatMatch prints (fields.ts): IPv4 ones by protocol, the others by dl_type.
const IPV4_SHORTHANDS: ReadonlyMap<number, string> = new Map(PROTOCOL_KEYWORDS.flatMap((k) =>
  (k.dlType === BigInt(ETH_IP) && k.nwProto !== undefined ? [[Number(k.nwProto), k.name] as const] : [])));
const KEYWORD_OF_TYPE: ReadonlyMap<number, string> = new Map([...PROTOCOL_KEYWORDS].reverse().flatMap((k) =>
  (k.nwProto === undefined ? [[Number(k.dlType), k.name] as const] : [])));
const WITH_STATS: FormatOptions = { stats: true };
const NO_STATS: FormatOptions = {};

function u16(b: Buffer, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function u32(b: Buffer, p: number): number {
  return (b[p]! * 0x1000000) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function uintAt(b: Buffer, p: number, bytes: number): number {
  return bytes === 1 ? b[p]! : bytes === 2 ? u16(b, p) : u32(b, p);
}

/** A slot's mask (all ones when the field came without one), for fields of up to 32 bits. */
function maskOf(b: Buffer, slot: number): number {
  const bytes = widthOf[slot]!;
  if (maskAt[slot]! < 0) return bytes === 1 ? 0xff : bytes === 2 ? 0xffff : 0xffffffff;
  return uintAt(b, maskAt[slot]!, bytes);
}

/** A slot's value under its mask, as the decoder stores it. */
function valueOf(b: Buffer, slot: number): number {
  return (uintAt(b, valueAt[slot]!, widthOf[slot]!) & maskOf(b, slot)) >>> 0;
}

/** C's `%#x` of a 64-bit number given as two 32-bit halves. */
function hex64(hi: number, lo: number): string {
  if (hi === 0) return lo === 0 ? '0' : `0x${lo.toString(16)}`;
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** A u64 counter in decimal (a double is exact below 2^53; BigInt above). */
function decimal64(b: Buffer, p: number): string {
  const hi = u32(b, p);
  if (hi >= 0x200000) return b.readBigUInt64BE(p).toString();
  return String(hi * 0x100000000 + u32(b, p + 4));
}

/** format_be64_masked (tun_id, metadata): the mask shown unless all ones. */
function hex64Masked(name: string, b: Buffer, slot: number): string {
  const v = valueAt[slot]!;
  const m = maskAt[slot]!;
  if (m < 0) return `${name}=${hex64(u32(b, v), u32(b, v + 4))}`;
  const mh = u32(b, m);
  const ml = u32(b, m + 4);
  const value = hex64((u32(b, v) & mh) >>> 0, (u32(b, v + 4) & ml) >>> 0);
  return mh === 0xffffffff && ml === 0xffffffff ? `${name}=${value}` : `${name}=${value}/${hex64(mh, ml)}`;
}

/** format_uint32_masked (registers). */
function hex32Masked(name: string, b: Buffer, slot: number): string {
  const v = valueOf(b, slot);
  const m = maskOf(b, slot);
  const vt = v === 0 ? '0' : `0x${v.toString(16)}`;
  return m === 0xffffffff ? `${name}=${vt}` : `${name}=${vt}/0x${m.toString(16)}`;
}

/** A MAC at p, under the mask at m (-1: none). */
function mac(b: Buffer, p: number, m: number): string {
  if (m < 0) return `${HEX2[b[p]!]}:${HEX2[b[p + 1]!]}:${HEX2[b[p + 2]!]}:${HEX2[b[p + 3]!]}:${HEX2[b[p + 4]!]}:${HEX2[b[p + 5]!]}`;
  return `${HEX2[b[p]! & b[m]!]}:${HEX2[b[p + 1]! & b[m + 1]!]}:${HEX2[b[p + 2]! & b[m + 2]!]}:`
    + `${HEX2[b[p + 3]! & b[m + 3]!]}:${HEX2[b[p + 4]! & b[m + 4]!]}:${HEX2[b[p + 5]! & b[m + 5]!]}`;
}

function macMasked(b: Buffer, slot: number): string {
  const m = maskAt[slot]!;
  const v = valueAt[slot]!;
  if (m < 0 || (u32(b, m) === 0xffffffff && u16(b, m + 4) === 0xffff)) return mac(b, v, -1);
  return `${mac(b, v, m)}/${mac(b, m, -1)}`;
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** An IPv4 value with its mask as a prefix length when it is CIDR, dotted otherwise. */
function ipv4Masked(b: Buffer, slot: number): string {
  const v = valueOf(b, slot);
  const m = maskOf(b, slot);
  if (m === 0xffffffff) return ipv4(v);
  const host = ~m >>> 0;
  if ((host & (host + 1)) === 0) return `${ipv4(v)}/${Math.clz32(host)}`;
  return `${ipv4(v)}/${ipv4(m)}`;
}

/** format_be16_masked: decimal when exact, `0x%x/0x%x` otherwise. */
function be16Masked(name: string, b: Buffer, slot: number): string {
  const v = valueOf(b, slot);
  const m = maskOf(b, slot);
  return m === 0xffff ? `${name}=${v}` : `${name}=0x${v.toString(16)}/0x${m.toString(16)}`;
}

/**
 * Reads the OXM TLVs of [p, end) into the scratch slots. False when a TLV is one the general
 * decoder treats in any other way: a field not listed, a slot set twice, a length that is not
 * the field's, a mask where the field takes none, an all-zero mask (the decoder drops the field).
 */
function readFastMatch(b: Buffer, p: number, end: number): boolean {
  valueAt.fill(-1);
  maskAt.fill(-1);
  while (p < end) {
    if (end - p < 4) return false;
    const header = u32(b, p);
    const hasMask = (header & 0x100) !== 0;
    const len = header & 0xff;
    const f = FAST_FIELDS.get((((header & 0xfffffe00) >>> 0) | (hasMask ? len >> 1 : len)) >>> 0);
    if (!f || len !== (hasMask ? f.bytes * 2 : f.bytes) || p + 4 + len > end || valueAt[f.slot]! >= 0) return false;
    if (hasMask && !f.def.maskable) return false;
    // An OpenFlow 1.1 port without a 16-bit form: the general decoder refuses it.
    if (f.def.of11Port && f.bytes === 4 && u32(b, p + 4) >= 0xff00 && u32(b, p + 4) < 0xffffff00) return false;
    valueAt[f.slot] = p + 4;
    widthOf[f.slot] = f.bytes;
    if (hasMask) {
      const m = p + 4 + f.bytes;
      let zero = true;
      for (let i = 0; i < f.bytes; i++) if (b[m + i] !== 0) zero = false;
      if (zero) return false;
      maskAt[f.slot] = m;
    }
    p += 4 + len;
  }
  return true;
}

/** in_port as OVS keeps it: NXM's 16-bit port, or OXM's 32-bit OF1.1 port mapped back. */
function inPort(b: Buffer): number {
  const p = valueAt[S_IN_PORT]!;
  return widthOf[S_IN_PORT] === 2 ? u16(b, p) : portFromOf11(u32(b, p)) & 0xffff;
}

/** The match text in formatMatch's order and spellings, from the scratch slots; undefined: not this printer's. */
function matchText(b: Buffer, priority: number): string | undefined {
  let s = priority !== 0x8000 ? `priority=${priority}` : '';
  const add = (part: string): void => {
    s = s ? `${s},${part}` : part;
  };
  const hasType = valueAt[S_DL_TYPE]! >= 0;
  const dlType = hasType ? u16(b, valueAt[S_DL_TYPE]!) : -1;
  if (dlType === ETH_IPV6) return undefined;
  const hasProto = valueAt[S_NW_PROTO]! >= 0;
  // nw_proto is one byte; of arp_op's two, OVS keeps the low one.
  const proto = hasProto ? b[valueAt[S_NW_PROTO]! + widthOf[S_NW_PROTO]! - 1]! : -1;
  const hasTp = valueAt[S_TP_SRC]! >= 0 || valueAt[S_TP_DST]! >= 0;
  if (dlType === ETH_IP && (proto === 1 || proto === 2) && hasTp) return undefined; // icmp_type, igmp_type…
  const isArp = dlType === ETH_ARP || dlType === ETH_RARP;
  if (!isArp && (valueAt[S_ARP_SHA]! >= 0 || valueAt[S_ARP_THA]! >= 0)) return undefined;

  let skipType = false;
  let skipProto = false;
  if (hasType) {
    skipType = true;
    if (dlType === ETH_IP) {
      const short = hasProto ? IPV4_SHORTHANDS.get(proto) : undefined;
      skipProto = short !== undefined;
      add(short ?? KEYWORD_OF_TYPE.get(ETH_IP)!);
    } else {
      const keyword = KEYWORD_OF_TYPE.get(dlType);
      if (keyword !== undefined) add(keyword);
      else skipType = false;
    }
  }
  for (let i = 0; i < 16; i++) if (valueAt[S_REG0 + i]! >= 0) add(hex32Masked(`reg${i}`, b, S_REG0 + i));
  if (valueAt[S_TUN_ID]! >= 0) add(hex64Masked('tun_id', b, S_TUN_ID));
  if (valueAt[S_METADATA]! >= 0) add(hex64Masked('metadata', b, S_METADATA));
  if (valueAt[S_IN_PORT]! >= 0) add(`in_port=${formatPort(inPort(b))}`);
  if (valueAt[S_VLAN]! >= 0) {
    // OXM vlan_vid is 13 bits of the TCI: the VID and the tag-present bit.
    const mask = maskAt[S_VLAN]! >= 0 ? u16(b, maskAt[S_VLAN]!) & 0x1fff : 0x1fff;
    if (mask === 0) return undefined;
    add(formatVlanTci(u16(b, valueAt[S_VLAN]!) & mask, mask));
  }
  if (valueAt[S_DL_SRC]! >= 0) add(`dl_src=${macMasked(b, S_DL_SRC)}`);
  if (valueAt[S_DL_DST]! >= 0) add(`dl_dst=${macMasked(b, S_DL_DST)}`);
  if (!skipType && hasType) add(`dl_type=0x${dlType.toString(16).padStart(4, '0')}`);
  if (valueAt[S_NW_SRC]! >= 0) add(`${isArp ? 'arp_spa' : 'nw_src'}=${ipv4Masked(b, S_NW_SRC)}`);
  if (valueAt[S_NW_DST]! >= 0) add(`${isArp ? 'arp_tpa' : 'nw_dst'}=${ipv4Masked(b, S_NW_DST)}`);
  if (!skipProto && hasProto) add(`${isArp ? 'arp_op' : 'nw_proto'}=${proto}`);
  if (valueAt[S_ARP_SHA]! >= 0) add(`arp_sha=${macMasked(b, S_ARP_SHA)}`);
  if (valueAt[S_ARP_THA]! >= 0) add(`arp_tha=${macMasked(b, S_ARP_THA)}`);
  if (valueAt[S_TP_SRC]! >= 0) add(be16Masked('tp_src', b, S_TP_SRC));
  if (valueAt[S_TP_DST]! >= 0) add(be16Masked('tp_dst', b, S_TP_DST));
  return s;
}

// The text of an instruction list depends on its bytes only, and a table's flows share a few
// lists (output:patch-int, resubmit(,22), goto_table:20…): printed once per dump, not per flow.
const INSTRUCTIONS_MEMO_MAX = 4096;
const instructionsMemo = new Map<string, string>();

/** The `actions=` text of the instructions in [p, end), or undefined when they do not decode. */
function instructionsText(b: Buffer, p: number, end: number): string | undefined {
  const key = b.toString('latin1', p, end);
  let text = instructionsMemo.get(key);
  if (text !== undefined) return text;
  try {
    text = formatInstructions(decodeInstructions(new Reader(b, p, end)));
  } catch {
    return undefined;
  }
  if (instructionsMemo.size >= INSTRUCTIONS_MEMO_MAX) instructionsMemo.clear();
  instructionsMemo.set(key, text);
  return text;
}

/**
 * One flow stats entry at p (formatFlow's text), or undefined when it is not this printer's: a
 * field it does not list, or anything malformed (the general decoder then says what).
 */
function flowText(b: Buffer, p: number, limit: number, stats: boolean): string | undefined {
  const length = limit - p >= 56 ? u16(b, p) : 0;
  if (length < 56 || length % 8 !== 0 || p + length > limit) return undefined;
  const end = p + length;
  const matchLen = u16(b, p + 50);
  const matchEnd = p + 48 + matchLen;
  const padded = p + 48 + ((matchLen + 7) & ~7);
  if (u16(b, p + 48) !== 1 || matchLen < 4 || padded > end || !readFastMatch(b, p + 52, matchEnd)) return undefined;
  const match = matchText(b, u16(b, p + 12));
  if (match === undefined) return undefined;
  const actions = instructionsText(b, padded, end);
  if (actions === undefined) return undefined;

  const table = b[p + 2]!;
  const cookieHi = u32(b, p + 24);
  const cookieLo = u32(b, p + 28);
  let s = '';
  if (stats) {
    s = `cookie=${cookieHi || cookieLo ? hex64(cookieHi, cookieLo) : '0x0'}, duration=${formatDuration(u32(b, p + 4), u32(b, p + 8))}, `
      + `table=${table}, n_packets=${decimal64(b, p + 32)}, n_bytes=${decimal64(b, p + 40)}, `;
  } else {
    if (cookieHi || cookieLo) s = `cookie=${hex64(cookieHi, cookieLo)}, `;
    if (table !== 0) s += `table=${table}, `;
  }
  s += formatTimeoutsAndFlags(u16(b, p + 14), u16(b, p + 16), u16(b, p + 18));
  if (match) s += `${match} `;
  return `${s}actions=${actions}`;
}

/** Counts of how the flows of the replies printed so far were printed (tests check both paths run). */
export const bytePrinterCounts = { direct: 0, general: 0 };

/**
 * The text `ovs-ofctl -O OpenFlow13 dump-flows` prints for one OFPMP_FLOW reply (with stats: its
 * `OFPST_FLOW reply` line and one line per flow; without: the flow lines only), the same as
 * formatFlowStatsReply of the decoded message. Undefined when the message is not a well-formed
 * flow stats reply: decode it as usual then, which reports what is wrong.
 */
export function formatFlowStatsReplyBytes(b: Buffer, stats: boolean): string | undefined {
  if (b.length < 16 || b[0] !== OFP13_VERSION || b[1] !== OfType.MULTIPART_REPLY || u16(b, 2) !== b.length || u16(b, 8) !== OFPMP_FLOW) {
    return undefined;
  }
  let s = stats ? formatFlowStatsReplyHeader(u32(b, 4), u16(b, 10)) : '';
  for (let p = 16; p < b.length; p += u16(b, p)) {
    let line = flowText(b, p, b.length, stats);
    if (line !== undefined) bytePrinterCounts.direct++;
    else {
      try {
        line = formatFlow(decodeFlowStatsEntry(new Reader(b, p, b.length)), stats ? WITH_STATS : NO_STATS);
      } catch {
        return undefined;
      }
      bytePrinterCounts.general++;
    }
    s += ` ${line}\n`;
  }
  return s;
}
