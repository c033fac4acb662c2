// OVSDB values (RFC 7047 §5.1) as the simulated server keeps them: a datum is a sorted, duplicate-
// free list of atoms (a map has values beside its keys), immutable, so rows share them and default
// datums are shared by every row. Parsing checks types and constraints with ovsdb-server's errors.
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { AtomValue, BaseType, ColumnSchema, ColumnType, compareAtomValues } from './ovsdb-schema.js';

export interface Datum {
  readonly keys: readonly AtomValue[];
  /** Present for map columns only, parallel to keys. */
  readonly values?: readonly AtomValue[];
}

/** An OVSDB error object ({"error": tag, "details": …, "syntax": …}) raised while executing. */
export class OvsdbOpError extends Error {
  constructor(
    readonly tag: string,
    readonly details?: string,
    readonly syntax?: Json,
  ) {
    super(details ? `${tag}: ${details}` : tag);
  }

  toJson(): Json {
    const o: Record<string, Json> = { error: this.tag };
    if (this.details !== undefined) o.details = this.details;
    if (this.syntax !== undefined) o.syntax = canonicalJson(this.syntax);
    return o;
  }
}

export const syntaxError = (json: Json | undefined, details: string, tag = 'syntax error'): OvsdbOpError => new OvsdbOpError(tag, details, json);

/** JSON text with object members sorted, as OVS prints a "syntax" member. */
export function canonicalJson(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k]!)}`).join(',')}}`;
  return JSON.stringify(v);
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Resolves a ["named-uuid", name] within a transaction (a forward reference creates the name). */
export type NamedUuidResolver = (name: string) => string;

function atomFromJson(b: BaseType, j: Json, named: NamedUuidResolver | undefined): AtomValue {
  switch (b.type) {
    case 'integer':
      if (typeof j !== 'number' || !Number.isInteger(j)) throw syntaxError(j, 'expected integer');
      break;
    case 'real':
      if (typeof j !== 'number') throw syntaxError(j, 'expected real');
      break;
    case 'boolean':
      if (typeof j !== 'boolean') throw syntaxError(j, 'expected boolean');
      break;
    case 'string':
      if (typeof j !== 'string') throw syntaxError(j, 'expected string');
      break;
    case 'uuid': {
      if (Array.isArray(j) && j.length === 2 && j[0] === 'uuid' && typeof j[1] === 'string') {
        if (!UUID_RE.test(j[1])) throw syntaxError(j, `"${j[1]}" is not a valid UUID`);
        const u = j[1].toLowerCase();
        checkAtom(b, u);
        return u;
      }
      if (Array.isArray(j) && j.length === 2 && j[0] === 'named-uuid' && typeof j[1] === 'string') {
        if (!named) throw syntaxError(j, 'named-uuid is not allowed here');
        return named(j[1]);
      }
      throw syntaxError(j, 'expected ["uuid", <string>] or ["named-uuid", <string>]');
    }
  }
  checkAtom(b, j as AtomValue);
  return j as AtomValue;
}

/** ovsdb_atom_check_constraints: enum, integer/real range, string length. */
export function checkAtom(b: BaseType, a: AtomValue): void {
  if (b.enum && !b.enum.includes(a)) {
    throw new OvsdbOpError('constraint violation', `${atomToString(b, a)} is not one of the allowed values ([${b.enum.map((e) => atomToString(b, e)).join(', ')}])`);
  }
  if (typeof a === 'number') {
    const [lo, hi] = b.type === 'integer' ? [b.minInteger, b.maxInteger] : [b.minReal, b.maxReal];
    if (lo !== undefined && hi !== undefined && (a < lo || a > hi)) {
      throw new OvsdbOpError('constraint violation', `${a} is not in the valid range ${lo} to ${hi} (inclusive)`);
    }
    if (lo !== undefined && hi === undefined && a < lo) throw new OvsdbOpError('constraint violation', `${a} is less than minimum allowed value ${lo}`);
    if (hi !== undefined && lo === undefined && a > hi) throw new OvsdbOpError('constraint violation', `${a} is greater than maximum allowed value ${hi}`);
  }
  if (typeof a === 'string' && b.type === 'string') {
    const n = [...a].length;
    if (b.minLength !== undefined && n < b.minLength) throw new OvsdbOpError('constraint violation', `"${a}" length ${n} is less than minimum allowed length ${b.minLength}`);
    if (b.maxLength !== undefined && n > b.maxLength) throw new OvsdbOpError('constraint violation', `"${a}" length ${n} is greater than maximum allowed length ${b.maxLength}`);
  }
}

/** How OVS prints an atom in messages: strings bare when they look like identifiers. */
function atomToString(b: BaseType, a: AtomValue): string {
  if (b.type === 'string' && typeof a === 'string') return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(a) && a !== 'true' && a !== 'false' ? a : JSON.stringify(a);
  return String(a);
}

export function datumToString(t: ColumnType, d: Datum): string {
  if (t.value) return `{${d.keys.map((k, i) => `${atomToString(t.key, k)}=${atomToString(t.value!, d.values![i]!)}`).join(', ')}}`;
  if (t.min === 1 && t.max === 1 && d.keys.length === 1) return atomToString(t.key, d.keys[0]!);
  return `[${d.keys.map((k) => atomToString(t.key, k)).join(', ')}]`;
}

const plural = (b: BaseType): string => (b.refTable ? `references to ${b.refTable} rows` : `${b.type}s`);
const single = (b: BaseType): string => (b.refTable ? `reference to ${b.refTable} row` : b.type);

/** ovsdb_type_to_english, for messages. */
export function typeToEnglish(t: ColumnType): string {
  if (t.value) {
    const m = `map from ${single(t.key)} to ${single(t.value)}`;
    return t.max === Infinity ? m : `${m} with up to ${t.max} pairs`;
  }
  if (t.min === 1 && t.max === 1) return single(t.key);
  if (t.max === Infinity) return t.min === 0 ? `set of ${plural(t.key)}` : `set of ${t.min} or more ${plural(t.key)}`;
  return t.min === 0 ? `set of up to ${t.max} ${plural(t.key)}` : `set of ${t.min} to ${t.max} ${plural(t.key)}`;
}

function sortUnique(keys: AtomValue[], values: AtomValue[] | undefined, isMap: boolean): Datum {
  const idx = keys.map((_, i) => i).sort((x, y) => compareAtomValues(keys[x]!, keys[y]!));
  const k = idx.map((i) => keys[i]!);
  for (let i = 1; i < k.length; i++) {
    if (k[i] === k[i - 1]) throw new OvsdbOpError('ovsdb error', isMap ? 'map contains duplicate key' : 'set contains duplicate');
  }
  return values ? { keys: k, values: idx.map((i) => values[i]!) } : { keys: k };
}

/** ovsdb_datum_from_json: a bare atom, ["set", […]] or ["map", [[k, v], …]], checked against `t`. */
export function datumFromJson(t: ColumnType, j: Json, named?: NamedUuidResolver): Datum {
  const isSetJson = Array.isArray(j) && j.length === 2 && j[0] === 'set' && Array.isArray(j[1]);
  let d: Datum;
  if (t.value) {
    if (!(Array.isArray(j) && j.length === 2 && j[0] === 'map' && Array.isArray(j[1]))) throw syntaxError(j, 'expected map');
    const keys: AtomValue[] = [];
    const values: AtomValue[] = [];
    for (const p of j[1]) {
      if (!Array.isArray(p) || p.length !== 2) throw syntaxError(p, 'expected [key, value] pair');
      keys.push(atomFromJson(t.key, p[0]!, named));
      values.push(atomFromJson(t.value, p[1]!, named));
    }
    d = sortUnique(keys, values, true);
  } else if (isSetJson) {
    d = sortUnique((j[1] as Json[]).map((a) => atomFromJson(t.key, a, named)), undefined, false);
  } else {
    d = { keys: [atomFromJson(t.key, j, named)] };
  }
  const n = d.keys.length;
  if (n < t.min || n > t.max) {
    throw syntaxError(j, `${t.value ? 'map' : 'set'} must have ${t.min} to ${t.max === Infinity ? 4294967295 : t.max} members but ${n} are present`);
  }
  return d;
}

function atomToJson(b: BaseType, a: AtomValue): Json {
  return b.type === 'uuid' ? ['uuid', a as string] : a;
}

export function datumToJson(t: ColumnType, d: Datum): Json {
  if (t.value) return ['map', d.keys.map((k, i) => [atomToJson(t.key, k), atomToJson(t.value!, d.values![i]!)])];
  if (d.keys.length === 1) return atomToJson(t.key, d.keys[0]!);
  return ['set', d.keys.map((k) => atomToJson(t.key, k))];
}

function defaultAtom(b: BaseType): AtomValue {
  switch (b.type) {
    case 'integer': case 'real': return 0;
    case 'boolean': return false;
    case 'string': return '';
    case 'uuid': return ZERO_UUID;
  }
}

const defaults = new WeakMap<ColumnSchema, Datum>();

/** The default datum of a column (empty, or one default atom when min is 1), shared. */
export function defaultDatum(c: ColumnSchema): Datum {
  let d = defaults.get(c);
  if (!d) {
    const t = c.type;
    d = Object.freeze(t.min === 0 ? (t.value ? { keys: [], values: [] } : { keys: [] })
      : t.value ? { keys: [defaultAtom(t.key)], values: [defaultAtom(t.value)] } : { keys: [defaultAtom(t.key)] });
    defaults.set(c, d);
  }
  return d;
}

export function isDefault(c: ColumnSchema, d: Datum): boolean {
  return datumEquals(d, defaultDatum(c));
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  if (a.keys.length !== b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) {
    if (a.keys[i] !== b.keys[i]) return false;
    if (a.values && a.values[i] !== b.values![i]) return false;
  }
  return true;
}

function indexOfKey(d: Datum, k: AtomValue): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtomValues(d.keys[mid]!, k);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Does `d` hold key `k` (and, for a map compared by pairs, value `v`)? */
function datumHas(d: Datum, k: AtomValue, v?: AtomValue): boolean {
  const i = indexOfKey(d, k);
  return i >= 0 && (v === undefined || d.values?.[i] === v);
}

function fromPairs(pairs: Array<[AtomValue, AtomValue | undefined]>, isMap: boolean): Datum {
  pairs.sort((x, y) => compareAtomValues(x[0], y[0]));
  return isMap ? { keys: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]!) } : { keys: pairs.map((p) => p[0]) };
}

function pairs(d: Datum): Array<[AtomValue, AtomValue | undefined]> {
  return d.keys.map((k, i) => [k, d.values?.[i]]);
}

/** ovsdb_datum_union without replace: keys already present keep their values. */
export function datumUnion(d: Datum, add: Datum): Datum {
  const out = pairs(d);
  for (const [k, v] of pairs(add)) if (indexOfKey(d, k) < 0) out.push([k, v]);
  return out.length === d.keys.length ? d : fromPairs(out, d.values !== undefined);
}

/** ovsdb_datum_subtract: removes atoms (sets), pairs (map minus map) or keys (map minus set). */
export function datumSubtract(d: Datum, sub: Datum): Datum {
  const byPair = d.values !== undefined && sub.values !== undefined;
  const out = pairs(d).filter(([k, v]) => !datumHas(sub, k, byPair ? v : undefined));
  return out.length === d.keys.length ? d : fromPairs(out, d.values !== undefined);
}

/** ovsdb_datum_includes_all: every atom (pair, for maps) of `sub` is in `d`. */
export function datumIncludes(d: Datum, sub: Datum): boolean {
  return sub.keys.every((k, i) => datumHas(d, k, sub.values?.[i]));
}

/** ovsdb_datum_excludes_all: no atom (pair, for maps) of `sub` is in `d`. */
export function datumExcludes(d: Datum, sub: Datum): boolean {
  return sub.keys.every((k, i) => !datumHas(d, k, sub.values?.[i]));
}

/**
 * ovsdb_datum_diff, for update2 "modify": for sets and maps that may hold more than one element,
 * the symmetric difference (a changed map value appears with its new value); otherwise the new datum.
 */
export function datumDiff(t: ColumnType, old: Datum, now: Datum): Datum {
  if (t.max <= 1) return now;
  const out: Array<[AtomValue, AtomValue | undefined]> = [];
  for (const [k, v] of pairs(old)) {
    const i = indexOfKey(now, k);
    if (i < 0) out.push([k, v]);
    else if (t.value && now.values![i] !== v) out.push([k, now.values![i]]);
  }
  for (const [k, v] of pairs(now)) if (indexOfKey(old, k) < 0) out.push([k, v]);
  return fromPairs(out, t.value !== undefined);
}
