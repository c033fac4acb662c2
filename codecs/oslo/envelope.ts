// oslo.messaging's RPC wire format (envelope 2.0, oslo.messaging 14.0.3), pure: no I/O, no AMQP.
// The AMQP body is `{"oslo.version":"2.0","oslo.message":"<JSON string>"}` (`_drivers/common.py`
// serialize_msg); the inner message is a request `{method, args, version?, namespace?, _msg_id?,
// _reply_q?, _timeout?, _unique_id, _context_<key>…}` (`amqpdriver._send`, `amqp.pack_context`) or a
// reply `{result, failure, ending, _msg_id, _unique_id}` (`amqpdriver._send_reply`), its failure a
// JSON string `{class, module, message, tb, args, kwargs}` (`common.serialize_remote_exception`).
// Decoders never throw: they return an OsloDecodeError naming the field.
import { randomUUID } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const ENVELOPE_VERSION = '2.0';
const VERSION_KEY = 'oslo.version';
const MESSAGE_KEY = 'oslo.message';
const CONTEXT_PREFIX = '_context_';

/** A message that is not what oslo.messaging sends; `field` is its path (`oslo.message.args`, …). */
export class OsloDecodeError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`oslo message: "${field}" ${reason}`);
    this.name = 'OsloDecodeError';
  }
}

/** A method call or cast, as an RPC server's dispatcher reads it. */
export interface OsloRequest {
  readonly method: string;
  readonly args: JsonObject;
  /** Target version; oslo's dispatcher takes '1.0' when absent. */
  readonly version?: string;
  readonly namespace?: string | null;
  /** Calls only: the reply carries it back. */
  readonly msgId?: string;
  /** Calls only: the queue the reply is sent to through the default exchange. */
  readonly replyQ?: string;
  /** Calls only: oslo's call_monitor_timeout (null unless set). */
  readonly timeout?: number | null;
  /** oslo's duplicate-message guard; made by encodeRequest when absent. */
  readonly uniqueId?: string;
  /** The request context, flattened to `_context_<key>` on the wire. */
  readonly context: JsonObject;
}

/** A remote exception as oslo serialises it. */
export interface OsloFailure {
  readonly class: string;
  readonly module: string;
  readonly message: string;
  readonly tb: readonly string[];
  readonly args?: readonly Json[];
  readonly kwargs?: JsonObject;
}

export interface OsloReply {
  readonly result: Json;
  readonly failure: OsloFailure | null;
  /** oslo ≥ Newton sends one reply with ending=true; an older server may send the result first. */
  readonly ending: boolean;
  readonly msgId: string;
  readonly uniqueId?: string;
}

/** A fresh id as oslo makes them (`uuid.uuid4().hex`). */
export function uuidHex(): string {
  return randomUUID().replaceAll('-', '');
}

/** Wraps an inner message in the 2.0 envelope, as the AMQP body. */
export function encodeEnvelope(inner: JsonObject): string {
  return JSON.stringify({ [VERSION_KEY]: ENVELOPE_VERSION, [MESSAGE_KEY]: JSON.stringify(inner) });
}

/** The inner message of an AMQP body: the 2.0 envelope only (oslo has sent nothing else since Icehouse). */
export function decodeEnvelope(body: Uint8Array | string): JsonObject | OsloDecodeError {
  const outer = parseJson(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'), 'body');
  if (outer instanceof OsloDecodeError) return outer;
  if (!isObject(outer)) return new OsloDecodeError('body', 'must be a JSON object');
  const version = outer[VERSION_KEY];
  if (version !== ENVELOPE_VERSION) {
    return new OsloDecodeError(VERSION_KEY, `must be "${ENVELOPE_VERSION}", got ${JSON.stringify(version) ?? 'nothing'}`);
  }
  const text = outer[MESSAGE_KEY];
  if (typeof text !== 'string') return new OsloDecodeError(MESSAGE_KEY, 'must be a string holding JSON');
  const inner = parseJson(text, MESSAGE_KEY);
  if (inner instanceof OsloDecodeError) return inner;
  if (!isObject(inner)) return new OsloDecodeError(MESSAGE_KEY, 'must hold a JSON object');
  return inner;
}

/** The inner message of a request, keys in oslo's order; `_unique_id` made when not given. */
export function requestMessage(req: OsloRequest): JsonObject {
  const msg: JsonObject = { method: req.method, args: req.args };
  if (req.version !== undefined) msg.version = req.version;
  if (req.namespace !== undefined) msg.namespace = req.namespace;
  if (req.msgId !== undefined) {
    msg._msg_id = req.msgId;
    if (req.replyQ !== undefined) msg._reply_q = req.replyQ;
    msg._timeout = req.timeout ?? null;
  }
  msg._unique_id = req.uniqueId ?? uuidHex();
  for (const [key, value] of Object.entries(req.context)) msg[CONTEXT_PREFIX + key] = value;
  return msg;
}

export function encodeRequest(req: OsloRequest): string {
  if (req.method === '') throw new Error('oslo request: method must be a non-empty string');
  if ((req.msgId === undefined) !== (req.replyQ === undefined)) {
    throw new Error('oslo request: a call needs both msgId and replyQ, a cast neither');
  }
  return encodeEnvelope(requestMessage(req));
}

export function decodeRequest(body: Uint8Array | string): OsloRequest | OsloDecodeError {
  const msg = decodeEnvelope(body);
  if (msg instanceof OsloDecodeError) return msg;
  const at = (key: string): string => `${MESSAGE_KEY}.${key}`;
  const { method, args, version, namespace, _msg_id: msgId, _reply_q: replyQ, _timeout: timeout, _unique_id: uniqueId } = msg;
  if (typeof method !== 'string' || method === '') return new OsloDecodeError(at('method'), 'must be a non-empty string');
  if (args !== undefined && !isObject(args)) return new OsloDecodeError(at('args'), 'must be an object');
  if (version !== undefined && typeof version !== 'string') return new OsloDecodeError(at('version'), 'must be a string');
  if (namespace !== undefined && namespace !== null && typeof namespace !== 'string') {
    return new OsloDecodeError(at('namespace'), 'must be a string or null');
  }
  if (msgId !== undefined && (typeof msgId !== 'string' || msgId === '')) return new OsloDecodeError(at('_msg_id'), 'must be a non-empty string');
  if (replyQ !== undefined && (typeof replyQ !== 'string' || replyQ === '')) return new OsloDecodeError(at('_reply_q'), 'must be a non-empty string');
  if ((msgId === undefined) !== (replyQ === undefined)) return new OsloDecodeError(at(msgId === undefined ? '_msg_id' : '_reply_q'), 'must come with its pair (_msg_id, _reply_q)');
  if (timeout !== undefined && timeout !== null && typeof timeout !== 'number') return new OsloDecodeError(at('_timeout'), 'must be a number or null');
  if (uniqueId !== undefined && typeof uniqueId !== 'string') return new OsloDecodeError(at('_unique_id'), 'must be a string');
  const context: JsonObject = {};
  for (const [key, value] of Object.entries(msg)) {
    if (key.startsWith(CONTEXT_PREFIX)) context[key.slice(CONTEXT_PREFIX.length)] = value;
  }
  return {
    method,
    args: args ?? {},
    ...(version !== undefined && { version }),
    ...(namespace !== undefined && { namespace }),
    ...(msgId !== undefined && { msgId, replyQ: replyQ as string, timeout: timeout ?? null }),
    ...(uniqueId !== undefined && { uniqueId }),
    context,
  };
}

export function encodeReply(reply: OsloReply): string {
  return encodeEnvelope({
    result: reply.result,
    failure: reply.failure === null ? null : JSON.stringify(reply.failure),
    ending: reply.ending,
    _msg_id: reply.msgId,
    _unique_id: reply.uniqueId ?? uuidHex(),
  });
}

export function decodeReply(body: Uint8Array | string): OsloReply | OsloDecodeError {
  const msg = decodeEnvelope(body);
  if (msg instanceof OsloDecodeError) return msg;
  const at = (key: string): string => `${MESSAGE_KEY}.${key}`;
  const { result, failure, ending, _msg_id: msgId, _unique_id: uniqueId } = msg;
  if (typeof msgId !== 'string' || msgId === '') return new OsloDecodeError(at('_msg_id'), 'must be a non-empty string');
  if (ending !== undefined && typeof ending !== 'boolean') return new OsloDecodeError(at('ending'), 'must be a boolean');
  if (uniqueId !== undefined && typeof uniqueId !== 'string') return new OsloDecodeError(at('_unique_id'), 'must be a string');
  let decoded: OsloFailure | null = null;
  if (failure !== undefined && failure !== null) {
    const f = decodeFailure(failure, at('failure'));
    if (f instanceof OsloDecodeError) return f;
    decoded = f;
  }
  return { result: result ?? null, failure: decoded, ending: ending ?? false, msgId, ...(uniqueId !== undefined && { uniqueId }) };
}

function decodeFailure(failure: Json, path: string): OsloFailure | OsloDecodeError {
  if (typeof failure !== 'string') return new OsloDecodeError(path, 'must be a string holding JSON');
  const f = parseJson(failure, path);
  if (f instanceof OsloDecodeError) return f;
  if (!isObject(f)) return new OsloDecodeError(path, 'must hold a JSON object');
  for (const key of ['class', 'module', 'message'] as const) {
    if (typeof f[key] !== 'string') return new OsloDecodeError(`${path}.${key}`, 'must be a string');
  }
  const tb = f.tb ?? [];
  if (!Array.isArray(tb) || tb.some((line) => typeof line !== 'string')) return new OsloDecodeError(`${path}.tb`, 'must be an array of strings');
  if (f.args !== undefined && !Array.isArray(f.args)) return new OsloDecodeError(`${path}.args`, 'must be an array');
  if (f.kwargs !== undefined && !isObject(f.kwargs)) return new OsloDecodeError(`${path}.kwargs`, 'must be an object');
  return {
    class: f.class as string,
    module: f.module as string,
    message: f.message as string,
    tb: tb as string[],
    ...(f.args !== undefined && { args: f.args }),
    ...(f.kwargs !== undefined && { kwargs: f.kwargs as JsonObject }),
  };
}

function parseJson(text: string, field: string): Json | OsloDecodeError {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    return new OsloDecodeError(field, `is not JSON (${(err as Error).message})`);
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
