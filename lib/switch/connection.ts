// One OpenFlow 1.3 session over a stream socket: handshake, xid-matched requests with timeouts,
// multipart reassembly, barriers, bundles, echo keepalive and back-pressure. A malformed message or
// a protocol violation closes this session only, with a logged reason; it never throws into the
// process.
import type { Socket } from 'node:net';
// The Subject alone, not the rxjs barrel: loading all of rxjs costs the CLI ~100 ms per command.
import { Subject } from 'rxjs/internal/Subject';
import type { Logger } from 'pino';
import { Writer } from '../../codecs/openflow/bytes.js';
import { RefusedMessage } from '../../codecs/openflow/errors.js';
import { isMultipartRequestType } from '../../codecs/openflow/stats.js';
import { OfFramer } from '../../codecs/openflow/framer.js';
import {
  decodeMessage, OFPBCT_COMMIT_REQUEST, OFPBCT_DISCARD_REQUEST, OFPBCT_OPEN_REQUEST, OFPBF_ATOMIC, OFPBF_ORDERED, OFPMPF_MORE, OfMessage, OfType,
  OutgoingMessage, writeMessage,
} from '../../codecs/openflow/messages.js';
import { BundleError, describeError, OpenFlowError } from './errors.js';

/** A message to send; the session assigns the xid. */
export type Outgoing = OutgoingMessage;

export interface ConnectionOptions {
  readonly logger?: Logger;
  /** Idle time before we send an echo request (ms); silent twice as long, the peer is dead. */
  readonly echoIntervalMs?: number;
  /** Time an echo (or any request) may stay unanswered before the peer is declared dead (ms). */
  readonly requestTimeoutMs?: number;
  /** Largest OpenFlow message accepted from the peer. */
  readonly maxMessageBytes?: number;
  /**
   * Ask FEATURES for the datapath id during the handshake (default). The flow tool skips it, as
   * ovs-ofctl does, so its xids (and the `xid=` it prints) are the ones ovs-ofctl would use.
   */
  readonly features?: boolean;
  /**
   * The switch's echo requests also go to messages$ (ovs-ofctl monitor prints them), 'answered'
   * as usual or 'unanswered' (snoop: a tap answers nothing).
   */
  readonly echoRequests?: 'answered' | 'unanswered';
}

/** A request written on the socket before its session existed (see OfConnection.adopt). */
export interface SentRequest {
  readonly xid: number;
  /** The request's message type (multipart requests get all parts). */
  readonly type: Outgoing['type'];
  /** As for request(). */
  readonly onPart?: (part: OfMessage) => void;
  readonly onRawPart?: RawPartConsumer;
}

interface Pending {
  readonly resolve: (m: OfMessage[]) => void;
  readonly reject: (e: Error) => void;
  readonly parts: OfMessage[];
  timer: NodeJS.Timeout;
  readonly multipart: boolean;
  /** The request's message type, for the timeout's message. */
  readonly what: string;
  /** Streaming consumer of multipart parts; when set, parts are not accumulated. */
  readonly onPart: ((m: OfMessage) => void) | undefined;
  /** Offered each reply part's bytes before decoding; true when it took them (see RawPartConsumer). */
  readonly onRawPart: RawPartConsumer | undefined;
}

/**
 * Takes a multipart reply part as bytes (the flow tool's printer, which needs no decoded message);
 * returns false to have the part decoded and handed to onPart as usual, e.g. when it looks
 * malformed, so that the decoder reports it and closes the session as for any message.
 */
export type RawPartConsumer = (bytes: Buffer) => boolean;

export class SessionClosedError extends Error {}

const OF13 = 4;

export class OfConnection {
  /** Asynchronous messages from the switch (packet-in, port-status, flow-removed, unsolicited errors). */
  readonly messages$ = new Subject<OfMessage>();
  readonly closed: Promise<string>;
  datapathId: bigint | undefined;

  private nextXid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly framer: OfFramer;
  private closeReason: string | undefined;
  private resolveClosed!: (reason: string) => void;
  private echoTimer: NodeJS.Timeout | undefined;
  private echoOutstanding = false;
  private lastRx = Date.now();
  private helloReceived: (() => void) | undefined;
  private log: Logger | undefined;
  private readonly echoIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly features: boolean;
  private readonly echoRequests: ConnectionOptions['echoRequests'];
  private helloSent = false;

  constructor(
    private readonly socket: Socket,
    readonly peer: string,
    opts: ConnectionOptions = {},
  ) {
    this.log = opts.logger;
    this.echoIntervalMs = opts.echoIntervalMs ?? 5000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15000;
    this.framer = new OfFramer(opts.maxMessageBytes ?? 65535);
    this.features = opts.features ?? true;
    this.echoRequests = opts.echoRequests;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed by peer'));
  }

  /**
   * A session on a socket that already carries our HELLO and the requests `sent`, with xids below
   * `nextXid` (written before any session existed, so that the switch works while the process
   * starts): no HELLO is sent, xids continue from `nextXid`, and each reply of `sent` is awaited
   * as request() awaits its own. Nothing has been read when this returns, so no reply is missed.
   */
  static adopt(
    socket: Socket, peer: string, written: { readonly nextXid: number; readonly sent: readonly SentRequest[] }, opts: ConnectionOptions = {},
  ): { conn: OfConnection; replies: Array<Promise<OfMessage[]>> } {
    const conn = new OfConnection(socket, peer, opts);
    conn.helloSent = true;
    conn.nextXid = written.nextXid;
    const replies = written.sent.map((r) => conn.awaitReply(r.xid, r.type, r.onPart, r.onRawPart));
    return { conn, replies };
  }

  get isOpen(): boolean {
    return this.closeReason === undefined;
  }

  /** Names the session's host and bridge (once the controller knows them) in its later log lines. */
  bindLog(bindings: Readonly<Record<string, string>>): void {
    this.log = this.log?.child(bindings);
  }

  /** HELLO exchange (OpenFlow 1.3 only) and FEATURES to learn the datapath id. */
  async handshake(): Promise<bigint | undefined> {
    const hello = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.peer}: no HELLO within ${this.requestTimeoutMs} ms`));
        this.close('no HELLO from peer');
      }, this.requestTimeoutMs);
      this.helloReceived = () => {
        clearTimeout(timer);
        resolve();
      };
      void this.closed.then((r) => {
        clearTimeout(timer);
        reject(new SessionClosedError(`${this.peer}: ${r}`));
      });
    });
    if (!this.helloSent) this.post({ type: 'hello', xid: this.allocXid(), versions: [OF13] });
    await hello;
    if (!this.features) {
      this.armEcho();
      return undefined;
    }
    const [features] = await this.request({ type: 'features_request' });
    if (features?.type !== 'features_reply') throw new Error(`${this.peer}: unexpected reply to FEATURES_REQUEST`);
    this.datapathId = features.datapathId;
    this.armEcho();
    return features.datapathId;
  }

  /** Sends a message that expects no reply. Resolves when the socket accepted it (back-pressure). */
  async send(m: Outgoing): Promise<void> {
    await this.sendMany([m]);
  }

  /** Sends many messages, packing them into large writes and waiting for drain between them. */
  async sendMany(msgs: Iterable<Outgoing>, assign?: (xid: number, index: number) => void): Promise<void> {
    this.assertOpen();
    let w = new Writer(1 << 16);
    let i = 0;
    for (const m of msgs) {
      const xid = this.allocXid();
      assign?.(xid, i++);
      writeMessage(w, m, xid);
      if (w.pos >= 1 << 18) {
        await this.write(w.finish());
        w = new Writer(1 << 16);
      }
    }
    if (w.pos > 0) await this.write(w.finish());
  }

  /**
   * Sends a request and resolves with its reply (all parts, for multipart replies). With `onPart`,
   * each part of a multipart reply is handed over as it arrives and not kept (a dump of 100k flows
   * then never sits in memory whole); the promise resolves with [] after the last part.
   */
  request(m: Outgoing, onPart?: (part: OfMessage) => void, onRawPart?: RawPartConsumer): Promise<OfMessage[]> {
    this.assertOpen();
    const xid = this.allocXid();
    const p = this.awaitReply(xid, m.type, onPart, onRawPart);
    this.post({ ...m, xid } as OfMessage);
    return p;
  }

  /** The reply to the request with this xid, sent by request() or before the session (adopt()). */
  private awaitReply(xid: number, type: Outgoing['type'], onPart?: (part: OfMessage) => void, onRawPart?: RawPartConsumer): Promise<OfMessage[]> {
    this.assertOpen();
    const multipart = type === 'flow_stats_request' || type === 'port_desc_request' || type === 'multipart_request' || isMultipartRequestType(type);
    return new Promise<OfMessage[]>((resolve, reject) => {
      const timer = this.requestTimer(xid, type, reject);
      this.pending.set(xid, { resolve, reject, parts: [], timer, multipart, what: type, onPart, onRawPart: multipart ? onRawPart : undefined });
    });
  }

  /** A timer that fails the request (and the session: the peer is not answering) when it fires. */
  private requestTimer(xid: number, what: string, reject: (e: Error) => void): NodeJS.Timeout {
    return setTimeout(() => {
      this.pending.delete(xid);
      reject(new Error(`${this.peer}: no reply to ${what} (xid ${xid}) within ${this.requestTimeoutMs} ms`));
      this.close(`request ${what} timed out`);
    }, this.requestTimeoutMs);
  }

  async barrier(): Promise<void> {
    await this.request({ type: 'barrier_request' });
  }

  /**
   * Collects the switch's errors about the messages whose xids go through `onXid`, by position:
   * failures[i].index is the position of the refused message. Call stop() when done.
   */
  private trackErrors(): { failures: Array<{ index: number; reason: string }>; onXid: (xid: number) => void; stop: () => void } {
    const failures: Array<{ index: number; reason: string }> = [];
    // xids[i] is the xid of message i: a packed array of small integers, cheap even for 100k flows.
    const xids: number[] = [];
    const sub = this.messages$.subscribe((m) => {
      const index = m.type === 'error' ? xids.indexOf(m.xid) : -1;
      if (m.type === 'error' && index >= 0) failures.push({ index, reason: describeError(m) });
    });
    return { failures, onXid: (xid) => void xids.push(xid), stop: () => sub.unsubscribe() };
  }

  /**
   * Sends messages, then a barrier, and returns the switch's errors about them: when the barrier
   * is answered, every error about earlier messages has arrived.
   */
  async sendConfirmed(msgs: Iterable<Outgoing>): Promise<Array<{ index: number; reason: string }>> {
    const t = this.trackErrors();
    try {
      await this.sendMany(msgs, t.onXid);
      await this.barrier();
    } finally {
      t.stop();
    }
    return t.failures;
  }

  /**
   * Applies messages atomically in one OpenFlow bundle (ONF EXT-230 in 1.3, as OVS implements it):
   * open, add each message, commit. `msgs` is consumed lazily, so a caller can parse while the
   * switch already validates earlier messages. On any switch error (or if `msgs` throws) the bundle
   * is discarded and nothing was applied; the error names the message by its 1-based position.
   */
  async bundle(msgs: Iterable<Outgoing>, flags = OFPBF_ATOMIC | OFPBF_ORDERED): Promise<void> {
    const bundleId = this.nextXid & 0x7fffffff;
    const control = (ctrlType: number): Outgoing => ({ type: 'bundle_control', bundleId, ctrlType, flags, properties: Buffer.alloc(0) });
    // OPEN, the adds and a barrier go out back to back (the switch handles them in order): every
    // error about them has arrived when the barrier is answered, one round trip for all of it.
    const opened = this.request(control(OFPBCT_OPEN_REQUEST));
    opened.catch(() => undefined);
    const errors: string[] = [];
    // Errors about an add can also come with the COMMIT (e.g. a missing group): track until it is done.
    const t = this.trackErrors();
    const failures = t.failures;
    const adds = (function* (): Generator<Outgoing> {
      for (const inner of msgs) {
        if (failures.length) return; // the switch refused one already: stop sending, discard below
        yield { type: 'bundle_add', bundleId, flags, message: inner as OfMessage };
      }
    })();
    try {
      await this.sendMany(adds, t.onXid);
      await this.barrier();
      await opened;
      if (failures.length === 0) {
        await this.request(control(OFPBCT_COMMIT_REQUEST)).catch((e: unknown) => {
          errors.push(e instanceof Error ? e.message : String(e));
        });
      } else {
        await this.request(control(OFPBCT_DISCARD_REQUEST)).catch(() => undefined);
      }
    } catch (err) {
      // The caller's iterable failed (e.g. a syntax error): nothing may be applied.
      if (this.isOpen) await this.request(control(OFPBCT_DISCARD_REQUEST)).catch(() => undefined);
      throw err;
    } finally {
      t.stop();
    }
    if (failures.length || errors.length) throw new BundleError(failures, errors);
  }

  close(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    clearTimeout(this.echoTimer);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SessionClosedError(`${this.peer}: ${reason}`));
    }
    this.pending.clear();
    this.log?.info({ peer: this.peer, reason }, 'OpenFlow session closed');
    this.socket.destroy();
    this.messages$.complete();
    this.resolveClosed(reason);
  }

  // -------------------------------------------------------------------------------------------

  private allocXid(): number {
    const x = this.nextXid;
    this.nextXid = this.nextXid >= 0xfffffffe ? 1 : this.nextXid + 1;
    return x;
  }

  private assertOpen(): void {
    if (this.closeReason !== undefined) throw new SessionClosedError(`${this.peer}: ${this.closeReason}`);
  }

  private post(m: OfMessage): void {
    const w = new Writer(128);
    writeMessage(w, m);
    void this.write(w.finish()).catch(() => undefined);
  }

  private write(buf: Buffer): Promise<void> {
    if (this.closeReason !== undefined) return Promise.reject(new SessionClosedError(`${this.peer}: ${this.closeReason}`));
    if (this.socket.write(buf)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.socket.off('drain', onDrain);
        reject(new SessionClosedError(`${this.peer}: closed while sending`));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /**
   * The inactivity probe, as OVS's rconn does it: after echoIntervalMs without a byte from the
   * peer, an echo request; after as long again still silent, the peer is dead and the session
   * closed (OVS's 5 s default: ~10 s). A busy peer that answers anything is alive.
   */
  private armEcho(): void {
    clearTimeout(this.echoTimer);
    if (this.closeReason !== undefined) return;
    const idle = Date.now() - this.lastRx;
    const wait = idle < this.echoIntervalMs ? this.echoIntervalMs - idle : Math.max(0, 2 * this.echoIntervalMs - idle);
    this.echoTimer = setTimeout(() => {
      const silent = Date.now() - this.lastRx;
      if (silent >= 2 * this.echoIntervalMs) {
        this.close(`no reply to echo_request: peer silent for ${silent} ms`);
        return;
      }
      if (silent >= this.echoIntervalMs && !this.echoOutstanding) {
        this.echoOutstanding = true;
        this.request({ type: 'echo_request', data: Buffer.alloc(0) }).catch(() => undefined).finally(() => (this.echoOutstanding = false));
      }
      this.armEcho();
    }, wait);
    this.echoTimer.unref();
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    const broken = this.framer.push(chunk, this.onMessage);
    if (broken !== undefined) this.close(`malformed message: ${broken}`);
  }

  /** One whole message from the framer; false once the session is closed (stop reading). */
  private readonly onMessage = (raw: Buffer): boolean => {
    if (this.closeReason !== undefined) return false;
    if (!this.takeRawPart(raw)) {
      const res = decodeMessage(raw);
      if (!res.ok && res.error instanceof RefusedMessage) {
        // Well framed but refused (an unknown vendor, an error code OVS has no name for): answered as
        // OVS answers it, and the request it concerns fails; the session goes on.
        this.refused(res.error, raw);
        return this.closeReason === undefined;
      }
      if (!res.ok) {
        this.log?.warn({ peer: this.peer, error: res.error.message, bytes: raw.subarray(0, 64).toString('hex') }, 'malformed OpenFlow message');
        this.close(`malformed message: ${res.error.message}`);
        return false;
      }
      this.dispatch(res.msg, raw[0]!);
    }
    return this.closeReason === undefined;
  };

  private refused(e: RefusedMessage, raw: Buffer): void {
    if (raw[0] !== OF13) {
      this.close(`unexpected OpenFlow version ${raw[0]!} after negotiating 1.3`);
      return;
    }
    const xid = raw.readUInt32BE(4);
    if (raw[1] === OfType.ERROR && raw.length >= 12) {
      // An error the codec has no name for is still the switch refusing something: it fails what it
      // answers (a request, a bundle's flow-mod) as any error does; never swallowed.
      const errType = raw.readUInt16BE(8);
      const experimenter = errType === 0xffff && raw.length >= 16 ? raw.readUInt32BE(12) : undefined;
      const data = Buffer.from(raw.subarray(experimenter === undefined ? 12 : 16));
      this.dispatch({ type: 'error', xid, errType, code: raw.readUInt16BE(10), ...(experimenter === undefined ? {} : { experimenter }), data }, OF13);
      return;
    }
    this.log?.warn({ peer: this.peer, error: e.message, bytes: raw.subarray(0, 64).toString('hex') }, 'refused OpenFlow message');
    if (e.errType !== undefined && e.code !== undefined) {
      this.post({ type: 'error', xid, errType: e.errType, code: e.code, data: Buffer.from(raw.subarray(0, 64)) });
    }
    const p = this.pending.get(xid);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(xid);
    p.reject(new Error(`${this.peer}: reply refused: ${e.message}`));
  }

  private dispatch(m: OfMessage, version: number): void {
    if (m.type === 'hello') {
      const ok = m.versions.length ? m.versions.includes(OF13) : version >= OF13;
      if (!ok) {
        this.post({ type: 'error', xid: m.xid, errType: 0, code: 0, data: Buffer.from('OpenFlow 1.3 required') });
        this.close(`peer does not support OpenFlow 1.3 (offers ${m.versions.length ? m.versions.join(',') : `up to ${version}`})`);
        return;
      }
      this.helloReceived?.();
      this.helloReceived = undefined;
      return;
    }
    if (version !== OF13) {
      this.close(`unexpected OpenFlow version ${version} after negotiating 1.3`);
      return;
    }
    if (m.type === 'echo_request') {
      if (this.echoRequests !== 'unanswered') this.post({ type: 'echo_reply', xid: m.xid, data: m.data });
      if (this.echoRequests) this.messages$.next(m);
      return;
    }
    const p = this.pending.get(m.xid);
    if (p) {
      if (m.type === 'error') {
        clearTimeout(p.timer);
        this.pending.delete(m.xid);
        p.reject(new OpenFlowError(describeError(m), m));
        this.messages$.next(m);
        return;
      }
      if (p.onPart) p.onPart(m);
      else p.parts.push(m);
      this.partReceived(m.xid, p, p.multipart && 'flags' in m && (m.flags & OFPMPF_MORE) !== 0);
      return;
    }
    this.messages$.next(m);
  }

  /** Offers a multipart reply's bytes to its request's raw consumer; true when it took them. */
  private takeRawPart(raw: Buffer): boolean {
    if (raw.length < 16 || raw[0] !== OF13 || raw[1] !== OfType.MULTIPART_REPLY) return false;
    const xid = raw.readUInt32BE(4);
    const p = this.pending.get(xid);
    if (!p?.onRawPart?.(raw)) return false;
    this.partReceived(xid, p, (raw.readUInt16BE(10) & OFPMPF_MORE) !== 0);
    return true;
  }

  /** A part of the reply to xid has been consumed: wait for the next one, or the request is done. */
  private partReceived(xid: number, p: Pending, more: boolean): void {
    clearTimeout(p.timer);
    if (more) {
      // A long dump is alive as long as parts keep coming.
      p.timer = this.requestTimer(xid, p.what, p.reject);
    } else {
      this.pending.delete(xid);
      p.resolve(p.parts);
    }
  }
}
