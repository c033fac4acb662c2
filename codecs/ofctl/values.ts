// Text forms of field values, as OVS's mf_format()/mf_parse() write and read them.
import { allOnes, FieldDef, SLOT_BITS } from '../openflow/fields.js';
import { formatPort, namedPort, OFPP_MAX } from '../openflow/ports.js';

/** C's printf("%#x"): "0" for zero, else "0x…". */
export function hexOrZero(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** Two lower-case hex digits for each byte value (MAC addresses). */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function formatMac(v: bigint): string {
  const n = Number(v);
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  return `${HEX2[(hi >>> 8) & 255]}:${HEX2[hi & 255]}:${HEX2[lo >>> 24]}:${HEX2[(lo >>> 16) & 255]}:${HEX2[(lo >>> 8) & 255]}:${HEX2[lo & 255]}`;
}

export function formatMacMasked(v: bigint, mask: bigint): string {
  return mask === allOnes(48) ? formatMac(v) : `${formatMac(v)}/${formatMac(mask)}`;
}

export function formatIpv4(v: bigint): string {
  const n = Number(v);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Prefix length of a CIDR mask (ones then zeros), or -1 when the mask is not CIDR. */
function cidrBits(mask: bigint, width: number): number {
  const hostBits = ~mask & allOnes(width);
  if ((hostBits & (hostBits + 1n)) !== 0n) return -1;
  return width - (hostBits === 0n ? 0 : hostBits.toString(2).length);
}

export function formatIpv4Masked(v: bigint, mask: bigint): string {
  if (mask === allOnes(32)) return formatIpv4(v);
  const bits = cidrBits(mask, 32);
  return `${formatIpv4(v)}/${bits >= 0 ? bits : formatIpv4(mask)}`;
}

/**
 * Where an IPv6 address's `::` goes (RFC 5952, as glibc's inet_ntop): the longest run of two or more
 * zero words of the eight (the first of equal ones), as start * 16 + length; -1 when there is none.
 */
export function ipv6ZeroRun(words: ArrayLike<number>): number {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  return bestStart < 0 ? -1 : bestStart * 16 + bestLen;
}

/** RFC 5952 text of a 128-bit IPv6 address (inet_ntop style, incl. ::ffff:a.b.c.d). */
export function formatIpv6(v: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  const run = ipv6ZeroRun(words);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestLen = run < 0 ? 0 : run & 15;
  // glibc's inet_ntop prints IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) forms.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
    return `::${bestLen === 5 ? 'ffff:' : ''}${formatIpv4(v & 0xffffffffn)}`;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function formatIpv6Masked(v: bigint, mask: bigint): string {
  if (mask === allOnes(128)) return formatIpv6(v);
  const bits = cidrBits(mask, 128);
  return `${formatIpv6(v)}/${bits >= 0 ? bits : formatIpv6(mask)}`;
}

/** packet_type=(NAMESPACE,TYPE): the namespace in decimal, the type as `%#x`. */
export function formatPacketType(v: bigint): string {
  return `(${v >> 16n},${hexOrZero(v & 0xffffn)})`;
}

/**
 * OVS's format_flags_masked() over a 'flags' field's names: `a|b` (format_flags(), `0` for none,
 * unnamed bits as one `0x…`) when the mask is `all`, else each masked bit, lowest first, as
 * `+name` or `-name` (`[Unknown]` for a bit without a name).
 */
export function formatFlags(f: FieldDef, v: bigint, mask: bigint, all: bigint): string {
  const names = f.flags!.names;
  if (mask === all) {
    if (v === 0n) return '0';
    let s = '';
    let bad = 0n;
    for (let i = 0; v >> BigInt(i) !== 0n; i++) {
      if (((v >> BigInt(i)) & 1n) === 0n) continue;
      const name = names[i];
      if (name === undefined) bad |= 1n << BigInt(i);
      else s += s ? `|${name}` : name;
    }
    return bad ? (s ? `${s}|0x${bad.toString(16)}` : `0x${bad.toString(16)}`) : s;
  }
  if (mask === 0n) return '0/0';
  let s = '';
  for (let i = 0; mask >> BigInt(i) !== 0n; i++) {
    if (((mask >> BigInt(i)) & 1n) === 0n) continue;
    s += `${((v >> BigInt(i)) & 1n) !== 0n ? '+' : '-'}${names[i] ?? '[Unknown]'}`;
  }
  return s;
}

/**
 * OVS's parse_flags(): `VALUE/MASK` in numbers, `+a-b` (each flag once; the mask is the flags
 * named) or `a|b|NUMBER` (the flags set, every flag matched: mask undefined). Bits beyond the
 * named ones (`allowed`) are refused.
 */
function parseFlags(f: FieldDef, text: string, allowed: bigint): { value: bigint; mask?: bigint } {
  const { names, noun } = f.flags!;
  const unknown = (at: string): ValueError => new ValueError(`${at}: unknown ${noun} flag(s)`);
  const bit = (name: string, rest: string): bigint => {
    const i = names.indexOf(name);
    if (i < 0 || ((allowed >> BigInt(i)) & 1n) === 0n) throw unknown(rest);
    return 1n << BigInt(i);
  };
  const numeric = /^(0[xX][0-9a-fA-F]+|\d+)\/(0[xX][0-9a-fA-F]+|\d+)$/.exec(text);
  if (numeric) {
    const value = parseUint(numeric[1]!);
    const mask = parseUint(numeric[2]!);
    if ((value | mask) & ~allowed) throw unknown(text);
    return { value, mask };
  }
  if (text.startsWith('+') || text.startsWith('-')) {
    let value = 0n;
    let mask = 0n;
    for (const m of text.matchAll(/([+-])([^+-]*)/g)) {
      const rest = text.slice(m.index! + 1);
      const b = bit(m[2]!, rest);
      if (mask & b) throw new ValueError(`${rest}: Each ${noun} flag can be specified only once`);
      mask |= b;
      if (m[1] === '+') value |= b;
    }
    return { value, mask };
  }
  let value = 0n;
  for (const part of text.split('|')) {
    const n = part === '' ? 0n : /^(0[xX][0-9a-fA-F]+|\d+)$/.test(part) ? parseUint(part) : bit(part, text);
    if (n & ~allowed) throw unknown(text);
    value |= n;
  }
  return { value };
}

/** mf_format(): a field value (and optional mask) in the field's own notation. */
export function formatFieldValue(f: FieldDef, v: bigint, mask?: bigint): string {
  const full = mask === undefined || mask === allOnes(f.bits);
  switch (f.format) {
    case 'flags':
      return formatFlags(f, v, mask ?? allOnes(f.bits), allOnes(f.bits));
    case 'ethernet':
      return full ? formatMac(v) : formatMacMasked(v, mask!);
    case 'ipv4':
      return full ? formatIpv4(v) : formatIpv4Masked(v, mask!);
    case 'ipv6':
      return full ? formatIpv6(v) : formatIpv6Masked(v, mask!);
    case 'port':
      return formatPort(Number(v));
    case 'packet_type':
      return formatPacketType(v);
    case 'decimal':
      return full ? v.toString() : `${v}/${hexOrZero(mask!)}`;
    case 'hex':
      return full ? hexOrZero(v) : `${hexOrZero(v)}/${hexOrZero(mask!)}`;
    case 'frag': {
      const m = mask ?? allOnes(f.bits);
      return FRAGS.find((x) => x.mask === m && x.value === (v & m))?.name ?? `${hexOrZero(v)}/${hexOrZero(m)}`;
    }
  }
}

/**
 * nw_frag's names, as OVS's frag table (flow.c): bit 0 a fragment, bit 1 a later one. Printing
 * takes the first entry of the pair; parsing takes a name only (the exact forms first).
 */
const FRAGS: ReadonlyArray<{ readonly name: string; readonly mask: bigint; readonly value: bigint }> = [
  { name: 'no', mask: 3n, value: 0n }, { name: 'first', mask: 3n, value: 1n }, { name: 'later', mask: 3n, value: 3n },
  { name: 'no', mask: 1n, value: 0n }, { name: 'yes', mask: 1n, value: 1n },
  { name: 'not_later', mask: 2n, value: 0n }, { name: 'later', mask: 2n, value: 2n },
];

// ---------------------------------------------------------------------------------------------
// Parsing

export class ValueError extends Error {}

/** Value of a hex digit character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** Parses a C-style unsigned integer: decimal or 0x-hex. (Hand-written: on every flow's path.) */
export function parseUint(s: string): bigint {
  const hex = s.length > 2 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) | 0x20) === 120;
  const start = hex ? 2 : 0;
  if (s.length === start) throw new ValueError(`invalid numeric format ${s}`);
  for (let i = start; i < s.length; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0 || (!hex && d > 9)) throw new ValueError(`invalid numeric format ${s}`);
  }
  return s.length <= 15 ? BigInt(hex ? parseInt(s.slice(2), 16) : Number(s)) : BigInt(s);
}

/**
 * A 64-bit number as ovs-ofctl's str_to_u64() reads it (strtoull, base 0): decimal, 0x hex or
 * 0-prefixed octal, and a minus sign wraps (cookie=0x1/-1 is an all-ones mask).
 */
export function parseU64(s: string): bigint {
  if (s === '') throw new ValueError('missing required numeric argument');
  // [+-]? then 0x-hex, 0-octal or decimal (scanned by hand: this runs for every flow's cookie).
  const sign = s.charCodeAt(0) === 45 ? -1 : s.charCodeAt(0) === 43 ? 1 : 0;
  const at = sign === 0 ? 0 : 1;
  const hex = s.length > at + 2 && s.charCodeAt(at) === 48 && (s.charCodeAt(at + 1) | 0x20) === 120;
  const octal = !hex && s.charCodeAt(at) === 48;
  if (s.length === at) throw new ValueError(`invalid numeric format ${s}`);
  for (let i = hex ? at + 2 : at; i < s.length; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0 || (!hex && d > (octal ? 7 : 9))) throw new ValueError(`invalid numeric format ${s}`);
  }
  const digits = at ? s.slice(at) : s;
  const v = octal && digits.length > 1 ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  if (v > 0xffffffffffffffffn) throw new ValueError(`invalid numeric format ${s}`);
  return sign < 0 ? (0x10000000000000000n - v) & 0xffffffffffffffffn : v;
}

/**
 * An OpenFlow port as ovs-ofctl's ofputil_port_from_string() reads it: a reserved name (any case),
 * a port's name (when names are set) or a decimal number below 0xff00, a reserved 16-bit number, or its 32-bit OpenFlow 1.1 form.
 * Ports are kept in their 16-bit form (see ports.ts).
 */
export function parsePortNumber(s: string): number | undefined {
  const named = namedPort(s);
  if (named !== undefined) return named;
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n <= 0xffff) return n;
  if (n >= 0xffffff00 && n <= 0xffffffff) return n - 0xffff0000;
  return undefined;
}

/** A group id as ofputil_group_from_string() reads it: `all`, `any` or a number up to 0xffffff00. */
export function parseGroupId(s: string): number | undefined {
  const lower = s.toLowerCase();
  if (lower === 'all') return 0xfffffffc;
  if (lower === 'any') return 0xffffffff;
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) return undefined;
  return Number(s);
}

function parseMac(s: string): bigint {
  // xx:xx:xx:xx:xx:xx with one- or two-digit groups; 48 bits fit exactly in a double.
  let v = 0;
  let groups = 0;
  let digits = 0;
  let byte = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || s.charCodeAt(i) === 58) {
      if (digits === 0 || ++groups > 6) throw new ValueError(`${s}: invalid Ethernet address`);
      v = v * 256 + byte;
      digits = 0;
      byte = 0;
      continue;
    }
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0 || ++digits > 2) throw new ValueError(`${s}: invalid Ethernet address`);
    byte = byte * 16 + d;
  }
  if (groups !== 6) throw new ValueError(`${s}: invalid Ethernet address`);
  return BigInt(v);
}

export function parseIpv4(s: string): bigint {
  // Four dot-separated groups of 1-3 decimal digits, each taken modulo 256 (scanned by hand: no match array per address).
  let v = 0;
  let groups = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++groups > 4) throw new ValueError(`${s}: invalid IP address`);
      v = v * 256 + (n & 255);
      digits = 0;
      n = 0;
    } else if (c >= 48 && c <= 57 && ++digits <= 3) {
      n = n * 10 + c - 48;
    } else {
      throw new ValueError(`${s}: invalid IP address`);
    }
  }
  if (groups !== 4) throw new ValueError(`${s}: invalid IP address`);
  return BigInt(v);
}

export function parseIpv6(s: string): bigint {
  let text = s;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = Number(parseIpv4(v4[2]!));
    tail = [n >>> 16, n & 0xffff];
    text = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const parts = text.split('::');
  if (parts.length > 2) throw new ValueError(`${s}: invalid IPv6 address`);
  const parse = (p: string): number[] => (p === '' ? [] : p.split(':').map((x) => {
    if (!/^[0-9a-f]{1,4}$/i.test(x)) throw new ValueError(`${s}: invalid IPv6 address`);
    return parseInt(x, 16);
  }));
  const head = parse(parts[0]!);
  const rest = parts.length === 2 ? parse(parts[1]!) : [];
  const total = head.length + rest.length + tail.length;
  if (parts.length === 1 ? total !== 8 : total > 7) throw new ValueError(`${s}: invalid IPv6 address`);
  const words = [...head, ...Array(8 - total).fill(0), ...rest, ...tail];
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

function prefixMask(bits: number, width: number): bigint {
  return bits === 0 ? 0n : (allOnes(bits) << BigInt(width - bits));
}

/**
 * mf_parse(): "value[/mask]" in the field's notation. Returns the mask undefined when exact, and 0
 * when nothing is matched (a field that takes no mask takes an all-zero or an all-ones one, as
 * mf_is_mask_valid() says).
 */
export function parseFieldValue(f: FieldDef, text: string): { value: bigint; mask?: bigint } {
  const r = parseValueMask(f, text);
  if (r.mask === undefined || f.maskable) return r;
  if (r.mask === 0n) return { value: 0n, mask: 0n };
  if (r.mask !== allOnes((Math.ceil(f.bits / 8) || 1) * 8)) throw new ValueError(`${text}: invalid mask for field ${f.name}`);
  return { value: r.value };
}

function parseValueMask(f: FieldDef, text: string): { value: bigint; mask?: bigint } {
  const slash = text.indexOf('/');
  const vs = slash < 0 ? text : text.slice(0, slash);
  const ms = slash < 0 ? undefined : text.slice(slash + 1);
  const bytes = Math.ceil(f.bits / 8) || 1;
  if (f.format === 'packet_type') {
    // packet_type=(NAMESPACE,TYPE): (0,0) is Ethernet, (1,0x800) an IPv4 packet without one.
    const m = /^\(\s*(\w+)\s*,\s*(\w+)\s*\)$/.exec(text);
    if (!m) throw new ValueError(`${text}: packet_type must be (NAMESPACE,TYPE)`);
    const ns = parseUint(m[1]!);
    const type = parseUint(m[2]!);
    if (ns > 0xffffn || type > 0xffffn) throw new ValueError(`${text}: packet_type namespace and type are 16 bits each`);
    return { value: (ns << 16n) | type };
  }
  switch (f.format) {
    case 'flags':
      // The bits OVS keeps of the field, and of those the ones it matches (tun_flags: oam only).
      return parseFlags(f, text, allOnes(Math.min(f.bits, SLOT_BITS[f.slot])) & f.slotMask);
    case 'frag': {
      const x = FRAGS.find((e) => e.name === text);
      if (!x) throw new ValueError(`${text}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"`);
      return x.mask === 3n ? { value: x.value } : { value: x.value, mask: x.mask };
    }
    case 'ethernet':
      return { value: parseMac(vs), ...(ms !== undefined ? { mask: parseMac(ms) } : {}) };
    case 'ipv4': {
      const value = parseIpv4(vs);
      if (ms === undefined) return { value };
      if (/^\d+$/.test(ms)) {
        const n = Number(ms);
        if (n > 32) throw new ValueError(`${text}: IPv4 network prefix bits not between 0 and 32, inclusive`);
        return { value, mask: prefixMask(n, 32) };
      }
      return { value, mask: parseIpv4(ms) };
    }
    case 'ipv6': {
      const value = parseIpv6(vs);
      if (ms === undefined) return { value };
      if (/^\d+$/.test(ms)) {
        const n = Number(ms);
        if (n > 128) throw new ValueError(`${text}: IPv6 network prefix bits not between 0 and 128, inclusive`);
        return { value, mask: prefixMask(n, 128) };
      }
      return { value, mask: parseIpv6(ms) };
    }
    case 'port': {
      const named = namedPort(vs);
      if (named !== undefined) return { value: BigInt(named) };
      if (ms !== undefined || !/^\d+$/.test(vs) || Number(vs) > 0xffff || (Number(vs) >= OFPP_MAX && Number(vs) < 0xfff8)) {
        // mf_from_ofp_port_string32() for the 32-bit port fields (actset_output), as OVS words it.
        throw new ValueError(f.bits === 32 ? `${text}: port value out of range for ${f.name}` : `${text}: invalid or unknown port for ${f.name}`);
      }
      return { value: BigInt(vs) };
    }
    default: {
      const value = parseUint(vs);
      if (value > allOnes(bytes * 8)) throw new ValueError(`${vs}: value too large for ${bytes}-byte field ${f.name}`);
      if (ms === undefined) return { value };
      const mask = parseUint(ms);
      if (mask > allOnes(bytes * 8)) throw new ValueError(`${ms}: value too large for ${bytes}-byte field ${f.name}`);
      return { value, mask };
    }
  }
}
