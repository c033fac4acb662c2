// ofctl-ts dump-table-features SWITCH — what each table can match, which instructions and actions it takes, its size.
// Example: ofctl-ts dump-table-features br-int
// As `ovs-ofctl -O OpenFlow13 dump-table-features`: all reply parts are read, then the tables are
// printed as one list (no message header; a table like the one before it is a "ditto", across
// parts too), as ovs-ofctl prints them. A switch error is printed as ofp-print prints it.
import { featuresView, formatTables } from '../../codecs/ofctl/format-table-features.js';
import { OpenFlowError } from '../switch/errors.js';
import { allParts, onSwitch, printed, QueryOptions } from './query.js';

/** -t/--timeout only changes what it does. */
export type DumpTableFeaturesOptions = Pick<QueryOptions, 'timeoutS'>;

export async function dumpTableFeaturesCommand(args: readonly string[], opts: DumpTableFeaturesOptions, out: (s: string | Buffer) => void): Promise<number> {
  return onSwitch(args, 'dump-table-features', 1, { ...opts, names: false }, async (conn) => {
    try {
      const parts = await allParts(conn, { type: 'table_features_request', flags: 0, tables: [] }, 'table_features_reply');
      out(tableFeaturesText(parts.flatMap((p) => p.tables.map(featuresView))));
    } catch (err) {
      if (!(err instanceof OpenFlowError) || err.reply === undefined) throw err;
      out(printed(err.reply));
    }
  });
}

/** ovs-ofctl's text of the tables: formatTables' lines without its first newline, and a blank line at the end. */
function tableFeaturesText(views: Parameters<typeof formatTables>[0]): string {
  const s = formatTables(views);
  return `${s.startsWith('\n') ? s.slice(1) : s}\n`;
}
