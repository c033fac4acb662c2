// The ONF messages OVS 3.1 speaks in OpenFlow 1.3 beyond async.ts's: ONFT_REQUESTFORWARD (a group or
// meter mod forwarded to the other controllers) and the ONFST_FLOW_MONITOR request and reply (the
// NX flow monitor with an OXM match and OpenFlow 1.3 instructions). Each decodes to a typed value
// that re-encodes to the bytes it came from; what OVS refuses is refused with OVS's error.
import { Reader, Writer } from './bytes.js';
import { ONF_VENDOR, refuse } from './errors.js';
import { decodeInstructions, encodeInstructions, Instructions } from './instructions.js';
import { decodeMatch, encodeMatch, Match } from './match.js';
import { portToOf11 } from './ports.js';
import { port11, readStatsMessage, StatsMessage, writeStatsBody } from './stats.js';

const ONFT_REQUESTFORWARD = 2350;
const ONFST_FLOW_MONITOR = 1870;
const OFPT_GROUP_MOD = 15;
const OFPT_METER_MOD = 29;
const OFPMP_EXPERIMENTER = 0xffff;

/** NXFMF_* (OVS reads the same bits in the ONF request). */
export const FLOW_MONITOR_FLAGS = ['initial', 'add', 'delete', 'modify', 'actions', 'own'] as const;
const NXFMF_ADD_DELETE_MODIFY = 0xe;

export const NXFME_ADDED = 0;
export const NXFME_DELETED = 1;
export const NXFME_MODIFIED = 2;
export const NXFME_ABBREV = 3;

/** Bytes a field was received as, kept only when the encoder would write them otherwise. */
export function keptIfDifferent(received: Buffer, encode: (w: Writer) => void): Buffer | undefined {
  const w = new Writer(received.length || 8);
  encode(w);
  return w.finish().equals(received) ? undefined : Buffer.from(received);
}

/** A match as decoded, with the bytes it came as when they would not re-encode (field order, padding). */
export interface ReceivedMatch {
  readonly match: Match;
  readonly rawMatch?: Buffer;
}

/** OVS reads these matches strictly: a field it does not know is refused (unlike a packet-in's). */
function readMatch(b: Reader): ReceivedMatch {
  const at = b.pos;
  const { match, unknown } = decodeMatch(b);
  if (unknown.length) refuse(`unknown match field 0x${unknown[0]!.header.toString(16)}`, at, 'OFPBMC_BAD_FIELD');
  const rawMatch = keptIfDifferent(b.buf.subarray(at, b.pos), (w) => encodeMatch(w, match));
  return { match, ...(rawMatch ? { rawMatch } : {}) };
}

function writeMatch(w: Writer, m: ReceivedMatch): void {
  if (m.rawMatch) w.bytes(m.rawMatch);
  else encodeMatch(w, m.match);
}

/** The OXM match's length without padding, which OVS writes in the entries' match_len (and ignores on reading). */
function matchLength(m: ReceivedMatch): number {
  if (m.rawMatch) return m.rawMatch.readUInt16BE(2);
  const w = new Writer(64);
  encodeMatch(w, m.match);
  return w.finish().readUInt16BE(2);
}

export interface FlowMonitorRequest extends ReceivedMatch {
  readonly id: number;
  /** NXFMF_* bits. */
  readonly flags: number;
  /** 16-bit OVS form; OFPP_NONE (0xffff) = any. */
  readonly outPort: number;
  /** 0xff = all tables. */
  readonly table: number;
  /** The ignored match_len field, when it is not the match's length. */
  readonly matchLen?: number;
}

interface FlowUpdateFull extends ReceivedMatch {
  readonly event: 0 | 1 | 2;
  readonly reason: number;
  readonly priority: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly table: number;
  readonly cookie: bigint;
  readonly instructions: Instructions;
  /** The instructions as received, when they would not re-encode so (empty lists, order). */
  readonly rawInstructions?: Buffer;
  readonly matchLen?: number;
  /** The ignored pad byte after table_id, when not zero. */
  readonly pad?: number;
}

export type FlowUpdate = FlowUpdateFull | { readonly event: 3; readonly xid: number };

export type VendorMessage =
  | {
      readonly type: 'requestforward';
      /** The forwarded group or meter mod, with its own xid. */
      readonly forwarded: StatsMessage & { readonly type: 'group_mod' | 'meter_mod'; readonly xid: number };
      /** Bytes after the inner message (OVS ignores them). */
      readonly trailing?: Buffer;
    }
  | { readonly type: 'flow_monitor_request'; readonly flags: number; readonly monitors: readonly FlowMonitorRequest[] }
  | { readonly type: 'flow_monitor_reply'; readonly flags: number; readonly updates: readonly FlowUpdate[] };

export type VendorMessageType = VendorMessage['type'];

/** Writes the body (after the 8-byte header) of m; returns the OpenFlow message type. */
export function writeVendorBody(w: Writer, m: VendorMessage): number {
  switch (m.type) {
    case 'requestforward': {
      w.u32(ONF_VENDOR).u32(ONFT_REQUESTFORWARD);
      const start = w.pos;
      w.u8(4).u8(m.forwarded.type === 'group_mod' ? OFPT_GROUP_MOD : OFPT_METER_MOD).u16(0).u32(m.forwarded.xid);
      writeStatsBody(w, m.forwarded);
      w.patch16(start + 2, w.pos - start);
      if (m.trailing) w.bytes(m.trailing);
      return 4;
    }
    case 'flow_monitor_request':
      w.u16(OFPMP_EXPERIMENTER).u16(m.flags).zeros(4).u32(ONF_VENDOR).u32(ONFST_FLOW_MONITOR);
      for (const q of m.monitors) {
        w.u32(q.id).u16(q.flags).u16(q.matchLen ?? matchLength(q)).u32(portToOf11(q.outPort)).u8(q.table).zeros(3);
        writeMatch(w, q);
      }
      return 18;
    case 'flow_monitor_reply':
      w.u16(OFPMP_EXPERIMENTER).u16(m.flags).zeros(4).u32(ONF_VENDOR).u32(ONFST_FLOW_MONITOR);
      for (const u of m.updates) {
        const start = w.pos;
        if (u.event === NXFME_ABBREV) {
          w.u16(8).u16(u.event).u32(u.xid);
          continue;
        }
        w.u16(0).u16(u.event).u16(u.reason).u16(u.priority).u16(u.idleTimeout).u16(u.hardTimeout);
        w.u16(u.matchLen ?? matchLength(u)).u8(u.table).u8(u.pad ?? 0).u64(u.cookie);
        writeMatch(w, u);
        if (u.rawInstructions) w.bytes(u.rawInstructions);
        else encodeInstructions(w, u.instructions);
        w.patch16(start, w.pos - start);
      }
      return 19;
  }
}

/** ofp-msgs: the message is its fixed part (`fixed` bytes of body here) and 8-byte units after it. */
function units(b: Reader, what: string): void {
  if (b.remaining % 8) refuse(`${what} of ${b.remaining} bytes after its header`, b.pos, 'OFPBRC_BAD_LEN');
}

function readRequestForward(b: Reader): VendorMessage {
  units(b, 'ONFT_REQUESTFORWARD');
  const at = b.pos;
  if (b.remaining < 8) refuse('ONFT_REQUESTFORWARD without a message', at, 'OFPBRC_BAD_LEN');
  const version = b.u8();
  const type = b.u8();
  const length = b.u16();
  const xid = b.u32();
  if (length < 8 || length - 8 > b.remaining) refuse(`forwarded message length ${length}`, at, 'OFPBFC_MSG_BAD_LEN');
  if (version !== 4) refuse(`forwarded message version ${version}`, at, 'OFPBRC_BAD_VERSION');
  if (type !== OFPT_GROUP_MOD && type !== OFPT_METER_MOD) refuse(`forwarded message type ${type}`, at, 'OFPBFC_MSG_UNSUP');
  const inner = readStatsMessage(type, b.sub(length - 8)) as StatsMessage & { type: 'group_mod' | 'meter_mod' };
  const trailing = b.remaining ? Buffer.from(b.bytes(b.remaining)) : undefined;
  return { type: 'requestforward', forwarded: { ...inner, xid }, ...(trailing ? { trailing } : {}) };
}

/** An ONF experimenter message of this file's; undefined for other subtypes. */
export function readVendorMessage2(subtype: number, b: Reader): VendorMessage | undefined {
  return subtype === ONFT_REQUESTFORWARD ? readRequestForward(b) : undefined;
}

function readMonitorRequest(b: Reader): FlowMonitorRequest {
  const at = b.pos;
  if (b.remaining < 16) refuse(`flow monitor request of ${b.remaining} bytes`, at, 'OFPBRC_BAD_LEN');
  const id = b.u32();
  const flags = b.u16();
  if (!(flags & NXFMF_ADD_DELETE_MODIFY) || flags & ~0x3f) refuse(`flow monitor flags 0x${flags.toString(16)}`, at + 4, 'OFPMOFC_BAD_FLAGS');
  const matchLen = b.u16();
  const outPort = port11(b, 'OFPBAC_BAD_OUT_PORT');
  const table = b.u8();
  if (b.u8() || b.u16()) refuse('flow monitor request padding', at + 13, 'NXBRC_MUST_BE_ZERO');
  const m = readMatch(b);
  return { id, flags, outPort, table, ...m, ...(matchLen !== matchLength(m) ? { matchLen } : {}) };
}

function readFlowUpdate(b: Reader): FlowUpdate {
  const at = b.pos;
  if (b.remaining < 4) refuse(`flow update of ${b.remaining} bytes`, at, 'OFPBRC_BAD_LEN');
  const length = b.u16();
  const event = b.u16();
  if (length > b.remaining + 4 || length % 8) refuse(`flow update length ${length}`, at, 'OFPBRC_BAD_LEN');
  if (event === NXFME_ABBREV) {
    if (length !== 8) refuse(`abbreviated flow update length ${length}`, at, 'OFPBRC_BAD_LEN');
    return { event, xid: b.u32() };
  }
  if (event > NXFME_ABBREV) refuse(`flow update event ${event}`, at + 2, 'NXBRC_FM_BAD_EVENT');
  if (length < 24) refuse(`flow update length ${length}`, at, 'OFPBRC_BAD_LEN');
  const e = b.sub(length - 4);
  const reason = e.u16();
  const priority = e.u16();
  const idleTimeout = e.u16();
  const hardTimeout = e.u16();
  const matchLen = e.u16();
  const table = e.u8();
  const pad = e.u8();
  const cookie = e.u64();
  const m = readMatch(e);
  const insAt = e.pos;
  const instructions = decodeInstructions(e);
  const rawInstructions = keptIfDifferent(e.buf.subarray(insAt, e.pos), (w) => encodeInstructions(w, instructions));
  return {
    event: event as 0 | 1 | 2, reason, priority, idleTimeout, hardTimeout, table, cookie, ...m, instructions,
    ...(rawInstructions ? { rawInstructions } : {}), ...(matchLen !== matchLength(m) ? { matchLen } : {}), ...(pad ? { pad } : {}),
  };
}

/**
 * An experimenter multipart's body (from its vendor) when it is ONFST_FLOW_MONITOR; undefined for
 * the others (stats.ts has refused those OVS does not know).
 */
export function readExperimenterMultipart(flags: number, isRequest: boolean, b: Reader): VendorMessage | undefined {
  if (b.remaining < 8 || b.buf.readUInt32BE(b.pos) !== ONF_VENDOR || b.buf.readUInt32BE(b.pos + 4) !== ONFST_FLOW_MONITOR) return undefined;
  b.skip(8);
  units(b, 'ONFST_FLOW_MONITOR');
  if (isRequest) {
    const monitors: FlowMonitorRequest[] = [];
    while (b.remaining > 0) monitors.push(readMonitorRequest(b));
    return { type: 'flow_monitor_request', flags, monitors };
  }
  const updates: FlowUpdate[] = [];
  while (b.remaining > 0) updates.push(readFlowUpdate(b));
  return { type: 'flow_monitor_reply', flags, updates };
}
