// An OVSDB schema (RFC 7047 §3.2) parsed once and shared by every simulated database: column
// types, defaults, root tables, indexes. get_schema answers with the schema as ovsdb-server 3.1
// prints it (normalised types: a bare "string" for plain atoms, sorted enums, min/max only when not 1).
import { readFileSync } from 'node:fs';
import type { Json } from '../../codecs/ovsdb/protocol.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';

/** A value of one atom: uuids are kept as lowercase strings, the column type says which is which. */
export type AtomValue = string | number | boolean;

export interface BaseType {
  readonly type: AtomicType;
  readonly enum?: readonly AtomValue[];
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly refTable?: string;
  readonly refType?: 'strong' | 'weak';
}

export interface ColumnType {
  readonly key: BaseType;
  readonly value?: BaseType;
  readonly min: number;
  /** Infinity for "unlimited". */
  readonly max: number;
}

export interface ColumnSchema {
  readonly name: string;
  /** Position in a row's data; -1 for _uuid, -2 for _version. */
  readonly index: number;
  readonly type: ColumnType;
  readonly mutable: boolean;
  readonly ephemeral: boolean;
}

export interface TableSchema {
  readonly name: string;
  /** User columns in schema order (their `index` is their position). */
  readonly columns: readonly ColumnSchema[];
  /** Every column by name, including _uuid and _version. */
  readonly byName: ReadonlyMap<string, ColumnSchema>;
  readonly isRoot: boolean;
  readonly maxRows: number;
  readonly indexes: readonly (readonly ColumnSchema[])[];
  /** Columns holding strong / weak references (key or value), for integrity checks. */
  readonly strongRefColumns: readonly ColumnSchema[];
  readonly weakRefColumns: readonly ColumnSchema[];
}

export interface DbSchema {
  readonly name: string;
  readonly version: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
  /** The schema as ovsdb-server's get_schema returns it. */
  readonly json: Json;
}

export class SchemaError extends Error {}

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };
const ATOMIC = new Set(['integer', 'real', 'boolean', 'string', 'uuid']);

function obj(v: Json | undefined, what: string): Record<string, Json> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SchemaError(`${what}: object expected`);
  return v;
}

function parseBase(j: Json, what: string): BaseType {
  if (typeof j === 'string') {
    if (!ATOMIC.has(j)) throw new SchemaError(`${what}: unknown atomic type ${j}`);
    return { type: j as AtomicType };
  }
  const o = obj(j, what);
  if (typeof o.type !== 'string' || !ATOMIC.has(o.type)) throw new SchemaError(`${what}: unknown atomic type ${String(o.type)}`);
  const b: { -readonly [K in keyof BaseType]: BaseType[K] } = { type: o.type as AtomicType };
  if (o.enum !== undefined) {
    const e = o.enum;
    const atoms = Array.isArray(e) && e[0] === 'set' ? (e[1] as Json[]) : [e];
    b.enum = [...atoms].map((a) => (Array.isArray(a) ? String(a[1]) : a as AtomValue)).sort(compareAtomValues);
  }
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength'] as const) {
    if (typeof o[k] === 'number') b[k] = o[k];
  }
  if (b.type === 'uuid' && typeof o.refTable === 'string') {
    b.refTable = o.refTable;
    b.refType = o.refType === 'weak' ? 'weak' : 'strong';
  }
  return b;
}

function parseType(j: Json, what: string): ColumnType {
  if (typeof j === 'string') return { key: parseBase(j, what), min: 1, max: 1 };
  const o = obj(j, what);
  const min = o.min === undefined ? 1 : o.min;
  const max = o.max === undefined ? 1 : o.max === 'unlimited' ? Infinity : o.max;
  if (typeof min !== 'number' || typeof max !== 'number' || min < 0 || min > 1 || max < 1 || min > max) {
    throw new SchemaError(`${what}: bad min/max`);
  }
  const t: ColumnType = { key: parseBase(o.key as Json, `${what} key`), min, max };
  return o.value === undefined ? t : { ...t, value: parseBase(o.value, `${what} value`) };
}

export function compareAtomValues(a: AtomValue, b: AtomValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const isRef = (b: BaseType | undefined, ref: 'strong' | 'weak'): boolean => b?.refTable !== undefined && b.refType === ref;

/** Parses a schema object (the .ovsschema JSON); throws SchemaError if it is not one. */
export function parseSchema(json: Json): DbSchema {
  const o = obj(json, 'schema');
  if (typeof o.name !== 'string') throw new SchemaError('schema: "name" expected');
  const tables = new Map<string, TableSchema>();
  for (const [tname, tj] of Object.entries(obj(o.tables, 'schema tables'))) {
    const t = obj(tj, `table ${tname}`);
    const columns: ColumnSchema[] = Object.entries(obj(t.columns, `table ${tname} columns`)).map(([cname, cj], index) => {
      const c = obj(cj, `column ${tname}.${cname}`);
      return { name: cname, index, type: parseType(c.type as Json, `column ${tname}.${cname}`), mutable: c.mutable !== false, ephemeral: c.ephemeral === true };
    });
    const byName = new Map<string, ColumnSchema>(columns.map((c) => [c.name, c]));
    byName.set('_uuid', { name: '_uuid', index: -1, type: UUID_TYPE, mutable: false, ephemeral: false });
    byName.set('_version', { name: '_version', index: -2, type: UUID_TYPE, mutable: false, ephemeral: false });
    const indexes = ((t.indexes ?? []) as Json[][]).map((cols) => cols.map((c) => {
      const col = byName.get(String(c));
      if (!col) throw new SchemaError(`table ${tname}: index on unknown column ${String(c)}`);
      return col;
    }));
    tables.set(tname, {
      name: tname, columns, byName, isRoot: t.isRoot === true, indexes,
      maxRows: typeof t.maxRows === 'number' ? t.maxRows : Infinity,
      strongRefColumns: columns.filter((c) => isRef(c.type.key, 'strong') || isRef(c.type.value, 'strong')),
      weakRefColumns: columns.filter((c) => isRef(c.type.key, 'weak') || isRef(c.type.value, 'weak')),
    });
  }
  for (const t of tables.values()) {
    for (const c of t.columns) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable && !tables.has(b.refTable)) throw new SchemaError(`column ${t.name}.${c.name}: unknown refTable ${b.refTable}`);
      }
    }
  }
  // Schemas from before "isRoot" existed had no garbage collection: every table is a root then.
  if (![...tables.values()].some((t) => t.isRoot)) for (const [n, t] of tables) tables.set(n, { ...t, isRoot: true });
  const schema = { name: o.name, version: typeof o.version === 'string' ? o.version : '', tables };
  return { ...schema, json: schemaToJson(o, tables) };
}

const schemaCache = new Map<string, DbSchema>();

/** Loads (once per path and process) and parses a schema file. */
export function loadSchemaFile(path = '/usr/share/openvswitch/vswitch.ovsschema'): DbSchema {
  let s = schemaCache.get(path);
  if (!s) {
    s = parseSchema(JSON.parse(readFileSync(path, 'utf8')) as Json);
    schemaCache.set(path, s);
  }
  return s;
}

function baseToJson(b: BaseType): Json {
  const o: Record<string, Json> = { type: b.type };
  if (b.enum) o.enum = ['set', b.enum.map((a) => (b.type === 'uuid' ? ['uuid', a as string] : a))];
  if (b.minInteger !== undefined && b.minInteger !== Number.MIN_SAFE_INTEGER) o.minInteger = b.minInteger;
  if (b.maxInteger !== undefined) o.maxInteger = b.maxInteger;
  if (b.minReal !== undefined) o.minReal = b.minReal;
  if (b.maxReal !== undefined) o.maxReal = b.maxReal;
  if (b.minLength !== undefined) o.minLength = b.minLength;
  if (b.maxLength !== undefined) o.maxLength = b.maxLength;
  if (b.refTable) {
    o.refTable = b.refTable;
    if (b.refType === 'weak') o.refType = 'weak';
  }
  return Object.keys(o).length === 1 ? b.type : o;
}

function typeToJson(t: ColumnType): Json {
  if (t.min === 1 && t.max === 1 && !t.value && typeof baseToJson(t.key) === 'string') return t.key.type;
  const o: Record<string, Json> = { key: baseToJson(t.key) };
  if (t.value) o.value = baseToJson(t.value);
  if (t.min !== 1) o.min = t.min;
  if (t.max !== 1) o.max = t.max === Infinity ? 'unlimited' : t.max;
  return o;
}

function schemaToJson(o: Record<string, Json>, tables: ReadonlyMap<string, TableSchema>): Json {
  const out: Record<string, Json> = { name: o.name!, version: o.version ?? '' };
  if (o.cksum !== undefined) out.cksum = o.cksum;
  const tj: Record<string, Json> = {};
  for (const t of tables.values()) {
    const cols: Record<string, Json> = {};
    for (const c of t.columns) {
      const cj: Record<string, Json> = { type: typeToJson(c.type) };
      if (c.ephemeral) cj.ephemeral = true;
      if (!c.mutable) cj.mutable = false;
      cols[c.name] = cj;
    }
    const table: Record<string, Json> = { columns: cols };
    if (t.isRoot) table.isRoot = true;
    if (t.maxRows !== Infinity) table.maxRows = t.maxRows;
    if (t.indexes.length) table.indexes = t.indexes.map((ix) => ix.map((c) => c.name));
    tj[t.name] = table;
  }
  out.tables = tj;
  return out;
}
