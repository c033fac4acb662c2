// An in-memory OVSDB database executing transactions as ovsdb-server 3.1 does (RFC 7047 §5.2 and
// ovsdb-server(7)): insert/select/update/mutate/delete/wait/comment/abort/commit/assert, named
// UUIDs, atomicity (any error: nothing changes), then at commit: referential integrity, garbage
// collection of unreferenced rows of non-root tables, max rows, weak references, unique indexes.
//
// Committed tables are never changed in place: a transaction copies the tables it writes and swaps
// them in at commit, rows and datums are immutable and shared. That keeps a database of a few dozen
// rows cheap enough for a thousand of them in one process.
//
// Hooks: onCommit() sees every committed change (old and new rows per table) and may run its own
// transaction from inside (as ovs-vswitchd writes ofport/cur_cfg back); events are delivered in
// commit order, each to every listener, a nested commit's after the current one.
import { randomUUID } from 'node:crypto';
import type { Json, Operation } from '../../codecs/ovsdb/protocol.js';
import {
  checkAtom, Datum, datumEquals, datumExcludes, datumFromJson, datumIncludes, datumSubtract,
  datumToJson, datumToString, datumUnion, defaultDatum, NamedUuidResolver, OvsdbOpError, syntaxError, typeToEnglish, UUID_RE, ZERO_UUID,
} from './ovsdb-datum.js';
import { AtomValue, ColumnSchema, ColumnType, compareAtomValues, DbSchema, TableSchema } from './ovsdb-schema.js';

export interface Row {
  readonly uuid: string;
  readonly version: string;
  /** One datum per user column, by ColumnSchema.index. */
  readonly data: readonly Datum[];
}

export function columnDatum(row: Row, c: ColumnSchema): Datum {
  if (c.index >= 0) return row.data[c.index]!;
  return { keys: [c.index === -1 ? row.uuid : row.version] };
}

/** A row as OVSDB JSON (`columns` default: every user column). */
export function rowToJson(t: TableSchema, row: Row, columns: readonly ColumnSchema[] = t.columns): Record<string, Json> {
  const o: Record<string, Json> = {};
  for (const c of columns) o[c.name] = datumToJson(c.type, columnDatum(row, c));
  return o;
}

/** A read-only view of one committed row. */
export class RowView {
  constructor(
    readonly table: TableSchema,
    readonly row: Row,
  ) {}

  get uuid(): string {
    return this.row.uuid;
  }

  /** A column's value as OVSDB JSON (throws on an unknown column). */
  get(column: string): Json {
    const c = this.table.byName.get(column);
    if (!c) throw new Error(`no column ${column} in table ${this.table.name}`);
    return datumToJson(c.type, columnDatum(this.row, c));
  }

  toJson(columns?: readonly string[]): Record<string, Json> {
    const cols = columns?.map((n) => this.table.byName.get(n)).filter((c): c is ColumnSchema => c !== undefined);
    return rowToJson(this.table, this.row, cols);
  }
}

export interface RowChange {
  readonly uuid: string;
  /** Absent for an inserted row. */
  readonly old?: Row;
  /** Absent for a deleted row. */
  readonly new?: Row;
  /** For a modified row, the user columns whose value changed. */
  readonly changed?: readonly ColumnSchema[];
}

export interface TableChange {
  readonly table: TableSchema;
  readonly rows: readonly RowChange[];
}

/** What one committed transaction changed. */
export class CommitEvent {
  constructor(readonly changes: ReadonlyMap<string, TableChange>) {}

  inserted(table: string): RowView[] {
    const t = this.changes.get(table);
    return t ? t.rows.filter((r) => !r.old).map((r) => new RowView(t.table, r.new!)) : [];
  }

  deleted(table: string): RowView[] {
    const t = this.changes.get(table);
    return t ? t.rows.filter((r) => !r.new).map((r) => new RowView(t.table, r.old!)) : [];
  }

  modified(table: string): Array<{ old: RowView; new: RowView; columns: string[] }> {
    const t = this.changes.get(table);
    return t ? t.rows.filter((r) => r.old && r.new)
      .map((r) => ({ old: new RowView(t.table, r.old!), new: new RowView(t.table, r.new!), columns: r.changed!.map((c) => c.name) })) : [];
  }
}

export type CommitListener = (e: CommitEvent) => void;

/** A transaction that waits (a `wait` with a timeout, or none) until it can complete or time out. */
export interface PendingTransaction {
  readonly result: Promise<Json[]>;
  /** Drops it (its session closed): the promise never settles. */
  cancel(): void;
}

type Outcome = { readonly results: Json[] } | { readonly blockedMs: number };

export type Clause = { readonly bool: boolean } | { readonly col: ColumnSchema; readonly fn: string; readonly arg: Datum };

const ORDERING = new Set(['<', '<=', '>', '>=']);
const FUNCTIONS = new Set(['==', '!=', 'includes', 'excludes', ...ORDERING]);
const MUTATORS = new Set(['+=', '-=', '*=', '/=', '%=', 'insert', 'delete']);
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The working state of one transaction: copies of the tables it wrote, and its named UUIDs. */
class Work {
  readonly written = new Map<string, Map<string, Row>>();
  readonly symbols = new Map<string, { uuid: string; created: boolean }>();
  /** Rows deleted by this transaction (an explicit insert uuid may not reuse them). */
  readonly deleted = new Set<string>();
  /** Set when a row may have lost its last strong reference (or never had one): GC must run. */
  refsChanged = false;

  constructor(readonly committed: ReadonlyMap<string, ReadonlyMap<string, Row>>) {}

  read(t: string): ReadonlyMap<string, Row> {
    return this.written.get(t) ?? this.committed.get(t)!;
  }

  write(t: string): Map<string, Row> {
    let m = this.written.get(t);
    if (!m) {
      m = new Map(this.committed.get(t)!);
      this.written.set(t, m);
    }
    return m;
  }

  named = (name: string): string => {
    let s = this.symbols.get(name);
    if (!s) {
      s = { uuid: randomUUID(), created: false };
      this.symbols.set(name, s);
    }
    return s.uuid;
  };
}

/** Reads the members of one operation object as ovsdb_parser does. */
class OpParser {
  private readonly used = new Set<string>(['op']);

  constructor(
    readonly json: Record<string, Json>,
    private readonly n: number,
    private readonly count: number,
  ) {}

  error(msg: string): OvsdbOpError {
    return syntaxError(this.json, `Parsing ovsdb operation ${this.n} of ${this.count} failed: ${msg}`);
  }

  member(name: string, kind: 'id' | 'string' | 'array' | 'object' | 'boolean' | 'integer', optional = false): Json | undefined {
    this.used.add(name);
    const v = this.json[name];
    if (v === undefined) {
      if (optional) return undefined;
      throw this.error(`Required '${name}' member is missing.`);
    }
    const ok = kind === 'id' ? typeof v === 'string' && ID_RE.test(v)
      : kind === 'array' ? Array.isArray(v)
        : kind === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
          : kind === 'integer' ? typeof v === 'number' && Number.isInteger(v)
            : typeof v === kind;
    if (!ok) throw this.error(`Type mismatch for member '${name}'.`);
    return v;
  }

  table(db: DbSchema): TableSchema {
    const name = this.member('table', 'id') as string;
    const t = db.tables.get(name);
    if (!t) throw this.error(`No table named ${name}.`);
    return t;
  }

  finish(): void {
    for (const k of Object.keys(this.json)) if (!this.used.has(k)) throw this.error(`Member '${k}' is present but not allowed here.`);
  }
}

export class OvsdbDatabase {
  private tables: Map<string, ReadonlyMap<string, Row>>;
  private readonly listeners = new Set<CommitListener>();
  private readonly queue: CommitEvent[] = [];
  private dispatching = false;
  private readonly triggers = new Set<() => void>();
  private retrying = false;
  private retryAgain = false;

  constructor(readonly schema: DbSchema) {
    this.tables = new Map([...schema.tables.keys()].map((t) => [t, new Map<string, Row>()]));
  }

  get name(): string {
    return this.schema.name;
  }

  /** Committed rows of a table (a snapshot: later commits replace the map, never change it). */
  tableRows(table: string): ReadonlyMap<string, Row> {
    const t = this.tables.get(table);
    if (!t) throw new Error(`no table ${table} in database ${this.name}`);
    return t;
  }

  rows(table: string): RowView[] {
    const ts = this.schema.tables.get(table)!;
    return [...this.tableRows(table).values()].map((r) => new RowView(ts, r));
  }

  row(table: string, uuid: string): RowView | undefined {
    const r = this.tableRows(table).get(uuid);
    return r && new RowView(this.schema.tables.get(table)!, r);
  }

  /** Calls `fn` after every commit; returns the function that unsubscribes it. */
  onCommit(fn: CommitListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Runs a transaction now (the operations, without the database name) and returns ovsdb-server's
   * result array. A `wait` whose condition does not hold fails at once whatever its timeout (as
   * ovsdb-server does with timeout 0): use transactWhenReady for waits that block.
   */
  transact(ops: readonly Json[] | readonly Operation[]): Json[] {
    const out = this.run(ops as readonly Json[], 0, false);
    return (out as { results: Json[] }).results;
  }

  /**
   * Runs a transaction as ovsdb-server runs a request: a `wait` with a timeout > 0 (or none) that
   * does not hold makes it wait; it is retried after every commit and fails with "timed out" at
   * its timeout.
   */
  transactWhenReady(ops: readonly Json[]): PendingTransaction {
    const start = Date.now();
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let resolve!: (r: Json[]) => void;
    const result = new Promise<Json[]>((r) => (resolve = r));
    const finish = (r: Json[]): void => {
      done = true;
      this.triggers.delete(retry);
      if (timer) clearTimeout(timer);
      resolve(r);
    };
    const attempt = (elapsed: number): void => {
      const out = this.run(ops, elapsed, true);
      if ('results' in out) finish(out.results);
      else if (!timer && out.blockedMs !== Infinity) {
        // At the deadline, with the time really elapsed (ovsdb-server reports e.g. "after 101 ms").
        const deadline = out.blockedMs;
        timer = setTimeout(() => !done && attempt(Math.max(deadline, Date.now() - start)), Math.max(0, deadline - elapsed));
        timer.unref?.();
      }
    };
    const retry = (): void => {
      if (!done) attempt(Date.now() - start);
    };
    attempt(0);
    if (!done) this.triggers.add(retry);
    return {
      result, cancel: () => {
        done = true;
        this.triggers.delete(retry);
        if (timer) clearTimeout(timer);
      },
    };
  }

  private run(ops: readonly Json[], elapsedMs: number, mayBlock: boolean): Outcome {
    const work = new Work(this.tables);
    const results: Json[] = [];
    let blockedMs = Infinity;
    let failed = false;
    for (let i = 0; i < ops.length; i++) {
      try {
        const op = ops[i];
        if (!op || typeof op !== 'object' || Array.isArray(op)) throw new OvsdbOpError('syntax error', `Parsing ovsdb operation ${i + 1} of ${ops.length} failed: Object expected.`);
        const p = new OpParser(op, i + 1, ops.length);
        const name = p.member('op', 'id') as string;
        const r = this.execOp(name, p, work, elapsedMs, mayBlock);
        if (typeof r === 'number') {
          blockedMs = Math.min(blockedMs, r);
          return { blockedMs };
        }
        results.push(r);
      } catch (err) {
        if (!(err instanceof OvsdbOpError)) throw err;
        results.push(err.toJson());
        failed = true;
        break;
      }
    }
    while (results.length < ops.length) results.push(null);
    if (failed) return { results };
    try {
      const event = this.precommit(work);
      if (event) this.apply(work, event);
    } catch (err) {
      if (!(err instanceof OvsdbOpError)) throw err;
      results.push(err.toJson());
    }
    return { results };
  }

  /** Executes one operation; a number means "blocked by a wait until this many ms". */
  private execOp(name: string, p: OpParser, work: Work, elapsedMs: number, mayBlock: boolean): Json | number {
    switch (name) {
      case 'insert': return this.opInsert(p, work);
      case 'select': return this.opSelect(p, work);
      case 'update': return this.opUpdate(p, work);
      case 'mutate': return this.opMutate(p, work);
      case 'delete': return this.opDelete(p, work);
      case 'wait': return this.opWait(p, work, elapsedMs, mayBlock);
      case 'commit':
        p.member('durable', 'boolean');
        p.finish();
        return {};
      case 'abort':
        p.finish();
        throw new OvsdbOpError('aborted', 'aborted by request');
      case 'comment':
        p.member('comment', 'string');
        p.finish();
        return {};
      case 'assert': {
        const lock = p.member('lock', 'id') as string;
        p.finish();
        throw new OvsdbOpError('not owner', `Asserted lock ${lock} not held.`);
      }
      default:
        throw p.error(`No operation "${name}"`);
    }
  }

  private opInsert(p: OpParser, work: Work): Json {
    const t = p.table(this.schema);
    const uuidJson = p.member('uuid', 'string', true) as string | undefined;
    const uuidName = p.member('uuid-name', 'id', true) as string | undefined;
    const rowJson = p.member('row', 'object')!;
    p.finish();
    let uuid: string;
    if (uuidJson !== undefined) {
      if (!UUID_RE.test(uuidJson)) throw syntaxError(uuidJson, 'bad uuid');
      uuid = uuidJson.toLowerCase();
      if (work.read(t.name).has(uuid) || work.deleted.has(`${t.name}\0${uuid}`)) {
        throw syntaxError(uuidJson, 'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.', 'duplicate uuid');
      }
    }
    if (uuidName !== undefined) {
      const sym = work.symbols.get(uuidName);
      if (sym?.created) throw syntaxError(uuidName, 'This "uuid-name" appeared on an earlier "insert" operation.', 'duplicate uuid-name');
      if (uuidJson !== undefined) work.symbols.set(uuidName, { uuid: uuid!, created: true });
      else {
        uuid = work.named(uuidName);
        work.symbols.get(uuidName)!.created = true;
      }
    } else if (uuidJson === undefined) {
      uuid = randomUUID();
    }
    const given = this.parseRow(t, rowJson, work);
    const data = t.columns.map((c) => given.get(c) ?? defaultDatum(c));
    // Defaults with one atom (columns with min 1) must satisfy the column's constraints too.
    for (const c of t.columns) {
      const d = data[c.index]!;
      if (d.keys.length === 1) {
        checkAtom(c.type.key, d.keys[0]!);
        if (c.type.value) checkAtom(c.type.value, d.values![0]!);
      }
    }
    work.write(t.name).set(uuid!, { uuid: uuid!, version: randomUUID(), data });
    if (!t.isRoot) work.refsChanged = true;
    return { uuid: ['uuid', uuid!] };
  }

  private opSelect(p: OpParser, work: Work): Json {
    const t = p.table(this.schema);
    const where = parseWhere(t, p.member('where', 'array') as Json[], work.named);
    const columns = this.parseColumns(t, p.member('columns', 'array', true) as Json[] | undefined);
    p.member('sort', 'array', true);
    p.finish();
    const seen = new Set<string>();
    const rows: Json[] = [];
    for (const row of this.query(t, where, work)) {
      const key = JSON.stringify(columns.map((c) => columnDatum(row, c)));
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(rowToJson(t, row, columns));
    }
    return { rows };
  }

  private opUpdate(p: OpParser, work: Work): Json {
    const t = p.table(this.schema);
    const whereJson = p.member('where', 'array') as Json[];
    const given = this.parseRow(t, p.member('row', 'object')!, work);
    p.finish();
    for (const c of given.keys()) {
      if (!c.mutable) throw new OvsdbOpError('constraint violation', `Cannot update immutable column ${c.name} in table ${t.name}.`, p.json);
    }
    const where = parseWhere(t, whereJson, work.named);
    const matched = this.query(t, where, work);
    const out = matched.length ? work.write(t.name) : undefined;
    if (matched.length && t.strongRefColumns.some((c) => given.has(c))) work.refsChanged = true;
    for (const row of matched) {
      const data = [...row.data];
      for (const [c, d] of given) data[c.index] = d;
      out!.set(row.uuid, { ...row, data });
    }
    return { count: matched.length };
  }

  private opMutate(p: OpParser, work: Work): Json {
    const t = p.table(this.schema);
    const whereJson = p.member('where', 'array') as Json[];
    const mutations = (p.member('mutations', 'array') as Json[]).map((m) => this.parseMutation(t, m, work));
    p.finish();
    const where = parseWhere(t, whereJson, work.named);
    const matched = this.query(t, where, work);
    const out = matched.length ? work.write(t.name) : undefined;
    if (matched.length && mutations.some((m) => t.strongRefColumns.includes(m.col))) work.refsChanged = true;
    for (const row of matched) {
      const data = [...row.data];
      for (const m of mutations) data[m.col.index] = mutateDatum(m.col.type, data[m.col.index]!, m.mutator, m.arg);
      out!.set(row.uuid, { ...row, data });
    }
    return { count: matched.length };
  }

  private opDelete(p: OpParser, work: Work): Json {
    const t = p.table(this.schema);
    const where = parseWhere(t, p.member('where', 'array') as Json[], work.named);
    p.finish();
    const matched = this.query(t, where, work);
    const out = matched.length ? work.write(t.name) : undefined;
    if (matched.length) work.refsChanged = true;
    for (const row of matched) {
      out!.delete(row.uuid);
      work.deleted.add(`${t.name}\0${row.uuid}`);
    }
    return { count: matched.length };
  }

  private opWait(p: OpParser, work: Work, elapsedMs: number, mayBlock: boolean): Json | number {
    const t = p.table(this.schema);
    const timeoutJson = p.member('timeout', 'integer', true) as number | undefined;
    const whereJson = p.member('where', 'array') as Json[];
    const columns = this.parseColumns(t, p.member('columns', 'array', true) as Json[] | undefined);
    const until = p.member('until', 'string') as string;
    const rowsJson = p.member('rows', 'array') as Json[];
    p.finish();
    const where = parseWhere(t, whereJson, work.named);
    if (timeoutJson !== undefined && timeoutJson < 0) throw syntaxError(timeoutJson, 'timeout must be nonnegative');
    if (until !== '==' && until !== '!=') throw syntaxError(until, '"until" must be "==" or "!="');
    const key = (r: Row): string => JSON.stringify(columns.map((c) => columnDatum(r, c)));
    const expected = new Set<string>();
    for (const rj of rowsJson) {
      const given = this.parseRow(t, rj, work);
      const data = t.columns.map((c) => given.get(c) ?? defaultDatum(c));
      const uuidCol = t.byName.get('_uuid')!;
      const versionCol = t.byName.get('_version')!;
      expected.add(key({ uuid: given.get(uuidCol)?.keys[0] as string ?? ZERO_UUID, version: given.get(versionCol)?.keys[0] as string ?? ZERO_UUID, data }));
    }
    let equal = true;
    const actual = new Set<string>();
    for (const row of this.query(t, where, work)) {
      const k = key(row);
      if (!expected.has(k)) {
        equal = false;
        break;
      }
      actual.add(k);
    }
    equal &&= actual.size === expected.size;
    if ((until === '==') === equal) return {};
    const timeout = timeoutJson ?? Infinity;
    if (!mayBlock || elapsedMs >= timeout) {
      throw new OvsdbOpError('timed out', elapsedMs > 0 && mayBlock ? `"wait" timed out after ${elapsedMs} ms` : '"where" clause test failed');
    }
    return timeout;
  }

  private parseRow(t: TableSchema, json: Json, work: Work): Map<ColumnSchema, Datum> {
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw syntaxError(json, 'Object expected.');
    const out = new Map<ColumnSchema, Datum>();
    for (const [name, v] of Object.entries(json)) {
      const c = t.byName.get(name);
      if (!c) throw new OvsdbOpError('unknown column', `No column ${name} in table ${t.name}.`, json);
      out.set(c, datumFromJson(c.type, v, work.named));
    }
    return out;
  }

  private parseColumns(t: TableSchema, json: Json[] | undefined): ColumnSchema[] {
    if (json === undefined) return [t.byName.get('_uuid')!, t.byName.get('_version')!, ...t.columns];
    const out: ColumnSchema[] = [];
    for (const n of json) {
      if (typeof n !== 'string' || out.some((c) => c.name === n)) throw syntaxError(json, 'array of distinct column names expected');
      const c = t.byName.get(n);
      if (!c) throw syntaxError(json, `${n} is not a valid column name`);
      out.push(c);
    }
    return out;
  }

  private parseMutation(t: TableSchema, m: Json, work: Work): { col: ColumnSchema; mutator: string; arg: Datum } {
    if (!Array.isArray(m) || m.length !== 3 || typeof m[0] !== 'string' || typeof m[1] !== 'string') throw syntaxError(m, 'Parse error in mutation.');
    const col = t.byName.get(m[0]);
    if (!col) throw new OvsdbOpError('unknown column', `No column ${m[0]} in table ${t.name}.`, m);
    if (!col.mutable) throw new OvsdbOpError('constraint violation', `Cannot mutate immutable column ${col.name} in table ${t.name}.`, m);
    const mutator = m[1];
    if (!MUTATORS.has(mutator)) throw syntaxError(m, `No mutator named ${mutator}.`, 'unknown mutator');
    const ct = col.type;
    const mismatch = (): OvsdbOpError => syntaxError(m, `Type mismatch: "${mutator}" operator may not be applied to column ${col.name} of type ${typeToEnglish(ct)}.`);
    if (mutator === 'insert' || mutator === 'delete') {
      if (!ct.value && ct.min === 1 && ct.max === 1) throw mismatch();
      const type = { ...ct, min: 0, max: mutator === 'delete' ? Infinity : ct.max };
      try {
        return { col, mutator, arg: datumFromJson(type, m[2]!, work.named) };
      } catch (err) {
        if (!(mutator === 'delete' && ct.value)) throw err;
        return { col, mutator, arg: datumFromJson({ key: ct.key, min: 0, max: Infinity }, m[2]!, work.named) };
      }
    }
    if (ct.value || (ct.key.type !== 'integer' && ct.key.type !== 'real') || (mutator === '%=' && ct.key.type === 'real')) throw mismatch();
    return { col, mutator, arg: datumFromJson({ key: { type: ct.key.type }, min: 1, max: 1 }, m[2]!, work.named) };
  }

  /** Rows of `t` (as the transaction sees them) matching every clause. */
  private query(t: TableSchema, where: readonly Clause[], work: Work): Row[] {
    const rows = work.read(t.name);
    // The usual where clause names one row by uuid: look it up instead of scanning.
    const byUuid = where.find((c): c is Extract<Clause, { col: ColumnSchema }> => 'col' in c && c.col.index === -1 && c.fn === '==');
    const candidates = byUuid ? [rows.get(byUuid.arg.keys[0] as string)].filter((r): r is Row => r !== undefined) : rows.values();
    const out: Row[] = [];
    for (const row of candidates) if (where.every((c) => evaluate(c, row))) out.push(row);
    return out;
  }

  /** The commit-time checks of ovsdb_txn_precommit; returns the event, or undefined if nothing changed. */
  private precommit(work: Work): CommitEvent | undefined {
    if (!this.hasChanges(work)) return undefined;
    this.checkReferences(work);
    if (work.refsChanged) this.collectGarbage(work);
    for (const [tn, rows] of work.written) {
      const max = this.schema.tables.get(tn)!.maxRows;
      if (rows.size > max) {
        throw new OvsdbOpError('constraint violation', `transaction causes "${tn}" table to contain ${rows.size} rows, greater than the schema-defined limit of ${max} row(s)`);
      }
    }
    this.dropWeakReferences(work);
    this.checkIndexes(work);
    return this.finalChanges(work);
  }

  private hasChanges(work: Work): boolean {
    for (const [tn, rows] of work.written) {
      const before = this.tables.get(tn)!;
      if (rows.size !== before.size) return true;
      for (const [u, r] of rows) {
        const o = before.get(u);
        if (!o || (o !== r && r.data.some((d, i) => !datumEquals(d, o.data[i]!)))) return true;
      }
    }
    return false;
  }

  /** Strong references: none to a row that does not exist, none left to a deleted row. */
  private checkReferences(work: Work): void {
    const exists = (t: string, u: string): boolean => work.read(t).has(u);
    for (const [tn, rows] of work.written) {
      const ts = this.schema.tables.get(tn)!;
      const before = this.tables.get(tn)!;
      for (const [u, row] of rows) {
        const old = before.get(u);
        if (old === row) continue;
        for (const c of ts.strongRefColumns) {
          const d = row.data[c.index]!;
          const od = old?.data[c.index];
          if (od && datumEquals(d, od)) continue;
          for (const [side, base] of [['keys', c.type.key], ['values', c.type.value]] as const) {
            if (base?.refType !== 'strong') continue;
            const oldAtoms = new Set(od?.[side] ?? []);
            for (const a of d[side] ?? []) {
              if (a === u || oldAtoms.has(a) || exists(base.refTable!, a as string) || this.tables.get(base.refTable!)!.has(a as string)) continue;
              throw new OvsdbOpError('referential integrity violation',
                `Table ${tn} column ${c.name} row ${u} references nonexistent row ${String(a)} in table ${base.refTable}.`);
            }
          }
        }
      }
    }
    for (const [tn, rows] of work.written) {
      for (const u of this.tables.get(tn)!.keys()) {
        if (rows.has(u)) continue;
        const n = this.countReferences(work, tn, u);
        if (n) throw new OvsdbOpError('referential integrity violation', `cannot delete ${tn} row ${u} because of ${n} remaining reference(s)`);
      }
    }
  }

  private countReferences(work: Work, table: string, uuid: string): number {
    let n = 0;
    for (const ts of this.schema.tables.values()) {
      const cols = ts.strongRefColumns.filter((c) => c.type.key.refTable === table || c.type.value?.refTable === table);
      if (!cols.length) continue;
      for (const row of work.read(ts.name).values()) {
        if (row.uuid === uuid) continue;
        for (const c of cols) {
          const d = row.data[c.index]!;
          if (c.type.key.refTable === table && c.type.key.refType === 'strong') n += d.keys.filter((a) => a === uuid).length;
          if (c.type.value?.refTable === table && c.type.value.refType === 'strong') n += d.values!.filter((a) => a === uuid).length;
        }
      }
    }
    return n;
  }

  /** Deletes rows of non-root tables that no strong reference reaches any more (transitively). */
  private collectGarbage(work: Work): void {
    const counts = new Map<string, Map<string, number>>();
    for (const ts of this.schema.tables.values()) {
      const rows = work.read(ts.name);
      if (!ts.isRoot && rows.size) counts.set(ts.name, new Map([...rows.keys()].map((u) => [u, 0])));
    }
    const forEachTarget = (ts: TableSchema, row: Row, fn: (table: string, uuid: string) => void): void => {
      for (const c of ts.strongRefColumns) {
        const d = row.data[c.index]!;
        if (c.type.key.refType === 'strong') for (const a of d.keys) if (a !== row.uuid) fn(c.type.key.refTable!, a as string);
        if (c.type.value?.refType === 'strong') for (const a of d.values!) if (a !== row.uuid) fn(c.type.value.refTable!, a as string);
      }
    };
    for (const ts of this.schema.tables.values()) {
      if (!ts.strongRefColumns.length || !work.read(ts.name).size) continue;
      for (const row of work.read(ts.name).values()) {
        forEachTarget(ts, row, (t, u) => {
          const m = counts.get(t);
          if (m?.has(u)) m.set(u, m.get(u)! + 1);
        });
      }
    }
    const garbage: Array<[string, string]> = [];
    for (const [t, m] of counts) for (const [u, n] of m) if (n === 0) garbage.push([t, u]);
    while (garbage.length) {
      const [t, u] = garbage.pop()!;
      const row = work.read(t).get(u);
      if (!row) continue;
      work.write(t).delete(u);
      forEachTarget(this.schema.tables.get(t)!, row, (rt, ru) => {
        const m = counts.get(rt);
        if (!m?.has(ru)) return;
        const n = m.get(ru)! - 1;
        m.set(ru, n);
        if (n === 0) garbage.push([rt, ru]);
      });
    }
  }

  /** Weak references to rows that do not exist are dropped (a map loses the pair). */
  private dropWeakReferences(work: Work): void {
    for (const ts of this.schema.tables.values()) {
      if (!ts.weakRefColumns.length) continue;
      for (const row of [...work.read(ts.name).values()]) {
        let data: Datum[] | undefined;
        for (const c of ts.weakRefColumns) {
          const d = row.data[c.index]!;
          const live = (b: typeof c.type.key | undefined, a: AtomValue | undefined): boolean =>
            b?.refType !== 'weak' || work.read(b.refTable!).has(a as string);
          const keep = d.keys.map((k, i) => live(c.type.key, k) && live(c.type.value, d.values?.[i]));
          if (keep.every(Boolean)) continue;
          const nd: Datum = d.values ? { keys: d.keys.filter((_, i) => keep[i]), values: d.values.filter((_, i) => keep[i]) } : { keys: d.keys.filter((_, i) => keep[i]) };
          if (nd.keys.length < c.type.min) {
            throw new OvsdbOpError('constraint violation', `Deletion of ${d.keys.length - nd.keys.length} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${ts.name}" row ${row.uuid} ${this.tables.get(ts.name)!.has(row.uuid) ? '' : '(inserted within this transaction) '}caused this column to become empty, but constraints on this column disallow an empty column.`);
          }
          data ??= [...row.data];
          data[c.index] = nd;
        }
        if (data) work.write(ts.name).set(row.uuid, { ...row, data });
      }
    }
  }

  private checkIndexes(work: Work): void {
    for (const [tn, rows] of work.written) {
      const ts = this.schema.tables.get(tn)!;
      const before = this.tables.get(tn)!;
      for (const index of ts.indexes) {
        const touched = [...rows.values()].some((r) => {
          const old = before.get(r.uuid);
          return !old || (old !== r && index.some((c) => !datumEquals(columnDatum(old, c), columnDatum(r, c))));
        });
        if (!touched) continue;
        const seen = new Map<string, Row>();
        for (const row of rows.values()) {
          const key = JSON.stringify(index.map((c) => columnDatum(row, c)));
          const other = seen.get(key);
          if (!other) {
            seen.set(key, row);
            continue;
          }
          const values = index.map((c) => datumToString(c.type, columnDatum(row, c))).join(', ');
          const cols = index.length === 1 ? `column "${index[0]!.name}"` : `columns ${index.map((c) => `"${c.name}"`).join(', ')}`;
          const describe = (title: string, r: Row): string => {
            const old = before.get(r.uuid);
            const how = !old ? 'was inserted by this transaction.'
              : old === r ? 'existed in the database before this transaction and was not modified by the transaction.'
                : index.every((c) => datumEquals(columnDatum(old, c), columnDatum(r, c)))
                  ? 'existed in the database before this transaction, which modified some of the row\'s columns but not any columns in this index.'
                  : `had the following index values before the transaction: ${index.map((c) => datumToString(c.type, columnDatum(old, c))).join(', ')}.`;
            return `${title} row, with UUID ${r.uuid}, ${how}`;
          };
          const [a, b] = before.get(other.uuid) === other ? [other, row] : [row, other];
          throw new OvsdbOpError('constraint violation', `Transaction causes multiple rows in "${tn}" table to have identical values (${values}) for index on ${cols}.  ${describe('First', a)}  ${describe('Second', b)}`);
        }
      }
    }
  }

  /** Compares the written tables with the committed ones; modified rows get a new _version. */
  private finalChanges(work: Work): CommitEvent | undefined {
    const changes = new Map<string, TableChange>();
    for (const [tn, rows] of work.written) {
      const ts = this.schema.tables.get(tn)!;
      const before = this.tables.get(tn)!;
      const list: RowChange[] = [];
      for (const [u, row] of rows) {
        const old = before.get(u);
        if (!old) {
          list.push({ uuid: u, new: row });
          continue;
        }
        if (old === row) continue;
        const changed = ts.columns.filter((c) => !datumEquals(old.data[c.index]!, row.data[c.index]!));
        if (!changed.length) {
          rows.set(u, old);
          continue;
        }
        const now = { ...row, version: randomUUID() };
        rows.set(u, now);
        list.push({ uuid: u, old, new: now, changed });
      }
      for (const [u, old] of before) if (!rows.has(u)) list.push({ uuid: u, old });
      if (list.length) changes.set(tn, { table: ts, rows: list });
    }
    return changes.size ? new CommitEvent(changes) : undefined;
  }

  private apply(work: Work, event: CommitEvent): void {
    const next = new Map(this.tables);
    for (const [tn, rows] of work.written) next.set(tn, rows);
    this.tables = next;
    this.queue.push(event);
    if (!this.dispatching) {
      this.dispatching = true;
      try {
        for (let e = this.queue.shift(); e; e = this.queue.shift()) for (const l of [...this.listeners]) l(e);
      } finally {
        this.dispatching = false;
      }
    }
    this.retryTriggers();
  }

  /** Waiting transactions try again after every commit (one of them may commit in turn). */
  private retryTriggers(): void {
    if (this.retrying) {
      this.retryAgain = true;
      return;
    }
    this.retrying = true;
    try {
      do {
        this.retryAgain = false;
        for (const t of [...this.triggers]) t();
      } while (this.retryAgain);
    } finally {
      this.retrying = false;
    }
  }
}

/**
 * Parses a where clause (RFC 7047 §5.1 conditions, bare booleans included); `named` resolves
 * named-uuids inside a transaction.
 */
export function parseWhere(t: TableSchema, where: readonly Json[], named?: NamedUuidResolver): Clause[] {
  return where.map((w): Clause => {
    if (typeof w === 'boolean') return { bool: w };
    if (!Array.isArray(w) || w.length !== 3 || typeof w[0] !== 'string' || typeof w[1] !== 'string') throw syntaxError(w, 'Parse error in condition.');
    const col = t.byName.get(w[0]);
    if (!col) throw new OvsdbOpError('unknown column', `No column ${w[0]} in table ${t.name}.`, w);
    const fn = w[1];
    if (!FUNCTIONS.has(fn)) throw syntaxError(w, `No function named ${fn}.`, 'unknown function');
    let type: ColumnType = col.type;
    if (ORDERING.has(fn)) {
      if (col.type.value || col.type.max !== 1 || (col.type.key.type !== 'integer' && col.type.key.type !== 'real')) {
        throw syntaxError(w, `Type mismatch: "${fn}" operator may not be applied to column ${col.name} of type ${typeToEnglish(col.type)}.`);
      }
      type = { key: { type: col.type.key.type }, min: 1, max: 1 };
    } else if (fn === 'includes' || fn === 'excludes') {
      type = { ...col.type, min: 0, max: Infinity };
    }
    return { col, fn, arg: datumFromJson(type, w[2]!, named) };
  });
}

/** Does `row` satisfy every clause? (A transaction's "where".) */
export function matches(where: readonly Clause[], row: Row): boolean {
  return where.every((c) => evaluate(c, row));
}

/** Does `row` satisfy any clause, or is there none? (A monitor's condition, as ovsdb-server reads it.) */
export function matchesAny(where: readonly Clause[], row: Row): boolean {
  return where.length === 0 || where.some((c) => evaluate(c, row));
}

function evaluate(c: Clause, row: Row): boolean {
  if ('bool' in c) return c.bool;
  const d = columnDatum(row, c.col);
  switch (c.fn) {
    case '==': return datumEquals(d, c.arg);
    case '!=': return !datumEquals(d, c.arg);
    case 'includes': return datumIncludes(d, c.arg);
    case 'excludes': return datumExcludes(d, c.arg);
    default: {
      if (d.keys.length !== 1) return false;
      const cmp = compareAtomValues(d.keys[0]!, c.arg.keys[0]!);
      return c.fn === '<' ? cmp < 0 : c.fn === '<=' ? cmp <= 0 : c.fn === '>' ? cmp > 0 : cmp >= 0;
    }
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function arith(mutator: string, x: number, y: number, integer: boolean): number {
  if ((mutator === '/=' || mutator === '%=') && y === 0) throw new OvsdbOpError('domain error', 'Division by zero.');
  if (integer) {
    const [a, b] = [BigInt(x), BigInt(y)];
    const r = mutator === '+=' ? a + b : mutator === '-=' ? a - b : mutator === '*=' ? a * b : mutator === '/=' ? a / b : a % b;
    if (r > INT64_MAX || r < INT64_MIN) throw new OvsdbOpError('range error', `Result of "${mutator}" operation is out of range.`);
    return Number(r);
  }
  const r = mutator === '+=' ? x + y : mutator === '-=' ? x - y : mutator === '*=' ? x * y : x / y;
  if (!Number.isFinite(r)) throw new OvsdbOpError('range error', `Result of "${mutator}" operation is out of range.`);
  return r;
}

/** ovsdb_mutation_set_execute for one column. */
function mutateDatum(t: ColumnType, d: Datum, mutator: string, arg: Datum): Datum {
  let out: Datum;
  if (mutator === 'insert' || mutator === 'delete') {
    out = mutator === 'insert' ? datumUnion(d, arg) : datumSubtract(d, arg);
    if (out.keys.length < t.min || out.keys.length > t.max) {
      throw new OvsdbOpError('constraint violation', `Attempted to store ${out.keys.length} elements in ${typeToEnglish(t)}.`);
    }
    return out;
  }
  const y = arg.keys[0] as number;
  const keys = d.keys.map((x) => arith(mutator, x as number, y, t.key.type === 'integer'));
  for (const k of keys) checkAtom(t.key, k);
  const sorted = [...keys].sort(compareAtomValues);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new OvsdbOpError('constraint violation', `Result of "${mutator}" operation contains duplicates.`);
  }
  return { keys: sorted };
}
