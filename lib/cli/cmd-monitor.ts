// ofctl-ts monitor SWITCH [MISS-LEN] [invalid_ttl] [watch:[SPEC...]] — flow changes and packet-ins as they happen.
// Example: ofctl-ts monitor br-int 65535 watch:!initial,table=0
// As `ovs-ofctl -O OpenFlow13 monitor`: MISS-LEN sets the switch's miss_send_len (GET_CONFIG, then
// SET_CONFIG keeping its flags); each watch: sends an ONFST_FLOW_MONITOR request whose reply (the
// flows already there, unless !initial) is printed on stdout; then packet-ins are asked for as
// NXT_PACKET_IN2 and every message from the switch is printed on stderr until it goes away
// (exit 1) or SIGINT/SIGTERM (exit 130/143). Unlike ovs-ofctl, every argument is checked before
// anything is sent: a bad watch: after a MISS-LEN changes nothing.
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { fieldByName, PROTOCOL_KEYWORDS } from '../../codecs/openflow/fields.js';
import type { Match } from '../../codecs/openflow/match.js';
import { PACKET_IN_FORMATS, setPacketInFormat } from '../../codecs/openflow/packet-in2.js';
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import { FLOW_MONITOR_FLAGS } from '../../codecs/openflow/vendor-messages.js';
import type { OfConnection } from '../switch/connection.js';
import { withTarget } from './common.js';
import { monitorConnection, MonitorOptions } from './monitor.js';
import { dumpTransaction } from './query.js';

export type MonitorCommandOptions = MonitorOptions;

/** One watch: argument, as ovs-ofctl's parse_flow_monitor_request reads it. */
export interface WatchSpec {
  readonly flags: number;
  readonly outPort: number;
  readonly table: number;
  readonly match: Match;
}

const ALL_FLAGS = (1 << FLOW_MONITOR_FLAGS.length) - 1;
const PROTOCOLS = new Set(PROTOCOL_KEYWORDS.map((k) => k.name));

/** C's atoi: leading blanks, a sign, digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

export function parseWatch(spec: string): WatchSpec {
  let flags = ALL_FLAGS;
  let outPort = OFPP_NONE;
  let table = 0xff;
  const matchParts: string[] = [];
  for (const part of spec.split(/[\s,]+/).filter((p) => p)) {
    const eq = part.search(/[=:]/);
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    const flag = name.startsWith('!') ? FLOW_MONITOR_FLAGS.indexOf(name.slice(1) as (typeof FLOW_MONITOR_FLAGS)[number]) : -1;
    if (flag >= 0) flags &= ~(1 << flag);
    else if (PROTOCOLS.has(name) || fieldByName(name)) matchParts.push(part);
    else if (!value) throw new Error(`${spec}: field ${name} missing value`);
    else if (name === 'table') {
      if (!/^\d+$/.test(value) || Number(value) > 255) throw new Error(`unknown table "${value}"`);
      table = Number(value);
    } else if (name === 'out_port') outPort = atoi(value) & 0xffff;
    else throw new Error(`${spec}: unknown keyword ${name}`);
  }
  let match: Match = new Map();
  if (matchParts.length) {
    try {
      match = parseFlow(matchParts.join(','), { mode: 'match' }).match;
    } catch (err) {
      // ovs-ofctl names the value, not a column.
      throw new Error(err instanceof Error && 'reason' in err ? String(err.reason) : String(err));
    }
  }
  return { flags, outPort, table, match };
}

type Step = { readonly kind: 'miss'; readonly len: number } | { readonly kind: 'watch'; readonly spec: WatchSpec };

/** The arguments after SWITCH, each checked before anything is sent. */
function parseArgs(args: readonly string[]): Step[] {
  return args.map((arg): Step => {
    if (/^\d/.test(arg)) return { kind: 'miss', len: atoi(arg) & 0xffff };
    if (arg === 'invalid_ttl') throw new Error('invalid_ttl requires one of the OpenFlow versions OpenFlow10, OpenFlow11, OpenFlow12 but none is enabled (use -O)');
    if (arg.startsWith('watch:')) return { kind: 'watch', spec: parseWatch(arg.slice(6)) };
    throw new Error(`${arg}: unsupported "monitor" argument`);
  });
}

/** ovs-ofctl's transact_noreply: the message and a barrier; the switch's error, if any, fails it. */
async function setMissLen(conn: OfConnection, len: number): Promise<void> {
  const [config] = await conn.request({ type: 'get_config_request' });
  if (config?.type !== 'get_config_reply') throw new Error('received bad reply to GET_CONFIG_REQUEST');
  const failures = await conn.sendConfirmed([{ type: 'set_config', flags: config.flags, missSendLen: len }]);
  if (failures.length) throw new Error(failures[0]!.reason);
}

let nextMonitorId = 0;

export async function monitorCommand(args: readonly string[], opts: MonitorCommandOptions, out: (s: string | Buffer) => void): Promise<number> {
  if (args.length < 1) throw new Error("'monitor' command requires at least 1 arguments");
  if (args.length > 3) throw new Error("'monitor' command takes at most 3 arguments");
  // invalid_ttl needs OpenFlow 1.0-1.2: refused before connecting, as ovs-ofctl -O OpenFlow13 does.
  if (args.includes('invalid_ttl')) parseArgs(['invalid_ttl']);
  return withTarget(args[0]!, async (conn) => {
    const steps = parseArgs(args.slice(1));
    for (const step of steps) {
      if (step.kind === 'miss') await setMissLen(conn, step.len);
      else {
        const { flags, outPort, table, match } = step.spec;
        const request = { type: 'flow_monitor_request', flags: 0, monitors: [{ id: nextMonitorId++, flags, outPort, table, match }] } as const;
        await dumpTransaction(conn, request, 'flow_monitor_reply', out);
      }
    }
    // OVS sends packet-ins as NXT_PACKET_IN2 once asked; a switch that refuses keeps its own format.
    await conn.sendConfirmed([setPacketInFormat(PACKET_IN_FORMATS.nxt_packet_in2)]);
    return monitorConnection(conn, opts);
  }, { echoRequests: 'answered', echoIntervalMs: 0x7fffffff });
}
