// The OVSDB client: transactions, and a monitored local replica of chosen tables that survives
// reconnects (with backoff and a full resync). The monitor uses monitor_cond_since, falling back to
// monitor_cond and then monitor, and applies update / update2 / update3 notifications.
import { BehaviorSubject } from 'rxjs/internal/BehaviorSubject';
import { Json, Operation, ProtocolError } from '../../codecs/ovsdb/protocol.js';
import { OvsdbConnection, OvsdbError, OvsdbTarget } from './connection.js';

export type Row = Readonly<Record<string, Json>>;
/** table -> row uuid -> row (OVSDB JSON values as the server sends them). */
export type Replica = ReadonlyMap<string, ReadonlyMap<string, Row>>;

export interface ColumnType {
  readonly nMax: number;
  readonly isMap: boolean;
}

export interface OvsdbClientOptions {
  readonly database?: string;
  /** Tables and the columns to monitor. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
  /**
   * Which rows of a table to monitor at first: a monitor_cond "where", whose clauses are
   * alternatives (a row is monitored when any matches). Unset: every row. Changed by setWhere.
   */
  readonly where?: Readonly<Record<string, readonly Json[]>>;
  readonly requestTimeoutMs?: number;
  /** Reconnect backoff bounds (ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly onEvent?: (what: string) => void;
}

export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';

/** A transaction whose operations the server refused; nothing of it was committed. */
export class TransactionError extends OvsdbError {
  constructor(
    message: string,
    readonly results: readonly Json[],
  ) {
    super(message);
    this.name = 'TransactionError';
  }
}

const MONITOR_ID = 'ofctl-ts';

export class OvsdbClient {
  /** The replica, re-emitted after every applied update; kept (last known) while disconnected. */
  readonly replica$ = new BehaviorSubject<Replica>(new Map());
  /** true while connected and monitoring. */
  readonly connected$ = new BehaviorSubject<boolean>(false);
  monitorMethod: MonitorMethod | undefined;
  private conn: OvsdbConnection | undefined;
  private readonly db: string;
  private columnTypes = new Map<string, Map<string, ColumnType>>();
  private tables = new Map<string, Map<string, Row>>();
  private stopped = false;
  private readyWaiters: Array<() => void> = [];
  /** The rows monitored per table (see OvsdbClientOptions.where); what each new session asks for. */
  private readonly where: Map<string, readonly Json[]>;

  private constructor(
    readonly target: OvsdbTarget,
    private readonly opts: OvsdbClientOptions,
  ) {
    this.db = opts.database ?? 'Open_vSwitch';
    this.where = new Map(Object.entries(opts.where ?? {}));
  }

  /** While the session is down: why, failed attempts since, and when the next one is. */
  reconnecting: { readonly error: string; readonly attempts: number; readonly nextTryAt: Date } | undefined;

  /** Connects, monitors, and keeps reconnecting until close(). Resolves after the first sync. */
  static async start(target: OvsdbTarget, opts: OvsdbClientOptions): Promise<OvsdbClient> {
    const c = new OvsdbClient(target, opts);
    await c.connectOnce();
    void c.superviseLoop();
    return c;
  }

  get replica(): Replica {
    return this.tables;
  }

  /** Runs one transaction (atomic on the server). Throws TransactionError if any operation failed. */
  async transact(ops: readonly Operation[]): Promise<Json[]> {
    const conn = await this.ready();
    const results = (await conn.request('transact', [this.db, ...(ops as unknown as Json[])])) as Json[];
    const errors = results.map((r, i) => (r && typeof r === 'object' && !Array.isArray(r) && 'error' in r
      ? `operation ${i + 1} (${i < ops.length ? ops[i]!.op : 'commit'}): ${String(r.error)}${r.details ? ` (${String(r.details)})` : ''}` : undefined))
      .filter((e): e is string => e !== undefined);
    if (errors.length || results.length < ops.length) throw new TransactionError(`transaction failed: ${errors.join('; ') || 'incomplete result'}`, results);
    return results;
  }

  /**
   * Changes which rows of a table are monitored (undefined: every row). Resolves once the replica
   * holds them: ovsdb-server sends the rows entering and leaving the condition before it answers
   * monitor_cond_change, and a session that ends meanwhile is followed by one monitoring with the
   * new condition. A plain `monitor` session (no conditions) keeps every row. A condition the
   * server refuses rejects, and the one before stays.
   */
  async setWhere(table: string, where: readonly Json[] | undefined): Promise<void> {
    const now = this.where.get(table);
    if (now === where || (now && where && JSON.stringify(now) === JSON.stringify(where))) return;
    if (where) this.where.set(table, where);
    else this.where.delete(table);
    const conn = await this.ready();
    if (this.monitorMethod === 'monitor') return;
    try {
      await conn.request('monitor_cond_change', [MONITOR_ID, MONITOR_ID, { [table]: [{ where: (where ?? [true]) as Json[] }] }]);
    } catch (err) {
      if (!conn.isOpen) return void (await this.ready());
      // Refused (a condition the server cannot take): the one before stands, unless changed since.
      if (this.where.get(table) === where) {
        if (now) this.where.set(table, now);
        else this.where.delete(table);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.conn?.close('client closed');
    this.connected$.next(false);
  }

  /** Resolves with a live connection (waits through a reconnect). */
  private async ready(): Promise<OvsdbConnection> {
    while (!this.conn?.isOpen || !this.connected$.value) {
      if (this.stopped) throw new OvsdbError('client closed');
      await new Promise<void>((r) => this.readyWaiters.push(r));
    }
    return this.conn;
  }

  private async connectOnce(): Promise<void> {
    const conn = await OvsdbConnection.connect(this.target, this.opts.requestTimeoutMs ? { requestTimeoutMs: this.opts.requestTimeoutMs } : {});
    try {
      const schema = (await conn.request('get_schema', [this.db])) as { tables: Record<string, { columns: Record<string, { type: Json }> }> };
      this.columnTypes = monitoredColumnTypes(schema, this.opts.tables);
      // Updates can follow the monitor reply in the same read, before the reply's continuation
      // runs: hold them until the initial contents are applied.
      let held: Array<[string, Json[]]> | undefined = [];
      conn.notifications$.subscribe((n) => (held ? held.push([n.method, n.params]) : this.onNotification(n.method, n.params, conn)));
      const initial = await this.monitor(conn);
      this.tables = new Map(Object.keys(this.opts.tables).map((t) => [t, new Map<string, Row>()]));
      this.applyUpdates(initial, this.monitorMethod === 'monitor' ? 1 : 2); // malformed: this session fails
      const backlog = held;
      held = undefined;
      for (const [method, params] of backlog) this.onNotification(method, params, conn);
      this.conn = conn;
      this.connected$.next(true);
      this.replica$.next(this.tables);
      for (const w of this.readyWaiters.splice(0)) w();
      this.opts.onEvent?.(`connected to ${conn.peer} (${this.monitorMethod})`);
    } catch (err) {
      conn.close(`setup failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private async superviseLoop(): Promise<void> {
    let backoff = this.opts.minBackoffMs ?? 100;
    for (;;) {
      const reason = await this.conn!.closed;
      this.connected$.next(false);
      if (this.stopped) return;
      this.opts.onEvent?.(`disconnected: ${reason}`);
      let error = `disconnected: ${reason}`;
      for (let attempts = 0; ; attempts++) {
        this.reconnecting = { error, attempts, nextTryAt: new Date(Date.now() + backoff) };
        await new Promise((r) => setTimeout(r, backoff));
        if (this.stopped) return;
        try {
          await this.connectOnce();
          backoff = this.opts.minBackoffMs ?? 100;
          this.reconnecting = undefined;
          break;
        } catch (err) {
          error = (err as Error).message;
          this.opts.onEvent?.(`reconnect failed: ${error}`);
          backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 5000);
        }
      }
    }
  }

  /** Tries the newest monitor method first, as a clustered database benefits from it. */
  private async monitor(conn: OvsdbConnection): Promise<Json> {
    const cond = Object.fromEntries(Object.entries(this.opts.tables).map(([t, cols]) => {
      const where = this.where.get(t);
      return [t, [{ columns: cols as Json[], ...(where ? { where: where as Json[] } : {}) }]];
    }));
    const plain = Object.fromEntries(Object.entries(this.opts.tables).map(([t, cols]) => [t, { columns: cols as Json[] }]));
    const zero = '00000000-0000-0000-0000-000000000000';
    const attempts: Array<[MonitorMethod, Json[]]> = [
      ['monitor_cond_since', [this.db, MONITOR_ID, cond, zero]],
      ['monitor_cond', [this.db, MONITOR_ID, cond]],
      ['monitor', [this.db, MONITOR_ID, plain]],
    ];
    for (const [method, params] of attempts) {
      try {
        const result = await conn.request(method, params);
        this.monitorMethod = method;
        // monitor_cond_since answers [found, last-txn-id, updates2].
        return method === 'monitor_cond_since' ? (result as Json[])[2]! : result;
      } catch (err) {
        if (!(err instanceof OvsdbError) || !/unknown method/.test(JSON.stringify(err.error ?? ''))) throw err;
      }
    }
    throw new OvsdbError('server supports no monitor method');
  }

  private onNotification(method: string, params: Json[], conn: OvsdbConnection): void {
    const version = method === 'update' ? 1 : method === 'update2' || method === 'update3' ? 2 : undefined;
    if (version === undefined) return;
    try {
      this.applyUpdates(params[method === 'update3' ? 2 : 1], version);
    } catch (err) {
      // The replica is left as it was; the session is closed and a fresh one resyncs it whole.
      conn.close(`malformed ${method}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.replica$.next(this.tables);
  }

  /**
   * Applies a <table-updates> (monitor) or <table-updates2> (monitor_cond*) object, all or nothing:
   * the tables it touches are copied, changed, and swapped in only when every change was well formed
   * (a ProtocolError otherwise).
   */
  private applyUpdates(u: Json | undefined, version: 1 | 2): void {
    if (!isObject(u)) throw new ProtocolError('table updates are not an object');
    const next = new Map(this.tables);
    for (const [table, rows] of Object.entries(u)) {
      const have = this.tables.get(table);
      if (!have) continue; // a table we did not ask for
      if (!isObject(rows)) throw new ProtocolError(`${table}: row updates are not an object`);
      const t = new Map(have);
      for (const [id, change] of Object.entries(rows)) {
        if (!isObject(change)) throw new ProtocolError(`${table} ${id}: a row update is not an object`);
        if (version === 1) {
          if (change.new === undefined || change.new === null) t.delete(id);
          else if (isObject(change.new)) t.set(id, change.new);
          else throw new ProtocolError(`${table} ${id}: "new" is not a row`);
          continue;
        }
        const row = change.initial ?? change.insert;
        if ('delete' in change) t.delete(id);
        else if (row !== undefined) {
          if (!isObject(row)) throw new ProtocolError(`${table} ${id}: the inserted row is not an object`);
          t.set(id, row);
        } else if (change.modify !== undefined) {
          if (!isObject(change.modify)) throw new ProtocolError(`${table} ${id}: "modify" is not an object`);
          t.set(id, this.applyDiff(table, t.get(id) ?? {}, change.modify));
        }
      }
      next.set(table, t);
    }
    this.tables = next;
  }

  /** update2 "modify": sets and maps arrive as differences, other columns as new values. */
  private applyDiff(table: string, old: Row, diff: Record<string, Json>): Row {
    const row: Record<string, Json> = { ...old };
    const types = this.columnTypes.get(table);
    for (const [col, d] of Object.entries(diff)) {
      const type = types?.get(col) ?? { nMax: 1, isMap: false };
      row[col] = applyDatumDiff(old[col], d, type);
    }
    return row;
  }
}

/** Column types as read, one copy per distinct content: a thousand hosts' servers mostly share one schema (~3 KB a client). */
const sharedColumnTypes = new Map<string, Map<string, Map<string, ColumnType>>>();

/**
 * The types of the monitored columns only. A function of its own, so no closure of the session
 * keeps the whole schema reply alive (~25 KB a client: 25 MB at 1000 hosts).
 */
function monitoredColumnTypes(schema: { tables?: Record<string, { columns?: Record<string, { type?: Json }> }> },
  tables: Readonly<Record<string, readonly string[]>>): Map<string, Map<string, ColumnType>> {
  const types = Object.entries(tables).map(([t, cols]) => [t, cols
    .map((c): [string, ColumnType] => [c, columnType(schema.tables?.[t]?.columns?.[c]?.type ?? 'string')])] as const);
  const key = JSON.stringify(types);
  let shared = sharedColumnTypes.get(key);
  if (!shared) sharedColumnTypes.set(key, (shared = new Map(types.map(([t, cols]) => [t, new Map(cols)]))));
  return shared;
}

function columnType(t: Json): ColumnType {
  if (typeof t === 'string') return { nMax: 1, isMap: false };
  const o = t as Record<string, Json>;
  const max = o.max === 'unlimited' ? Infinity : typeof o.max === 'number' ? o.max : 1;
  return { nMax: max, isMap: o.value !== undefined };
}

/** Datum.diff of the OVS IDL: symmetric difference for sets/maps with n_max > 1 or when empty. */
export function applyDatumDiff(old: Json | undefined, diff: Json, type: ColumnType): Json {
  if (type.isMap) {
    const m = new Map<Json, Json>(mapPairs(old));
    for (const [k, v] of mapPairs(diff)) {
      if (m.has(k) && JSON.stringify(m.get(k)) === JSON.stringify(v)) m.delete(k);
      else m.set(k, v);
    }
    return ['map', [...m].map(([k, v]) => [k, v])];
  }
  const oldAtoms = setAtoms(old);
  if (type.nMax > 1 || oldAtoms.length === 0) {
    // Atoms compared by their JSON, each written once (a bridge's ports can be hundreds of uuids).
    const out = new Map(oldAtoms.map((x) => [JSON.stringify(x), x]));
    for (const a of setAtoms(diff)) {
      const k = JSON.stringify(a);
      if (!out.delete(k)) out.set(k, a);
    }
    return out.size === 1 ? [...out.values()][0]! : ['set', [...out.values()]];
  }
  return diff;
}

function setAtoms(v: Json | undefined): Json[] {
  if (v === undefined) return [];
  if (Array.isArray(v) && v[0] === 'set') {
    if (!Array.isArray(v[1])) throw new ProtocolError(`a set whose atoms are not an array: ${JSON.stringify(v)}`);
    return v[1];
  }
  return [v];
}

function mapPairs(v: Json | undefined): Array<[Json, Json]> {
  if (!Array.isArray(v) || v[0] !== 'map') return [];
  const pairs = v[1];
  if (!Array.isArray(pairs) || !pairs.every((p) => Array.isArray(p) && p.length === 2)) {
    throw new ProtocolError(`a map whose pairs are not pairs: ${JSON.stringify(v)}`);
  }
  return pairs as Array<[Json, Json]>;
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
