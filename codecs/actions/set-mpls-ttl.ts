// set_mpls_ttl: set the TTL of the outermost MPLS label (OFPAT_SET_MPLS_TTL, which OVS still
// writes in OpenFlow 1.3, warning that it is deprecated). Text as OVS's format_SET_MPLS_TTL():
// set_mpls_ttl(N); on an MPLS packet only.
import { intArg } from '../ofctl/syntax.js';
import { ActionRecord, inconsistent, isMpls } from './record.js';

export interface SetMplsTtl {
  readonly type: 'set_mpls_ttl';
  readonly ttl: number;
}

const OFPAT_SET_MPLS_TTL = 15;

export const setMplsTtl: ActionRecord<SetMplsTtl> = {
  wire: [{ of: OFPAT_SET_MPLS_TTL }],
  encode: (w, a) => w.u16(OFPAT_SET_MPLS_TTL).u16(8).u8(a.ttl).zeros(3),
  decode: (r) => ({ type: 'set_mpls_ttl', ttl: r.u8() }),
  print: (a) => `set_mpls_ttl(${a.ttl})`,
  parse: {
    set_mpls_ttl: ({ value, valueAt, keyAt }, ctx, out) => {
      const ttl = intArg(value, valueAt, 0xff, 'MPLS TTL');
      if (!ctx.unchecked && !isMpls(ctx.match)) inconsistent('set_mpls_ttl needs an mpls match', keyAt);
      out.push({ type: 'set_mpls_ttl', ttl });
    },
  },
};
