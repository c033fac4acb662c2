// ofctl-ts dump-aggregate SWITCH [FLOW] — the number of flows matching FLOW (all flows without one) and their packet and byte counts.
// Example: ofctl-ts dump-aggregate br-int table=0,ip
// As `ovs-ofctl -O OpenFlow13 dump-aggregate`: FLOW is a dump-flows filter (match fields, table=,
// out_port=, out_group=, cookie=VALUE/MASK); the OFPST_AGGREGATE reply as ofp-print prints it.
import { OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { flowStatsBody } from '../switch/flow-ops.js';
import { withTimeout } from './common.js';
import { dumpFilter } from './dump-flows.js';
import { withPortNames } from './port-names.js';
import { dumpTransaction, onSwitch, QueryOptions, switchArgument } from './query.js';

/** --names/--no-names (port names in FLOW) and -t/--timeout. */
export type DumpAggregateOptions = QueryOptions;

export async function dumpAggregateCommand(args: readonly string[], opts: DumpAggregateOptions, out: (s: string | Buffer) => void): Promise<number> {
  const sw = switchArgument(args, 'dump-aggregate', 2);
  return withTimeout('dump-aggregate', opts.timeoutS, async () => {
    // The filter is read before the request: a bad one fails with nothing sent, as in ovs-ofctl.
    const filter = args[1] ? await withPortNames(sw, opts.names, () => dumpFilter(args[1]!)) : { table: OFPTT_ALL };
    const request = flowStatsBody(filter);
    return onSwitch(args, 'dump-aggregate', 2, { ...opts, names: false }, async (conn) => {
      await dumpTransaction(conn, { type: 'aggregate_request', flags: 0, request }, 'aggregate_reply', out);
    });
  });
}
