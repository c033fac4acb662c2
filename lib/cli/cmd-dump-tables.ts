// ofctl-ts dump-tables SWITCH — each table's active flows, lookups and matches.
// Example: ofctl-ts dump-tables br-int
// As `ovs-ofctl -O OpenFlow13 dump-tables`: one OFPST_TABLE request (ovs-ofctl 3.1 sends no table
// features request for it), each reply part as ofp-print prints it (runs of equal tables as "ditto").
import { dumpTransaction, onSwitch, QueryOptions } from './query.js';

/** -t/--timeout only changes what it does. */
export type DumpTablesOptions = Pick<QueryOptions, 'timeoutS'>;

export async function dumpTablesCommand(args: readonly string[], opts: DumpTablesOptions, out: (s: string | Buffer) => void): Promise<number> {
  return onSwitch(args, 'dump-tables', 1, { ...opts, names: false }, async (conn) => {
    await dumpTransaction(conn, { type: 'table_stats_request', flags: 0 }, 'table_stats_reply', out);
  });
}
