// check_pkt_larger: write 1 into a one-bit subfield when the packet is longer than N bytes, else 0
// (NXAST_CHECK_PKT_LARGER). Text as OVS's format_CHECK_PKT_LARGER(): check_pkt_larger(N)->DST.
import { checkSubfield, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail, intArg } from '../ofctl/syntax.js';
import { ActionRecord, checkFieldPrereq, nxHeader } from './record.js';

export interface CheckPktLarger {
  readonly type: 'check_pkt_larger';
  readonly pktLen: number;
  readonly dst: Subfield;
}

const NXAST_CHECK_PKT_LARGER = 49;

export const checkPktLarger: ActionRecord<CheckPktLarger> = {
  wire: [{ nx: NXAST_CHECK_PKT_LARGER }],
  encode: (w, a) => {
    nxHeader(w, 24, NXAST_CHECK_PKT_LARGER);
    w.u16(a.pktLen).u16(a.dst.ofs).u32(subfieldHeader(a.dst.field)).zeros(6);
  },
  decode: (r) => {
    const pktLen = r.u16();
    const ofs = r.u16();
    const hAt = r.pos;
    const dst = checkSubfield(r, { field: readSubfieldHeader(r), ofs, nBits: 1 }, hAt);
    if (!dst.field.writable) r.fail(`check_pkt_larger into read-only field ${dst.field.name}`, hAt);
    return { type: 'check_pkt_larger', pktLen, dst };
  },
  print: (a) => `check_pkt_larger(${a.pktLen})->${formatSubfield(a.dst)}`,
  parse: {
    // The lexer gives `N)->DST`.
    check_pkt_larger: ({ value, valueAt }, ctx, out) => {
      const m = /^([^)]*)\)->(.*)$/s.exec(value);
      if (!m) fail(`${value}: missing \`->'`, valueAt);
      const pktLen = intArg(m![1]!.trim(), valueAt, 0xffff, 'pkt_len');
      const dst = parseSubfield(m![2]!, valueAt + m![1]!.length + 3);
      if (!dst.field.writable) fail(`${dst.field.name} is read-only`, valueAt);
      if (dst.nBits !== 1) fail('Only 1-bit destination field is allowed', valueAt);
      checkFieldPrereq(dst.field, ctx, 'destination field', valueAt);
      out.push({ type: 'check_pkt_larger', pktLen, dst });
    },
  },
};
