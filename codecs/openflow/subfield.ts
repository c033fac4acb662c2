// Subfields: a bit range of a field, as Nicira actions address it (NXM_NX_REG0[0..15]).
import { Reader } from './bytes.js';
import { FieldDef, fieldByHeader } from './fields.js';

export interface Subfield {
  readonly field: FieldDef;
  readonly ofs: number;
  readonly nBits: number;
  /**
   * The header as a switch sent it, when it is not the field's own: a variable-length field
   * (tun_metadata) named at its TLV-mapped length (0x00015004, not 0x0001507c). Sent back as it came.
   */
  readonly header?: number;
}

export function encodeOfsNbits(ofs: number, nBits: number): number {
  return (ofs << 6) | (nBits - 1);
}

/** The header OVS writes for a field inside NX actions: its oldest one (NXM before OXM). */
export function subfieldHeader(f: FieldDef): number {
  return (f.nxm ?? f.oxm)!.header;
}

/** The header to write for a subfield: the one it came with, else its field's. */
export function subfieldWireHeader(sf: Subfield): number {
  return sf.header ?? subfieldHeader(sf.field);
}

/** A subfield's header, keeping a variable-length field's header as it came (see Subfield.header). */
export function readSubfield(r: Reader, ofs: number, nBits: number): Subfield {
  const at = r.pos;
  const header = r.buf.length - r.pos >= 4 ? r.buf.readUInt32BE(r.pos) : 0;
  const field = readSubfieldHeader(r, at);
  const sf = field.variableLen && header !== subfieldHeader(field) ? { field, ofs, nBits, header } : { field, ofs, nBits };
  return checkSubfield(r, sf, at);
}

export function readSubfieldHeader(r: Reader, at = r.pos): FieldDef {
  const header = r.u32();
  if (header & 0x100) r.fail(`masked NXM header 0x${header.toString(16)} in a subfield`, at);
  const f = fieldByHeader(header);
  if (!f) r.fail(`unknown NXM field 0x${header.toString(16).padStart(8, '0')}`, at);
  return f;
}

export function checkSubfield(r: Reader, sf: Subfield, at: number): Subfield {
  if (sf.nBits < 1 || sf.ofs + sf.nBits > sf.field.bits) {
    r.fail(`subfield ${sf.field.name}[${sf.ofs}..${sf.ofs + sf.nBits - 1}] exceeds the ${sf.field.bits}-bit field`, at);
  }
  return sf;
}
