// The read commands by name, for the runner and the tests until the CLI's command table has them.
import { dumpAggregateCommand } from '../lib/cli/cmd-dump-aggregate.js';
import { dumpDescCommand } from '../lib/cli/cmd-dump-desc.js';
import { dumpPortsCommand } from '../lib/cli/cmd-dump-ports.js';
import { dumpPortsDescCommand } from '../lib/cli/cmd-dump-ports-desc.js';
import { dumpTableFeaturesCommand } from '../lib/cli/cmd-dump-table-features.js';
import { dumpTablesCommand } from '../lib/cli/cmd-dump-tables.js';
import { queueStatsCommand } from '../lib/cli/cmd-queue-stats.js';
import { showCommand } from '../lib/cli/cmd-show.js';
import type { QueryOptions } from '../lib/cli/query.js';

export type QueryCommand = (args: readonly string[], opts: QueryOptions, out: (s: string | Buffer) => void) => Promise<number>;

export const QUERY_COMMANDS: Readonly<Record<string, QueryCommand>> = {
  'show': showCommand,
  'dump-desc': dumpDescCommand,
  'dump-ports': dumpPortsCommand,
  'dump-ports-desc': dumpPortsDescCommand,
  'dump-tables': dumpTablesCommand,
  'dump-table-features': dumpTableFeaturesCommand,
  'dump-aggregate': dumpAggregateCommand,
  'queue-stats': queueStatsCommand,
};
