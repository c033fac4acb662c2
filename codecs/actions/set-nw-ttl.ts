// set_nw_ttl: set the IP TTL (OFPAT_SET_NW_TTL, native in OpenFlow 1.3). Text: mod_nw_ttl:TTL or
// set_nw_ttl:TTL, on an ip or ipv6 match only.
import { fail, intArg } from '../ofctl/syntax.js';
import { ActionRecord, isIp, KeywordParser } from './record.js';

export interface SetNwTtl {
  readonly type: 'set_nw_ttl';
  readonly ttl: number;
}

const OFPAT_SET_NW_TTL = 23;

function parseTtl(keyword: string): KeywordParser {
  return ({ value, valueAt, keyAt }, ctx, out) => {
    const ttl = intArg(value, valueAt, 0xffffffff, 'TTL');
    if (ttl > 255) fail(`invalid TTL "${value}"`, valueAt);
    if (!ctx.unchecked && !isIp(ctx.match)) fail(`no usable protocol (${keyword} needs an ip or ipv6 match)`, keyAt);
    out.push({ type: 'set_nw_ttl', ttl });
  };
}

export const setNwTtl: ActionRecord<SetNwTtl> = {
  wire: [{ of: OFPAT_SET_NW_TTL }],
  encode: (w, a) => w.u16(OFPAT_SET_NW_TTL).u16(8).u8(a.ttl).zeros(3),
  decode: (r) => ({ type: 'set_nw_ttl', ttl: r.u8() }),
  print: (a) => `mod_nw_ttl:${a.ttl}`,
  // set_nw_ttl is OVS's other spelling of the same action (it prints mod_nw_ttl).
  parse: { mod_nw_ttl: parseTtl('mod_nw_ttl'), set_nw_ttl: parseTtl('set_nw_ttl') },
};
