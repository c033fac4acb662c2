// reg_move: copy one subfield into another of the same width (NXAST_REG_MOVE). Text:
// move:SRC->DST.
import { checkSubfield, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail, splitArrow } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';

export interface RegMove {
  readonly type: 'reg_move';
  readonly src: Subfield;
  readonly dst: Subfield;
}

const NXAST_REG_MOVE = 6;

/** `SRC->DST` as in move (pipelines/ write moves in this text too). */
export function parseMove(text: string, offset = 0): RegMove {
  const [s, d] = splitArrow(text, offset, ' following source');
  const src = parseSubfield(s, offset);
  const dst = parseSubfield(d, offset + s.length + 2);
  if (src.nBits !== dst.nBits) fail(`${text}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`, offset);
  return { type: 'reg_move', src, dst };
}

export const regMove: ActionRecord<RegMove> = {
  wire: [{ nx: NXAST_REG_MOVE }],
  encode: (w, a) => {
    nxHeader(w, 24, NXAST_REG_MOVE);
    w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).u32(subfieldHeader(a.src.field)).u32(subfieldHeader(a.dst.field));
  },
  decode: (r) => {
    const nBits = r.u16();
    const srcOfs = r.u16();
    const dstOfs = r.u16();
    const hAt = r.pos;
    const src = checkSubfield(r, { field: readSubfieldHeader(r), ofs: srcOfs, nBits }, hAt);
    const dst = checkSubfield(r, { field: readSubfieldHeader(r), ofs: dstOfs, nBits }, hAt);
    return { type: 'reg_move', src, dst };
  },
  print: (a) => `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`,
  parse: {
    move: ({ value, valueAt }, _ctx, out) => {
      out.push(parseMove(value, valueAt));
    },
  },
};
