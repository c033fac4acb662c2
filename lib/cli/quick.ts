// The common command lines without yargs: loading yargs, declaring every command and parsing
// (yargs also renders the whole help text after each command, to cache it) costs more than a
// command on a small bridge itself. A line is taken here only when it is plainly well formed: a
// flow command, its positionals (none empty, none starting with `-` but `-` itself, none quoted,
// which yargs would unquote) and its boolean options, each at most once. Anything else (--help,
// TLS options, --diff, a typo, a missing argument…) goes to the yargs CLI (main.ts), which
// parses it, and words its errors, as before.
import { startEarlyDump } from './early-dump.js';
import type { FlowArgs } from './run.js';

interface Spec {
  readonly positionals: readonly string[];
  /** How many of the positionals are required (the rest are optional). */
  readonly required: number;
  /** Boolean options and their defaults (`--x` true, `--no-x` false). */
  readonly flags: Readonly<Record<string, boolean>>;
}

/** As main.ts declares these commands to yargs. */
const SPECS: { readonly [C in keyof FlowArgs]: Spec } = {
  'dump-flows': { positionals: ['target', 'match'], required: 1, flags: { stats: true, names: false } },
  'add-flow': { positionals: ['target', 'flow'], required: 2, flags: {} },
  'add-flows': { positionals: ['target', 'file'], required: 2, flags: { bundle: true } },
  'del-flows': { positionals: ['target', 'match'], required: 1, flags: { strict: false } },
  'diff-flows': { positionals: ['a', 'b'], required: 2, flags: {} },
  'replace-flows': { positionals: ['target', 'file'], required: 2, flags: {} },
};

const isCommand = (c: string | undefined): c is keyof FlowArgs => c !== undefined && Object.hasOwn(SPECS, c);

/** The parsed arguments when argv is such a plain command line, else undefined (yargs parses it). */
export function quickParse(argv: readonly string[]): { command: keyof FlowArgs; args: Record<string, string | boolean> } | undefined {
  const [command, ...rest] = argv;
  if (!isCommand(command)) return undefined;
  const spec = SPECS[command];
  const args: Record<string, string | boolean> = { ...spec.flags };
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (const a of rest) {
    if (a.startsWith('--')) {
      const negated = a.startsWith('--no-');
      const name = a.slice(negated ? 5 : 2);
      if (!Object.hasOwn(spec.flags, name) || seen.has(name)) return undefined;
      seen.add(name);
      args[name] = !negated;
    } else if (a === '' || (a.startsWith('-') && a !== '-') || /^(["']).*\1$/s.test(a)) {
      return undefined;
    } else {
      positionals.push(a);
    }
  }
  if (positionals.length < spec.required || positionals.length > spec.positionals.length) return undefined;
  positionals.forEach((p, i) => { args[spec.positionals[i]!] = p; });
  return { command, args };
}

/**
 * Runs a plain command line (see quickParse), a plain dump-flows sending its request first
 * (early-dump.ts); false when it is not one (the caller runs the yargs CLI, main.ts).
 */
export function runQuick(argv: readonly string[]): boolean {
  const q = quickParse(argv);
  if (!q) return false;
  startEarlyDump(argv);
  void import('./run.js').then(({ flowCommands }) => (flowCommands[q.command] as (a: object) => Promise<void>)(q.args));
  return true;
}
