// output_reg: output to the port held in a subfield (NXAST_OUTPUT_REG, or NXAST_OUTPUT_REG2 as
// peers may send it). Text: output:SUBFIELD, read by the output record's keyword, or output_reg:SUBFIELD.
import { checkSubfield, encodeOfsNbits, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { ActionRecord, checkFieldPrereq, nxHeader, ParseContext } from './record.js';

export interface OutputReg {
  readonly type: 'output_reg';
  readonly src: Subfield;
  readonly maxLen: number;
}

const NXAST_OUTPUT_REG = 15, NXAST_OUTPUT_REG2 = 32;

/** `output:SUBFIELD`: the whole packet (max_len 65535), as ovs-ofctl writes it. */
export function outputRegFrom(text: string, offset: number, ctx: ParseContext): OutputReg {
  const src = parseSubfield(text, offset);
  checkFieldPrereq(src.field, ctx, 'source field', offset);
  return { type: 'output_reg', src, maxLen: 0xffff };
}

export const outputReg: ActionRecord<OutputReg> = {
  wire: [{ nx: NXAST_OUTPUT_REG }, { nx: NXAST_OUTPUT_REG2 }],
  encode: (w, a) => {
    nxHeader(w, 24, NXAST_OUTPUT_REG);
    w.u16(encodeOfsNbits(a.src.ofs, a.src.nBits)).u32(subfieldHeader(a.src.field)).u16(a.maxLen).zeros(6);
  },
  decode: (r, id) => {
    // The two layouts differ in where max_len sits: after the field (v1) or before it (v2).
    const ofsNbits = r.u16();
    const maxLen2 = id === NXAST_OUTPUT_REG2 ? r.u16() : 0;
    const hAt = r.pos;
    const field = readSubfieldHeader(r);
    const maxLen = id === NXAST_OUTPUT_REG2 ? maxLen2 : r.u16();
    return { type: 'output_reg', src: checkSubfield(r, { field, ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt), maxLen };
  },
  print: (a) => `output:${formatSubfield(a.src)}`,
  // Printed output:SUBFIELD (the output record's keyword tells the two apart); output_reg:SUBFIELD
  // is OVS's older spelling, still read.
  parse: { output_reg: ({ value, valueAt }, ctx, out) => out.push(outputRegFrom(value, valueAt, ctx)) },
};
