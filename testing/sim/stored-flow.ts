// A flow as the simulated switch stores it: one one-byte string holding the OFPMP_FLOW reply entry
// the codec encodes for it. Thousands of switches hold millions of flows, and a decoded flow costs
// ~1.3 KB of small objects the GC must walk; the string costs ~200 bytes and is never scanned.
// The entry's packet and byte counters (always 0 in a switch without packets) carry the creation
// and last-modification times in ms; they are replaced by the duration and zero counters when sent.
import { Reader, Writer } from '../../codecs/openflow/bytes.js';
import type { Flow, FlowStats } from '../../codecs/openflow/flow.js';
import { decodeInstructions, Instructions } from '../../codecs/openflow/instructions.js';
import { decodeMatch, Match } from '../../codecs/openflow/match.js';
import { decodeMessage, writeMessage } from '../../codecs/openflow/messages.js';

/** The stored form of one flow (see above). */
export type StoredFlow = string;

// Offsets inside an ofp11_flow_stats entry.
const AT_PRIORITY = 12;
const AT_IDLE = 14;
const AT_HARD = 16;
const AT_FLAGS = 18;
const AT_COOKIE = 24;
const AT_CREATED = 32;
const AT_MODIFIED = 40;
const AT_MATCH = 48;
const MULTIPART_HEADER = 16;

// One scratch writer: encoding is synchronous, so every call can reuse it.
const scratch = new Writer(1024);

/** Encodes a flow for storage, with its creation and last-modification times (ms). */
export function storeFlow(f: Flow, createdMs: number, modifiedMs: number): StoredFlow {
  // Field by field, not a spread of the decoded message: this runs once per flow-mod. Importance
  // is an OpenFlow 1.4 field: in 1.3 those bytes are padding, which OVS ignores.
  const stats: FlowStats = {
    table: f.table, priority: f.priority, cookie: f.cookie, idleTimeout: f.idleTimeout, hardTimeout: f.hardTimeout,
    flags: f.flags, importance: 0, match: f.match, instructions: f.instructions, durationSec: 0, durationNsec: 0,
    packetCount: BigInt(createdMs), byteCount: BigInt(modifiedMs), ...(f.unknownOxm ? { unknownOxm: f.unknownOxm } : {}),
  };
  scratch.pos = 0;
  writeMessage(scratch, { type: 'flow_stats_reply', xid: 0, flags: 0, flows: [stats] });
  return scratch.buf.toString('latin1', MULTIPART_HEADER, scratch.pos);
}

function u16(s: StoredFlow, at: number): number {
  return (s.charCodeAt(at) << 8) | s.charCodeAt(at + 1);
}

function u32(s: StoredFlow, at: number): number {
  return ((s.charCodeAt(at) << 24) | (s.charCodeAt(at + 1) << 16) | (s.charCodeAt(at + 2) << 8) | s.charCodeAt(at + 3)) >>> 0;
}

export const storedPriority = (s: StoredFlow): number => u16(s, AT_PRIORITY);
export const storedIdleTimeout = (s: StoredFlow): number => u16(s, AT_IDLE);
export const storedHardTimeout = (s: StoredFlow): number => u16(s, AT_HARD);
export const storedFlags = (s: StoredFlow): number => u16(s, AT_FLAGS);
export const storedCreated = (s: StoredFlow): number => u32(s, AT_CREATED) * 2 ** 32 + u32(s, AT_CREATED + 4);
export const storedModified = (s: StoredFlow): number => u32(s, AT_MODIFIED) * 2 ** 32 + u32(s, AT_MODIFIED + 4);

export function storedCookie(s: StoredFlow): bigint {
  return (BigInt(u32(s, AT_COOKIE)) << 32n) | BigInt(u32(s, AT_COOKIE + 4));
}

/** Match and instructions of a stored flow (decoded on demand: only loose selections need them). */
export function storedBody(s: StoredFlow): { match: Match; instructions: Instructions } {
  const r = new Reader(Buffer.from(s, 'latin1'));
  r.skip(AT_MATCH);
  const { match } = decodeMatch(r);
  return { match, instructions: decodeInstructions(r) };
}

export function storedMatch(s: StoredFlow): Match {
  const r = new Reader(Buffer.from(s, 'latin1'));
  r.skip(AT_MATCH);
  return decodeMatch(r).match;
}

/** The flow as the codec decodes it from a flow stats reply, with its duration at `nowMs` and zero counters. */
export function decodeStored(s: StoredFlow, nowMs: number, table: number): FlowStats {
  scratch.pos = 0;
  writeMessage(scratch, { type: 'flow_stats_reply', xid: 0, flags: 0, flows: [] });
  appendStored(scratch, s, nowMs);
  scratch.patch16(2, scratch.pos);
  const res = decodeMessage(Buffer.from(scratch.buf.subarray(0, scratch.pos)));
  if (!res.ok || res.msg.type !== 'flow_stats_reply' || res.msg.flows.length !== 1) {
    throw new Error(`stored flow of table ${table} does not decode: ${res.ok ? res.msg.type : res.error.message}`);
  }
  return res.msg.flows[0]!;
}

/** The flow without its stats, as a flow table holds it. */
export function storedAsFlow(s: StoredFlow, table: number): Flow {
  const { durationSec: _d, durationNsec: _n, packetCount: _p, byteCount: _b, ...flow } = decodeStored(s, 0, table);
  return flow;
}

/**
 * Appends the flow's reply entry: the stored bytes with the duration since creation (ms
 * resolution, as OVS's calc_duration) and zero packet and byte counters.
 */
export function appendStored(w: Writer, s: StoredFlow, nowMs: number): void {
  const at = w.pos;
  w.zeros(s.length);
  w.buf.write(s, at, 'latin1');
  const ms = Math.max(0, nowMs - storedCreated(s));
  w.patch32(at + 4, Math.floor(ms / 1000));
  w.patch32(at + 8, (ms % 1000) * 1_000_000);
  w.buf.fill(0, at + AT_CREATED, at + AT_MODIFIED + 8);
}
