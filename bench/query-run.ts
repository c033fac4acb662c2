// Runs one read command module as the CLI will once it is wired into the command table:
//   node dist/bench/query-run.js CMD SWITCH [ARGS…] [--no-names]
// prints what it prints, "ofctl-ts: CMD: MESSAGE" on a failure, and exits with its code.
// bench/query.ts times it beside ovs-ofctl.
import { QUERY_COMMANDS } from './query-commands.js';

const argv = process.argv.slice(2);
const names = argv.includes('--no-names') ? false : argv.includes('--names') ? true : undefined;
const [cmd, ...args] = argv.filter((a) => a !== '--names' && a !== '--no-names');
const run = cmd === undefined ? undefined : QUERY_COMMANDS[cmd];
if (!run) {
  process.stderr.write(`usage: query-run.js ${Object.keys(QUERY_COMMANDS).join('|')} SWITCH [ARGS…]\n`);
  process.exit(2);
}
const out = (s: string | Buffer): void => void process.stdout.write(s);
run(args, names === undefined ? {} : { names }, out).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`ofctl-ts: ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
