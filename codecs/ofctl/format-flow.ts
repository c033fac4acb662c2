// One flow as a `dump-flows` line (ofputil_flow_stats_format): with stats, or as --no-stats prints it.
import { Flow, FLOW_MOD_FLAG_NAMES, FlowStats } from '../openflow/flow.js';
import { formatInstructions } from './format-actions.js';
import { formatMatch } from './format-match.js';
import { FlowModMessage, OFP_NO_BUFFER, OFPFC_ADD } from '../openflow/messages.js';
import { formatPort, OFPP_NONE } from '../openflow/ports.js';

export interface FormatOptions {
  /** Print cookie, duration, table and counters as plain `dump-flows` does. */
  readonly stats?: boolean;
}

export function formatDuration(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}s`;
  if (nsec % 1_000_000 === 0) return `${sec}.${String(nsec / 1_000_000).padStart(3, '0')}s`;
  return `${sec}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}s`;
}

function isStats(f: Flow): f is FlowStats {
  return (f as FlowStats).packetCount !== undefined;
}

/** `idle_timeout=N, hard_timeout=N, ` and the flag names, as each is set: the part between the counters and the match. */
export function formatTimeoutsAndFlags(idleTimeout: number, hardTimeout: number, flags: number): string {
  let s = '';
  if (idleTimeout) s += `idle_timeout=${idleTimeout}, `;
  if (hardTimeout) s += `hard_timeout=${hardTimeout}, `;
  if (flags) for (const [bit, name] of FLOW_MOD_FLAG_NAMES) if (flags & bit) s += `${name} `;
  return s;
}

/** The first line of a flow stats reply: `OFPST_FLOW reply (OF1.3) (xid=0x…):`, flags=[more] when more follow. */
export function formatFlowStatsReplyHeader(xid: number, flags: number): string {
  return `OFPST_FLOW reply (OF1.3) (xid=0x${xid.toString(16)}):${flags & 1 ? ' flags=[more]' : ''}\n`;
}

/** The flow text without the leading space ovs-ofctl puts before each dumped flow. */
export function formatFlow(f: Flow, opts: FormatOptions = {}): string {
  const stats = opts.stats === true && isStats(f);
  let s = '';
  if (stats || f.cookie !== 0n) s += f.cookie === 0n ? 'cookie=0x0, ' : `cookie=0x${f.cookie.toString(16)}, `;
  if (stats) s += `duration=${formatDuration((f as FlowStats).durationSec, (f as FlowStats).durationNsec)}, `;
  if (stats || f.table !== 0) s += `table=${f.table}, `;
  if (stats) {
    const { packetCount, byteCount } = f as FlowStats;
    s += packetCount === 0n && byteCount === 0n ? 'n_packets=0, n_bytes=0, ' : `n_packets=${packetCount}, n_bytes=${byteCount}, `;
  }
  s += formatTimeoutsAndFlags(f.idleTimeout, f.hardTimeout, f.flags);
  const match = formatMatch(f.match, f.priority, f.unknownOxm);
  if (match) s += `${match} `;
  return `${s}actions=${formatInstructions(f.instructions)}`;
}

const WITH_STATS: FormatOptions = { stats: true };

/** One flow stats reply as `ovs-ofctl -O OpenFlow13 dump-flows` (and ofp-print) prints it. */
export function formatFlowStatsReply(xid: number, flags: number, flows: readonly FlowStats[]): string {
  let s = formatFlowStatsReplyHeader(xid, flags);
  for (const f of flows) s += ` ${formatFlow(f, WITH_STATS)}\n`;
  return s;
}

const COMMAND_NAMES = ['ADD', 'MOD', 'MOD_STRICT', 'DEL', 'DEL_STRICT'] as const;
const OFP_DEFAULT_PRIORITY = 0x8000;

/**
 * A FLOW_MOD as `ovs-ofctl ofp-print` prints it (ofputil_flow_mod_format): the command, the table
 * unless 0, the match with its priority, then cookie, timeouts, buffer, out_port and flags as each is
 * set, and the instructions.
 */
export function formatFlowMod(m: FlowModMessage, xid: number): string {
  let s = `OFPT_FLOW_MOD (OF1.3) (xid=0x${xid.toString(16)}): ${COMMAND_NAMES[m.command]}`;
  if (m.table !== 0) s += ` table:${m.table}`;
  s += ' ';
  const match = formatMatch(m.match, m.priority, m.unknownOxm);
  if (match) s += `${match} `;
  const adds = m.command === OFPFC_ADD;
  if (adds && m.cookie !== 0n) s += `cookie:0x${m.cookie.toString(16)} `;
  // An ADD's cookie is the new flow's; OVS reads no cookie mask in it.
  if (!adds && m.cookieMask !== 0n) s += `cookie:0x${(m.cookie & m.cookieMask).toString(16)}/0x${m.cookieMask.toString(16)} `;
  if (m.idleTimeout) s += `idle:${m.idleTimeout} `;
  if (m.hardTimeout) s += `hard:${m.hardTimeout} `;
  if (m.priority !== OFP_DEFAULT_PRIORITY && !s.includes('priority')) s += `pri:${m.priority} `;
  if (m.bufferId !== OFP_NO_BUFFER) s += `buf:0x${m.bufferId.toString(16)} `;
  if (m.outPort !== OFPP_NONE) s += `out_port:${formatPort(m.outPort)} `;
  if (m.flags) for (const [bit, name] of FLOW_MOD_FLAG_NAMES) if (m.flags & bit) s += `${name} `;
  return `${s}actions=${formatInstructions(m.instructions)}\n`;
}
