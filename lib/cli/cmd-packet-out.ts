// ofctl-ts packet-out SWITCH PACKET-OUT | packet-out SWITCH IN_PORT ACTIONS PACKET... — sends packets through the switch.
// Example: ofctl-ts packet-out br-int "in_port=1,packet=505400000001505400000002080045000028000000004006f97cc0a80001c0a800020000000000000000000000005000000000000000,actions=output:2"
// As `ovs-ofctl -O OpenFlow13 packet-out`: PACKET-OUT is `in_port=PORT,packet=HEX,actions=ACTIONS`
// (in_port defaults to CONTROLLER, no actions drop the packet); with more than three arguments
// the older form, one PACKET_OUT for each hex packet. Each is sent with a barrier: the switch's
// error is printed (ofp-print's text, on stderr) and the exit is 1. Unlike ovs-ofctl, pipeline
// fields other than in_port (which OpenFlow 1.3 cannot carry) are refused, never silently dropped.
import { formatMessage } from '../../codecs/ofctl/format-message.js';
import { parseActions } from '../../codecs/ofctl/parse-actions.js';
import { FlowSyntaxError } from '../../codecs/ofctl/syntax.js';
import { parsePortNumber } from '../../codecs/ofctl/values.js';
import { fieldByName } from '../../codecs/openflow/fields.js';
import type { Action } from '../../codecs/actions/index.js';
import { OFP_NO_BUFFER, OutgoingMessage } from '../../codecs/openflow/messages.js';
import { OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NONE } from '../../codecs/openflow/ports.js';
import type { OfConnection } from '../switch/connection.js';
import { withTarget } from './common.js';
import { portArgument, QueryOptions } from './query.js';

export type PacketOutOptions = QueryOptions & {
  /** Where the switch's error is printed (ovs-ofctl: stderr). */
  readonly err?: (s: string) => void;
};

/** eth_from_hex: hex digits (blanks between bytes allowed), at least an Ethernet header. */
export function ethFromHex(text: string): Buffer {
  const bytes: number[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (!/^[0-9a-fA-F]{2}/.test(text.slice(i, i + 2))) break;
    bytes.push(Number.parseInt(text.slice(i, i + 2), 16));
    i += 2;
  }
  if (i < text.length) throw new Error('Trailing garbage in packet data');
  if (bytes.length < 14) throw new Error('Packet data too short for Ethernet');
  return Buffer.from(bytes);
}

const NOT_ALLOWED: ReadonlyArray<readonly [keyof ReturnType<typeof parseActions>, string]> = [
  ['meter', 'meter'], ['clear', 'clear_actions'], ['write', 'write_actions'], ['writeMetadata', 'write_metadata'], ['gotoTable', 'goto_table'],
];

/** ofpacts_parse_actions: actions only, with no match to go by (an instruction is refused, as ovs-ofctl refuses it). */
function packetOutActions(text: string): Action[] {
  try {
    const ins = parseActions(text, 0, new Map());
    const bad = NOT_ALLOWED.find(([k]) => ins[k] !== undefined && ins[k] !== false);
    if (bad) throw new Error(`${bad[1]} instruction not allowed here`);
    return [...ins.apply];
  } catch (err) {
    throw err instanceof FlowSyntaxError ? new Error(err.reason) : err;
  }
}

interface PacketOut {
  readonly inPort: number;
  readonly actions: Action[];
  readonly packets: Buffer[];
}

/** parse_ofp_packet_out_str; a port name is looked up on the switch (unless --no-names). */
async function parsePacketOut(conn: OfConnection, sw: string, text: string, opts: QueryOptions): Promise<PacketOut> {
  const a = text.search(/actions?=/);
  const actionsText = a >= 0 ? text.slice(text.indexOf('=', a) + 1) : undefined;
  let inPort = OFPP_CONTROLLER;
  let packet: Buffer | undefined;
  for (const part of (a >= 0 ? text.slice(0, a) : text).split(/[\s,]+/).filter((p) => p)) {
    const eq = part.search(/[=:]/);
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (!value) throw new Error(`field ${name} missing value`);
    if (name === 'in_port') {
      const port = parsePortNumber(value) ?? (opts.names === false ? undefined : await portArgument(conn, sw, value, opts).catch(() => undefined));
      if (port === undefined) throw new Error(`${value} is not a valid OpenFlow port`);
      if (port > OFPP_MAX && port !== OFPP_LOCAL && port !== OFPP_NONE && port !== OFPP_CONTROLLER) {
        throw new Error(`${value} is not a valid OpenFlow port for PACKET_OUT`);
      }
      inPort = port;
    } else if (name === 'packet') {
      try {
        packet = ethFromHex(value);
      } catch (err) {
        throw new Error(`packet: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else if (fieldByName(name)) {
      throw new Error(`${name} is not a pipeline field OpenFlow 1.3 can carry in a PACKET_OUT (only in_port)`);
    } else throw new Error(`unknown keyword ${name}`);
  }
  if (!packet) throw new Error('must specify packet');
  return { inPort, actions: actionsText === undefined ? [] : packetOutActions(actionsText), packets: [packet] };
}

/** Each PACKET_OUT and a barrier; the switch's first error, printed as ofp-print prints it, or undefined. */
async function sendPacketOuts(conn: OfConnection, po: PacketOut): Promise<string | undefined> {
  const msgs: OutgoingMessage[] = po.packets.map((data) => ({ type: 'packet_out', bufferId: OFP_NO_BUFFER, inPort: po.inPort, actions: po.actions, data }));
  const xids = new Set<number>();
  let error: string | undefined;
  const sub = conn.messages$.subscribe((m) => {
    if (m.type === 'error' && xids.has(m.xid) && error === undefined) error = formatMessage(m) ?? `OFPT_ERROR: ${m.errType}/${m.code}\n`;
  });
  try {
    await conn.sendMany(msgs, (xid) => void xids.add(xid));
    await conn.barrier();
  } finally {
    sub.unsubscribe();
  }
  return error;
}

export async function packetOutCommand(args: readonly string[], opts: PacketOutOptions, _out: (s: string | Buffer) => void): Promise<number> {
  if (args.length < 2) throw new Error("'packet-out' command requires at least 2 arguments");
  if (args.length === 3) throw new Error(`Too many arguments (${args.length + 1})`);
  const sw = args[0]!;
  return withTarget(sw, async (conn) => {
    let po: PacketOut;
    if (args.length === 2) po = await parsePacketOut(conn, sw, args[1]!, opts);
    else {
      // The older form: IN_PORT ACTIONS PACKET..., every packet checked before any is sent.
      const actions = packetOutActions(args[2]!);
      const inPort = await portArgument(conn, sw, args[1]!, opts);
      po = { inPort, actions, packets: args.slice(3).map(ethFromHex) };
    }
    const error = await sendPacketOuts(conn, po);
    if (error === undefined) return 0;
    (opts.err ?? ((s: string) => void process.stderr.write(s)))(error);
    return 1;
  });
}
