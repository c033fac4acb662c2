// fin_timeout: shorten the flow's timeouts once a TCP FIN or RST is seen (NXAST_FIN_TIMEOUT). Text
// as OVS's format_FIN_TIMEOUT(): fin_timeout(idle_timeout=N,hard_timeout=N), each only when set;
// on a tcp match only.
import { IPPROTO_TCP, slotValue } from '../openflow/match.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { fail, intArg } from '../ofctl/syntax.js';
import { ActionRecord, inconsistent, isIp, nxHeader } from './record.js';

export interface FinTimeout {
  readonly type: 'fin_timeout';
  readonly idle: number;
  readonly hard: number;
}

const NXAST_FIN_TIMEOUT = 19;

export const finTimeout: ActionRecord<FinTimeout> = {
  wire: [{ nx: NXAST_FIN_TIMEOUT }],
  encode: (w, a) => {
    nxHeader(w, 16, NXAST_FIN_TIMEOUT);
    w.u16(a.idle).u16(a.hard).zeros(2);
  },
  decode: (r) => ({ type: 'fin_timeout', idle: r.u16(), hard: r.u16() }),
  print: (a) => {
    const parts = [];
    if (a.idle) parts.push(`idle_timeout=${a.idle}`);
    if (a.hard) parts.push(`hard_timeout=${a.hard}`);
    return `fin_timeout(${parts.join(',')})`;
  },
  parse: {
    fin_timeout: ({ value, valueAt, keyAt }, ctx, out) => {
      let idle = 0, hard = 0;
      for (const kv of splitKeyValues(value, valueAt)) {
        if (kv.key === 'idle_timeout') idle = intArg(kv.value, kv.valueAt, 0xffff, 'idle_timeout');
        else if (kv.key === 'hard_timeout') hard = intArg(kv.value, kv.valueAt, 0xffff, 'hard_timeout');
        else fail(`invalid key '${kv.key}' in 'fin_timeout' argument`, kv.keyAt);
      }
      if (!ctx.unchecked && (!isIp(ctx.match) || slotValue(ctx.match, 'nw_proto') !== IPPROTO_TCP)) inconsistent('fin_timeout needs a tcp match', keyAt);
      out.push({ type: 'fin_timeout', idle, hard });
    },
  },
};
