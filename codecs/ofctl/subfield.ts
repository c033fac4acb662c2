// The text of subfields (NXM_NX_REG0[0..15], reg0[], tun_id[3]) as OVS's mf_format_subfield() and
// mf_parse_subfield() write and read it. The wire form is codecs/openflow/subfield.ts.
import { FieldDef, fieldByName, fieldBySubfieldName, subfieldName } from '../openflow/fields.js';
import type { Subfield } from '../openflow/subfield.js';
import { fail } from './syntax.js';

export function formatSubfield(sf: Subfield): string {
  const name = subfieldName(sf.field);
  if (sf.ofs === 0 && sf.nBits === sf.field.bits) return `${name}[]`;
  if (sf.nBits === 1) return `${name}[${sf.ofs}]`;
  return `${name}[${sf.ofs}..${sf.ofs + sf.nBits - 1}]`;
}

/** Resolves a field name as subfield syntax allows: NXM/OXM names or OVS field names. */
export function subfieldField(name: string): FieldDef | undefined {
  return fieldBySubfieldName(name) ?? fieldByName(name);
}

/**
 * A subfield of an NX action (load, move, learn, output…): those carry a 32-bit NXM/OXM header, which
 * an experimenter OXM field (ERSPAN, NSH, actset_output) has not (OVS writes NXAST_REG_LOAD2 and the
 * like for them, not done here).
 */
export function parseSubfield(text: string, offset: number): Subfield {
  const sf = parseFieldBits(text, offset);
  const h = sf.field.nxm ?? sf.field.oxm;
  if (h?.experimenter !== undefined) fail(`${text}: experimenter OXM field '${sf.field.name}' not supported in a subfield`, offset);
  return sf;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isNameStart = (c: number): boolean => (c | 0x20) >= 97 && (c | 0x20) <= 122 || c === 95;

/**
 * `NAME`, `NAME[]`, `NAME[START]` or `NAME[START..END]` (the regular expression
 * /^([A-Za-z_]\w*)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/, scanned by hand: it runs for every subfield of every flow).
 */
function splitFieldBits(t: string): { name: string; start?: string; end?: string } | undefined {
  if (t.length === 0 || !isNameStart(t.charCodeAt(0))) return undefined;
  let i = 1;
  while (i < t.length && (isNameStart(t.charCodeAt(i)) || isDigit(t.charCodeAt(i)))) i++;
  const name = t.slice(0, i);
  if (i === t.length) return { name };
  if (t.charCodeAt(i) !== 91 || t.charCodeAt(t.length - 1) !== 93) return undefined;
  const inner = t.slice(i + 1, -1);
  if (inner === '') return { name };
  const dots = inner.indexOf('..');
  const start = dots < 0 ? inner : inner.slice(0, dots);
  const end = dots < 0 ? undefined : inner.slice(dots + 2);
  const digits = (d: string): boolean => {
    if (d.length === 0) return false;
    for (let k = 0; k < d.length; k++) if (!isDigit(d.charCodeAt(k))) return false;
    return true;
  };
  if (!digits(start) || (end !== undefined && !digits(end))) return undefined;
  return end === undefined ? { name, start } : { name, start, end };
}

/**
 * The subfields read so far, by text: a file names the same few again and again (every ARP responder
 * flow moves NXM_NX_ARP_SHA[] to NXM_NX_ARP_THA[]). A Subfield never changes once made; bounded, so
 * that a stream of distinct names cannot grow it.
 */
const KNOWN_SUBFIELDS = new Map<string, Subfield>();
const KNOWN_SUBFIELDS_MAX = 4096;

/** FIELD[bits] as mf_parse_subfield() reads it (also a match's FIELD[bits]=VALUE). */
export function parseFieldBits(text: string, offset: number): Subfield {
  let sf = KNOWN_SUBFIELDS.get(text);
  if (sf) return sf;
  sf = readFieldBits(text, offset);
  if (KNOWN_SUBFIELDS.size === KNOWN_SUBFIELDS_MAX) KNOWN_SUBFIELDS.clear();
  KNOWN_SUBFIELDS.set(text, sf);
  return sf;
}

function readFieldBits(text: string, offset: number): Subfield {
  const m = splitFieldBits(text.trim());
  if (!m) return fail(`${text}: invalid subfield syntax`, offset);
  const field = subfieldField(m.name);
  if (!field || (!field.nxm && !field.oxm)) return fail(`${text}: unknown field \`${m.name}'`, offset);
  if (m.start === undefined) return { field, ofs: 0, nBits: field.bits };
  const start = Number(m.start);
  const end = m.end === undefined ? start : Number(m.end);
  if (start >= field.bits) fail(`${text}: starting bit ${start} is not valid because field is only ${field.bits} bits wide`, offset);
  if (end >= field.bits) fail(`${text}: ending bit ${end} is not valid because field is only ${field.bits} bits wide`, offset);
  if (end < start) fail(`${text}: ending bit ${end} is less than starting bit ${start}`, offset);
  return { field, ofs: start, nBits: end - start + 1 };
}

export function looksLikeSubfield(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\[[0-9.]*\])?$/.test(s) && subfieldField(s.replace(/\[.*$/, '')) !== undefined;
}
