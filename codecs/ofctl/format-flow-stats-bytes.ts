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
import { fieldByHeader, headerValueBytes } from '../openflow/fields.js';
import { decodeInstructions } from '../openflow/instructions.js';
import { decodeMatch } from '../openflow/match.js';
import { decodeFlowStatsEntry, OFP13_VERSION, OFPMP_FLOW, OfType } from '../openflow/messages.js';
import { decodeActions, formatAction } from '../actions/index.js';
import { OFPAT_SET_FIELD, setFieldText } from '../actions/set-field.js';
import { formatInstructions } from './format-actions.js';
import { formatDuration, formatFlow, formatFlowStatsReplyHeader, FormatOptions, formatTimeoutsAndFlags } from './format-flow.js';
import { formatMatch } from './format-match.js';
import { writeMatchBytes } from './format-match-bytes.js';
import { HEX2 } from './values.js';

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

/** C's `%#x` of a 64-bit number given as two 32-bit halves (set_field's text). */
function hex64(hi: number, lo: number): string {
  if (hi === 0) return lo === 0 ? '0' : `0x${lo.toString(16)}`;
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** A MAC at p, under the mask at m (-1: none). */
function mac(b: Buffer, p: number, m: number): string {
  if (m < 0) return `${HEX2[b[p]!]}:${HEX2[b[p + 1]!]}:${HEX2[b[p + 2]!]}:${HEX2[b[p + 3]!]}:${HEX2[b[p + 4]!]}:${HEX2[b[p + 5]!]}`;
  return `${HEX2[b[p]! & b[m]!]}:${HEX2[b[p + 1]! & b[m + 1]!]}:${HEX2[b[p + 2]! & b[m + 2]!]}:`
    + `${HEX2[b[p + 3]! & b[m + 3]!]}:${HEX2[b[p + 4]! & b[m + 4]!]}:${HEX2[b[p + 5]! & b[m + 5]!]}`;
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

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
export function writeInstructions(out: TextSink, b: Buffer, p: number, end: number): boolean {
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
    // A long text (an action list, a learn action) is copied by Buffer#write: its call costs more
    // than the loop below for a short piece, less for a long one.
    if (n > 48) {
      this.pos = at + buf.write(s, at);
      return;
    }
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
