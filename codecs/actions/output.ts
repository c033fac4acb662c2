// output: send the packet to a port (OFPAT_OUTPUT). Text: output:PORT, a bare port (`1`, `LOCAL`);
// `output:SUBFIELD` writes output_reg and `output(port=P,max_len=N)` output_trunc instead, as in
// OVS's parse_OUTPUT(). The controller keyword (controller.ts) writes this kind when it can.
import { formatPort, namedPort, OFPP_CONTROLLER, OFPP_MAX, portByName, portFromOf11, portToOf11 } from '../openflow/ports.js';
import type { KeyValue } from '../ofctl/lexer.js';
import { looksLikeSubfield } from '../ofctl/subfield.js';
import { fail } from '../ofctl/syntax.js';
import { outputRegFrom } from './output-reg.js';
import { isTruncate, parseOutputTrunc } from './output-trunc.js';
import type { ActionRecord } from './record.js';

export interface Output {
  readonly type: 'output';
  readonly port: number;
  readonly maxLen: number;
}

const OFPAT_OUTPUT = 0;

/** `output:PORT` and the bare-port forms; CONTROLLER sends whole packets (max_len 65535). `verb` names the action in errors. */
export function outputTo(portText: string, offset: number, verb = 'output'): Output {
  const named = namedPort(portText);
  if (named !== undefined) {
    if (named === 0xffff) fail(`${portText}: ${verb} to unknown port`, offset);
    return { type: 'output', port: named, maxLen: named === OFPP_CONTROLLER ? 0xffff : 0 };
  }
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(portText)) fail(`${portText}: ${verb} to unknown port`, offset);
  const p = Number(portText);
  if (p >= OFPP_MAX && p < 0xfff8) fail(`${portText}: ${verb} to unknown port`, offset);
  if (p > 0xffff) fail(`${portText}: ${verb} to unknown port`, offset);
  return { type: 'output', port: p, maxLen: p === OFPP_CONTROLLER ? 0xffff : 0 };
}

const PORT_WORDS = new Set(['in_port', 'table', 'normal', 'flood', 'all', 'local', 'any', 'none']);

/**
 * A key that is a port (`1`, `0x10`, a bare port word, or a port's name when names are set) outputs
 * there, as OVS's ofpacts_parse falls back to ofputil_port_from_string() for a key no action claims.
 * undefined: not a port.
 */
export function barePortOutput({ key, keyAt, delim }: KeyValue): Output | undefined {
  if (/^\d+$/.test(key) || /^0x[0-9a-f]+$/i.test(key)) return outputTo(key, keyAt);
  if (delim === '' && (PORT_WORDS.has(key.toLowerCase()) || namedPort(key) !== undefined)) return outputTo(key, keyAt);
  return undefined;
}

export const output: ActionRecord<Output> = {
  wire: [{ of: OFPAT_OUTPUT }],
  encode: (w, a) => w.u16(OFPAT_OUTPUT).u16(16).u32(portToOf11(a.port)).u16(a.maxLen).zeros(6),
  decode: (r, _id, len, at) => {
    if (len !== 16) r.fail(`OUTPUT action length ${len} != 16`, at);
    const port = r.u32();
    const maxLen = r.u16();
    return { type: 'output', port: portFromOf11(port), maxLen };
  },
  print: (a) => {
    if (a.port < OFPP_MAX) return `output:${formatPort(a.port)}`;
    return a.port === OFPP_CONTROLLER ? `CONTROLLER:${a.maxLen}` : formatPort(a.port);
  },
  parse: {
    output: ({ value, valueAt }, ctx, out) => {
      if (isTruncate(value)) out.push(parseOutputTrunc(value, valueAt));
      else out.push(looksLikeSubfield(value) && portByName(value) === undefined ? outputRegFrom(value, valueAt, ctx) : outputTo(value, valueAt));
    },
  },
};
