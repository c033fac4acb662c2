// OpenFlow 1.3 messages: typed values, encodeMessage() and decodeMessage(). decodeMessage never
// throws: a malformed message yields { ok: false, error } with the byte offset of the problem.
import { DecodeError, Reader, Writer } from './bytes.js';
import { Action, decodeActions, encodeActions } from '../actions/index.js';
import { checkFlowActions } from '../actions/check.js';
import { Flow, FlowStats } from './flow.js';
import { decodeInstructions, encodeInstructions } from './instructions.js';
import { decodeMatch, encodeMatch, Match, UnknownOxm } from './match.js';
import { portFromOf11, portToOf11 } from './ports.js';
import {
  FlowStatsRequest, readFlowStatsRequest, readStatsMessage, readStatsMultipart, StatsMessage, statsWireType, writeFlowStatsRequest,
  writeStatsBody,
} from './stats.js';
import { AsyncMessage, helloElements, isAsyncMessage, OFPCR_ROLE_SLAVE, readVendorMessage, writeAsyncBody } from './async.js';
import { readExperimenterMultipart } from './vendor-messages.js';
import { errorName, refuse } from './errors.js';

export type { FlowStatsRequest } from './stats.js';

export const OFP13_VERSION = 0x04;
export const ONF_EXPERIMENTER = 0x4f4e4600;
export const ONFT_BUNDLE_CONTROL = 2300;
export const ONFT_BUNDLE_ADD_MESSAGE = 2301;

export const enum OfType {
  HELLO = 0, ERROR = 1, ECHO_REQUEST = 2, ECHO_REPLY = 3, EXPERIMENTER = 4, FEATURES_REQUEST = 5,
  FEATURES_REPLY = 6, GET_CONFIG_REQUEST = 7, GET_CONFIG_REPLY = 8, SET_CONFIG = 9, PACKET_IN = 10,
  FLOW_REMOVED = 11, PORT_STATUS = 12, PACKET_OUT = 13, FLOW_MOD = 14, MULTIPART_REQUEST = 18,
  MULTIPART_REPLY = 19, BARRIER_REQUEST = 20, BARRIER_REPLY = 21, ROLE_REQUEST = 24, ROLE_REPLY = 25,
}

export const OFPMP_DESC = 0;
export const OFPMP_FLOW = 1;
export const OFPMP_PORT_DESC = 13;
export const OFPMPF_MORE = 1;

export const OFPFC_ADD = 0;
export const OFPFC_MODIFY = 1;
export const OFPFC_MODIFY_STRICT = 2;
export const OFPFC_DELETE = 3;
export const OFPFC_DELETE_STRICT = 4;
export type FlowModCommand = 0 | 1 | 2 | 3 | 4;

export const OFPBCT_OPEN_REQUEST = 0;
export const OFPBCT_OPEN_REPLY = 1;
export const OFPBCT_CLOSE_REQUEST = 2;
export const OFPBCT_CLOSE_REPLY = 3;
export const OFPBCT_COMMIT_REQUEST = 4;
export const OFPBCT_COMMIT_REPLY = 5;
export const OFPBCT_DISCARD_REQUEST = 6;
export const OFPBCT_DISCARD_REPLY = 7;
export const OFPBF_ATOMIC = 1;
export const OFPBF_ORDERED = 2;

export const OFP_NO_BUFFER = 0xffffffff;
export const OFPG_ANY = 0xffffffff;
export const OFPTT_ALL = 0xff;

export interface PortDesc {
  readonly portNo: number;
  readonly hwAddr: bigint;
  readonly name: string;
  readonly config: number;
  readonly state: number;
  readonly curr: number;
  readonly advertised: number;
  readonly supported: number;
  readonly peer: number;
  readonly currSpeed: number;
  readonly maxSpeed: number;
}

export interface FlowMod extends Flow {
  readonly command: FlowModCommand;
  readonly cookieMask: bigint;
  readonly bufferId: number;
  /** 16-bit OVS port form; OFPP_NONE (0xffff) = any. */
  readonly outPort: number;
  readonly outGroup: number;
}

type WithXid<T> = T & { readonly xid: number };

export type OfMessage = WithXid<
  | {
      readonly type: 'hello'; readonly versions: readonly number[];
      /** The header's version when it is not 1.3 (0x04). */
      readonly version?: number;
      /** The elements as received, when they are not the one bitmap `versions` encodes to (re-encoded as they came). */
      readonly elements?: Buffer;
    }
  | { readonly type: 'error'; readonly errType: number; readonly code: number; readonly experimenter?: number; readonly data: Buffer }
  | { readonly type: 'echo_request'; readonly data: Buffer }
  | { readonly type: 'echo_reply'; readonly data: Buffer }
  | { readonly type: 'experimenter'; readonly experimenter: number; readonly expType: number; readonly data: Buffer }
  | { readonly type: 'features_request' }
  | {
      readonly type: 'features_reply'; readonly datapathId: bigint; readonly nBuffers: number; readonly nTables: number;
      readonly auxiliaryId: number; readonly capabilities: number;
    }
  | { readonly type: 'get_config_request' }
  | { readonly type: 'get_config_reply'; readonly flags: number; readonly missSendLen: number }
  | { readonly type: 'set_config'; readonly flags: number; readonly missSendLen: number }
  | {
      readonly type: 'packet_in'; readonly bufferId: number; readonly totalLen: number; readonly reason: number;
      readonly table: number; readonly cookie: bigint; readonly match: Match; readonly data: Buffer;
      /** Match fields the codec does not know, kept (printed as unknown_oxm, re-encoded as they came). */
      readonly unknownOxm?: readonly UnknownOxm[];
      /** The ofp_match as received, when its fields are not in the encoder's order (re-encoded as it came). */
      readonly rawMatch?: Buffer;
    }
  | {
      readonly type: 'flow_removed'; readonly cookie: bigint; readonly priority: number; readonly reason: number;
      readonly table: number; readonly durationSec: number; readonly durationNsec: number; readonly idleTimeout: number;
      readonly hardTimeout: number; readonly packetCount: bigint; readonly byteCount: bigint; readonly match: Match;
      readonly unknownOxm?: readonly UnknownOxm[];
    }
  | { readonly type: 'port_status'; readonly reason: number; readonly port: PortDesc }
  | {
      readonly type: 'packet_out'; readonly bufferId: number; readonly inPort: number; readonly actions: readonly Action[];
      readonly data: Buffer;
    }
  | ({ readonly type: 'flow_mod' } & FlowMod)
  | { readonly type: 'flow_stats_request'; readonly flags: number; readonly request: FlowStatsRequest }
  | { readonly type: 'flow_stats_reply'; readonly flags: number; readonly flows: readonly FlowStats[] }
  | { readonly type: 'port_desc_request'; readonly flags: number }
  | { readonly type: 'port_desc_reply'; readonly flags: number; readonly ports: readonly PortDesc[] }
  | { readonly type: 'multipart_request'; readonly mpType: number; readonly flags: number; readonly body: Buffer }
  | { readonly type: 'multipart_reply'; readonly mpType: number; readonly flags: number; readonly body: Buffer }
  | { readonly type: 'barrier_request' }
  | { readonly type: 'barrier_reply' }
  | { readonly type: 'role_request' | 'role_reply'; readonly role: number; readonly generationId: bigint }
  | {
      readonly type: 'bundle_control'; readonly bundleId: number; readonly ctrlType: number; readonly flags: number;
      readonly properties: Buffer;
    }
  | { readonly type: 'bundle_add'; readonly bundleId: number; readonly flags: number; readonly message: OfMessage }
  | { readonly type: 'unknown'; readonly ofType: number; readonly version: number; readonly body: Buffer }
  /** Group, meter, table, port and async configuration; the other multiparts (stats.ts). */
  | StatsMessage
  /** Role status, controller id, flow monitor control, NXT_SET_ASYNC_CONFIG2 (async.ts). */
  | AsyncMessage
>;

export type MessageType = OfMessage['type'];
export type MessageOf<T extends MessageType> = Extract<OfMessage, { type: T }>;

// ---------------------------------------------------------------------------------------------
// Encoding

function header(w: Writer, type: number, xid: number): number {
  const start = w.pos;
  w.u8(OFP13_VERSION).u8(type).u16(0).u32(xid);
  return start;
}

function multipartHeader(w: Writer, type: number, xid: number, mpType: number, flags: number): number {
  const start = header(w, type, xid);
  w.u16(mpType).u16(flags).zeros(4);
  return start;
}

function encodePortDesc(w: Writer, p: PortDesc): void {
  w.u32(portToOf11(p.portNo)).zeros(4).uint(p.hwAddr, 6).zeros(2);
  const name = Buffer.alloc(16);
  name.write(p.name.slice(0, 16), 'latin1');
  w.bytes(name).u32(p.config).u32(p.state).u32(p.curr).u32(p.advertised).u32(p.supported).u32(p.peer);
  w.u32(p.currSpeed).u32(p.maxSpeed);
}

function encodeFlowStats(w: Writer, f: FlowStats): void {
  const start = w.pos;
  w.u16(0).u8(f.table).u8(0).u32(f.durationSec).u32(f.durationNsec).u16(f.priority).u16(f.idleTimeout);
  w.u16(f.hardTimeout).u16(f.flags).zeros(4).u64(f.cookie).u64(f.packetCount).u64(f.byteCount);
  encodeMatch(w, f.match, f.unknownOxm);
  encodeInstructions(w, f.instructions);
  w.patch16(start, w.pos - start);
}

/** A message without its xid, which the session assigns when it sends it. */
export type OutgoingMessage = OfMessage extends infer M ? (M extends OfMessage ? Omit<M, 'xid'> : never) : never;

/** A FLOW_MOD ready to send: the session assigns the xid. */
export type FlowModMessage = FlowMod & { readonly type: 'flow_mod' };

/**
 * Appends one message to w (so many messages can be packed into one buffer). `xid` overrides
 * m.xid, so callers that number messages need not copy them.
 */
export function writeMessage(w: Writer, msg: OfMessage | OutgoingMessage, xidArg?: number): void {
  const m = msg as OfMessage;
  const xid = xidArg ?? m.xid;
  let start: number;
  switch (m.type) {
    case 'hello':
      start = w.pos;
      w.u8(m.version ?? OFP13_VERSION).u8(OfType.HELLO).u16(0).u32(xid);
      if (m.elements) w.bytes(m.elements);
      else if (m.versions.length > 0) {
        let bitmap = 0;
        for (const v of m.versions) bitmap |= 1 << v;
        w.u16(1).u16(8).u32(bitmap >>> 0);
      }
      break;
    case 'error':
      start = header(w, OfType.ERROR, xid);
      if (m.experimenter !== undefined) w.u16(0xffff).u16(m.code).u32(m.experimenter);
      else w.u16(m.errType).u16(m.code);
      w.bytes(m.data);
      break;
    case 'echo_request':
    case 'echo_reply':
      start = header(w, m.type === 'echo_request' ? OfType.ECHO_REQUEST : OfType.ECHO_REPLY, xid);
      w.bytes(m.data);
      break;
    case 'experimenter':
      start = header(w, OfType.EXPERIMENTER, xid);
      w.u32(m.experimenter).u32(m.expType).bytes(m.data);
      break;
    case 'features_request':
      start = header(w, OfType.FEATURES_REQUEST, xid);
      break;
    case 'features_reply':
      start = header(w, OfType.FEATURES_REPLY, xid);
      w.u64(m.datapathId).u32(m.nBuffers).u8(m.nTables).u8(m.auxiliaryId).zeros(2).u32(m.capabilities).zeros(4);
      break;
    case 'get_config_request':
      start = header(w, OfType.GET_CONFIG_REQUEST, xid);
      break;
    case 'get_config_reply':
    case 'set_config':
      start = header(w, m.type === 'set_config' ? OfType.SET_CONFIG : OfType.GET_CONFIG_REPLY, xid);
      w.u16(m.flags).u16(m.missSendLen);
      break;
    case 'packet_in':
      start = header(w, OfType.PACKET_IN, xid);
      w.u32(m.bufferId).u16(m.totalLen).u8(m.reason).u8(m.table).u64(m.cookie);
      if (m.rawMatch) w.bytes(m.rawMatch);
      else encodeMatch(w, m.match, m.unknownOxm);
      w.zeros(2).bytes(m.data);
      break;
    case 'flow_removed':
      start = header(w, OfType.FLOW_REMOVED, xid);
      w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.table).u32(m.durationSec).u32(m.durationNsec);
      w.u16(m.idleTimeout).u16(m.hardTimeout).u64(m.packetCount).u64(m.byteCount);
      encodeMatch(w, m.match, m.unknownOxm);
      break;
    case 'port_status':
      start = header(w, OfType.PORT_STATUS, xid);
      w.u8(m.reason).zeros(7);
      encodePortDesc(w, m.port);
      break;
    case 'packet_out': {
      start = header(w, OfType.PACKET_OUT, xid);
      w.u32(m.bufferId).u32(portToOf11(m.inPort));
      const lenAt = w.pos;
      w.u16(0).zeros(6);
      const actStart = w.pos;
      encodeActions(w, m.actions);
      w.patch16(lenAt, w.pos - actStart);
      w.bytes(m.data);
      break;
    }
    case 'flow_mod':
      start = header(w, OfType.FLOW_MOD, xid);
      w.u64(m.cookie).u64(m.cookieMask).u8(m.table).u8(m.command).u16(m.idleTimeout).u16(m.hardTimeout);
      w.u16(m.priority).u32(m.bufferId).u32(portToOf11(m.outPort)).u32(m.outGroup).u16(m.flags).u16(m.importance);
      encodeMatch(w, m.match, m.unknownOxm);
      encodeInstructions(w, m.instructions);
      break;
    case 'flow_stats_request': {
      start = multipartHeader(w, OfType.MULTIPART_REQUEST, xid, OFPMP_FLOW, m.flags);
      writeFlowStatsRequest(w, m.request);
      break;
    }
    case 'flow_stats_reply':
      start = multipartHeader(w, OfType.MULTIPART_REPLY, xid, OFPMP_FLOW, m.flags);
      for (const f of m.flows) encodeFlowStats(w, f);
      break;
    case 'port_desc_request':
      start = multipartHeader(w, OfType.MULTIPART_REQUEST, xid, OFPMP_PORT_DESC, m.flags);
      break;
    case 'port_desc_reply':
      start = multipartHeader(w, OfType.MULTIPART_REPLY, xid, OFPMP_PORT_DESC, m.flags);
      for (const p of m.ports) encodePortDesc(w, p);
      break;
    case 'multipart_request':
    case 'multipart_reply':
      start = multipartHeader(w, m.type === 'multipart_request' ? OfType.MULTIPART_REQUEST : OfType.MULTIPART_REPLY,
        xid, m.mpType, m.flags);
      w.bytes(m.body);
      break;
    case 'barrier_request':
    case 'barrier_reply':
      start = header(w, m.type === 'barrier_request' ? OfType.BARRIER_REQUEST : OfType.BARRIER_REPLY, xid);
      break;
    case 'role_request':
    case 'role_reply':
      start = header(w, m.type === 'role_request' ? OfType.ROLE_REQUEST : OfType.ROLE_REPLY, xid);
      w.u32(m.role).zeros(4).u64(m.generationId);
      break;
    case 'bundle_control':
      start = header(w, OfType.EXPERIMENTER, xid);
      w.u32(ONF_EXPERIMENTER).u32(ONFT_BUNDLE_CONTROL).u32(m.bundleId).u16(m.ctrlType).u16(m.flags).bytes(m.properties);
      break;
    case 'bundle_add':
      start = header(w, OfType.EXPERIMENTER, xid);
      w.u32(ONF_EXPERIMENTER).u32(ONFT_BUNDLE_ADD_MESSAGE).u32(m.bundleId).u16(0).u16(m.flags);
      {
        // OVS requires the inner message to carry the outer xid.
        writeMessage(w, m.message, xid);
      }
      break;
    case 'unknown':
      start = w.pos;
      w.u8(m.version).u8(m.ofType).u16(0).u32(xid).bytes(m.body);
      break;
    default: if (isAsyncMessage(m)) {
      start = header(w, 0, xid);
      w.patch16(start, (OFP13_VERSION << 8) | writeAsyncBody(w, m));
    } else {
      const [ofType, mpType] = statsWireType(m);
      start = mpType === undefined ? header(w, ofType, xid) : multipartHeader(w, ofType, xid, mpType, (m as { flags: number }).flags);
      writeStatsBody(w, m);
    }
  }
  const len = w.pos - start;
  if (len > 0xffff) throw new RangeError(`OpenFlow message of ${len} bytes exceeds 65535`);
  w.patch16(start + 2, len);
}

export function encodeMessage(m: OfMessage): Buffer {
  const w = new Writer(m.type === 'flow_mod' ? 256 : 64);
  writeMessage(w, m);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding

export type DecodeResult = { readonly ok: true; readonly msg: OfMessage } | { readonly ok: false; readonly error: DecodeError };

/** Decodes exactly one message occupying all of buf. Never throws. */
/** Unknown match fields, kept wherever a match is decoded (none: no member). */
function keptUnknown(unknown: readonly UnknownOxm[]): { unknownOxm?: readonly UnknownOxm[] } {
  return unknown.length ? { unknownOxm: unknown } : {};
}

export function decodeMessage(buf: Buffer): DecodeResult {
  try {
    // All three arguments, as sub() passes them: the default-argument path would deoptimise the constructor.
    return { ok: true, msg: readMessage(new Reader(buf, 0, buf.length)) };
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, error: err };
    if (err instanceof RangeError) return { ok: false, error: new DecodeError(err.message, 0) };
    throw err;
  }
}

function readPortDesc(r: Reader): PortDesc {
  const portNo = portFromOf11(r.u32());
  r.skip(4);
  const hwAddr = r.uint(6);
  r.skip(2);
  const nameBytes = r.bytes(16);
  const nul = nameBytes.indexOf(0);
  const name = nameBytes.subarray(0, nul < 0 ? 16 : nul).toString('latin1');
  return {
    portNo, hwAddr, name, config: r.u32(), state: r.u32(), curr: r.u32(), advertised: r.u32(),
    supported: r.u32(), peer: r.u32(), currSpeed: r.u32(), maxSpeed: r.u32(),
  };
}

/** A flow stats entry with its instructions as a reader of them gave them. */
export type FlowStatsWith<I> = Omit<FlowStats, 'instructions'> & { readonly instructions: I };

/**
 * One ofp_flow_stats entry of a flow stats reply; r moves past it. Throws DecodeError.
 * `readInstructions` reads the entry's instructions (to its end): decoded, or e.g. kept as bytes.
 */
export function decodeFlowStatsEntry(r: Reader): FlowStats;
export function decodeFlowStatsEntry<I>(r: Reader, readInstructions: (r: Reader) => I): FlowStatsWith<I>;
export function decodeFlowStatsEntry(r: Reader, readInstructions: (r: Reader) => unknown = decodeInstructions): FlowStatsWith<unknown> {
  const at = r.pos;
  const length = r.u16();
  if (length < 56 || length % 8 !== 0) r.fail(`flow stats entry length ${length}`, at);
  if (length - 2 > r.remaining) r.fail(`flow stats entry length ${length} runs past the reply`, at);
  const e = r.sub(length - 2);
  const table = e.u8();
  e.skip(1);
  const durationSec = e.u32();
  const durationNsec = e.u32();
  const priority = e.u16();
  const idleTimeout = e.u16();
  const hardTimeout = e.u16();
  const flags = e.u16();
  const importance = e.u16();
  e.skip(2);
  const cookie = e.u64();
  const packetCount = e.u64();
  const byteCount = e.u64();
  const { match, unknown } = decodeMatch(e);
  const instructions = readInstructions(e);
  const f: FlowStatsWith<unknown> = {
    table, durationSec, durationNsec, priority, idleTimeout, hardTimeout, flags, importance, cookie,
    packetCount, byteCount, match, instructions,
  };
  return unknown.length ? { ...f, unknownOxm: unknown as readonly UnknownOxm[] } : f;
}

/**
 * The entries of a flow stats reply (one whole OFPMP_FLOW reply message in b), their instructions
 * read by `readInstructions`; undefined when b is not a well-formed one (decodeMessage says why).
 */
export function decodeFlowStatsEntries<I>(b: Buffer, readInstructions: (r: Reader) => I): Array<FlowStatsWith<I>> | undefined {
  if (b.length < 16 || b[0] !== OFP13_VERSION || b[1] !== OfType.MULTIPART_REPLY || b.readUInt16BE(2) !== b.length || b.readUInt16BE(8) !== OFPMP_FLOW) return undefined;
  const r = new Reader(b, 16, b.length);
  const flows: Array<FlowStatsWith<I>> = [];
  try {
    while (r.remaining > 0) flows.push(decodeFlowStatsEntry(r, readInstructions));
  } catch {
    return undefined;
  }
  return flows;
}

function readMessage(r: Reader): OfMessage {
  const version = r.u8();
  const type = r.u8();
  const length = r.u16();
  const xid = r.u32();
  if (length < 8) r.fail(`message length ${length} < 8`, 2);
  if (length > r.end - (r.pos - 8)) r.fail(`message length ${length} but only ${r.end - (r.pos - 8)} bytes`, 2);
  const b = r.sub(length - 8);
  if (type === OfType.HELLO) return readHello(b, xid, version);
  if (version !== OFP13_VERSION) {
    return { type: 'unknown', ofType: type, version, xid, body: Buffer.from(b.bytes(b.remaining)) };
  }
  const rest = (): Buffer => Buffer.from(b.bytes(b.remaining));
  switch (type) {
    case OfType.ERROR: {
      const errType = b.u16();
      const code = b.u16();
      // OVS refuses an error it has no name for (ofp-print: OFPBRC_BAD_LEN).
      if (errorName(errType, code, errType === 0xffff && b.remaining >= 4 ? b.buf.readUInt32BE(b.pos) : undefined) === undefined) {
        refuse(`error type ${errType} code ${code}`, 8, 'OFPBRC_BAD_LEN');
      }
      if (errType === 0xffff) {
        const experimenter = b.u32();
        return { type: 'error', xid, errType, code, experimenter, data: rest() };
      }
      return { type: 'error', xid, errType, code, data: rest() };
    }
    case OfType.ECHO_REQUEST:
      return { type: 'echo_request', xid, data: rest() };
    case OfType.ECHO_REPLY:
      return { type: 'echo_reply', xid, data: rest() };
    case OfType.EXPERIMENTER:
      return readExperimenter(b, xid);
    case OfType.FEATURES_REQUEST:
      return { type: 'features_request', xid };
    case OfType.FEATURES_REPLY: {
      const datapathId = b.u64();
      const nBuffers = b.u32();
      const nTables = b.u8();
      const auxiliaryId = b.u8();
      b.skip(2);
      const capabilities = b.u32();
      return { type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities };
    }
    case OfType.GET_CONFIG_REQUEST:
      return { type: 'get_config_request', xid };
    case OfType.GET_CONFIG_REPLY:
    case OfType.SET_CONFIG:
      return { type: type === OfType.SET_CONFIG ? 'set_config' : 'get_config_reply', xid, flags: b.u16(), missSendLen: b.u16() };
    case OfType.PACKET_IN: {
      const bufferId = b.u32();
      const totalLen = b.u16();
      const reason = b.u8();
      const table = b.u8();
      const cookie = b.u64();
      const matchAt = b.pos;
      const { match, unknown } = decodeMatch(b);
      const rawMatch = receivedMatch(b.buf.subarray(matchAt, b.pos), match, unknown);
      b.skip(2);
      return { type: 'packet_in', xid, bufferId, totalLen, reason, table, cookie, match, ...keptUnknown(unknown), ...rawMatch, data: rest() };
    }
    case OfType.FLOW_REMOVED: {
      const cookie = b.u64();
      const priority = b.u16();
      const reason = b.u8();
      const table = b.u8();
      const durationSec = b.u32();
      const durationNsec = b.u32();
      const idleTimeout = b.u16();
      const hardTimeout = b.u16();
      const packetCount = b.u64();
      const byteCount = b.u64();
      const { match, unknown } = decodeMatch(b);
      return {
        type: 'flow_removed', xid, cookie, priority, reason, table, durationSec, durationNsec, idleTimeout,
        hardTimeout, packetCount, byteCount, match, ...keptUnknown(unknown),
      };
    }
    case OfType.PORT_STATUS: {
      const reason = b.u8();
      if (reason > 2) refuse(`port_status reason ${reason}`, 8, 'NXBRC_BAD_REASON');
      b.skip(7);
      return { type: 'port_status', xid, reason, port: readPortDesc(b) };
    }
    case OfType.PACKET_OUT: {
      const bufferId = b.u32();
      const inPort = portFromOf11(b.u32());
      const actionsLen = b.u16();
      b.skip(6);
      const actions = decodeActions(b.sub(actionsLen));
      return { type: 'packet_out', xid, bufferId, inPort, actions, data: rest() };
    }
    case OfType.FLOW_MOD:
      return readFlowMod(b, xid);
    case OfType.MULTIPART_REQUEST:
    case OfType.MULTIPART_REPLY:
      return readMultipart(b, xid, type === OfType.MULTIPART_REQUEST);
    case OfType.BARRIER_REQUEST:
      return { type: 'barrier_request', xid };
    case OfType.BARRIER_REPLY:
      return { type: 'barrier_reply', xid };
    case OfType.ROLE_REQUEST:
    case OfType.ROLE_REPLY: {
      const role = b.u32();
      if (role > OFPCR_ROLE_SLAVE) refuse(`role ${role}`, 8, 'OFPRRFC_BAD_ROLE');
      b.skip(4);
      return { type: type === OfType.ROLE_REQUEST ? 'role_request' : 'role_reply', xid, role, generationId: b.u64() };
    }
    default: {
      const s = readStatsMessage(type, b);
      return s ? { ...s, xid } : { type: 'unknown', ofType: type, version, xid, body: rest() };
    }
  }
}

/** The match bytes as received, kept when the encoder would write them in another order. */
function receivedMatch(received: Buffer, match: Match, unknown: readonly UnknownOxm[]): { rawMatch?: Buffer } {
  const w = new Writer(received.length);
  encodeMatch(w, match, unknown);
  return w.finish().equals(received) ? {} : { rawMatch: Buffer.from(received) };
}

function readHello(b: Reader, xid: number, version: number): OfMessage {
  const body = b.bytes(b.remaining);
  const { versions } = helloElements(body);
  const m: MessageOf<'hello'> = { type: 'hello', xid, versions, ...(version !== OFP13_VERSION ? { version } : {}) };
  return body.length === 0 || encodeMessage(m).subarray(8).equals(body) ? m : { ...m, elements: Buffer.from(body) };
}

function readFlowMod(b: Reader, xid: number): MessageOf<'flow_mod'> {
  const cookie = b.u64();
  const cookieMask = b.u64();
  const table = b.u8();
  const cmdAt = b.pos;
  const command = b.u8();
  if (command > 4) b.fail(`flow_mod command ${command}`, cmdAt);
  const idleTimeout = b.u16();
  const hardTimeout = b.u16();
  const priority = b.u16();
  const bufferId = b.u32();
  const outPort = portFromOf11(b.u32());
  const outGroup = b.u32();
  const flags = b.u16();
  const importance = b.u16();
  const { match, unknown } = decodeMatch(b);
  const insAt = b.pos;
  const instructions = decodeInstructions(b);
  checkFlowActions(match, instructions, insAt);
  const fm: MessageOf<'flow_mod'> = {
    type: 'flow_mod', xid, command: command as FlowModCommand, cookie, cookieMask, table, idleTimeout, hardTimeout,
    priority, bufferId, outPort, outGroup, flags, importance, match, instructions,
  };
  return unknown.length ? { ...fm, unknownOxm: unknown } : fm;
}

function readMultipart(b: Reader, xid: number, isRequest: boolean): OfMessage {
  const mpType = b.u16();
  const flags = b.u16();
  b.skip(4);
  if (mpType === OFPMP_FLOW) {
    if (isRequest) return { type: 'flow_stats_request', xid, flags, request: readFlowStatsRequest(b) };
    const flows: FlowStats[] = [];
    while (b.remaining > 0) flows.push(decodeFlowStatsEntry(b));
    return { type: 'flow_stats_reply', xid, flags, flows };
  }
  if (mpType === OFPMP_PORT_DESC) {
    if (isRequest) return { type: 'port_desc_request', xid, flags };
    const ports: PortDesc[] = [];
    while (b.remaining > 0) {
      if (b.remaining < 64) b.fail(`port description of ${b.remaining} bytes < 64`);
      ports.push(readPortDesc(b));
    }
    return { type: 'port_desc_reply', xid, flags, ports };
  }
  const s = readStatsMultipart(mpType, flags, isRequest, b)
    ?? (mpType === 0xffff ? readExperimenterMultipart(flags, isRequest, b) : undefined);
  if (s) return { ...s, xid };
  const body = Buffer.from(b.bytes(b.remaining));
  return { type: isRequest ? 'multipart_request' : 'multipart_reply', xid, mpType, flags, body };
}

function readExperimenter(b: Reader, xid: number): OfMessage {
  const experimenter = b.u32();
  const expType = b.u32();
  if (experimenter === ONF_EXPERIMENTER && expType === ONFT_BUNDLE_CONTROL) {
    const bundleId = b.u32();
    const ctrlType = b.u16();
    const flags = b.u16();
    return { type: 'bundle_control', xid, bundleId, ctrlType, flags, properties: Buffer.from(b.bytes(b.remaining)) };
  }
  if (experimenter === ONF_EXPERIMENTER && expType === ONFT_BUNDLE_ADD_MESSAGE) {
    const bundleId = b.u32();
    b.skip(2);
    const flags = b.u16();
    // OVS refuses a bundle message inside a bundle (OFPBFC_MSG_UNSUP); refusing it here also keeps
    // a peer from nesting bundle_add thousands deep to exhaust our stack.
    if (b.remaining >= 16 && b.buf[b.pos + 1] === OfType.EXPERIMENTER && b.buf.readUInt32BE(b.pos + 8) === ONF_EXPERIMENTER) {
      const innerType = b.buf.readUInt32BE(b.pos + 12);
      if (innerType === ONFT_BUNDLE_CONTROL || innerType === ONFT_BUNDLE_ADD_MESSAGE) b.fail('bundle_add carries a bundle message');
    }
    const inner = readMessage(b.sub(b.remaining));
    return { type: 'bundle_add', xid, bundleId, flags, message: inner };
  }
  const known = readVendorMessage(experimenter, expType, b);
  if (known) return { ...known, xid };
  return { type: 'experimenter', xid, experimenter, expType, data: Buffer.from(b.bytes(b.remaining)) };
}
