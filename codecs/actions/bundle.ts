// bundle / bundle_load: choose one live member port by hashing some of the packet's fields, and
// output to it (NXAST_BUNDLE) or write it into a subfield (NXAST_BUNDLE_LOAD); OVS's one
// ofpact_bundle. Text as OVS's bundle_format():
// bundle(FIELDS,BASIS,ALGORITHM,ofport,members:P,...) and bundle_load(FIELDS,BASIS,ALGORITHM,ofport,DST,members:P,...).
import { checkSubfield, encodeOfsNbits, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { formatPort, OFPP_MAX } from '../openflow/ports.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail } from '../ofctl/syntax.js';
import { parsePortNumber } from '../ofctl/values.js';
import { atoi, HASH_FIELDS, hashFieldsArg } from './multipath.js';
import { ActionRecord, checkFieldPrereq, KeywordParser, nxHeader } from './record.js';

export interface Bundle {
  readonly type: 'bundle';
  readonly fields: number;
  readonly basis: number;
  /** NX_BD_ALG_*: 0 active_backup, 1 hrw. */
  readonly algorithm: number;
  /** bundle_load's destination; none for bundle. */
  readonly dst?: Subfield;
  readonly members: readonly number[];
}

const NXAST_BUNDLE = 12, NXAST_BUNDLE_LOAD = 13;
const ALGORITHMS = ['active_backup', 'hrw'];
/** The member type: always OpenFlow ports (NXM_OF_IN_PORT's header). */
const OFPORT = 0x00000002;
const FIXED = 32;

/** bundle_check(): a member is a physical port or a reserved one (ANY included: it is skipped). */
const validMember = (p: number): boolean => p < OFPP_MAX || p >= 0xfff8;

/** C's strtok_r() over text from pos: the next token and where the scan goes on. */
function strtok(text: string, pos: number, delims: string): [string | undefined, number] {
  let i = pos;
  while (i < text.length && delims.includes(text[i]!)) i++;
  if (i >= text.length) return [undefined, i];
  const from = i;
  while (i < text.length && !delims.includes(text[i]!)) i++;
  return [text.slice(from, i), Math.min(i + 1, text.length)];
}

function parseBundle(load: boolean): KeywordParser {
  return ({ value, valueAt }, ctx, out) => {
    // bundle_parse(): the arguments split at ", ", the member delimiter at ": ", the members at ", []".
    const words: (string | undefined)[] = [];
    let pos = 0, word: string | undefined;
    for (let i = 0; i < (load ? 5 : 4); i++) {
      [word, pos] = strtok(value, pos, ', ');
      words.push(word);
    }
    [word, pos] = strtok(value, pos, ': ');
    if (word === undefined) fail(`${value}: not enough arguments to bundle action`, valueAt);
    if (word!.toLowerCase() !== 'members' && word!.toLowerCase() !== 'slaves') {
      fail(`${value}: missing member delimiter, expected \`members', got \`${word}'`, valueAt);
    }
    const members: number[] = [];
    for (;;) {
      [word, pos] = strtok(value, pos, ', []');
      if (word === undefined) break;
      const n = parsePortNumber(word);
      if (n === undefined) fail(`${word}: bad port number`, valueAt);
      members.push(n!);
    }
    const [f, basis, alg, type, d] = words as [string, string, string, string, string | undefined];
    const fields = hashFieldsArg(f, value, valueAt);
    const algorithm = ALGORITHMS.indexOf(alg.toLowerCase());
    if (algorithm < 0) fail(`${value}: unknown algorithm \`${alg}'`, valueAt);
    if (type.toLowerCase() !== 'ofport') fail(`${value}: unknown member_type \`${type}'`, valueAt);
    let dst: Subfield | undefined;
    if (d !== undefined) {
      dst = parseSubfield(d, valueAt + value.indexOf(d));
      if (!dst.field.writable) fail(`${dst.field.name} is read-only`, valueAt);
      checkFieldPrereq(dst.field, ctx, 'destination field', valueAt);
      // bundle_check(): OFPBAC_BAD_ARGUMENT.
      if (dst.nBits < 16) fail(`${value}: bundle_load action requires at least 16 bit destination`, valueAt);
    }
    for (const p of members) if (!validMember(p)) fail(`${value}: invalid member ${formatPort(p)}`, valueAt);
    out.push({ type: 'bundle', fields, basis: atoi(basis) & 0xffff, algorithm, ...(dst ? { dst } : {}), members });
  };
}

export const bundle: ActionRecord<Bundle> = {
  wire: [{ nx: NXAST_BUNDLE }, { nx: NXAST_BUNDLE_LOAD }],
  encode: (w, a) => {
    const start = w.pos;
    nxHeader(w, 0, a.dst ? NXAST_BUNDLE_LOAD : NXAST_BUNDLE);
    w.u16(a.algorithm).u16(a.fields).u16(a.basis).u32(OFPORT).u16(a.members.length);
    if (a.dst) w.u16(encodeOfsNbits(a.dst.ofs, a.dst.nBits)).u32(subfieldHeader(a.dst.field));
    else w.zeros(6);
    w.zeros(4);
    for (const p of a.members) w.u16(p);
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r, id, len, at) => {
    const algorithm = r.u16();
    const fields = r.u16();
    const basis = r.u16();
    const memberType = r.u32();
    const n = r.u16();
    const ofsNbits = r.u16();
    const hAt = r.pos;
    const header = r.buf.readUInt32BE(r.pos);
    let dst: Subfield | undefined;
    if (id === NXAST_BUNDLE_LOAD) {
      dst = checkSubfield(r, { field: readSubfieldHeader(r), ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt);
      if (!dst.field.writable) r.fail(`bundle_load into read-only field ${dst.field.name}`, hAt);
    } else {
      r.skip(4);
      if (ofsNbits || header) r.fail('bundle action has nonzero reserved fields', at);
    }
    if (r.bytes(4).some((b) => b !== 0)) r.fail('bundle action has nonzero reserved fields', at);
    if (fields >= HASH_FIELDS.length) r.fail(`bundle: unsupported fields ${fields}`, at);
    if (algorithm >= ALGORITHMS.length) r.fail(`bundle: unsupported algorithm ${algorithm}`, at);
    if (memberType !== OFPORT) r.fail(`bundle: unsupported member type 0x${memberType.toString(16)}`, at);
    if (len - FIXED < 2 * n) r.fail(`bundle: ${len - FIXED} bytes hold fewer than ${n} members`, at);
    const members: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = r.u16();
      if (!validMember(p)) r.fail(`bundle: invalid member ${p}`, at);
      members.push(p);
    }
    return { type: 'bundle', fields, basis, algorithm, ...(dst ? { dst } : {}), members };
  },
  print: (a) => `${a.dst ? 'bundle_load' : 'bundle'}(${HASH_FIELDS[a.fields]},${a.basis},${ALGORITHMS[a.algorithm]},ofport,`
    + `${a.dst ? `${formatSubfield(a.dst)},` : ''}members:${a.members.map(formatPort).join(',')})`,
  parse: { bundle: parseBundle(false), bundle_load: parseBundle(true) },
};
