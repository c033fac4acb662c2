// clone: run nested actions on a copy of the packet, then go on with the original (NXAST_CLONE).
// Text as OVS's format_CLONE(): clone(ACTION,...); the nested list is read, written and printed by
// the action codec itself (index.ts), as for ct.
import type { Reader, Writer } from '../openflow/bytes.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { Action, decodeActions, encodeActions, formatAction, parseAction } from './index.js';
import { P_ANY } from '../openflow/protocols.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Clone {
  readonly type: 'clone';
  readonly actions: readonly Action[];
}

const NXAST_CLONE = 42;

export const clone: ActionRecord<Clone> = {
  wire: [{ nx: NXAST_CLONE }],
  encode: (w: Writer, a) => {
    const start = w.pos;
    nxHeader(w, 0, NXAST_CLONE);
    w.zeros(6);
    encodeActions(w, a.actions);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r: Reader) => {
    r.skip(6);
    return { type: 'clone', actions: decodeActions(r.sub(r.remaining)) };
  },
  print: (a) => `clone(${a.actions.map(formatAction).join(',')})`,
  parse: {
    clone: ({ value, valueAt }, ctx, out) => {
      // The copy's VLAN state is its own: the original goes on as it was.
      // OVS parses the nested list with ofpacts_parse_copy(), which starts the flow's usable protocols
      // over: what the actions before clone narrowed is forgotten.
      if (ctx.usable) ctx.usable.protocols = P_ANY;
      const inner = { match: ctx.match, inWriteActions: ctx.inWriteActions, vlan: ctx.vlan, inCt: false, usable: ctx.usable, unchecked: ctx.unchecked };
      const actions: Action[] = [];
      for (const kv of splitKeyValues(value, valueAt)) parseAction(kv, inner, actions);
      out.push({ type: 'clone', actions });
    },
  },
};
