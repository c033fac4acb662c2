// A simulated ovsdb-server: one in-memory database served over unix sockets and/or TCP with
// JSON-RPC 1.0 as ovsdb-server 3.1 speaks it (checked against the real one, see
// test/sim/ovsdb-crosscheck.test.ts): list_dbs, get_schema, transact (waits with a timeout block
// until they hold or time out), echo both ways, monitor/update, monitor_cond/update2,
// monitor_cond_since/update3 (a standalone server: never "found", zero transaction id),
// monitor_cond_change, monitor_cancel, get_server_id, set_db_change_aware; "unknown method" for
// anything else (locks, convert, _Server database: not simulated).
//
// Like ovsdb-server, a reply carries "error": null, an error reply only "error", a notification
// "id": null; bad JSON, a non-object, a request without array params, a "jsonrpc" member or an
// unexpected reply closes the session. Nothing a peer sends throws out of the server.
import { randomUUID } from 'node:crypto';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { JsonFramer } from '../../codecs/ovsdb/framer.js';
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { OvsdbTarget, parseOvsdbTarget } from '../../lib/ovsdb/connection.js';
import { OvsdbOpError, syntaxError, ZERO_UUID } from './ovsdb-datum.js';
import { CommitEvent, OvsdbDatabase, PendingTransaction } from './ovsdb-db.js';
import { Monitor, MonitorVersion } from './ovsdb-monitor.js';
import { DbSchema, loadSchemaFile } from './ovsdb-schema.js';


/**
 * A fresh Open_vSwitch database as `ovs-vsctl init` leaves it: the one Open_vSwitch row (schema
 * default: the installed vswitch.ovsschema, parsed once per process).
 */
export function createVswitchDatabase(schema: DbSchema = loadSchemaFile()): OvsdbDatabase {
  const db = new OvsdbDatabase(schema);
  db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
  return db;
}

export interface OvsdbSimServerOptions {
  /** What get_server_id answers (default: a random UUID per server). */
  readonly serverId?: string;
  /**
   * Inactivity probe over TCP in ms, as ovsdb-server's default of 5000: after that long without a
   * message the server sends an echo, and closes the session if the next period is silent too.
   * 0 turns it off. Unix sockets are never probed (as ovsdb-server's punix remotes).
   */
  readonly tcpInactivityProbeMs?: number;
  /** Methods to answer with "unknown method", as an older ovsdb-server would (e.g. monitor_cond_since). */
  readonly disabledMethods?: readonly string[];
}

const MONITOR_METHODS: Record<string, MonitorVersion> = { monitor: 1, monitor_cond: 2, monitor_cond_since: 3 };

export class OvsdbSimServer {
  readonly serverId: string;
  private readonly listeners: Server[] = [];
  private readonly sessions = new Set<Session>();
  readonly disabled: ReadonlySet<string>;

  constructor(
    readonly db: OvsdbDatabase,
    private readonly opts: OvsdbSimServerOptions = {},
  ) {
    this.serverId = opts.serverId ?? randomUUID();
    this.disabled = new Set(opts.disabledMethods);
  }

  /**
   * Each commit's notification text per monitor signature (null: nothing to send), made once: the
   * controllers' replicas all monitor a host alike, and ovsdb-server too encodes a change once for
   * the monitors that share it. Held while the commit's event lives.
   */
  private readonly encoded = new WeakMap<CommitEvent, Map<string, Buffer | null>>();

  /** The notification `mon` sends for commit `e`, encoded, or null when it sends none. */
  notificationOf(e: CommitEvent, mon: Monitor): Buffer | null {
    let byMonitor = this.encoded.get(e);
    if (!byMonitor) this.encoded.set(e, (byMonitor = new Map()));
    const sig = mon.signature;
    let out = byMonitor.get(sig);
    if (out === undefined) {
      const u = mon.updates(e);
      out = u ? Buffer.from(JSON.stringify({ id: null, ...mon.notification(u) })) : null;
      byMonitor.set(sig, out);
    }
    return out;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Listens on `unix:PATH` or `tcp:HOST:PORT` (port 0: any free port); resolves with the target
   * clients connect to.
   */
  listen(target: OvsdbTarget | string): Promise<string> {
    const t = typeof target === 'string' ? parseOvsdbTarget(target) : target;
    const probeMs = t.kind === 'tcp' ? (this.opts.tcpInactivityProbeMs ?? 5000) : 0;
    const server = createServer((socket) => {
      const s = new Session(this, socket, probeMs, () => this.sessions.delete(s));
      this.sessions.add(s);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const ready = (): void => {
        server.removeListener('error', reject);
        this.listeners.push(server);
        const a = server.address();
        resolve(t.kind === 'unix' ? `unix:${t.path}` : `tcp:${t.host}:${typeof a === 'object' && a ? a.port : t.port}`);
      };
      // A socket file left by an earlier run is replaced, as ovsdb-server does.
      if (t.kind === 'unix' && existsSync(t.path) && lstatSync(t.path).isSocket()) unlinkSync(t.path);
      if (t.kind === 'unix') server.listen(t.path, ready);
      else server.listen(t.port, t.host, ready);
    });
  }

  /** Stops listening and closes every session. */
  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.close();
    await Promise.all(this.listeners.splice(0).map((l) => new Promise<void>((r) => l.close(() => r()))));
  }
}

class Session {
  private readonly framer = new JsonFramer();
  private readonly monitors = new Map<string, Monitor>();
  private readonly pending = new Set<PendingTransaction>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private heardFrom = true;
  private probeSent = false;
  private readonly probeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: OvsdbSimServer,
    private readonly socket: Socket,
    probeMs: number,
    private readonly onClose: () => void,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    if (probeMs > 0) {
      this.probeTimer = setInterval(() => this.probe(), probeMs);
      this.probeTimer.unref();
    }
  }

  private get db(): OvsdbDatabase {
    return this.server.db;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    for (const p of this.pending) p.cancel();
    this.pending.clear();
    this.unsubscribe?.();
    this.monitors.clear();
    this.socket.destroy();
    this.onClose();
  }

  private probe(): void {
    if (this.heardFrom) {
      this.heardFrom = false;
      this.probeSent = false;
    } else if (!this.probeSent) {
      this.probeSent = true;
      this.send({ id: 'echo', method: 'echo', params: [] });
    } else {
      this.close();
    }
  }

  private send(m: Record<string, Json>): void {
    if (!this.closed) this.socket.write(JSON.stringify(m));
  }

  private reply(id: Json, result: Json): void {
    this.send({ id, result, error: null });
  }

  private replyError(id: Json, error: Json): void {
    this.send({ id, error });
  }

  private onData(chunk: Buffer): void {
    this.heardFrom = true;
    let texts: string[];
    try {
      texts = this.framer.push(chunk);
    } catch {
      this.close();
      return;
    }
    for (const t of texts) {
      if (this.closed) return;
      let m: unknown;
      try {
        m = JSON.parse(t);
      } catch {
        this.close();
        return;
      }
      this.onMessage(m);
    }
  }

  private onMessage(m: unknown): void {
    if (!m || typeof m !== 'object' || Array.isArray(m) || 'jsonrpc' in m) return this.close();
    const o = m as Record<string, Json>;
    if ('method' in o) {
      if (typeof o.method !== 'string' || !Array.isArray(o.params)) return this.close();
      if (o.id === null || o.id === undefined) return; // notifications ("cancel" included) are ignored
      try {
        this.onRequest(o.id, o.method, o.params);
      } catch (err) {
        // Anything else is a bug of an in-process commit hook: the peer hears of it, the server lives.
        this.replyError(o.id, err instanceof OvsdbOpError ? err.toJson() : { error: 'internal error', details: String((err as Error).message ?? err) });
      }
      return;
    }
    // A reply: only to our echo probe is one expected.
    if (o.id !== 'echo' || !('result' in o || 'error' in o)) this.close();
  }

  private onRequest(id: Json, method: string, params: Json[]): void {
    if (this.server.disabled.has(method)) return this.replyError(id, 'unknown method');
    switch (method) {
      case 'echo':
        return this.reply(id, params);
      case 'list_dbs':
        return this.reply(id, [this.db.name]);
      case 'get_server_id':
        return this.reply(id, this.server.serverId);
      case 'set_db_change_aware':
        return this.reply(id, {});
      case 'get_schema':
        this.checkDb(params, 'get_schema');
        return this.reply(id, this.db.schema.json);
      case 'transact':
        return this.transact(id, params);
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since':
        return this.monitor(id, MONITOR_METHODS[method]!, params);
      case 'monitor_cond_change':
        return this.monitorCondChange(id, params);
      case 'monitor_cancel': {
        const key = JSON.stringify(params[0] ?? null);
        if (params.length !== 1 || !this.monitors.delete(key)) return this.replyError(id, 'unknown monitor');
        if (!this.monitors.size) {
          this.unsubscribe?.();
          this.unsubscribe = undefined;
        }
        return this.reply(id, {});
      }
      default:
        return this.replyError(id, 'unknown method');
    }
  }

  private checkDb(params: Json[], method: string): void {
    if (typeof params[0] !== 'string') throw syntaxError(params, `${method} request params must begin with <db-name>`);
    if (params[0] !== this.db.name) throw new OvsdbOpError('unknown database', `${method} request specifies unknown database ${params[0]}`, params);
  }

  private transact(id: Json, params: Json[]): void {
    this.checkDb(params, 'transact');
    const p = this.db.transactWhenReady(params.slice(1));
    this.pending.add(p);
    void p.result.then((results) => {
      this.pending.delete(p);
      this.reply(id, results);
    });
  }

  private monitor(id: Json, version: MonitorVersion, params: Json[]): void {
    if (params.length < 3 || (version === 3 && params.length < 4)) throw syntaxError(params, 'monitor request needs <db-name>, <monitor-id> and <monitor-requests>');
    this.checkDb(params, version === 1 ? 'monitor' : version === 2 ? 'monitor_cond' : 'monitor_cond_since');
    const key = JSON.stringify(params[1]);
    if (this.monitors.has(key)) throw syntaxError(params[1], 'duplicate monitor ID');
    const mon = new Monitor(this.db, params[1]!, version, params[2]!);
    this.monitors.set(key, mon);
    this.unsubscribe ??= this.db.onCommit((e) => this.onCommit(e));
    const initial = mon.initial();
    this.reply(id, version === 3 ? [false, ZERO_UUID, initial] : initial);
  }

  private monitorCondChange(id: Json, params: Json[]): void {
    if (params.length !== 3) throw syntaxError(params, 'monitor_cond_change request needs <monitor-id>, <new-monitor-id> and <monitor-cond-change-requests>');
    const mon = this.monitors.get(JSON.stringify(params[0]));
    if (!mon) throw syntaxError(params[0], 'unknown monitor session');
    const newKey = JSON.stringify(params[1]);
    if (newKey !== JSON.stringify(params[0]) && this.monitors.has(newKey)) throw syntaxError(params[1], 'duplicate monitor ID');
    const updates = mon.changeConditions(params[2]!);
    this.monitors.delete(JSON.stringify(params[0]));
    mon.id = params[1]!;
    this.monitors.set(newKey, mon);
    if (updates) this.send({ id: null, ...mon.notification(updates) });
    this.reply(id, {});
  }

  private onCommit(e: CommitEvent): void {
    for (const mon of this.monitors.values()) {
      const text = this.server.notificationOf(e, mon);
      if (text && !this.closed) this.socket.write(text);
    }
  }
}
