// ofp-print's text for the port description reply and vendor-messages.ts's messages: request
// forward, flow monitor requests and replies (ofp-print.c, ofp-monitor.c of OVS 3.1).
import { MessageOf, PortDesc } from '../openflow/messages.js';
import { formatPort, OFPP_NONE } from '../openflow/ports.js';
import { FLOW_MONITOR_FLAGS, NXFME_ABBREV, NXFME_DELETED } from '../openflow/vendor-messages.js';
import { formatInstructions } from './format-actions.js';
import { formatPhyPort } from './format-async.js';
import { formatMatch } from './format-match.js';
import { header } from './format-message.js';
import { formatStatsMessage, mpFlags } from './format-stats.js';

const OFP_DEFAULT_PRIORITY = 0x8000;

/** OVS sorts the ports by number before printing them. */
export function formatPortDescReply(m: MessageOf<'port_desc_reply'>): string {
  const ports = [...m.ports].sort((a: PortDesc, b: PortDesc) => (a.portNo & 0xffff) - (b.portNo & 0xffff));
  return `${header('OFPST_PORT_DESC reply', m.xid)}${mpFlags(m.flags)}\n${ports.map(formatPhyPort).join('')}`;
}

/** The forwarded group or meter mod as its own message prints it, after the reason. */
export function formatRequestForward(m: MessageOf<'requestforward'>): string | undefined {
  const f = m.forwarded;
  const inner = formatStatsMessage(f);
  const name = f.type === 'group_mod' ? 'OFPT_GROUP_MOD' : 'OFPT_METER_MOD';
  if (inner === undefined) return undefined;
  const reason = f.type === 'group_mod' ? 'group_mod' : 'meter_mod';
  return `${header('ONFT_REQUESTFORWARD', m.xid)} reason=${reason}${inner.slice(header(name, f.xid).length)}`;
}

/** " MATCH", or nothing for a match of no field. */
function spacedMatch(text: string): string {
  return text ? ` ${text}` : '';
}

export function formatFlowMonitorRequest(m: MessageOf<'flow_monitor_request'>): string {
  let s = `${header('ONFST_FLOW_MONITOR request', m.xid)}${mpFlags(m.flags)}`;
  for (const q of m.monitors) {
    s += `\n id=${q.id} flags=${FLOW_MONITOR_FLAGS.filter((_, i) => q.flags & (1 << i)).join(',')}`;
    if (q.outPort !== OFPP_NONE) s += ` out_port=${formatPort(q.outPort)}`;
    if (q.table !== 0xff) s += ` table=${q.table}`;
    s += spacedMatch(formatMatch(q.match, OFP_DEFAULT_PRIORITY));
  }
  return `${s}\n`;
}

const EVENTS = ['ADDED', 'DELETED', 'MODIFIED', 'ABBREV'] as const;
const FLOW_REMOVED_REASONS = ['idle', 'hard', 'delete', 'group_delete', 'meter_delete', 'eviction'] as const;

export function formatFlowMonitorReply(m: MessageOf<'flow_monitor_reply'>): string {
  let s = `${header('ONFST_FLOW_MONITOR reply', m.xid)}${mpFlags(m.flags)}`;
  for (const u of m.updates) {
    s += `\n event=${EVENTS[u.event]}`;
    if (u.event === NXFME_ABBREV) {
      s += ` xid=0x${u.xid.toString(16)}`;
      continue;
    }
    if (u.event === NXFME_DELETED) s += ` reason=${FLOW_REMOVED_REASONS[u.reason] ?? u.reason}`;
    s += ` table=${u.table}`;
    if (u.idleTimeout) s += ` idle_timeout=${u.idleTimeout}`;
    if (u.hardTimeout) s += ` hard_timeout=${u.hardTimeout}`;
    s += ` cookie=${u.cookie ? `0x${u.cookie.toString(16)}` : '0'}`;
    s += spacedMatch(formatMatch(u.match, OFP_DEFAULT_PRIORITY));
    // OVS prints the actions when there are any: an update without them reads as "drop" here.
    const actions = formatInstructions(u.instructions);
    if (actions !== 'drop') s += ` actions=${actions}`;
  }
  return `${s}\n`;
}
