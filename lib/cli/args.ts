// The flow tool's command line, read as ovs-ofctl reads its own (getopt_long): options anywhere on
// the line (permuted), `--` ends them, a long option may be shortened to any unique prefix, short
// ones cluster (-vO OpenFlow13) and take their value attached or as the next word. Errors are
// glibc's and ovs-ofctl's words. No dependency: this runs before every flow command.

/** A failure of the command line: printed as `ofctl-ts: MESSAGE`, exit 1 (ovs-ofctl's ovs_fatal). */
export class ArgError extends Error {}

export interface SortKey {
  /** A match field's name; undefined: the priority. */
  readonly field?: string;
  readonly descending: boolean;
}

/** Every option of the flow tool, as parsed; each command reads the ones it uses. */
export interface FlowOptions {
  strict: boolean;
  /** --stats (default) / --no-stats. */
  stats: boolean;
  /** --names / --no-names; undefined: not given (ovs-ofctl then prints names on a terminal). */
  names?: boolean;
  /** --sort[=FIELD] / --rsort[=FIELD], in the order given. */
  sort: SortKey[];
  /** -t/--timeout: seconds for the whole command. */
  timeoutS?: number;
  timestamp: boolean;
  /** --bundle / --no-bundle (ours); undefined: the command's default (atomic). */
  bundle?: boolean;
  readOnly: boolean;
  /** -m/--more, counted: ofp-print/ofp-parse verbosity. */
  more: number;
  /** --raw: ofp-print - reads binary. */
  raw: boolean;
  /** mod-group --may-create: add the group when it does not exist. */
  mayCreate: boolean;
  /** Ours: dump-flows --diff FILE. */
  diff?: string;
  /** -v/--verbose[=SPEC]: debug logging on stderr. */
  verbose: boolean;
  help: boolean;
  /** -o/--option: list the options (ovs-ofctl's ovs_cmdl_print_options). */
  listOptions: boolean;
  version: boolean;
  privateKey?: string;
  certificate?: string;
  caCert?: string;
}

export interface ParsedArgs {
  /** The command and its arguments, options removed. */
  readonly words: string[];
  readonly opts: FlowOptions;
}

type ArgKind = 'none' | 'required' | 'optional';
interface OptionSpec {
  readonly long: string;
  readonly short?: string;
  readonly arg: ArgKind;
  readonly set: (o: FlowOptions, value: string | undefined) => void;
}

/** ovs-ofctl's OpenFlow version names (ofputil_version_from_string: any case). */
const VERSION_NAMES = ['openflow10', 'openflow11', 'openflow12', 'openflow13', 'openflow14', 'openflow15'];

/** -O LIST: ovs-ofctl's words for an unknown version; a list without OpenFlow13 is one we cannot speak. */
function checkProtocols(list: string): void {
  const names = list.split(/[\s,]+/).filter(Boolean);
  for (const n of names) if (!VERSION_NAMES.includes(n.toLowerCase())) throw new ArgError(`Unknown OpenFlow version: "${n}"`);
  // An empty list is ovs-ofctl's default set, which includes 1.3.
  if (names.length && !names.some((n) => n.toLowerCase() === 'openflow13')) {
    throw new ArgError(`-O ${list}: ofctl-ts speaks OpenFlow13 only (a list must include it)`);
  }
}

/** -t SECS as ovs-ofctl takes it (str_to_uint, base 10, at least 1). */
function timeoutOf(v: string): number {
  const n = /^\s*\+?\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 0xffffffff)) throw new ArgError(`value ${v} on -t or --timeout is invalid`);
  return n;
}

const sortKey = (descending: boolean) => (o: FlowOptions, v: string | undefined): void => {
  o.sort.push(v === undefined ? { descending } : { field: v, descending });
};

/** In ovs-ofctl's order where it has them (an ambiguous prefix lists its candidates in this order). */
const OPTIONS: readonly OptionSpec[] = [
  { long: 'timeout', short: 't', arg: 'required', set: (o, v) => { o.timeoutS = timeoutOf(v!); } },
  { long: 'strict', arg: 'none', set: (o) => { o.strict = true; } },
  { long: 'timestamp', arg: 'none', set: (o) => { o.timestamp = true; } },
  { long: 'sort', arg: 'optional', set: sortKey(false) },
  { long: 'rsort', arg: 'optional', set: sortKey(true) },
  { long: 'help', short: 'h', arg: 'none', set: (o) => { o.help = true; } },
  { long: 'option', short: 'o', arg: 'none', set: (o) => { o.listOptions = true; } },
  { long: 'bundle', arg: 'none', set: (o) => { o.bundle = true; } },
  { long: 'read-only', arg: 'none', set: (o) => { o.readOnly = true; } },
  { long: 'may-create', arg: 'none', set: (o) => { o.mayCreate = true; } },
  { long: 'more', short: 'm', arg: 'none', set: (o) => { o.more++; } },
  { long: 'raw', arg: 'none', set: (o) => { o.raw = true; } },
  { long: 'version', short: 'V', arg: 'none', set: (o) => { o.version = true; } },
  { long: 'protocols', short: 'O', arg: 'required', set: (_o, v) => checkProtocols(v!) },
  { long: 'verbose', short: 'v', arg: 'optional', set: (o) => { o.verbose = true; } },
  { long: 'private-key', short: 'p', arg: 'required', set: (o, v) => { o.privateKey = v!; } },
  { long: 'certificate', short: 'c', arg: 'required', set: (o, v) => { o.certificate = v!; } },
  { long: 'ca-cert', short: 'C', arg: 'required', set: (o, v) => { o.caCert = v!; } },
  { long: 'names', arg: 'none', set: (o) => { o.names = true; } },
  { long: 'no-names', arg: 'none', set: (o) => { o.names = false; } },
  { long: 'stats', arg: 'none', set: (o) => { o.stats = true; } },
  { long: 'no-stats', arg: 'none', set: (o) => { o.stats = false; } },
  // Ours: add-flows without a bundle, as ovs-ofctl without --bundle; dump-flows against a golden file.
  { long: 'no-bundle', arg: 'none', set: (o) => { o.bundle = false; } },
  { long: 'diff', arg: 'required', set: (o, v) => { o.diff = v!; } },
];

/** The long options, for --help. */
export const OPTION_NAMES: readonly string[] = OPTIONS.map((s) => s.long);

/**
 * -o/--option's text, as ovs-ofctl's ovs_cmdl_print_options: a line per option, `--long`, `--long=ARG`
 * or `--long=[ARG]`, then `-x ` (the space kept), `-x ARG` or `-x [ARG]` for one with a short form.
 */
export function optionList(): string {
  return OPTIONS.map((s) => {
    const arg = s.arg === 'none' ? '' : s.arg === 'required' ? 'ARG' : '[ARG]';
    return `--${s.long}${arg && `=${arg}`}\n${s.short ? `-${s.short} ${arg}\n` : ''}`;
  }).join('');
}

export function defaultOptions(): FlowOptions {
  return { strict: false, stats: true, sort: [], timestamp: false, readOnly: false, mayCreate: false, more: 0, raw: false, verbose: false, help: false, listOptions: false, version: false };
}

/** An exact long name, else its only prefix match (glibc's getopt_long), else an error. */
function longOption(name: string, word: string): OptionSpec {
  const exact = OPTIONS.find((s) => s.long === name);
  if (exact) return exact;
  const candidates = OPTIONS.filter((s) => s.long.startsWith(name));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw new ArgError(`unrecognized option '${word}'`);
  throw new ArgError(`option '--${name}' is ambiguous; possibilities:${candidates.map((s) => ` '--${s.long}'`).join('')}`);
}

/**
 * Reads argv (without node and the script) as ovs-ofctl's getopt_long does: options are applied in
 * the order met (so `-h` or `-o` stops at once, before a later bad option is seen); what is left is the
 * command and its arguments. Throws ArgError with ovs-ofctl's message.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const opts = defaultOptions();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const spec = longOption(eq < 0 ? a.slice(2) : a.slice(2, eq), a);
      let value = eq < 0 ? undefined : a.slice(eq + 1);
      if (spec.arg === 'none' && value !== undefined) throw new ArgError(`option '--${spec.long}' doesn't allow an argument`);
      if (spec.arg === 'required' && value === undefined) {
        if (i + 1 >= argv.length) throw new ArgError(`option '--${spec.long}' requires an argument`);
        value = argv[++i]!;
      }
      spec.set(opts, value);
    } else if (a.startsWith('-') && a !== '-') {
      for (let j = 1; j < a.length; j++) {
        const spec = OPTIONS.find((s) => s.short === a[j]);
        if (!spec) throw new ArgError(`invalid option -- '${a[j]}'`);
        if (spec.arg === 'none') {
          spec.set(opts, undefined);
          continue;
        }
        let value: string | undefined = a.slice(j + 1);
        if (!value) {
          value = spec.arg === 'required' ? argv[++i] : undefined;
          if (spec.arg === 'required' && value === undefined) throw new ArgError(`option requires an argument -- '${a[j]}'`);
        }
        spec.set(opts, value);
        break;
      }
    } else {
      words.push(a);
    }
    // -o prints and exits where it is met, as -h does (ovs-ofctl's getopt loop).
    if (opts.listOptions) break;
    if (opts.help || opts.version) {
      // `-h CMD`: the command whose help is asked for, though options stop here (as ovs-ofctl's).
      const next = argv.slice(i + 1).find((w) => !w.startsWith('-'));
      if (!words.length && next !== undefined) words.push(next);
      break;
    }
  }
  return { words, opts };
}
