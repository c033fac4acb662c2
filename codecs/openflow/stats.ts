// OpenFlow 1.3 group, meter, table and port configuration messages and the multipart (statistics)
// requests and replies beside flow stats and port descriptions: typed values, their bodies' encoding
// and decoding. messages.ts writes the headers and dispatches here. A decoder throws DecodeError
// where OVS refuses the message (ofp-print's `***decode error***`), naming OVS's error.
import { exactly, refuse as refuseAs } from './errors.js';
import { Action, decodeActions, encodeActions } from '../actions/index.js';
import { Reader, Writer } from './bytes.js';
import { decodeMatch, encodeMatch, Match, UnknownOxm } from './match.js';
import { portFromOf11, portToOf11 } from './ports.js';
import { decodeTableFeatures, encodeTableFeatures, TableFeatures } from './table-features.js';

/** The body of a flow or aggregate stats request. */
export interface FlowStatsRequest {
  readonly table: number;
  readonly unknownOxm?: readonly UnknownOxm[];
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly match: Match;
}

export const OFPGT_ALL = 0;
export const OFPGT_SELECT = 1;
export const OFPGT_INDIRECT = 2;
export const OFPGT_FF = 3;
export const OFPGC_ADD = 0;
export const OFPGC_MODIFY = 1;
export const OFPGC_DELETE = 2;
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;
const OFPG_ANY = 0xffffffff;
const OFPP_ANY = 0xffff;

export interface Bucket {
  readonly weight: number;
  /** 16-bit OVS port form; OFPP_ANY (0xffff) = none. */
  readonly watchPort: number;
  /** OFPG_ANY (0xffffffff) = none. */
  readonly watchGroup: number;
  readonly actions: readonly Action[];
}

export interface GroupDesc {
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}

export const OFPMC_ADD = 0;
export const OFPMC_MODIFY = 1;
export const OFPMC_DELETE = 2;
export const OFPMF_KBPS = 1;
export const OFPMF_PKTPS = 2;
export const OFPMF_BURST = 4;
export const OFPMF_STATS = 8;
export const OFPMBT_DROP = 1;
export const OFPMBT_DSCP_REMARK = 2;
export const OFPMBT_EXPERIMENTER = 0xffff;

export interface MeterBand {
  readonly type: number;
  readonly rate: number;
  readonly burstSize: number;
  /** dscp_remark: the drop precedence level to add. */
  readonly precLevel?: number;
  /** experimenter band: the experimenter id. */
  readonly experimenter?: number;
}

export interface MeterConfig {
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

export interface Desc {
  readonly mfr: string;
  readonly hw: string;
  readonly sw: string;
  readonly serial: string;
  readonly dp: string;
}

export interface TableStats {
  readonly table: number;
  readonly activeCount: number;
  readonly lookupCount: bigint;
  readonly matchedCount: bigint;
}

export interface PortStats {
  /** 16-bit OVS port form. */
  readonly portNo: number;
  readonly rxPackets: bigint; readonly txPackets: bigint; readonly rxBytes: bigint; readonly txBytes: bigint;
  readonly rxDropped: bigint; readonly txDropped: bigint; readonly rxErrors: bigint; readonly txErrors: bigint;
  readonly rxFrameErr: bigint; readonly rxOverErr: bigint; readonly rxCrcErr: bigint; readonly collisions: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface QueueStats {
  readonly portNo: number;
  readonly queueId: number;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrors: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface Counters { readonly packetCount: bigint; readonly byteCount: bigint }

export interface GroupStats extends Counters {
  readonly groupId: number;
  readonly refCount: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly buckets: readonly Counters[];
}

export interface GroupFeatures {
  readonly types: number;
  readonly capabilities: number;
  /** Per group type (all, select, indirect, fast failover). */
  readonly maxGroups: readonly number[];
  /** Per group type: bitmaps of OpenFlow 1.3 action types. */
  readonly actions: readonly number[];
}

export interface MeterStats {
  readonly meterId: number;
  readonly flowCount: number;
  readonly packetInCount: bigint;
  readonly byteInCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bands: readonly Counters[];
}

export interface MeterFeatures {
  readonly maxMeter: number;
  readonly bandTypes: number;
  readonly capabilities: number;
  readonly maxBands: number;
  readonly maxColor: number;
}

/** Async message masks, each [primary (master/equal), secondary (slave)]. */
export interface AsyncConfig {
  readonly packetIn: readonly [number, number];
  readonly portStatus: readonly [number, number];
  readonly flowRemoved: readonly [number, number];
}

export type { TableFeatures } from './table-features.js';

/** A multipart request or reply body that is nothing but the multipart header. */
export type EmptyStatsType =
  | 'desc_request' | 'table_stats_request' | 'group_desc_request' | 'group_features_request' | 'meter_features_request';

export type StatsMessage =
  | {
      readonly type: 'group_mod'; readonly command: number; readonly groupType: number; readonly groupId: number;
      readonly buckets: readonly Bucket[];
    }
  | ({ readonly type: 'meter_mod'; readonly command: number } & MeterConfig)
  | { readonly type: 'table_mod'; readonly table: number; readonly config: number }
  | {
      readonly type: 'port_mod'; readonly portNo: number; readonly hwAddr: bigint; readonly config: number;
      readonly mask: number; readonly advertise: number;
      /** Non-zero trailing padding (OVS ignores it), kept so the message re-encodes as it came. */
      readonly pad?: number;
    }
  | { readonly type: 'queue_get_config_request'; readonly portNo: number }
  | { readonly type: 'queue_get_config_reply'; readonly portNo: number; readonly queues: readonly PacketQueue[] }
  | { readonly type: 'get_async_request' }
  | { readonly type: 'get_async_reply' | 'set_async'; readonly config: AsyncConfig }
  | { readonly type: EmptyStatsType; readonly flags: number }
  | { readonly type: 'desc_reply'; readonly flags: number; readonly desc: Desc }
  | { readonly type: 'aggregate_request'; readonly flags: number; readonly request: FlowStatsRequest }
  | {
      readonly type: 'aggregate_reply'; readonly flags: number; readonly packetCount: bigint; readonly byteCount: bigint;
      readonly flowCount: number;
    }
  | { readonly type: 'table_stats_reply'; readonly flags: number; readonly tables: readonly TableStats[] }
  | { readonly type: 'port_stats_request'; readonly flags: number; readonly portNo: number }
  | { readonly type: 'port_stats_reply'; readonly flags: number; readonly ports: readonly PortStats[] }
  | { readonly type: 'queue_stats_request'; readonly flags: number; readonly portNo: number; readonly queueId: number }
  | { readonly type: 'queue_stats_reply'; readonly flags: number; readonly queues: readonly QueueStats[] }
  | { readonly type: 'group_stats_request'; readonly flags: number; readonly groupId: number }
  | { readonly type: 'group_stats_reply'; readonly flags: number; readonly groups: readonly GroupStats[] }
  | { readonly type: 'group_desc_reply'; readonly flags: number; readonly groups: readonly GroupDesc[] }
  | { readonly type: 'group_features_reply'; readonly flags: number; readonly features: GroupFeatures }
  | { readonly type: 'meter_stats_request' | 'meter_config_request'; readonly flags: number; readonly meterId: number }
  | { readonly type: 'meter_stats_reply'; readonly flags: number; readonly meters: readonly MeterStats[] }
  | { readonly type: 'meter_config_reply'; readonly flags: number; readonly meters: readonly MeterConfig[] }
  | { readonly type: 'meter_features_reply'; readonly flags: number; readonly features: MeterFeatures }
  | {
      readonly type: 'table_features_request' | 'table_features_reply'; readonly flags: number;
      readonly tables: readonly TableFeatures[];
    };

export type StatsMessageType = StatsMessage['type'];

/** A queue property (ofp_queue_prop_header): its type and the bytes after its 8-byte header. */
export interface QueueProperty {
  readonly property: number;
  readonly data: Buffer;
}

/** One ofp_packet_queue of a queue get config reply (OVS reads the reply's port, not the queue's). */
export interface PacketQueue {
  readonly queueId: number;
  readonly port: number;
  readonly properties: readonly QueueProperty[];
}

export const OFPQT_MIN_RATE = 1;
export const OFPQT_MAX_RATE = 2;

const OFPT_GROUP_MOD = 15;
const OFPT_PORT_MOD = 16;
const OFPT_TABLE_MOD = 17;
const OFPT_MULTIPART_REQUEST = 18;
const OFPT_MULTIPART_REPLY = 19;
const OFPT_QUEUE_GET_CONFIG_REQUEST = 22;
const OFPT_QUEUE_GET_CONFIG_REPLY = 23;
const OFPT_GET_ASYNC_REQUEST = 26;
const OFPT_GET_ASYNC_REPLY = 27;
const OFPT_SET_ASYNC = 28;
const OFPT_METER_MOD = 29;

export const OFPMP_AGGREGATE = 2;
export const OFPMP_TABLE = 3;
export const OFPMP_PORT_STATS = 4;
export const OFPMP_QUEUE = 5;
export const OFPMP_GROUP = 6;
export const OFPMP_GROUP_DESC = 7;
export const OFPMP_GROUP_FEATURES = 8;
export const OFPMP_METER = 9;
export const OFPMP_METER_CONFIG = 10;
export const OFPMP_METER_FEATURES = 11;
export const OFPMP_TABLE_FEATURES = 12;
const OFPMP_EXPERIMENTER = 0xffff;

/** Each message's OpenFlow type and, for a multipart message, its multipart type. */
const WIRE: { readonly [T in StatsMessageType]: readonly [ofType: number, mpType?: number] } = {
  group_mod: [OFPT_GROUP_MOD], meter_mod: [OFPT_METER_MOD], table_mod: [OFPT_TABLE_MOD], port_mod: [OFPT_PORT_MOD],
  queue_get_config_request: [OFPT_QUEUE_GET_CONFIG_REQUEST], queue_get_config_reply: [OFPT_QUEUE_GET_CONFIG_REPLY],
  get_async_request: [OFPT_GET_ASYNC_REQUEST],
  get_async_reply: [OFPT_GET_ASYNC_REPLY], set_async: [OFPT_SET_ASYNC],
  desc_request: [OFPT_MULTIPART_REQUEST, 0], desc_reply: [OFPT_MULTIPART_REPLY, 0],
  aggregate_request: [OFPT_MULTIPART_REQUEST, OFPMP_AGGREGATE], aggregate_reply: [OFPT_MULTIPART_REPLY, OFPMP_AGGREGATE],
  table_stats_request: [OFPT_MULTIPART_REQUEST, OFPMP_TABLE], table_stats_reply: [OFPT_MULTIPART_REPLY, OFPMP_TABLE],
  port_stats_request: [OFPT_MULTIPART_REQUEST, OFPMP_PORT_STATS], port_stats_reply: [OFPT_MULTIPART_REPLY, OFPMP_PORT_STATS],
  queue_stats_request: [OFPT_MULTIPART_REQUEST, OFPMP_QUEUE], queue_stats_reply: [OFPT_MULTIPART_REPLY, OFPMP_QUEUE],
  group_stats_request: [OFPT_MULTIPART_REQUEST, OFPMP_GROUP], group_stats_reply: [OFPT_MULTIPART_REPLY, OFPMP_GROUP],
  group_desc_request: [OFPT_MULTIPART_REQUEST, OFPMP_GROUP_DESC], group_desc_reply: [OFPT_MULTIPART_REPLY, OFPMP_GROUP_DESC],
  group_features_request: [OFPT_MULTIPART_REQUEST, OFPMP_GROUP_FEATURES],
  group_features_reply: [OFPT_MULTIPART_REPLY, OFPMP_GROUP_FEATURES],
  meter_stats_request: [OFPT_MULTIPART_REQUEST, OFPMP_METER], meter_stats_reply: [OFPT_MULTIPART_REPLY, OFPMP_METER],
  meter_config_request: [OFPT_MULTIPART_REQUEST, OFPMP_METER_CONFIG],
  meter_config_reply: [OFPT_MULTIPART_REPLY, OFPMP_METER_CONFIG],
  meter_features_request: [OFPT_MULTIPART_REQUEST, OFPMP_METER_FEATURES],
  meter_features_reply: [OFPT_MULTIPART_REPLY, OFPMP_METER_FEATURES],
  table_features_request: [OFPT_MULTIPART_REQUEST, OFPMP_TABLE_FEATURES],
  table_features_reply: [OFPT_MULTIPART_REPLY, OFPMP_TABLE_FEATURES],
};

/** The OpenFlow type and (multipart messages only) multipart type a stats message is sent as. */
export function statsWireType(m: StatsMessage): readonly [ofType: number, mpType?: number] {
  return WIRE[m.type];
}

/** Whether messages of this type are multipart requests (their replies may come in parts). */
export function isMultipartRequestType(type: string): boolean {
  return Object.hasOwn(WIRE, type) && WIRE[type as StatsMessageType][0] === OFPT_MULTIPART_REQUEST;
}

export function isStatsMessage(m: { readonly type: string }): m is StatsMessage {
  return Object.hasOwn(WIRE, m.type);
}

// ---------------------------------------------------------------------------------------------
// Encoding (the body after the OpenFlow header, or after the multipart header)

export function writeFlowStatsRequest(w: Writer, q: FlowStatsRequest): void {
  w.u8(q.table).zeros(3).u32(portToOf11(q.outPort)).u32(q.outGroup).zeros(4).u64(q.cookie).u64(q.cookieMask);
  encodeMatch(w, q.match, q.unknownOxm);
}

function writeBuckets(w: Writer, buckets: readonly Bucket[]): void {
  for (const b of buckets) {
    const start = w.pos;
    w.u16(0).u16(b.weight).u32(portToOf11(b.watchPort)).u32(b.watchGroup).zeros(4);
    encodeActions(w, b.actions);
    w.patch16(start, w.pos - start);
  }
}

function writeBands(w: Writer, bands: readonly MeterBand[]): void {
  for (const b of bands) {
    w.u16(b.type).u16(16).u32(b.rate).u32(b.burstSize);
    if (b.type === OFPMBT_EXPERIMENTER) w.u32(b.experimenter ?? 0);
    else w.u8(b.precLevel ?? 0).zeros(3);
  }
}

function writeMeterConfig(w: Writer, m: MeterConfig): void {
  const start = w.pos;
  w.u16(0).u16(m.flags).u32(m.meterId);
  writeBands(w, m.bands);
  w.patch16(start, w.pos - start);
}

/** A fixed-size, NUL-padded string field. */
function writeString(w: Writer, s: string, size: number): void {
  const b = Buffer.alloc(size);
  b.write(s, 'latin1');
  w.bytes(b);
}

function writeAsync(w: Writer, c: AsyncConfig): void {
  for (const pair of [c.packetIn, c.portStatus, c.flowRemoved]) w.u32(pair[0]).u32(pair[1]);
}

export function writeStatsBody(w: Writer, m: StatsMessage): void {
  switch (m.type) {
    case 'group_mod':
      w.u16(m.command).u8(m.groupType).u8(0).u32(m.groupId);
      writeBuckets(w, m.buckets);
      break;
    case 'meter_mod':
      w.u16(m.command).u16(m.flags).u32(m.meterId);
      writeBands(w, m.bands);
      break;
    case 'table_mod':
      w.u8(m.table).zeros(3).u32(m.config);
      break;
    case 'port_mod':
      w.u32(portToOf11(m.portNo)).zeros(4).uint(m.hwAddr, 6).zeros(2).u32(m.config).u32(m.mask).u32(m.advertise).u32(m.pad ?? 0);
      break;
    case 'queue_get_config_request':
      w.u32(portToOf11(m.portNo)).zeros(4);
      break;
    case 'queue_get_config_reply':
      w.u32(portToOf11(m.portNo)).zeros(4);
      for (const q of m.queues) {
        const at = w.pos;
        w.u32(q.queueId).u32(q.port).u16(0).zeros(6);
        for (const p of q.properties) w.u16(p.property).u16(8 + p.data.length).zeros(4).bytes(p.data);
        w.patch16(at + 8, w.pos - at);
      }
      break;
    case 'get_async_request':
    case 'desc_request': case 'table_stats_request': case 'group_desc_request': case 'group_features_request':
    case 'meter_features_request':
      break;
    case 'get_async_reply': case 'set_async':
      writeAsync(w, m.config);
      break;
    case 'desc_reply': {
      const d = m.desc;
      writeString(w, d.mfr, 256);
      writeString(w, d.hw, 256);
      writeString(w, d.sw, 256);
      writeString(w, d.serial, 32);
      writeString(w, d.dp, 256);
      break;
    }
    case 'aggregate_request':
      writeFlowStatsRequest(w, m.request);
      break;
    case 'aggregate_reply':
      w.u64(m.packetCount).u64(m.byteCount).u32(m.flowCount).zeros(4);
      break;
    case 'table_stats_reply':
      for (const t of m.tables) w.u8(t.table).zeros(3).u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
      break;
    case 'port_stats_request':
      w.u32(portToOf11(m.portNo)).zeros(4);
      break;
    case 'port_stats_reply':
      for (const p of m.ports) {
        w.u32(portToOf11(p.portNo)).zeros(4);
        for (const c of [p.rxPackets, p.txPackets, p.rxBytes, p.txBytes, p.rxDropped, p.txDropped, p.rxErrors, p.txErrors,
          p.rxFrameErr, p.rxOverErr, p.rxCrcErr, p.collisions]) w.u64(c);
        w.u32(p.durationSec).u32(p.durationNsec);
      }
      break;
    case 'queue_stats_request':
      w.u32(portToOf11(m.portNo)).u32(m.queueId);
      break;
    case 'queue_stats_reply':
      for (const q of m.queues) {
        w.u32(portToOf11(q.portNo)).u32(q.queueId).u64(q.txBytes).u64(q.txPackets).u64(q.txErrors);
        w.u32(q.durationSec).u32(q.durationNsec);
      }
      break;
    case 'group_stats_request':
      w.u32(m.groupId).zeros(4);
      break;
    case 'group_stats_reply':
      for (const g of m.groups) {
        w.u16(40 + 16 * g.buckets.length).zeros(2).u32(g.groupId).u32(g.refCount).zeros(4).u64(g.packetCount).u64(g.byteCount);
        w.u32(g.durationSec).u32(g.durationNsec);
        for (const b of g.buckets) w.u64(b.packetCount).u64(b.byteCount);
      }
      break;
    case 'group_desc_reply':
      for (const g of m.groups) {
        const start = w.pos;
        w.u16(0).u8(g.groupType).u8(0).u32(g.groupId);
        writeBuckets(w, g.buckets);
        w.patch16(start, w.pos - start);
      }
      break;
    case 'group_features_reply': {
      const f = m.features;
      w.u32(f.types).u32(f.capabilities);
      for (let i = 0; i < 4; i++) w.u32(f.maxGroups[i] ?? 0);
      for (let i = 0; i < 4; i++) w.u32(f.actions[i] ?? 0);
      break;
    }
    case 'meter_stats_request': case 'meter_config_request':
      w.u32(m.meterId).zeros(4);
      break;
    case 'meter_stats_reply':
      for (const s of m.meters) {
        w.u32(s.meterId).u16(40 + 16 * s.bands.length).zeros(6).u32(s.flowCount).u64(s.packetInCount).u64(s.byteInCount);
        w.u32(s.durationSec).u32(s.durationNsec);
        for (const b of s.bands) w.u64(b.packetCount).u64(b.byteCount);
      }
      break;
    case 'meter_config_reply':
      for (const c of m.meters) writeMeterConfig(w, c);
      break;
    case 'meter_features_reply': {
      const f = m.features;
      w.u32(f.maxMeter).u32(f.bandTypes).u32(f.capabilities).u8(f.maxBands).u8(f.maxColor).zeros(2);
      break;
    }
    case 'table_features_request': case 'table_features_reply':
      for (const t of m.tables) encodeTableFeatures(w, t);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding. `b` holds exactly the body; each decoder consumes all of it or throws.

/** OVS's refusal, as ofp-print names it. */
function refuse(r: Reader, ofperr: string, why: string, at = r.pos): never {
  return refuseAs(why, at, ofperr);
}

/** Padding this codec writes back as zeros: other padding would not survive the round trip. */
function zeroPad(b: Reader, n: number, what: string): void {
  const at = b.pos;
  if (b.bytes(n).some((x) => x !== 0)) b.fail(`${what} padding is not zero`, at);
}

/** ofputil_pull_queue_get_config_reply10 (OpenFlow 1.2+ queues): lengths as OVS checks them. */
function readPacketQueue(b: Reader): PacketQueue {
  const at = b.pos;
  if (b.remaining < 16) refuse(b, 'OFPBRC_BAD_LEN', `queue of ${b.remaining} bytes`);
  const queueId = b.u32();
  const port = b.u32();
  const len = b.u16();
  zeroPad(b, 6, 'queue');
  if (len < 16 || len - 16 > b.remaining || len % 8) refuse(b, 'OFPBRC_BAD_LEN', `queue length ${len}`, at);
  const q = b.sub(len - 16);
  const properties: QueueProperty[] = [];
  while (q.remaining > 0) {
    const pat = q.pos;
    const property = q.u16();
    const plen = q.u16();
    if (plen < 8 || plen - 4 > q.remaining || plen % 8) refuse(q, 'OFPBRC_BAD_LEN', `queue property length ${plen}`, pat);
    // A rate (min or max) is 16 bytes: its 16-bit rate and padding.
    if ((property === OFPQT_MIN_RATE || property === OFPQT_MAX_RATE) && plen !== 16) {
      refuse(q, 'OFPBRC_BAD_LEN', `queue rate property of ${plen} bytes`, pat);
    }
    zeroPad(q, 4, 'queue property');
    properties.push({ property, data: Buffer.from(q.bytes(plen - 8)) });
  }
  return { queueId, port, properties };
}

function entries<T>(b: Reader, size: number, what: string, read: (r: Reader) => T): T[] {
  if (b.remaining % size) refuse(b, 'OFPBRC_BAD_LEN', `${what} of ${b.remaining} bytes, not a multiple of ${size}`);
  const out: T[] = [];
  while (b.remaining > 0) out.push(read(b));
  return out;
}

/** An OpenFlow 1.1+ port that OVS can hold (ofputil_port_from_ofp11), or OVS's refusal. */
export function port11(r: Reader, ofperr: string): number {
  const at = r.pos;
  const raw = r.u32();
  // ofputil_port_from_ofp11: 0..0xfeff and 0xffffff00.. only.
  if (raw >= 0xff00 && raw < 0xffffff00) refuse(r, ofperr, `port ${raw} out of range`, at);
  return portFromOf11(raw);
}

export function readFlowStatsRequest(b: Reader): FlowStatsRequest {
  const table = b.u8();
  b.skip(3);
  const outPort = portFromOf11(b.u32());
  const outGroup = b.u32();
  b.skip(4);
  const cookie = b.u64();
  const cookieMask = b.u64();
  const { match, unknown } = decodeMatch(b);
  const q = { table, outPort, outGroup, cookie, cookieMask, match };
  return unknown.length ? { ...q, unknownOxm: unknown } : q;
}

function readBuckets(b: Reader, len: number): Bucket[] {
  const buckets: Bucket[] = [];
  let left = len;
  while (left > 0) {
    const at = b.pos;
    if (left < 16) refuse(b, 'OFPGMFC_BAD_BUCKET', `buckets end with ${left} leftover bytes`);
    const blen = b.u16();
    if (blen < 16 || blen > left) refuse(b, 'OFPGMFC_BAD_BUCKET', `bucket length ${blen}`, at);
    left -= blen;
    const weight = b.u16();
    const watchPort = port11(b, 'OFPGMFC_BAD_WATCH');
    const watchGroup = b.u32();
    b.skip(4);
    buckets.push({ weight, watchPort, watchGroup, actions: decodeActions(b.sub(blen - 16)) });
  }
  return buckets;
}

const hasLiveness = (bk: Bucket): boolean => bk.watchPort !== OFPP_ANY || bk.watchGroup !== OFPG_ANY;

/** ofputil_check_group_mod for the OpenFlow 1.3 commands (OVS's own ADD_OR_MOD included). */
function checkGroupMod(r: Reader, command: number, groupType: number, buckets: readonly Bucket[]): void {
  if (command === OFPGC_DELETE && buckets.length) refuse(r, 'OFPGMFC_INVALID_GROUP', 'group delete with buckets');
  if (groupType > OFPGT_FF) refuse(r, 'OFPGMFC_BAD_TYPE', `group type ${groupType}`);
  if (groupType === OFPGT_INDIRECT && command !== OFPGC_DELETE && buckets.length !== 1) {
    refuse(r, 'OFPGMFC_INVALID_GROUP', `indirect group with ${buckets.length} buckets`);
  }
  // 3 and 4 are OpenFlow 1.5's insert/remove bucket, which OVS also reads from 1.3.
  if (command > 4 && command !== 0x8000) refuse(r, 'OFPGMFC_BAD_COMMAND', `group command ${command}`);
  if (command === 4 && buckets.length) refuse(r, 'OFPGMFC_BAD_BUCKET', 'remove bucket with buckets');
  for (const bk of buckets) {
    if (bk.weight && groupType !== OFPGT_SELECT) refuse(r, 'OFPGMFC_INVALID_GROUP', 'bucket weight outside a select group');
    if ((groupType === OFPGT_ALL || groupType === OFPGT_INDIRECT) && hasLiveness(bk)) {
      refuse(r, 'OFPGMFC_WATCH_UNSUPPORTED', 'watched bucket in an all or indirect group');
    }
    if (groupType === OFPGT_FF && !hasLiveness(bk)) refuse(r, 'OFPGMFC_INVALID_GROUP', 'fast failover bucket watches nothing');
  }
}

/**
 * Meter bands as OVS reads them (ofputil_pull_bands): 16 bytes each, drop or dscp_remark only. `any`
 * takes every band type (a meter delete's bands, which OVS does not read, kept as they came).
 */
function readBands(b: Reader, len: number, any = false): MeterBand[] {
  if (len > b.remaining) refuse(b, 'OFPBRC_BAD_LEN', `bands of ${len} bytes run past the message`);
  const r = b.sub(len);
  const bands: MeterBand[] = [];
  while (r.remaining >= 16) {
    const at = r.pos;
    const type = r.u16();
    const blen = r.u16();
    if (blen !== 16) refuse(r, 'OFPBRC_BAD_LEN', `meter band length ${blen}`, at);
    if (!any && type !== OFPMBT_DROP && type !== OFPMBT_DSCP_REMARK) refuse(r, 'OFPMMFC_BAD_BAND', `meter band type ${type}`, at);
    const rate = r.u32();
    const burstSize = r.u32();
    if (type === OFPMBT_EXPERIMENTER) {
      bands.push({ type, rate, burstSize, experimenter: r.u32() });
    } else if (type === OFPMBT_DSCP_REMARK) {
      bands.push({ type, rate, burstSize, precLevel: r.u8() });
      r.skip(3);
    } else {
      r.skip(4);
      bands.push({ type, rate, burstSize });
    }
  }
  if (r.remaining) refuse(r, 'OFPBRC_BAD_LEN', `meter bands end with ${r.remaining} bytes`);
  return bands;
}

function readMeterMod(b: Reader): StatsMessage {
  if (b.remaining < 8) refuse(b, 'OFPBRC_BAD_LEN', `meter mod body of ${b.remaining} bytes`);
  const at = b.pos;
  const command = b.u16();
  const flags = b.u16();
  const meterId = b.u32();
  if (command > OFPMC_DELETE) refuse(b, 'OFPMMFC_BAD_COMMAND', `meter command ${command}`, at);
  // OVS reads neither the flags nor the bands of a delete: kept, as they came.
  if (command === OFPMC_DELETE) return { type: 'meter_mod', command, flags, meterId, bands: readBands(b, b.remaining, true) };
  if (flags & OFPMF_KBPS && flags & OFPMF_PKTPS) refuse(b, 'OFPMMFC_BAD_FLAGS', 'meter in both kbps and pktps', at);
  return { type: 'meter_mod', command, flags, meterId, bands: readBands(b, b.remaining) };
}

function readString(b: Reader, size: number): string {
  return b.bytes(size).toString('latin1').replace(/\0+$/, '');
}

function readAsync(b: Reader): AsyncConfig {
  exactly(b, 24, 'async config');
  return { packetIn: [b.u32(), b.u32()], portStatus: [b.u32(), b.u32()], flowRemoved: [b.u32(), b.u32()] };
}

/** A message of one of this file's non-multipart OpenFlow types; undefined for other types. */
export function readStatsMessage(type: number, b: Reader): StatsMessage | undefined {
  switch (type) {
    case OFPT_GROUP_MOD: {
      if (b.remaining < 8) refuse(b, 'OFPBRC_BAD_LEN', `group mod body of ${b.remaining} bytes`);
      const command = b.u16();
      const groupType = b.u8();
      b.skip(1);
      const groupId = b.u32();
      const buckets = readBuckets(b, b.remaining);
      checkGroupMod(b, command, groupType, buckets);
      return { type: 'group_mod', command, groupType, groupId, buckets };
    }
    case OFPT_METER_MOD:
      return readMeterMod(b);
    case OFPT_TABLE_MOD: {
      exactly(b, 8, 'table mod');
      const table = b.u8();
      b.skip(3);
      return { type: 'table_mod', table, config: b.u32() };
    }
    case OFPT_PORT_MOD: {
      exactly(b, 32, 'port mod');
      const portNo = port11(b, 'OFPPMFC_BAD_PORT');
      b.skip(4);
      const hwAddr = b.uint(6);
      b.skip(2);
      const config = b.u32();
      const mask = b.u32();
      const advertise = b.u32();
      const pad = b.u32();
      return { type: 'port_mod', portNo, hwAddr, config, mask, advertise, ...(pad ? { pad } : {}) };
    }
    case OFPT_QUEUE_GET_CONFIG_REQUEST: {
      exactly(b, 8, 'queue get config request');
      const portNo = port11(b, 'OFPQOFC_BAD_PORT');
      b.skip(4);
      return { type: 'queue_get_config_request', portNo };
    }
    case OFPT_QUEUE_GET_CONFIG_REPLY: {
      if (b.remaining % 8) refuse(b, 'OFPBRC_BAD_LEN', `queue get config reply body of ${b.remaining} bytes`);
      if (b.remaining < 8) refuse(b, 'OFPBRC_BAD_LEN', `queue get config reply body of ${b.remaining} bytes`);
      const portNo = port11(b, 'OFPBAC_BAD_OUT_PORT');
      zeroPad(b, 4, 'queue get config reply');
      const queues: PacketQueue[] = [];
      while (b.remaining > 0) queues.push(readPacketQueue(b));
      return { type: 'queue_get_config_reply', portNo, queues };
    }
    case OFPT_GET_ASYNC_REQUEST:
      exactly(b, 0, 'get async request');
      return { type: 'get_async_request' };
    case OFPT_GET_ASYNC_REPLY:
      return { type: 'get_async_reply', config: readAsync(b) };
    case OFPT_SET_ASYNC:
      return { type: 'set_async', config: readAsync(b) };
    default:
      return undefined;
  }
}

const NX_VENDOR = 0x00002320;
const ONF_VENDOR = 0x4f4e4600;
/** The experimenter multiparts OVS reads in OpenFlow 1.3: NXST_IPFIX_BRIDGE/FLOW, ONFST_FLOW_MONITOR. */
const KNOWN_EXPERIMENTER_MP: ReadonlyMap<number, readonly number[]> = new Map([[NX_VENDOR, [3, 4]], [ONF_VENDOR, [1870]]]);

/**
 * The body of a multipart message of one of this file's types; undefined for the types it leaves to
 * messages.ts or keeps raw. Throws where OVS refuses the message.
 */
export function readStatsMultipart(mpType: number, flags: number, isRequest: boolean, b: Reader): StatsMessage | undefined {
  const empty = (type: EmptyStatsType): StatsMessage => {
    exactly(b, 0, type);
    return { type, flags };
  };
  switch (mpType) {
    case 0:
      if (isRequest) return empty('desc_request');
      exactly(b, 1056, 'desc reply');
      return {
        type: 'desc_reply', flags,
        desc: { mfr: readString(b, 256), hw: readString(b, 256), sw: readString(b, 256), serial: readString(b, 32), dp: readString(b, 256) },
      };
    case OFPMP_AGGREGATE:
      if (isRequest) return { type: 'aggregate_request', flags, request: readFlowStatsRequest(b) };
      exactly(b, 24, 'aggregate reply');
      {
        const packetCount = b.u64();
        const byteCount = b.u64();
        const flowCount = b.u32();
        b.skip(4);
        return { type: 'aggregate_reply', flags, packetCount, byteCount, flowCount };
      }
    case OFPMP_TABLE:
      if (isRequest) return empty('table_stats_request');
      return {
        type: 'table_stats_reply', flags,
        tables: entries(b, 24, 'table stats', (r) => {
          const table = r.u8();
          r.skip(3);
          return { table, activeCount: r.u32(), lookupCount: r.u64(), matchedCount: r.u64() };
        }),
      };
    case OFPMP_PORT_STATS:
      if (isRequest) {
        exactly(b, 8, 'port stats request');
        const portNo = port11(b, 'OFPBAC_BAD_OUT_PORT');
        b.skip(4);
        return { type: 'port_stats_request', flags, portNo };
      }
      return {
        type: 'port_stats_reply', flags,
        ports: entries(b, 112, 'port stats', (r) => {
          const portNo = port11(r, 'OFPBAC_BAD_OUT_PORT');
          r.skip(4);
          return {
            portNo, rxPackets: r.u64(), txPackets: r.u64(), rxBytes: r.u64(), txBytes: r.u64(), rxDropped: r.u64(),
            txDropped: r.u64(), rxErrors: r.u64(), txErrors: r.u64(), rxFrameErr: r.u64(), rxOverErr: r.u64(),
            rxCrcErr: r.u64(), collisions: r.u64(), durationSec: r.u32(), durationNsec: r.u32(),
          };
        }),
      };
    case OFPMP_QUEUE:
      if (isRequest) {
        exactly(b, 8, 'queue stats request');
        const portNo = port11(b, 'OFPBAC_BAD_OUT_PORT');
        return { type: 'queue_stats_request', flags, portNo, queueId: b.u32() };
      }
      return {
        type: 'queue_stats_reply', flags,
        queues: entries(b, 40, 'queue stats', (r) => ({
          portNo: port11(r, 'OFPBAC_BAD_OUT_PORT'), queueId: r.u32(), txBytes: r.u64(), txPackets: r.u64(), txErrors: r.u64(),
          durationSec: r.u32(), durationNsec: r.u32(),
        })),
      };
    case OFPMP_GROUP:
      if (isRequest) {
        exactly(b, 8, 'group stats request');
        const groupId = b.u32();
        b.skip(4);
        return { type: 'group_stats_request', flags, groupId };
      }
      return { type: 'group_stats_reply', flags, groups: readGroupStats(b) };
    case OFPMP_GROUP_DESC:
      if (isRequest) return empty('group_desc_request');
      {
        const groups: GroupDesc[] = [];
        while (b.remaining > 0) {
          const at = b.pos;
          if (b.remaining < 8) refuse(b, 'OFPBRC_BAD_LEN', `group description of ${b.remaining} bytes`);
          const len = b.u16();
          if (len < 8 || len - 2 > b.remaining) refuse(b, 'OFPBRC_BAD_LEN', `group description length ${len}`, at);
          const groupType = b.u8();
          b.skip(1);
          const groupId = b.u32();
          groups.push({ groupType, groupId, buckets: readBuckets(b, len - 8) });
        }
        return { type: 'group_desc_reply', flags, groups };
      }
    case OFPMP_GROUP_FEATURES:
      if (isRequest) return empty('group_features_request');
      exactly(b, 40, 'group features reply');
      {
        const types = b.u32();
        const capabilities = b.u32();
        const maxGroups = [b.u32(), b.u32(), b.u32(), b.u32()];
        const actions = [b.u32(), b.u32(), b.u32(), b.u32()];
        return { type: 'group_features_reply', flags, features: { types, capabilities, maxGroups, actions } };
      }
    case OFPMP_METER: case OFPMP_METER_CONFIG:
      if (isRequest) {
        exactly(b, 8, 'meter request');
        const meterId = b.u32();
        b.skip(4);
        return { type: mpType === OFPMP_METER ? 'meter_stats_request' : 'meter_config_request', flags, meterId };
      }
      return mpType === OFPMP_METER
        ? { type: 'meter_stats_reply', flags, meters: readMeterStats(b) }
        : { type: 'meter_config_reply', flags, meters: readMeterConfigs(b) };
    case OFPMP_METER_FEATURES:
      if (isRequest) return empty('meter_features_request');
      exactly(b, 16, 'meter features reply');
      {
        const maxMeter = b.u32();
        const bandTypes = b.u32();
        const capabilities = b.u32();
        const maxBands = b.u8();
        const maxColor = b.u8();
        b.skip(2);
        return { type: 'meter_features_reply', flags, features: { maxMeter, bandTypes, capabilities, maxBands, maxColor } };
      }
    case OFPMP_TABLE_FEATURES: {
      // ofp_msgs: a body of 8-byte units, and a reply of at least one entry.
      if (b.remaining % 8 || (!isRequest && b.remaining < 64)) refuse(b, 'OFPBRC_BAD_LEN', `table features body of ${b.remaining} bytes`);
      const tables: TableFeatures[] = [];
      while (b.remaining > 0) tables.push(decodeTableFeatures(b));
      return { type: isRequest ? 'table_features_request' : 'table_features_reply', flags, tables };
    }
    case OFPMP_EXPERIMENTER: {
      if (b.remaining < 8) refuse(b, 'OFPBRC_BAD_LEN', `experimenter multipart body of ${b.remaining} bytes`);
      const vendor = b.buf.readUInt32BE(b.pos);
      const subtypes = KNOWN_EXPERIMENTER_MP.get(vendor);
      if (!subtypes) refuse(b, 'OFPBRC_BAD_VENDOR', `experimenter multipart of unknown vendor 0x${vendor.toString(16)}`);
      const subtype = b.buf.readUInt32BE(b.pos + 4);
      if (!subtypes.includes(subtype)) refuse(b, 'OFPBRC_BAD_SUBTYPE', `experimenter multipart subtype ${subtype}`);
      return undefined;
    }
    default:
      // 1 (flow) and 13 (port description) are messages.ts's; OpenFlow 1.4's types are not 1.3's.
      if (mpType > OFPMP_TABLE_FEATURES + 1) refuse(b, 'OFPBRC_BAD_STAT', `multipart type ${mpType}`);
      return undefined;
  }
}

function readGroupStats(b: Reader): GroupStats[] {
  const groups: GroupStats[] = [];
  while (b.remaining > 0) {
    const at = b.pos;
    if (b.remaining < 40) refuse(b, 'OFPBRC_BAD_LEN', `group stats of ${b.remaining} bytes`);
    const len = b.u16();
    if (len < 40 || (len - 40) % 16 || len - 2 > b.remaining) refuse(b, 'OFPBRC_BAD_LEN', `group stats length ${len}`, at);
    b.skip(2);
    const groupId = b.u32();
    const refCount = b.u32();
    b.skip(4);
    const packetCount = b.u64();
    const byteCount = b.u64();
    const durationSec = b.u32();
    const durationNsec = b.u32();
    const buckets: Counters[] = [];
    for (let n = (len - 40) / 16; n > 0; n--) buckets.push({ packetCount: b.u64(), byteCount: b.u64() });
    groups.push({ groupId, refCount, packetCount, byteCount, durationSec, durationNsec, buckets });
  }
  return groups;
}

function readMeterStats(b: Reader): MeterStats[] {
  const meters: MeterStats[] = [];
  while (b.remaining > 0) {
    if (b.remaining < 40) refuse(b, 'OFPBRC_BAD_LEN', `meter stats of ${b.remaining} bytes`);
    const meterId = b.u32();
    const at = b.pos;
    const len = b.u16();
    if (len < 40 || (len - 40) % 16 || len - 6 > b.remaining) refuse(b, 'OFPBRC_BAD_LEN', `meter stats length ${len}`, at);
    b.skip(6);
    const flowCount = b.u32();
    const packetInCount = b.u64();
    const byteInCount = b.u64();
    const durationSec = b.u32();
    const durationNsec = b.u32();
    const bands: Counters[] = [];
    for (let n = (len - 40) / 16; n > 0; n--) bands.push({ packetCount: b.u64(), byteCount: b.u64() });
    meters.push({ meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bands });
  }
  return meters;
}

function readMeterConfigs(b: Reader): MeterConfig[] {
  const meters: MeterConfig[] = [];
  while (b.remaining > 0) {
    const at = b.pos;
    if (b.remaining < 8) refuse(b, 'OFPBRC_BAD_LEN', `meter config of ${b.remaining} bytes`);
    const len = b.u16();
    if (len < 8) refuse(b, 'OFPBRC_BAD_LEN', `meter config length ${len}`, at);
    const flags = b.u16();
    const meterId = b.u32();
    meters.push({ flags, meterId, bands: readBands(b, len - 8) });
  }
  return meters;
}

export { OFPG_ANY, OFPP_ANY };
