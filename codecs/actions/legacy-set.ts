// legacy_set: the OpenFlow 1.1 set actions (OFPAT11_SET_VLAN_VID … SET_TP_DST, types 1-10;
// SET_MPLS_LABEL and SET_MPLS_TC, 13 and 14), which OVS still reads in OpenFlow 1.3 as deprecated
// and never writes there: a peer's bytes only. OVS prints them by its own names (set_vlan_vid:9,
// mod_nw_tos:48, set_mpls_label(5), …) and writes them back as set_field, but for the ports, which
// it keeps as they came (no match tells tcp from udp here).
import { FieldDef, fieldByName } from '../openflow/fields.js';
import { formatFieldValue, formatIpv4 } from '../ofctl/values.js';
import { ActionRecord } from './record.js';
import { setField } from './set-field.js';

export interface LegacySet {
  readonly type: 'legacy_set';
  /** The OpenFlow 1.1 action type (1-10). */
  readonly ofType: number;
  /** The value as OVS's ofpact holds it (the TOS byte, not the DSCP). */
  readonly value: bigint;
}

interface Row {
  readonly name: string;
  /** Value bytes, and padding, after the 4-byte header. */
  readonly bytes: number;
  readonly pad: number;
  /** The largest value OVS accepts (else OFPBAC_BAD_ARGUMENT). */
  readonly max: bigint;
  /** The set_field OVS writes instead, and the value it writes; none: written back as it came. */
  readonly as?: readonly [FieldDef, (v: bigint) => bigint];
  /** The set_field OVS writes instead, by its OXM header and value bytes (the MPLS rows; OVS writes any value). */
  readonly oxm?: readonly [header: number, bytes: number];
  readonly print: (v: bigint) => string;
  /** The text is name(VALUE), not name:VALUE. */
  readonly paren?: true;
}

const field = (n: string): FieldDef => fieldByName(n)!;
const dec = (v: bigint): string => String(v);
const mac = (v: bigint): string => formatFieldValue(field('eth_src'), v);
const ROWS: { readonly [ofType: number]: Row } = {
  1: { name: 'set_vlan_vid', bytes: 2, pad: 2, max: 0xfffn, as: [field('vlan_vid'), (v) => v | 0x1000n], print: dec },
  2: { name: 'set_vlan_pcp', bytes: 1, pad: 3, max: 7n, as: [field('vlan_pcp'), (v) => v], print: dec },
  3: { name: 'mod_dl_src', bytes: 6, pad: 6, max: 0xffffffffffffn, as: [field('eth_src'), (v) => v], print: mac },
  4: { name: 'mod_dl_dst', bytes: 6, pad: 6, max: 0xffffffffffffn, as: [field('eth_dst'), (v) => v], print: mac },
  5: { name: 'mod_nw_src', bytes: 4, pad: 0, max: 0xffffffffn, as: [field('ip_src'), (v) => v], print: formatIpv4 },
  6: { name: 'mod_nw_dst', bytes: 4, pad: 0, max: 0xffffffffn, as: [field('ip_dst'), (v) => v], print: formatIpv4 },
  7: { name: 'mod_nw_tos', bytes: 1, pad: 3, max: 0xfcn, as: [field('ip_dscp'), (v) => v >> 2n], print: dec },
  8: { name: 'mod_nw_ecn', bytes: 1, pad: 3, max: 3n, as: [field('nw_ecn'), (v) => v], print: dec },
  9: { name: 'mod_tp_src', bytes: 2, pad: 2, max: 0xffffn, print: dec },
  10: { name: 'mod_tp_dst', bytes: 2, pad: 2, max: 0xffffn, print: dec },
  13: { name: 'set_mpls_label', bytes: 4, pad: 0, max: 0xffffffffn, oxm: [0x80004404, 4], print: dec, paren: true },
  14: { name: 'set_mpls_tc', bytes: 1, pad: 3, max: 0xffn, oxm: [0x80004601, 1], print: dec, paren: true },
};
const OFPAT_SET_FIELD = 25;

export const legacySet: ActionRecord<LegacySet> = {
  wire: Object.keys(ROWS).map((t) => ({ of: Number(t) })),
  encode: (w, a) => {
    const row = ROWS[a.ofType]!;
    if (row.as) setField.encode(w, { type: 'set_field', field: row.as[0], value: row.as[1](a.value) });
    else if (row.oxm) w.u16(OFPAT_SET_FIELD).u16(16).u32(row.oxm[0]).uint(a.value, row.oxm[1]).zeros(8 - row.oxm[1]);
    else w.u16(a.ofType).u16(4 + row.bytes + row.pad).uint(a.value, row.bytes).zeros(row.pad);
  },
  decode: (r, ofType, len, at) => {
    const row = ROWS[ofType]!;
    if (len !== 4 + row.bytes + row.pad) r.fail(`${row.name} action length ${len}`, at);
    const value = r.uint(row.bytes);
    // The TOS byte's ECN bits must be clear (IP_DSCP_MASK).
    if (value > row.max || (ofType === 7 && value & 3n)) r.fail(`${row.name} value ${value} out of range (OFPBAC_BAD_ARGUMENT)`, at);
    return { type: 'legacy_set', ofType, value };
  },
  print: (a) => {
    const row = ROWS[a.ofType]!;
    return row.paren ? `${row.name}(${row.print(a.value)})` : `${row.name}:${row.print(a.value)}`;
  },
  parse: {}, // the keywords write set_field in OpenFlow 1.3 (set-field.ts)
};
