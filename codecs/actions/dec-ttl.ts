// dec_ttl: decrement the IP TTL (OFPAT_DEC_NW_TTL). Text: dec_ttl, on an ip or ipv6 match only.
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, isIp } from './record.js';

export interface DecTtl {
  readonly type: 'dec_ttl';
}

const OFPAT_DEC_NW_TTL = 24;

export const decTtl: ActionRecord<DecTtl> = {
  wire: [{ of: OFPAT_DEC_NW_TTL }],
  encode: (w) => w.u16(OFPAT_DEC_NW_TTL).u16(8).zeros(4),
  decode: () => ({ type: 'dec_ttl' }),
  print: () => 'dec_ttl',
  parse: {
    dec_ttl: ({ keyAt }, ctx, out) => {
      if (!isIp(ctx.match)) fail('no usable protocol (dec_ttl needs an ip or ipv6 match)', keyAt);
      out.push({ type: 'dec_ttl' });
    },
  },
};
