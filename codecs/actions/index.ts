// Every action kind ofctl-ts knows, one record each (one file each, named after the kind), the way
// OVS keeps one OFPACTS row and one section of lib/ofp-actions.c per action: the data, its wire
// ids, encoder, decoder, printer and text parser side by side. ACTIONS is typed by the Action union,
// so a kind without a record, or a record without one of its faces, does not compile; the wire
// decoder and the text parser dispatch through tables built here from the records' own wire ids and
// keywords, and test/codecs/action-walk.test.ts holds every record to OVS's bytes and text.
//
// Why a folder of its own: a record holds both a wire face (codecs/openflow's bytes, fields,
// subfields) and a text face (codecs/ofctl's values, lexer, subfield text). Kept here, neither of
// those folders holds the other's kind of code: codecs/openflow reaches actions only through
// encodeActions/decodeActions (instructions.ts, messages.ts), codecs/ofctl through formatAction and
// parseAction (format-actions.ts, parse-actions.ts), and the text helpers the records use import
// nothing back, so there is no import cycle.
import { Reader, Writer } from '../openflow/bytes.js';
import type { KeyValue } from '../ofctl/lexer.js';
import { fail } from '../ofctl/syntax.js';
import { bundle, Bundle } from './bundle.js';
import { checkPktLarger, CheckPktLarger } from './check-pkt-larger.js';
import { clone, Clone } from './clone.js';
import { conjunction, Conjunction } from './conjunction.js';
import { controller, Controller } from './controller.js';
import { ctClear, CtClear } from './ct-clear.js';
import { ct, Ct } from './ct.js';
import { decap, Decap } from './decap.js';
import { decMplsTtl, DecMplsTtl } from './dec-mpls-ttl.js';
import { decNshTtl, DecNshTtl } from './dec-nsh-ttl.js';
import { deleteField, DeleteField } from './delete-field.js';
import { decTtl, DecTtl } from './dec-ttl.js';
import { encap, Encap } from './encap.js';
import { exit, Exit } from './exit.js';
import { finTimeout, FinTimeout } from './fin-timeout.js';
import { group, Group } from './group.js';
import { learn, LearnAction } from './learn.js';
import { legacySet, LegacySet } from './legacy-set.js';
import { multipath, Multipath } from './multipath.js';
import { nat, Nat } from './nat.js';
import { note, Note } from './note.js';
import { outputReg, OutputReg } from './output-reg.js';
import { outputTrunc, OutputTrunc } from './output-trunc.js';
import { barePortOutput, output, Output } from './output.js';
import { popMpls, PopMpls } from './pop-mpls.js';
import { popQueue, PopQueue } from './pop-queue.js';
import { popVlan, PopVlan } from './pop-vlan.js';
import { pushMpls, PushMpls } from './push-mpls.js';
import { pushVlan, PushVlan } from './push-vlan.js';
import { raw, Raw, rawAction } from './raw.js';
import { ActionRecord, KeywordParser, NX_VENDOR, OFPAT_EXPERIMENTER, ONF_VENDOR, ParseContext } from './record.js';
import { regLoad, RegLoad } from './reg-load.js';
import { regLoad2, RegLoad2 } from './reg-load2.js';
import { regMove, RegMove } from './reg-move.js';
import { resubmit, Resubmit } from './resubmit.js';
import { sample, Sample } from './sample.js';
import { setField, SetField } from './set-field.js';
import { setMplsTtl, SetMplsTtl } from './set-mpls-ttl.js';
import { setNwTtl, SetNwTtl } from './set-nw-ttl.js';
import { setQueue, SetQueue } from './set-queue.js';
import { setTunnel, SetTunnel } from './set-tunnel.js';
import { stack, Stack } from './stack.js';

export type { Subfield } from '../openflow/subfield.js';
export type { Learn, LearnSpec } from './learn.js';
export { NX_LEARN_F_DELETE_LEARNED, NX_LEARN_F_SEND_FLOW_REM, NX_LEARN_F_WRITE_RESULT, parseLearn } from './learn.js';
export { parseMove } from './reg-move.js';
export type { ActionRecord, ParseContext } from './record.js';

export type Action =
  | Output | Group | SetField | PushVlan | PopVlan | SetQueue | PopQueue | DecTtl | SetNwTtl | Resubmit
  | SetTunnel | RegLoad | RegMove | OutputReg | LearnAction | Note | Conjunction | Ct | Nat | CtClear | Clone | Sample
  | PushMpls | PopMpls | SetMplsTtl | DecMplsTtl | OutputTrunc | Controller | Exit | FinTimeout | Stack | Bundle
  | Multipath | CheckPktLarger | LegacySet | Encap | Decap | DecNshTtl | RegLoad2 | DeleteField
  /** An action this codec does not understand: kept byte for byte. */
  | Raw;

export type ActionType = Action['type'];
export type ActionOf<T extends ActionType> = Extract<Action, { type: T }>;

/** The records, by kind. Key order is the order the walk test reports them in. */
export const ACTIONS: { readonly [T in ActionType]: ActionRecord<ActionOf<T>> } = {
  output, group, set_field: setField, push_vlan: pushVlan, pop_vlan: popVlan, set_queue: setQueue,
  pop_queue: popQueue, dec_ttl: decTtl, set_nw_ttl: setNwTtl, resubmit, set_tunnel: setTunnel,
  reg_load: regLoad, reg_move: regMove, output_reg: outputReg, learn, note, conjunction, ct, nat, ct_clear: ctClear, clone, sample,
  push_mpls: pushMpls, pop_mpls: popMpls, set_mpls_ttl: setMplsTtl, dec_mpls_ttl: decMplsTtl, output_trunc: outputTrunc,
  controller, exit, fin_timeout: finTimeout, stack, bundle, multipath, check_pkt_larger: checkPktLarger, legacy_set: legacySet,
  encap, decap, dec_nsh_ttl: decNshTtl, reg_load2: regLoad2, delete_field: deleteField, raw,
};

/** A record with its kind forgotten, for the dispatch tables (each record only sees its own kind). */
type AnyRecord = ActionRecord<Action>;
const RECORDS = Object.values(ACTIONS) as readonly AnyRecord[];

// ---------------------------------------------------------------------------------------------
// Wire

export function encodeActions(w: Writer, actions: readonly Action[]): void {
  for (const a of actions) (ACTIONS[a.type] as AnyRecord).encode(w, a);
}

type Decoder = AnyRecord['decode'];

/**
 * Decoders by OpenFlow 1.3 action type and by Nicira subtype, from the records' wire ids. Dense
 * arrays (no holes): this lookup runs for every action of every dumped flow.
 */
const BY_OF_TYPE: (Decoder | undefined)[] = new Array<Decoder | undefined>(256).fill(undefined);
const BY_NX_SUBTYPE: (Decoder | undefined)[] = new Array<Decoder | undefined>(256).fill(undefined);
const BY_ONF_TYPE = new Map<number, Decoder>();
for (const rec of RECORDS) {
  for (const id of rec.wire) {
    if ('onf' in id) {
      if (BY_ONF_TYPE.has(id.onf)) throw new Error(`action records: ONF type ${id.onf} claimed twice`);
      BY_ONF_TYPE.set(id.onf, rec.decode);
      continue;
    }
    const [table, n, what] = 'of' in id ? [BY_OF_TYPE, id.of, 'OpenFlow action type'] : [BY_NX_SUBTYPE, id.nx, 'Nicira subtype'];
    if (n < 0 || n > 255 || table[n]) throw new Error(`action records: ${what} ${n} is out of range or claimed twice`);
    table[n] = rec.decode;
  }
}

/**
 * Decodes one action list (the whole of r). Unknown experimenter actions are kept raw. inCt: the
 * list nested in a ct action; what OVS refuses to nest (or to find outside ct) is refused.
 */
export function decodeActions(r: Reader, inCt = false, apply?: ApplyExtras): Action[] {
  const out: Action[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) r.fail(`action length ${len} is not a positive multiple of 8`, at);
    if (len - 4 > r.remaining) r.fail(`action length ${len} runs past the action list`, at);
    const body = r.sub(len - 4);
    // After a write_metadata (an instruction, which follows apply_actions) nothing may come.
    if (apply?.writeMetadata) r.fail('invalid instruction ordering: apply_actions must appear before write_metadata (OFPBAC_UNSUPPORTED_ORDER)', at);
    let a: Action;
    if (type === OFPAT_EXPERIMENTER) {
      const wm = apply && body.remaining >= 6 && body.buf.readUInt32BE(body.pos) === NX_VENDOR
        && body.buf.readUInt16BE(body.pos + 4) === NXAST_WRITE_METADATA;
      if (wm) {
        apply.writeMetadata = decodeNxWriteMetadata(body, at);
        continue;
      }
      a = decodeExperimenter(body, len, at);
    } else {
      const decode = type < 256 ? BY_OF_TYPE[type] : undefined;
      if (!decode) r.fail(`unknown OpenFlow 1.3 action type ${type}`, at);
      a = decode!(body, type, len, at);
    }
    const wrong = nestingError(a, inCt);
    if (wrong) r.fail(wrong, at);
    out.push(a);
  }
  return out;
}

/**
 * The Nicira subtypes OVS 3.1 reads in OpenFlow 1.3. Any other it refuses (OFPBAC_BAD_VENDOR_TYPE:
 * obsolete ones, and the OpenFlow 1.0-only MPLS and dec_ttl forms), and so is it refused here; one
 * it reads that no record models yet is kept raw.
 */
const OVS_NX_SUBTYPES = new Set([
  1, 2, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 27, 28, 29, 32, 33, 34, 35, 36, 37, 38, 39, 41, 42, 43, 44,
  45, 46, 47, 48, 49, 50,
]);

const NXAST_WRITE_METADATA = 22;

/** What an apply_actions list may hold besides actions: OVS reads an NX write_metadata there as the instruction. */
export interface ApplyExtras {
  writeMetadata?: { readonly value: bigint; readonly mask: bigint };
}

/** NXAST_WRITE_METADATA's body after its vendor: subtype, 6 zero bytes, metadata, mask. */
function decodeNxWriteMetadata(r: Reader, at: number): { value: bigint; mask: bigint } {
  if (r.remaining !== 28) r.fail(`NXAST_WRITE_METADATA of ${r.remaining + 4} bytes`, at);
  r.skip(6);
  if (r.bytes(6).some((b) => b !== 0)) r.fail('NXAST_WRITE_METADATA padding is not zero (NXBRC_MUST_BE_ZERO)', at);
  return { value: r.u64(), mask: r.u64() };
}

function decodeExperimenter(r: Reader, len: number, at: number): Action {
  const vendor = r.u32();
  if (vendor === ONF_VENDOR && len >= 16) {
    const decode = BY_ONF_TYPE.get(r.buf.readUInt16BE(r.pos));
    if (decode) return decode(r, r.u16(), len, at);
  }
  if (vendor !== NX_VENDOR || len < 16) return rawAction(r, at, len);
  const subtype = r.u16();
  if (!OVS_NX_SUBTYPES.has(subtype)) r.fail(`unknown Nicira action subtype ${subtype} (OFPBAC_BAD_VENDOR_TYPE)`, at);
  // OVS reads it as the write_metadata instruction, which an action list cannot hold.
  if (subtype === NXAST_WRITE_METADATA) r.fail('NXAST_WRITE_METADATA is not supported in an action list (OFPBIC_UNSUP_INST)', at);
  const decode = subtype < 256 ? BY_NX_SUBTYPE[subtype] : undefined;
  return decode ? decode(r, subtype, len, at) : rawAction(r, at, len);
}

// ---------------------------------------------------------------------------------------------
// Text

export function formatAction(a: Action): string {
  return (ACTIONS[a.type] as AnyRecord).print(a);
}

/** Keyword parsers from the records (keywords are matched in lower case, as OVS does). */
const BY_KEYWORD: ReadonlyMap<string, KeywordParser> = (() => {
  const m = new Map<string, KeywordParser>();
  for (const rec of RECORDS) {
    for (const [k, p] of Object.entries(rec.parse)) {
      if (m.has(k)) throw new Error(`action records: keyword ${k} claimed twice`);
      m.set(k, p);
    }
  }
  return m;
})();

/** Parses one `key[:=(]value` of an action list into out. */
export function parseAction(kv: KeyValue, ctx: ParseContext, out: Action[]): void {
  const parse = BY_KEYWORD.get(kv.key.toLowerCase());
  const n = out.length;
  if (parse) {
    parse(kv, ctx, out);
  } else {
    const port = barePortOutput(kv);
    if (!port) fail(`unknown action ${kv.key}`, kv.keyAt);
    out.push(port!);
  }
  for (let i = n; i < out.length; i++) {
    const wrong = nestingError(out[i]!, ctx.inCt);
    if (wrong) fail(wrong, kv.keyAt);
  }
}

/** ofpact_name() where it differs from the kind. */
const OVS_NAME: Partial<Record<ActionType, string>> = { reg_move: 'move', reg_load: 'set_field', reg_load2: 'set_field', set_nw_ttl: 'mod_nw_ttl' };

/**
 * OVS's ofpacts_verify_nested(), as its words (undefined: fine): the conntrack fields are written
 * only inside ct(exec(...)), which allows nothing else (but a nat); a nat is only ever inside ct.
 */
function nestingError(a: Action, inCt: boolean): string | undefined {
  const dst = a.type === 'set_field' || a.type === 'reg_load2' ? a.field : a.type === 'reg_load' || a.type === 'reg_move' ? a.dst.field : undefined;
  const ctField = dst !== undefined && (dst.slot === 'ct_mark' || dst.slot === 'ct_label');
  if (!inCt) {
    if (ctField) return 'cannot set CT fields outside of ct action';
    return a.type === 'nat' ? 'Cannot have NAT action outside of "ct" action' : undefined;
  }
  if (a.type === 'nat') return undefined;
  if (!dst) return `ct action doesn't support nested action ${OVS_NAME[a.type] ?? a.type}`;
  return ctField ? undefined : `ct action doesn't support nested modification of ${dst.name}`;
}
