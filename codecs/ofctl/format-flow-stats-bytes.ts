// `dump-flows` text straight from the bytes of an OFPMP_FLOW reply, written as bytes into big
// chunks (TextSink). Per flow: the counters, cookie and timeouts from their bytes; the match from
// its OXM bytes when it uses only the common fields (in_port, registers, tun_id, metadata,
// Ethernet, VLAN VID, IPv4/ARP, TCP/UDP ports), else decoded and printed by the general match
// code; the instructions walked action by action, each action's text printed once per dump by
// its record (a memo keyed by its bytes) or, for set_field, from its bytes. No Map and no BigInt
// per field and no Action objects per flow, which is most of what decoding and printing a dump
// costs. What the walk does not take goes to the general decoder and printer (format-flow.ts),
// which stay the reference: tests hold this file to them on OVS's own replies and on fuzzed ones.
// The rule here: when in doubt (a field not listed, an odd length, a repeated slot), hand the
// flow, its match or its instructions to the general path, never guess.
import { Reader } from '../openflow/bytes.js';
import { FieldDef, fieldByHeader, FIELDS, headerValueBytes, PROTOCOL_KEYWORDS } from '../openflow/fields.js';
import { decodeInstructions } from '../openflow/instructions.js';
import { decodeMatch } from '../openflow/match.js';
import { decodeFlowStatsEntry, OFP13_VERSION, OFPMP_FLOW, OfType } from '../openflow/messages.js';
import { formatPort, portFromOf11 } from '../openflow/ports.js';
import { decodeActions, formatAction } from '../actions/index.js';
import { OFPAT_SET_FIELD, setFieldText } from '../actions/set-field.js';
import { formatInstructions } from './format-actions.js';
import { formatDuration, formatFlow, formatFlowStatsReplyHeader, FormatOptions, formatTimeoutsAndFlags } from './format-flow.js';
import { formatMatch, formatVlanTci } from './format-match.js';
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

/** C's `%#x` of a 64-bit number given as two 32-bit halves (set_field's text). */
function hex64(hi: number, lo: number): string {
  if (hi === 0) return lo === 0 ? '0' : `0x${lo.toString(16)}`;
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** format_be64_masked (tun_id, metadata): the mask shown unless all ones. */
function writeHex64Masked(out: TextSink, name: string, b: Buffer, slot: number): void {
  const v = valueAt[slot]!;
  const m = maskAt[slot]!;
  out.write(name);
  out.byte(EQUALS);
  if (m < 0) {
    out.hex64(u32(b, v), u32(b, v + 4));
    return;
  }
  const mh = u32(b, m);
  const ml = u32(b, m + 4);
  out.hex64((u32(b, v) & mh) >>> 0, (u32(b, v + 4) & ml) >>> 0);
  if (mh !== 0xffffffff || ml !== 0xffffffff) {
    out.byte(SLASH);
    out.hex64(mh, ml);
  }
}

/** format_uint32_masked (registers). */
function writeHex32Masked(out: TextSink, name: string, b: Buffer, slot: number): void {
  const m = maskOf(b, slot);
  out.write(name);
  out.byte(EQUALS);
  out.hex64(0, valueOf(b, slot));
  if (m !== 0xffffffff) {
    out.write('/0x');
    out.hex(m);
  }
}

/** A MAC at p, under the mask at m (-1: none). */
function mac(b: Buffer, p: number, m: number): string {
  if (m < 0) return `${HEX2[b[p]!]}:${HEX2[b[p + 1]!]}:${HEX2[b[p + 2]!]}:${HEX2[b[p + 3]!]}:${HEX2[b[p + 4]!]}:${HEX2[b[p + 5]!]}`;
  return `${HEX2[b[p]! & b[m]!]}:${HEX2[b[p + 1]! & b[m + 1]!]}:${HEX2[b[p + 2]! & b[m + 2]!]}:`
    + `${HEX2[b[p + 3]! & b[m + 3]!]}:${HEX2[b[p + 4]! & b[m + 4]!]}:${HEX2[b[p + 5]! & b[m + 5]!]}`;
}

/** A MAC at p, under the mask at m (-1: none), written byte by byte. */
function writeMac(out: TextSink, b: Buffer, p: number, m: number): void {
  for (let i = 0; i < 6; i++) {
    if (i) out.byte(COLON);
    out.hex2(m < 0 ? b[p + i]! : b[p + i]! & b[m + i]!);
  }
}

function writeMacMasked(out: TextSink, name: string, b: Buffer, slot: number): void {
  const m = maskAt[slot]!;
  const v = valueAt[slot]!;
  out.write(name);
  out.byte(EQUALS);
  if (m < 0 || (u32(b, m) === 0xffffffff && u16(b, m + 4) === 0xffff)) {
    writeMac(out, b, v, -1);
  } else {
    writeMac(out, b, v, m);
    out.byte(SLASH);
    writeMac(out, b, m, -1);
  }
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function writeIpv4(out: TextSink, n: number): void {
  out.dec(n >>> 24);
  out.byte(DOT);
  out.dec((n >>> 16) & 255);
  out.byte(DOT);
  out.dec((n >>> 8) & 255);
  out.byte(DOT);
  out.dec(n & 255);
}

/** An IPv4 value with its mask as a prefix length when it is CIDR, dotted otherwise. */
function writeIpv4Masked(out: TextSink, name: string, b: Buffer, slot: number): void {
  const v = valueOf(b, slot);
  const m = maskOf(b, slot);
  out.write(name);
  out.byte(EQUALS);
  writeIpv4(out, v);
  if (m === 0xffffffff) return;
  out.byte(SLASH);
  const host = ~m >>> 0;
  if ((host & (host + 1)) === 0) out.dec(Math.clz32(host));
  else writeIpv4(out, m);
}

/** format_be16_masked: decimal when exact, `0x%x/0x%x` otherwise. */
function writeBe16Masked(out: TextSink, name: string, b: Buffer, slot: number): void {
  const v = valueOf(b, slot);
  const m = maskOf(b, slot);
  out.write(name);
  out.byte(EQUALS);
  if (m === 0xffff) {
    out.dec(v);
    return;
  }
  out.write('0x');
  out.hex(v);
  out.write('/0x');
  out.hex(m);
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

/** Whether the match being written has a part yet (each further part is preceded by a comma). */
let hasPart = false;

function part(out: TextSink): void {
  if (hasPart) out.byte(COMMA);
  hasPart = true;
}

/**
 * Writes the match text in formatMatch's order and spellings from the scratch slots, and returns
 * true; false when it is not this printer's (the caller drops what was written).
 */
function writeMatch(out: TextSink, b: Buffer, priority: number): boolean {
  const hasType = valueAt[S_DL_TYPE]! >= 0;
  const dlType = hasType ? u16(b, valueAt[S_DL_TYPE]!) : -1;
  if (dlType === ETH_IPV6) return false;
  const hasProto = valueAt[S_NW_PROTO]! >= 0;
  // nw_proto is one byte; of arp_op's two, OVS keeps the low one.
  const proto = hasProto ? b[valueAt[S_NW_PROTO]! + widthOf[S_NW_PROTO]! - 1]! : -1;
  const hasTp = valueAt[S_TP_SRC]! >= 0 || valueAt[S_TP_DST]! >= 0;
  if (dlType === ETH_IP && (proto === 1 || proto === 2) && hasTp) return false; // icmp_type, igmp_type…
  const isArp = dlType === ETH_ARP || dlType === ETH_RARP;
  if (!isArp && (valueAt[S_ARP_SHA]! >= 0 || valueAt[S_ARP_THA]! >= 0)) return false;
  let vlanMask = 0;
  if (valueAt[S_VLAN]! >= 0) {
    // OXM vlan_vid is 13 bits of the TCI: the VID and the tag-present bit.
    vlanMask = maskAt[S_VLAN]! >= 0 ? u16(b, maskAt[S_VLAN]!) & 0x1fff : 0x1fff;
    if (vlanMask === 0) return false;
  }

  hasPart = false;
  if (priority !== 0x8000) {
    part(out);
    out.write('priority=');
    out.dec(priority);
  }
  let skipType = false;
  let skipProto = false;
  if (hasType) {
    skipType = true;
    if (dlType === ETH_IP) {
      const short = hasProto ? IPV4_SHORTHANDS.get(proto) : undefined;
      skipProto = short !== undefined;
      part(out);
      out.write(short ?? KEYWORD_OF_TYPE.get(ETH_IP)!);
    } else {
      const keyword = KEYWORD_OF_TYPE.get(dlType);
      if (keyword !== undefined) {
        part(out);
        out.write(keyword);
      } else {
        skipType = false;
      }
    }
  }
  for (let i = 0; i < 16; i++) {
    if (valueAt[S_REG0 + i]! >= 0) {
      part(out);
      writeHex32Masked(out, REG_NAMES[i]!, b, S_REG0 + i);
    }
  }
  if (valueAt[S_TUN_ID]! >= 0) {
    part(out);
    writeHex64Masked(out, 'tun_id', b, S_TUN_ID);
  }
  if (valueAt[S_METADATA]! >= 0) {
    part(out);
    writeHex64Masked(out, 'metadata', b, S_METADATA);
  }
  if (valueAt[S_IN_PORT]! >= 0) {
    part(out);
    out.write('in_port=');
    out.write(formatPort(inPort(b)));
  }
  if (vlanMask) {
    part(out);
    out.write(formatVlanTci(u16(b, valueAt[S_VLAN]!) & vlanMask, vlanMask));
  }
  if (valueAt[S_DL_SRC]! >= 0) {
    part(out);
    writeMacMasked(out, 'dl_src', b, S_DL_SRC);
  }
  if (valueAt[S_DL_DST]! >= 0) {
    part(out);
    writeMacMasked(out, 'dl_dst', b, S_DL_DST);
  }
  if (!skipType && hasType) {
    part(out);
    out.write('dl_type=0x');
    out.hexPad(dlType, 4);
  }
  if (valueAt[S_NW_SRC]! >= 0) {
    part(out);
    writeIpv4Masked(out, isArp ? 'arp_spa' : 'nw_src', b, S_NW_SRC);
  }
  if (valueAt[S_NW_DST]! >= 0) {
    part(out);
    writeIpv4Masked(out, isArp ? 'arp_tpa' : 'nw_dst', b, S_NW_DST);
  }
  if (!skipProto && hasProto) {
    part(out);
    out.write(isArp ? 'arp_op=' : 'nw_proto=');
    out.dec(proto);
  }
  if (valueAt[S_ARP_SHA]! >= 0) {
    part(out);
    writeMacMasked(out, 'arp_sha', b, S_ARP_SHA);
  }
  if (valueAt[S_ARP_THA]! >= 0) {
    part(out);
    writeMacMasked(out, 'arp_tha', b, S_ARP_THA);
  }
  if (valueAt[S_TP_SRC]! >= 0) {
    part(out);
    writeBe16Masked(out, 'tp_src', b, S_TP_SRC);
  }
  if (valueAt[S_TP_DST]! >= 0) {
    part(out);
    writeBe16Masked(out, 'tp_dst', b, S_TP_DST);
  }
  if (hasPart) out.byte(SPACE);
  return true;
}

const REG_NAMES = Array.from({ length: 16 }, (_, i) => `reg${i}`);

/**
 * Texts by the bytes they were printed from, looked up without building a key (a hash of the
 * bytes, then a comparison with the copy kept in one arena). Bounded: when full it starts again,
 * so a dump of distinct values costs a hash and a miss each, and the common texts come back at once.
 */
class BytesMemo {
  private readonly entries = new Map<number, { readonly at: number; readonly len: number; readonly text: string }>();
  private readonly arena: Uint8Array;
  private used = 0;

  constructor(private readonly max: number, arenaBytes: number) {
    this.arena = new Uint8Array(arenaBytes);
  }

  static hash(b: Buffer, p: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = p; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return h;
  }

  get(h: number, b: Buffer, p: number, end: number): string | undefined {
    const e = this.entries.get(h);
    if (e === undefined || e.len !== end - p) return undefined;
    const a = this.arena;
    for (let i = 0, at = e.at; i < e.len; i++) if (a[at + i] !== b[p + i]) return undefined;
    return e.text;
  }

  set(h: number, b: Buffer, p: number, end: number, text: string): void {
    const len = end - p;
    if (len > this.arena.length) return;
    if (this.entries.size >= this.max || this.used + len > this.arena.length) {
      this.entries.clear();
      this.used = 0;
    }
    this.arena.set(b.subarray(p, end), this.used);
    this.entries.set(h, { at: this.used, len, text });
    this.used += len;
  }
}

// The text of an action depends on its bytes only, and a pipeline's flows share most of their
// actions (output:patch-int, resubmit(,22), move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]…): each one
// is decoded and printed by its record once per dump, not once per flow.
const actionMemo = new BytesMemo(16384, 1 << 20);

/**
 * A set_field's text printed from its bytes, as its record prints it, for the fields whose value
 * is a MAC, an IPv4 address or a number of up to 32 bits (64 in hex): each flow's own addresses
 * in ARP responders and the like, which the memo would only see once. Undefined for anything else
 * and anything the record's decoder may refuse (it then decodes and prints it, or says why not).
 */
function setFieldBytesText(b: Buffer, p: number, end: number): string | undefined {
  if (u16(b, p) !== OFPAT_SET_FIELD || end - p < 8) return undefined;
  const header = u32(b, p + 4);
  const f = header & 0x100 ? undefined : fieldByHeader(header);
  const n = header & 0xff;
  if (!f || !f.writable || n !== headerValueBytes(f, header) || p + 8 + n > end) return undefined;
  const v = p + 8;
  switch (f.format) {
    case 'ethernet':
      return n === 6 ? setFieldText(mac(b, v, -1), f) : undefined;
    case 'ipv4':
      return n === 4 ? setFieldText(ipv4(u32(b, v)), f) : undefined;
    case 'decimal':
    case 'hex': {
      if (f.format === 'hex' && n === 8 && f.bits === 64) return setFieldText(hex64(u32(b, v), u32(b, v + 4)), f);
      if (n !== 1 && n !== 2 && n !== 4) return undefined;
      const x = uintAt(b, v, n);
      // vlan_vid: the record refuses a VID without its present bit, and prints one with it.
      if ((f.bits < 32 && x >= 2 ** f.bits) || f.name === 'vlan_vid') return undefined;
      return setFieldText(f.format === 'decimal' ? String(x) : x === 0 ? '0' : `0x${x.toString(16)}`, f);
    }
    default:
      return undefined;
  }
}

/** The text of the one action in [p, end) (its record's print), or undefined when it does not decode. */
function actionText(b: Buffer, p: number, end: number): string | undefined {
  const direct = setFieldBytesText(b, p, end);
  if (direct !== undefined) return direct;
  const h = BytesMemo.hash(b, p, end);
  let text = actionMemo.get(h, b, p, end);
  if (text !== undefined) return text;
  try {
    // Decoded alone, as decodeActions decodes each action of a list (no action reads its neighbours).
    const actions = decodeActions(new Reader(b, p, end));
    if (actions.length !== 1) return undefined;
    text = formatAction(actions[0]!);
  } catch {
    return undefined;
  }
  actionMemo.set(h, b, p, end, text);
  return text;
}

// The texts of the actions of the flow being printed, apply-actions' then write-actions'.
const texts: string[] = [];
let nTexts = 0;

/**
 * Appends the texts of the action list in [p, end) to `texts`; false when one of its actions is
 * not this printer's (a length that does not add up, an action that does not decode).
 */
function readActions(b: Buffer, p: number, end: number): boolean {
  while (p < end) {
    const len = end - p >= 4 ? u16(b, p + 2) : 0;
    if (len < 8 || len % 8 !== 0 || p + len > end) return false;
    const text = actionText(b, p, p + len);
    if (text === undefined) return false;
    texts[nTexts++] = text;
    p += len;
  }
  return true;
}

/** Writes texts [from, to) comma-separated. */
function writeTexts(out: TextSink, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    if (i > from) out.byte(COMMA);
    out.write(texts[i]!);
  }
}

const OFPIT_WRITE_ACTIONS = 3;
const OFPIT_APPLY_ACTIONS = 4;
const OFPIT_CLEAR_ACTIONS = 5;
/** The instructions this printer walks (goto-table 1, write 3, apply 4, clear 5), by the order formatInstructions prints them (and OVS writes them). */
const INSTRUCTION_RANK = [-1, 3, -1, 2, 0, 1, -1];

/**
 * Writes the instructions in [p, end) as formatInstructions prints them, action by action, and
 * returns true; false having written nothing when they do not decode. What it walks:
 * apply-actions, clear-actions, write-actions and goto-table, each once, in the order OVS writes
 * them and with their exact lengths; any other instruction, order or length goes to the general
 * decoder and printer (writeGeneralInstructions).
 */
function writeInstructions(out: TextSink, b: Buffer, p: number, end: number): boolean {
  nTexts = 0;
  let applyTo = 0;
  let write = -1;
  let clear = false;
  let gotoTable = -1;
  let rank = -1;
  for (let q = p; q < end;) {
    if (end - q < 8) return writeGeneralInstructions(out, b, p, end);
    const type = u16(b, q);
    const len = u16(b, q + 2);
    const r = type < INSTRUCTION_RANK.length ? INSTRUCTION_RANK[type]! : -1;
    if (r <= rank || len < 8 || len % 8 !== 0 || q + len > end) return writeGeneralInstructions(out, b, p, end);
    rank = r;
    if (type === OFPIT_APPLY_ACTIONS || type === OFPIT_WRITE_ACTIONS) {
      if (type === OFPIT_WRITE_ACTIONS) write = nTexts;
      if (!readActions(b, q + 8, q + len)) return writeGeneralInstructions(out, b, p, end);
      if (type === OFPIT_APPLY_ACTIONS) applyTo = nTexts;
    } else if (len !== 8) {
      return writeGeneralInstructions(out, b, p, end);
    } else if (type === OFPIT_CLEAR_ACTIONS) {
      clear = true;
    } else {
      gotoTable = b[q + 4]!;
    }
    q += len;
  }
  let parts = 0;
  if (applyTo > 0) {
    writeTexts(out, 0, applyTo);
    parts++;
  }
  if (clear) {
    if (parts++) out.byte(COMMA);
    out.write('clear_actions');
  }
  if (write >= 0) {
    if (parts++) out.byte(COMMA);
    out.write('write_actions(');
    if (write < nTexts) writeTexts(out, write, nTexts);
    else out.write('drop');
    out.byte(CLOSE);
  }
  if (gotoTable >= 0) {
    if (parts++) out.byte(COMMA);
    out.write(`goto_table:${gotoTable}`);
  }
  if (!parts) out.write('drop');
  return true;
}

// Instruction lists this printer does not walk: decoded and printed whole, once per distinct list.
const instructionsMemo = new BytesMemo(4096, 1 << 20);

function writeGeneralInstructions(out: TextSink, b: Buffer, p: number, end: number): boolean {
  const h = BytesMemo.hash(b, p, end);
  let text = instructionsMemo.get(h, b, p, end);
  if (text === undefined) {
    try {
      text = formatInstructions(decodeInstructions(new Reader(b, p, end)));
    } catch {
      return false;
    }
    instructionsMemo.set(h, b, p, end, text);
  }
  out.write(text);
  return true;
}

/**
 * Writes one flow stats entry at p (formatFlow's text) and returns true, or returns false having
 * written nothing when it is not this printer's: anything malformed (the general decoder then
 * says what).
 */
function writeFlow(out: TextSink, b: Buffer, p: number, limit: number, stats: boolean): boolean {
  const length = limit - p >= 56 ? u16(b, p) : 0;
  if (length < 56 || length % 8 !== 0 || p + length > limit) return false;
  const end = p + length;
  const matchLen = u16(b, p + 50);
  const matchEnd = p + 48 + matchLen;
  const padded = p + 48 + ((matchLen + 7) & ~7);
  if (u16(b, p + 48) !== 1 || matchLen < 4 || padded > end) return false;
  const start = out.pos;

  const table = b[p + 2]!;
  const cookieHi = u32(b, p + 24);
  const cookieLo = u32(b, p + 28);
  if (stats) {
    out.write('cookie=0x');
    out.hex64Digits(cookieHi, cookieLo);
    out.write(', duration=');
    out.write(formatDuration(u32(b, p + 4), u32(b, p + 8)));
    out.write(', table=');
    out.dec(table);
    out.write(', n_packets=');
    out.dec64(b, p + 32);
    out.write(', n_bytes=');
    out.dec64(b, p + 40);
    out.write(', ');
  } else {
    if (cookieHi || cookieLo) {
      out.write('cookie=0x');
      out.hex64Digits(cookieHi, cookieLo);
      out.write(', ');
    }
    if (table !== 0) {
      out.write('table=');
      out.dec(table);
      out.write(', ');
    }
  }
  if (u16(b, p + 14) | u16(b, p + 16) | u16(b, p + 18)) out.write(formatTimeoutsAndFlags(u16(b, p + 14), u16(b, p + 16), u16(b, p + 18)));

  const priority = u16(b, p + 12);
  const matchAt = out.pos;
  const direct = readFastMatch(b, p + 52, matchEnd) && writeMatch(out, b, priority);
  if (!direct) {
    // A field this printer does not read: the match alone goes through the general decoder and
    // printer, the rest of the flow is still printed from its bytes.
    out.pos = matchAt;
    let text: string;
    try {
      const m = decodeMatch(new Reader(b, p + 48, end));
      text = formatMatch(m.match, priority, m.unknown);
    } catch {
      out.pos = start;
      return false;
    }
    if (text) {
      out.write(text);
      out.byte(SPACE);
    }
  }
  out.write('actions=');
  if (!writeInstructions(out, b, padded, end)) {
    out.pos = start;
    return false;
  }
  if (!direct) bytePrinterCounts.decodedMatch++;
  return true;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const COMMA = 0x2c;
const CLOSE = 0x29;
const EQUALS = 0x3d;
const SLASH = 0x2f;
const COLON = 0x3a;
const DOT = 0x2e;
const HEX_DIGITS = Buffer.from('0123456789abcdef');

/**
 * Text written as bytes into one buffer, handed on in big chunks: a dump is megabytes of text,
 * and neither a string of a whole reply nor one of each line is built (it would live long enough
 * to be copied by the garbage collector, and be converted again when written).
 */
export class TextSink {
  private buf: Buffer;
  /** Bytes written since the last flush. */
  pos = 0;

  constructor(private readonly sendTo: (chunk: Buffer) => void, private readonly size = 1 << 18) {
    this.buf = Buffer.allocUnsafe(size);
  }

  write(s: string): void {
    // At most 3 bytes per UTF-16 unit. The text is ASCII in practice: copied by a plain loop,
    // much cheaper than Buffer#write's checks for the short pieces a flow is printed in.
    const n = s.length;
    if (this.pos + 3 * n > this.buf.length) this.grow(3 * n);
    const buf = this.buf;
    const at = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = at + buf.write(s, at);
        return;
      }
      buf[at + i] = c;
    }
    this.pos = at + n;
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** A non-negative integer below 2^53 in decimal, written without a string. */
  dec(n: number): void {
    if (n < 10) {
      this.byte(0x30 + n);
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    if (this.pos + digits > this.buf.length) this.grow(digits);
    for (let i = this.pos + digits - 1, x = n; i >= this.pos; i--, x = Math.floor(x / 10)) this.buf[i] = 0x30 + (x % 10);
    this.pos += digits;
  }

  /** The u64 counter at b[p] in decimal (a double is exact below 2^53; BigInt above). */
  dec64(b: Buffer, p: number): void {
    const hi = u32(b, p);
    if (hi >= 0x200000) this.write(b.readBigUInt64BE(p).toString());
    else this.dec(hi * 0x100000000 + u32(b, p + 4));
  }

  /** A u32 in hex, lower case, no prefix. */
  hex(n: number): void {
    let digits = 1;
    for (let x = n >>> 4; x; x >>>= 4) digits++;
    this.hexPad(n, digits);
  }

  /** The low `digits` hex digits of a u32, zero-padded. */
  hexPad(n: number, digits: number): void {
    if (this.pos + digits > this.buf.length) this.grow(digits);
    for (let i = this.pos + digits - 1, x = n; i >= this.pos; i--, x >>>= 4) this.buf[i] = HEX_DIGITS[x & 15]!;
    this.pos += digits;
  }

  /** Two hex digits of a byte. */
  hex2(n: number): void {
    this.hexPad(n, 2);
  }

  /** The hex digits (no prefix) of a u64 given as two halves. */
  hex64Digits(hi: number, lo: number): void {
    if (hi === 0) this.hex(lo);
    else {
      this.hex(hi);
      this.hexPad(lo, 8);
    }
  }

  /** C's `%#x` of a u64 given as two halves: 0, or 0x and its digits. */
  hex64(hi: number, lo: number): void {
    if (hi === 0 && lo === 0) this.byte(0x30);
    else {
      this.write('0x');
      this.hex64Digits(hi, lo);
    }
  }

  /** Hands on what was written (sendTo may keep the chunk: a new buffer is taken). */
  flush(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
    this.sendTo(chunk);
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + need));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/**
 * Counts of how the flows of the replies printed so far were printed (tests check each path
 * runs): from their bytes (direct), of which decodedMatch had their match decoded, and decoded
 * whole (general).
 */
export const bytePrinterCounts = { direct: 0, decodedMatch: 0, general: 0 };

/**
 * Writes the text `ovs-ofctl -O OpenFlow13 dump-flows` prints for one OFPMP_FLOW reply (with
 * stats: its `OFPST_FLOW reply` line and one line per flow; without: the flow lines only), the
 * same as formatFlowStatsReply of the decoded message, and returns true. Returns false having
 * written nothing when the message is not a well-formed flow stats reply: decode it as usual
 * then, which reports what is wrong.
 */
export function writeFlowStatsReplyBytes(out: TextSink, b: Buffer, stats: boolean): boolean {
  if (b.length < 16 || b[0] !== OFP13_VERSION || b[1] !== OfType.MULTIPART_REPLY || u16(b, 2) !== b.length || u16(b, 8) !== OFPMP_FLOW) {
    return false;
  }
  const start = out.pos;
  if (stats) out.write(formatFlowStatsReplyHeader(u32(b, 4), u16(b, 10)));
  for (let p = 16; p < b.length; p += u16(b, p)) {
    out.byte(SPACE);
    if (writeFlow(out, b, p, b.length, stats)) bytePrinterCounts.direct++;
    else {
      try {
        out.write(formatFlow(decodeFlowStatsEntry(new Reader(b, p, b.length)), stats ? WITH_STATS : NO_STATS));
      } catch {
        out.pos = start;
        return false;
      }
      bytePrinterCounts.general++;
    }
    out.byte(NEWLINE);
  }
  return true;
}

/** writeFlowStatsReplyBytes as a string (undefined: not a well-formed flow stats reply). */
export function formatFlowStatsReplyBytes(b: Buffer, stats: boolean): string | undefined {
  const chunks: Buffer[] = [];
  const out = new TextSink((c) => chunks.push(c), 1024);
  if (!writeFlowStatsReplyBytes(out, b, stats)) return undefined;
  out.flush();
  return Buffer.concat(chunks).toString();
}
