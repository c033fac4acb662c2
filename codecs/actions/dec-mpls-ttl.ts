// dec_mpls_ttl: decrement the TTL of the outermost MPLS label (OFPAT_DEC_MPLS_TTL). Text:
// dec_mpls_ttl; on an MPLS packet only.
import { ActionRecord, inconsistent, isMpls } from './record.js';

export interface DecMplsTtl {
  readonly type: 'dec_mpls_ttl';
}

const OFPAT_DEC_MPLS_TTL = 16;

export const decMplsTtl: ActionRecord<DecMplsTtl> = {
  wire: [{ of: OFPAT_DEC_MPLS_TTL }],
  encode: (w) => w.u16(OFPAT_DEC_MPLS_TTL).u16(8).zeros(4),
  decode: () => ({ type: 'dec_mpls_ttl' }),
  print: () => 'dec_mpls_ttl',
  parse: {
    dec_mpls_ttl: ({ keyAt }, ctx, out) => {
      if (!ctx.unchecked && !isMpls(ctx.match)) inconsistent('dec_mpls_ttl needs an mpls match', keyAt);
      out.push({ type: 'dec_mpls_ttl' });
    },
  },
};
