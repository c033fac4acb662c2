// reg_load: write an immediate into a subfield (NXAST_REG_LOAD). Text: load:VALUE->SUBFIELD; OVS
// also writes a masked set_field this way in OpenFlow 1.3 (set-field.ts).
import { allOnes } from '../openflow/fields.js';
import { checkSubfield, encodeOfsNbits, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail, inColumn, splitArrow } from '../ofctl/syntax.js';
import { hexOrZero, parseUint } from '../ofctl/values.js';
import { ActionRecord, checkFieldPrereq, nxHeader } from './record.js';
import { needsRegLoad2 } from './reg-load2.js';
import { maskedLoads } from './set-field.js';

export interface RegLoad {
  readonly type: 'reg_load';
  readonly dst: Subfield;
  readonly value: bigint;
}

const NXAST_REG_LOAD = 7;

export const regLoad: ActionRecord<RegLoad> = {
  wire: [{ nx: NXAST_REG_LOAD }],
  encode: (w, a) => {
    nxHeader(w, 24, NXAST_REG_LOAD);
    w.u16(encodeOfsNbits(a.dst.ofs, a.dst.nBits)).u32(subfieldHeader(a.dst.field)).u64(a.value);
  },
  decode: (r) => {
    const ofsNbits = r.u16();
    const hAt = r.pos;
    const field = readSubfieldHeader(r);
    const value = r.u64();
    const dst = checkSubfield(r, { field, ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt);
    if (!field.writable) r.fail(`load into read-only field ${field.name}`, hAt);
    if (dst.nBits < 64 && value >> BigInt(dst.nBits) !== 0n) r.fail('load value wider than its destination', hAt);
    return { type: 'reg_load', dst, value };
  },
  print: (a) => `load:${hexOrZero(a.value)}->${formatSubfield(a.dst)}`,
  parse: {
    load: ({ value, valueAt }, ctx, out) => {
      const [v, d] = splitArrow(value, valueAt, '');
      const dst = parseSubfield(d, valueAt + v.length + 2);
      if (!dst.field.writable) fail(`${dst.field.name} is read-only`, valueAt);
      // OVS reads load as a masked set_field, and checks it as one.
      checkFieldPrereq(dst.field, ctx, 'set_field', valueAt);
      if (dst.field.name === 'vlan_vid') ctx.vlan = true;
      const n = inColumn(valueAt, () => parseUint(v));
      if (dst.nBits !== 64 && n >> BigInt(dst.nBits) !== 0n) fail(`${value}: value does not fit into ${dst.nBits} bits`, valueAt);
      if (needsRegLoad2(dst.field)) {
        // OVS reads it as a set_field, which it writes as NXAST_REG_LOAD2 for such a field.
        const mask = allOnes(dst.nBits) << BigInt(dst.ofs);
        out.push({ type: 'reg_load2', field: dst.field, value: n << BigInt(dst.ofs), ...(mask === allOnes(dst.field.bits) ? {} : { mask }) });
        return;
      }
      // Wider than one NXAST_REG_LOAD (ct_label[], ipv6_src[]): 64-bit loads, lowest first, as OVS writes it.
      if (dst.nBits > 64) out.push(...maskedLoads(dst.field, n << BigInt(dst.ofs), allOnes(dst.nBits) << BigInt(dst.ofs)));
      else out.push({ type: 'reg_load', dst, value: n });
    },
  },
};
