// ofctl-ts dump-tables SWITCH — each table's active flows, lookups and matches.
// Example: ofctl-ts dump-tables br-int
// As `ovs-ofctl -O OpenFlow13 dump-tables`: one OFPST_TABLE request (ovs-ofctl 3.1 sends no table
// features request for it), each reply part as ofp-print prints it (runs of equal tables as "ditto").
import { withTarget } from './common.js';
import { dumpTransaction, switchArgument } from './query.js';

/** No option changes what it does. */
export type DumpTablesOptions = object;

export async function dumpTablesCommand(args: readonly string[], _opts: DumpTablesOptions, out: (s: string | Buffer) => void): Promise<number> {
  return withTarget(switchArgument(args, 'dump-tables', 1), async (conn) => {
    await dumpTransaction(conn, { type: 'table_stats_request', flags: 0 }, 'table_stats_reply', out);
    return 0;
  });
}
