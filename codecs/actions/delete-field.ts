// delete_field: remove a Geneve option from the packet (NXAST_DELETE_FIELD). Text:
// delete_field:tun_metadataN; OVS reads any field's header on the wire but parses only tun_metadata.
import { fieldByName } from '../openflow/fields.js';
import type { FieldDef } from '../openflow/fields.js';
import { readSubfield } from '../openflow/subfield.js';
import { subfieldField } from '../ofctl/subfield.js';
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';
import { nxActionHeader } from './reg-load2.js';

export interface DeleteField {
  readonly type: 'delete_field';
  readonly field: FieldDef;
  /** The header as a switch sent it, when not the field's own (see Subfield.header). */
  readonly header?: number;
}

const NXAST_DELETE_FIELD = 50;

export const deleteField: ActionRecord<DeleteField> = {
  wire: [{ nx: NXAST_DELETE_FIELD }],
  encode: (w, a) => {
    nxHeader(w, 24, NXAST_DELETE_FIELD);
    w.u32(a.header ?? nxActionHeader(a.field).header).zeros(10);
  },
  decode: (r) => {
    const { field, header } = readSubfield(r, 0, 1);
    // What follows is padding, which OVS neither checks nor sends back.
    r.skip(r.remaining);
    return { type: 'delete_field', field, ...(header !== undefined ? { header } : {}) };
  },
  print: (a) => `delete_field:${a.field.name}`,
  parse: {
    delete_field: ({ value, valueAt }, _ctx, out) => {
      const field = subfieldField(value) ?? fieldByName(value);
      if (!field) fail(`${value}: unknown field`, valueAt);
      // OVS's check_DELETE_FIELD(): only tunnel metadata can be deleted.
      if (!field!.variableLen) fail('actions are invalid with specified match (OFPBAC_BAD_ARGUMENT)', valueAt);
      out.push({ type: 'delete_field', field: field! });
    },
  },
};
