// A message as `ovs-ofctl ofp-print` prints it (ofp_to_string), for the messages this codec models
// and prints; undefined for the others (never a guess). Checked against OVS's own answers by
// test/codecs/peer-vectors.test.ts.
import { OfMessage } from '../openflow/messages.js';
import { formatDuration, formatFlowMod, formatFlowStatsReply } from './format-flow.js';
import { formatMatch } from './format-match.js';
import { formatFlowStatsRequestMessage, formatPortDescRequest, formatStatsMessage } from './format-stats.js';
import { isStatsMessage } from '../openflow/stats.js';
import {
  formatAsyncMessage, formatError, formatHello, formatPacketIn, formatPacketOut, formatPortStatus, formatRoleStatus, ROLES,
} from './format-async.js';
import { formatPacketIn2 } from './format-packet-in2.js';
import { formatTlvTable } from './format-tlv.js';
import { formatFlowMonitorReply, formatFlowMonitorRequest, formatPortDescReply, formatRequestForward } from './format-vendor.js';

export const header = (name: string, xid: number, version = 4): string => `${name} (OF1.${version - 1}) (xid=0x${xid.toString(16)}):`;

/** ovs_hex_dump with offsets and ASCII: 16 bytes a line, a '-' between the 8th and 9th. */
export function hexDump(b: Buffer): string {
  let s = '';
  for (let ofs = 0; ofs < b.length; ofs += 16) {
    const line = b.subarray(ofs, ofs + 16);
    s += `${ofs.toString(16).padStart(8, '0')}  `;
    for (let i = 0; i < 16; i++) s += i < line.length ? `${line[i]!.toString(16).padStart(2, '0')}${i === 7 ? '-' : ' '}` : '   ';
    s += `|${[...line].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('').padEnd(16)}|\n`;
  }
  return s;
}

const FRAGS = ['normal', 'drop', 'reassemble', 'nx-match'] as const;
const BUNDLE_CONTROL_TYPES = [
  'OPEN_REQUEST', 'OPEN_REPLY', 'CLOSE_REQUEST', 'CLOSE_REPLY', 'COMMIT_REQUEST', 'COMMIT_REPLY', 'DISCARD_REQUEST', 'DISCARD_REPLY',
] as const;

/** OpenFlow 1.3 capability bits and their names, in OVS's order (other bits are not printed). */
const CAPABILITIES: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'FLOW_STATS'], [0x2, 'TABLE_STATS'], [0x4, 'PORT_STATS'], [0x8, 'GROUP_STATS'], [0x20, 'IP_REASM'], [0x40, 'QUEUE_STATS'],
  [0x100, 'PORT_BLOCKED'],
];
const FLOW_REMOVED_REASONS = ['idle', 'hard', 'delete', 'group_delete'] as const;

function bundleFlags(flags: number): string | undefined {
  if (flags & ~3) return undefined;
  return [flags & 1 ? 'atomic' : '', flags & 2 ? 'ordered' : ''].filter((x) => x).join(' ');
}

export function formatMessage(m: OfMessage): string | undefined {
  switch (m.type) {
    case 'flow_mod': return formatFlowMod(m, m.xid);
    case 'flow_stats_reply': return formatFlowStatsReply(m.xid, m.flags, m.flows);
    case 'features_request': return `${header('OFPT_FEATURES_REQUEST', m.xid)}\n`;
    case 'get_config_request': return `${header('OFPT_GET_CONFIG_REQUEST', m.xid)}\n`;
    case 'barrier_request': return `${header('OFPT_BARRIER_REQUEST', m.xid)}\n`;
    case 'barrier_reply': return `${header('OFPT_BARRIER_REPLY', m.xid)}\n`;
    case 'echo_request': case 'echo_reply':
      return `${header(m.type === 'echo_request' ? 'OFPT_ECHO_REQUEST' : 'OFPT_ECHO_REPLY', m.xid)} ${m.data.length} bytes of payload\n${hexDump(m.data)}`;
    case 'set_config': case 'get_config_reply': {
      // Other flag bits (invalid_ttl_to_controller…) are printed by OVS in ways not modelled here.
      if (m.flags & ~3) return undefined;
      return `${header(m.type === 'set_config' ? 'OFPT_SET_CONFIG' : 'OFPT_GET_CONFIG_REPLY', m.xid)} frags=${FRAGS[m.flags & 3]} miss_send_len=${m.missSendLen}\n`;
    }
    case 'role_request': case 'role_reply': {
      const role = ROLES[m.role];
      if (role === undefined) return undefined;
      // A request's generation id counts unless the role is nochange; a reply's unless it is all ones.
      const gen = m.type === 'role_request' ? role !== 'nochange' : m.generationId !== 0xffffffffffffffffn;
      const name = header(m.type === 'role_request' ? 'OFPT_ROLE_REQUEST' : 'OFPT_ROLE_REPLY', m.xid);
      return `${name} role=${role}${gen ? ` generation_id=${m.generationId}` : ''}\n`;
    }
    case 'bundle_control': {
      const type = BUNDLE_CONTROL_TYPES[m.ctrlType];
      const flags = bundleFlags(m.flags);
      if (type === undefined || flags === undefined || m.properties.length) return undefined;
      return `${header('ONFT_BUNDLE_CONTROL', m.xid)}\n bundle_id=0x${m.bundleId.toString(16)} type=${type} flags=${flags}\n`;
    }
    case 'bundle_add': {
      const flags = bundleFlags(m.flags);
      const inner = formatMessage(m.message);
      if (flags === undefined || inner === undefined) return undefined;
      return `${header('ONFT_BUNDLE_ADD_MESSAGE', m.xid)}\n bundle_id=0x${m.bundleId.toString(16)} flags=${flags}\n${inner}`;
    }
    case 'features_reply': {
      const aux = m.auxiliaryId ? `, auxiliary_id:${m.auxiliaryId}` : '';
      const caps = CAPABILITIES.filter(([bit]) => m.capabilities & bit).map(([, name]) => name).join(' ');
      return `${header('OFPT_FEATURES_REPLY', m.xid)} dpid:${m.datapathId.toString(16).padStart(16, '0')}\n`
        + `n_tables:${m.nTables}, n_buffers:${m.nBuffers}${aux}\ncapabilities: ${caps}\n`;
    }
    case 'packet_out': return formatPacketOut(m);
    case 'hello': return formatHello(m);
    case 'error': return formatError(m);
    case 'port_status': return formatPortStatus(m);
    case 'packet_in': return formatPacketIn(m);
    case 'role_status': return formatRoleStatus(m);
    case 'set_async_config2': return formatAsyncMessage(m);
    case 'set_controller_id': return `${header('NXT_SET_CONTROLLER_ID', m.xid)} id=${m.controllerId}\n`;
    case 'flow_monitor_cancel': return `${header('ONFT_FLOW_MONITOR_CANCEL', m.xid)} id=${m.id}\n`;
    case 'flow_monitor_paused': return `${header('ONFT_FLOW_MONITOR_PAUSED', m.xid)}\n`;
    case 'flow_monitor_resumed': return `${header('ONFT_FLOW_MONITOR_RESUMED', m.xid)}\n`;
    case 'flow_removed': {
      const reason = FLOW_REMOVED_REASONS[m.reason];
      if (reason === undefined) return undefined;
      const match = formatMatch(m.match, m.priority, m.unknownOxm);
      let s = `${header('OFPT_FLOW_REMOVED', m.xid)} ${match ? `${match} ` : ''}reason=${reason} table_id=${m.table}`;
      if (m.cookie !== 0n) s += ` cookie:0x${m.cookie.toString(16)}`;
      s += ` duration${formatDuration(m.durationSec, m.durationNsec)}`;
      if (m.idleTimeout) s += ` idle${m.idleTimeout}`;
      if (m.hardTimeout) s += ` hard${m.hardTimeout}`;
      return `${s} pkts${m.packetCount} bytes${m.byteCount}\n`;
    }
    case 'flow_stats_request': return formatFlowStatsRequestMessage(m.xid, m.flags, m.request);
    case 'port_desc_request': return formatPortDescRequest(m.xid, m.flags);
    case 'port_desc_reply': return formatPortDescReply(m);
    case 'requestforward': return formatRequestForward(m);
    case 'flow_monitor_request': return formatFlowMonitorRequest(m);
    case 'flow_monitor_reply': return formatFlowMonitorReply(m);
    case 'packet_in2': case 'resume': return formatPacketIn2(m);
    case 'experimenter': return formatTlvTable(m);
    default: return isStatsMessage(m) ? formatStatsMessage(m) : undefined;
  }
}
