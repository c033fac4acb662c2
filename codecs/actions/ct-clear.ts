// ct_clear: forget the packet's connection tracking state (NXAST_CT_CLEAR). Text: ct_clear.
import { ActionRecord, nxHeader } from './record.js';

export interface CtClear {
  readonly type: 'ct_clear';
}

const NXAST_CT_CLEAR = 43;

export const ctClear: ActionRecord<CtClear> = {
  wire: [{ nx: NXAST_CT_CLEAR }],
  encode: (w) => {
    nxHeader(w, 16, NXAST_CT_CLEAR);
    w.zeros(6);
  },
  decode: () => ({ type: 'ct_clear' }),
  print: () => 'ct_clear',
  parse: {
    ct_clear: (_kv, _ctx, out) => {
      out.push({ type: 'ct_clear' });
    },
  },
};
