// Running a command: its output, its exit code, its failure message, for
// the flow tool (quick.ts) and the yargs CLI (main.ts) alike.
import { logsWritten } from '../log.js';
import { EXIT_ERROR, EXIT_FAILURE } from './common.js';

// `ofctl-ts dump-flows … | head` closes our stdout early: said and exit 1, as ovs-ofctl (whose
// ovs_cmdl_run_command() checks ferror(stdout) after the command); what is left is not printed.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.stderr.write('ofctl-ts: write to stdout failed\n');
  process.exit(EXIT_FAILURE);
});

/** Writes a line (a string, newline added) or a text (bytes, as they are). */
export const out = (s: string | Buffer): void => {
  if (typeof s !== 'string') {
    if (s.length) process.stdout.write(s);
  } else if (s.length) {
    process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  }
};

/** Commands whose exit code 1 means "different", so failures use 2. */
const DIFF_COMMANDS = new Set(['audit']);

async function fail(err: unknown, command: string, isDiff: boolean): Promise<never> {
  const msg = err instanceof Error ? err.message : String(err);
  // What the command logged on its way to the error comes first, whole (e.g. each rejected line).
  await logsWritten();
  process.stderr.write(`ofctl-ts: ${command}: ${msg}\n`);
  if (err instanceof Error && process.env.OFCTL_TS_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(isDiff ? EXIT_ERROR : EXIT_FAILURE);
}

export async function run(command: string, fn: () => Promise<number>, diff = DIFF_COMMANDS.has(command)): Promise<void> {
  try {
    const code = await fn();
    process.exitCode = code;
  } catch (err) {
    await fail(err, command, diff);
  }
}
