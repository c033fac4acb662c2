// multipath: hash some of the packet's fields into one of N links and write the link number into a
// subfield (NXAST_MULTIPATH). Text as OVS's multipath_format():
// multipath(FIELDS,BASIS,ALGORITHM,N_LINKS,ARG,DST). The hash field names are bundle's too.
import { checkSubfield, encodeOfsNbits, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, checkFieldPrereq, nxHeader } from './record.js';

export interface Multipath {
  readonly type: 'multipath';
  /** NX_HASH_FIELDS_*, an index of HASH_FIELDS. */
  readonly fields: number;
  readonly basis: number;
  /** NX_MP_ALG_*, an index of ALGORITHMS. */
  readonly algorithm: number;
  /** The number of links less one. */
  readonly maxLink: number;
  readonly arg: number;
  readonly dst: Subfield;
}

const NXAST_MULTIPATH = 10;
/** enum nx_hash_fields, by value (flow_hash_fields_to_str()). */
export const HASH_FIELDS = ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'];
const ALGORITHMS = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'];

/** The hash field set named (any case), as flow_hash_fields_from_str(); `what` is the whole argument for the error. */
export function hashFieldsArg(name: string, what: string, at: number): number {
  const i = HASH_FIELDS.indexOf(name.toLowerCase());
  if (i < 0) fail(`${what}: unknown fields \`${name}'`, at);
  return i;
}

/** C's atoi(): leading digits, 0 when there are none (OVS reads basis, n_links and arg so). */
export function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

export const multipath: ActionRecord<Multipath> = {
  wire: [{ nx: NXAST_MULTIPATH }],
  encode: (w, a) => {
    nxHeader(w, 32, NXAST_MULTIPATH);
    w.u16(a.fields).u16(a.basis).zeros(2).u16(a.algorithm).u16(a.maxLink).u32(a.arg).zeros(2);
    w.u16(encodeOfsNbits(a.dst.ofs, a.dst.nBits)).u32(subfieldHeader(a.dst.field));
  },
  decode: (r, _id, _len, at) => {
    const fields = r.u16();
    const basis = r.u16();
    r.skip(2);
    const algorithm = r.u16();
    const maxLink = r.u16();
    const arg = r.u32();
    r.skip(2);
    const ofsNbits = r.u16();
    const hAt = r.pos;
    const dst = checkSubfield(r, { field: readSubfieldHeader(r), ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt);
    if (fields >= HASH_FIELDS.length) r.fail(`multipath: unsupported fields ${fields}`, at);
    if (algorithm >= ALGORITHMS.length) r.fail(`multipath: unsupported algorithm ${algorithm}`, at);
    if (!dst.field.writable) r.fail(`multipath into read-only field ${dst.field.name}`, hAt);
    if (dst.nBits < 16 && maxLink + 1 > 2 ** dst.nBits) r.fail(`multipath: ${dst.nBits} bits cannot hold ${maxLink + 1} links`, hAt);
    return { type: 'multipath', fields, basis, algorithm, maxLink, arg, dst };
  },
  print: (a) => `multipath(${HASH_FIELDS[a.fields]},${a.basis},${ALGORITHMS[a.algorithm]},${a.maxLink + 1},${a.arg},${formatSubfield(a.dst)})`,
  parse: {
    // multipath_parse(): six arguments split at commas and spaces.
    multipath: ({ value, valueAt }, ctx, out) => {
      const args = value.split(/[, ]+/).filter((s) => s !== '');
      if (args.length < 6) fail(`${value}: not enough arguments to multipath action`, valueAt);
      const [f, basis, alg, links, arg, dst] = args as [string, string, string, string, string, string];
      const fields = hashFieldsArg(f, value, valueAt);
      const algorithm = ALGORITHMS.indexOf(alg.toLowerCase());
      if (algorithm < 0) fail(`${value}: unknown algorithm \`${alg}'`, valueAt);
      const nLinks = atoi(links);
      if (nLinks <= 0 || nLinks > 65536) fail(`${value}: n_links ${nLinks} is not in valid range 1 to 65536`, valueAt);
      const sf = parseSubfield(dst, valueAt + value.lastIndexOf(dst));
      if (!sf.field.writable) fail(`${sf.field.name} is read-only`, valueAt);
      checkFieldPrereq(sf.field, ctx, 'destination field', valueAt);
      if (sf.nBits < 16 && nLinks > 2 ** sf.nBits) {
        fail(`${value}: ${sf.nBits}-bit destination field has ${2 ** sf.nBits} possible values, less than specified n_links ${nLinks}`, valueAt);
      }
      out.push({ type: 'multipath', fields, basis: atoi(basis) & 0xffff, algorithm, maxLink: nLinks - 1, arg: atoi(arg) >>> 0, dst: sf });
    },
  },
};
