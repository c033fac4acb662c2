// The OVSDB client's update handling under fuzz, over a real unix socket: a scripted ovsdb-server
// answers get_schema (FUZZ_SCHEMA) and the monitor request, then sends the notifications it is
// given, each followed by an echo; the client's answer to that echo says the notification was
// handled. A crash is what kills a controller: an exception nobody catches (the client applies
// updates in an rxjs subscriber, whose errors are rethrown on a timer), or a replica that the
// controller's reading of it (vswitchView) throws on.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonFramer } from '../../codecs/ovsdb/framer.js';
import { OvsdbClient } from '../../lib/ovsdb/client.js';
import { vswitchView } from '../../lib/ovsdb/vswitch.js';
import { FUZZ_MONITORED, FUZZ_SCHEMA } from './gen-ovsdb.js';
import { UncaughtCollector } from './uncaught.js';

const ZERO_TXN = '00000000-0000-0000-0000-000000000000';

/** What the client sends: requests (get_schema, monitor*) and answers to our echoes. */
interface RpcIn {
  readonly id?: unknown;
  readonly method?: string;
}

/** What one delivery found: the uncaught exceptions seen meanwhile, and whether the replica still reads. */
export interface Delivery {
  readonly crashes: readonly unknown[];
  /** false when the client stopped answering (stuck, or closed the session and did not come back). */
  readonly answered: boolean;
  /** What vswitchView (the controller's reading of the replica) threw afterwards, if it did. */
  readonly viewError?: unknown;
}

export class OvsdbClientUnderFuzz {
  private sock: Socket | undefined;
  private readonly framers = new WeakMap<Socket, JsonFramer>();
  private readonly echoes = new Map<string, () => void>();
  private seq = 0;
  private uncaught: UncaughtCollector | undefined;
  private readonly server: Server = createServer((s) => this.accept(s));
  private client!: OvsdbClient;

  private constructor(private readonly dir: string) {}

  /**
   * Starts the scripted server and a real OvsdbClient against it. Uncaught exceptions are collected
   * (not fatal) until close(); other listeners (mocha's) are set aside meanwhile.
   */
  static async start(): Promise<OvsdbClientUnderFuzz> {
    const self = new OvsdbClientUnderFuzz(mkdtempSync(join(tmpdir(), 'ofctl-fuzz-ovsdb-')));
    const path = join(self.dir, 'db.sock');
    await new Promise<void>((resolve) => self.server.listen(path, resolve));
    self.client = await OvsdbClient.start({ kind: 'unix', path }, { tables: FUZZ_MONITORED, minBackoffMs: 10, maxBackoffMs: 50 });
    self.uncaught = new UncaughtCollector();
    return self;
  }

  private accept(s: Socket): void {
    this.sock = s;
    this.framers.set(s, new JsonFramer());
    s.on('data', (d: Buffer) => this.onData(s, d));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.sock === s) this.sock = undefined;
    });
  }

  private onData(s: Socket, d: Buffer): void {
    for (const t of this.framers.get(s)!.push(d)) {
      const m = JSON.parse(t) as RpcIn;
      const reply = (result: unknown): void => void s.write(JSON.stringify({ id: m.id, result, error: null }));
      if (m.method === 'get_schema') reply(FUZZ_SCHEMA);
      else if (m.method === 'monitor_cond_since') reply([false, ZERO_TXN, {}]);
      else if (m.method === 'monitor_cond' || m.method === 'monitor') reply({});
      else if (m.method === undefined && typeof m.id === 'string') this.echoes.get(m.id)?.();
    }
  }

  /** Waits for the client to be connected again (after a reconnect). */
  private async connected(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.sock || !this.client.connected$.value) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  /**
   * Sends the texts, each followed by an echo, waits for every echo's answer, then lets due timers
   * run so that errors rxjs rethrows asynchronously are counted with this delivery.
   */
  async deliver(texts: readonly string[], timeoutMs = 5000): Promise<Delivery> {
    this.uncaught?.take();
    if (!(await this.connected(timeoutMs))) return { crashes: this.uncaught?.take() ?? [], answered: false };
    const s = this.sock!;
    const waits: Array<Promise<boolean>> = [];
    let out = '';
    for (const t of texts) {
      const id = `fuzz-${++this.seq}`;
      waits.push(new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.echoes.delete(id);
          resolve(false);
        }, timeoutMs);
        this.echoes.set(id, () => {
          clearTimeout(timer);
          this.echoes.delete(id);
          resolve(true);
        });
      }));
      out += `${t}${JSON.stringify({ id, method: 'echo', params: [] })}`;
    }
    // A client that refuses a malformed update closes its session (and resyncs on a new one): its
    // echoes then go unanswered, and what counts is that it comes back.
    let onClose = (): void => undefined;
    const closed = new Promise<boolean>((resolve) => s.once('close', (onClose = () => resolve(true))));
    s.write(out);
    const echoed = Promise.all(waits).then((a) => a.every(Boolean));
    let answered = await Promise.race([echoed, closed.then(() => false)]);
    s.off('close', onClose);
    if (!answered && s.destroyed) answered = await this.connected(timeoutMs);
    // rxjs rethrows a subscriber's error from setTimeout(0): a later timer of ours runs after it.
    await new Promise((r) => setTimeout(r, 2));
    const crashes = this.uncaught?.take() ?? [];
    try {
      vswitchView(this.client.replica);
    } catch (viewError) {
      return { crashes, answered, viewError };
    }
    return { crashes, answered };
  }

  /** Deletes every row of the replica (after a row that vswitchView cannot read). */
  async reset(): Promise<void> {
    const updates = Object.fromEntries([...this.client.replica].map(([t, rows]) => [t, Object.fromEntries([...rows.keys()].map((u) => [u, { delete: null }]))]));
    await this.deliver([JSON.stringify({ id: null, method: 'update2', params: ['reset', updates] })]);
  }

  async close(): Promise<void> {
    await this.client.close();
    this.sock?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    // Timers rxjs may still fire for the last delivery are let through before mocha's listener returns.
    await new Promise((r) => setTimeout(r, 5));
    this.uncaught?.restore();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
