// exit: stop executing actions here (NXAST_EXIT); the action set still runs. Text: exit.
import { ActionRecord, nxHeader } from './record.js';

export interface Exit {
  readonly type: 'exit';
}

const NXAST_EXIT = 17;

export const exit: ActionRecord<Exit> = {
  wire: [{ nx: NXAST_EXIT }],
  encode: (w) => {
    nxHeader(w, 16, NXAST_EXIT);
    w.zeros(6);
  },
  decode: () => ({ type: 'exit' }),
  print: () => 'exit',
  parse: {
    exit: (_kv, _ctx, out) => {
      out.push({ type: 'exit' });
    },
  },
};
