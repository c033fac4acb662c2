// oslo.messaging RPC over AMQP (RabbitMQ), the client side a Neutron agent needs: calls to
// neutron-server with replies matched by _msg_id, casts, and fanout plus host-directed consumers
// for the server's notifications. Exchanges and queues are declared as oslo.messaging 14.0.3's
// rabbit driver declares them (impl_rabbit: topic_send, declare_direct_consumer,
// declare_fanout_consumer), with its defaults; QueueOptions mirrors a cloud's [oslo_messaging_rabbit].
// No reconnect yet: a lost connection fails the pending calls and `closed` resolves.
import { Channel, ChannelModel, connect, ConsumeMessage, Options } from 'amqplib';
import { SecureContextOptions } from 'node:tls';
import {
  decodeReply, decodeRequest, encodeRequest, Json, JsonObject, OsloDecodeError, OsloFailure, uuidHex,
} from '../../codecs/oslo/envelope.js';
import { Logger } from '../log.js';

/** oslo.messaging's declare settings; defaults are oslo's. */
export interface QueueOptions {
  /** amqp_durable_queues: the control exchange (and topic queues) durable. Default false. */
  readonly durable: boolean;
  /** amqp_auto_delete: the control exchange auto-deleted. Default false. */
  readonly autoDelete: boolean;
  /** rabbit_transient_queues_ttl in seconds (x-expires on reply and fanout queues); 0 for none. Default 1800. */
  readonly transientTtlSeconds: number;
  /** rabbit_ha_queues: `x-ha-policy: all` on every queue. Default false. */
  readonly haQueues: boolean;
}

export const OSLO_DEFAULTS: QueueOptions = { durable: false, autoDelete: false, transientTtlSeconds: 1800, haQueues: false };

export interface RpcOptions {
  /** amqp://USER:PASS@HOST:PORT/VHOST or amqps://… (never logged with its credentials). */
  readonly url: string;
  /** oslo's control_exchange; Neutron's is `neutron`. */
  readonly exchange?: string;
  readonly queues?: Partial<QueueOptions>;
  /** For amqps: the CA, certificate and key (node:tls options). */
  readonly tls?: SecureContextOptions;
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
  readonly replyQueue = `reply_${uuidHex()}`;
  /** Resolves when the connection is gone (closed by us or lost); the error if lost. */
  readonly closed: Promise<Error | undefined>;
  private readonly pending = new Map<string, Pending>();
  private readonly queues: QueueOptions;
  private closing = false;

  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: Channel,
    private readonly exchange: string,
    queues: QueueOptions,
    private readonly log: Logger,
  ) {
    this.queues = queues;
    this.closed = new Promise((resolve) => {
      conn.once('close', (err?: Error) => {
        const lost = this.closing ? undefined : (err ?? new Error('AMQP connection closed'));
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${p.method}: AMQP connection lost before the reply${lost ? ` (${lost.message})` : ''}`));
          this.pending.delete(id);
        }
        if (lost) this.log.error({ err: lost.message }, 'neutron rpc: AMQP connection lost');
        resolve(lost);
      });
    });
  }

  static async connect(opts: RpcOptions): Promise<NeutronRpc> {
    const where = redactUrl(opts.url);
    const url = new URL(opts.url);
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') throw new Error(`--neutron-rpc ${where}: the scheme must be amqp: or amqps:`);
    const queues = { ...OSLO_DEFAULTS, ...opts.queues };
    let conn: ChannelModel;
    try {
      conn = await connect(opts.url, url.protocol === 'amqps:' ? { ...opts.tls } : {});
    } catch (err) {
      // amqplib's messages can quote the URL: name the place without it.
      throw new Error(`AMQP ${where}: cannot connect (${(err as Error).message.replaceAll(opts.url, where)})`);
    }
    conn.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'neutron rpc: AMQP connection error'));
    const ch = await conn.createChannel();
    ch.on('error', (err: Error) => opts.log.error({ err: err.message }, 'neutron rpc: AMQP channel closed by the broker'));
    const rpc = new NeutronRpc(conn, ch, opts.exchange ?? 'neutron', queues, opts.log);
    try {
      await rpc.declare(`exchange ${rpc.exchange}`, () =>
        ch.assertExchange(rpc.exchange, 'topic', { durable: queues.durable, autoDelete: queues.autoDelete }));
      // declare_direct_consumer: not durable, not auto-deleted, transient TTL and HA arguments.
      await rpc.declare(`queue ${rpc.replyQueue}`, () =>
        ch.assertQueue(rpc.replyQueue, { durable: false, autoDelete: false, arguments: rpc.queueArguments(true) }));
      await ch.consume(rpc.replyQueue, (m) => rpc.onReply(m), { noAck: true });
    } catch (err) {
      await rpc.close();
      throw err;
    }
    opts.log.info({ broker: where, exchange: rpc.exchange, replyQueue: rpc.replyQueue }, 'neutron rpc: connected');
    return rpc;
  }

  /** `_get_queue_arguments`: x-ha-policy, and x-expires on transient (reply, fanout) queues. */
  private queueArguments(transient: boolean): Record<string, unknown> {
    const args: Record<string, unknown> = {};
    if (this.queues.haQueues) args['x-ha-policy'] = 'all';
    if (transient && this.queues.transientTtlSeconds > 0) args['x-expires'] = this.queues.transientTtlSeconds * 1000;
    return args;
  }

  private async declare<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const msg = (err as Error).message;
      throw new DeclareRefusedError(`RabbitMQ refused to declare ${what} (${JSON.stringify(this.queues)}): ${msg}`
        + (msg.includes('PRECONDITION_FAILED') ? '; set the queue options to the cloud\'s [oslo_messaging_rabbit] settings' : ''));
    }
  }

  /** Calls `method` on `topic` (or `<topic>.<server>`) and resolves with its result. */
  call(topic: string, method: string, args: JsonObject, version: string, o: CallOptions): Promise<Json> {
    const msgId = uuidHex();
    const body = encodeRequest({
      method, args, version, ...(o.namespace !== undefined && { namespace: o.namespace }),
      msgId, replyQ: this.replyQueue, context: o.context ?? {},
    });
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId);
        reject(new RpcTimeoutError(`${method} on ${routingKey(topic, o.server)}: no reply within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      this.pending.set(msgId, { method, resolve, reject, timer });
      // The message expires with the call, as oslo sets `expiration=timeout`.
      this.publish(this.exchange, routingKey(topic, o.server), body, { expiration: String(o.timeoutMs) });
    });
  }

  /** Casts `method` (no reply): to the control exchange, or to every consumer with fanout. */
  async cast(topic: string, method: string, args: JsonObject, version: string, o: CastOptions = {}): Promise<void> {
    const body = encodeRequest({ method, args, version, ...(o.namespace !== undefined && { namespace: o.namespace }), context: o.context ?? {} });
    if (o.fanout) {
      await this.ch.assertExchange(`${topic}_fanout`, 'fanout', { durable: false, autoDelete: true });
      this.publish(`${topic}_fanout`, '', body, {});
    } else {
      this.publish(this.exchange, routingKey(topic, o.server), body, {});
    }
  }

  private publish(exchange: string, key: string, body: string, extra: Options.Publish): void {
    this.ch.publish(exchange, key, Buffer.from(body), { contentType: 'application/json', contentEncoding: 'utf-8', ...extra });
  }

  private onReply(m: ConsumeMessage | null): void {
    if (!m) return;
    const reply = decodeReply(m.content);
    if (reply instanceof OsloDecodeError) {
      this.log.warn({ queue: this.replyQueue, err: reply.message }, 'neutron rpc: malformed reply dropped');
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
   * Consumes a notification topic as the agent does: its fanout (exchange `<topic>_fanout`, queue
   * `<topic>_fanout_<uuidhex>`) and, for each served host, `<topic>.<host>` on the control exchange.
   * A malformed message is logged with its topic and dropped; a throwing handler is logged.
   */
  async consume(topic: string, hosts: readonly string[], handler: (m: Incoming) => void | Promise<void>): Promise<string> {
    const fanout = `${topic}_fanout`;
    const queue = `${topic}_fanout_${uuidHex()}`;
    await this.declare(`exchange ${fanout}`, () => this.ch.assertExchange(fanout, 'fanout', { durable: false, autoDelete: true }));
    await this.declare(`queue ${queue}`, () => this.ch.assertQueue(queue, { durable: false, autoDelete: false, arguments: this.queueArguments(true) }));
    await this.ch.bindQueue(queue, fanout, topic);
    for (const host of hosts) await this.ch.bindQueue(queue, this.exchange, routingKey(topic, host));
    await this.ch.consume(queue, (m) => {
      if (!m) return;
      this.ch.ack(m);
      const req = decodeRequest(m.content);
      if (req instanceof OsloDecodeError) {
        this.log.warn({ topic, routingKey: m.fields.routingKey, err: req.message }, 'neutron rpc: malformed message dropped');
        return;
      }
      const prefix = `${topic}.`;
      const directed = m.fields.exchange === this.exchange && m.fields.routingKey.startsWith(prefix);
      const incoming: Incoming = {
        topic, method: req.method, args: req.args, context: req.context,
        ...(directed && { host: m.fields.routingKey.slice(prefix.length) }),
        ...(req.version !== undefined && { version: req.version }),
      };
      Promise.resolve()
        .then(() => handler(incoming))
        .catch((err: unknown) => this.log.error({ topic, method: req.method, err: (err as Error).message }, 'neutron rpc: handler failed'));
    });
    return queue;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.conn.close();
    } catch {
      // already gone
    }
    await this.closed;
  }
}

function routingKey(topic: string, server: string | undefined): string {
  return server === undefined ? topic : `${topic}.${server}`;
}
