// The ofctl-ts binary: parses arguments and dispatches to one command module per command.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { FlowSyntaxError } from '../../codecs/ofctl/parse-flow.js';
import { FlowFileError } from '../flowset/flow-file.js';
import { OpenFlowError } from '../switch/errors.js';
import { SessionClosedError } from '../switch/connection.js';
import { TargetError } from '../switch/target.js';
import { addFlowCommand, addFlowsCommand } from './add-flows.js';
import { EXIT_ERROR, EXIT_FAILURE } from './common.js';
import { delFlowsCommand } from './del-flows.js';
import { diffFlowsCommand } from './diff-flows.js';
import { dumpFlowsCommand } from './dump-flows.js';
import { replaceFlowsCommand } from './replace-flows.js';

const out = (s: string): void => {
  if (s.length) process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};

/** Commands whose exit code 1 means "different", so failures use 2. */
const DIFF_COMMANDS = new Set(['diff-flows']);

function fail(err: unknown, command: string, isDiff: boolean): never {
  const known = err instanceof FlowSyntaxError || err instanceof FlowFileError || err instanceof OpenFlowError
    || err instanceof TargetError || err instanceof SessionClosedError;
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ofctl-ts: ${command}: ${msg}\n`);
  if (!known && err instanceof Error && process.env.OFCTL_TS_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(isDiff ? EXIT_ERROR : EXIT_FAILURE);
}

async function run(command: string, fn: () => Promise<number>, diff = DIFF_COMMANDS.has(command)): Promise<void> {
  try {
    const code = await fn();
    process.exitCode = code;
  } catch (err) {
    fail(err, command, diff);
  }
}

await yargs(hideBin(process.argv))
  .scriptName('ofctl-ts')
  .usage('$0 <command> [args]\n\nTARGET is tcp:IP:PORT, unix:PATH, or a bridge name (its mgmt socket in $OVS_RUNDIR).')
  .command('dump-flows <target> [match]', 'print the flows of a switch, as ovs-ofctl -O OpenFlow13 prints them',
    (y) => y
      .positional('target', { type: 'string', demandOption: true })
      .positional('match', { type: 'string', describe: 'only flows matching this (ovs-ofctl syntax)' })
      .option('stats', { type: 'boolean', default: true, describe: 'print cookie, duration and counters (--no-stats to omit)' })
      .option('names', { type: 'boolean', default: false, describe: 'accepted for ovs-ofctl compatibility; ports print as numbers' })
      .option('diff', { type: 'string', describe: 'compare with a golden flow file; exit 1 if different' }),
    (a) => run('dump-flows', () => dumpFlowsCommand({ target: a.target, stats: a.stats, ...(a.match ? { match: a.match } : {}), ...(a.diff ? { diff: a.diff } : {}) }, out), a.diff !== undefined))
  .command('add-flow <target> <flow>', 'add one flow', (y) => y
    .positional('target', { type: 'string', demandOption: true })
    .positional('flow', { type: 'string', demandOption: true }),
  (a) => run('add-flow', () => addFlowCommand(a.target, a.flow)))
  .command('add-flows <target> <file>', 'add the flows of FILE (- = stdin) in one atomic bundle', (y) => y
    .positional('target', { type: 'string', demandOption: true })
    .positional('file', { type: 'string', demandOption: true })
    .option('bundle', { type: 'boolean', default: true, describe: 'one atomic bundle (--no-bundle: plain flow-mods and one barrier)' }),
  (a) => run('add-flows', () => addFlowsCommand(a.target, a.file, a.bundle)))
  .command('del-flows <target> [match]', 'delete flows (all, or those matching)', (y) => y
    .positional('target', { type: 'string', demandOption: true })
    .positional('match', { type: 'string' })
    .option('strict', { type: 'boolean', default: false }),
  (a) => run('del-flows', () => delFlowsCommand(a.target, a.match, a.strict)))
  .command('diff-flows <a> <b>', 'compare two flow sets (each a target or a file); exit 0 equal, 1 different, 2 error', (y) => y
    .positional('a', { type: 'string', demandOption: true })
    .positional('b', { type: 'string', demandOption: true }),
  (a) => run('diff-flows', () => diffFlowsCommand(a.a, a.b, out)))
  .command('replace-flows <target> <file>', 'make the switch hold exactly FILE, with a minimal atomic diff', (y) => y
    .positional('target', { type: 'string', demandOption: true })
    .positional('file', { type: 'string', demandOption: true }),
  (a) => run('replace-flows', () => replaceFlowsCommand(a.target, a.file, out)))
  .demandCommand(1, 'name a command')
  .strict()
  .help()
  .parseAsync();
