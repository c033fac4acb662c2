// A flow set held as the wire bytes of its flow-mods (OpenFlow 1.3 ADD), one buffer for all of
// them, instead of one Flow object per flow: for the flow tools' big sets (replace-flows,
// diff-flows) the objects were most of the memory and their collection most of the time. Each
// flow is encoded once (as it would be sent anyway); its identity is cut from those bytes (the same
// key as flowIdentity: table, priority, match TLVs); two flows of one identity are compared byte
// for byte, and only when the bytes differ is either decoded (sameSettings decides then). A flow is
// decoded again only to be printed.
import { Writer } from '../../codecs/openflow/bytes.js';
import type { Flow } from '../../codecs/openflow/flow.js';
import { decodeMessage, FlowMod, FlowModMessage, OFPFC_ADD, OFPFC_DELETE_STRICT, OfType, OutgoingMessage, writeMessage } from '../../codecs/openflow/messages.js';
import { formatInstructions } from '../../codecs/ofctl/format-actions.js';
import { TextSink, writeInstructions } from '../../codecs/ofctl/format-flow-stats-bytes.js';
import { writeMatchBytes } from '../../codecs/ofctl/format-match-bytes.js';
import { matchText, sameSettings, toFlowMod } from './flowset.js';

// Offsets in an OpenFlow 1.3 FLOW_MOD.
const FM_LENGTH = 2;
const FM_COOKIE = 8;
const FM_COOKIE_MASK = 16;
const FM_TABLE = 24;
const FM_COMMAND = 25;
const FM_IDLE = 26; // idle_timeout, hard_timeout
const FM_HARD = 28;
const FM_PRIORITY = 30;
const FM_FLAGS = 44;
const FM_IMPORTANCE = 46;
const FM_MATCH = 48;

export class EncodedFlows {
  private readonly w: Writer;
  /** Where each flow's flow-mod starts in the buffer. */
  private readonly starts: number[] = [];
  /** identity -> index of the flow; a later flow of the same identity replaces an earlier one. */
  readonly byIdentity = new Map<string, number>();

  /**
   * `expectBytes`: about how many bytes the flows will take. A buffer grown by doubling copies
   * itself each time and holds both copies until collected; one sized ahead is faulted in only as
   * it is written (an overestimate costs address space, not memory).
   */
  constructor(expectBytes = 1 << 16) {
    this.w = new Writer(Math.max(1 << 16, Math.ceil(expectBytes)));
  }

  /** The bytes the flows take. */
  get byteLength(): number {
    return this.w.pos;
  }

  /** Adds a flow (written as an ADD flow-mod); returns its index. */
  add(f: Flow): number {
    const m: FlowModMessage = (f as Partial<FlowModMessage>).type === 'flow_mod' ? f as FlowModMessage : toFlowMod(f, OFPFC_ADD);
    const at = this.w.pos;
    writeMessage(this.w, m, 0);
    const b = this.w.buf;
    // As sent: an ADD without a cookie mask (what a file's flow or a dumped one is).
    b[at + FM_COMMAND] = OFPFC_ADD;
    b.fill(0, at + FM_COOKIE_MASK, at + FM_COOKIE_MASK + 8);
    const i = this.starts.length;
    this.starts.push(at);
    this.byIdentity.set(identityAt(b, at), i);
    return i;
  }

  get size(): number {
    return this.starts.length;
  }

  /** The flow-mod bytes of flow i (a view: valid until the next add). */
  bytes(i: number): Buffer {
    const at = this.starts[i]!;
    return this.w.buf.subarray(at, at + this.w.buf.readUInt16BE(at + FM_LENGTH));
  }

  /** Flow i as an object (decoded from its bytes: what the switch is told). */
  flow(i: number): FlowMod {
    const res = decodeMessage(this.bytes(i));
    if (!res.ok || res.msg.type !== 'flow_mod') throw new Error(`flow does not survive encoding: ${res.ok ? res.msg.type : res.error.message}`);
    return res.msg;
  }

  /** Where flow i's instructions start in bytes(i) (after its padded match). */
  instructionsAt(i: number): number {
    return FM_MATCH + ((this.w.buf.readUInt16BE(this.starts[i]! + FM_MATCH + 2) + 7) & ~7);
  }

  /**
   * Flow i as a message to send: `command` ADD is the flow-mod as it is, DELETE_STRICT the same
   * without its instructions. The bytes go out as they are (no object, no second encoding).
   */
  message(i: number, command: typeof OFPFC_ADD | typeof OFPFC_DELETE_STRICT): OutgoingMessage {
    let b = this.bytes(i);
    if (command === OFPFC_DELETE_STRICT) {
      const matchEnd = FM_MATCH + ((b.readUInt16BE(FM_MATCH + 2) + 7) & ~7);
      b = Buffer.from(b.subarray(0, matchEnd));
      b[FM_COMMAND] = OFPFC_DELETE_STRICT;
    }
    return { type: 'unknown', version: b[0]!, ofType: OfType.FLOW_MOD, body: b.subarray(8) };
  }
}

/**
 * The identity (flowIdentity's key) of the flow-mod at `at`: table, priority, match TLVs. Cut as
 * one string from the bytes: the 3 bytes before the TLVs (the match's type and length) are lent
 * to the table and priority for the cut, then put back (a copy into a scratch buffer cost more).
 */
function identityAt(b: Buffer, at: number): string {
  const from = at + FM_MATCH + 1;
  const end = at + FM_MATCH + b.readUInt16BE(at + FM_MATCH + 2);
  const kept0 = b[from]!, kept1 = b[from + 1]!, kept2 = b[from + 2]!;
  b[from] = b[at + FM_TABLE]!;
  b[from + 1] = b[at + FM_PRIORITY]!;
  b[from + 2] = b[at + FM_PRIORITY + 1]!;
  const key = b.toString('latin1', from, end);
  b[from] = kept0;
  b[from + 1] = kept1;
  b[from + 2] = kept2;
  return key;
}

/**
 * sameSettings for flow i of a and flow j of b: equal bytes hold the same (the cookie, timeouts,
 * flags and instructions all equal); otherwise, with the same cookie, timeouts and flags, the
 * instructions may still print the same: then both are decoded and sameSettings decides.
 */
export function sameSettingsAt(a: EncodedFlows, i: number, b: EncodedFlows, j: number): boolean {
  const x = a.bytes(i);
  const y = b.bytes(j);
  if (x.compare(y, FM_COOKIE, FM_COOKIE + 8, FM_COOKIE, FM_COOKIE + 8) !== 0) return false;
  if (x.readUInt32BE(FM_IDLE) !== y.readUInt32BE(FM_IDLE) || x.readUInt16BE(FM_FLAGS) !== y.readUInt16BE(FM_FLAGS)) return false;
  if (sameInstructions(a, i, b, j)) return true;
  return sameSettings(a.flow(i), b.flow(j));
}

/** Flow i of a and flow j of b carry the same instruction bytes. */
function sameInstructions(a: EncodedFlows, i: number, b: EncodedFlows, j: number): boolean {
  return a.bytes(i).compare(b.bytes(j), b.instructionsAt(j), undefined, a.instructionsAt(i)) === 0;
}

/** A diff of two encoded sets, by index: flows only in a, only in b, and changed ([a, b]). */
export interface EncodedDiff {
  readonly onlyA: number[];
  readonly onlyB: number[];
  readonly changed: Array<readonly [number, number]>;
}

/** diffFlows over encoded sets: the same pairs by the same identity, in the same order. */
export function diffEncoded(a: EncodedFlows, b: EncodedFlows): EncodedDiff {
  const onlyA: number[] = [];
  const onlyB: number[] = [];
  const changed: Array<readonly [number, number]> = [];
  for (const [k, i] of a.byIdentity) {
    const j = b.byIdentity.get(k);
    if (j === undefined) onlyA.push(i);
    else if (!sameSettingsAt(a, i, b, j)) changed.push([i, j]);
  }
  for (const [k, j] of b.byIdentity) if (!a.byIdentity.has(k)) onlyB.push(j);
  return { onlyA, onlyB, changed };
}

export function isEmptyEncodedDiff(d: EncodedDiff): boolean {
  return d.onlyA.length === 0 && d.onlyB.length === 0 && d.changed.length === 0;
}

/** The tables 0..255 ranked as their decimal strings sort (a diff's sort key starts `${table} `). */
const TABLE_RANK: Uint8Array = (() => {
  const rank = new Uint8Array(256);
  Array.from({ length: 256 }, (_, t) => String(t)).sort().forEach((s, r) => { rank[Number(s)] = r; });
  return rank;
})();

const DIFF_CHUNK = 1 << 18;
const MINUS = 0x2d;
const PLUS = 0x2b;

/**
 * Writes flow i of `set` as a diff line (diffLine's text after `sign`) and sets `where` to its match
 * text in the sink. Printed from its bytes, as dump-flows prints (format-flow-stats-bytes.ts); a match
 * or instructions that printer does not take are decoded and printed as before.
 */
function writeDiffLine(out: TextSink, set: EncodedFlows, i: number, sign: number, where: { ms: number; me: number }): void {
  const bytes = set.bytes(i);
  const end = bytes.length;
  out.byte(sign);
  const table = bytes[FM_TABLE]!;
  if (table) {
    out.write('table=');
    out.dec(table);
    out.byte(0x20);
  }
  const ms = out.pos;
  const matchEnd = FM_MATCH + bytes.readUInt16BE(FM_MATCH + 2);
  if (!writeMatchBytes(out, bytes, FM_MATCH + 4, matchEnd, bytes.readUInt16BE(FM_PRIORITY))) {
    out.pos = ms;
    out.write(matchText(set.flow(i)));
  } else if (out.pos > ms) {
    out.pos--; // its trailing space
  }
  where.ms = ms;
  where.me = out.pos;
  const cookieHi = bytes.readUInt32BE(FM_COOKIE);
  const cookieLo = bytes.readUInt32BE(FM_COOKIE + 4);
  if (cookieHi || cookieLo) {
    out.write(' cookie=0x');
    out.hex64Digits(cookieHi, cookieLo);
  }
  const number = (what: string, n: number): void => {
    if (!n) return;
    out.write(what);
    out.dec(n);
  };
  number(' idle_timeout=', bytes.readUInt16BE(FM_IDLE));
  number(' hard_timeout=', bytes.readUInt16BE(FM_HARD));
  number(' importance=', bytes.readUInt16BE(FM_IMPORTANCE));
  out.write(' actions=');
  if (!writeInstructions(out, bytes, set.instructionsAt(i), end)) out.write(formatInstructions(set.flow(i).instructions));
  out.byte(0x0a);
}

/** Byte order of [x, xe) of bx and [y, ye) of by (UTF-16 order for the ASCII a flow prints as). */
function compareBytes(bx: Buffer, x: number, xe: number, by: Buffer, y: number, ye: number): number {
  const n = Math.min(xe - x, ye - y);
  for (let k = 0; k < n; k++) {
    const c = bx[x + k]! - by[y + k]!;
    if (c) return c;
  }
  return (xe - x) - (ye - y);
}

/**
 * formatDiff of an encoded diff, as text: each line ended by a newline, in sortedDiffLines' order
 * (a stable sort by `${table} ${match}`, a changed pair's + line keyed just after its - line).
 * Each flow is printed from its bytes into one buffer (no object, no string per line: those all
 * outlived the young generation, and most of the printing's time went to collecting them); the
 * lines are sorted by their bytes there, a changed pair as one unit, and copied out in order.
 */
export function formatEncodedDiffText(a: EncodedFlows, b: EncodedFlows, d: EncodedDiff): Buffer {
  // Written in chunks, a unit never split between two (a buffer grown as a whole, copied at
  // each doubling, cost more than the printing).
  const chunks: Buffer[] = [];
  const sink = new TextSink((chunk) => { chunks.push(chunk); }, DIFF_CHUNK);
  // Per unit (a line, or the two lines of a changed pair): its table, its chunk, where its match
  // text is, where its first line starts, where its second (if any) starts, where it ends.
  const n = d.onlyA.length + d.onlyB.length + d.changed.length;
  const tables = new Uint8Array(n);
  const chunkOf = new Int32Array(n);
  const ms = new Int32Array(n);
  const me = new Int32Array(n);
  const starts = new Int32Array(n);
  const mids = new Int32Array(n);
  const ends = new Int32Array(n);
  const where = { ms: 0, me: 0 };
  let u = 0;
  const unit = (set: EncodedFlows, i: number, sign: number): void => {
    if (sink.pos > DIFF_CHUNK - 4096) sink.flush();
    chunkOf[u] = chunks.length;
    starts[u] = sink.pos;
    tables[u] = set.bytes(i)[FM_TABLE]!;
    writeDiffLine(sink, set, i, sign, where);
    ms[u] = where.ms;
    me[u] = where.me;
    mids[u] = ends[u] = sink.pos;
    u++;
  };
  for (const i of d.onlyA) unit(a, i, MINUS);
  for (const j of d.onlyB) unit(b, j, PLUS);
  for (const [i, j] of d.changed) {
    unit(a, i, MINUS);
    writeDiffLine(sink, b, j, PLUS, where);
    ends[u - 1] = sink.pos;
  }
  sink.flush();
  const cmp = (x: number, y: number): number => TABLE_RANK[tables[x]!]! - TABLE_RANK[tables[y]!]!
    || compareBytes(chunks[chunkOf[x]!]!, ms[x]!, me[x]!, chunks[chunkOf[y]!]!, ms[y]!, me[y]!);
  const order = Array.from({ length: n }, (_, k) => k).sort(cmp);
  const res = Buffer.allocUnsafe(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (let r = 0; r < n;) {
    // A run of units of one key: first lines in order, then the + lines of its changed pairs
    // (the order the stable sort of the lines' own keys gives).
    let e = r + 1;
    while (e < n && cmp(order[r]!, order[e]!) === 0) e++;
    for (let k = r; k < e; k++) at += chunks[chunkOf[order[k]!]!]!.copy(res, at, starts[order[k]!]!, mids[order[k]!]!);
    for (let k = r; k < e; k++) at += chunks[chunkOf[order[k]!]!]!.copy(res, at, mids[order[k]!]!, ends[order[k]!]!);
    r = e;
  }
  return res;
}

/** formatDiff of an encoded diff, as lines. */
export function formatEncodedDiff(a: EncodedFlows, b: EncodedFlows, d: EncodedDiff): string[] {
  const text = formatEncodedDiffText(a, b, d).toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}
