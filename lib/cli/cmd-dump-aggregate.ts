// ofctl-ts dump-aggregate SWITCH [FLOW] — the number of flows matching FLOW (all flows without one) and their packet and byte counts.
// Example: ofctl-ts dump-aggregate br-int table=0,ip
// As `ovs-ofctl -O OpenFlow13 dump-aggregate`: FLOW is a dump-flows filter (match fields, table=,
// out_port=, out_group=, cookie=VALUE/MASK); the OFPST_AGGREGATE reply as ofp-print prints it.
import { OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { flowStatsBody } from '../switch/flow-ops.js';
import { withTarget } from './common.js';
import { dumpFilter } from './dump-flows.js';
import { dumpTransaction, switchArgument } from './query.js';

/** No option changes what it does. */
export type DumpAggregateOptions = object;

export async function dumpAggregateCommand(args: readonly string[], _opts: DumpAggregateOptions, out: (s: string | Buffer) => void): Promise<number> {
  const sw = switchArgument(args, 'dump-aggregate', 2);
  // The filter is read before connecting: a bad one fails with nothing sent, as in ovs-ofctl.
  const request = flowStatsBody(args[1] ? await dumpFilter(args[1]) : { table: OFPTT_ALL });
  return withTarget(sw, async (conn) => {
    await dumpTransaction(conn, { type: 'aggregate_request', flags: 0, request }, 'aggregate_reply', out);
    return 0;
  });
}
