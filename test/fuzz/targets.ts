// One fuzz input through one decoder, and what came out: accepted, rejected with the decoder's own
// error type, or a crash (any other exception, a broken error contract). A decoded value also goes
// where the program takes it next (printed, re-encoded), since a crash there is a crash all the same.
import { formatFlow, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { FlowSyntaxError, parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { DecodeError } from '../../codecs/openflow/bytes.js';
import { decodeMessage, encodeMessage, OfMessage } from '../../codecs/openflow/messages.js';
import { FramingError, JsonFramer } from '../../codecs/ovsdb/framer.js';
import { decodeRpc, Json, ProtocolError } from '../../codecs/ovsdb/protocol.js';
import { applyDatumDiff, ColumnType } from '../../lib/ovsdb/client.js';
import type { FlowTextInput } from './gen-flow-text.js';
import type { OvsdbInput } from './gen-ovsdb.js';

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
  return message.replace(/0x[0-9a-f]+/gi, 'X').replace(/\d+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 80);
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
  if (!back.ok) return crash('decode of encoded parsed flow', back.error);
  return ok(`parsed (${input.mode})`);
}

// ---------------------------------------------------------------------------------------------
// OVSDB

/** Column types the client derives from FUZZ_SCHEMA (lib/ovsdb/client.ts columnType). */
const COLUMN_TYPES: Readonly<Record<string, Readonly<Record<string, ColumnType>>>> = {
  Bridge: {
    name: { nMax: 1, isMap: false }, ports: { nMax: Infinity, isMap: false }, external_ids: { nMax: Infinity, isMap: true },
    other_config: { nMax: Infinity, isMap: true }, datapath_id: { nMax: 1, isMap: false }, protocols: { nMax: Infinity, isMap: false },
  },
  Interface: {
    name: { nMax: 1, isMap: false }, ofport: { nMax: 1, isMap: false }, options: { nMax: Infinity, isMap: true },
    external_ids: { nMax: Infinity, isMap: true },
  },
};

const UPDATE_METHODS = new Set(['update', 'update2', 'update3']);

export interface OvsdbOutcome extends Outcome {
  /** The complete update notifications (texts as framed), for the live client. */
  readonly notifications: readonly string[];
}

/**
 * The stream through JsonFramer (only FramingError may come out) and each framed text through
 * decodeRpc (only ProtocolError), as OvsdbConnection does; the first error ends the session. The
 * update2/update3 "modify" diffs also go through applyDatumDiff, the client's exported diff logic.
 */
export function fuzzOvsdb(input: OvsdbInput): OvsdbOutcome {
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
      try {
        applyModifyDiffs(m.method === 'update3' ? m.params[2] : m.params[1]);
      } catch (err) {
        return done(crash('applyDatumDiff threw', err));
      }
    }
  }
  return done(ok(messages ? `${messages} message${messages > 1 ? 's' : ''}` : 'no complete message'));
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every update2 "modify" column diff through applyDatumDiff, on an empty and on a present value. */
function applyModifyDiffs(updates: Json | undefined): void {
  if (!isObject(updates)) return;
  for (const [table, rows] of Object.entries(updates)) {
    const types = COLUMN_TYPES[table];
    if (!types || !isObject(rows)) continue;
    for (const change of Object.values(rows)) {
      if (!isObject(change) || !isObject(change.modify)) continue;
      for (const [col, diff] of Object.entries(change.modify)) {
        const type = types[col] ?? { nMax: 1, isMap: false };
        const once = applyDatumDiff(undefined, diff, type);
        applyDatumDiff(once, diff, type);
      }
    }
  }
}
