// One fuzz input through one decoder, and what came out: accepted, rejected with the decoder's own
// error type, or a crash (any other exception, a broken error contract). A decoded value also goes
// where the program takes it next (printed, re-encoded), since a crash there is a crash all the same.
import { formatFlow, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { FlowSyntaxError, parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { DecodeError } from '../../codecs/openflow/bytes.js';
import { RefusedMessage } from '../../codecs/openflow/errors.js';
import { decodeMessage, encodeMessage, OfMessage } from '../../codecs/openflow/messages.js';
import { FramingError, JsonFramer } from '../../codecs/ovsdb/framer.js';
import { decodeRpc, fromMap, fromSet, Json, optionalInt, ProtocolError, uuidOf } from '../../codecs/ovsdb/protocol.js';
import { applyDatumDiff, ColumnType } from '../../lib/ovsdb/client.js';
import type { FlowTextInput } from './gen-flow-text.js';
import { ColumnShape, FUZZ_COLUMNS, OvsdbInput } from './gen-ovsdb.js';

export type Verdict = 'ok' | 'rejected' | 'crash';

export interface Outcome {
  readonly verdict: Verdict;
  /** What was decoded (message type) or why it was refused (the reason, numbers masked). */
  readonly label: string;
  /** For crashes: where (stage) and what was thrown. */
  readonly detail?: string;
}

const ok = (label: string): Outcome => ({ verdict: 'ok', label });
const rejected = (label: string): Outcome => ({ verdict: 'rejected', label });

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message.slice(0, 200)}`;
  return `non-Error thrown: ${String(err).slice(0, 200)}`;
}

function crash(stage: string, err: unknown): Outcome {
  return { verdict: 'crash', label: stage, detail: `${stage}: ${describe(err)}` };
}

/** A refusal's reason with its numbers masked, so refusals can be counted by kind. */
export function reasonKind(message: string): string {
  return message.replace(/(convert|search for '\w+' in) .*?( to a |$)/, '$1 …$2').replace(/0x[0-9a-f]+/gi, 'X').replace(/\d+/g, 'N')
    .replace(/"[^"]*"/g, '"…"').slice(0, 80);
}

// ---------------------------------------------------------------------------------------------
// OpenFlow

function printFlows(m: OfMessage): void {
  if (m.type === 'flow_mod') formatFlow(m);
  else if (m.type === 'flow_stats_reply') formatFlowStatsReply(m.xid, m.flags, m.flows);
  else if (m.type === 'bundle_add') printFlows(m.message);
}

/**
 * decodeMessage must return, never throw; a refusal is a DecodeError pointing into the buffer; a
 * stack overflow caught and turned into a DecodeError still counts as a crash (deep recursion on
 * peer input). A decoded message must print (dump-flows) and re-encode (a controller echoes data
 * and re-sends flows) without throwing.
 */
export function fuzzOpenFlow(bytes: Buffer): Outcome {
  let r: ReturnType<typeof decodeMessage>;
  try {
    r = decodeMessage(bytes);
  } catch (err) {
    return crash('decodeMessage threw', err);
  }
  if (!r.ok) {
    const e = r.error;
    if (!(e instanceof DecodeError)) return crash('decodeMessage error type', e);
    if (!(e.offset >= 0 && e.offset <= bytes.length)) return crash('DecodeError offset', new Error(`offset ${e.offset} outside 0..${bytes.length}: ${e.message}`));
    if (/call stack/i.test(e.message)) return crash('decodeMessage stack overflow', e);
    return rejected(reasonKind(e.message));
  }
  try {
    printFlows(r.msg);
  } catch (err) {
    return crash('format decoded flows', err);
  }
  try {
    encodeMessage(r.msg);
  } catch (err) {
    return crash('re-encode decoded message', err);
  }
  return ok(r.msg.type);
}

// ---------------------------------------------------------------------------------------------
// Flow text

/**
 * parseFlow may refuse only with FlowSyntaxError. A parsed flow must encode (add-flows) and print
 * (diff-flows) without throwing; one too large for a message is refused by the encoder with a
 * RangeError, which the tools report.
 */
export function fuzzFlowText(input: FlowTextInput): Outcome {
  let fm: ReturnType<typeof parseFlow>;
  try {
    fm = parseFlow(input.text, { mode: input.mode });
  } catch (err) {
    if (err instanceof FlowSyntaxError) return rejected(reasonKind(err.reason));
    return crash('parseFlow threw', err);
  }
  let wire: Buffer;
  try {
    wire = encodeMessage({ ...fm, xid: 1 });
  } catch (err) {
    if (err instanceof RangeError && /exceeds 65535/.test(err.message)) return rejected('too large for one message');
    return crash('encode parsed flow', err);
  }
  try {
    formatFlow(fm);
  } catch (err) {
    return crash('format parsed flow', err);
  }
  // What we send, we must be able to read back (a peer echoing it, our own dump of it).
  const back = decodeMessage(wire);
  if (!back.ok) {
    // The one flow text ovs-ofctl parses and encodes that OVS (its decoder, ovs-vswitchd) refuses.
    if (back.error instanceof RefusedMessage && back.error.ofpError === 'OFPBAC_BAD_SET_LEN' && back.error.message.startsWith('ct zone subfield')) {
      return rejected('written as ovs-ofctl writes it, refused as OVS refuses it (ct zone width)');
    }
    return crash('decode of encoded parsed flow', back.error);
  }
  return ok(`parsed (${input.mode})`);
}

// ---------------------------------------------------------------------------------------------
// OVSDB

/** The column type lib/ovsdb/client.ts derives from FUZZ_SCHEMA for a column of this shape. */
function columnType(shape: ColumnShape | undefined): ColumnType {
  if (shape === 'map') return { nMax: Infinity, isMap: true };
  return { nMax: shape === 'uuid-set' || shape === 'string-set' ? Infinity : 1, isMap: false };
}

const UPDATE_METHODS = new Set(['update', 'update2', 'update3']);

export interface OvsdbOutcome extends Outcome {
  /** The complete update notifications (texts as framed), for the live client. */
  readonly notifications: readonly string[];
}

/**
 * The stream through JsonFramer (only FramingError may come out) and each framed text through
 * decodeRpc (only ProtocolError), as OvsdbConnection does; the first error ends the session. The
 * update notifications' rows also go through the datum readers and (unless opts.applyDiffs is false)
 * the client's exported applyDatumDiff.
 */
export function fuzzOvsdb(input: OvsdbInput, opts: { readonly applyDiffs?: boolean } = { applyDiffs: true }): OvsdbOutcome {
  const framer = new JsonFramer();
  const notifications: string[] = [];
  let messages = 0;
  const done = (o: Outcome): OvsdbOutcome => ({ ...o, notifications });
  for (const chunk of input.chunks) {
    let texts: string[];
    try {
      texts = framer.push(chunk);
    } catch (err) {
      if (err instanceof FramingError) return done(rejected(`framing: ${reasonKind(err.message)}`));
      return done(crash('JsonFramer.push threw', err));
    }
    for (const t of texts) {
      let m: ReturnType<typeof decodeRpc>;
      try {
        m = decodeRpc(t);
      } catch (err) {
        if (err instanceof ProtocolError) return done(rejected(`protocol: ${reasonKind(err.message)}`));
        return done(crash('decodeRpc threw', err));
      }
      messages++;
      if (!('method' in m) || m.id !== null || !UPDATE_METHODS.has(m.method)) continue;
      notifications.push(t);
      const updates = m.method === 'update3' ? m.params[2] : m.params[1];
      try {
        readRows(updates);
      } catch (err) {
        return done(crash(err instanceof ContractError ? 'datum reader' : 'datum reader threw', err));
      }
      if (!opts.applyDiffs) continue;
      try {
        applyModifyDiffs(updates);
      } catch (err) {
        // A malformed datum is refused with a ProtocolError (the client then resyncs its session).
        if (err instanceof ProtocolError) return done(rejected(`client: ${err.message.replace(/:.*/, '')}`));
        return done(crash('applyDatumDiff (lib/ovsdb/client.ts) threw', err));
      }
    }
  }
  return done(ok(messages ? `${messages} message${messages > 1 ? 's' : ''}` : 'no complete message'));
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The rows of every change of every table (old, new, initial, insert, modify). */
function* changedRows(updates: Json | undefined): Generator<[string, { [k: string]: Json }, boolean]> {
  if (!isObject(updates)) return;
  for (const [table, rows] of Object.entries(updates)) {
    if (!isObject(rows)) continue;
    for (const change of Object.values(rows)) {
      if (!isObject(change)) continue;
      for (const key of ['new', 'old', 'initial', 'insert', 'modify']) {
        const row = change[key];
        if (isObject(row)) yield [table, row, key === 'modify'];
      }
    }
  }
}

/**
 * Every column value of every row through the codec's datum readers (lib/ovsdb/vswitch.ts reads rows
 * with them): they must return values of their declared types, whatever the server sent.
 */
function readRows(updates: Json | undefined): void {
  for (const [, row] of changedRows(updates)) for (const v of Object.values(row)) readDatum(v);
}

/** Every update2 "modify" column diff through the client's applyDatumDiff, on an empty and on a present value. */
function applyModifyDiffs(updates: Json | undefined): void {
  for (const [table, row, isDiff] of changedRows(updates)) {
    if (!isDiff) continue;
    const shapes = FUZZ_COLUMNS[table] ?? {};
    for (const [col, diff] of Object.entries(row)) {
      const type = columnType(shapes[col]);
      applyDatumDiff(applyDatumDiff(undefined, diff, type), diff, type);
    }
  }
}

class ContractError extends Error {}

function readDatum(v: Json): void {
  if (!Array.isArray(fromSet(v))) throw new ContractError('fromSet returned a non-array');
  for (const [k, x] of fromMap(v)) if (typeof k !== 'string' || typeof x !== 'string') throw new ContractError('fromMap returned a non-string');
  const u = uuidOf(v);
  if (u !== undefined && typeof u !== 'string') throw new ContractError('uuidOf returned a non-string');
  const n = optionalInt(v);
  if (n !== undefined && typeof n !== 'number') throw new ContractError('optionalInt returned a non-number');
}
