// Running a command: its output, its exit code, its failure message; and the flow commands'
// handlers, taken by the yargs CLI (main.ts) and by the quick dispatch (quick.ts) alike.
import { EXIT_ERROR, EXIT_FAILURE } from './common.js';

// `ofctl-ts dump-flows … | head` closes our stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
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
const DIFF_COMMANDS = new Set(['diff-flows', 'audit']);

function fail(err: unknown, command: string, isDiff: boolean): never {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ofctl-ts: ${command}: ${msg}\n`);
  if (err instanceof Error && process.env.OFCTL_TS_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(isDiff ? EXIT_ERROR : EXIT_FAILURE);
}

export async function run(command: string, fn: () => Promise<number>, diff = DIFF_COMMANDS.has(command)): Promise<void> {
  try {
    const code = await fn();
    process.exitCode = code;
  } catch (err) {
    fail(err, command, diff);
  }
}

/** The arguments of the flow commands, as the CLI parsed them. */
export interface FlowArgs {
  'dump-flows': { target: string; match?: string | undefined; stats: boolean; diff?: string | undefined };
  'add-flow': { target: string; flow: string };
  'add-flows': { target: string; file: string; bundle: boolean };
  'del-flows': { target: string; match?: string | undefined; strict: boolean };
  'diff-flows': { a: string; b: string };
  'replace-flows': { target: string; file: string };
}

export const flowCommands: { [C in keyof FlowArgs]: (a: FlowArgs[C]) => Promise<void> } = {
  'dump-flows': (a) => run('dump-flows', async () => (await import('./dump-flows.js')).dumpFlowsCommand({ target: a.target, stats: a.stats, ...(a.match ? { match: a.match } : {}), ...(a.diff !== undefined ? { diff: a.diff } : {}) }, out), a.diff !== undefined),
  'add-flow': (a) => run('add-flow', async () => (await import('./add-flows.js')).addFlowCommand(a.target, a.flow)),
  'add-flows': (a) => run('add-flows', async () => (await import('./add-flows.js')).addFlowsCommand(a.target, a.file, a.bundle)),
  'del-flows': (a) => run('del-flows', async () => (await import('./del-flows.js')).delFlowsCommand(a.target, a.match, a.strict)),
  'diff-flows': (a) => run('diff-flows', async () => (await import('./diff-flows.js')).diffFlowsCommand(a.a, a.b, out)),
  'replace-flows': (a) => run('replace-flows', async () => (await import('./replace-flows.js')).replaceFlowsCommand(a.target, a.file, out)),
};
