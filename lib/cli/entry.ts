// What bin/ofctl-ts.js runs: the entry of the bundled CLI (scripts/bundle-cli.ts), and of the
// unbundled one when no bundle was built. A plain dump-flows sends its request first
// (early-dump.ts); a plain flow command runs without yargs (quick.ts); the rest goes to yargs.
import { startEarlyDump } from './early-dump.js';
import { runQuick } from './quick.js';

const argv = process.argv.slice(2);
startEarlyDump(argv);
if (!runQuick(argv)) void import('./main.js');
