// OVSDB fuzz inputs: JSON-RPC 1.0 streams as ovsdb-server writes them (requests, replies, echo,
// update/update2/update3 notifications whose rows hold OVSDB datums: atoms, ["uuid",…], ["set",…],
// ["map",…]), mutated structurally (wrong types, missing or extra members, deep nesting, huge
// numbers and strings, unicode) and as text (truncation, flipped and invalid UTF-8 bytes, stray
// punctuation), written back to back and cut into chunks at random boundaries.
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { Rng, rngFor, Stream } from './rng.js';

export type OvsdbStrategy = 'valid' | 'tree' | 'deep' | 'text' | 'truncate' | 'splice' | 'random' | 'stacked';

export interface OvsdbInput {
  readonly strategy: OvsdbStrategy;
  /** The stream's bytes as the peer writes them, cut where the reads would end. */
  readonly chunks: readonly Buffer[];
}

/** The monitor id the fuzz client uses; notifications name it (or, mutated, something else). */
const FUZZ_MONITOR_ID = 'ofctl-ts';

/** How a column's values look: the shapes OVSDB datums take in the Open_vSwitch schema. */
export type ColumnShape = 'string' | 'int' | 'bool' | 'int-opt' | 'string-opt' | 'dpid' | 'uuid-set' | 'string-set' | 'map';

/** The tables and columns the controller monitors (lib/ovsdb/vswitch.ts), by shape. */
export const FUZZ_COLUMNS: Readonly<Record<string, Readonly<Record<string, ColumnShape>>>> = {
  Open_vSwitch: { bridges: 'uuid-set', cur_cfg: 'int', next_cfg: 'int' },
  Bridge: {
    name: 'string', ports: 'uuid-set', controller: 'uuid-set', fail_mode: 'string-opt', protocols: 'string-set',
    datapath_type: 'string', datapath_id: 'dpid', other_config: 'map', external_ids: 'map',
  },
  Port: { name: 'string', interfaces: 'uuid-set', tag: 'int-opt', other_config: 'map' },
  Interface: {
    name: 'string', type: 'string', options: 'map', ofport: 'int-opt', ofport_request: 'int-opt', error: 'string-opt',
    external_ids: 'map',
  },
  Controller: { target: 'string', is_connected: 'bool', max_backoff: 'int-opt', inactivity_probe: 'int-opt', connection_mode: 'string-opt' },
};

/** The column's type in an OVSDB schema (RFC 7047 §3.2). */
function schemaType(shape: ColumnShape): Json {
  switch (shape) {
    case 'string': return 'string';
    case 'int': return 'integer';
    case 'bool': return 'boolean';
    case 'int-opt': return { key: 'integer', min: 0, max: 1 };
    case 'string-opt':
    case 'dpid': return { key: 'string', min: 0, max: 1 };
    case 'uuid-set': return { key: { type: 'uuid' }, min: 0, max: 'unlimited' };
    case 'string-set': return { key: 'string', min: 0, max: 'unlimited' };
    case 'map': return { key: 'string', value: 'string', min: 0, max: 'unlimited' };
  }
}

/** What the scripted server answers to get_schema. */
export const FUZZ_SCHEMA: Json = {
  name: 'Open_vSwitch',
  version: '8.3.1',
  tables: Object.fromEntries(Object.entries(FUZZ_COLUMNS).map(([t, cols]) => [t, {
    columns: Object.fromEntries(Object.entries(cols).map(([c, shape]) => [c, { type: schemaType(shape) }])),
  }])),
};

/** The tables and columns the fuzz client monitors. */
export const FUZZ_MONITORED: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(FUZZ_COLUMNS).map(([t, cols]) => [t, Object.keys(cols)]));

const STRINGS = [
  '', 'br-int', 'br-tun', 'vxlan-0a000002', 'iface-id', 'attached-mac', 'OpenFlow13', 'secure', '0000aabbccddeeff',
  '{', '}', '[', ']', '"', '\\', '\\"', '{"a":[', '\u0000', '\u00e9t\u00e9', '\u{1f600}', '\ud800', '\udfff',
  '\u2028', '\u202e', 'x'.repeat(300), '__proto__', 'constructor', 'toString',
];
const NUMBERS = [0, 1, -1, 42, 65279, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1.5, 1e308, -1e-308, Number.MAX_SAFE_INTEGER];

/** Sets a member even when it is named __proto__ (JSON.parse makes such keys own properties too). */
function put(o: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function uuidString(rng: Rng): string {
  const h = (n: number): string => Array.from({ length: n }, () => (rng.u32() & 15).toString(16)).join('');
  return rng.chance(0.9) ? `${h(8)}-${h(4)}-${h(4)}-${h(4)}-${h(12)}` : rng.pick(['', 'not-a-uuid', h(36)]);
}

export class JsonGen {
  /** Row uuids reused across messages of one input, so updates meet rows they modify or delete. */
  private readonly rows: string[];

  constructor(private readonly rng: Rng) {
    this.rows = Array.from({ length: 4 }, () => uuidString(rng));
  }

  string(): string {
    return this.rng.chance(0.7) ? this.rng.pick(STRINGS) : `s${this.rng.int(1000)}`;
  }

  atom(): Json {
    const r = this.rng;
    return r.weighted<() => Json>([
      [() => this.string(), 4], [() => r.pick(NUMBERS), 2], [() => r.chance(0.5), 1],
      [() => ['uuid', uuidString(r)], 2], [() => ['named-uuid', `row${r.int(9)}`], 1],
    ])();
  }

  /** A row uuid of this input (so references resolve) or, now and then, any uuid. */
  private ref(): Json {
    return ['uuid', this.rng.chance(0.8) ? this.rng.pick(this.rows) : uuidString(this.rng)];
  }

  datum(shape: ColumnShape): Json {
    const r = this.rng;
    const n = r.weighted([[0, 2], [1, 3], [2, 2], [r.range(3, 12), 1]]);
    switch (shape) {
      case 'string':
        return this.string();
      case 'int':
        return r.pick(NUMBERS);
      case 'bool':
        return r.chance(0.5);
      case 'int-opt':
        return r.chance(0.3) ? ['set', []] : r.pick(NUMBERS);
      case 'string-opt':
        return r.chance(0.3) ? ['set', []] : this.string();
      case 'dpid':
        // What ovs-vswitchd writes (16 hex digits), now and then anything else the schema allows.
        return r.chance(0.3) ? ['set', []] : r.chance(0.9) ? uuidString(r).replace(/-/g, '').slice(0, 16) : this.string();
      case 'uuid-set':
        return n === 1 && r.chance(0.5) ? this.ref() : ['set', Array.from({ length: n }, () => this.ref())];
      case 'string-set':
        return n === 1 && r.chance(0.5) ? this.string() : ['set', Array.from({ length: n }, () => this.string())];
      case 'map':
        return ['map', Array.from({ length: n }, (): Json => [this.string(), this.string()])];
    }
  }

  row(table: string): Record<string, Json> {
    const row: Record<string, Json> = {};
    for (const [col, shape] of Object.entries(FUZZ_COLUMNS[table]!)) if (this.rng.chance(0.6)) row[col] = this.datum(shape);
    if (this.rng.chance(0.05)) put(row, this.string(), this.atom());
    return row;
  }

  private tableUpdates(make: (table: string) => Json): Json {
    const out: Record<string, Json> = {};
    for (const table of Object.keys(FUZZ_COLUMNS)) {
      if (!this.rng.chance(0.7)) continue;
      const rows: Record<string, Json> = {};
      for (let n = this.rng.range(1, 3); n > 0; n--) rows[this.rng.pick(this.rows)] = make(table);
      out[table] = rows;
    }
    return out;
  }

  /** <table-updates> of the monitor method: {old?, new?} per row. */
  update1(): Json {
    return this.tableUpdates((t) => this.rng.weighted<() => Json>([
      [() => ({ new: this.row(t) }), 3], [() => ({ old: this.row(t), new: this.row(t) }), 2], [() => ({ old: this.row(t) }), 1],
    ])());
  }

  /** <table-updates2> of monitor_cond*: initial/insert/modify (diffs for sets and maps)/delete. */
  update2(): Json {
    return this.tableUpdates((t) => this.rng.weighted<() => Json>([
      [() => ({ initial: this.row(t) }), 1], [() => ({ insert: this.row(t) }), 2], [() => ({ modify: this.row(t) }), 4],
      [() => ({ delete: null }), 1],
    ])());
  }

  message(): Json {
    const r = this.rng;
    const id = (): Json => (r.chance(0.8) ? r.int(1000) : r.pick<Json>(['echo', null, -1, 1.5, [], {}]));
    return r.weighted<() => Json>([
      [() => ({ id: null, method: 'update', params: [FUZZ_MONITOR_ID, this.update1()] }), 3],
      [() => ({ id: null, method: 'update2', params: [FUZZ_MONITOR_ID, this.update2()] }), 5],
      [() => ({ id: null, method: 'update3', params: [FUZZ_MONITOR_ID, uuidString(r), this.update2()] }), 2],
      [() => ({ id: 'echo', method: 'echo', params: r.chance(0.5) ? [] : [this.atom()] }), 1],
      [() => ({ id: id(), result: r.chance(0.5) ? {} : [{ uuid: ['uuid', uuidString(r)] }, {}], error: null }), 1],
      [() => ({ id: id(), result: null, error: { error: 'constraint violation', details: this.string() } }), 1],
      [() => ({ id: id(), method: 'transact', params: ['Open_vSwitch', { op: 'select', table: 'Bridge', where: [] }] }), 1],
      [() => ({ id: null, method: r.pick(['locked', 'stolen', 'monitor_canceled']), params: [this.string()] }), 1],
    ])();
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** A placeholder replaced by deep nesting after JSON.stringify (which cannot write it itself). */
const DEEP = '\u0000deep:';
const DEEP_TEXT = /"\\u0000deep:(\d+):([ao])"/g;

function wrongValue(rng: Rng, gen: JsonGen): Json {
  return rng.pick<() => Json>([
    () => null, () => true, () => 0, () => -1, () => 1e308, () => 2 ** 64, () => 'x', () => '', () => [], () => ({}),
    () => ['set'], () => ['map'], () => ['set', 5], () => ['set', {}], () => ['map', 5], () => ['map', [5]], () => ['map', [[1]]],
    () => ['map', [null]], () => ['uuid'], () => ['uuid', 5], () => ['set', [['set', [1]]]], () => gen.atom(),
    () => gen.datum('map'), () => gen.datum('uuid-set'), () => gen.string().repeat(rng.range(1, 200)),
    () => `${DEEP}${rng.pick([10, 100, 990])}:${rng.chance(0.5) ? 'a' : 'o'}`,
  ])();
}

const MEMBERS = ['id', 'method', 'params', 'result', 'error', 'new', 'old', 'modify', 'delete', 'insert', 'initial'];

function deepValue(rng: Rng): Json {
  return `${DEEP}${rng.pick([1001, 5000, 100_000])}:${rng.chance(0.5) ? 'a' : 'o'}`;
}

/** Replaces, deletes or adds one node somewhere in v (a copy is returned); `leaf` makes the new node. */
function mutateTree(v: Json, rng: Rng, gen: JsonGen, leaf = (): Json => wrongValue(rng, gen)): Json {
  if (v === null || typeof v !== 'object' || rng.chance(0.15)) return leaf();
  if (Array.isArray(v)) {
    const a = [...v];
    const op = rng.int(4);
    if (op === 0 && a.length) a.splice(rng.int(a.length), 1);
    else if (op === 1) a.splice(rng.int(a.length + 1), 0, leaf());
    else if (a.length) {
      const i = rng.int(a.length);
      a[i] = mutateTree(a[i]!, rng, gen, leaf);
    } else a.push(leaf());
    return a;
  }
  const o: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) put(o, k, x);
  const keys = Object.keys(o);
  const op = rng.int(4);
  if (op === 0 && keys.length) delete o[rng.pick(keys)];
  else if (op === 1) put(o, rng.chance(0.5) ? gen.string() : rng.pick(MEMBERS), leaf());
  else if (keys.length) {
    const k = rng.pick(keys);
    o[k] = mutateTree(o[k]!, rng, gen, leaf);
  } else put(o, gen.string(), leaf());
  return o;
}

function serialize(v: Json): string {
  return JSON.stringify(v).replace(DEEP_TEXT, (_m, n: string, kind: string) => {
    const d = Number(n);
    return kind === 'a' ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
  });
}

const JUNK = ['{', '}', '[', ']', '"', '\\', ',', ':', 'x', '\u0000', ' ', '1e999', '-', 'null', 'tru', '"\\u', '\\ud800'];

/** Text-level damage, on the UTF-8 bytes: flips, invalid bytes, stray punctuation, cut spans. */
function mutateText(text: string, rng: Rng): Buffer {
  let b = Buffer.from(text, 'utf8');
  for (let n = rng.range(1, 3); n > 0; n--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(5)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)]! ^= 1 << rng.int(8);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.pick([0xff, 0xc0, 0xc3, 0xe2, 0xed, 0xf4, 0x80, 0x00])]), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(JUNK)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 16))]);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(String(rng.pick(['1e400', '-0', '18446744073709551616', '9'.repeat(400), 'NaN']))), b.subarray(at)]);
    }
  }
  return b;
}

/** The most a socket read hands over at once (net.Socket's default high-water mark). */
const MAX_READ = 64 * 1024;

/**
 * Cuts a stream into reads: whole, at a few random points, or byte by byte (short streams); never
 * more than one socket read holds.
 */
function chunk(stream: Buffer, rng: Rng): Buffer[] {
  if (stream.length <= 512 && rng.chance(0.1)) return Array.from(stream, (byte) => Buffer.from([byte]));
  const n = rng.chance(0.3) ? 0 : rng.range(1, 8);
  const cuts = [...new Set(Array.from({ length: n }, () => rng.int(stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const c of [...cuts, stream.length]) {
    for (let at = last; at < c; at += MAX_READ) out.push(stream.subarray(at, Math.min(c, at + MAX_READ)));
    if (c === last) out.push(stream.subarray(c, c));
    last = c;
  }
  return out;
}

const STRATEGIES: ReadonlyArray<readonly [OvsdbStrategy, number]> = [
  ['valid', 10], ['tree', 35], ['deep', 4], ['text', 15], ['truncate', 6], ['splice', 6], ['random', 4], ['stacked', 20],
];

export class OvsdbInputs {
  constructor(readonly seed: number) {}

  input(index: number): OvsdbInput {
    const rng = rngFor(this.seed, Stream.OVSDB, index);
    const gen = new JsonGen(rng);
    const strategy = rng.weighted(STRATEGIES);
    const parts: Buffer[] = [];
    for (let n = rng.range(1, 4); n > 0; n--) {
      const msg = gen.message();
      let part: Buffer;
      switch (strategy) {
        case 'valid':
          part = Buffer.from(serialize(msg));
          break;
        case 'tree':
          part = Buffer.from(serialize(rng.chance(0.7) ? mutateTree(msg, rng, gen) : msg));
          break;
        case 'deep':
          // Balanced nesting somewhere in the message, or an opening run that never closes.
          part = rng.chance(0.8)
            ? Buffer.from(serialize(mutateTree(msg, rng, gen, () => deepValue(rng))))
            : Buffer.from(serialize(msg).replace(/:\[/, `:[${'['.repeat(rng.pick([999, 1000, 100_000]))}`));
          break;
        case 'text':
          part = rng.chance(0.7) ? mutateText(serialize(msg), rng) : Buffer.from(serialize(msg));
          break;
        case 'truncate': {
          const t = Buffer.from(serialize(msg));
          part = t.subarray(0, rng.int(t.length));
          break;
        }
        case 'splice': {
          const a = Buffer.from(serialize(msg));
          const b = Buffer.from(serialize(gen.message()));
          part = Buffer.concat([a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length + 1))]);
          break;
        }
        case 'random':
          part = rng.chance(0.5) ? rng.bytes(rng.int(200)) : Buffer.from(Array.from({ length: rng.int(200) }, () => rng.pick(JUNK)).join(''));
          break;
        case 'stacked': {
          let v = msg;
          for (let k = rng.range(1, 4); k > 0; k--) v = mutateTree(v, rng, gen);
          part = rng.chance(0.3) ? mutateText(serialize(v), rng) : Buffer.from(serialize(v));
          break;
        }
      }
      parts.push(part, Buffer.from(rng.pick(['', '', ' ', '\n', '\r\n\t'])));
    }
    return { strategy, chunks: chunk(Buffer.concat(parts), rng) };
  }
}
