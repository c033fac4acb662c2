// reg_move: copy one subfield into another of the same width (NXAST_REG_MOVE; ONF's copy_field,
// which OVS reads in OpenFlow 1.3 and writes back in that form). Text: move:SRC->DST.
import { readSubfield, Subfield, subfieldWireHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail, splitArrow } from '../ofctl/syntax.js';
import { ActionRecord, checkFieldPrereq, nxHeader, OFPAT_EXPERIMENTER, ONF_VENDOR } from './record.js';

export interface RegMove {
  readonly type: 'reg_move';
  readonly src: Subfield;
  readonly dst: Subfield;
  /** Came as ONF copy_field (ONFACT_COPY_FIELD). */
  readonly onf?: true;
}

const NXAST_REG_MOVE = 6;
const ONFACT_COPY_FIELD = 3200;

/** The header OVS writes for a field in OpenFlow 1.3's copy_field: its OXM one where it has one. */
const oxmFirst = (f: Subfield['field']): number => (f.oxm ?? f.nxm)!.header;

/** `SRC->DST` as in move (pipelines/ write moves in this text too). */
export function parseMove(text: string, offset = 0): RegMove {
  const [s, d] = splitArrow(text, offset, ' following source');
  const src = parseSubfield(s, offset);
  const dst = parseSubfield(d, offset + s.length + 2);
  if (src.nBits !== dst.nBits) fail(`${text}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`, offset);
  return { type: 'reg_move', src, dst };
}

export const regMove: ActionRecord<RegMove> = {
  wire: [{ nx: NXAST_REG_MOVE }, { onf: ONFACT_COPY_FIELD }],
  encode: (w, a) => {
    if (a.onf) {
      w.u16(OFPAT_EXPERIMENTER).u16(32).u32(ONF_VENDOR).u16(ONFACT_COPY_FIELD).zeros(2);
      w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).zeros(2).u32(oxmFirst(a.src.field)).u32(oxmFirst(a.dst.field)).zeros(4);
      return;
    }
    nxHeader(w, 24, NXAST_REG_MOVE);
    w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).u32(subfieldWireHeader(a.src)).u32(subfieldWireHeader(a.dst));
  },
  decode: (r, id, _len, at) => {
    const onf = id === ONFACT_COPY_FIELD;
    if (onf && r.bytes(2).some((b) => b !== 0)) r.fail('copy_field padding is not zero', at);
    const nBits = r.u16();
    const srcOfs = r.u16();
    const dstOfs = r.u16();
    if (onf) r.skip(2);
    const src = readSubfield(r, srcOfs, nBits);
    const dst = readSubfield(r, dstOfs, nBits);
    return { type: 'reg_move', src, dst, ...(onf ? { onf: true as const } : {}) };
  },
  print: (a) => `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`,
  parse: {
    move: ({ value, valueAt }, ctx, out) => {
      const m = parseMove(value, valueAt);
      checkFieldPrereq(m.src.field, ctx, 'source field', valueAt);
      checkFieldPrereq(m.dst.field, ctx, 'destination field', valueAt);
      out.push(m);
    },
  },
};
