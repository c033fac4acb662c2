// group: send the packet to a group (OFPAT_GROUP). Text: group:ID.
import { intArg } from '../ofctl/syntax.js';
import type { ActionRecord } from './record.js';

export interface Group {
  readonly type: 'group';
  readonly groupId: number;
}

const OFPAT_GROUP = 22;

export const group: ActionRecord<Group> = {
  wire: [{ of: OFPAT_GROUP }],
  encode: (w, a) => w.u16(OFPAT_GROUP).u16(8).u32(a.groupId),
  decode: (r) => ({ type: 'group', groupId: r.u32() }),
  print: (a) => `group:${a.groupId}`,
  parse: {
    group: ({ value, valueAt }, _ctx, out) => {
      out.push({ type: 'group', groupId: intArg(value, valueAt, 0xffffffff, 'group') });
    },
  },
};
