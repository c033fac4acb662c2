// One monitor of a session (RFC 7047 §4.1.5 `monitor`, ovsdb-server(7) `monitor_cond` and
// `monitor_cond_since`): which tables, columns, row selection and condition it follows, its initial
// contents, and the update it makes of a committed change, in the format of its method:
//   monitor            → "update"  rows {old, new}: insert new; delete old; modify new + the old
//                        values of the changed columns
//   monitor_cond       → "update2" rows {initial|insert: non-default columns} | {delete: null} |
//   monitor_cond_since → "update3"      {modify: changed columns, sets and maps as differences}
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { datumDiff, datumEquals, datumToJson, isDefault, OvsdbOpError, syntaxError, ZERO_UUID } from './ovsdb-datum.js';
import { Clause, columnDatum, CommitEvent, matchesAny, OvsdbDatabase, parseWhere, Row } from './ovsdb-db.js';
import type { ColumnSchema, TableSchema } from './ovsdb-schema.js';

export type MonitorVersion = 1 | 2 | 3;

interface Select {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

interface MonitoredTable {
  readonly table: TableSchema;
  readonly columns: readonly ColumnSchema[];
  readonly select: Select;
  /** Rows must match one of these (monitor_cond), each matched by any of its clauses; undefined: every row. */
  where: readonly (readonly Clause[])[] | undefined;
}

function parseSelect(j: Json | undefined, into: Select, first: boolean): void {
  const s = j === undefined ? {} : j;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw syntaxError(j, 'select must be an object');
  for (const k of ['initial', 'insert', 'delete', 'modify'] as const) {
    const v = s[k] ?? true;
    if (typeof v !== 'boolean') throw syntaxError(j, `"${k}" must be a boolean`);
    into[k] = first ? v : into[k] || v;
  }
}

export class Monitor {
  private readonly tables: readonly MonitoredTable[];
  /** The requests as made and each condition change since: monitors alike in these (and id and version) send the same updates. */
  private requested: string;

  /** Parses <monitor-requests> (throws OvsdbOpError with ovsdb-server's error). */
  constructor(
    readonly db: OvsdbDatabase,
    public id: Json,
    readonly version: MonitorVersion,
    requests: Json,
  ) {
    if (!requests || typeof requests !== 'object' || Array.isArray(requests)) throw syntaxError(requests, 'monitor-requests must be an object');
    this.requested = JSON.stringify(requests);
    this.tables = Object.entries(requests).map(([name, req]) => {
      const table = db.schema.tables.get(name);
      if (!table) throw new OvsdbOpError('syntax error', `no table named ${name}`);
      const list = Array.isArray(req) ? req : [req];
      const columns: ColumnSchema[] = [];
      const select: Select = { initial: true, insert: true, delete: true, modify: true };
      let where: Clause[][] | undefined = [];
      list.forEach((r, i) => {
        if (!r || typeof r !== 'object' || Array.isArray(r)) throw syntaxError(r, 'monitor request must be an object');
        if (r.columns === undefined) {
          for (const c of [table.byName.get('_version')!, ...table.columns]) if (!columns.includes(c)) columns.push(c);
        } else {
          if (!Array.isArray(r.columns)) throw syntaxError(r.columns, 'array of column names expected');
          for (const n of r.columns) {
            const c = typeof n === 'string' ? table.byName.get(n) : undefined;
            if (!c || c.index === -1) throw syntaxError(r.columns, `${String(n)} is not a valid column name`);
            if (!columns.includes(c)) columns.push(c);
          }
        }
        parseSelect(r.select, select, i === 0);
        if (version === 1 || r.where === undefined) where = undefined;
        else if (where) {
          if (!Array.isArray(r.where)) throw syntaxError(r.where, 'where must be an array');
          where.push(parseWhere(table, r.where));
        }
      });
      return { table, columns, select, where };
    });
  }

  /**
   * monitor_cond_change: new where clauses for some tables (columns may not change). Returns the
   * updates2 it causes (rows leaving the condition deleted, rows entering it inserted), if any.
   */
  /**
   * Equal for monitors whose updates are equal text: the same id, method and requests, conditions
   * changed alike. The server encodes a commit's update once for all of them, as ovsdb-server's
   * monitors share one JSON cache.
   */
  get signature(): string {
    return `${this.version} ${JSON.stringify(this.id)} ${this.requested}`;
  }

  changeConditions(requests: Json): Json | undefined {
    if (this.version === 1) throw syntaxError(this.id, 'monitor_cond_change is not supported on a "monitor" monitor');
    if (!requests || typeof requests !== 'object' || Array.isArray(requests)) throw syntaxError(requests, 'monitor-cond-change-requests must be an object');
    const changes: Array<[MonitoredTable, Clause[][] | undefined]> = Object.entries(requests).map(([name, req]) => {
      const t = this.tables.find((x) => x.table.name === name);
      if (!t) throw new OvsdbOpError('syntax error', `no table named ${name}`);
      const where: Clause[][] = [];
      for (const r of Array.isArray(req) ? req : [req]) {
        if (!r || typeof r !== 'object' || Array.isArray(r)) throw syntaxError(r, 'monitor request must be an object');
        if (r.columns !== undefined) throw syntaxError(r, 'changing columns is unsupported');
        if (r.where === undefined) return [t, undefined];
        if (!Array.isArray(r.where)) throw syntaxError(r.where, 'where must be an array');
        where.push(parseWhere(t.table, r.where));
      }
      return [t, where];
    });
    this.requested += ` ${JSON.stringify(requests)}`;
    let out: Record<string, Json> | undefined;
    for (const [t, where] of changes) {
      const rows = [...this.db.tableRows(t.table.name).values()];
      const before = rows.map((r) => this.visible(t, r));
      t.where = where;
      const updates: Record<string, Json> = {};
      rows.forEach((r, i) => {
        const now = this.visible(t, r);
        if (before[i] && !now) updates[r.uuid] = { delete: null };
        else if (!before[i] && now) updates[r.uuid] = { insert: this.rowJson2(t, r) };
      });
      if (Object.keys(updates).length) (out ??= {})[t.table.name] = updates;
    }
    return out;
  }

  private visible(t: MonitoredTable, row: Row | undefined): boolean {
    return row !== undefined && (!t.where || t.where.some((w) => matchesAny(w, row)));
  }

  /** The reply's contents: every row (that matches) as "initial", or {} if not selected. */
  initial(): Json {
    const out: Record<string, Json> = {};
    for (const t of this.tables) {
      if (!t.select.initial) continue;
      const rows: Record<string, Json> = {};
      for (const row of this.db.tableRows(t.table.name).values()) {
        if (!this.visible(t, row)) continue;
        rows[row.uuid] = this.version === 1 ? { new: this.rowJson(t, row) } : { initial: this.rowJson2(t, row) };
      }
      if (Object.keys(rows).length) out[t.table.name] = rows;
    }
    return out;
  }

  /** The table-updates (v1) or table-updates2 of a commit, or undefined if nothing is to be sent. */
  updates(e: CommitEvent): Json | undefined {
    let out: Record<string, Json> | undefined;
    for (const t of this.tables) {
      const change = e.changes.get(t.table.name);
      if (!change) continue;
      const rows: Record<string, Json> = {};
      for (const r of change.rows) {
        const [was, is] = [this.visible(t, r.old), this.visible(t, r.new)];
        let u: Json | undefined;
        if (!was && is) {
          if (t.select.insert) u = this.version === 1 ? { new: this.rowJson(t, r.new!) } : { insert: this.rowJson2(t, r.new!) };
        } else if (was && !is) {
          if (t.select.delete) u = this.version === 1 ? { old: this.rowJson(t, r.old!) } : { delete: null };
        } else if (was && is && t.select.modify) {
          u = this.modify(t, r.old!, r.new!);
        }
        if (u) rows[r.uuid] = u;
      }
      if (Object.keys(rows).length) (out ??= {})[t.table.name] = rows;
    }
    return out;
  }

  /** The notification carrying `updates`, as ovsdb-server sends it for this monitor's method. */
  notification(updates: Json): { method: string; params: Json[] } {
    if (this.version === 1) return { method: 'update', params: [this.id, updates] };
    if (this.version === 2) return { method: 'update2', params: [this.id, updates] };
    // A standalone database has no transaction ids: ovsdb-server 3.1 sends the zero UUID.
    return { method: 'update3', params: [this.id, ZERO_UUID, updates] };
  }

  private modify(t: MonitoredTable, old: Row, now: Row): Json | undefined {
    const changed = t.columns.filter((c) => c.index === -2 ? old.version !== now.version : !datumEquals(columnDatum(old, c), columnDatum(now, c)));
    if (!changed.length) return undefined;
    if (this.version === 1) {
      const before: Record<string, Json> = {};
      for (const c of changed) before[c.name] = datumToJson(c.type, columnDatum(old, c));
      return { old: before, new: this.rowJson(t, now) };
    }
    const diff: Record<string, Json> = {};
    for (const c of changed) diff[c.name] = datumToJson(c.type, datumDiff(c.type, columnDatum(old, c), columnDatum(now, c)));
    return { modify: diff };
  }

  private rowJson(t: MonitoredTable, row: Row): Record<string, Json> {
    const o: Record<string, Json> = {};
    for (const c of t.columns) o[c.name] = datumToJson(c.type, columnDatum(row, c));
    return o;
  }

  /** update2 "initial"/"insert" rows leave out columns that hold their default. */
  private rowJson2(t: MonitoredTable, row: Row): Record<string, Json> {
    const o: Record<string, Json> = {};
    for (const c of t.columns) {
      const d = columnDatum(row, c);
      if (c.index < 0 || !isDefault(c, d)) o[c.name] = datumToJson(c.type, d);
    }
    return o;
  }
}
