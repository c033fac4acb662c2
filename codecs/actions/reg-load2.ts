// reg_load2: write a field, masked or not, as one OXM inside a Nicira action (NXAST_REG_LOAD2).
// OVS writes it for a set_field that OFPAT_SET_FIELD cannot carry in OpenFlow 1.3 (a masked one)
// and that NXAST_REG_LOAD cannot either: a variable-length field (tun_metadata) or an experimenter
// OXM (ERSPAN, NSH…); and it sends one it read back the same way. Printed as set_field.
import type { Reader, Writer } from '../openflow/bytes.js';
import { allOnes, FieldDef, FieldHeader, fieldByHeader, headerValueBytes, OFPXMC_EXPERIMENTER } from '../openflow/fields.js';
import { byteLength } from '../openflow/match.js';
import { formatFieldValue } from '../ofctl/values.js';
import { ActionRecord, nxHeader } from './record.js';
import { setFieldText } from './set-field.js';

export interface RegLoad2 {
  readonly type: 'reg_load2';
  readonly field: FieldDef;
  readonly value: bigint;
  /** Undefined: the whole field. */
  readonly mask?: bigint;
}

const NXAST_REG_LOAD2 = 33;

/** The header OVS writes for a field inside Nicira actions (its oldest: NXM before OXM). */
export function nxActionHeader(f: FieldDef): FieldHeader {
  return (f.nxm ?? f.oxm)!;
}

/** A masked write of f goes out as NXAST_REG_LOAD2, not as NXAST_REG_LOADs (OVS's set_field_to_nxast()). */
export function needsRegLoad2(f: FieldDef): boolean {
  return f.variableLen || nxActionHeader(f).experimenter !== undefined;
}

/** A field's value width on the wire: a variable-length one's shortest that holds value (and mask), as mf_field_len(). */
export function valueBytes(f: FieldDef, value: bigint, mask?: bigint): number {
  if (!f.variableLen) return nxActionHeader(f).header & 0xff;
  return mask === undefined ? byteLength(value) : Math.max(byteLength(value), byteLength(mask));
}

/** One OXM entry (header, experimenter id, value, mask), as nxm_put_entry_raw() writes it. */
export function putEntry(w: Writer, f: FieldDef, value: bigint, mask?: bigint): void {
  const h = nxActionHeader(f);
  const bytes = valueBytes(f, value, mask);
  const exp = h.experimenter === undefined ? 0 : 4;
  const len = (mask === undefined ? bytes : 2 * bytes) + exp;
  w.u32(((h.header & 0xfffffe00) | (mask === undefined ? 0 : 0x100) | len) >>> 0);
  if (exp) w.u32(h.experimenter!);
  w.uint(value, bytes);
  if (mask !== undefined) w.uint(mask, bytes);
}

/** Reads one OXM entry (nx_pull_entry()): its field, value and mask (undefined when it has none). */
export function pullEntry(r: Reader): { field: FieldDef; value: bigint; mask?: bigint } {
  const at = r.pos;
  let header = r.u32();
  let f: FieldDef | undefined;
  if (header >>> 16 === OFPXMC_EXPERIMENTER) {
    if ((header & 0xff) < 4 || r.remaining < 4) r.fail('experimenter OXM shorter than its experimenter id', at);
    header = ((header & 0xffffff00) | ((header & 0xff) - 4)) >>> 0;
    f = fieldByHeader(header, r.u32());
  } else {
    f = fieldByHeader(header);
  }
  if (!f) return r.fail(`unknown OXM field 0x${header.toString(16).padStart(8, '0')}`, at);
  const hasMask = (header & 0x100) !== 0;
  const len = header & 0xff;
  const width = !f.variableLen ? headerValueBytes(f, header) : hasMask ? len / 2 : len;
  if (!Number.isInteger(width) || (hasMask ? 2 * width : width) !== len || width > f.bits / 8) r.fail(`OXM field ${f.name} has length ${len}`, at);
  if (hasMask && !f.maskable) r.fail(`OXM field ${f.name} may not be masked`, at);
  const value = r.uint(width);
  if (!hasMask) return { field: f, value };
  return { field: f, value, mask: r.uint(width) };
}

export const regLoad2: ActionRecord<RegLoad2> = {
  wire: [{ nx: NXAST_REG_LOAD2 }],
  encode: (w, a) => {
    const start = w.pos;
    nxHeader(w, 0, NXAST_REG_LOAD2);
    putEntry(w, a.field, a.value, a.mask);
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r) => {
    const at = r.pos;
    const { field, value, mask } = pullEntry(r);
    if (!field.writable) r.fail(`set_field of read-only field ${field.name}`, at);
    const full = allOnes(field.bits);
    if (value > full || (mask !== undefined && (value & ~mask) !== 0n)) r.fail(`set_field ${field.name} value out of range`, at);
    // The rest is padding.
    r.skip(r.remaining);
    return { type: 'reg_load2', field, value, ...(mask !== undefined && mask !== full ? { mask } : {}) };
  },
  print: (a) => setFieldText(formatFieldValue(a.field, a.value, a.mask), a.field),
  // Written by set_field and load (set-field.ts, reg-load.ts).
  parse: {},
};
