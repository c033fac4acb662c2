// push / pop: push a subfield's bits onto the stack, or pop the top into a subfield
// (NXAST_STACK_PUSH / NXAST_STACK_POP, OVS's one ofpact_stack). Text as OVS's nxm_format_stack_*():
// push:NXM_NX_REG0[] and pop:NXM_NX_REG0[0..15].
import { checkSubfield, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, checkFieldPrereq, KeywordParser, nxHeader } from './record.js';

export interface Stack {
  readonly type: 'stack';
  readonly pop: boolean;
  readonly subfield: Subfield;
}

const NXAST_STACK_PUSH = 27, NXAST_STACK_POP = 28;

function parseStack(pop: boolean): KeywordParser {
  return ({ value, valueAt }, ctx, out) => {
    const subfield = parseSubfield(value, valueAt);
    if (pop && !subfield.field.writable) fail(`${subfield.field.name} is read-only`, valueAt);
    checkFieldPrereq(subfield.field, ctx, pop ? 'destination field' : 'source field', valueAt);
    out.push({ type: 'stack', pop, subfield });
  };
}

export const stack: ActionRecord<Stack> = {
  wire: [{ nx: NXAST_STACK_PUSH }, { nx: NXAST_STACK_POP }],
  encode: (w, a) => {
    nxHeader(w, 24, a.pop ? NXAST_STACK_POP : NXAST_STACK_PUSH);
    w.u16(a.subfield.ofs).u32(subfieldHeader(a.subfield.field)).u16(a.subfield.nBits).zeros(6);
  },
  decode: (r, id, _len, at) => {
    const ofs = r.u16();
    const hAt = r.pos;
    const field = readSubfieldHeader(r);
    const nBits = r.u16();
    const pop = id === NXAST_STACK_POP;
    const subfield = checkSubfield(r, { field, ofs, nBits }, hAt);
    if (pop && !field.writable) r.fail(`pop into read-only field ${field.name}`, at);
    return { type: 'stack', pop, subfield };
  },
  print: (a) => `${a.pop ? 'pop' : 'push'}:${formatSubfield(a.subfield)}`,
  parse: { push: parseStack(false), pop: parseStack(true) },
};
