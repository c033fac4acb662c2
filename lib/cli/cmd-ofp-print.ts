// ofctl-ts ofp-print HEX|- [VERBOSITY] — decode one OpenFlow message written in hex and print it.
// Example: ofctl-ts ofp-print 0414000800000001
// ofctl-ts ofp-parse FILE — print every OpenFlow message of a binary file (`-`: stdin).
// Example: ofctl-ts ofp-parse capture.bin
// As `ovs-ofctl ofp-print` / `ofp-parse` (OVS 3.1's ofp_to_string): HEX with or without blanks, `-`
// reads one line of hex from stdin (with --raw: all of stdin, binary), VERBOSITY as atoi reads it (2
// when absent; 5 and more add the message's hex dump); a message OVS refuses prints as its
// `***decode error: NAME***` and a hex dump, exit 0. What ofctl-ts does not print the way OVS does
// (another OpenFlow version's messages but hello, a message or verbosity its printer does not model)
// fails with exit 1 and says so, rather than print something different from OVS.
import { readFile } from 'node:fs/promises';
import { formatMessage, header, hexDump } from '../../codecs/ofctl/format-message.js';
import { decodeMessage, OfMessage } from '../../codecs/openflow/messages.js';
import { RefusedMessage } from '../../codecs/openflow/errors.js';
import { strerror } from '../strerror.js';

export interface OfpPrintOptions {
  /** --raw: `-` is binary, not hex. */
  readonly raw?: boolean;
  /** -m/--more, counted (ofp-parse prints at 2 + this). */
  readonly more?: number;
}

/** What ofctl-ts cannot print as OVS prints it. */
export class NotPrintable extends Error {}

/**
 * OpenFlow 1.3 message names as ofp_header_to_string__ writes them, for the text OVS prints around a
 * message it cannot print whole (a truncated one, a decode error): by type, and by multipart type.
 */
const OF13_TYPES: readonly (string | undefined)[] = [
  'OFPT_HELLO', 'OFPT_ERROR', 'OFPT_ECHO_REQUEST', 'OFPT_ECHO_REPLY', undefined, 'OFPT_FEATURES_REQUEST',
  'OFPT_FEATURES_REPLY', 'OFPT_GET_CONFIG_REQUEST', 'OFPT_GET_CONFIG_REPLY', 'OFPT_SET_CONFIG', 'OFPT_PACKET_IN',
  'OFPT_FLOW_REMOVED', 'OFPT_PORT_STATUS', 'OFPT_PACKET_OUT', 'OFPT_FLOW_MOD', 'OFPT_GROUP_MOD', 'OFPT_PORT_MOD',
  'OFPT_TABLE_MOD', undefined, undefined, 'OFPT_BARRIER_REQUEST', 'OFPT_BARRIER_REPLY', 'OFPT_QUEUE_GET_CONFIG_REQUEST',
  'OFPT_QUEUE_GET_CONFIG_REPLY', 'OFPT_ROLE_REQUEST', 'OFPT_ROLE_REPLY', 'OFPT_GET_ASYNC_REQUEST', 'OFPT_GET_ASYNC_REPLY',
  'OFPT_SET_ASYNC', 'OFPT_METER_MOD',
];
const OF13_MULTIPART: readonly string[] = [
  'DESC', 'FLOW', 'AGGREGATE', 'TABLE', 'PORT', 'QUEUE', 'GROUP', 'GROUP_DESC', 'GROUP_FEATURES', 'METER',
  'METER_CONFIG', 'METER_FEATURES', 'TABLE_FEATURES', 'PORT_DESC',
];
const MULTIPART_REQUEST = 18;
const MULTIPART_REPLY = 19;

/** The message's name as OVS prints it, when it is a standard OF1.3 one (undefined: not known here). */
function messageName(b: Buffer): string | undefined {
  if (b[0] !== 4) return undefined;
  const type = b[1]!;
  if (type === MULTIPART_REQUEST || type === MULTIPART_REPLY) {
    const mp = b.length >= 16 ? OF13_MULTIPART[b.readUInt16BE(8)] : undefined;
    return mp && `OFPST_${mp} ${type === MULTIPART_REQUEST ? 'request' : 'reply'}`;
  }
  return OF13_TYPES[type];
}

/** Refusals of ofpraw_decode (the message's kind is unknown): OVS prints no name before them. */
const RAW_REFUSALS = new Set(['OFPBRC_BAD_TYPE', 'OFPBRC_BAD_STAT', 'OFPBRC_BAD_VENDOR', 'OFPBRC_BAD_SUBTYPE']);

/**
 * Messages OVS decodes whole before it prints anything: a refusal prints as `NAME: ***decode
 * error…***`. (A multipart reply prints its entries as it decodes them: what comes before the error
 * is not known here.)
 */
const DECODED_FIRST = new Set([
  'OFPT_FLOW_MOD', 'OFPT_PACKET_IN', 'OFPT_PACKET_OUT', 'OFPT_FLOW_REMOVED', 'OFPT_GROUP_MOD', 'OFPT_METER_MOD',
  'OFPT_PORT_MOD', 'OFPT_TABLE_MOD', 'OFPT_PORT_STATUS', 'OFPT_ERROR', 'OFPT_SET_CONFIG', 'OFPT_ROLE_REQUEST', 'OFPT_ROLE_REPLY',
]);

/**
 * Verbosities at which OVS prints a message as at 2 (measured with ovs-ofctl 3.1 on every peer
 * vector at 0…5): the others print more or less of their packet or counters.
 */
const SAME_AS_2: Partial<Record<OfMessage['type'], (v: number) => boolean>> = {
  port_stats_reply: (v) => v >= 1,
  queue_stats_reply: (v) => v >= 1,
  packet_in: (v) => v === 2,
  packet_in2: (v) => v === 2,
  resume: (v) => v === 2,
  packet_out: (v) => v === 2,
  bundle_add: (v) => v === 2,
};

/** How the printer shows a match field or action it does not model (OVS never prints these). */
const UNMODELLED = /unknown_oxm=|\braw\(/;

const withDump = (s: string, b: Buffer): string => `${s}${hexDump(b)}`;

/** ovs-ofctl's ofp_to_string(b, verbosity); throws NotPrintable for what is not printed here as OVS does. */
export function ofpToString(b: Buffer, verbosity: number): string {
  if (!b.length) return 'OpenFlow message is empty\n';
  if (b.length < 8) return withDump(`OpenFlow packet too short (only ${b.length} bytes):\n`, b);
  const declared = b.readUInt16BE(2);
  if (declared > b.length) {
    // Its name when OVS can tell the kind of message from the bytes at hand.
    if (b[0]! < 1 || b[0]! > 6) return withDump(`(***truncated to ${b.length} bytes from ${declared}***)\n`, b);
    const name = messageName(b);
    if (name === undefined) throw new NotPrintable(`truncated ${describe(b)}`);
    return withDump(`${header(name, b.readUInt32BE(4))}\n(***truncated to ${b.length} bytes from ${declared}***)\n`, b);
  }
  if (declared < b.length) return withDump(`(***only uses ${declared} bytes out of ${b.length}***)\n`, b);
  // Not a version of OpenFlow: OVS knows no message of it.
  if (b[0]! < 1 || b[0]! > 6) return withDump('***decode error: OFPBRC_BAD_TYPE***\n', b);
  const res = decodeMessage(b);
  if (!res.ok) {
    const err = res.error;
    // OVS refuses it, but the codec does not know with which error.
    if (!(err instanceof RefusedMessage) || b[0] !== 4) throw new NotPrintable(`${describe(b)}: ${err.message}`);
    if (RAW_REFUSALS.has(err.ofpError)) return withDump(`***decode error: ${err.ofpError}***\n`, b);
    const name = messageName(b);
    if (name === undefined || !DECODED_FIRST.has(name)) throw new NotPrintable(`${describe(b)}: ${err.message}`);
    return withDump(`${header(name, b.readUInt32BE(4))} ***decode error: ${err.ofpError}***\n`, b);
  }
  const m = res.msg;
  // A type no OpenFlow 1.3 message has (the codec keeps it as it came).
  if (m.type === 'unknown' && m.version === 4 && m.ofType >= OF13_TYPES.length) return withDump('***decode error: OFPBRC_BAD_TYPE***\n', b);
  let text = m.type === 'unknown' ? undefined : formatMessage(m);
  // A field or action the codec keeps raw: OVS names it.
  if (text === undefined || UNMODELLED.test(text)) throw new NotPrintable(describe(b));
  if (m.type === 'echo_request' || m.type === 'echo_reply') {
    // Its payload's dump is printed from verbosity 2 up.
    if (verbosity < 2) text = `${text.slice(0, text.indexOf('\n'))}\n`;
  } else if (verbosity !== 2 && !(SAME_AS_2[m.type]?.(verbosity) ?? true)) {
    throw new NotPrintable(`${m.type} at verbosity ${verbosity} (only 2 and the others OVS prints alike)`);
  }
  return verbosity >= 5 ? withDump(text, b) : text;
}

function describe(b: Buffer): string {
  const v = b[0]!;
  const version = v >= 1 && v <= 6 ? `OpenFlow 1.${v - 1}` : `version ${v}`;
  return `this ${version} message (type ${b[1]}) is not printed by ofctl-ts${v === 4 ? '' : ' (OpenFlow 1.3 only)'}`;
}

/** C's atoi: leading blanks, a sign, digits; anything else ends it (0 when nothing is read). */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) | 0 : 0;
}

/** ofpbuf_put_hex: pairs of hex digits, blanks between pairs; undefined when anything else follows. */
export function parseHex(s: string): Buffer | undefined {
  const bytes: number[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
    if (i >= s.length) break;
    const pair = s.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return undefined;
    bytes.push(Number.parseInt(pair, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function printOrFail(b: Buffer, verbosity: number, out: (s: string | Buffer) => void): void {
  try {
    out(ofpToString(b, verbosity));
  } catch (err) {
    if (err instanceof NotPrintable) throw new Error(err.message);
    throw err;
  }
}

export async function ofpPrintCommand(args: readonly string[], opts: OfpPrintOptions, out: (s: string | Buffer) => void): Promise<number> {
  if (args.length < 1) throw new Error("'ofp-print' command requires at least 1 arguments");
  if (args.length > 2) throw new Error("'ofp-print' command takes at most 2 arguments");
  const verbosity = args.length > 1 ? atoi(args[1]!) : 2;
  let text: string;
  if (args[0] === '-') {
    const input = await readStdin();
    if (opts.raw) {
      printOrFail(input, verbosity, out);
      return 0;
    }
    if (!input.length) throw new Error('Failed to read stdin');
    // ds_get_line: the first line, without its newline.
    const nl = input.indexOf(10);
    text = input.subarray(0, nl < 0 ? input.length : nl).toString('latin1');
  } else {
    text = args[0]!;
  }
  const b = parseHex(text);
  if (!b) throw new Error('trailing garbage following hex bytes');
  printOrFail(b, verbosity, out);
  return 0;
}

export async function ofpParseCommand(args: readonly string[], opts: OfpPrintOptions, out: (s: string | Buffer) => void): Promise<number> {
  if (args.length !== 1) throw new Error(`'ofp-parse' command ${args.length ? 'takes at most 1 arguments' : 'requires at least 1 arguments'}`);
  const file = args[0]!;
  let data: Buffer;
  try {
    data = file === '-' ? await readStdin() : await readFile(file);
  } catch (err) {
    throw new Error(`${file}: open (${strerror(err)})`);
  }
  // Each message is printed before the next is read, as OVS does: what came before an error stays printed.
  for (let at = 0; at < data.length;) {
    if (data.length - at < 8) throw new Error(`${file}: unexpected end of file mid-message`);
    const length = data.readUInt16BE(at + 2);
    if (length < 8) throw new Error(`${file}: ${length}-byte message is too short for OpenFlow`);
    if (at + length > data.length) throw new Error(`${file}: unexpected end of file mid-message`);
    printOrFail(data.subarray(at, at + length), 2 + (opts.more ?? 0), out);
    at += length;
  }
  return 0;
}
