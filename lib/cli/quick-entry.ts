// Entry of the flow commands' bundle (scripts/bundle-cli.ts): runs this process's command line if
// it is a plain flow command (quick.ts). `handled` false: the caller runs the yargs CLI.
import { runQuick } from './quick.js';

export { ranCommand } from './quick.js';

export const handled = runQuick(process.argv.slice(2));
