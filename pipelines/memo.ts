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
    const k = Array.isArray(a) ? a.join(',') : typeof a === 'object' ? `#${objectId(a)}` : String(a);
    key = i === from ? k : `${key}|${k}`;
  }
  return key;
}

function setId(o: object): number {
  objectIds.set(o, ++nextObjectId);
  return nextObjectId;
}

/** A number naming an object for as long as it lives (for a memo key built of several objects). */
export function objectId(o: object): number {
  return objectIds.get(o) ?? setId(o);
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

/** The same arguments: values equal, arrays element by element, objects identical. */
function sameArgs(a: readonly MemoArg[], b: readonly MemoArg[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length || x.some((v, j) => v !== y[j])) return false;
  }
  return true;
}

/** `build` remembered by all its arguments (for flows of tables, networks, tunnels: values). */
export function memo<A extends readonly MemoArg[], R extends object>(build: (...args: A) => R): (...args: A) => R {
  const id = `${++nextBuilderId}|`;
  // Most builders are called with the same arguments at every event (a table's fixed flows): the
  // last call is checked first, so those build no key string at all.
  let lastArgs: A | undefined;
  let lastValue: R | undefined;
  return (...args: A): R => {
    if (lastArgs !== undefined && lastArgs.length === args.length && sameArgs(lastArgs, args)) return lastValue!;
    const key = id + keyOf(args, 0);
    let value = current.get(key) as R | undefined;
    if (!value) {
      value = (previous.get(key) as R | undefined) ?? build(...args);
      if (current.size >= GENERATION) {
        previous = current;
        current = new Map();
      }
      current.set(key, value);
    }
    lastArgs = args;
    lastValue = value;
    return value;
  };
}

/** Variants per object (a topology port is rendered by each host of its network with that host's VLAN). */
const VARIANTS_MAX = 256;

/** Per object: the last call's value argument and result (checked first), and its other variants. */
interface Variants<V, R> {
  last: V;
  lastValue: R;
  byValue?: Map<V, R>;
}

/**
 * `build` remembered per object (a WeakMap: entries live as long as the object does), then by one
 * value or object (a cookie, a render's options). For the thousands of remote and local ports a host state hands back unchanged
 * after an event: the pass over them finds each by identity and allocates nothing (a rest-args
 * array and a key string per port were most of an event's garbage).
 */
export function memoPer<O extends MemoObject, R extends object, V extends MemoValue | MemoObject>(
  build: (o: O, v: V) => R,
): (o: O, v: V) => R {
  const byObject = new WeakMap<O, Variants<V, R>>();
  return (o: O, v: V): R => {
    const e = byObject.get(o);
    if (e === undefined) {
      const value = build(o, v);
      byObject.set(o, { last: v, lastValue: value });
      return value;
    }
    if (e.last === v) return e.lastValue;
    // Another variant: the one it replaces as `last` is kept by value.
    if (!e.byValue || e.byValue.size >= VARIANTS_MAX) e.byValue = new Map();
    e.byValue.set(e.last, e.lastValue);
    const value = e.byValue.get(v) ?? build(o, v);
    e.last = v;
    e.lastValue = value;
    return value;
  };
}

/** `build` remembered per object alone (what follows from a record and nothing else). */
export function memoOf<O extends MemoObject, R extends object>(build: (o: O) => R): (o: O) => R {
  const byObject = new WeakMap<O, R>();
  return (o: O): R => {
    let value = byObject.get(o);
    if (value === undefined) byObject.set(o, (value = build(o)));
    return value;
  };
}
