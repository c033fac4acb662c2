// output_trunc: output a copy truncated to max_len bytes (NXAST_OUTPUT_TRUNC). Text as OVS's
// format_OUTPUT_TRUNC(): output(port=P,max_len=N); read by the output keyword when its argument
// names both (parse_OUTPUT(), parse_truncate_subfield()), in any order.
import { formatPort, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX } from '../openflow/ports.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { fail, intArg } from '../ofctl/syntax.js';
import { parsePortNumber } from '../ofctl/values.js';
import { ActionRecord, nxHeader } from './record.js';

export interface OutputTrunc {
  readonly type: 'output_trunc';
  readonly port: number;
  readonly maxLen: number;
}

const NXAST_OUTPUT_TRUNC = 39;
/** ETH_HEADER_LEN: OVS's smallest max_len. */
const MIN_LEN = 14;

/** `output(port=P,max_len=N)` is this action, not an output: OVS looks for both words. */
export const isTruncate = (value: string): boolean => value.includes('port') && value.includes('max_len');

export function parseOutputTrunc(value: string, valueAt: number): OutputTrunc {
  let port = 0, maxLen = 0;
  for (const kv of splitKeyValues(value, valueAt)) {
    if (kv.key === 'port') {
      const p = parsePortNumber(kv.value);
      if (p === undefined) fail(`output to unknown truncate port: ${kv.value}`, kv.valueAt);
      if (p! > OFPP_MAX && p !== OFPP_LOCAL && p !== OFPP_IN_PORT) fail(`output to unsupported truncate port: ${kv.value}`, kv.valueAt);
      port = p!;
    } else if (kv.key === 'max_len') {
      maxLen = intArg(kv.value, kv.valueAt, 0xffffffff, 'max_len');
      if (maxLen < MIN_LEN) fail(`max_len ${maxLen} is less than the minimum value ${MIN_LEN}`, kv.valueAt);
    } else {
      fail(`invalid key '${kv.key}' in output_trunc argument`, kv.keyAt);
    }
  }
  return { type: 'output_trunc', port, maxLen };
}

export const outputTrunc: ActionRecord<OutputTrunc> = {
  wire: [{ nx: NXAST_OUTPUT_TRUNC }],
  encode: (w, a) => {
    nxHeader(w, 16, NXAST_OUTPUT_TRUNC);
    w.u16(a.port).u32(a.maxLen);
  },
  decode: (r, _id, _len, at) => {
    const port = r.u16();
    const maxLen = r.u32();
    if (maxLen < MIN_LEN) r.fail(`output_trunc max_len ${maxLen} is less than ${MIN_LEN}`, at);
    return { type: 'output_trunc', port, maxLen };
  },
  print: (a) => `output(port=${formatPort(a.port)},max_len=${a.maxLen})`,
  parse: {}, // read by output's keyword (output.ts)
};
