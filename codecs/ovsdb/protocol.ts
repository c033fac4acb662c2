// RFC 7047 (OVSDB) JSON-RPC 1.0 messages and the OVSDB value encoding. ovsdb-server 3.1 refuses
// a "jsonrpc" member and needs "params" as an array; replies carry both "result" and "error".

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Request {
  readonly id: string | number;
  readonly method: string;
  readonly params: Json[];
}

export interface Notification {
  readonly id: null;
  readonly method: string;
  readonly params: Json[];
}

export interface Response {
  readonly id: string | number;
  readonly result: Json;
  readonly error: Json;
}

export type RpcMessage = Request | Notification | Response;

export class ProtocolError extends Error {}

export function encodeRpc(m: RpcMessage): string {
  return JSON.stringify(m);
}

/** Classifies one parsed JSON-RPC 1.0 message; throws ProtocolError for anything else. */
export function decodeRpc(text: string): RpcMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('a JSON-RPC message must be an object');
  const o = v as Record<string, unknown>;
  if ('method' in o) {
    if (typeof o.method !== 'string' || !Array.isArray(o.params)) throw new ProtocolError('a request needs a string "method" and array "params"');
    if (o.id === null || o.id === undefined) return { id: null, method: o.method, params: o.params as Json[] };
    if (typeof o.id !== 'string' && typeof o.id !== 'number') throw new ProtocolError('"id" must be a string or number');
    return { id: o.id, method: o.method, params: o.params as Json[] };
  }
  if ('result' in o || 'error' in o) {
    if (typeof o.id !== 'string' && typeof o.id !== 'number') throw new ProtocolError('a response needs a string or number "id"');
    return { id: o.id, result: (o.result ?? null) as Json, error: (o.error ?? null) as Json };
  }
  throw new ProtocolError('neither a request, a notification nor a response');
}

// ---------------------------------------------------------------------------------------------
// OVSDB values (RFC 7047 §5.1)

export type Atom = string | number | boolean | Uuid | NamedUuid;
// Mutable tuples, so that they are JSON values as they are.
export type Uuid = ['uuid', string];
export type NamedUuid = ['named-uuid', string];

export const uuid = (u: string): Uuid => ['uuid', u];
export const namedUuid = (n: string): NamedUuid => ['named-uuid', n];

/** An OVSDB set: a single atom stands for a one-element set. */
export function ovsSet(atoms: readonly Atom[]): Json {
  return atoms.length === 1 ? atoms[0]! : ['set', [...atoms]];
}

export function ovsMap(entries: Record<string, string> | ReadonlyMap<string, string>): Json {
  // Any ReadonlyMap (not only a Map: the typed OVSDB view's maps are read in place), else a record.
  const pairs = isReadonlyMap(entries) ? [...entries] : Object.entries(entries);
  return ['map', pairs.map(([k, v]) => [k, v])];
}

function isReadonlyMap(e: Record<string, string> | ReadonlyMap<string, string>): e is ReadonlyMap<string, string> {
  return e instanceof Map || (typeof e.get === 'function' && typeof (e as ReadonlyMap<string, string>).entries === 'function');
}

/** Reads a set-valued column (a bare atom is a one-element set; ["set", []] is empty). */
export function fromSet(v: Json | undefined): Json[] {
  // A malformed ["set", x] reads as empty: a peer's value must not make callers iterate a non-array.
  if (Array.isArray(v) && v[0] === 'set') return Array.isArray(v[1]) ? v[1] : [];
  if (v === undefined) return [];
  return [v];
}

/** Reads a map-valued column; entries that are not [key, value] pairs are skipped. */
export function fromMap(v: Json | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (!Array.isArray(v) || v[0] !== 'map' || !Array.isArray(v[1])) return m;
  for (const pair of v[1]) {
    if (Array.isArray(pair) && pair.length === 2) m.set(atomText(pair[0]!), atomText(pair[1]!));
  }
  return m;
}

/** An atom as text; JSON for a non-atom (String() of {"toString": 1} would throw). */
function atomText(a: Json): string {
  return typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a);
}

export function uuidOf(v: Json | undefined): string | undefined {
  return Array.isArray(v) && (v[0] === 'uuid' || v[0] === 'named-uuid') && typeof v[1] === 'string' ? v[1] : undefined;
}

/** Optional integer column: [] (empty set) is "not set". */
export function optionalInt(v: Json | undefined): number | undefined {
  const s = fromSet(v);
  return s.length === 1 && typeof s[0] === 'number' ? s[0] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Operations (RFC 7047 §5.2)

export type Condition = readonly [string, '==' | '!=' | 'includes' | 'excludes' | '<' | '<=' | '>' | '>=', Json];
export type Mutation = readonly [string, '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete', Json];

export type Operation =
  | { readonly op: 'insert'; readonly table: string; readonly row: Record<string, Json>; readonly 'uuid-name'?: string }
  | { readonly op: 'select'; readonly table: string; readonly where: readonly Condition[]; readonly columns?: readonly string[] }
  | { readonly op: 'update'; readonly table: string; readonly where: readonly Condition[]; readonly row: Record<string, Json> }
  | { readonly op: 'mutate'; readonly table: string; readonly where: readonly Condition[]; readonly mutations: readonly Mutation[] }
  | { readonly op: 'delete'; readonly table: string; readonly where: readonly Condition[] }
  | {
      readonly op: 'wait'; readonly table: string; readonly where: readonly Condition[]; readonly columns: readonly string[];
      readonly until: '==' | '!='; readonly rows: readonly Record<string, Json>[]; readonly timeout?: number;
    }
  | { readonly op: 'comment'; readonly comment: string };
