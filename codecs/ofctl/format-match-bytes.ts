// formatMatch()'s text straight from a match's OXM bytes, for every field of the field table:
// the TLVs are read into per-slot scratch cells (numbers for slots of up to 32 bits, positions in
// the buffer for the wider ones) the way decodeMatchTlvs() merges them (setField/setSlot on
// numbers), then each slot's printing views (the rows' `print`: rank, condition, style) are
// written in rank order. The common styles are written from the numbers and bytes; the rare ones
// (flags, frag, IPv6, packet type, MPLS label…) go through format-match.ts's own text of the view,
// memoised by value and mask. No Map, MatchEntry or BigInt per field on the common path.
// The rule, as for the rest of the byte printer: whatever the decoder treats in another way
// (refuses, or merges in a way not done here) returns false, and the caller decodes the match.
import { allOnes, ERICOXM_OF, FieldDef, fieldByHeader, fieldHeader, FIELDS_OF_SLOT, impliesEthernet, NXM_NX, NXM_OF, OFPXMC_EXPERIMENTER, OFPXMC_OPENFLOW_BASIC,
  OFPXMC_PACKET_REGS, ProtocolContext, Slot, SLOT_BITS } from '../openflow/fields.js';
import { MatchEntry } from '../openflow/match.js';
import { OFPP_MAX, PORT_NAMES, portFromOf11, portNamesShown } from '../openflow/ports.js';
import type { TextSink } from './format-flow-stats-bytes.js';
import { formatVlanTci, protocolKeyword, test, Test, Text, viewOf } from './format-match.js';

const SLOTS = Object.keys(SLOT_BITS) as Slot[];
const N_SLOTS = SLOTS.length;
const SLOT_INDEX: ReadonlyMap<Slot, number> = new Map(SLOTS.map((s, i) => [s, i]));
const slotIndex = (s: Slot): number => SLOT_INDEX.get(s)!;
/** A slot of up to 32 bits is kept as numbers; a wider one as positions of its bytes. */
const NARROW = SLOTS.map((s) => SLOT_BITS[s] <= 32);
const SLOT_ONES = SLOTS.map((s) => (SLOT_BITS[s] <= 32 ? Number(allOnes(SLOT_BITS[s])) : -1));
/** SLOT_ONES as int32 bit patterns, for setSlot()'s int32 arithmetic. */
const SLOT_WIDTH = Int32Array.from(SLOT_ONES, (x) => x | 0);
const S_PACKET_TYPE = slotIndex('packet_type');
const S_DL_TYPE = slotIndex('dl_type');
const S_NW_PROTO = slotIndex('nw_proto');
const S_VLAN = slotIndex('vlan_tci');
const S_TP_SRC = slotIndex('tp_src');
const S_CT_NW_PROTO = slotIndex('ct_nw_proto');
const S_ERSPAN_VER = slotIndex('tun_erspan_ver');
const S_NSH_MDTYPE = slotIndex('nsh_mdtype');
const S_RECIRC_ID = slotIndex('recirc_id');
const IMPLIES_ETHERNET = SLOTS.map((s) => impliesEthernet(s));

/** A field row's setField() in numbers, for a slot of up to 32 bits (masks as int32 bit patterns). */
interface NumField {
  readonly f: FieldDef;
  readonly slot: number;
  readonly bits: number;
  readonly maskable: boolean;
  readonly maskIsValue: boolean;
  readonly of11Port: boolean;
  readonly shift: number;
  readonly slotMask: number;
  readonly exactMask: number;
  readonly presentBits: number;
  /** -1: none. */
  readonly absent: number;
}

const numField = (f: FieldDef): NumField => ({
  f, slot: slotIndex(f.slot), bits: f.bits, maskable: f.maskable, maskIsValue: f.maskIsValue, of11Port: f.of11Port,
  shift: f.slotShift ?? 0, slotMask: Number(f.slotMask) | 0, exactMask: Number(f.exactMask) | 0, presentBits: Number(f.presentBits) | 0,
  absent: f.absentValue === undefined ? -1 : Number(f.absentValue),
});

const NARROW_FIELD = 0;
const WIDE_FIELD = 1;
const PARTS_FIELD = 2;
/** A row this reader does not take: a match holding it is decoded. */
const OTHER_FIELD = 3;

/** One NXM/OXM header of a field row, as this reader takes it. */
interface Header {
  readonly kind: typeof NARROW_FIELD | typeof WIDE_FIELD | typeof PARTS_FIELD | typeof OTHER_FIELD;
  readonly f: FieldDef;
  readonly num: NumField | undefined;
  readonly parts: readonly NumField[];
  readonly slot: number;
  /** Value width on the wire. */
  readonly bytes: number;
  /** Experimenter id (-1: not an experimenter OXM). */
  readonly experimenter: number;
  /** Values above this are refused by the decoder (mf_is_value_valid); -1: no such check. */
  readonly limit: number;
}

/**
 * Header (has-mask clear, length the value width, an experimenter's without its id) → row; null:
 * none. Filled on first lookup of each header (a dump meets a few of the ~250): the set-up of all
 * of them at load was cold code and garbage in every command.
 */
const HEADERS = new Map<number, Header | null>();

function headerOf(key: number): Header | undefined {
  let e = HEADERS.get(key);
  if (e === undefined) HEADERS.set(key, (e = readerHeader(key)));
  return e ?? undefined;
}

/** The reader's entry for an NXM/OXM header of a row (not an OpenFlow 1.5 one), or null. */
function readerHeader(key: number): Header | null {
  const found = fieldHeader(key);
  if (!found || (found.h !== found.f.nxm && found.h !== found.f.oxm)) return null;
  const { f, h } = found;
  const bytes = h.header & 0xff;
  const slot = slotIndex(f.slot);
  let kind: Header['kind'];
  if (f.parts) {
    // Wide registers: each part a 32-bit register of its own.
    kind = f.parts.some((p) => !NARROW[slotIndex(p.slot)]) || bytes !== 4 * f.parts.length ? OTHER_FIELD : PARTS_FIELD;
  } else if (NARROW[slot] && bytes <= 4) {
    kind = NARROW_FIELD;
  } else if (!NARROW[slot] && f.wholeSlot && f.bits === 8 * bytes) {
    kind = WIDE_FIELD;
  } else {
    kind = OTHER_FIELD;
  }
  const limit = kind === NARROW_FIELD && f.bits < bytes * 8 && f.name !== 'vlan_vid' ? 2 ** f.bits - 1 : -1;
  return { kind, f, num: kind === NARROW_FIELD ? numField(f) : undefined, parts: (f.parts ?? []).map(numField), slot, bytes,
    experimenter: h.experimenter ?? -1, limit };
}

// Per-match scratch (matches are printed one at a time): the slots set, in the order they were
// first set (formatMatch's order for views of equal rank); a narrow slot's value and mask; a wide
// slot's value and mask positions (-1: no mask). Values and masks are computed as int32 bit
// patterns and stored unsigned by the Uint32Arrays: no `>>> 0` whose result V8 first sees small
// (a Smi) and then, at the first 32-bit mask (an ARP responder's arp_tpa), has to deoptimise for.
const order = new Int32Array(N_SLOTS);
let nSet = 0;
const isSet = new Uint8Array(N_SLOTS);
const val = new Uint32Array(N_SLOTS);
const msk = new Uint32Array(N_SLOTS);
const valueAt = new Int32Array(N_SLOTS);
const maskAt = new Int32Array(N_SLOTS);
const MAX_SEEN = 64;
const seen = new Float64Array(MAX_SEEN);
const MAX_UNKNOWN = 16;
const unknownAt = new Int32Array(MAX_UNKNOWN);
const unknownEnd = new Int32Array(MAX_UNKNOWN);
let nUnknown = 0;

function u32(b: Buffer, p: number): number {
  return (b[p]! * 0x1000000) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function uintAt(b: Buffer, p: number, bytes: number): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 256 + b[p + i]!;
  return v;
}

function markSet(k: number): void {
  isSet[k] = 1;
  order[nSet++] = k;
}

/** setSlot() in numbers (value and mask as int32 bit patterns). */
function setSlot(k: number, value: number, mask: number): void {
  mask &= SLOT_WIDTH[k]!;
  if (!isSet[k]) {
    if (mask === 0) return;
    val[k] = value & mask;
    msk[k] = mask;
    markSet(k);
    return;
  }
  // Merged with what the slot holds; the old mask is not zero, so neither is the new one.
  const m = msk[k]! | mask;
  val[k] = ((val[k]! & ~mask) | (value & mask)) & m;
  msk[k] = m;
}

/** setField() in numbers (maskArg -1: none; a masked value comes as an int32 bit pattern). */
function setField(n: NumField, value: number, maskArg: number): void {
  if (n.maskIsValue) {
    setSlot(n.slot, value & (maskArg >= 0 ? maskArg : 2 ** n.bits - 1), value);
    return;
  }
  if (n.absent >= 0 && value === n.absent) {
    setSlot(n.slot, 0, SLOT_ONES[n.slot]!);
    return;
  }
  // (a port is read unsigned, and never masked)
  if (n.of11Port) value = portFromOf11(value);
  const sm = n.slotMask;
  let mask = n.exactMask;
  if (maskArg >= 0 && n.maskable) {
    const m = (maskArg << n.shift) & sm;
    if (m !== sm) mask = m;
  }
  setSlot(n.slot, ((value << n.shift) & sm) | n.presentBits, mask | n.presentBits);
}

/**
 * Reads the TLVs of [p, end) into the scratch; false where decodeMatchTlvs() would refuse them or
 * this reader does not follow it (a wide slot set twice, very many fields or unknown TLVs).
 */
function readMatch(b: Buffer, p: number, end: number): boolean {
  for (let i = 0; i < nSet; i++) isSet[order[i]!] = 0;
  nSet = 0;
  nUnknown = 0;
  let nSeen = 0;
  while (p < end) {
    const at = p;
    if (end - p < 4) return false;
    let header = u32(b, p);
    p += 4;
    const cls = header >>> 16;
    const hasMask = (header & 0x100) !== 0;
    let len = header & 0xff;
    if (len === 0 || len > end - p) return false;
    let h: Header | undefined;
    if (cls === OFPXMC_EXPERIMENTER) {
      if (len < 4) return false;
      h = len > 4 ? headerOf((((header & 0xfffffe00) >>> 0) | (hasMask ? (len - 4) >> 1 : len - 4)) >>> 0) : undefined;
      if (h && h.experimenter === u32(b, p)) {
        p += 4;
        len -= 4;
        header = ((header & 0xffffff00) | len) >>> 0;
      } else {
        h = undefined;
      }
    } else if (cls === NXM_OF || cls === NXM_NX || cls === OFPXMC_OPENFLOW_BASIC || cls === OFPXMC_PACKET_REGS || cls === ERICOXM_OF) {
      h = headerOf((((header & 0xfffffe00) >>> 0) | (hasMask ? len >> 1 : len)) >>> 0);
      if (h && h.experimenter >= 0) h = undefined;
    }
    if (!h) {
      // A field of variable length (tun_metadataN) is known to the decoder, not to this table.
      if (cls !== OFPXMC_EXPERIMENTER && fieldByHeader(header)?.variableLen) return false;
      if (nUnknown === MAX_UNKNOWN) return false;
      unknownAt[nUnknown] = at;
      unknownEnd[nUnknown++] = p + len;
      p += len;
      continue;
    }
    if (h.kind === OTHER_FIELD) return false;
    const key = (header & 0xfffffe00) >>> 0;
    for (let i = 0; i < nSeen; i++) if (seen[i] === key) return false;
    if (nSeen === MAX_SEEN) return false;
    seen[nSeen++] = key;
    const bytes = h.bytes;
    if (len !== (hasMask ? bytes * 2 : bytes) || (hasMask && !h.f.maskable)) return false;
    if (h.kind === WIDE_FIELD) {
      const k = h.slot;
      if (isSet[k]) return false;
      if (hasMask) {
        let zero = true;
        for (let i = 0; i < bytes; i++) if (b[p + bytes + i] !== 0) zero = false;
        if (!zero) {
          valueAt[k] = p;
          maskAt[k] = p + bytes;
          markSet(k);
        }
      } else {
        valueAt[k] = p;
        maskAt[k] = -1;
        markSet(k);
      }
    } else if (h.kind === NARROW_FIELD) {
      const value = uintAt(b, p, bytes);
      if ((h.limit >= 0 && value > h.limit) || (h.f.of11Port && value >= OFPP_MAX && value < 0xffffff00)) return false;
      if (hasMask) {
        const mask = uintAt(b, p + bytes, bytes);
        setField(h.num!, value & mask, mask);
      } else {
        setField(h.num!, value, -1);
      }
    } else {
      // A wide register: its 32-bit registers, the most significant first; a part with an all-zero mask is left out.
      for (let i = 0; i < h.parts.length; i++) {
        const value = u32(b, p + 4 * i);
        if (!hasMask) setField(h.parts[i]!, value, -1);
        else {
          const mask = u32(b, p + bytes + 4 * i);
          if (mask !== 0) setField(h.parts[i]!, value & mask, mask);
        }
      }
    }
    p += len;
  }
  // settleEthernet(): an Ethernet packet type beside a field that implies it is left out.
  if (isSet[S_PACKET_TYPE] && val[S_PACKET_TYPE] === 0 && impliesEthernetNow(S_PACKET_TYPE)) unset(S_PACKET_TYPE);
  return true;
}

/** Whether some slot set (other than `except`) says the packet is Ethernet (entryImpliesEthernet()). */
function impliesEthernetNow(except: number): boolean {
  for (let i = 0; i < nSet; i++) {
    const k = order[i]!;
    if (k !== except && IMPLIES_ETHERNET[k] && (k !== S_VLAN || (msk[k]! & 0x1fff) !== 0)) return true;
  }
  return false;
}

function unset(k: number): void {
  isSet[k] = 0;
  let j = 0;
  for (let i = 0; i < nSet; i++) if (order[i] !== k) order[j++] = order[i]!;
  nSet = j;
}

// ---------------------------------------------------------------------------------------------
// Printing

/** A printing view of a slot: formatMatch's View, with a writer for the common styles. */
interface ByteView {
  readonly rank: number;
  /** The slot's bits the view prints (narrow slots). */
  readonly bits: number;
  readonly ok: Test | undefined;
  /** Writes `name=value` from the scratch; undefined: the shared text (`text`) is printed. */
  readonly write: ((out: TextSink, b: Buffer, k: number, ctx: () => ProtocolContext) => void) | undefined;
  readonly text: Text;
  /** Texts of the shared printer by value and mask (narrow slots whose text does not depend on the context). */
  readonly memo: Map<number, string> | undefined;
  /** The same for wide slots (IPv6 addresses), by their bytes as a latin1 key. */
  readonly wideMemo: Map<string, string> | undefined;
  readonly wide: boolean;
}

/** Each slot's views, built on its first print (a dump prints a few of the ~120 slots). */
const VIEWS: (readonly ByteView[] | undefined)[] = new Array<readonly ByteView[] | undefined>(N_SLOTS).fill(undefined);
const viewsOf = (k: number): readonly ByteView[] => (VIEWS[k] ??= slotViews(SLOTS[k]!));

const slotViews = (s: Slot): readonly ByteView[] => (FIELDS_OF_SLOT.get(s) ?? []).filter((f) => f.print).map((f): ByteView => {
  const v = viewOf(f, f.print!);
  const wide = !NARROW[slotIndex(s)];
  const write = writerOf(f, wide);
  return { rank: v.rank, bits: wide ? 0 : Number(v.bits), ok: v.ok, write, text: v.text,
    memo: !write && !wide && !f.print!.asWhen ? new Map() : undefined, wideMemo: !write && wide && !f.print!.asWhen ? new Map() : undefined, wide };
});

const SLASH = 0x2f;
const COLON = 0x3a;
const COMMA = 0x2c;

/** `%#x` of `bytes` bytes at v under the mask at m (-1: none). */
function writeHexBytes(out: TextSink, b: Buffer, v: number, m: number, bytes: number): void {
  let i = 0;
  const at = (j: number): number => (m < 0 ? b[v + j]! : b[v + j]! & b[m + j]!);
  while (i < bytes && at(i) === 0) i++;
  if (i === bytes) {
    out.byte(0x30);
    return;
  }
  out.write('0x');
  out.hex(at(i++));
  for (; i < bytes; i++) out.hex2(at(i));
}

function allOnesAt(b: Buffer, m: number, bytes: number): boolean {
  for (let i = 0; i < bytes; i++) if (b[m + i] !== 0xff) return false;
  return true;
}

/** The prefix length of the `bytes`-byte mask at m when it is a CIDR mask (ones, then zeros), else -1. */
function prefixBits(b: Buffer, m: number, bytes: number): number {
  let i = 0;
  while (i < bytes && b[m + i] === 0xff) i++;
  if (i === bytes) return 8 * bytes;
  const host = ~b[m + i]! & 0xff;
  if ((host & (host + 1)) !== 0) return -1;
  for (let j = i + 1; j < bytes; j++) if (b[m + j] !== 0) return -1;
  return 8 * i + 8 - (32 - Math.clz32(host));
}

type Writer = NonNullable<ByteView['write']>;

/** The writer of a view in the common styles (formatMatch's textOf() for them), or undefined. */
function writerOf(f: FieldDef, wide: boolean): Writer | undefined {
  const p = f.print!;
  const name = `${p.as ?? f.name}=`;
  const renamed = p.asWhen && test(p.asWhen[0]);
  const other = p.asWhen ? `${p.asWhen[1]}=` : name;
  const bytes = SLOT_BITS[f.slot] / 8;
  if (wide) {
    if (p.style !== 'field') return undefined;
    if (f.format === 'ethernet') {
      return (out, b, k) => {
        const m = maskAt[k]!;
        out.write(name);
        const full = m < 0 || allOnesAt(b, m, 6);
        for (let i = 0; i < 6; i++) {
          if (i) out.byte(COLON);
          out.hex2(full ? b[valueAt[k]! + i]! : b[valueAt[k]! + i]! & b[m + i]!);
        }
        if (!full) {
          out.byte(SLASH);
          for (let i = 0; i < 6; i++) {
            if (i) out.byte(COLON);
            out.hex2(b[m + i]!);
          }
        }
      };
    }
    if (f.format === 'ipv6' && !p.asWhen) {
      // formatIpv6Masked(): the address under its mask, then /BITS for a CIDR mask, else /MASK.
      return (out, b, k) => {
        const m = maskAt[k]!;
        out.write(name);
        out.ipv6(b, valueAt[k]!, m);
        if (m < 0 || allOnesAt(b, m, 16)) return;
        out.byte(SLASH);
        const bits = prefixBits(b, m, 16);
        if (bits >= 0) out.dec(bits);
        else out.ipv6(b, m, -1);
      };
    }
    if (f.format === 'hex') {
      return (out, b, k) => {
        const m = maskAt[k]!;
        out.write(name);
        writeHexBytes(out, b, valueAt[k]!, m, bytes);
        if (m >= 0 && !allOnesAt(b, m, bytes)) {
          out.byte(SLASH);
          writeHexBytes(out, b, m, -1, bytes);
        }
      };
    }
    return undefined;
  }
  const full = SLOT_ONES[slotIndex(f.slot)]!;
  const hexMasked: Writer = (out, _b, k) => {
    out.write(name);
    out.hex64(0, val[k]!);
    if (msk[k] !== full) {
      out.byte(SLASH);
      out.hex64(0, msk[k]!);
    }
  };
  const shift = f.slotShift ?? 0;
  const sm = Number(f.slotMask);
  switch (p.style) {
    case 'field':
      switch (f.format) {
        case 'hex':
          return hexMasked;
        case 'ipv4':
          return (out, _b, k) => {
            const m = msk[k]!;
            out.write(name);
            out.ipv4(val[k]!);
            if (m === 0xffffffff) return;
            out.byte(SLASH);
            const host = ~m >>> 0;
            if ((host & (host + 1)) === 0) out.dec(Math.clz32(host));
            else out.ipv4(m);
          };
        case 'port':
          return (out, _b, k) => {
            out.write(name);
            // formatPort(): a reserved port's name, else the number (written without a string).
            const named = PORT_NAMES.get(val[k]!);
            if (named === undefined) out.dec(val[k]!);
            else out.write(named);
          };
        default:
          return undefined;
      }
    case 'hex':
      return hexMasked;
    case 'value':
      return (out, _b, k) => {
        out.write(name);
        const x = ((val[k]! & sm) >>> 0) / 2 ** shift;
        if (f.format === 'hex') out.hex64(0, x);
        else out.dec(x);
      };
    case 'be16':
      return (out, _b, k, ctx) => {
        out.write(renamed && renamed(ctx()) ? other : name);
        if (msk[k] === 0xffff) out.dec(val[k]!);
        else {
          out.write('0x');
          out.hex(val[k]!);
          out.write('/0x');
          out.hex(msk[k]!);
        }
      };
    case 'dl_type':
      return (out, _b, k) => {
        out.write(name);
        out.write('0x');
        out.hexPad(val[k]!, 4);
      };
    case 'vlan_tci':
      return (out, _b, k) => {
        // A VLAN's VID (most matches on vlan_tci): formatVlanTci()'s `dl_vlan=N`, written without a string.
        if (msk[k] === 0x1fff && val[k]! & 0x1000) {
          out.write('dl_vlan=');
          out.dec(val[k]! & 0xfff);
        } else {
          out.write(formatVlanTci(val[k]!, msk[k]!));
        }
      };
    default:
      return undefined;
  }
}

/** The slot as formatMatch's MatchEntry (for the shared text). */
function entryOf(b: Buffer, k: number): MatchEntry {
  if (NARROW[k]) return { value: BigInt(val[k]!), mask: BigInt(msk[k]!) };
  const bytes = SLOT_BITS[SLOTS[k]!] / 8;
  const big = (p: number): bigint => BigInt(`0x${b.toString('hex', p, p + bytes)}`);
  const m = maskAt[k]! < 0 ? allOnes(bytes * 8) : big(maskAt[k]!);
  return { value: big(valueAt[k]!) & m, mask: m };
}

const slotBig = (k: number): bigint | undefined => (isSet[k] ? BigInt(val[k]!) : undefined);

let ctxCache: ProtocolContext | undefined;

/** formatMatch's context of the match in the scratch (built on first use per match). */
function context(): ProtocolContext {
  if (ctxCache) return ctxCache;
  const pt = isSet[S_PACKET_TYPE] ? val[S_PACKET_TYPE]! : -1;
  const md = isSet[S_NSH_MDTYPE] && msk[S_NSH_MDTYPE] === 0xff ? BigInt(val[S_NSH_MDTYPE]!) : undefined;
  ctxCache = {
    dlType: pt >= 0 && Math.floor(pt / 0x10000) === 1 ? BigInt(pt & 0xffff) : slotBig(S_DL_TYPE),
    nwProto: slotBig(S_NW_PROTO), vlan: isSet[S_VLAN] === 1 && (val[S_VLAN]! & 0x1fff) !== 0, icmpType: slotBig(S_TP_SRC), ndCode: true,
    ctNwProto: slotBig(S_CT_NW_PROTO), erspanVer: slotBig(S_ERSPAN_VER), nshMdType: md,
  };
  return ctxCache;
}

const KEYWORDS = new Map<number, { readonly keyword?: string; readonly skipProto: boolean }>();

// The views to print, sorted by rank (insertion: stable, as formatMatch's).
const printViews: ByteView[] = [];
const printSlots = new Int32Array(N_SLOTS * 4);

let hasPart = false;

function part(out: TextSink): void {
  if (hasPart) out.byte(COMMA);
  hasPart = true;
}

function writeView(out: TextSink, b: Buffer, v: ByteView, k: number): void {
  if (v.write) {
    part(out);
    v.write(out, b, k, context);
    return;
  }
  let text: string | undefined;
  const key = v.memo && msk[k]! < 0x200000 ? msk[k]! * 0x100000000 + val[k]! : -1;
  let wideKey: string | undefined;
  if (key >= 0) text = v.memo!.get(key);
  else if (v.wideMemo) {
    const bytes = SLOT_BITS[SLOTS[k]!] / 8;
    wideKey = maskAt[k]! < 0 ? b.toString('latin1', valueAt[k]!, valueAt[k]! + bytes)
      : b.toString('latin1', valueAt[k]!, valueAt[k]! + bytes) + b.toString('latin1', maskAt[k]!, maskAt[k]! + bytes);
    text = v.wideMemo.get(wideKey);
  }
  if (text === undefined) {
    text = v.text(entryOf(b, k), context());
    if (key >= 0) {
      if (v.memo!.size >= 4096) v.memo!.clear();
      v.memo!.set(key, text);
    } else if (wideKey !== undefined) {
      if (v.wideMemo!.size >= 4096) v.wideMemo!.clear();
      v.wideMemo!.set(wideKey, text);
    }
  }
  if (text) {
    part(out);
    out.write(text);
  }
}

/**
 * Writes the text formatMatch() gives for the match whose TLVs are [p, end), followed by a space
 * when there is any, and returns true; false having written nothing meaningful when the match is
 * not this printer's (the caller rewinds and decodes it).
 */
export function writeMatchBytes(out: TextSink, b: Buffer, p: number, end: number, priority: number): boolean {
  // Ports are written as numbers here; names (--names) are the decoder's and printer's.
  if (portNamesShown() || !readMatch(b, p, end)) return false;
  ctxCache = undefined;
  hasPart = false;
  if (priority !== 0x8000) {
    part(out);
    out.write('priority=');
    out.dec(priority);
  }
  let keyword: string | undefined;
  let skipProto = false;
  if (isSet[S_DL_TYPE]) {
    const np = isSet[S_NW_PROTO] ? val[S_NW_PROTO]! : -1;
    const key = val[S_DL_TYPE]! * 512 + np + 1;
    let kw = KEYWORDS.get(key);
    if (!kw) KEYWORDS.set(key, (kw = protocolKeyword(BigInt(val[S_DL_TYPE]!), np >= 0 ? BigInt(np) : undefined)));
    keyword = kw.keyword;
    skipProto = kw.skipProto;
  }
  let n = 0;
  for (let i = 0; i < nSet; i++) {
    const k = order[i]!;
    if ((k === S_DL_TYPE && keyword !== undefined) || (k === S_NW_PROTO && skipProto)) continue;
    const views = viewsOf(k);
    for (let j = 0; j < views.length; j++) {
      const v = views[j]!;
      if ((!v.wide && (msk[k]! & v.bits) === 0) || (v.ok !== undefined && !v.ok(context()))) continue;
      let at = n++;
      for (; at > 0 && printViews[at - 1]!.rank > v.rank; at--) {
        printViews[at] = printViews[at - 1]!;
        printSlots[at] = printSlots[at - 1]!;
      }
      printViews[at] = v;
      printSlots[at] = k;
    }
  }
  let i = 0;
  for (; i < n && printViews[i]!.rank < 35; i++) writeView(out, b, printViews[i]!, printSlots[i]!);
  // With recirc_id (a datapath flow's field), OVS also prints the Ethernet packet type, said or implied.
  if (isSet[S_RECIRC_ID] && (isSet[S_PACKET_TYPE] ? val[S_PACKET_TYPE] === 0 : impliesEthernetNow(-1))) {
    part(out);
    out.write('eth');
  }
  if (keyword !== undefined) {
    part(out);
    out.write(keyword);
  }
  for (; i < n; i++) writeView(out, b, printViews[i]!, printSlots[i]!);
  for (let u = 0; u < nUnknown; u++) {
    part(out);
    out.write('unknown_oxm=');
    for (let q = unknownAt[u]!; q < unknownEnd[u]!; q++) out.hex2(b[q]!);
  }
  if (hasPart) out.byte(0x20);
  return true;
}
