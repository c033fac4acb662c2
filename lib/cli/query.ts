// What the read commands (show, dump-desc, dump-ports, queue-stats…) share: ovs-ofctl's
// dump_transaction (each reply part printed as ofp-print prints it, the switch's error printed and
// not fatal) and its str_to_port_no (a PORT argument: a number, a reserved name or a port's name).
import { formatMessage } from '../../codecs/ofctl/format-message.js';
import { parsePortNumber } from '../../codecs/ofctl/values.js';
import type { OfMessage } from '../../codecs/openflow/messages.js';
import { setPortNames } from '../../codecs/openflow/ports.js';
import type { OfConnection, Outgoing } from '../switch/connection.js';
import { OpenFlowError } from '../switch/errors.js';
import { withTarget, withTimeout } from './common.js';
import { fetchPortNames, showNames } from './port-names.js';

/** The options of the read commands that change what they do. */
export interface QueryOptions {
  /**
   * --names / --no-names; undefined when neither was given (names are then accepted, and shown
   * when stdout is a terminal, as ovs-ofctl does).
   */
  readonly names?: boolean;
  /** -t/--timeout SECS: the whole command ends within it (lib/cli/common.ts withTimeout). */
  readonly timeoutS?: number;
}

/**
 * Runs a read command on its SWITCH (the first argument, checked: at most `most` arguments), within
 * -t/--timeout. Ports print by name where ovs-ofctl prints them so (dump-ports' `port  p1:`,
 * queue-stats' `port p1 queue 0`) when names are shown: fetched first, on the same connection.
 */
export async function onSwitch(args: readonly string[], command: string, most: number, opts: QueryOptions,
  fn: (conn: OfConnection, sw: string) => Promise<void>): Promise<number> {
  const sw = switchArgument(args, command, most);
  return withTimeout(command, opts.timeoutS, () => withTarget(sw, async (conn) => {
    setPortNames(showNames(opts.names) ? await fetchPortNames(conn) : undefined);
    await fn(conn, sw);
    return 0;
  }));
}

/** ofp_print of one message; a message the printer does not model fails the command (never a guess). */
export function printed(m: OfMessage): string {
  const text = formatMessage(m);
  if (text === undefined) throw new Error(`cannot print the switch's ${m.type} reply`);
  return text;
}

/**
 * ovs-ofctl's dump_transaction: sends the request and prints every part of its reply as it comes.
 * An OFPT_ERROR answering it is printed too (with the request it quotes) and ends the transaction:
 * ovs-ofctl then still exits 0. `expect` is the reply type; anything else fails, as in ovs-ofctl.
 */
export async function dumpTransaction(conn: OfConnection, request: Outgoing, expect: OfMessage['type'], out: (s: string) => void): Promise<void> {
  // Parts are handed over from the socket's data handler: a failure is kept for later, not thrown there.
  let failure: Error | undefined;
  const onPart = (m: OfMessage): void => {
    if (failure) return;
    if (m.type !== expect) failure = badReply(m);
    else {
      try {
        out(printed(m));
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  try {
    await conn.request(request, onPart);
  } catch (err) {
    if (!(err instanceof OpenFlowError) || err.reply === undefined) throw err;
    out(printed(err.reply));
  }
  if (failure) throw failure;
}

const badReply = (m: OfMessage): Error => new Error(`received bad reply: ${formatMessage(m) ?? m.type}`);

/** Collects every part of a multipart reply (the commands that print the reply as a whole). */
export async function allParts<T extends OfMessage['type']>(conn: OfConnection, request: Outgoing, expect: T): Promise<Array<OfMessage & { type: T }>> {
  const parts = await conn.request(request);
  return parts.map((m) => {
    if (m.type !== expect) throw badReply(m);
    return m as OfMessage & { type: T };
  });
}

/** strtoul's view of a decimal number: leading blanks and a plus sign allowed, nothing after the digits. */
const DECIMAL = /^[ \t\n\v\f\r]*\+?(\d+)$/;

/**
 * ovs-ofctl's str_to_port_no: a number or reserved name (ofputil_port_from_string), else the name
 * of one of the switch's ports (asked for only then, with a port description request), unless
 * --no-names. Ports are in their 16-bit form; OFPP_ANY is 0xffff.
 */
export async function portArgument(conn: OfConnection, sw: string, text: string, opts: QueryOptions): Promise<number> {
  // A leading '-' is refused before anything else (ovs-ofctl warns "not a valid port number").
  const number = text.startsWith('-') ? undefined : parsePortNumber(DECIMAL.exec(text)?.[1] ?? text);
  if (number !== undefined) return number;
  if (opts.names !== false && !text.startsWith('-')) {
    // A name in double quotes is the name inside them (JSON string escapes).
    const name = text.length > 1 && text.startsWith('"') && text.endsWith('"') ? unquote(text) : text;
    if (name !== undefined) {
      const desc = await allParts(conn, { type: 'port_desc_request', flags: 0 }, 'port_desc_reply');
      const port = desc.flatMap((r) => r.ports).find((p) => p.name === name);
      if (port) return port.portNo;
    }
  }
  throw new Error(`${sw}: unknown port \`${text}'`);
}

function unquote(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The SWITCH argument (the first), checked: every read command needs one. */
export function switchArgument(args: readonly string[], command: string, most: number): string {
  if (args.length < 1) throw new Error(`'${command}' command requires at least 1 arguments`);
  if (args.length > most) throw new Error(`'${command}' command takes at most ${most} arguments`);
  return args[0]!;
}
