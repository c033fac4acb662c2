// ofctl-ts dump-flows TARGET [MATCH] [--no-stats] [--diff FILE]
import { formatFlow, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { asSwitchHolds, diffFlows, formatDiff, isEmptyDiff } from '../flowset/flowset.js';
import { readFlowFile } from '../flowset/flow-file.js';
import { dumpFlowReplies, streamFlowReplies } from '../switch/flow-ops.js';
import { EXIT_DIFFERENT, EXIT_OK, withTarget } from './common.js';

export interface DumpFlowsArgs {
  readonly target: string;
  readonly match?: string;
  readonly stats: boolean;
  readonly diff?: string;
}

export async function dumpFlowsCommand(a: DumpFlowsArgs, out: (s: string) => void): Promise<number> {
  const filter = a.match ? parseFlow(a.match, { mode: 'match' }) : undefined;
  const want = a.diff ? readFlowFile(a.diff).map((f) => asSwitchHolds(f.flow)) : undefined;
  return withTarget(a.target, async (conn) => {
    const dumpFilter = filter ? {
      table: filter.table === 0xff ? OFPTT_ALL : filter.table, match: filter.match, cookie: filter.cookie,
      cookieMask: filter.cookieMask, outPort: filter.outPort,
    } : {};
    if (want) {
      const d = diffFlows(want, (await dumpFlowReplies(conn, dumpFilter)).flatMap((r) => r.flows));
      for (const l of formatDiff(d)) out(l);
      return isEmptyDiff(d) ? EXIT_OK : EXIT_DIFFERENT;
    }
    // Same text as `ovs-ofctl -O OpenFlow13 --no-names dump-flows [--no-stats]`, written reply by
    // reply as the switch sends them.
    await streamFlowReplies(conn, dumpFilter, (r) => {
      if (a.stats) out(formatFlowStatsReply(r.xid, r.flags, r.flows));
      else if (r.flows.length) out(r.flows.map((f) => ` ${formatFlow(f)}\n`).join(''));
    });
    return EXIT_OK;
  });
}
