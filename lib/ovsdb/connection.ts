// One JSON-RPC 1.0 session with an OVSDB server over TCP, TLS or a unix socket: request-id
// correlation with timeouts, answers to the server's echo (over TCP, ovsdb-server drops a client that
// stays silent after its probe), notifications as a stream. A framing or protocol error closes the
// session. Over TLS (`ovsdb-server --remote=pssl:…`) both sides present a certificate the CA signed.
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Subject } from 'rxjs/internal/Subject';
import { JsonFramer } from '../../codecs/ovsdb/framer.js';
import { decodeRpc, encodeRpc, Json, Notification, ProtocolError } from '../../codecs/ovsdb/protocol.js';
import { opensslReason, TLS_OPTIONS_NEEDED, TlsCredentials } from '../tls.js';

export class OvsdbError extends Error {
  constructor(
    message: string,
    readonly error?: Json,
  ) {
    super(message);
    this.name = 'OvsdbError';
  }
}

export class OvsdbClosedError extends OvsdbError {}

export type OvsdbTarget =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'ssl'; readonly host: string; readonly port: number; readonly tls: TlsCredentials };

/** `unix:PATH`, `tcp:IP:PORT` or `ssl:IP:PORT`; the credentials go with an `ssl:` target (and its reconnects). */
export function parseOvsdbTarget(text: string, tls?: TlsCredentials): OvsdbTarget {
  if (text.startsWith('unix:') && text.length > 5) return { kind: 'unix', path: text.slice(5) };
  const m = /^(tcp|ssl):(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  if (m && Number(m[3]) <= 65535) {
    const a = { host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
    if (m[1] === 'tcp') return { kind: 'tcp', ...a };
    if (!tls) throw new OvsdbError(`${text}: ${TLS_OPTIONS_NEEDED}`);
    return { kind: 'ssl', ...a, tls };
  }
  throw new OvsdbError(`${text}: expected unix:PATH, tcp:IP:PORT or ssl:IP:PORT`);
}

export function formatOvsdbTarget(t: OvsdbTarget): string {
  return t.kind === 'unix' ? `unix:${t.path}` : `${t.kind}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

export interface OvsdbConnectionOptions {
  readonly requestTimeoutMs?: number;
}

interface Pending {
  readonly resolve: (v: Json) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class OvsdbConnection {
  readonly notifications$ = new Subject<Notification>();
  readonly closed: Promise<string>;
  private readonly framer = new JsonFramer();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closeReason: string | undefined;
  private resolveClosed!: (r: string) => void;
  private readonly timeoutMs: number;

  private constructor(
    private readonly socket: Socket,
    readonly peer: string,
    opts: OvsdbConnectionOptions,
  ) {
    this.timeoutMs = opts.requestTimeoutMs ?? 15000;
    this.closed = new Promise((r) => (this.resolveClosed = r));
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed by server'));
  }

  static connect(target: OvsdbTarget, opts: OvsdbConnectionOptions = {}): Promise<OvsdbConnection> {
    const peer = formatOvsdbTarget(target);
    return new Promise((resolve, reject) => {
      const s = target.kind === 'ssl' ? tlsConnect({ host: target.host, port: target.port, ...target.tls.clientOptions() })
        : target.kind === 'tcp' ? netConnect(target.port, target.host) : netConnect(target.path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new OvsdbError(`${peer}: connection timed out`));
      }, opts.requestTimeoutMs ?? 15000);
      // Over TLS the session starts once the handshake (and the check of the server's certificate) is done.
      s.once(target.kind === 'ssl' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(new OvsdbConnection(s, peer, opts));
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new OvsdbError(`${peer}: ${opensslReason(err)}`));
      });
    });
  }

  get isOpen(): boolean {
    return this.closeReason === undefined;
  }

  /** Sends a request; resolves with its result, rejects with the server's error. */
  request(method: string, params: Json[]): Promise<Json> {
    if (this.closeReason !== undefined) return Promise.reject(new OvsdbClosedError(`${this.peer}: ${this.closeReason}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OvsdbError(`${this.peer}: no reply to ${method} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(encodeRpc({ id, method, params }));
    });
  }

  close(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new OvsdbClosedError(`${this.peer}: ${reason}`));
    }
    this.pending.clear();
    this.socket.destroy();
    this.notifications$.complete();
    this.resolveClosed(reason);
  }

  private onData(chunk: Buffer): void {
    let texts: string[];
    try {
      texts = this.framer.push(chunk);
    } catch (err) {
      this.close(`malformed stream: ${(err as Error).message}`);
      return;
    }
    for (const t of texts) {
      try {
        const m = decodeRpc(t);
        if ('method' in m) {
          if (m.method === 'echo' && m.id !== null) {
            // Liveness probe from the server: answer with the same params.
            this.socket.write(encodeRpc({ id: m.id, result: m.params, error: null }));
          } else if (m.id === null) {
            this.notifications$.next(m);
          }
          continue;
        }
        const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
        if (!p) continue;
        clearTimeout(p.timer);
        this.pending.delete(m.id as number);
        if (m.error !== null) p.reject(new OvsdbError(`${this.peer}: ${JSON.stringify(m.error)}`, m.error));
        else p.resolve(m.result);
      } catch (err) {
        if (err instanceof ProtocolError) {
          this.close(`protocol error: ${err.message}`);
          return;
        }
        throw err;
      }
    }
  }
}
