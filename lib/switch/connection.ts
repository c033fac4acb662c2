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
import { BundleError, describeError, NotMasterError, OpenFlowError } from './errors.js';

/** A message to send; the session assigns the xid. */
export type Outgoing = OutgoingMessage;

export interface ConnectionOptions {
  readonly logger?: Logger;
  /**
   * Idle time before we send an echo request (ms); silent as long again after it (and the allowance
   * for work of ours ahead of it, perMessageMs), the peer is dead.
   */
  readonly echoIntervalMs?: number;
  /** Time a request may stay unanswered, besides the allowance for work ahead of it, before the peer is declared dead (ms). */
  readonly requestTimeoutMs?: number;
  /**
   * More time the peer is given, per message of ours it has not yet shown it processed (and per
   * add of a bundle it is committing), before its silence counts against it (ms; default
   * DEFAULT_PER_MESSAGE_MS). A switch working through a 1M-message bundle answers nothing, echo
   * included, until it reaches what comes after.
   */
  readonly perMessageMs?: number;
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
  /**
   * The session takes part in master election (several controllers per bridge): nothing that
   * changes the switch is sent until the switch has made it master (requestRole). Without it a
   * session is EQUAL, as OVS starts every connection, and writes.
   */
  readonly roles?: boolean;
}

/** A session's role as the switch last said it (OpenFlow 1.3 §6.3.7); every session starts equal. */
export type SessionRole = 'equal' | 'master' | 'slave';

/** OFPCR_ROLE_* as the wire numbers them. */
const ROLE_NUMBER = { nochange: 0, equal: 1, master: 2, slave: 3 } as const;
const ROLE_OF: readonly SessionRole[] = ['equal', 'equal', 'master', 'slave'];
/** What a slave may not send (OVS answers OFPBRC_IS_SLAVE); a bundle's DISCARD changes nothing and stays allowed. */
const WRITES: ReadonlySet<Outgoing['type']> = new Set(['flow_mod', 'group_mod', 'meter_mod', 'port_mod', 'table_mod', 'packet_out', 'bundle_add', 'bundle_control']);
/** A role reply's generation id when the switch has none yet. */
const NO_GENERATION = 0xffffffffffffffffn;
const OFPET_BAD_REQUEST = 1;
const OFPBRC_IS_SLAVE = 10;
export const OFPET_ROLE_REQUEST_FAILED = 11;
export const OFPRRFC_STALE = 0;
/** A slave request refused as stale (a newer master got in between) is asked again this many times. */
const SLAVE_TRIES = 3;

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
  timer: NodeJS.Timeout | undefined;
  /** The request's position among the messages we sent (OfConnection.sent once it was written). */
  readonly seq: number;
  /** Work the reply waits for beyond the request itself, in messages (a bundle commit: its adds). */
  readonly work: number;
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

/**
 * The peer's allowance per message outstanding (ms). Measured with OVS 3.1 on a sandbox
 * (scripts/bundle-cost.ts, firewall member flows into an empty bridge, a busy 2-core machine):
 * ovs-vswitchd takes 6-8 µs of CPU per bundle add received and 1-1.6 µs per add committed (1M
 * adds: 9-27 s wall to take them, then 1.8-2.8 s silent in the commit); 20 µs is 2-2.7 times the
 * two together, so that a switch sharing its cores is not taken for dead, and a 1M-message bundle
 * adds at most 20 s to finding a dead one.
 */
export const DEFAULT_PER_MESSAGE_MS = 0.02;
/** Longest stretch sendMany encodes (and runs its caller's generator) without an event-loop turn. */
const SEND_SLICE_MS = 20;

/** An event-loop turn with I/O: what arrived on our sockets (e.g. echo requests) is read first. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class OfConnection {
  /** Asynchronous messages from the switch (packet-in, port-status, flow-removed, unsolicited errors). */
  readonly messages$ = new Subject<OfMessage>();
  readonly closed: Promise<string>;
  datapathId: bigint | undefined;
  /** The role the switch gave this session, and the generation id its last answer named. */
  role: SessionRole = 'equal';
  generationId: bigint | undefined;
  /**
   * The switch took mastership away (a ROLE_STATUS naming another role, or an IS_SLAVE error): the
   * session was fenced at once (writable is false) before this emits the reason.
   */
  readonly demoted$ = new Subject<string>();
  /** Role requests sent: a master reply only counts if no later request went out before it. */
  private roleRequests = 0;
  private roles: boolean;

  private nextXid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly framer: OfFramer;
  private closeReason: string | undefined;
  private resolveClosed!: (reason: string) => void;
  private echoTimer: NodeJS.Timeout | undefined;
  /** When our unanswered echo request was sent, and the extra time it is allowed (work ahead of it). */
  private echo: { readonly sentAt: number; readonly allowMs: number; readonly ahead: number } | undefined;
  private lastRx = Date.now();
  /**
   * Messages we have written, and how many of them the peer has shown it processed: a reply to a
   * request covers every message before it (a switch handles a session's messages in order).
   */
  private sent = 0;
  private processed = 0;
  /** The pending requests' work (Pending.work), summed. */
  private pendingWork = 0;
  private helloReceived: (() => void) | undefined;
  private log: Logger | undefined;
  private readonly echoIntervalMs: number;
  /** When the peer last sent us an echo request (it probes us: see probeAfterMs). */
  private peerProbedAt: number | undefined;
  private readonly requestTimeoutMs: number;
  private readonly perMessageMs: number;
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
    this.perMessageMs = opts.perMessageMs ?? DEFAULT_PER_MESSAGE_MS;
    this.framer = new OfFramer(opts.maxMessageBytes ?? 65535);
    this.features = opts.features ?? true;
    this.echoRequests = opts.echoRequests;
    this.roles = opts.roles ?? false;
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

  /** Whether messages that change the switch may go out: master, or equal outside master election. */
  get writable(): boolean {
    return this.role === 'master' || (this.role === 'equal' && !this.roles);
  }

  /**
   * Asks the switch for a role. Master: writes stay fenced until the switch says yes (a STALE
   * generation rejects with the switch's OpenFlowError, and the session stays fenced). Slave:
   * fenced at once, then asked with the switch's current generation id (learnt by a NOCHANGE
   * request: OVS refuses a slave request with an older one as STALE, and leaves the session EQUAL).
   */
  async requestRole(role: 'master' | 'slave', generationId?: bigint): Promise<void> {
    this.roles = true;
    const n = ++this.roleRequests;
    if (role === 'slave') {
      this.role = 'slave';
      for (let i = 1; ; i++) {
        const [now] = await this.request({ type: 'role_request', role: ROLE_NUMBER.nochange, generationId: 0n });
        const current = now?.type === 'role_reply' && now.generationId !== NO_GENERATION ? now.generationId : 0n;
        try {
          await this.roleReply('slave', current, n);
          return;
        } catch (err) {
          if (i >= SLAVE_TRIES || !isStale(err)) throw err;
        }
      }
    }
    if (generationId === undefined) throw new Error(`${this.peer}: a master role request needs a generation id`);
    await this.roleReply('master', generationId, n);
  }

  /** One role request; its reply sets the role unless a later request went out meanwhile. */
  private async roleReply(role: 'master' | 'slave', generationId: bigint, n: number): Promise<void> {
    const [r] = await this.request({ type: 'role_request', role: ROLE_NUMBER[role], generationId });
    if (r?.type !== 'role_reply') throw new Error(`${this.peer}: unexpected reply to ROLE_REQUEST`);
    if (n !== this.roleRequests) return;
    this.role = ROLE_OF[r.role] ?? 'equal';
    this.generationId = r.generationId === NO_GENERATION ? undefined : r.generationId;
  }

  /** Sends a message that expects no reply. Resolves when the socket accepted it (back-pressure). */
  async send(m: Outgoing): Promise<void> {
    await this.sendMany([m]);
  }

  /**
   * Sends many messages, packing them into large writes and waiting for drain between them. Every
   * SEND_SLICE_MS at most (encoding, or a caller's generator building messages) the event loop gets
   * a turn, so that the peer's echo requests are answered and our timers run while we send.
   */
  async sendMany(msgs: Iterable<Outgoing>, assign?: (xid: number, index: number) => void): Promise<void> {
    this.assertOpen();
    let w = new Writer(1 << 16);
    let i = 0;
    let slice = performance.now();
    for (const m of msgs) {
      const xid = this.allocXid();
      // (Counted outside the optional call: its arguments are not evaluated without `assign`.)
      const index = i++;
      this.assertWritable(m);
      assign?.(xid, index);
      writeMessage(w, m, xid);
      this.sent++;
      if (w.pos >= 1 << 18 || ((i & 63) === 0 && performance.now() - slice >= SEND_SLICE_MS)) {
        await this.write(w.finish());
        w = new Writer(1 << 16);
        // A write the socket takes at once resolves without a turn of the loop: give it one.
        if (performance.now() - slice >= SEND_SLICE_MS) {
          await nextTurn();
          this.assertOpen();
          slice = performance.now();
        }
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
    return this.requestWork(m, 0, onPart, onRawPart);
  }

  /** request(), whose reply also waits for `work` messages' worth of the switch's time (a bundle commit). */
  private requestWork(m: Outgoing, work: number, onPart?: (part: OfMessage) => void, onRawPart?: RawPartConsumer): Promise<OfMessage[]> {
    this.assertOpen();
    this.assertWritable(m);
    const xid = this.allocXid();
    const p = this.awaitReply(xid, m.type, onPart, onRawPart, work);
    this.post({ ...m, xid } as OfMessage);
    return p;
  }

  /** The reply to the request with this xid, sent by request() or before the session (adopt()). */
  private awaitReply(xid: number, type: Outgoing['type'], onPart?: (part: OfMessage) => void, onRawPart?: RawPartConsumer, work = 0): Promise<OfMessage[]> {
    this.assertOpen();
    const multipart = type === 'flow_stats_request' || type === 'port_desc_request' || type === 'multipart_request' || isMultipartRequestType(type);
    return new Promise<OfMessage[]>((resolve, reject) => {
      // The request is the next message written (adopt(): its requests were written first).
      const p: Pending = {
        resolve, reject, parts: [], timer: undefined, seq: this.sent + 1, work, multipart, what: type, onPart, onRawPart: multipart ? onRawPart : undefined,
      };
      this.pendingWork += work;
      // Allowed: our timeout, and the switch's time for what it has still to process up to this reply.
      p.timer = this.requestTimer(xid, p, this.sent + 1 - this.processed + this.pendingWork);
      this.pending.set(xid, p);
    });
  }

  /**
   * A timer that fails the request (and the session: the peer is not answering) when it fires, after
   * requestTimeoutMs and the allowance for `ahead` messages. The verdict waits for a turn of the
   * event loop with I/O: a reply that came while our loop was busy is read first, not missed.
   */
  private requestTimer(xid: number, p: Pending, ahead: number): NodeJS.Timeout {
    const allowMs = this.allowanceMs(ahead);
    return setTimeout(() => setImmediate(() => {
      if (this.pending.get(xid) !== p) return;
      this.settle(xid, p);
      // The session ends with it: what the request was to do is unknown, as for any closed session.
      p.reject(new SessionClosedError(`${this.peer}: no reply to ${p.what} (xid ${xid}) within ${this.requestTimeoutMs + allowMs} ms${this.allowanceText(allowMs, ahead)}`));
      this.close(`request ${p.what} timed out`);
    }), this.requestTimeoutMs + allowMs);
  }

  /** The peer's extra time for `n` messages (whole ms; none for a lone request). */
  private allowanceMs(n: number): number {
    return n > 1 ? Math.ceil(n * this.perMessageMs) : 0;
  }

  private allowanceText(allowMs: number, ahead: number): string {
    return allowMs > 0 ? ` (of which ${allowMs} ms for ${ahead} messages the switch had still to process)` : '';
  }

  /** The request is answered (or given up): no longer pending, and every message up to it was processed. */
  private settle(xid: number, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(xid);
    this.pendingWork -= p.work;
    this.processed = Math.max(this.processed, p.seq);
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
   * With `beforeCommit`, the COMMIT waits for it (the switch already holds and has checked the
   * messages): if it rejects, the bundle is discarded and its error thrown.
   */
  async bundle(msgs: Iterable<Outgoing>, flags = OFPBF_ATOMIC | OFPBF_ORDERED, beforeCommit?: PromiseLike<unknown>): Promise<void> {
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
    let n = 0;
    const adds = (function* (): Generator<Outgoing> {
      for (const inner of msgs) {
        if (failures.length) return; // the switch refused one already: stop sending, discard below
        n++;
        yield { type: 'bundle_add', bundleId, flags, message: inner as OfMessage };
      }
    })();
    try {
      await this.sendMany(adds, t.onXid);
      await this.barrier();
      await opened;
      if (beforeCommit && failures.length === 0) await beforeCommit;
      if (failures.length === 0) {
        // The switch is silent while it commits, for a time that grows with the bundle.
        await this.requestWork(control(OFPBCT_COMMIT_REQUEST), n).catch((e: unknown) => {
          // Lost while committing is not refused: the switch may have applied the bundle, or not.
          if (e instanceof SessionClosedError) throw e;
          errors.push(e instanceof Error ? e.message : String(e));
        });
      } else {
        await this.request(control(OFPBCT_DISCARD_REQUEST)).catch(() => undefined);
      }
    } catch (err) {
      // The caller's iterable failed (e.g. a syntax error), or what the commit waited for: nothing may be applied.
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
    for (const [xid, p] of this.pending) {
      this.settle(xid, p);
      p.reject(new SessionClosedError(`${this.peer}: ${reason}`));
    }
    this.log?.info({ peer: this.peer, reason }, 'OpenFlow session closed');
    this.socket.destroy();
    this.messages$.complete();
    this.demoted$.complete();
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

  /** The fence: a message that changes the switch is never sent by a session that is not master. */
  private assertWritable(m: Outgoing): void {
    if (this.writable || !WRITES.has(m.type) || (m.type === 'bundle_control' && m.ctrlType === OFPBCT_DISCARD_REQUEST)) return;
    throw new NotMasterError(`${this.peer}: ${m.type} not sent: this session is ${this.role}, not master`);
  }

  /**
   * Stops writes now, before the switch is asked to make us slave (e.g. our election lease is lost):
   * a master reply still on its way no longer counts.
   */
  fence(): void {
    this.roles = true;
    this.roleRequests++;
    if (this.role === 'master') this.role = 'slave';
  }

  /** The switch says we are no longer master: fenced now, then told (demoted$). */
  private demoted(reason: string): void {
    if (!this.writable) return;
    this.fence();
    this.role = 'slave';
    this.log?.warn({ peer: this.peer, reason }, 'OpenFlow mastership lost');
    this.demoted$.next(reason);
  }

  private post(m: OfMessage): void {
    const w = new Writer(128);
    writeMessage(w, m);
    this.sent++;
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
   * peer, an echo request; silent as long again after it, the peer is dead and the session closed
   * (OVS's 5 s default: ~10 s). A busy peer that answers anything is alive, and one with work of
   * ours ahead of the echo gets the allowance for it (perMessageMs). Silence is counted from the
   * echo actually sent, and judged after a turn of the loop with I/O: time our own event loop was
   * blocked (the timers then fire late) is not held against the peer, whose answer waits unread.
   */
  private armEcho(): void {
    clearTimeout(this.echoTimer);
    if (this.closeReason !== undefined) return;
    const due = this.echo ? Math.max(this.echo.sentAt, this.lastRx) + this.echoIntervalMs + this.echo.allowMs : this.lastRx + this.probeAfterMs();
    // The immediate stays referenced: an unreferenced one may wait for unrelated I/O to run at all.
    // (Clamped: a longer delay than setTimeout takes would fire at once; monitor asks for no echo.)
    this.echoTimer = setTimeout(() => setImmediate(() => this.checkEcho()), Math.min(0x7fffffff, Math.max(0, due - Date.now())));
    this.echoTimer.unref();
  }

  /**
   * Silence before our echo request. A peer that probes us at the same interval (ovs-vswitchd's
   * inactivity_probe, 5 s by default as ours) would race our probe every time, both sides sending
   * requests and replies: while it probes, ours waits a fifth longer, so that its request (which
   * shows it alive) comes first. It is alive as long as it does; once it stops, ours goes out.
   */
  private probeAfterMs(): number {
    const probing = this.peerProbedAt !== undefined && Date.now() - this.peerProbedAt < 2 * this.echoIntervalMs;
    return probing ? Math.round(this.echoIntervalMs * 1.2) : this.echoIntervalMs;
  }

  private checkEcho(): void {
    if (this.closeReason !== undefined) return;
    const now = Date.now();
    const e = this.echo;
    if (e && now - Math.max(e.sentAt, this.lastRx) >= this.echoIntervalMs + e.allowMs) {
      const allowance = e.allowMs > 0 ? ` (allowed ${this.echoIntervalMs + e.allowMs} ms after the echo, ${e.allowMs} ms of it for ${e.ahead} messages ahead of it)` : '';
      this.close(`no reply to echo_request: peer silent for ${now - this.lastRx} ms${allowance}`);
      return;
    }
    if (!e && now - this.lastRx >= this.probeAfterMs()) {
      // Ahead of the echo: what the switch has not shown it processed, and the commits it works on.
      const ahead = this.sent + 1 - this.processed + this.pendingWork;
      const sent = { sentAt: now, allowMs: this.allowanceMs(ahead), ahead };
      this.echo = sent;
      this.request({ type: 'echo_request', data: Buffer.alloc(0) }).catch(() => undefined).finally(() => {
        if (this.echo !== sent) return;
        this.echo = undefined;
        this.armEcho(); // next probe from the answer, not from this echo's allowance
      });
    }
    this.armEcho();
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
    this.settle(xid, p);
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
    if (m.type === 'role_status' && m.role !== ROLE_NUMBER.master) {
      this.generationId = m.generationId;
      this.demoted(`ROLE_STATUS: now ${ROLE_OF[m.role] ?? `role ${m.role}`} (generation ${m.generationId})`);
    }
    if (m.type === 'error' && m.errType === OFPET_BAD_REQUEST && m.code === OFPBRC_IS_SLAVE) this.demoted(`the switch refused a write: ${describeError(m)}`);
    if (m.type === 'echo_request') {
      this.peerProbedAt = Date.now();
      if (this.echoRequests !== 'unanswered') this.post({ type: 'echo_reply', xid: m.xid, data: m.data });
      if (this.echoRequests) this.messages$.next(m);
      return;
    }
    const p = this.pending.get(m.xid);
    if (p) {
      if (m.type === 'error') {
        this.settle(m.xid, p);
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
    if (more) {
      // A long dump is alive as long as parts keep coming.
      clearTimeout(p.timer);
      this.processed = Math.max(this.processed, p.seq);
      p.timer = this.requestTimer(xid, p, 1);
    } else {
      this.settle(xid, p);
      p.resolve(p.parts);
    }
  }
}

/** A role request the switch refused because its generation id is older than one it has seen. */
export function isStale(err: unknown): boolean {
  return err instanceof OpenFlowError && err.reply?.errType === OFPET_ROLE_REQUEST_FAILED && err.reply.code === OFPRRFC_STALE;
}
