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
import { DiffHead, diffLine, matchText, sameSettings, toFlowMod } from './flowset.js';

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

/** Key scratch: table, priority and the match TLVs (a match is at most 64 kB). */
const keyScratch = Buffer.allocUnsafe(3 + 0x10000);

export class EncodedFlows {
  private readonly w = new Writer(1 << 16);
  /** Where each flow's flow-mod starts in the buffer. */
  private readonly starts: number[] = [];
  /** identity -> index of the flow; a later flow of the same identity replaces an earlier one. */
  readonly byIdentity = new Map<string, number>();

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

  /** What a diff line prints of flow i besides its match and actions, read from its bytes. */
  head(i: number): DiffHead {
    const b = this.w.buf;
    const at = this.starts[i]!;
    return {
      table: b[at + FM_TABLE]!, cookie: b.readBigUInt64BE(at + FM_COOKIE), idleTimeout: b.readUInt16BE(at + FM_IDLE),
      hardTimeout: b.readUInt16BE(at + FM_HARD), importance: b.readUInt16BE(at + FM_IMPORTANCE),
    };
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

/** The identity (flowIdentity's key) of the flow-mod at `at`: table, priority, match TLVs. */
function identityAt(b: Buffer, at: number): string {
  const tlvs = at + FM_MATCH + 4;
  const end = at + FM_MATCH + b.readUInt16BE(at + FM_MATCH + 2);
  keyScratch[0] = b[at + FM_TABLE]!;
  keyScratch[1] = b[at + FM_PRIORITY]!;
  keyScratch[2] = b[at + FM_PRIORITY + 1]!;
  b.copy(keyScratch, 3, tlvs, end);
  return keyScratch.toString('latin1', 0, 3 + end - tlvs);
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

/**
 * formatDiff of an encoded diff, as text: each line ended by a newline. Each flow is decoded as it
 * is printed, and let go; its line goes straight into a byte buffer, and only its sort key stays a
 * string (the lines as strings all outlived the young generation: most of the printing's time
 * went to collecting them). The two flows of a changed pair have one identity, so the same match
 * bytes and the same printed match: it is printed once; when their instruction bytes are equal
 * too (a new cookie or timeout), so are their actions, and the second flow is not decoded at all.
 */
export function formatEncodedDiffText(a: EncodedFlows, b: EncodedFlows, d: EncodedDiff): Buffer {
  const keys: string[] = [];
  const ends: number[] = [];
  let buf = Buffer.allocUnsafe(1 << 16);
  let pos = 0;
  const put = (key: string, line: string): void => {
    if (pos + line.length * 3 + 1 > buf.length) {
      const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + line.length * 3 + 1));
      buf.copy(next, 0, 0, pos);
      buf = next;
    }
    pos += buf.write(line, pos, 'utf8');
    buf[pos++] = 10;
    keys.push(key);
    ends.push(pos);
  };
  const one = (set: EncodedFlows, i: number, sign: string): void => {
    const f = set.flow(i);
    const m = matchText(f);
    put(`${f.table} ${m}`, `${sign}${diffLine(f, m, formatInstructions(f.instructions))}`);
  };
  for (const i of d.onlyA) one(a, i, '-');
  for (const j of d.onlyB) one(b, j, '+');
  for (const [i, j] of d.changed) {
    const fa = a.flow(i);
    const m = matchText(fa);
    const at = `${fa.table} ${m}`;
    const actions = formatInstructions(fa.instructions);
    put(at, `-${diffLine(fa, m, actions)}`);
    let line: string;
    if (sameInstructions(a, i, b, j)) {
      line = diffLine(b.head(j), m, actions);
    } else {
      const fb = b.flow(j);
      line = diffLine(fb, m, formatInstructions(fb.instructions));
    }
    put(`${at}\u0001`, `+${line}`);
  }
  // The lines in sortedDiffLines' order (a stable sort of the same keys), copied into one buffer.
  const order = keys.map((_, k) => k).sort((x, y) => (keys[x]! < keys[y]! ? -1 : keys[x]! > keys[y]! ? 1 : 0));
  const text = Buffer.allocUnsafe(pos);
  let at = 0;
  for (const k of order) at += buf.copy(text, at, k === 0 ? 0 : ends[k - 1]!, ends[k]!);
  return text;
}

/** formatDiff of an encoded diff, as lines. */
export function formatEncodedDiff(a: EncodedFlows, b: EncodedFlows, d: EncodedDiff): string[] {
  const text = formatEncodedDiffText(a, b, d).toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}
