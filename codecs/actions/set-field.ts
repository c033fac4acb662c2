// set_field: write a field (OFPAT_SET_FIELD with one OXM). Text: set_field:VALUE->FIELD, and the
// older mod_* and mod_vlan_* keywords, which OVS writes as set_field in OpenFlow 1.3 (mod_vlan_vid
// pushes a VLAN first when none is there; a masked value becomes reg_loads, as 1.3 has no masked
// set_field).
import { allOnes, FieldDef, fieldByHeader, fieldByName, headerValueBytes, of13Header } from '../openflow/fields.js';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, slotValue } from '../openflow/match.js';
import { portFromOf11, portToOf11 } from '../openflow/ports.js';
import { fail, inColumn, intArg, splitArrow } from '../ofctl/syntax.js';
import { formatFieldValue, parseFieldValue } from '../ofctl/values.js';
import type { Action } from './index.js';
import { ActionRecord, checkFieldPrereq, inconsistent, isIp, isMpls, KeywordParser, restrictUsable } from './record.js';
import { needsRegLoad2, putEntry } from './reg-load2.js';

export interface SetField {
  readonly type: 'set_field';
  readonly field: FieldDef;
  readonly value: bigint;
}

export const OFPAT_SET_FIELD = 25;

/** The text of a set_field of f, its value already in f's notation (also printed straight from the bytes: format-flow-stats-bytes.ts). */
export function setFieldText(value: string, f: FieldDef): string {
  return `set_field:${value}->${f.name}`;
}

/**
 * Loads covering each contiguous run of ones in mask, at most 64 bits each (OVS's
 * next_load_segment(): how it writes a masked set_field, or a load wider than 64 bits, in 1.3).
 */
export function maskedLoads(field: FieldDef, value: bigint, mask: bigint): Action[] {
  const out: Action[] = [];
  let ofs = 0;
  while (ofs < field.bits) {
    if (((mask >> BigInt(ofs)) & 1n) === 0n) {
      ofs++;
      continue;
    }
    let end = ofs;
    while (end < field.bits && ((mask >> BigInt(end)) & 1n) === 1n && end - ofs < 64) end++;
    const nBits = end - ofs;
    out.push({ type: 'reg_load', dst: { field, ofs, nBits }, value: (value >> BigInt(ofs)) & allOnes(nBits) });
    ofs = end;
  }
  return out;
}

/** Appends to out what writing valueText into field takes (a set_field, or loads for a masked value). */
function writeField(field: FieldDef, valueText: string, offset: number, out: Action[]): void {
  if (!field.writable) fail(`${field.name} is read-only`, offset);
  if (!field.nxm && !field.oxm) fail(`${field.name} is not a valid OXM field name`, offset);
  const { value, mask } = inColumn(offset, () => parseFieldValue(field, valueText));
  if (mask !== undefined && mask !== allOnes(field.bits)) {
    if (needsRegLoad2(field)) out.push({ type: 'reg_load2', field, value: value & mask, mask });
    else for (const a of maskedLoads(field, value & mask, mask)) out.push(a);
    return;
  }
  // vlan_vid values carry the present bit (4096 + VID), one bit more than the field's 12.
  const width = field.name === 'vlan_vid' ? 13 : field.bits;
  // OVS's mf_is_value_valid: a value wider than the field is refused, not cut to fit.
  if (value > allOnes(width)) fail(`${valueText} is not a valid value for field ${field.name}`, offset);
  out.push({ type: 'set_field', field, value });
}

/** mod_dl_src and the like: one fixed field, on an ip match only for the IP ones. */
function modField(fieldName: string, needsIp: boolean): KeywordParser {
  const field = fieldByName(fieldName)!;
  return ({ key, value, valueAt, keyAt }, ctx, out) => {
    if (needsIp && !ctx.unchecked && !isIp(ctx.match)) fail(`no usable protocol (${key.toLowerCase()} needs an ip match)`, keyAt);
    writeField(field, value, valueAt, out);
  };
}

/** mod_tp_src/dst: the L4 field of the protocol the match names. */
function modTp(end: 'src' | 'dst'): KeywordParser {
  return ({ key, value, valueAt, keyAt }, ctx, out) => {
    const proto = slotValue(ctx.match, 'nw_proto');
    const prefix = proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_UDP ? 'udp' : proto === IPPROTO_SCTP ? 'sctp' : undefined;
    // Unchecked (a bucket), OVS knows no protocol and writes OpenFlow 1.1's SET_TP_SRC/DST (9/10).
    if (ctx.unchecked && (!prefix || !isIp(ctx.match))) {
      out.push({ type: 'legacy_set', ofType: end === 'src' ? 9 : 10, value: BigInt(intArg(value, valueAt, 0xffff, key.toLowerCase())) });
      return;
    }
    if (!prefix || !isIp(ctx.match)) fail(`no usable protocol (${key.toLowerCase()} needs a tcp, udp or sctp match)`, keyAt);
    writeField(fieldByName(`${prefix}_${end}`)!, value, valueAt, out);
  };
}

/** mod_vlan_vid/pcp: push an 802.1Q header first unless a VLAN is known to be there. */
function modVlan(fieldName: string, argMax: number, max: number, what: string, toValue: (n: number) => number): KeywordParser {
  const field = fieldByName(fieldName)!;
  return ({ value, valueAt }, ctx, out) => {
    const n = intArg(value, valueAt, argMax, what);
    if (n > max) fail(`${value}: not a valid ${what}`, valueAt);
    // Unchecked (a bucket), OVS never learns that a VLAN is there: it always pushes one.
    if (!ctx.vlan || ctx.unchecked) out.push({ type: 'push_vlan', ethertype: 0x8100 });
    ctx.vlan = true;
    out.push({ type: 'set_field', field, value: BigInt(toValue(n)) });
  };
}

/** set_mpls_label/set_mpls_tc: set_field of the MPLS field, on an MPLS packet only (OVS's check_SET_MPLS_*). */
function setMpls(fieldName: string, max: number, what: string): KeywordParser {
  const field = fieldByName(fieldName)!;
  return ({ key, value, valueAt, keyAt }, ctx, out) => {
    const n = intArg(value, valueAt, 0xffffffff, what);
    if (n > max) fail(`${value}: not a valid ${what}`, valueAt);
    if (!ctx.unchecked && !isMpls(ctx.match)) inconsistent(`${key.toLowerCase()} needs an mpls match`, keyAt);
    out.push({ type: 'set_field', field, value: BigInt(n) });
  };
}

export const setField: ActionRecord<SetField> = {
  wire: [{ of: OFPAT_SET_FIELD }],
  encode: (w, a) => {
    const start = w.pos;
    const h = of13Header(a.field)!;
    if (a.field.variableLen) {
      // A variable-length field goes out at the shortest length that holds its value.
      w.u16(OFPAT_SET_FIELD).u16(0);
      putEntry(w, a.field, a.value);
      w.padTo(8, start);
      w.patch16(start + 2, w.pos - start);
      return;
    }
    // An experimenter OXM's length also counts its experimenter id.
    if (h.experimenter === undefined) w.u16(OFPAT_SET_FIELD).u16(0).u32(h.header);
    else w.u16(OFPAT_SET_FIELD).u16(0).u32(h.header + 4).u32(h.experimenter);
    // in_port is 32 bits in OpenFlow 1.3.
    w.uint(a.field.name === 'in_port_oxm' ? BigInt(portToOf11(Number(a.value))) : a.value, h.header & 0xff);
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r) => {
    const hAt = r.pos;
    let header = r.u32();
    let f: FieldDef | undefined;
    if (header >>> 16 === 0xffff && (header & 0xff) > 4 && r.remaining >= 4) {
      // An experimenter OXM: looked up with its length less the experimenter id, as the field table keeps it.
      const h = ((header & 0xffffff00) | ((header & 0xff) - 4)) >>> 0;
      f = fieldByHeader(h, r.buf.readUInt32BE(r.pos));
      if (f) {
        r.skip(4);
        header = h;
      }
    } else {
      f = fieldByHeader(header);
    }
    if (!f || !f.writable) {
      // OVS refuses an unknown field, experimenter or not (OFPBAC_BAD_SET_LEN).
      return r.fail(`set_field of ${f ? `read-only field ${f.name}` : `unknown field 0x${header.toString(16)}`}`, hAt);
    }
    if (header & 0x100) r.fail(`masked set_field is not OpenFlow 1.3`, hAt);
    const bytes = header & 0xff;
    if (bytes !== headerValueBytes(f, header) && !(f.variableLen && bytes <= f.bits / 8)) {
      r.fail(`set_field ${f.name} has length ${bytes}`, hAt);
    }
    let value = r.uint(bytes);
    if (f.name === 'in_port_oxm') value = BigInt(portFromOf11(Number(value)));
    if (value > allOnes(f.bits) && f.name !== 'in_port_oxm' && f.name !== 'vlan_vid') r.fail(`set_field ${f.name} value out of range`, hAt);
    // OpenFlow 1.2+ sets a VID with its present bit (OFPVID_PRESENT); OVS refuses one without (OFPBAC_BAD_SET_ARGUMENT).
    if (f.name === 'vlan_vid' && (value & 0x1000n) === 0n) r.fail('set_field vlan_vid without OFPVID_PRESENT', hAt);
    return { type: 'set_field', field: f, value };
  },
  print: (a) => setFieldText(formatFieldValue(a.field, a.value), a.field),
  parse: {
    set_field: ({ value, valueAt }, ctx, out) => {
      const [v, f] = splitArrow(value, valueAt, '');
      const field = fieldByName(f);
      if (!field || field.name === 'dl_vlan' || field.name === 'dl_vlan_pcp') fail(`${f} is not a valid OXM field name`, valueAt + v.length + 2);
      writeField(field!, v, valueAt, out);
      checkFieldPrereq(field!, ctx, 'set_field', valueAt);
      // OVS's check_SET_FIELD(): the packet has a VLAN header after a vlan_vid is written.
      if (field!.name === 'vlan_vid') ctx.vlan = true;
      // Only the protocols that can match the field exactly can set it (OVS's set_field_parse__()).
      restrictUsable(ctx, field!.usable.exact);
    },
    mod_dl_src: modField('eth_src', false),
    mod_dl_dst: modField('eth_dst', false),
    mod_nw_src: modField('ip_src', true),
    mod_nw_dst: modField('ip_dst', true),
    mod_nw_tos: ({ value, valueAt }, _ctx, out) => {
      const tos = intArg(value, valueAt, 0xff, 'TOS');
      if (tos & 3) fail(`${value}: not a valid TOS`, valueAt);
      out.push({ type: 'set_field', field: fieldByName('ip_dscp')!, value: BigInt(tos >> 2) });
    },
    mod_nw_ecn: ({ value, valueAt }, _ctx, out) => {
      out.push({ type: 'set_field', field: fieldByName('nw_ecn')!, value: BigInt(intArg(value, valueAt, 3, 'ECN')) });
    },
    mod_tp_src: modTp('src'),
    mod_tp_dst: modTp('dst'),
    mod_vlan_vid: modVlan('vlan_vid', 0xffff, 4095, 'VLAN VID', (vid) => vid | 0x1000),
    mod_vlan_pcp: modVlan('vlan_pcp', 0xff, 7, 'VLAN PCP', (pcp) => pcp),
    set_mpls_label: setMpls('mpls_label', 0xfffff, 'MPLS label'),
    set_mpls_tc: setMpls('mpls_tc', 7, 'MPLS TC'),
  },
};
