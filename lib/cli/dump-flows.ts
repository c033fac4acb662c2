// ofctl-ts dump-flows TARGET [MATCH] [--no-stats] [--diff FILE]
import { formatFlow, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { asSwitchHolds, diffFlows, formatDiff, isEmptyDiff } from '../flowset/flowset.js';
import { readFlowFile } from '../flowset/flow-file.js';
import { dumpFlowReplies } from '../switch/flow-ops.js';
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
    const replies = await dumpFlowReplies(conn, filter ? {
      table: filter.table === 0xff ? OFPTT_ALL : filter.table, match: filter.match, cookie: filter.cookie,
      cookieMask: filter.cookieMask, outPort: filter.outPort,
    } : {});
    const flows = replies.flatMap((r) => r.flows);
    if (want) {
      const d = diffFlows(want, flows);
      for (const l of formatDiff(d)) out(l);
      return isEmptyDiff(d) ? EXIT_OK : EXIT_DIFFERENT;
    }
    // Same text as `ovs-ofctl -O OpenFlow13 --no-names dump-flows [--no-stats]`.
    if (a.stats) {
      out(replies.map((r) => formatFlowStatsReply(r.xid, r.flows)).join(''));
    } else {
      out(flows.map((f) => ` ${formatFlow(f)}`).join('\n'));
    }
    return EXIT_OK;
  });
}
