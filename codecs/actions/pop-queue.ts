// pop_queue: back to the queue the packet came in with (NXAST_POP_QUEUE). Text: pop_queue.
import { ActionRecord, nxHeader } from './record.js';

export interface PopQueue {
  readonly type: 'pop_queue';
}

const NXAST_POP_QUEUE = 5;

export const popQueue: ActionRecord<PopQueue> = {
  wire: [{ nx: NXAST_POP_QUEUE }],
  encode: (w) => {
    nxHeader(w, 16, NXAST_POP_QUEUE);
    w.zeros(6);
  },
  decode: () => ({ type: 'pop_queue' }),
  print: () => 'pop_queue',
  parse: {
    pop_queue: (_kv, _ctx, out) => {
      out.push({ type: 'pop_queue' });
    },
  },
};
