// Memoised flow builders. A pipeline re-rendered after one topology event is mostly the same flows;
// handing back the same objects lets the reconciler skip them by identity, and spares rebuilding
// 40k flows. A builder must be a pure function of its arguments: values (numbers, strings, bigints,
// booleans, arrays of those) count by value, objects (the host state's and topology's immutable
// records, tables, dialects) by identity.

/** An object argument: a record, never an array (arrays count by value) nor a function. */
export type MemoObject = object & { readonly length?: never };
export type MemoValue = string | number | bigint | boolean;
export type MemoArg = MemoValue | readonly MemoValue[] | MemoObject;

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

function keyOf(args: readonly MemoArg[], from: number): string {
  let key = '';
  for (let i = from; i < args.length; i++) {
    const a = args[i]!;
    const k = Array.isArray(a) ? a.join(',') : typeof a === 'object' ? `#${objectIds.get(a) ?? setId(a)}` : String(a);
    key = i === from ? k : `${key}|${k}`;
  }
  return key;
}

function setId(o: object): number {
  objectIds.set(o, ++nextObjectId);
  return nextObjectId;
}

/**
 * All `memo` builders share one generational map, so flows no pipeline asks for any more are let
 * go: a lookup promotes an entry from the previous generation, and when the current one reaches
 * GENERATION entries the previous one is dropped. (A flat cache kept every variant an event ever
 * produced: at 1000 hosts that grew by ~100 KB an event.)
 */
const GENERATION = 50_000;
let current = new Map<string, object>();
let previous = new Map<string, object>();
let nextBuilderId = 0;

/** `build` remembered by all its arguments (for flows of tables, networks, tunnels: values). */
export function memo<A extends readonly MemoArg[], R extends object>(build: (...args: A) => R): (...args: A) => R {
  const id = `${++nextBuilderId}|`;
  return (...args: A): R => {
    const key = id + keyOf(args, 0);
    let value = current.get(key) as R | undefined;
    if (value) return value;
    value = (previous.get(key) as R | undefined) ?? build(...args);
    if (current.size >= GENERATION) {
      previous = current;
      current = new Map();
    }
    current.set(key, value);
    return value;
  };
}

/** Per object: the last call's arguments (checked first, no key built) and its other variants. */
interface Variants<R> {
  last: readonly MemoArg[];
  lastValue: R;
  byKey?: Map<string, R>;
}

/** Variants per object (a topology port is rendered by each host of its network with that host's VLAN). */
const VARIANTS_MAX = 256;

function sameArgs(a: readonly MemoArg[], b: readonly MemoArg[]): boolean {
  for (let i = 1; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length || x.some((v, j) => v !== y[j])) return false;
  }
  return true;
}

/**
 * `build` remembered per first argument, an object whose entries live as long as it does (a
 * WeakMap), then by the other arguments. For the thousands of remote and local ports a host state
 * hands back unchanged after an event: the pass over them finds each by identity, builds no key.
 */
export function memoPer<O extends MemoObject, A extends readonly MemoArg[], R extends object>(build: (o: O, ...args: A) => R): (o: O, ...args: A) => R {
  const byObject = new WeakMap<O, Variants<R>>();
  return (o: O, ...rest: A): R => {
    const args: readonly MemoArg[] = [o, ...rest];
    const v = byObject.get(o);
    if (v && sameArgs(args, v.last)) return v.lastValue;
    if (!v) {
      const value = build(o, ...rest);
      byObject.set(o, { last: args, lastValue: value });
      return value;
    }
    // Another variant: the one it replaces as `last` is kept by key.
    if (!v.byKey || v.byKey.size >= VARIANTS_MAX) v.byKey = new Map();
    v.byKey.set(keyOf(v.last, 1), v.lastValue);
    const key = keyOf(args, 1);
    const value = v.byKey.get(key) ?? build(o, ...rest);
    v.last = args;
    v.lastValue = value;
    return value;
  };
}
