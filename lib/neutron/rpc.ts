// oslo.messaging RPC over AMQP (RabbitMQ), the client side a Neutron agent needs: calls to
// neutron-server with replies matched by _msg_id, casts, and fanout plus host-directed consumers
// for the server's notifications. Exchanges and queues are declared as oslo.messaging 14.0.3's
// rabbit driver declares them (impl_rabbit: topic_send, declare_direct_consumer,
// declare_topic_consumer, declare_fanout_consumer, _get_queue_arguments), with its defaults;
// QueueOptions mirrors a cloud's [oslo_messaging_rabbit].
// One NeutronRpc is one logical client across AMQP connections: a lost connection fails the pending
// calls at once (ConnectionLostError) and the client reconnects with capped exponential backoff,
// declaring a new reply queue and every consumer again, as oslo does; onState() tells the agent
// when to resync.
import { Channel, ChannelModel, connect, ConsumeMessage, Options } from 'amqplib';
import { SecureContextOptions } from 'node:tls';
import {
  decodeReply, decodeRequest, encodeRequest, Json, JsonObject, OsloDecodeError, OsloFailure, uuidHex,
} from '../../codecs/oslo/envelope.js';
import { Logger } from '../log.js';

/** oslo.messaging's declare settings ([oslo_messaging_rabbit]); defaults are oslo's. */
export interface QueueOptions {
  /** amqp_durable_queues: the control exchange and the topic queues (`<topic>.<host>`) durable. Default false. */
  readonly durable: boolean;
  /** amqp_auto_delete: the control exchange and the topic queues auto-deleted. Default false. */
  readonly autoDelete: boolean;
  /**
   * rabbit_transient_queues_ttl in seconds: x-expires on the reply and fanout queues. Default 1800.
   * oslo requires ≥ 1; 0 (ours) declares them without x-expires.
   */
  readonly transientTtlSeconds: number;
  /** rabbit_ha_queues: `x-ha-policy: all` on every queue. Default false. */
  readonly haQueues: boolean;
  /**
   * rabbit_quorum_queue: the topic queues get `x-queue-type: quorum`, and they and the control exchange
   * are durable whatever `durable` says (oslo's Connection.durable). The reply and fanout queues stay
   * classic, not durable, with x-expires. Cannot go with haQueues. Default false.
   */
  readonly quorumQueues: boolean;
  /** rabbit_quorum_delivery_limit: x-delivery-limit on quorum queues; 0 for none (default). */
  readonly quorumDeliveryLimit: number;
  /** rabbit_quroum_max_memory_length (oslo's spelling): x-max-in-memory-length on quorum queues; 0 for none. */
  readonly quorumMaxMemoryLength: number;
  /** rabbit_quroum_max_memory_bytes: x-max-in-memory-bytes on quorum queues; 0 for none. */
  readonly quorumMaxMemoryBytes: number;
  /** enable_cancel_on_failover: consumers ask for `x-cancel-on-ha-failover` (a consume argument). Default false. */
  readonly cancelOnFailover: boolean;
  /** rabbit_qos_prefetch_count: basic.qos prefetch per consumer; 0 for unlimited (default). */
  readonly prefetchCount: number;
}

export const OSLO_DEFAULTS: QueueOptions = {
  durable: false, autoDelete: false, transientTtlSeconds: 1800, haQueues: false, quorumQueues: false,
  quorumDeliveryLimit: 0, quorumMaxMemoryLength: 0, quorumMaxMemoryBytes: 0, cancelOnFailover: false, prefetchCount: 0,
};

/** The [oslo_messaging_rabbit] name of each setting, for errors an operator compares with the cloud's. */
const OSLO_NAMES: Record<keyof QueueOptions, string> = {
  durable: 'amqp_durable_queues', autoDelete: 'amqp_auto_delete', transientTtlSeconds: 'rabbit_transient_queues_ttl',
  haQueues: 'rabbit_ha_queues', quorumQueues: 'rabbit_quorum_queue', quorumDeliveryLimit: 'rabbit_quorum_delivery_limit',
  quorumMaxMemoryLength: 'rabbit_quroum_max_memory_length', quorumMaxMemoryBytes: 'rabbit_quroum_max_memory_bytes',
  cancelOnFailover: 'enable_cancel_on_failover', prefetchCount: 'rabbit_qos_prefetch_count',
};

export interface ReconnectOptions {
  /** The first retry's delay. Default 1000 ms. */
  readonly initialMs?: number;
  /** The cap of the doubling delay. Default 30000 ms. */
  readonly maxMs?: number;
}

export interface RpcOptions {
  /** amqp://USER:PASS@HOST:PORT/VHOST or amqps://… (never logged with its credentials). */
  readonly url: string;
  /** oslo's control_exchange; Neutron's is `neutron`. */
  readonly exchange?: string;
  readonly queues?: Partial<QueueOptions>;
  /** For amqps: the CA, certificate and key (node:tls options). */
  readonly tls?: SecureContextOptions;
  /**
   * ssl_enforce_hostname_verification: check the broker's name against its certificate. Default false,
   * as oslo 14.0.3 (the chain is always checked against the CA).
   */
  readonly tlsVerifyHostname?: boolean;
  readonly reconnect?: ReconnectOptions;
  readonly log: Logger;
}

/** A call the server answered with a failure: oslo's remote exception, class and message kept. */
export class RemoteError extends Error {
  readonly remoteClass: string;
  readonly remoteModule: string;
  readonly remoteMessage: string;
  readonly traceback: readonly string[];

  constructor(readonly method: string, failure: OsloFailure) {
    super(`${method}: ${failure.module}.${failure.class}: ${failure.message}`);
    this.name = 'RemoteError';
    this.remoteClass = failure.class;
    this.remoteModule = failure.module;
    this.remoteMessage = failure.message;
    this.traceback = failure.tb;
  }
}

/** A call that got no reply in time (oslo's MessagingTimeout). */
export class RpcTimeoutError extends Error {}

/** A declare RabbitMQ refused (406 PRECONDITION_FAILED when the cloud declared it otherwise). */
export class DeclareRefusedError extends Error {}

/** A call, cast or consume that failed because the AMQP link is down (lost, or not back yet). */
export class ConnectionLostError extends Error {
  constructor(readonly method: string, message: string) {
    super(message);
    this.name = 'ConnectionLostError';
  }
}

/**
 * The link's state: `connected` (the first connection, or the current one when a listener registers),
 * `disconnected` (lost, with the error; the client is reconnecting), `reconnected` (a new connection
 * with the exchange, a new reply queue and every consumer declared again: the time to resync).
 */
export type RpcState =
  | { readonly state: 'connected' }
  | { readonly state: 'disconnected'; readonly error: Error }
  | { readonly state: 'reconnected' };

export interface CallOptions {
  /** A directed call: routing key `<topic>.<server>`. */
  readonly server?: string;
  readonly timeoutMs: number;
  readonly context?: JsonObject;
  readonly namespace?: string | null;
}

export interface CastOptions {
  readonly server?: string;
  /** To `<topic>_fanout` (every consumer of the topic) instead of the control exchange. */
  readonly fanout?: boolean;
  readonly context?: JsonObject;
  readonly namespace?: string | null;
}

/** One notification the server sent to a consumed topic. */
export interface Incoming {
  readonly topic: string;
  /** The served host it was directed to (`<topic>.<host>`), or undefined for a fanout. */
  readonly host?: string;
  readonly method: string;
  readonly args: JsonObject;
  readonly version?: string;
  readonly context: JsonObject;
}

interface Pending {
  readonly method: string;
  readonly resolve: (v: Json) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
  /** A result sent before the ending reply (oslo before Newton). */
  result?: Json;
}

/** One AMQP connection with its channel and reply queue; `lost` once it is gone, whoever closed it. */
interface Link {
  readonly conn: ChannelModel;
  readonly ch: Channel;
  readonly replyQueue: string;
  lost: boolean;
  /** Per consumer, the tag of each host-directed queue it consumes on this connection (see stopHost). */
  readonly hostTags: Map<Consumer, Map<string, string>>;
}

/** Handles one notification; false gives it back to its queue (requeued) for another consumer. */
export type Handler = (m: Incoming) => void | boolean | Promise<void | boolean>;

/** What consume() registered: declared again on every new connection. */
interface Consumer {
  readonly topic: string;
  /** The hosts whose `<topic>.<host>` queue is consumed (consumeHost and stopHost change it). */
  readonly hosts: Set<string>;
  readonly handler: Handler;
  /** The current connection's fanout queue (a new name on each connection, as oslo's). */
  queue: string;
}

/** The URL without its credentials, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable AMQP URL)';
  }
}

export class NeutronRpc {
  /** Resolves (with undefined) once close() has closed the client; a lost connection does not resolve it (see onState). */
  readonly closed: Promise<Error | undefined>;
  private resolveClosed!: (v: undefined) => void;
  private readonly pending = new Map<string, Pending>();
  private readonly consumers: Consumer[] = [];
  private readonly listeners = new Set<(s: RpcState) => void>();
  private state: RpcState = { state: 'connected' };
  private link: Link | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly where: string;
  private readonly exchange: string;
  private readonly log: Logger;
  private readonly initialMs: number;
  private readonly maxMs: number;

  private constructor(private readonly opts: RpcOptions, private readonly queues: QueueOptions) {
    this.where = redactUrl(opts.url);
    this.exchange = opts.exchange ?? 'neutron';
    this.log = opts.log;
    this.initialMs = opts.reconnect?.initialMs ?? 1000;
    this.maxMs = opts.reconnect?.maxMs ?? 30_000;
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  /** Connects once (failing as the broker refuses); later losses are reconnected by the client itself. */
  static async connect(opts: RpcOptions): Promise<NeutronRpc> {
    const where = redactUrl(opts.url);
    const url = new URL(opts.url);
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') throw new Error(`--neutron-rpc ${where}: the scheme must be amqp: or amqps:`);
    const queues = checkQueueOptions({ ...OSLO_DEFAULTS, ...opts.queues });
    const { initialMs = 1000, maxMs = 30_000 } = opts.reconnect ?? {};
    if (!(initialMs > 0 && maxMs >= initialMs)) throw new Error(`AMQP ${where}: reconnect needs 0 < initialMs <= maxMs (got ${initialMs}, ${maxMs})`);
    const rpc = new NeutronRpc(opts, queues);
    rpc.link = await rpc.open();
    rpc.log.info({ broker: where, exchange: rpc.exchange, replyQueue: rpc.replyQueue }, 'neutron rpc: connected');
    return rpc;
  }

  /** The current connection's reply queue (`reply_<uuidhex>`, a new one after each reconnect). */
  get replyQueue(): string {
    return this.link?.replyQueue ?? '';
  }

  /** Calls `fn` with the current state at once, then on each change; returns the unsubscribe function. */
  onState(fn: (s: RpcState) => void): () => void {
    this.listeners.add(fn);
    fn(this.state);
    return () => { this.listeners.delete(fn); };
  }

  private emit(s: RpcState): void {
    this.state = s;
    for (const fn of this.listeners) {
      try {
        fn(s);
      } catch (err) {
        this.log.error({ state: s.state, err: (err as Error).message }, 'neutron rpc: state listener failed');
      }
    }
  }

  /** amqplib's messages can quote the URL: the place without it. */
  private scrub(message: string): string {
    const out = message.replaceAll(this.opts.url, this.where);
    const { password } = new URL(this.opts.url);
    return password.length >= 4 ? out.replaceAll(password, '***').replaceAll(decodeURIComponent(password), '***') : out;
  }

  /** A new connection, channel, exchange, reply queue and every registered consumer; closed again on any failure. */
  private async open(): Promise<Link> {
    const tls = new URL(this.opts.url).protocol === 'amqps:';
    let conn: ChannelModel;
    try {
      conn = await connect(this.opts.url, tls ? {
        ...this.opts.tls,
        // oslo checks only the chain unless ssl_enforce_hostname_verification is set.
        ...(!this.opts.tlsVerifyHostname && { checkServerIdentity: () => undefined }),
      } : {});
    } catch (err) {
      throw new Error(`AMQP ${this.where}: cannot connect (${this.scrub((err as Error).message)})`);
    }
    let chError: Error | undefined;
    let link: Link | undefined;
    conn.on('error', (err: Error) => this.log.warn({ broker: this.where, err: this.scrub(err.message) }, 'neutron rpc: AMQP connection error'));
    conn.once('close', (err?: Error) => {
      if (link) this.lose(link, err ?? chError ?? new Error('AMQP connection closed'));
    });
    try {
      const ch = await conn.createChannel();
      ch.on('error', (err: Error) => {
        chError = err;
        this.log.error({ broker: this.where, err: err.message }, 'neutron rpc: AMQP channel closed by the broker');
      });
      link = { conn, ch, replyQueue: `reply_${uuidHex()}`, lost: false, hostTags: new Map() };
      const self = link;
      // The channel alone closed (the connection's own close comes first when it is the connection):
      // the connection goes too, and the client reconnects.
      ch.once('close', () => setImmediate(() => this.lose(self, chError ?? new Error('AMQP channel closed'))));
      if (this.queues.prefetchCount > 0) await ch.prefetch(this.queues.prefetchCount);
      await this.declare(`exchange ${this.exchange}`, { durable: this.durable, autoDelete: this.queues.autoDelete },
        (o) => ch.assertExchange(this.exchange, 'topic', o));
      // declare_direct_consumer: not durable, not auto-deleted, transient TTL and HA arguments, never quorum.
      const replyDeclare = { durable: false, autoDelete: false, arguments: this.queueArguments(true, false) };
      await this.declare(`queue ${link.replyQueue}`, replyDeclare, (o) => ch.assertQueue(self.replyQueue, o));
      await ch.consume(link.replyQueue, (m) => this.onReply(self, m), { noAck: true, ...this.consumeArguments() });
      for (const c of this.consumers) await this.declareConsumer(link, c);
      if (link.lost) throw new Error(`AMQP ${this.where}: connection lost while declaring`);
      return link;
    } catch (err) {
      if (link) link.lost = true;
      await conn.close().catch(() => {});
      throw err;
    }
  }

  /** oslo's Connection.durable: quorum queues are durable, and so is their exchange. */
  private get durable(): boolean {
    return this.queues.durable || this.queues.quorumQueues;
  }

  /** `_get_queue_arguments`: x-ha-policy; quorum type and limits on topic queues; x-expires on transient ones. */
  private queueArguments(transient: boolean, quorum: boolean): Record<string, unknown> {
    const q = this.queues;
    const args: Record<string, unknown> = {};
    if (q.haQueues) args['x-ha-policy'] = 'all';
    if (quorum && q.quorumQueues) {
      args['x-queue-type'] = 'quorum';
      if (q.quorumDeliveryLimit) args['x-delivery-limit'] = q.quorumDeliveryLimit;
      if (q.quorumMaxMemoryLength) args['x-max-in-memory-length'] = q.quorumMaxMemoryLength;
      if (q.quorumMaxMemoryBytes) args['x-max-in-memory-bytes'] = q.quorumMaxMemoryBytes;
    }
    if (transient && q.transientTtlSeconds > 0) args['x-expires'] = q.transientTtlSeconds * 1000;
    return args;
  }

  private consumeArguments(): Options.Consume {
    return this.queues.cancelOnFailover ? { arguments: { 'x-cancel-on-ha-failover': true } } : {};
  }

  /** Runs one declare; a broker's refusal becomes DeclareRefusedError naming it, what we asked and the settings. */
  private async declare<O, T>(what: string, asked: O, fn: (o: O) => Promise<T>): Promise<T> {
    try {
      return await fn(asked);
    } catch (err) {
      const e = err as Error & { code?: unknown };
      // Only a channel-level refusal (403, 404, 405, 406); a lost connection is not one.
      if (typeof e.code !== 'number' || e.code < 400 || e.code >= 500) throw err;
      const settings = (Object.keys(OSLO_NAMES) as (keyof QueueOptions)[]).map((k) => `${OSLO_NAMES[k]}=${String(this.queues[k])}`).join(', ');
      throw new DeclareRefusedError(`RabbitMQ ${this.where} refused to declare ${what} as ${JSON.stringify(asked)} (${settings}): ${e.message}`
        + (e.code === 406 ? '; set the queue options to the cloud\'s [oslo_messaging_rabbit] settings' : ''));
    }
  }

  /** The link is gone: fail what waits on it, tell the listeners, reconnect (unless close() did it). */
  private lose(link: Link, err: Error): void {
    if (link.lost) return;
    link.lost = true;
    if (this.link !== link) return; // still opening: open() fails and its caller decides
    this.link = undefined;
    const why = this.closing ? 'the client was closed' : this.scrub(err.message);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new ConnectionLostError(p.method, `${p.method}: AMQP connection to ${this.where} lost before the reply (${why})`));
    }
    link.conn.close().catch(() => {}); // when only the channel closed
    if (this.closing) return;
    this.log.error({ broker: this.where, err: why }, 'neutron rpc: AMQP connection lost, reconnecting');
    this.emit({ state: 'disconnected', error: new Error(why) });
    this.scheduleReconnect();
  }

  /** Capped exponential backoff, up to 20 % shorter at random so that many agents do not retry in step. */
  private scheduleReconnect(): void {
    const delay = Math.round(Math.min(this.maxMs, this.initialMs * 2 ** this.attempt) * (1 - 0.2 * Math.random()));
    this.attempt++;
    this.log.info({ broker: this.where, attempt: this.attempt, delayMs: delay }, 'neutron rpc: reconnect scheduled');
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.closing) return;
    let link: Link;
    try {
      link = await this.open();
    } catch (err) {
      if (this.closing) return;
      const refused = err instanceof DeclareRefusedError;
      this.log.error({ broker: this.where, attempt: this.attempt, err: this.scrub((err as Error).message) },
        refused ? 'neutron rpc: reconnect refused a declare' : 'neutron rpc: reconnect failed');
      this.scheduleReconnect();
      return;
    }
    if (this.closing || link.lost) {
      if (this.closing) await link.conn.close().catch(() => {});
      else this.scheduleReconnect();
      return;
    }
    this.link = link;
    this.attempt = 0;
    this.log.info({ broker: this.where, replyQueue: link.replyQueue, consumers: this.consumers.length }, 'neutron rpc: reconnected');
    this.emit({ state: 'reconnected' });
  }

  /** The live link, or ConnectionLostError for `what`. */
  private current(method: string, what: string): Link {
    if (this.link && !this.link.lost) return this.link;
    const why = this.closing ? 'the client is closed' : this.state.state === 'disconnected' ? `reconnecting after: ${this.state.error.message}` : 'reconnecting';
    throw new ConnectionLostError(method, `${what}: not connected to AMQP ${this.where} (${why})`);
  }

  /** A failure on `link` as the caller should see it: ConnectionLostError when the link went meanwhile. */
  private failure(link: Link, method: string, what: string, err: unknown): Error {
    if (err instanceof DeclareRefusedError || !link.lost) return err as Error;
    return new ConnectionLostError(method, `${what}: AMQP connection to ${this.where} lost (${this.scrub((err as Error).message)})`);
  }

  /** Calls `method` on `topic` (or `<topic>.<server>`) and resolves with its result. */
  call(topic: string, method: string, args: JsonObject, version: string, o: CallOptions): Promise<Json> {
    const key = routingKey(topic, o.server);
    let link: Link;
    try {
      link = this.current(method, `${method} on ${key}`);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const msgId = uuidHex();
    const body = encodeRequest({
      method, args, version, ...(o.namespace !== undefined && { namespace: o.namespace }),
      msgId, replyQ: link.replyQueue, context: o.context ?? {},
    });
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId);
        reject(new RpcTimeoutError(`${method} on ${key}: no reply within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      this.pending.set(msgId, { method, resolve, reject, timer });
      try {
        // The message expires with the call, as oslo sets `expiration=timeout`.
        publish(link, this.exchange, key, body, { expiration: String(o.timeoutMs) });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(msgId);
        reject(new ConnectionLostError(method, `${method} on ${key}: AMQP connection to ${this.where} lost (${(err as Error).message})`));
      }
    });
  }

  /** Casts `method` (no reply): to the control exchange, or to every consumer with fanout. */
  async cast(topic: string, method: string, args: JsonObject, version: string, o: CastOptions = {}): Promise<void> {
    const what = `${method} cast to ${o.fanout ? `${topic}_fanout` : routingKey(topic, o.server)}`;
    const link = this.current(method, what);
    const body = encodeRequest({ method, args, version, ...(o.namespace !== undefined && { namespace: o.namespace }), context: o.context ?? {} });
    try {
      if (o.fanout) {
        await link.ch.assertExchange(`${topic}_fanout`, 'fanout', { durable: false, autoDelete: true });
        publish(link, `${topic}_fanout`, '', body, {});
      } else {
        publish(link, this.exchange, routingKey(topic, o.server), body, {});
      }
    } catch (err) {
      throw this.failure(link, method, what, err);
    }
  }

  private onReply(link: Link, m: ConsumeMessage | null): void {
    if (!m) {
      // The broker cancelled our consumer (reply queue deleted, failover): oslo reconnects, so do we.
      this.lose(link, new Error(`the broker cancelled the consumer of ${link.replyQueue}`));
      return;
    }
    const reply = decodeReply(m.content);
    if (reply instanceof OsloDecodeError) {
      this.log.warn({ queue: link.replyQueue, err: reply.message }, 'neutron rpc: malformed reply dropped');
      return;
    }
    const p = this.pending.get(reply.msgId);
    if (!p) return; // late (timed out) or not ours: oslo drops these too
    if (reply.failure) {
      this.settle(reply.msgId, p);
      p.reject(new RemoteError(p.method, reply.failure));
    } else if (reply.ending) {
      this.settle(reply.msgId, p);
      p.resolve(reply.result ?? p.result ?? null);
    } else {
      p.result = reply.result;
    }
  }

  private settle(msgId: string, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(msgId);
  }

  /**
   * Consumes a notification topic as the agent's RPC server does: its fanout (exchange
   * `<topic>_fanout`, queue `<topic>_fanout_<uuidhex>`) and, for each served host, the topic queue
   * `<topic>.<host>` on the control exchange (durable, quorum and HA as configured). Declared again,
   * with a new fanout queue, after every reconnect. Returns the current fanout queue's name.
   * A malformed message is logged with its topic and dropped; a throwing handler is logged.
   * While disconnected it fails with ConnectionLostError and registers nothing.
   */
  async consume(topic: string, hosts: readonly string[], handler: Handler): Promise<string> {
    const link = this.current('consume', `consume ${topic}`);
    const c: Consumer = { topic, hosts: new Set(hosts), handler, queue: '' };
    try {
      await this.declareConsumer(link, c);
    } catch (err) {
      throw this.failure(link, 'consume', `consume ${topic}`, err);
    }
    if (link.lost) throw new ConnectionLostError('consume', `consume ${topic}: AMQP connection to ${this.where} lost while declaring`);
    this.consumers.push(c);
    return c.queue;
  }

  private async declareConsumer(link: Link, c: Consumer): Promise<void> {
    const fanout = `${c.topic}_fanout`;
    const queue = `${c.topic}_fanout_${uuidHex()}`;
    // Declares on a channel of their own: a refusal closes that channel, not the one calls use.
    await this.declaring(link, async (dch) => {
      await this.declare(`exchange ${fanout}`, { durable: false, autoDelete: true }, (o) => dch.assertExchange(fanout, 'fanout', o));
      // declare_fanout_consumer: classic, not durable, transient TTL.
      await this.declare(`queue ${queue}`, { durable: false, autoDelete: false, arguments: this.queueArguments(true, false) },
        (o) => dch.assertQueue(queue, o));
    });
    await link.ch.bindQueue(queue, fanout, c.topic);
    await link.ch.consume(queue, (m) => this.onMessage(link, c, queue, m), this.consumeArguments());
    for (const h of c.hosts) await this.consumeTopicQueue(link, c, h);
    c.queue = queue;
  }

  private async declaring(link: Link, fn: (dch: Channel) => Promise<void>): Promise<void> {
    const dch = await link.conn.createChannel();
    dch.on('error', () => {}); // reported through the declare's own rejection
    try {
      await fn(dch);
    } finally {
      await dch.close().catch(() => {});
    }
  }

  /** declare_topic_consumer for one host: `<topic>.<host>` on the control exchange, consumed (once per connection). */
  private async consumeTopicQueue(link: Link, c: Consumer, host: string): Promise<void> {
    const q = routingKey(c.topic, host);
    const tags = link.hostTags.get(c) ?? new Map<string, string>();
    link.hostTags.set(c, tags);
    if (tags.has(q)) return;
    tags.set(q, ''); // taken: a concurrent consumeHost does not consume it twice
    try {
      // Durable (or quorum) as the cloud's, auto-deleted as amqp_auto_delete, no TTL.
      await this.declaring(link, (dch) => this.declare(`queue ${q}`, { durable: this.durable, autoDelete: this.queues.autoDelete, arguments: this.queueArguments(false, true) },
        (o) => dch.assertQueue(q, o)).then(() => undefined));
      await link.ch.bindQueue(q, this.exchange, q);
      const { consumerTag } = await link.ch.consume(q, (m) => this.onMessage(link, c, q, m, host), this.consumeArguments());
      tags.set(q, consumerTag);
      // Stopped meanwhile: not consumed after all.
      if (!c.hosts.has(host)) this.cancelTopicQueue(link, c, q);
    } catch (err) {
      tags.delete(q);
      throw err;
    }
  }

  private cancelTopicQueue(link: Link, c: Consumer, q: string): void {
    const tags = link.hostTags.get(c);
    const tag = tags?.get(q);
    if (!tag) return;
    tags!.delete(q);
    link.ch.cancel(tag).catch(() => {}); // a lost link has no consumer left anyway
  }

  /**
   * Starts consuming a host's queue of every consumed topic (`<topic>.<host>`), now and after every
   * reconnect: under replicas, only the host's leader consumes them. While disconnected it only
   * registers (the reconnect declares them).
   */
  async consumeHost(host: string): Promise<void> {
    for (const c of this.consumers) c.hosts.add(host);
    const link = this.link;
    if (!link || link.lost) return;
    try {
      for (const c of this.consumers) if (c.hosts.has(host)) await this.consumeTopicQueue(link, c, host);
    } catch (err) {
      throw this.failure(link, 'consume', `consume the queues of ${host}`, err);
    }
  }

  /**
   * Stops consuming a host's queues at once: a message delivered for it from now on is given back
   * to the broker (requeued) for the host's next consumer, not handled; the consumers are cancelled.
   */
  stopHost(host: string): void {
    for (const c of this.consumers) {
      c.hosts.delete(host);
      if (this.link) this.cancelTopicQueue(this.link, c, routingKey(c.topic, host));
    }
  }

  private onMessage(link: Link, c: Consumer, queue: string, m: ConsumeMessage | null, host?: string): void {
    if (!m) {
      // Cancelled by us (stopHost): nothing to mend.
      if (host !== undefined && !c.hosts.has(host)) return;
      this.lose(link, new Error(`the broker cancelled the consumer of ${queue}`));
      return;
    }
    // No longer ours (stopHost): back to the queue, for the host's next consumer.
    if (host !== undefined && !c.hosts.has(host)) return void nackQuietly(link, m);
    const req = decodeRequest(m.content);
    if (req instanceof OsloDecodeError) {
      link.ch.ack(m);
      this.log.warn({ topic: c.topic, routingKey: m.fields.routingKey, err: req.message }, 'neutron rpc: malformed message dropped');
      return;
    }
    const prefix = `${c.topic}.`;
    const directed = m.fields.exchange === this.exchange && m.fields.routingKey.startsWith(prefix);
    const incoming: Incoming = {
      topic: c.topic, method: req.method, args: req.args, context: req.context,
      ...(directed && { host: m.fields.routingKey.slice(prefix.length) }),
      ...(req.version !== undefined && { version: req.version }),
    };
    // Acknowledged once handled (a failed handler's too: it would fail again); a handler that
    // answers false gives it back to the queue.
    void Promise.resolve()
      .then(() => c.handler(incoming))
      .catch((err: unknown) => this.log.error({ topic: c.topic, method: req.method, err: (err as Error).message }, 'neutron rpc: handler failed'))
      .then((handled) => {
        if (handled === false) return nackQuietly(link, m);
        if (link.lost) return;
        try {
          link.ch.ack(m);
        } catch {
          // the channel closed meanwhile: redelivered to whoever consumes next
        }
      });
  }

  /** Closes the connection, fails pending calls (ConnectionLostError) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.closing) return this.closed.then(() => undefined);
    this.closing = true;
    clearTimeout(this.retryTimer);
    const link = this.link;
    if (link) {
      try {
        await link.conn.close();
      } catch {
        // already gone
      }
      this.lose(link, new Error('closed'));
    }
    this.resolveClosed(undefined);
  }
}

/** oslo's own checks of these options, with its option names. */
function checkQueueOptions(q: QueueOptions): QueueOptions {
  if (q.quorumQueues && q.haQueues) {
    throw new Error('Configuration Error: rabbit_quorum_queue and rabbit_ha_queues both enabled, queue type is quorum or HA (mirrored) not both');
  }
  for (const k of ['transientTtlSeconds', 'quorumDeliveryLimit', 'quorumMaxMemoryLength', 'quorumMaxMemoryBytes', 'prefetchCount'] as const) {
    if (!Number.isInteger(q[k]) || q[k] < 0) throw new Error(`${OSLO_NAMES[k]} must be an integer >= 0 (got ${String(q[k])})`);
  }
  return q;
}

/** Gives a message back to its queue (requeued); on a lost link the broker requeues it anyway. */
function nackQuietly(link: Link, m: ConsumeMessage): void {
  if (link.lost) return;
  try {
    link.ch.nack(m, false, true);
  } catch {
    // the channel closed meanwhile: the broker requeues what was not acknowledged
  }
}

function publish(link: Link, exchange: string, key: string, body: string, extra: Options.Publish): void {
  link.ch.publish(exchange, key, Buffer.from(body), { contentType: 'application/json', contentEncoding: 'utf-8', ...extra });
}

function routingKey(topic: string, server: string | undefined): string {
  return server === undefined ? topic : `${topic}.${server}`;
}
