// NXT_PACKET_IN2 and NXT_RESUME (Nicira subtypes 30 and 28): a packet-in as a list of properties
// (packet, lengths, table, cookie, reason, metadata match, userdata) with, for a paused pipeline, the
// switch's continuation (bridge, stack, mirrors, conntracked, the actions left and the action set),
// which a controller sends back in NXT_RESUME. Read as OVS 3.1 reads them (lib/ofp-packet.c,
// decode_nx_packet_in2 and ofputil_decode_packet_in_private: unknown properties are skipped, as
// ofp-print does); written in the order OVS writes them, or as received when that differs.
import { Action, decodeActions, encodeActions } from '../actions/index.js';
import { Reader, Writer } from './bytes.js';
import { NX_VENDOR, refuse } from './errors.js';
import { decodeMatchTlvs, encodeMatchTlvs, Match, UnknownOxm } from './match.js';
import type { OutgoingMessage } from './messages.js';
import { keptIfDifferent } from './vendor-messages.js';

export const NXT_RESUME = 28;
export const NXT_PACKET_IN2 = 30;
const NXT_SET_PACKET_IN_FORMAT = 16;

/** NXPIF_*: the packet-in formats a switch can be asked for (ovs-ofctl monitor asks for nxt_packet_in2). */
export const PACKET_IN_FORMATS = { standard: 0, nxt_packet_in: 1, nxt_packet_in2: 2 } as const;

/** NXT_SET_PACKET_IN_FORMAT, kept as a plain experimenter message (messages.ts). */
export function setPacketInFormat(format: number): OutgoingMessage {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(format);
  return { type: 'experimenter', experimenter: NX_VENDOR, expType: NXT_SET_PACKET_IN_FORMAT, data };
}

const NXPINT_PACKET = 0;
const NXPINT_FULL_LEN = 1;
const NXPINT_BUFFER_ID = 2;
const NXPINT_TABLE_ID = 3;
const NXPINT_COOKIE = 4;
const NXPINT_REASON = 5;
const NXPINT_METADATA = 6;
const NXPINT_USERDATA = 7;
const NXPINT_CONTINUATION = 8;

const NXCPT_BRIDGE = 0x8000;
const NXCPT_STACK = 0x8001;
const NXCPT_MIRRORS = 0x8002;
const NXCPT_CONNTRACKED = 0x8003;
const NXCPT_TABLE_ID = 0x8004;
const NXCPT_COOKIE = 0x8005;
const NXCPT_ACTIONS = 0x8006;
const NXCPT_ACTION_SET = 0x8007;
const NXCPT_ODP_PORT = 0x8008;

/** The widest stack entry (OVS's union mf_subvalue). */
const STACK_ENTRY_MAX = 128;

/** One NXCPT_ACTIONS property: the actions left of one rule, with the table and cookie in force there. */
export interface ContinuationActions {
  readonly table: number;
  readonly cookie: bigint;
  readonly actions: readonly Action[];
}

/** The paused pipeline's state: opaque to a controller, which sends it back as it came. */
export interface Continuation {
  /** The bridge's UUID, 16 bytes as on the wire. */
  readonly bridge?: Buffer;
  /** The stack (push/pop), top first, each entry as on the wire. */
  readonly stack: readonly Buffer[];
  readonly mirrors?: number;
  readonly conntracked: boolean;
  readonly actions: readonly ContinuationActions[];
  readonly actionSet?: readonly Action[];
  readonly odpPort?: number;
}

export interface PacketIn2 {
  readonly type: 'packet_in2' | 'resume';
  readonly packet: Buffer;
  /** NXPINT_FULL_LEN: the packet's length when only part of it is here. */
  readonly fullLen?: number;
  readonly bufferId?: number;
  readonly table?: number;
  readonly cookie?: bigint;
  readonly reason?: number;
  readonly match: Match;
  readonly unknownOxm?: readonly UnknownOxm[];
  readonly userdata?: Buffer;
  readonly continuation?: Continuation;
  /** The properties as received, when OVS's order (this encoder's) would write them otherwise. */
  readonly raw?: Buffer;
}

/** One property: type, length (with its 4-byte header), payload, zero padding to 8 bytes. */
function putProp(w: Writer, type: number, body: (w: Writer) => void, nested = false): void {
  const start = w.pos;
  w.u16(type).u16(0);
  if (nested) w.zeros(4);
  body(w);
  w.patch16(start + 2, w.pos - start);
  w.padTo(8, start);
}

function writeContinuation(w: Writer, c: Continuation): void {
  if (c.bridge) putProp(w, NXCPT_BRIDGE, (x) => x.bytes(c.bridge!));
  for (const e of c.stack) putProp(w, NXCPT_STACK, (x) => x.bytes(e));
  if (c.mirrors !== undefined) putProp(w, NXCPT_MIRRORS, (x) => x.u32(c.mirrors!));
  if (c.conntracked) putProp(w, NXCPT_CONNTRACKED, () => undefined);
  // A table or cookie goes out when it changes from the previous group's (each starts at 0), as OVS writes them.
  let table = 0;
  let cookie = 0n;
  for (const g of c.actions) {
    if (g.table !== table) putProp(w, NXCPT_TABLE_ID, (x) => x.u8((table = g.table)));
    if (g.cookie !== cookie) putProp(w, NXCPT_COOKIE, (x) => x.u64((cookie = g.cookie)), true);
    putProp(w, NXCPT_ACTIONS, (x) => encodeActions(x, g.actions), true);
  }
  if (c.actionSet) putProp(w, NXCPT_ACTION_SET, (x) => encodeActions(x, c.actionSet!), true);
  if (c.odpPort !== undefined) putProp(w, NXCPT_ODP_PORT, (x) => x.u32(c.odpPort!));
}

/** The properties of m (after the experimenter header), in the order OVS writes them. */
function writeProps(w: Writer, m: PacketIn2): void {
  putProp(w, NXPINT_PACKET, (x) => x.bytes(m.packet));
  if (m.fullLen !== undefined) putProp(w, NXPINT_FULL_LEN, (x) => x.u32(m.fullLen!));
  if (m.bufferId !== undefined) putProp(w, NXPINT_BUFFER_ID, (x) => x.u32(m.bufferId!));
  if (m.table !== undefined) putProp(w, NXPINT_TABLE_ID, (x) => x.u8(m.table!));
  if (m.cookie !== undefined) putProp(w, NXPINT_COOKIE, (x) => x.u64(m.cookie!), true);
  if (m.reason !== undefined) putProp(w, NXPINT_REASON, (x) => x.u8(m.reason!));
  putProp(w, NXPINT_METADATA, (x) => encodeMatchTlvs(x, m.match, m.unknownOxm));
  if (m.continuation) putProp(w, NXPINT_CONTINUATION, (x) => writeContinuation(x, m.continuation!), true);
  if (m.userdata) putProp(w, NXPINT_USERDATA, (x) => x.bytes(m.userdata!));
}

/** Writes the body after the Nicira experimenter id and subtype. */
export function writePacketIn2Body(w: Writer, m: PacketIn2): void {
  if (m.raw) w.bytes(m.raw);
  else writeProps(w, m);
}

interface Prop {
  readonly type: number;
  readonly at: number;
  readonly body: Reader;
}

/** ofpprop_pull(): one property, its padding skipped. */
function pullProp(b: Reader): Prop {
  const at = b.pos;
  if (b.remaining < 4) refuse(`property of ${b.remaining} bytes`, at, 'OFPBPC_BAD_LEN');
  const type = b.u16();
  const len = b.u16();
  const padded = (len + 7) & ~7;
  if (len < 4 || padded - 4 > b.remaining) refuse(`property ${type} of length ${len}`, at, 'OFPBPC_BAD_LEN');
  const body = b.sub(len - 4);
  b.skip(padded - len);
  return { type, at, body };
}

/** ofpprop_parse_u8(): at least the byte (OVS reads a padded one too). */
function u8Prop(p: Prop): number {
  if (p.body.remaining < 1) refuse(`property ${p.type} of 0 bytes`, p.at, 'OFPBPC_BAD_LEN');
  return p.body.u8();
}

/** A property's payload of exactly n bytes (after the 4 padding bytes of an 8-byte aligned one). */
function payload(p: Prop, n: number, aligned = false): Reader {
  if (aligned) {
    if (p.body.remaining !== n + 4) refuse(`property ${p.type} of ${p.body.remaining} bytes`, p.at, 'OFPBPC_BAD_LEN');
    p.body.skip(4);
  } else if (p.body.remaining !== n) {
    refuse(`property ${p.type} of ${p.body.remaining} bytes`, p.at, 'OFPBPC_BAD_LEN');
  }
  return p.body;
}

/** A nested property's contents (after its 4 padding bytes). */
function nested(p: Prop): Reader {
  if (p.body.remaining < 4) refuse(`property ${p.type} of ${p.body.remaining} bytes`, p.at, 'OFPBPC_BAD_LEN');
  p.body.skip(4);
  return p.body;
}

function readContinuation(b: Reader): Continuation {
  let bridge: Buffer | undefined;
  const stack: Buffer[] = [];
  let mirrors: number | undefined;
  let conntracked = false;
  const actions: ContinuationActions[] = [];
  let actionSet: Action[] | undefined;
  let odpPort: number | undefined;
  let table = 0;
  let cookie = 0n;
  while (b.remaining > 0) {
    const p = pullProp(b);
    switch (p.type) {
      case NXCPT_BRIDGE: bridge = Buffer.from(payload(p, 16).bytes(16)); break;
      case NXCPT_STACK:
        if (p.body.remaining > STACK_ENTRY_MAX) refuse(`stack entry of ${p.body.remaining} bytes`, p.at, 'OFPBPC_BAD_LEN');
        stack.push(Buffer.from(p.body.bytes(p.body.remaining)));
        break;
      case NXCPT_MIRRORS: mirrors = payload(p, 4).u32(); break;
      case NXCPT_CONNTRACKED: conntracked = true; break;
      case NXCPT_TABLE_ID: table = u8Prop(p); break;
      case NXCPT_COOKIE: cookie = payload(p, 8, true).u64(); break;
      case NXCPT_ACTIONS: actions.push({ table, cookie, actions: decodeActions(nested(p)) }); break;
      case NXCPT_ACTION_SET: actionSet = [...(actionSet ?? []), ...decodeActions(nested(p))]; break;
      case NXCPT_ODP_PORT: odpPort = payload(p, 4).u32(); break;
      default: break; // OVS skips what it does not know (ofp-print reads loosely)
    }
  }
  return {
    stack, conntracked, actions, ...(bridge ? { bridge } : {}), ...(mirrors !== undefined ? { mirrors } : {}),
    ...(actionSet ? { actionSet } : {}), ...(odpPort !== undefined ? { odpPort } : {}),
  };
}

/** Reads the body after the Nicira experimenter id and subtype. */
export function readPacketIn2(subtype: number, b: Reader): PacketIn2 {
  const start = b.pos;
  const name = subtype === NXT_RESUME ? 'NXT_RESUME' : 'NXT_PACKET_IN2';
  if (b.remaining % 8) refuse(`${name} of ${b.remaining} bytes after its header`, start, 'OFPBRC_BAD_LEN');
  let packet: Buffer | undefined;
  let fullLen: number | undefined;
  let bufferId: number | undefined;
  let table: number | undefined;
  let cookie: bigint | undefined;
  let reason: number | undefined;
  let match: Match = new Map();
  let unknown: readonly UnknownOxm[] = [];
  let userdata: Buffer | undefined;
  let continuation: Continuation | undefined;
  while (b.remaining > 0) {
    const p = pullProp(b);
    switch (p.type) {
      case NXPINT_PACKET: packet = Buffer.from(p.body.bytes(p.body.remaining)); break;
      case NXPINT_FULL_LEN: fullLen = payload(p, 4).u32(); break;
      case NXPINT_BUFFER_ID: bufferId = payload(p, 4).u32(); break;
      case NXPINT_TABLE_ID: table = u8Prop(p); break;
      case NXPINT_COOKIE: cookie = payload(p, 8, true).u64(); break;
      case NXPINT_REASON: reason = u8Prop(p); break;
      case NXPINT_METADATA: ({ match, unknown } = decodeMatchTlvs(p.body)); break;
      case NXPINT_USERDATA: userdata = Buffer.from(p.body.bytes(p.body.remaining)); break;
      case NXPINT_CONTINUATION: continuation = readContinuation(nested(p)); break;
      default: break;
    }
  }
  if (!packet?.length) refuse(`${name} lacks packet`, start, 'OFPBRC_BAD_LEN');
  if (fullLen !== undefined && fullLen !== 0 && fullLen < packet.length) refuse(`${name} claimed full_len < len`, start, 'OFPBRC_BAD_LEN');
  const m: PacketIn2 = {
    type: subtype === NXT_RESUME ? 'resume' : 'packet_in2', packet, match,
    ...(fullLen !== undefined ? { fullLen } : {}), ...(bufferId !== undefined ? { bufferId } : {}),
    ...(table !== undefined ? { table } : {}), ...(cookie !== undefined ? { cookie } : {}),
    ...(reason !== undefined ? { reason } : {}), ...(unknown.length ? { unknownOxm: unknown } : {}),
    ...(userdata ? { userdata } : {}), ...(continuation ? { continuation } : {}),
  };
  const raw = keptIfDifferent(b.buf.subarray(start, b.pos), (w) => writeProps(w, m));
  return raw ? { ...m, raw } : m;
}
