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
      target: target!, stats: o.stats, sort: o.sort, names: o.names, ...(match ? { match } : {}), ...(o.diff !== undefined ? { diff: o.diff } : {}),
    }, out),
  },
  {
    name: 'add-flow', usage: 'SWITCH FLOW', min: 2, max: 2, readOnly: false,
    summary: 'add flow described by FLOW (- reads flows from stdin)',
    example: "ofctl-ts add-flow br-int 'table=0,priority=10,in_port=1,actions=drop'",
    differs: 'a syntax error names its column',
    run: async ([target, flow], o) => (await import('./add-flows.js')).addFlowCommand(target!, flow!, o),
  },
  {
    name: 'add-flows', usage: 'SWITCH FILE', min: 2, max: 2, readOnly: false,
    summary: 'add flows from FILE (- for stdin); a line may start with add, modify, modify_strict, delete or delete_strict',
    example: 'ofctl-ts add-flows br-int flows.txt',
    differs: `${ATOMIC}; errors name file:line:column`,
    run: async ([target, file], o) => (await import('./add-flows.js')).addFlowsCommand(target!, file!, o.bundle ?? true, o),
  },
  {
    name: 'mod-flows', usage: 'SWITCH FLOW', min: 2, max: 2, readOnly: false,
    summary: 'modify actions of matching FLOWs (--strict: the flow with exactly this match and priority; - reads them from stdin)',
    example: "ofctl-ts mod-flows br-int 'table=0,in_port=1,actions=output:2'",
    run: async ([target, flow], o) => (await import('./add-flows.js')).modFlowsCommand(target!, flow!, o.strict, o),
  },
  {
    name: 'del-flows', usage: 'SWITCH [FLOW]', min: 1, max: 2, readOnly: false,
    summary: 'delete matching FLOWs (all without FLOW; --strict: exactly this match and priority; - reads them from stdin)',
    example: 'ofctl-ts del-flows br-int table=20',
    run: async ([target, match], o) => (await import('./del-flows.js')).delFlowsCommand(target!, match, o.strict, o),
  },
  {
    name: 'replace-flows', usage: 'SWITCH FILE', min: 2, max: 2, readOnly: false,
    summary: 'replace flows with those in FILE, with the fewest flow-mods',
    example: 'ofctl-ts replace-flows br-tun br-tun.flows',
    differs: 'one atomic bundle always; prints what it changed',
    run: async ([target, file], o, out) => (await import('./replace-flows.js')).replaceFlowsCommand(target!, file!, out, o),
  },
  {
    // ovs-ofctl 3.1 counts it as read/write (--read-only refuses it): so does this table.
    name: 'diff-flows', usage: 'SOURCE1 SOURCE2', min: 2, max: 2, readOnly: false,
    summary: 'compare flows from two sources (each a switch or a file); exit 2 when they differ',
    example: 'ofctl-ts diff-flows br-tun br-tun.flows',
    differs: 'flows are compared as the switch holds them, so equivalent spellings are equal',
    run: async ([a, b], o, out) => (await import('./diff-flows.js')).diffFlowsCommand(a!, b!, out, o),
  },
  // Reading the switch (query.ts and its cmd-*.ts): each prints what ovs-ofctl -O OpenFlow13 prints.
  {
    name: 'show', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'show OpenFlow information (features, ports, config)', example: 'ofctl-ts show br-int',
    run: async (a, o, out) => (await import('./cmd-show.js')).showCommand(a, o, out),
  },
  {
    name: 'dump-desc', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'print switch description', example: 'ofctl-ts dump-desc br-int',
    run: async (a, o, out) => (await import('./cmd-dump-desc.js')).dumpDescCommand(a, o, out),
  },
  {
    name: 'dump-tables', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'print table stats', example: 'ofctl-ts dump-tables br-int',
    run: async (a, o, out) => (await import('./cmd-dump-tables.js')).dumpTablesCommand(a, o, out),
  },
  // Geneve TLV map (cmd-tlv-map.ts): what ovs-save replays on every OVS upgrade.
  {
    name: 'add-tlv-map', usage: 'SWITCH MAP', min: 2, max: 2, readOnly: false,
    summary: 'add TLV option mappings ({class=C,type=T,len=L}->tun_metadataN[,...])',
    example: "ofctl-ts add-tlv-map br-tun '{class=0xffff,type=0,len=4}->tun_metadata0'",
    run: async (a, o) => (await import('./cmd-tlv-map.js')).addTlvMapCommand(a, o),
  },
  {
    name: 'del-tlv-map', usage: 'SWITCH [MAP]', min: 1, max: 2, readOnly: false,
    summary: 'delete TLV option mappings (all without MAP)',
    example: "ofctl-ts del-tlv-map br-tun '{class=0xffff,type=0,len=4}->tun_metadata0'",
    run: async (a, o) => (await import('./cmd-tlv-map.js')).delTlvMapCommand(a, o),
  },
  {
    name: 'dump-tlv-map', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'print TLV option mappings', example: 'ofctl-ts dump-tlv-map br-tun',
    run: async (a, o, out) => (await import('./cmd-tlv-map.js')).dumpTlvMapCommand(a, o, out),
  },
  {
    name: 'dump-table-features', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'print table features', example: 'ofctl-ts dump-table-features br-int',
    run: async (a, o, out) => (await import('./cmd-dump-table-features.js')).dumpTableFeaturesCommand(a, o, out),
  },
  {
    name: 'dump-ports', usage: 'SWITCH [PORT]', min: 1, max: 2, readOnly: true,
    summary: 'print port statistics', example: 'ofctl-ts dump-ports br-int tap0',
    run: async (a, o, out) => (await import('./cmd-dump-ports.js')).dumpPortsCommand(a, o, out),
  },
  {
    name: 'dump-ports-desc', usage: 'SWITCH [PORT]', min: 1, max: 2, readOnly: true,
    summary: 'print port descriptions', example: 'ofctl-ts dump-ports-desc br-int',
    run: async (a, o, out) => (await import('./cmd-dump-ports-desc.js')).dumpPortsDescCommand(a, o, out),
  },
  {
    name: 'dump-aggregate', usage: 'SWITCH [FLOW]', min: 1, max: 2, readOnly: true,
    summary: 'print aggregate flow statistics (of the flows matching FLOW)', example: 'ofctl-ts dump-aggregate br-int table=0',
    run: async (a, o, out) => (await import('./cmd-dump-aggregate.js')).dumpAggregateCommand(a, o, out),
  },
  {
    name: 'queue-stats', usage: 'SWITCH [PORT [QUEUE]]', min: 1, max: 3, readOnly: true,
    summary: 'print queue statistics', example: 'ofctl-ts queue-stats br-int 1 0',
    run: async (a, o, out) => (await import('./cmd-queue-stats.js')).queueStatsCommand(a, o, out),
  },
  // Watching and sending (monitor.ts and its cmd-*.ts): as ovs-ofctl, live messages go to stderr.
  {
    name: 'monitor', usage: 'SWITCH [MISSLEN] [invalid_ttl] [watch:[...]]', min: 1, max: 3, readOnly: true,
    summary: 'print packets received from SWITCH, and flow changes with watch:', example: 'ofctl-ts monitor br-int 65535 watch:table=0',
    differs: 'every argument is checked before anything is sent; no ovs-ofctl.PID.ctl control socket',
    run: async (a, o, out) => (await import('./cmd-monitor.js')).monitorCommand(a, o, out),
  },
  {
    name: 'snoop', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'snoop on SWITCH and its controller (through BRIDGE.snoop)', example: 'ofctl-ts snoop br-int',
    run: async (a, o, out) => (await import('./cmd-snoop.js')).snoopCommand(a, o, out),
  },
  {
    name: 'packet-out', usage: 'SWITCH "in_port=PORT,packet=HEX,actions=..."', min: 2, max: Number.MAX_SAFE_INTEGER, readOnly: false,
    summary: 'execute ACTIONS on the packet (also SWITCH IN_PORT ACTIONS PACKET...)',
    example: "ofctl-ts packet-out br-int 'in_port=1,packet=505400000001505400000002080045000014000000004000f97cc0a80001c0a80002,actions=output:2'",
    differs: 'pipeline fields other than in_port are refused (ovs-ofctl takes some silently)',
    run: async (a, o, out) => (await import('./cmd-packet-out.js')).packetOutCommand(a, o, out),
  },
  // Printing messages (cmd-ofp-print.ts): no switch involved.
  {
    name: 'ofp-print', usage: 'HEXSTRING [VERBOSITY]', min: 1, max: 2, readOnly: true,
    summary: 'print an OpenFlow message in hex (- reads a line of stdin)', example: 'ofctl-ts ofp-print 040200080000000a',
    differs: 'a message ofctl-ts cannot print exactly as OVS (another OpenFlow version) fails with exit 1',
    run: async (a, o, out) => (await import('./cmd-ofp-print.js')).ofpPrintCommand(a, o, out),
  },
  {
    name: 'ofp-parse', usage: 'FILE', min: 1, max: 1, readOnly: true,
    summary: 'print messages read from FILE (binary OpenFlow; - for stdin)', example: 'ofctl-ts ofp-parse capture.bin',
    differs: 'a message ofctl-ts cannot print exactly as OVS (another OpenFlow version) fails with exit 1',
    run: async (a, o, out) => (await import('./cmd-ofp-print.js')).ofpParseCommand(a, o, out),
  },
  // Parsing flows (cmd-parse-flow.ts): no switch involved (ovs-ofctl 3.1 counts them as read/write all the same).
  {
    name: 'parse-flow', usage: 'FLOW', min: 1, max: 1, readOnly: false,
    summary: 'print the flow-mod FLOW makes and the protocols that can carry it',
    example: "ofctl-ts parse-flow 'table=1,ip,nw_src=10.0.0.0/8,actions=output:2'",
    run: async (a, o, out) => (await import('./cmd-parse-flow.js')).parseFlowCommand(a, o, out),
  },
  {
    name: 'parse-flows', usage: 'FILE', min: 1, max: 1, readOnly: false,
    summary: 'print the flow-mods the flows of FILE make (- for stdin), and the protocols that can carry them all',
    example: 'ofctl-ts parse-flows br-int.flows',
    run: async (a, o, out) => (await import('./cmd-parse-flow.js')).parseFlowsCommand(a, o, out),
  },
  {
    name: 'probe', usage: 'SWITCH', min: 1, max: 1, readOnly: true,
    summary: 'probe whether SWITCH is responsive (an echo request; silent, exit 0, when it answers)', example: 'ofctl-ts -t 5 probe br-int',
    run: async (a, o, out) => (await import('./cmd-probe.js')).probeCommand(a, o, out),
  },
  // Groups and meters (cmd-group.ts, cmd-meter.ts; texts as parse-group.ts / parse-meter.ts read them).
  ...groupOrMeter('add-group', 'SWITCH GROUP', 1, 2, false, 'add group described by GROUP (- for stdin)', "ofctl-ts add-group br-int 'group_id=1,type=select,bucket=weight:2,output:1,bucket=output:2'", async () => (await import('./cmd-group.js')).addGroupCommand),
  ...groupOrMeter('add-groups', 'SWITCH FILE', 2, 2, false, 'add groups from FILE; a line may start with add, modify, add_or_mod or delete', 'ofctl-ts add-groups br-int groups.txt', async () => (await import('./cmd-group.js')).addGroupsCommand),
  ...groupOrMeter('mod-group', 'SWITCH GROUP', 1, 2, false, 'modify specific group (--may-create: add it when missing)', "ofctl-ts mod-group br-int 'group_id=1,type=all,bucket=output:3'", async () => (await import('./cmd-group.js')).modGroupCommand),
  ...groupOrMeter('del-groups', 'SWITCH [GROUP]', 1, 2, false, 'delete matching GROUPs (all without GROUP)', 'ofctl-ts del-groups br-int group_id=1', async () => (await import('./cmd-group.js')).delGroupsCommand),
  ...groupOrMeter('dump-groups', 'SWITCH [GROUP]', 1, 2, true, 'print group descriptions', 'ofctl-ts dump-groups br-int', async () => (await import('./cmd-group.js')).dumpGroupsCommand),
  ...groupOrMeter('dump-group-stats', 'SWITCH [GROUP]', 1, 2, true, 'print group statistics', 'ofctl-ts dump-group-stats br-int group_id=1', async () => (await import('./cmd-group.js')).dumpGroupStatsCommand),
  ...groupOrMeter('dump-group-features', 'SWITCH', 1, 1, true, 'print group features', 'ofctl-ts dump-group-features br-int', async () => (await import('./cmd-group.js')).dumpGroupFeaturesCommand),
  ...groupOrMeter('add-meter', 'SWITCH METER', 2, 2, false, 'add meter described by METER', "ofctl-ts add-meter br-int 'meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100'", async () => (await import('./cmd-meter.js')).addMeterCommand),
  ...groupOrMeter('mod-meter', 'SWITCH METER', 2, 2, false, 'modify specific METER', "ofctl-ts mod-meter br-int 'meter=1,kbps,bands=type=drop,rate=2000'", async () => (await import('./cmd-meter.js')).modMeterCommand),
  ...groupOrMeter('del-meters', 'SWITCH [METER]', 1, 2, false, 'delete meters matching METER (all without one)', 'ofctl-ts del-meters br-int meter=1', async () => (await import('./cmd-meter.js')).delMetersCommand, 'del-meter'),
  ...groupOrMeter('dump-meters', 'SWITCH [METER]', 1, 2, true, 'print METER configuration', 'ofctl-ts dump-meters br-int', async () => (await import('./cmd-meter.js')).dumpMetersCommand, 'dump-meter'),
  ...groupOrMeter('meter-stats', 'SWITCH [METER]', 1, 2, true, 'print meter statistics', 'ofctl-ts meter-stats br-int meter=1', async () => (await import('./cmd-meter.js')).meterStatsCommand),
  ...groupOrMeter('meter-features', 'SWITCH', 1, 1, true, 'print meter features', 'ofctl-ts meter-features br-int', async () => (await import('./cmd-meter.js')).meterFeaturesCommand),
];

type CommandFn = (a: readonly string[], o: FlowOptions, out: Out) => Promise<number>;

/** A group or meter command (cmd-group.ts, cmd-meter.ts), and its ovs-ofctl alias. */
function groupOrMeter(name: string, usage: string, min: number, max: number, readOnly: boolean, summary: string, example: string, load: () => Promise<CommandFn>, alias?: string): Command[] {
  const c: Command = { name, usage, min, max, readOnly, summary, example, run: async (a, o, out) => (await load())(a, o, out) };
  return alias ? [c, { ...c, name: alias, summary: `as ${name}` }] : [c];
}

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The commands that keep their yargs CLI (main.ts), reached only when the first word names one. */
export const YARGS_COMMANDS: ReadonlySet<string> = new Set(['render', 'audit', 'pipeline', 'controller', 'status', 'topology']);

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
  -o, --option                list the options, one a line (as ovs-ofctl -o)
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
SWITCH is a bridge name (its mgmt socket in $OVS_RUNDIR), a socket's path, tcp:IP:PORT, ssl:IP:PORT or unix:PATH.

Where ofctl-ts differs from ovs-ofctl on purpose: loads are atomic by default; errors name
file:line:column; a silent peer times out instead of hanging; diff-flows treats equivalent
spellings of a flow as equal. A FLOW on the command line is checked before the switch is reached
(ovs-ofctl reaches it first: with a typo and a missing bridge, it names the bridge, ofctl-ts the
typo). A failure names its command (ofctl-ts: CMD: ...) and, for a bridge with no ovs-vswitchd,
where it looked; flow files may have CRLF line ends and \\-continued lines.

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
