// Flow-table operations on one session: dump (multipart, reassembled), and atomic changes.
import type { FlowStats } from '../../codecs/openflow/flow.js';
import { Match } from '../../codecs/openflow/match.js';
import { FlowModMessage, FlowStatsRequest, OfMessage, OFPTT_ALL, OFPG_ANY } from '../../codecs/openflow/messages.js';
import { OpenFlowError } from './errors.js';
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import type { OfConnection, Outgoing, RawPartConsumer } from './connection.js';

export interface DumpFilter {
  readonly table?: number;
  readonly match?: Match;
  readonly cookie?: bigint;
  readonly cookieMask?: bigint;
  readonly outPort?: number;
  readonly outGroup?: number;
}

export type FlowStatsReply = Extract<OfMessage, { type: 'flow_stats_reply' }>;

/** The body of a flow or aggregate stats request: what the filter leaves out matches everything. */
export function flowStatsBody(filter: DumpFilter): FlowStatsRequest {
  return {
    table: filter.table ?? OFPTT_ALL, outPort: filter.outPort ?? OFPP_NONE, outGroup: filter.outGroup ?? OFPG_ANY,
    cookie: filter.cookie ?? 0n, cookieMask: filter.cookieMask ?? 0n, match: filter.match ?? new Map(),
  };
}

function flowStatsRequest(filter: DumpFilter): Outgoing {
  return { type: 'flow_stats_request', flags: 0, request: flowStatsBody(filter) };
}

export function asFlowStatsReply(conn: OfConnection, r: OfMessage): FlowStatsReply {
  if (r.type !== 'flow_stats_reply') throw new Error(`${conn.peer}: unexpected ${r.type} in a flow stats reply`);
  return r;
}

/** The flow stats replies of one dump, as the switch split them. */
export async function dumpFlowReplies(conn: OfConnection, filter: DumpFilter = {}): Promise<FlowStatsReply[]> {
  return (await conn.request(flowStatsRequest(filter))).map((r) => asFlowStatsReply(conn, r));
}

/**
 * Streams a dump: each reply goes to onReply as it arrives and is not kept. With onRawReply, each
 * reply's bytes are offered to it first (RawPartConsumer); the replies it declines are decoded.
 */
export async function streamFlowReplies(
  conn: OfConnection, filter: DumpFilter, onReply: (r: FlowStatsReply) => void, onRawReply?: RawPartConsumer,
): Promise<void> {
  await conn.request(flowStatsRequest(filter), (r) => onReply(asFlowStatsReply(conn, r)), onRawReply);
}

export async function dumpFlows(conn: OfConnection, filter: DumpFilter = {}): Promise<FlowStats[]> {
  return (await dumpFlowReplies(conn, filter)).flatMap((r) => r.flows);
}

/**
 * Applies flow-mods in one atomic bundle (nothing applied if any fails), or one by one and a
 * barrier (then every refused flow is reported). `mods` may be lazy: it is consumed while sending.
 */
export async function applyFlowMods(conn: OfConnection, mods: Iterable<FlowModMessage>, atomic = true): Promise<void> {
  if (atomic) {
    await conn.bundle(mods);
    return;
  }
  const failures = await conn.sendConfirmed(mods);
  if (failures.length) throw new OpenFlowError(`switch refused: ${failures.map((f) => `flow-mod ${f.index + 1}: ${f.reason}`).join('; ')}`);
}
