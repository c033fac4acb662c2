// `dump-flows` text straight from the bytes of an OFPMP_FLOW reply, written as bytes into big
// chunks (TextSink). Per flow: the counters, cookie and timeouts from their bytes; the match from
// its OXM bytes, driven by the field rows (format-match-bytes.ts); the instructions walked action by action, each action's text printed once per dump by
// its record (a memo keyed by its bytes) or, for set_field, from its bytes. No Map and no BigInt
// per field and no Action objects per flow, which is most of what decoding and printing a dump
// costs. What the walk does not take goes to the general decoder and printer (format-flow.ts),
// which stay the reference: tests hold this file to them on OVS's own replies and on fuzzed ones.
// The rule here: when in doubt (an odd length, a repeated field, an unknown instruction), hand the
// flow, its match or its instructions to the general path, never guess.
import { Reader } from '../openflow/bytes.js';
import { FieldDef, fieldByHeader, headerValueBytes } from '../openflow/fields.js';
import { decodeInstructions } from '../openflow/instructions.js';
import { decodeMatch } from '../openflow/match.js';
import { decodeFlowStatsEntry, OFP13_VERSION, OFPMP_FLOW, OfType } from '../openflow/messages.js';
import { portNamesShown } from '../openflow/ports.js';
import { decodeActions, formatAction } from '../actions/index.js';
import { OFPAT_SET_FIELD, setFieldText } from '../actions/set-field.js';
import { formatInstructions } from './format-actions.js';
import { formatFlow, formatFlowStatsReplyHeader, FormatOptions, formatTimeoutsAndFlags } from './format-flow.js';
import { formatMatch } from './format-match.js';
import { writeMatchBytes } from './format-match-bytes.js';
import { ipv6ZeroRun } from './values.js';

const WITH_STATS: FormatOptions = { stats: true };
const NO_STATS: FormatOptions = {};

function u16(b: Buffer, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

// u32() reads through a DataView of the reply (made by writeFlowStatsReplyBytes, before any
// u32() of it): V8 compiles its result as a uint32, where arithmetic on the bytes is compiled for
// the small values seen first and deoptimised at the first one of 2^31 or more (a cookie, a
// set_field's OXM header), deep in the dump.
let viewed: Buffer | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(b: Buffer): void {
  view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  viewed = b;
}

function u32(b: Buffer, p: number): number {
  if (b !== viewed) viewOf(b);
  return view.getUint32(p);
}

function uintAt(b: Buffer, p: number, bytes: number): number {
  return bytes === 1 ? b[p]! : bytes === 2 ? u16(b, p) : u32(b, p);
}

/**
 * Texts by the bytes they were printed from, looked up without building a key (a hash of the
 * bytes, then a comparison with the copy kept in one arena). Bounded: when full it starts again,
 * so a dump of distinct values costs a hash and a miss each, and the common texts come back at once.
 */
class BytesMemo {
  private readonly entries = new Map<number, MemoEntry>();
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

  get(h: number, b: Buffer, p: number, end: number): Uint8Array | undefined {
    const e = this.entries.get(h);
    if (e === undefined || e.len !== end - p) return undefined;
    const a = this.arena;
    for (let i = 0, at = e.at; i < e.len; i++) if (a[at + i] !== b[p + i]) return undefined;
    return e.text;
  }

  /** Keeps the text (as the bytes TextSink#write would write) and returns it. */
  set(h: number, b: Buffer, p: number, end: number, s: string): Uint8Array {
    const text = Buffer.from(s);
    const len = end - p;
    if (len > this.arena.length) return text;
    if (this.entries.size >= this.max || this.used + len > this.arena.length) {
      this.entries.clear();
      this.used = 0;
    }
    this.arena.set(b.subarray(p, end), this.used);
    this.entries.set(h, { at: this.used, len, text });
    this.used += len;
    return text;
  }
}

interface MemoEntry {
  readonly at: number;
  readonly len: number;
  /** The text, as bytes: copied into the output as they are. */
  readonly text: Uint8Array;
}

// The text of an action depends on its bytes only, and a pipeline's flows share most of their
// actions (output:patch-int, resubmit(,22), move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]…): each one
// is decoded and printed by its record once per dump, not once per flow.
const actionMemo = new BytesMemo(16384, 1 << 20);

/** A set_field's text around its value: `set_field:` and `->NAME`, as setFieldText() puts it. */
const SET_FIELD_PREFIX = Buffer.from(setFieldText('', { name: '' } as FieldDef).split('->')[0]!);
const setFieldSuffixes = new Map<FieldDef, Uint8Array>();

function setFieldSuffix(f: FieldDef): Uint8Array {
  let s = setFieldSuffixes.get(f);
  if (s === undefined) setFieldSuffixes.set(f, (s = Buffer.from(setFieldText('', f).slice(SET_FIELD_PREFIX.length))));
  return s;
}

/**
 * Writes a set_field's text from its bytes, as its record prints it, for the fields whose value
 * is a MAC, an IPv4 or IPv6 address or a number of up to 32 bits (64 in hex): each flow's own addresses
 * in ARP responders and the like, which the memo would only see once. Returns false having
 * written nothing for anything else and anything the record's decoder may refuse (it then decodes
 * and prints it, or says why not).
 */
function writeSetField(out: TextSink, b: Buffer, p: number, end: number): boolean {
  if (u16(b, p) !== OFPAT_SET_FIELD || end - p < 8) return false;
  const header = u32(b, p + 4);
  const f = header & 0x100 ? undefined : fieldByHeader(header);
  const n = header & 0xff;
  if (!f || !f.writable || n !== headerValueBytes(f, header) || p + 8 + n > end) return false;
  const v = p + 8;
  switch (f.format) {
    case 'ethernet':
      if (n !== 6) return false;
      out.bytes(SET_FIELD_PREFIX);
      out.mac(b, v);
      break;
    case 'ipv4':
      if (n !== 4) return false;
      out.bytes(SET_FIELD_PREFIX);
      out.ipv4(u32(b, v));
      break;
    case 'ipv6':
      if (n !== 16) return false;
      out.bytes(SET_FIELD_PREFIX);
      out.ipv6(b, v, -1);
      break;
    case 'decimal':
    case 'hex': {
      if (f.format === 'hex' && n === 8 && f.bits === 64) {
        out.bytes(SET_FIELD_PREFIX);
        out.hex64(u32(b, v), u32(b, v + 4));
        break;
      }
      if (n !== 1 && n !== 2 && n !== 4) return false;
      const x = uintAt(b, v, n);
      // vlan_vid: the record refuses a VID without its present bit, and prints one with it.
      if ((f.bits < 32 && x >= 2 ** f.bits) || f.name === 'vlan_vid') return false;
      out.bytes(SET_FIELD_PREFIX);
      if (f.format === 'decimal') out.dec(x);
      else out.hex64(0, x);
      break;
    }
    default:
      return false;
  }
  out.bytes(setFieldSuffix(f));
  return true;
}

/** Writes the text of the one action in [p, end) (its record's print); false, having written nothing, when it does not decode. */
function writeAction(out: TextSink, b: Buffer, p: number, end: number): boolean {
  if (writeSetField(out, b, p, end)) return true;
  const h = BytesMemo.hash(b, p, end);
  let text = actionMemo.get(h, b, p, end);
  if (text === undefined) {
    let s: string;
    try {
      // Decoded alone, as decodeActions decodes each action of a list (no action reads its neighbours).
      const actions = decodeActions(new Reader(b, p, end));
      if (actions.length !== 1) return false;
      s = formatAction(actions[0]!);
    } catch {
      return false;
    }
    text = actionMemo.set(h, b, p, end, s);
  }
  out.bytes(text);
  return true;
}

/**
 * Writes the action list in [p, end) comma-separated, `drop` when empty and `ifEmpty`; false
 * when one of its actions is not this printer's (a length that does not add up, an action that
 * does not decode): the caller then rewinds what was written.
 */
function writeActions(out: TextSink, b: Buffer, p: number, end: number): boolean {
  for (let first = true; p < end; first = false) {
    const len = end - p >= 4 ? u16(b, p + 2) : 0;
    if (len < 8 || len % 8 !== 0 || p + len > end) return false;
    if (!first) out.byte(COMMA);
    if (!writeAction(out, b, p, p + len)) return false;
    p += len;
  }
  return true;
}

const OFPIT_WRITE_ACTIONS = 3;
const OFPIT_APPLY_ACTIONS = 4;
const OFPIT_CLEAR_ACTIONS = 5;
/** The instructions this printer walks (goto-table 1, write 3, apply 4, clear 5), by the order formatInstructions prints them (and OVS writes them). */
const INSTRUCTION_RANK = [-1, 3, -1, 2, 0, 1, -1];
const CLEAR_ACTIONS = Buffer.from('clear_actions');
const WRITE_ACTIONS = Buffer.from('write_actions(');
const GOTO_TABLE = Buffer.from('goto_table:');
const DROP = Buffer.from('drop');

/**
 * Writes the instructions in [p, end) as formatInstructions prints them, action by action, and
 * returns true; false having written nothing when they do not decode. What it walks:
 * apply-actions, clear-actions, write-actions and goto-table, each once, in the order OVS writes
 * them (the order they are printed in: each is written as it is read) and with their exact
 * lengths; any other instruction, order or length goes to the general decoder and printer
 * (writeGeneralInstructions), what was written rewound.
 */
export function writeInstructions(out: TextSink, b: Buffer, p: number, end: number): boolean {
  // Ports are written as numbers here; names (--names) are the decoder's and printer's.
  if (portNamesShown()) return false;
  const start = out.pos;
  let rank = -1;
  let parts = 0;
  for (let q = p; q < end;) {
    if (end - q < 8) return general(out, start, b, p, end);
    const type = u16(b, q);
    const len = u16(b, q + 2);
    const r = type < INSTRUCTION_RANK.length ? INSTRUCTION_RANK[type]! : -1;
    if (r <= rank || len < 8 || len % 8 !== 0 || q + len > end) return general(out, start, b, p, end);
    rank = r;
    if (type === OFPIT_APPLY_ACTIONS) {
      // An empty apply-actions prints nothing.
      if (len > 8) {
        if (parts++) out.byte(COMMA);
        if (!writeActions(out, b, q + 8, q + len)) return general(out, start, b, p, end);
      }
    } else if (type === OFPIT_WRITE_ACTIONS) {
      if (parts++) out.byte(COMMA);
      out.bytes(WRITE_ACTIONS);
      if (len === 8) out.bytes(DROP);
      else if (!writeActions(out, b, q + 8, q + len)) return general(out, start, b, p, end);
      out.byte(CLOSE);
    } else if (len !== 8) {
      return general(out, start, b, p, end);
    } else if (type === OFPIT_CLEAR_ACTIONS) {
      if (parts++) out.byte(COMMA);
      out.bytes(CLEAR_ACTIONS);
    } else {
      if (parts++) out.byte(COMMA);
      out.bytes(GOTO_TABLE);
      out.dec(b[q + 4]!);
    }
    q += len;
  }
  if (!parts) out.bytes(DROP);
  return true;
}

/** Rewinds to `start` and writes the instructions by the general decoder and printer. */
function general(out: TextSink, start: number, b: Buffer, p: number, end: number): boolean {
  out.pos = start;
  return writeGeneralInstructions(out, b, p, end);
}

// Instruction lists this printer does not walk: decoded and printed whole, once per distinct list.
const instructionsMemo = new BytesMemo(4096, 1 << 20);

function writeGeneralInstructions(out: TextSink, b: Buffer, p: number, end: number): boolean {
  const h = BytesMemo.hash(b, p, end);
  let text = instructionsMemo.get(h, b, p, end);
  if (text === undefined) {
    let s: string;
    try {
      s = formatInstructions(decodeInstructions(new Reader(b, p, end)));
    } catch {
      return false;
    }
    text = instructionsMemo.set(h, b, p, end, s);
  }
  out.bytes(text);
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
    out.bytes(COOKIE);
    out.hex64Digits(cookieHi, cookieLo);
    out.bytes(DURATION);
    out.duration(u32(b, p + 4), u32(b, p + 8));
    out.bytes(TABLE);
    out.dec(table);
    out.bytes(N_PACKETS);
    out.dec64(b, p + 32);
    out.bytes(N_BYTES);
    out.dec64(b, p + 40);
    out.bytes(SEP);
  } else {
    if (cookieHi || cookieLo) {
      out.bytes(COOKIE);
      out.hex64Digits(cookieHi, cookieLo);
      out.bytes(SEP);
    }
    if (table !== 0) {
      out.bytes(TABLE_NO_STATS);
      out.dec(table);
      out.bytes(SEP);
    }
  }
  if (u16(b, p + 14) | u16(b, p + 16) | u16(b, p + 18)) out.write(formatTimeoutsAndFlags(u16(b, p + 14), u16(b, p + 16), u16(b, p + 18)));

  const priority = u16(b, p + 12);
  const matchAt = out.pos;
  const direct = writeMatchBytes(out, b, p + 52, matchEnd, priority);
  if (!direct) {
    // A match the byte reader does not take (malformed, or merged in a way it does not follow):
    // it alone goes through the general decoder and printer, the rest of the flow is still
    // printed from its bytes.
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
  out.bytes(ACTIONS);
  if (!writeInstructions(out, b, padded, end)) {
    out.pos = start;
    return false;
  }
  if (!direct) bytePrinterCounts.decodedMatch++;
  return true;
}

// formatFlow's words around the numbers, as bytes.
const COOKIE = Buffer.from('cookie=0x');
const DURATION = Buffer.from(', duration=');
const TABLE = Buffer.from('s, table=');
const TABLE_NO_STATS = Buffer.from('table=');
const N_PACKETS = Buffer.from(', n_packets=');
const N_BYTES = Buffer.from(', n_bytes=');
const SEP = Buffer.from(', ');
const ACTIONS = Buffer.from('actions=');
const SPACE = 0x20;
const NEWLINE = 0x0a;
const COMMA = 0x2c;
const CLOSE = 0x29;
const DOT = 0x2e;
const COLON = 0x3a;
const HEX_DIGITS = Buffer.from('0123456789abcdef');
/** IPv6 words being printed (TextSink#ipv6). */
const IPV6_WORDS = new Int32Array(8);

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
    // One loop for every length: a branch first taken after the printer was optimised (a long
    // text calling Buffer#write) would throw that optimised code away, and the printer's
    // functions, this one inlined into them, would be compiled again in the middle of the dump.
    const n = s.length;
    if (this.pos + 3 * n > this.buf.length) this.grow(3 * n);
    const buf = this.buf;
    const at = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.writeUtf8(s, at);
        return;
      }
      buf[at + i] = c;
    }
    this.pos = at + n;
  }

  /** write() for a text that is not ASCII (never in practice). */
  private writeUtf8(s: string, at: number): void {
    this.pos = at + this.buf.write(s, at);
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Bytes as they are (a text kept as bytes). */
  bytes(t: Uint8Array): void {
    const n = t.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    const at = this.pos;
    // As in write(): one loop for every length.
    for (let i = 0; i < n; i++) buf[at + i] = t[i]!;
    this.pos = at + n;
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

  /** A non-negative integer in decimal, zero-padded to at least `width` digits. */
  decPad(n: number, width: number): void {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    if (digits < width) digits = width;
    if (this.pos + digits > this.buf.length) this.grow(digits);
    for (let i = this.pos + digits - 1, x = n; i >= this.pos; i--, x = Math.floor(x / 10)) this.buf[i] = 0x30 + (x % 10);
    this.pos += digits;
  }

  /** formatDuration()'s text without its `s`: seconds, then milliseconds or the nanoseconds without their trailing zeros. */
  duration(sec: number, nsec: number): void {
    this.dec(sec);
    if (nsec === 0) return;
    this.byte(DOT);
    if (nsec % 1_000_000 === 0) {
      this.decPad(nsec / 1_000_000, 3);
      return;
    }
    let width = 9;
    while (nsec % 10 === 0) {
      nsec /= 10;
      width--;
    }
    this.decPad(nsec, width);
  }

  /** An IPv4 address given as a u32. */
  ipv4(n: number): void {
    this.dec(n >>> 24);
    this.byte(DOT);
    this.dec((n >>> 16) & 255);
    this.byte(DOT);
    this.dec((n >>> 8) & 255);
    this.byte(DOT);
    this.dec(n & 255);
  }

  /** The MAC at b[p]. */
  mac(b: Buffer, p: number): void {
    for (let i = 0; i < 6; i++) {
      if (i) this.byte(COLON);
      this.hex2(b[p + i]!);
    }
  }

  /**
   * formatIpv6()'s text (RFC 5952, as glibc's inet_ntop) of the 16 bytes at b[p], each ANDed with
   * the byte at b[m + i] when m >= 0: the longest run of two or more zero words (the first of
   * equal ones) as `::`, and ::a.b.c.d and ::ffff:a.b.c.d for the IPv4-compatible and -mapped forms.
   */
  ipv6(b: Buffer, p: number, m: number): void {
    const w = IPV6_WORDS;
    for (let i = 0; i < 8; i++) {
      const hi = b[p + 2 * i]!;
      const lo = b[p + 2 * i + 1]!;
      w[i] = m < 0 ? (hi << 8) | lo : ((hi & b[m + 2 * i]!) << 8) | (lo & b[m + 2 * i + 1]!);
    }
    const run = ipv6ZeroRun(w);
    const bestStart = run < 0 ? -1 : run >> 4;
    const bestLen = run < 0 ? 0 : run & 15;
    if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      this.byte(COLON);
      this.byte(COLON);
      if (bestLen === 5) this.write('ffff:');
      this.ipv4(w[6]! * 0x10000 + w[7]!);
      return;
    }
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) {
        this.byte(COLON);
        this.byte(COLON);
        i += bestLen - 1;
        continue;
      }
      if (i && i !== bestStart + bestLen) this.byte(COLON);
      this.hex(w[i]!);
    }
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
  viewOf(b);
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
