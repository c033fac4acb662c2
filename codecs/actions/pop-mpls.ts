// pop_mpls: pop the outermost MPLS label stack entry (OFPAT_POP_MPLS), giving the packet the
// Ethertype named. Text as OVS's format_POP_MPLS(): pop_mpls:0x0800; on an MPLS packet only.
import { ActionRecord, inconsistent, isMpls, withDlType } from './record.js';
import { ethertypeArg, formatEthertype } from './push-mpls.js';

export interface PopMpls {
  readonly type: 'pop_mpls';
  readonly ethertype: number;
}

const OFPAT_POP_MPLS = 20;

export const popMpls: ActionRecord<PopMpls> = {
  wire: [{ of: OFPAT_POP_MPLS }],
  encode: (w, a) => w.u16(OFPAT_POP_MPLS).u16(8).u16(a.ethertype).zeros(2),
  decode: (r) => ({ type: 'pop_mpls', ethertype: r.u16() }),
  print: (a) => `pop_mpls:${formatEthertype(a.ethertype)}`,
  parse: {
    pop_mpls: ({ value, valueAt, keyAt }, ctx, out) => {
      const ethertype = ethertypeArg(value, valueAt, 'pop_mpls');
      if (!ctx.unchecked && !isMpls(ctx.match)) inconsistent('pop_mpls needs an mpls match', keyAt);
      ctx.match = withDlType(ctx.match, ethertype);
      out.push({ type: 'pop_mpls', ethertype });
    },
  },
};
