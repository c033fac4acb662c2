// dec_ttl: decrement the IP TTL (OFPAT_DEC_NW_TTL); with controller ids, NXAST_DEC_TTL_CNT_IDS
// (the controllers told when the TTL runs out). Text as OVS's format_DEC_TTL(): dec_ttl, or
// dec_ttl(ID,...) for the Nicira form, which is kept as it came; on an ip or ipv6 match only.
import { fail } from '../ofctl/syntax.js';
import { atoi } from './multipath.js';
import { ActionRecord, isIp, nxHeader } from './record.js';

export interface DecTtl {
  readonly type: 'dec_ttl';
  /** The controller ids of NXAST_DEC_TTL_CNT_IDS; none for OFPAT_DEC_NW_TTL. */
  readonly ids?: readonly number[];
}

const OFPAT_DEC_NW_TTL = 24;
const NXAST_DEC_TTL_CNT_IDS = 21;

export const decTtl: ActionRecord<DecTtl> = {
  wire: [{ of: OFPAT_DEC_NW_TTL }, { nx: NXAST_DEC_TTL_CNT_IDS }],
  encode: (w, a) => {
    if (!a.ids) {
      w.u16(OFPAT_DEC_NW_TTL).u16(8).zeros(4);
      return;
    }
    const start = w.pos;
    nxHeader(w, 0, NXAST_DEC_TTL_CNT_IDS);
    w.u16(a.ids.length).zeros(4);
    for (const id of a.ids) w.u16(id);
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r, id, len, at) => {
    if (id === OFPAT_DEC_NW_TTL) return { type: 'dec_ttl' };
    const n = r.u16();
    if (r.bytes(4).some((b) => b !== 0)) r.fail('dec_ttl_cnt_ids padding is not zero (NXBRC_MUST_BE_ZERO)', at);
    if (len - 16 < 2 * n) r.fail(`dec_ttl_cnt_ids: ${len - 16} bytes hold fewer than ${n} controller ids`, at);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(r.u16());
    return { type: 'dec_ttl', ids };
  },
  print: (a) => (a.ids ? `dec_ttl(${a.ids.join(',')})` : 'dec_ttl'),
  parse: {
    dec_ttl: ({ value, valueAt, keyAt }, ctx, out) => {
      // parse_DEC_TTL(): ids split at ", ", each read by atoi().
      const ids = value === '' ? undefined : value.split(/[, ]+/).filter((s) => s !== '').map((s) => atoi(s) & 0xffff);
      if (ids && ids.length === 0) fail('dec_ttl_cnt_ids: expected at least one controller id.', valueAt);
      if (!ctx.unchecked && !isIp(ctx.match)) fail('no usable protocol (dec_ttl needs an ip or ipv6 match)', keyAt);
      out.push(ids ? { type: 'dec_ttl', ids } : { type: 'dec_ttl' });
    },
  },
};
