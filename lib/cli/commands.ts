// The flow tool's commands, one record each: what --help says of it, how many arguments it takes,
// whether --read-only allows it, and what it runs (its module, loaded only when it runs). A new
// command is one more record: its module exports `xCommand(args, opts, out): Promise<number>`.
import type { FlowOptions } from './args.js';

export type Out = (s: string | Buffer) => void;

export interface Command {
  readonly name: string;
  /** Its arguments, as ovs-ofctl's --help names them. */
  readonly usage: string;
  readonly min: number;
  readonly max: number;
  readonly summary: string;
  readonly example: string;
  /** Where ofctl-ts differs from ovs-ofctl on purpose. */
  readonly differs?: string;
  /** Runs under --read-only (ovs-ofctl's OVS_RO). */
  readonly readOnly: boolean;
  /** Exit 1 means "different" (failures then exit 2). */
  readonly exit1Different?: (o: FlowOptions) => boolean;
  /** args: the words after the command, SWITCH first. Returns the exit code; throws on failure. */
  readonly run: (args: readonly string[], opts: FlowOptions, out: Out) => Promise<number>;
}

const ATOMIC = 'one atomic bundle by default (ovs-ofctl needs --bundle): all flows or none; --no-bundle sends them one by one, as ovs-ofctl';

export const COMMANDS: readonly Command[] = [
  {
    name: 'dump-flows', usage: 'SWITCH [FLOW]', min: 1, max: 2, readOnly: true,
    summary: 'print all flow entries, or those matching FLOW',
    example: 'ofctl-ts -O OpenFlow13 dump-flows br-int table=0 --no-stats --sort=priority',
    differs: 'ours: --diff FILE compares with a golden flow file (exit 0 equal, 1 different, 2 error)',
    exit1Different: (o) => o.diff !== undefined,
    run: async ([target, match], o, out) => (await import('./dump-flows.js')).dumpFlowsCommand({
      target: target!, stats: o.stats, sort: o.sort, ...(match ? { match } : {}), ...(o.diff !== undefined ? { diff: o.diff } : {}),
    }, out),
  },
  {
    name: 'add-flow', usage: 'SWITCH FLOW', min: 2, max: 2, readOnly: false,
    summary: 'add flow described by FLOW',
    example: "ofctl-ts add-flow br-int 'table=0,priority=10,in_port=1,actions=drop'",
    differs: 'a syntax error names its column',
    run: async ([target, flow]) => (await import('./add-flows.js')).addFlowCommand(target!, flow!),
  },
  {
    name: 'add-flows', usage: 'SWITCH FILE', min: 2, max: 2, readOnly: false,
    summary: 'add flows from FILE (- for stdin); a line may start with add, modify, modify_strict, delete or delete_strict',
    example: 'ofctl-ts add-flows br-int flows.txt',
    differs: `${ATOMIC}; errors name file:line:column`,
    run: async ([target, file], o) => (await import('./add-flows.js')).addFlowsCommand(target!, file!, o.bundle ?? true),
  },
  {
    name: 'mod-flows', usage: 'SWITCH FLOW', min: 2, max: 2, readOnly: false,
    summary: 'modify actions of matching FLOWs (--strict: the flow with exactly this match and priority)',
    example: "ofctl-ts mod-flows br-int 'table=0,in_port=1,actions=output:2'",
    run: async ([target, flow], o) => (await import('./add-flows.js')).modFlowsCommand(target!, flow!, o.strict),
  },
  {
    name: 'del-flows', usage: 'SWITCH [FLOW]', min: 1, max: 2, readOnly: false,
    summary: 'delete matching FLOWs (all without FLOW; --strict: exactly this match and priority)',
    example: 'ofctl-ts del-flows br-int table=20',
    run: async ([target, match], o) => (await import('./del-flows.js')).delFlowsCommand(target!, match, o.strict),
  },
  {
    name: 'replace-flows', usage: 'SWITCH FILE', min: 2, max: 2, readOnly: false,
    summary: 'replace flows with those in FILE, with the fewest flow-mods',
    example: 'ofctl-ts replace-flows br-tun br-tun.flows',
    differs: 'one atomic bundle always; prints what it changed',
    run: async ([target, file], _o, out) => (await import('./replace-flows.js')).replaceFlowsCommand(target!, file!, out),
  },
  {
    // ovs-ofctl 3.1 counts it as read/write (--read-only refuses it): so does this table.
    name: 'diff-flows', usage: 'SOURCE1 SOURCE2', min: 2, max: 2, readOnly: false,
    summary: 'compare flows from two sources (each a switch or a file); exit 2 when they differ',
    example: 'ofctl-ts diff-flows br-tun br-tun.flows',
    differs: 'flows are compared as the switch holds them, so equivalent spellings are equal',
    run: async ([a, b], _o, out) => (await import('./diff-flows.js')).diffFlowsCommand(a!, b!, out),
  },
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The commands that keep their yargs CLI (main.ts), reached only when the first word names one. */
export const YARGS_COMMANDS: ReadonlySet<string> = new Set(['render', 'audit', 'pipeline', 'controller', 'status']);

const OPTIONS_HELP = `Options (anywhere on the line, as ovs-ofctl):
  -O, --protocols=VERSIONS    OpenFlow13, or any list that includes it
  --strict                    use strict match for flow commands
  --read-only                 do not execute read/write commands
  --bundle                    accepted: flow loads are atomic already
  --no-bundle                 ours: add-flows one flow-mod at a time
  --timestamp                 accepted (monitor, snoop)
  -t, --timeout=SECS          give up after SECS seconds
  --sort[=field]              sort in ascending order (dump-flows)
  --rsort[=field]             sort in descending order (dump-flows)
  --names, --no-names         show port names / numbers
  --stats, --no-stats         print or omit cookie, duration and counters (dump-flows)
  --diff=FILE                 ours: dump-flows against a golden flow file
  -p, --private-key=FILE      TLS: our private key (ssl: targets)
  -c, --certificate=FILE      TLS: our certificate
  -C, --ca-cert=FILE          TLS: the CA certificate of the peers
  -v, --verbose               debug logs on stderr
  -h, --help                  display this help message (CMD --help, help CMD: one command)
  -V, --version               display version information`;

const line = (c: Command): string => {
  const head = `  ${c.name} ${c.usage}`;
  return `${head.padEnd(30)}${head.length >= 30 ? '\n'.padEnd(31) : ''}${c.summary}`;
};

export function fullHelp(): string {
  const cmds = COMMANDS.map((c) => `${line(c)}\n      e.g. ${c.example}${c.differs ? `\n      differs: ${c.differs}` : ''}`).join('\n');
  return `ofctl-ts: OpenFlow switch management utility (an ovs-ofctl -O OpenFlow13 work-alike)
usage: ofctl-ts [OPTIONS] COMMAND [ARG...]

For OpenFlow switches:
${cmds}
SWITCH is a bridge name (its mgmt socket in $OVS_RUNDIR), tcp:IP:PORT, ssl:IP:PORT or unix:PATH.

Where ofctl-ts differs from ovs-ofctl on purpose: loads are atomic by default; errors name
file:line:column; a silent peer times out instead of hanging; diff-flows treats equivalent
spellings of a flow as equal.

${OPTIONS_HELP}

Other commands (ofctl-ts COMMAND --help): ${[...YARGS_COMMANDS].join(', ')}
`;
}

export function commandHelp(c: Command): string {
  return `usage: ofctl-ts [OPTIONS] ${c.name} ${c.usage}
${c.summary}
example: ${c.example}
${c.differs ? `differs from ovs-ofctl: ${c.differs}\n` : ''}`;
}
