// One flow as a `dump-flows` line (ofputil_flow_stats_format): with stats, or as --no-stats prints it.
import { Flow, FLOW_MOD_FLAG_NAMES, FlowStats } from '../openflow/flow.js';
import { formatInstructions } from './format-actions.js';
import { formatMatch } from './format-match.js';

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
