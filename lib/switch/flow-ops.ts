// Flow-table operations on one session: dump (multipart, reassembled), and atomic changes.
import type { FlowStats } from '../../codecs/openflow/flow.js';
import { Match } from '../../codecs/openflow/match.js';
import { FlowMod, OfMessage, OFPTT_ALL, OFPG_ANY } from '../../codecs/openflow/messages.js';
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import type { OfConnection } from './connection.js';

export interface DumpFilter {
  readonly table?: number;
  readonly match?: Match;
  readonly cookie?: bigint;
  readonly cookieMask?: bigint;
  readonly outPort?: number;
}

export type FlowStatsReply = Extract<OfMessage, { type: 'flow_stats_reply' }>;

/** The flow stats replies of one dump, as the switch split them. */
export async function dumpFlowReplies(conn: OfConnection, filter: DumpFilter = {}): Promise<FlowStatsReply[]> {
  const replies = await conn.request({
    type: 'flow_stats_request',
    flags: 0,
    request: {
      table: filter.table ?? OFPTT_ALL, outPort: filter.outPort ?? OFPP_NONE, outGroup: OFPG_ANY,
      cookie: filter.cookie ?? 0n, cookieMask: filter.cookieMask ?? 0n, match: filter.match ?? new Map(),
    },
  });
  return replies.map((r) => {
    if (r.type !== 'flow_stats_reply') throw new Error(`${conn.peer}: unexpected ${r.type} in a flow stats reply`);
    return r;
  });
}

export async function dumpFlows(conn: OfConnection, filter: DumpFilter = {}): Promise<FlowStats[]> {
  return (await dumpFlowReplies(conn, filter)).flatMap((r) => r.flows);
}

/** Applies flow-mods in one atomic bundle (nothing applied if any fails), or one by one + barrier. */
export async function applyFlowMods(conn: OfConnection, mods: readonly FlowMod[], atomic = true): Promise<void> {
  if (mods.length === 0) return;
  if (atomic) {
    await conn.bundle(mods.map((m) => ({ type: 'flow_mod' as const, ...m })));
    return;
  }
  await conn.sendMany(mods.map((m) => ({ type: 'flow_mod' as const, ...m })));
  await conn.barrier();
}
