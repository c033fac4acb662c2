// set_queue: the queue for later outputs (OFPAT_SET_QUEUE). Text: set_queue:ID, and OpenFlow 1.0's
// enqueue:PORT:QUEUE, which has no 1.3 form: OVS writes set_queue, output, pop_queue.
import { intArg } from '../ofctl/syntax.js';
import { outputTo } from './output.js';
import type { ActionRecord } from './record.js';

export interface SetQueue {
  readonly type: 'set_queue';
  readonly queueId: number;
}

const OFPAT_SET_QUEUE = 21;

export const setQueue: ActionRecord<SetQueue> = {
  wire: [{ of: OFPAT_SET_QUEUE }],
  encode: (w, a) => w.u16(OFPAT_SET_QUEUE).u16(8).u32(a.queueId),
  decode: (r) => ({ type: 'set_queue', queueId: r.u32() }),
  print: (a) => `set_queue:${a.queueId}`,
  parse: {
    set_queue: ({ value, valueAt }, _ctx, out) => {
      out.push({ type: 'set_queue', queueId: intArg(value, valueAt, 0xffffffff, 'queue') });
    },
    enqueue: ({ value, valueAt }, _ctx, out) => {
      const [port = '', queue = ''] = value.split(/[:,]/);
      out.push({ type: 'set_queue', queueId: intArg(queue, valueAt, 0xffffffff, 'queue') });
      out.push({ ...outputTo(port, valueAt, 'enqueue'), maxLen: 0xffff });
      out.push({ type: 'pop_queue' });
    },
  },
};
