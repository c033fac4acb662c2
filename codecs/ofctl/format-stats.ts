// Group, meter, table, port and async configuration messages and the multipart requests and replies
// as `ovs-ofctl ofp-print` prints them (lib/ofp-group.c, ofp-meter.c, ofp-port.c, ofp-queue.c,
// ofp-table.c, ofp-print.c of OVS 3.1); undefined for what is not printed here (never a guess).
import { allOnes } from '../openflow/fields.js';
import type { FlowStatsRequest } from '../openflow/messages.js';
import { formatPort, OFPP_NONE } from '../openflow/ports.js';
import {
  Bucket, MeterBand, MeterConfig, OFPG_ALL, OFPG_ANY, OFPGC_ADD, OFPGC_DELETE, OFPGC_MODIFY, OFPGT_SELECT,
  OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMC_ADD, OFPMC_DELETE, OFPMC_MODIFY, OFPMF_BURST, OFPQT_MAX_RATE, OFPQT_MIN_RATE, PacketQueue,
  StatsMessage,
} from '../openflow/stats.js';
import { formatInstructions } from './format-actions.js';
import { formatDuration } from './format-flow.js';
import { formatAsyncMasks } from './format-async.js';
import { formatMatch } from './format-match.js';
import { header } from './format-message.js';
import { actionBitmap, featuresView, formatTables, statsView } from './format-table-features.js';
import { formatMacMasked } from './values.js';

const OFP_DEFAULT_PRIORITY = 0x8000;
const hex = (n: number): string => n.toString(16);

/** ofp_print_stats: the multipart flags after the header. */
export function mpFlags(flags: number): string {
  if (!flags) return '';
  let s = ' flags=';
  if (flags & 1) s += '[more]';
  if (flags & ~1) s += `[***unknown flags 0x${hex(flags & ~1).padStart(4, '0')}***]`;
  return s;
}

/** ofp_print_bit_names: the names of the set bits, low bit first, unnamed bits as one hex number; "0" for none. */
export function bitNames(bits: number, names: ReadonlyMap<number, string>, sep = ' '): string {
  if (!bits) return '0';
  const out: string[] = [];
  let rest = bits >>> 0;
  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    const name = names.get(bit);
    if (rest & bit && name !== undefined) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) out.push(`0x${hex(rest)}`);
  return out.join(sep);
}

const bitMap = (names: readonly string[]): ReadonlyMap<number, string> => new Map(names.map((n, i) => [(1 << i) >>> 0, n] as const));

/** ofputil_format_group: a group id, ALL and ANY by name. */
const formatGroup = (id: number): string => (id === OFPG_ALL ? 'ALL' : id === OFPG_ANY ? 'ANY' : String(id));

/** ofputil_format_meter_id. */
function formatMeterId(id: number, sep: string): string {
  if (id <= 0xffff0000) return `meter${sep}${id}`;
  const name = id === 0xfffffffd ? 'slowpath' : id === 0xfffffffe ? 'controller' : id === 0xffffffff ? 'all' : 'unknown';
  return `meter${sep}${name}`;
}

const GROUP_TYPES = ['all', 'select', 'indirect', 'ff'] as const;

/** ofp_print_group's buckets (OpenFlow 1.3: no bucket ids): `bucket=…` for each, comma separated. */
function formatBuckets(groupType: number, buckets: readonly Bucket[]): string {
  return buckets.map((b) => {
    let s = 'bucket=';
    if (b.weight !== (groupType === OFPGT_SELECT ? 1 : 0)) s += `weight:${b.weight},`;
    if (b.watchPort !== OFPP_NONE) s += `watch_port:${formatPort(b.watchPort)},`;
    if (b.watchGroup !== OFPG_ANY) s += `watch_group:${b.watchGroup},`;
    return `${s}actions=${formatInstructions({ apply: b.actions })}`;
  }).join(',');
}

function formatGroup13(groupId: number, groupType: number, buckets: readonly Bucket[], showType: boolean): string {
  let s = `group_id=${groupId}`;
  if (showType) s += `,type=${GROUP_TYPES[groupType] ?? 'unknown'}`;
  return buckets.length ? `${s},${formatBuckets(groupType, buckets)}` : s;
}

const GROUP_COMMANDS: ReadonlyMap<number, string> = new Map([
  [OFPGC_ADD, 'ADD'], [OFPGC_MODIFY, 'MOD'], [OFPGC_DELETE, 'DEL'], [0x8000, 'ADD_OR_MOD'], [3, 'INSERT_BUCKET'], [4, 'REMOVE_BUCKET'],
]);

/** ofp_print_meter_flags: each flag then a space. */
function meterFlags(flags: number): string {
  let s = '';
  const names = ['kbps', 'pktps', 'burst', 'stats'];
  names.forEach((n, i) => { if (flags & (1 << i)) s += `${n} `; });
  if (flags & ~0xf) s += `flags:0x${hex(flags & ~0xf)} `;
  return s;
}

function meterBand(flags: number, b: MeterBand): string {
  const type = b.type === OFPMBT_DROP ? 'drop' : b.type === OFPMBT_DSCP_REMARK ? 'dscp_remark' : String(b.type);
  let s = `\ntype=${type} rate=${b.rate}`;
  if (flags & OFPMF_BURST) s += ` burst_size=${b.burstSize}`;
  if (b.type === OFPMBT_DSCP_REMARK) s += ` prec_level=${b.precLevel ?? 0}`;
  return s;
}

/** ofputil_format_meter_config. */
function meterConfig(m: MeterConfig): string {
  return `${formatMeterId(m.meterId, '=')} ${meterFlags(m.flags)}bands=${m.bands.map((b) => meterBand(m.flags, b)).join('')}\n`;
}

const METER_BAND_TYPES = new Map([[1 << OFPMBT_DROP, 'drop'], [1 << OFPMBT_DSCP_REMARK, 'dscp_remark']]);
const METER_CAPABILITIES = bitMap(['kbps', 'pktps', 'burst', 'stats']);

export const PORT_CONFIG = bitMap(['PORT_DOWN', 'NO_STP', 'NO_RECV', 'NO_RECV_STP', 'NO_FLOOD', 'NO_FWD', 'NO_PACKET_IN']);
export const PORT_STATE = bitMap(['LINK_DOWN', 'BLOCKED', 'LIVE']);
/** The OpenFlow 1.1+ port config bits OVS keeps (PORT_DOWN, NO_RECV, NO_FWD, NO_PACKET_IN). */
export const OFPPC11_ALL = 0x65;
export const PORT_FEATURES = bitMap([
  '10MB-HD', '10MB-FD', '100MB-HD', '100MB-FD', '1GB-HD', '1GB-FD', '10GB-FD', '40GB-FD', '100GB-FD', '1TB-FD', 'OTHER', 'COPPER',
  'FIBER', 'AUTO_NEG', 'AUTO_PAUSE', 'AUTO_PAUSE_ASYM',
]);

/** Counters OVS prints as `?` when all ones (print_port_stat). */
const stat = (name: string, v: bigint): string => `${name}=${v === 0xffffffffffffffffn ? '?' : v}`;

/** A flow or aggregate stats request's body (ofputil_flow_stats_request_format). */
export function formatFlowStatsRequest(q: FlowStatsRequest): string {
  let s = '';
  if (q.table !== 0xff) s += ` table=${q.table}`;
  if (q.outPort !== OFPP_NONE) s += ` out_port=${formatPort(q.outPort)}`;
  const match = formatMatch(q.match, OFP_DEFAULT_PRIORITY, q.unknownOxm);
  return match ? `${s} ${match}` : s;
}

/** print_queue_rate: the last such property's rate in percent, "(disabled)" above 100%, nothing when absent. */
function queueRate(name: string, q: PacketQueue, property: number): string {
  const p = q.properties.filter((x) => x.property === property).at(-1);
  const rate = p ? p.data.readUInt16BE(0) : 0xffff;
  return rate <= 1000 ? ` ${name}:${Math.floor(rate / 10)}.${rate % 10}%` : rate < 0xffff ? ` ${name}:(disabled)` : '';
}

/** ofp-print ends what it prints with a newline. */
const endLine = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);

const printable = (s: string): string => Buffer.from(s.split('\0')[0]!, 'latin1').toString('utf8');

export function formatStatsMessage(m: StatsMessage & { readonly xid: number }): string | undefined {
  const { xid } = m;
  switch (m.type) {
    case 'group_mod': {
      const cmd = GROUP_COMMANDS.get(m.command) ?? `cmd:${m.command}`;
      const bucketCommand = m.command === 3 || m.command === 4;
      return `${header('OFPT_GROUP_MOD', xid)}\n ${cmd} ${formatGroup13(m.groupId, m.groupType, m.buckets, !bucketCommand)}\n`;
    }
    case 'meter_mod': {
      const cmd = m.command === OFPMC_ADD ? 'ADD' : m.command === OFPMC_MODIFY ? 'MOD' : m.command === OFPMC_DELETE ? 'DEL' : `cmd:${m.command}`;
      // OVS reads no flags nor bands of a delete.
      const conf = m.command === OFPMC_DELETE ? { meterId: m.meterId, flags: 0, bands: [] } : m;
      return `${header('OFPT_METER_MOD', xid)} ${cmd} ${meterConfig(conf)}`;
    }
    case 'table_mod':
      // OpenFlow 1.3 table config bits are deprecated: OVS reads none of them.
      return `${header('OFPT_TABLE_MOD', xid)} ${m.table === 0xff ? 'table_id: ALL_TABLES' : `table_id=${m.table}`}\n`;
    case 'port_mod':
      // OVS keeps OpenFlow 1.1's config bits, config only under its mask, and the 16 feature bits of advertise.
      return `${header('OFPT_PORT_MOD', xid)} port: ${formatPort(m.portNo)}: addr:${formatMacMasked(m.hwAddr, allOnes(48))}\n`
        + `     config: ${bitNames(m.config & m.mask & OFPPC11_ALL, PORT_CONFIG)}\n     mask:   ${bitNames(m.mask & OFPPC11_ALL, PORT_CONFIG)}\n`
        + `     advertise: ${m.advertise & 0xffff ? bitNames(m.advertise & 0xffff, PORT_FEATURES) : 'UNCHANGED'}\n`;
    case 'queue_get_config_request':
      return `${header('OFPT_QUEUE_GET_CONFIG_REQUEST', xid)} port=${formatPort(m.portNo)}\n`;
    case 'queue_get_config_reply': {
      // OVS sorts the queues by id and prints the reply's port once, before the first (never port 0).
      const queues = [...m.queues].sort((a, b) => a.queueId - b.queueId);
      let s = queues.length && m.portNo ? ` port=${formatPort(m.portNo)}\n` : queues.length ? ' ' : '';
      for (const q of queues) s += `queue ${q.queueId}:${queueRate('min_rate', q, OFPQT_MIN_RATE)}${queueRate('max_rate', q, OFPQT_MAX_RATE)}\n`;
      return endLine(`${header('OFPT_QUEUE_GET_CONFIG_REPLY', xid)}${s}`);
    }
    case 'get_async_request':
      return `${header('OFPT_GET_ASYNC_REQUEST', xid)}\n`;
    case 'get_async_reply': case 'set_async':
      return formatAsyncMasks(header(m.type === 'set_async' ? 'OFPT_SET_ASYNC' : 'OFPT_GET_ASYNC_REPLY', xid), m.config);
    case 'desc_request':
      return `${header('OFPST_DESC request', xid)}${mpFlags(m.flags)}\n`;
    case 'desc_reply': {
      const d = m.desc;
      return `${header('OFPST_DESC reply', xid)}${mpFlags(m.flags)}\nManufacturer: ${printable(d.mfr)}\nHardware: ${printable(d.hw)}\n`
        + `Software: ${printable(d.sw)}\nSerial Num: ${printable(d.serial)}\nDP Description: ${printable(d.dp)}\n`;
    }
    case 'aggregate_request':
      return `${header('OFPST_AGGREGATE request', xid)}${mpFlags(m.flags)}${formatFlowStatsRequest(m.request)}\n`;
    case 'aggregate_reply':
      return `${header('OFPST_AGGREGATE reply', xid)}${mpFlags(m.flags)} packet_count=${m.packetCount} byte_count=${m.byteCount}`
        + ` flow_count=${m.flowCount}\n`;
    case 'table_stats_request':
      return `${header('OFPST_TABLE request', xid)}${mpFlags(m.flags)}\n`;
    case 'table_stats_reply':
      return `${header('OFPST_TABLE reply', xid)}${mpFlags(m.flags)}${endLine(formatTables(m.tables.map(statsView)))}`;
    case 'port_stats_request':
      return `${header('OFPST_PORT request', xid)}${mpFlags(m.flags)} port_no=${formatPort(m.portNo)}\n`;
    case 'port_stats_reply': {
      let s = `${header('OFPST_PORT reply', xid)}${mpFlags(m.flags)} ${m.ports.length} ports\n`;
      for (const p of m.ports) {
        s += `  port ${p.portNo < 10 ? ' ' : ''}${formatPort(p.portNo)}: rx ${stat('pkts', p.rxPackets)}, ${stat('bytes', p.rxBytes)}, `
          + `${stat('drop', p.rxDropped)}, ${stat('errs', p.rxErrors)}, ${stat('frame', p.rxFrameErr)}, ${stat('over', p.rxOverErr)}, `
          + `${stat('crc', p.rxCrcErr)}\n           tx ${stat('pkts', p.txPackets)}, ${stat('bytes', p.txBytes)}, `
          + `${stat('drop', p.txDropped)}, ${stat('errs', p.txErrors)}, ${stat('coll', p.collisions)}\n`;
        if (p.durationSec !== 0xffffffff) s += `           duration=${formatDuration(p.durationSec, p.durationNsec)}\n`;
      }
      return s;
    }
    case 'queue_stats_request':
      return `${header('OFPST_QUEUE request', xid)}${mpFlags(m.flags)} port=${formatPort(m.portNo)}`
        + ` queue=${m.queueId === 0xffffffff ? 'ALL' : m.queueId}\n`;
    case 'queue_stats_reply': {
      let s = `${header('OFPST_QUEUE reply', xid)}${mpFlags(m.flags)} ${m.queues.length} queues\n`;
      for (const q of m.queues) {
        const duration = q.durationSec === 0xffffffff ? '?' : formatDuration(q.durationSec, q.durationNsec);
        s += `  port ${formatPort(q.portNo)} queue ${q.queueId}: ${stat('bytes', q.txBytes)}, ${stat('pkts', q.txPackets)}, `
          + `${stat('errors', q.txErrors)}, duration=${duration}\n`;
      }
      return s;
    }
    case 'group_stats_request':
      return `${header('OFPST_GROUP request', xid)}${mpFlags(m.flags)} group_id=${formatGroup(m.groupId)}\n`;
    case 'group_stats_reply': {
      let s = `${header('OFPST_GROUP reply', xid)}${mpFlags(m.flags)}`;
      for (const g of m.groups) {
        s += `\n group_id=${g.groupId},`;
        if (g.durationSec !== 0xffffffff) s += `duration=${formatDuration(g.durationSec, g.durationNsec)},`;
        s += `ref_count=${g.refCount},packet_count=${g.packetCount},byte_count=${g.byteCount}`;
        g.buckets.forEach((b, i) => {
          if (b.packetCount !== 0xffffffffffffffffn) s += `,bucket${i}:packet_count=${b.packetCount},byte_count=${b.byteCount}`;
        });
      }
      return `${s}\n`;
    }
    case 'group_desc_request':
      return `${header('OFPST_GROUP_DESC request', xid)}${mpFlags(m.flags)} group_id=ALL\n`;
    case 'group_desc_reply': {
      let s = `${header('OFPST_GROUP_DESC reply', xid)}${mpFlags(m.flags)}`;
      for (const g of m.groups) s += `\n ${formatGroup13(g.groupId, g.groupType, g.buckets, true)}`;
      return `${s}\n`;
    }
    case 'group_features_request':
      return `${header('OFPST_GROUP_FEATURES request', xid)}${mpFlags(m.flags)}\n`;
    case 'group_features_reply': {
      const f = m.features;
      let s = `${header('OFPST_GROUP_FEATURES reply', xid)}${mpFlags(m.flags)}\n Group table:\n    Types:  0x${hex(f.types)}\n`
        + `    Capabilities:  0x${hex(f.capabilities)}\n`;
      ['all', 'select', 'indirect', 'fast failover'].forEach((name, i) => {
        if (f.types & (1 << i)) {
          s += `    ${name} group:\n       max_groups=${f.maxGroups[i] ? `0x${hex(f.maxGroups[i]!)}` : '0'}\n`
            + `       actions: ${actionBitmap(f.actions[i]!)}\n`;
        }
      });
      return s;
    }
    case 'meter_stats_request': case 'meter_config_request':
      return `${header(m.type === 'meter_stats_request' ? 'OFPST_METER request' : 'OFPST_METER_CONFIG request', xid)}`
        + `${mpFlags(m.flags)} ${formatMeterId(m.meterId, '=')}\n`;
    case 'meter_stats_reply': {
      let s = `${header('OFPST_METER reply', xid)}${mpFlags(m.flags)}\n`;
      s += m.meters.map((ms) => `${formatMeterId(ms.meterId, ':')} flow_count:${ms.flowCount} packet_in_count:${ms.packetInCount}`
        + ` byte_in_count:${ms.byteInCount} duration:${formatDuration(ms.durationSec, ms.durationNsec)} bands:\n`
        + ms.bands.map((b, i) => `${i}: packet_count:${b.packetCount} byte_count:${b.byteCount}\n`).join('')).join('\n');
      return s;
    }
    case 'meter_config_reply':
      return `${header('OFPST_METER_CONFIG reply', xid)}${mpFlags(m.flags)}\n${m.meters.map(meterConfig).join('\n')}`;
    case 'meter_features_request':
      return `${header('OFPST_METER_FEATURES request', xid)}${mpFlags(m.flags)}\n`;
    case 'meter_features_reply': {
      const f = m.features;
      return `${header('OFPST_METER_FEATURES reply', xid)}${mpFlags(m.flags)}\nmax_meter:${f.maxMeter} max_bands:${f.maxBands}`
        + ` max_color:${f.maxColor}\nband_types: ${bitNames(f.bandTypes, METER_BAND_TYPES)}\n`
        + `capabilities: ${bitNames(f.capabilities, METER_CAPABILITIES)}\n`;
    }
    case 'table_features_request': case 'table_features_reply': {
      const name = m.type === 'table_features_request' ? 'OFPST_TABLE_FEATURES request' : 'OFPST_TABLE_FEATURES reply';
      return `${header(name, xid)}${mpFlags(m.flags)}${endLine(formatTables(m.tables.map(featuresView)))}`;
    }
  }
}

/** A flow stats request as ofp-print prints it. */
export function formatFlowStatsRequestMessage(xid: number, flags: number, q: FlowStatsRequest): string {
  return `${header('OFPST_FLOW request', xid)}${mpFlags(flags)}${formatFlowStatsRequest(q)}\n`;
}

/** A port description request (OpenFlow 1.3 has no port in it: OVS prints ANY). */
export function formatPortDescRequest(xid: number, flags: number): string {
  return `${header('OFPST_PORT_DESC request', xid)}${mpFlags(flags)} port=ANY\n`;
}

