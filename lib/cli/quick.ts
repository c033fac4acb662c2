// The flow tool's command line, without yargs (its load and its help text cost more than a command
// on a small bridge): parsed as ovs-ofctl parses its own (args.ts), run from the command table
// (commands.ts). Lines whose first word is render, audit, pipeline, controller or status are left
// to the yargs CLI (main.ts).
import { ArgError, FlowOptions, optionList, parseArgs } from './args.js';
import { Command, commandHelp, findCommand, fullHelp, YARGS_COMMANDS } from './commands.js';
import { startEarlyDump } from './early-dump.js';
import { fatalSignalLine } from './fatal-signal.js';

/** What the command line asks for, checked as ovs-ofctl checks it (options, command, argument count, --read-only). */
export type FlowLine =
  | { readonly kind: 'run'; readonly command: Command; readonly args: string[]; readonly opts: FlowOptions }
  /** --help, help CMD, -o: text for standard output, exit 0. */
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' };

/** Throws ArgError with ovs-ofctl's message. */
export function flowLine(argv: readonly string[]): FlowLine {
  const { words, opts } = parseArgs(argv);
  if (opts.listOptions) return { kind: 'help', text: optionList() };
  const [name, ...args] = words;
  if (name === 'help' || opts.help) {
    // `help CMD`, `-h CMD`, `CMD --help`: that command's help; otherwise all of it.
    const topic = name === 'help' ? args[0] : name;
    const c = topic === undefined ? undefined : findCommand(topic);
    return { kind: 'help', text: c ? commandHelp(c) : fullHelp() };
  }
  if (opts.version) return { kind: 'version' };
  if (name === undefined) throw new ArgError('missing command name; use --help for help');
  const command = findCommand(name);
  if (!command) throw new ArgError(`unknown command '${name}'; use --help for help`);
  if (args.length < command.min) throw new ArgError(`'${name}' command requires at least ${command.min} arguments`);
  if (args.length > command.max) throw new ArgError(`'${name}' command takes at most ${command.max} arguments`);
  if (opts.readOnly && !command.readOnly) throw new ArgError(`'${name}' command does not work in read only mode`);
  return { kind: 'run', command, args, opts };
}

/**
 * -t SECS: as ovs-ofctl's alarm, which ends the whole command wherever it is: its log line, then
 * the process dies of SIGALRM (exit status 142 in a shell), as ovs-ofctl's does.
 */
function armTimeout(seconds: number): void {
  setTimeout(() => dieOf('SIGALRM'), seconds * 1000).unref();
}

/** OVS's fatal_signal handler: its log line, then death by the signal itself (128+N in a shell). */
function dieOf(signal: NodeJS.Signals): void {
  process.stderr.write(fatalSignalLine(signal));
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/** Ctrl-C (or a kill) during a command: said as ovs-ofctl says it (its other fatal signals). */
function sayFatalSignals(): void {
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.once(signal, () => dieOf(signal));
}

/** A plain dump (no filter, sort, names, golden file or TLS) starts before the rest loads (early-dump.ts). */
function plainDump(l: Extract<FlowLine, { kind: 'run' }>): boolean {
  const o = l.opts;
  return l.command.name === 'dump-flows' && l.args.length === 1 && o.diff === undefined && o.sort.length === 0 && o.names !== true
    && o.privateKey === undefined && o.certificate === undefined && o.caCert === undefined;
}

async function runLine(l: Extract<FlowLine, { kind: 'run' }>): Promise<void> {
  // A --sort field that is no match field is refused as ovs-ofctl refuses it (an option's error).
  if (l.opts.sort.some((k) => k.field !== undefined && k.field !== 'priority')) {
    const bad = (await import('./sort-flows.js')).unknownSortField(l.opts.sort);
    if (bad !== undefined) return argFailure(new ArgError(`${bad}: unknown field name`));
  }
  const { run, out } = await import('./run.js');
  const name = l.command.name;
  await run(name, async () => {
    const o = l.opts;
    if (o.verbose) process.env.OFCTL_TS_LOG ??= 'debug';
    if (o.privateKey !== undefined || o.certificate !== undefined || o.caCert !== undefined) {
      (await import('./common.js')).setTlsOptions({ privateKey: o.privateKey, certificate: o.certificate, caCert: o.caCert });
    }
    return l.command.run(l.args, o, out);
  }, l.command.exit1Different?.(l.opts) ?? false);
}

function argFailure(err: ArgError): void {
  process.stderr.write(`ofctl-ts: ${err.message}\n`);
  process.exitCode = 1;
}

/** The command runQuick ran (not help, version or a refused line): bin/ofctl-ts.js keeps a code cache for each. */
export let ranCommand: string | undefined;

/** Runs a flow tool line; false when it belongs to the yargs CLI (main.ts), which the caller runs. */
export function runQuick(argv: readonly string[]): boolean {
  if (argv[0] !== undefined && YARGS_COMMANDS.has(argv[0])) return false;
  let l: FlowLine;
  try {
    l = flowLine(argv);
  } catch (err) {
    if (!(err instanceof ArgError)) throw err;
    argFailure(err);
    return true;
  }
  if (l.kind === 'help') {
    process.stdout.write(l.text);
  } else if (l.kind === 'version') {
    void import('../version.js').then(({ VERSION }) => process.stdout.write(`ofctl-ts ${VERSION}\nOpenFlow versions 0x4:0x4\n`));
  } else {
    if (l.opts.timeoutS !== undefined) armTimeout(l.opts.timeoutS);
    sayFatalSignals();
    ranCommand = l.command.name;
    if (plainDump(l)) {
      // Its request leaves when the connect completes, on the event loop's next turn: that turn
      // comes first, so the switch dumps while the rest loads (before, the request waited behind
      // the ~20 ms of loading, which ran in one go).
      startEarlyDump(['dump-flows', l.args[0]!]);
      setImmediate(() => void runLine(l));
    } else {
      void runLine(l);
    }
  }
  return true;
}
