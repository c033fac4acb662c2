// Parses ovs-ofctl flow syntax (`add-flow`, `del-flows`, `dump-flows` arguments) into a FlowMod.
import { allOnes, ETH_TYPE_IPV6, FieldDef, fieldByName, impliesEthernet, PROTOCOL_KEYWORDS, ProtocolKeyword } from '../openflow/fields.js';
import { OFP_DEFAULT_PRIORITY, FLOW_MOD_FLAG_NAMES } from '../openflow/flow.js';
import { Instructions, NO_INSTRUCTIONS } from '../openflow/instructions.js';
import { Match, normalizeMatch, setField, setSlot, settleEthernet } from '../openflow/match.js';
import {
  FlowModCommand, FlowModMessage, OFP_NO_BUFFER, OFPFC_ADD, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPG_ANY,
} from '../openflow/messages.js';
import { OFPP_NONE } from '../openflow/ports.js';
import { P_ANY, P_NXM_OF11_UP, P_NXM_OXM_ANY, P_OF11_UP, P_TID, Usable } from '../openflow/protocols.js';
import { formatMatch } from './format-match.js';
import { splitKeyValues } from './lexer.js';
import { FlowSyntaxError, parseActions } from './parse-actions.js';
import { parseFieldBits } from './subfield.js';
import { parseFieldValue, parseGroupId, parsePortNumber, parseU64, parseUint, ValueError } from './values.js';

export { FlowSyntaxError };

export interface ParseOptions {
  /** add/modify need actions; 'match' (dump-flows, del-flows) takes none. */
  readonly mode?: 'add' | 'modify' | 'match';
  /** The flow-mod command (with mode 'match': none for a dump's filter, DELETE or DELETE_STRICT). */
  readonly command?: FlowModCommand;
  /**
   * Called when the match names a field its protocol does not allow (tp_dst=80 without tcp): the
   * field is dropped, as OVS drops it, and ovs-ofctl warns for the flow-mods it sends. `pre` and
   * `post` are the match before and after, as ovs-ofctl prints them.
   */
  readonly onNormalize?: (pre: string, post: string) => void;
  /**
   * Narrowed to the protocols that can carry the flow, as OVS's parse_ofp_str__() narrows its
   * usable_protocols (what `ovs-ofctl parse-flow` prints); left as far as it got when parsing fails.
   */
  readonly usable?: Usable;
  /** Action lists already read in this file (see ActionsMemo). */
  readonly memo?: ActionsMemo;
}

/**
 * The action lists already read in one flow file: the same actions after the same match fields
 * (keys and values as written) read to the same instructions, which then are not read again. The
 * actions depend on the flow only through its match (prerequisites, a VLAN, the packet type), and
 * the match only on those words: cookie, priority and table are not part of the key. Generated
 * files repeat an action list per match shape (the codec corpus: 384 lists in 100k flows); where
 * the first flows repeat nothing (the l2pop bridges), the memo stops early and costs nothing more.
 * The instructions are shared between flows, as the records never change a parsed action.
 */
export class ActionsMemo {
  private readonly lists = new Map<string, { readonly instructions: Instructions; readonly protocols: number }>();
  private hits = 0;
  /** Still looking: off once the first COLD_AFTER lists held fewer repeats than new lists. */
  on = true;

  get(key: string): { readonly instructions: Instructions; readonly protocols: number } | undefined {
    const r = this.lists.get(key);
    if (r) this.hits++;
    return r;
  }

  set(key: string, instructions: Instructions, protocols: number): void {
    this.lists.set(key, { instructions, protocols });
    if (this.lists.size === MEMO_COLD_AFTER && this.hits < MEMO_COLD_AFTER) {
      this.on = false;
      this.lists.clear();
    }
  }
}
const MEMO_COLD_AFTER = 1024;

// Which keywords besides the match fields a command takes: ovs-ofctl's parse_ofp_str__() refuses
// the others as unknown keywords (priority in a non-strict delete or a dump, out_port in an add).
const F_OUT_PORT = 1, F_ACTIONS = 2, F_TIMEOUT = 4, F_PRIORITY = 8, F_FLAGS = 16, F_IMPORTANCE = 32;

function keywordsOf(mode: NonNullable<ParseOptions['mode']>, command: FlowModCommand | undefined): number {
  if (mode === 'add') return F_ACTIONS | F_TIMEOUT | F_PRIORITY | F_FLAGS | F_IMPORTANCE;
  if (mode === 'modify') return F_ACTIONS | F_TIMEOUT | F_PRIORITY | F_FLAGS;
  return command === OFPFC_DELETE_STRICT ? F_OUT_PORT | F_PRIORITY : F_OUT_PORT;
}

/** Protocol keywords: dl_type and, optionally, nw_proto. */
const PROTOCOLS: ReadonlyMap<string, ProtocolKeyword> = new Map(PROTOCOL_KEYWORDS.map((k) => [k.name, k]));

const FLAG_BY_NAME: ReadonlyMap<string, readonly [number, string, number]> = new Map(FLOW_MOD_FLAG_NAMES.map((f) => [f[1], f]));

/**
 * OVS's mf_set() result: the protocols that can carry a match on `f` with this mask (undefined:
 * exact). The mask is judged over the field's bytes, as OVS does (vlan_vid=1/0xfff is masked).
 */
function usableOfMask(f: FieldDef, mask: bigint | undefined): number {
  const bytes = f.bits <= 8 ? 1 : f.bits <= 16 ? 2 : f.bits <= 32 ? 4 : f.bits <= 48 ? 6 : f.bits <= 64 ? 8 : f.bits <= 128 ? 16 : f.bits / 8;
  if (mask === undefined || mask === allOnes(bytes * 8)) return f.usable.exact;
  // A zero mask matches nothing of the field (but a tunnel option's presence).
  if (mask === 0n && !f.variableLen) return P_ANY;
  if (f.usable.cidr === f.usable.bitwise) return f.usable.cidr;
  // ip_is_cidr() of the mask's first 32 bits: ones, then zeros.
  const m32 = bytes >= 4 ? mask >> BigInt(bytes * 8 - 32) : mask;
  const inv = ~m32 & 0xffffffffn;
  return (inv & (inv + 1n)) === 0n ? f.usable.cidr : f.usable.bitwise;
}

/** Keys that dump-flows prints and ovs-ofctl ignores on input, so a dump can be fed back. */
const IGNORED = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);

function num(text: string, at: number, max: number, what: string): number {
  // Up to 5 decimal digits (the usual priority or timeout): read without a BigInt.
  if (text.length > 0 && text.length <= 5) {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) {
        n = -1;
        break;
      }
      n = n * 10 + d;
    }
    if (n >= 0) {
      if (n > max) throw new FlowSyntaxError(`invalid ${what} "${text}"`, at);
      return n;
    }
  }
  let v: bigint;
  try {
    v = parseUint(text);
  } catch {
    throw new FlowSyntaxError(`invalid ${what} "${text}"`, at);
  }
  if (v > BigInt(max)) throw new FlowSyntaxError(`invalid ${what} "${text}"`, at);
  return Number(v);
}

/** The last cookie text read and its value: a generated file gives most of its flows one cookie. */
let lastCookie = { text: '', value: 0n };

/** Parses one flow. Throws FlowSyntaxError (with a column) on anything ovs-ofctl would refuse. */
export function parseFlow(text: string, opts: ParseOptions = {}): FlowModMessage {
  const mode = opts.mode ?? 'add';
  const command = opts.command ?? (mode === 'add' ? OFPFC_ADD : undefined);
  const keywords = keywordsOf(mode, command);
  let matchText = text;
  let actionsText: string | undefined;
  let actionsAt = 0;
  if (keywords & F_ACTIONS) {
    const a = text.indexOf('action');
    if (a >= 0) {
      const eq = text.indexOf('=', a + 1);
      matchText = text.slice(0, a);
      if (eq >= 0) {
        actionsText = text.slice(eq + 1);
        actionsAt = eq + 1;
      }
    }
    if (actionsText === undefined) throw new FlowSyntaxError('must specify an action', text.length);
  }

  const usable = opts.usable;
  let match: Match = new Map();
  // No table (or 255, "all") is every table for a dump or a delete; an add or a modify goes to table
  // 0: ovs-ofctl's ofputil_encode_flow_mod() sends a modify to all tables as table 0 in OpenFlow 1.1+,
  // where the switch refuses 255 (OFPFMFC_BAD_TABLE_ID).
  let table = mode === 'match' ? 0xff : 0;
  let priority = OFP_DEFAULT_PRIORITY;
  let cookie = 0n;
  let cookieMask = 0n;
  let idleTimeout = 0;
  let hardTimeout = 0;
  let importance = 0;
  let flags = 0;
  let outPort = OFPP_NONE;
  let outGroup = OFPG_ANY;
  /** A protocol keyword or a field that needs Ethernet was named (OVS then sets packet_type=Ethernet). */
  let ethernet = false;
  // The words that made the match, in order (the memo's key with the actions), while the memo looks.
  const memo = opts.memo?.on && actionsText !== undefined ? opts.memo : undefined;
  let matchWords = '';
  // The order of the tests is ovs-ofctl's: it decides which error a wrong word gets.
  for (const kv of splitKeyValues(matchText)) {
    const { key, value, keyAt, valueAt } = kv;
    const proto = PROTOCOLS.get(key);
    if (proto) {
      ethernet = true;
      setSlot(match, 'dl_type', proto.dlType, 0xffffn);
      if (proto.nwProto !== undefined) setSlot(match, 'nw_proto', proto.nwProto, 0xffn);
      if (memo) matchWords += `${key},`;
      continue;
    }
    const flag = keywords & F_FLAGS ? FLAG_BY_NAME.get(key) : undefined;
    if (flag !== undefined) {
      flags |= flag[0];
      if (usable) usable.protocols &= flag[2];
      continue;
    }
    if (key === 'no_readonly_table' || key === 'allow_hidden_fields') continue;
    const field = fieldByName(key);
    if (field?.matchKeyword) {
      let parsed: { value: bigint; mask?: bigint };
      try {
        // A field named without a value is ovs-ofctl's "0/0": it matches nothing of it.
        parsed = parseFieldValue(field, kv.delim === '' ? '0/0' : value);
      } catch (err) {
        if (err instanceof ValueError) throw new FlowSyntaxError(err.message, kv.delim === '' ? keyAt : valueAt);
        throw err;
      }
      // A variable-length field named with a zero mask stays (OVS matches the option's presence).
      if (parsed.mask !== 0n || field.variableLen) setField(match, field, parsed.value, parsed.mask);
      if (usable) usable.protocols &= usableOfMask(field, parsed.mask);
      if (impliesEthernet(field.slot)) ethernet = true;
      if (memo) matchWords += `${key}${kv.delim}${value},`;
      continue;
    }
    if (value === '') throw new FlowSyntaxError(`field ${key} missing value`, keyAt);
    if (key === 'table') {
      // A decimal 0..255 (ovs-ofctl has no "all": 255 is all tables; for an add or a modify, table 0).
      if (!/^\d+$/.test(value) || Number(value) > 255) throw new FlowSyntaxError(`unknown table "${value}"`, valueAt);
      table = Number(value) === 0xff && mode !== 'match' ? 0 : Number(value);
      if (usable && Number(value) !== 0xff) usable.protocols &= P_TID;
    } else if (keywords & F_OUT_PORT && key === 'out_port') {
      const p = parsePortNumber(value);
      if (p === undefined) throw new FlowSyntaxError(`${value} is not a valid OpenFlow port`, valueAt);
      outPort = p;
    } else if (keywords & F_OUT_PORT && key === 'out_group') {
      if (usable) usable.protocols &= P_OF11_UP;
      const g = parseGroupId(value);
      if (g === undefined) throw new FlowSyntaxError(`${value} is not a valid OpenFlow group`, valueAt);
      outGroup = g;
    } else if (keywords & F_PRIORITY && key === 'priority') {
      priority = num(value, valueAt, 0xffff, 'priority');
    } else if (keywords & F_TIMEOUT && key === 'idle_timeout') {
      idleTimeout = num(value, valueAt, 0xffff, 'idle_timeout');
    } else if (keywords & F_TIMEOUT && key === 'hard_timeout') {
      hardTimeout = num(value, valueAt, 0xffff, 'hard_timeout');
    } else if (keywords & F_IMPORTANCE && key === 'importance') {
      importance = num(value, valueAt, 0xffff, 'importance');
    } else if (key === 'cookie') {
      const slash = value.indexOf('/');
      const parse = (t: string, at: number): bigint => {
        try {
          return parseU64(t);
        } catch (err) {
          if (err instanceof ValueError) throw new FlowSyntaxError(err.message, at);
          throw err;
        }
      };
      if (slash >= 0) {
        // A mask selects flows by cookie: not for an add.
        if (command === OFPFC_ADD) throw new FlowSyntaxError('flow additions cannot use a cookie mask', keyAt);
        cookie = parse(value.slice(0, slash), valueAt);
        cookieMask = parse(value.slice(slash + 1), valueAt + slash + 1);
        // Matching on a cookie: NXM or OpenFlow 1.1+.
        if (usable && cookieMask !== 0n) usable.protocols &= P_NXM_OF11_UP;
      } else {
        // No mask sets the cookie: only an add or a modify does that.
        if (command !== OFPFC_ADD && command !== OFPFC_MODIFY && command !== OFPFC_MODIFY_STRICT) {
          throw new FlowSyntaxError(`cannot set cookie (to match on a cookie, specify a mask, e.g. cookie=${value}/-1)`, keyAt);
        }
        if (value !== lastCookie.text) lastCookie = { text: value, value: parse(value, valueAt) };
        cookie = lastCookie.value;
      }
    } else if (key.includes('[')) {
      // FIELD[bits]=VALUE (ovs-ofctl's parse_subfield()): those bits of the field, exactly.
      const sf = parseFieldBits(key, keyAt);
      let v: bigint;
      try {
        v = parseUint(value);
      } catch {
        throw new FlowSyntaxError(`${key}: cannot parse integer value: ${value}`, valueAt);
      }
      if (v >> BigInt(sf.nBits) !== 0n) throw new FlowSyntaxError(`${key}: value ${value} does not fit into ${sf.nBits} bits`, valueAt);
      setField(match, sf.field, v << BigInt(sf.ofs), allOnes(sf.nBits) << BigInt(sf.ofs));
      // OVS judges the field's whole mask after the bits are added (a field that owns its slot: the slot's).
      if (usable) usable.protocols &= usableOfMask(sf.field, sf.field.wholeSlot ? match.get(sf.field.slot)?.mask : allOnes(sf.nBits) << BigInt(sf.ofs));
      if (impliesEthernet(sf.field.slot)) ethernet = true;
      if (memo) matchWords += `${key}=${value},`;
    } else if (!IGNORED.has(key)) {
      throw new FlowSyntaxError(`unknown keyword ${key}`, keyAt);
    }
  }
  if (usable) usable.protocols &= ipv6Usable(match);
  let instructions = NO_INSTRUCTIONS;
  if (actionsText !== undefined) {
    // The actions narrow a set of their own (a clone starts it over), which then narrows the flow's.
    const key = memo ? `${matchWords}\n${actionsText}` : '';
    const known = memo?.get(key);
    if (known) {
      instructions = known.instructions;
      if (usable) usable.protocols &= known.protocols;
    } else {
      // Narrowed in a set of their own even unasked, for the memo.
      const actionUsable = usable || memo ? { protocols: P_ANY } : undefined;
      try {
        instructions = parseActions(actionsText, actionsAt, match, false, undefined, actionUsable);
      } finally {
        if (usable) usable.protocols &= actionUsable!.protocols;
      }
      memo?.set(key, instructions, actionUsable!.protocols);
    }
  }
  const normalized = normalizeMatch(match);
  if (normalized !== match) {
    opts.onNormalize?.(formatMatch(match, OFP_DEFAULT_PRIORITY), formatMatch(normalized, OFP_DEFAULT_PRIORITY));
    match = normalized;
  }
  if (ethernet || match.has('packet_type')) settleEthernet(match, ethernet);
  return {
    type: 'flow_mod',
    command: command ?? OFPFC_ADD,
    table, priority, cookie, cookieMask, idleTimeout, hardTimeout, flags, importance,
    bufferId: OFP_NO_BUFFER, outPort, outGroup, match, instructions,
  };
}

/**
 * parse_ofp_str__()'s check across fields: only NXM and OXM match L3/L4 fields within IPv6 (the
 * Ethernet type read from a packet_type in the Ethernet-type namespace too).
 */
function ipv6Usable(match: Match): number {
  const pt = match.get('packet_type');
  const dlType = pt && pt.value >> 16n === 1n ? pt.value & 0xffffn : match.get('dl_type')?.value;
  if (dlType !== ETH_TYPE_IPV6) return P_ANY;
  const l34 = (['nw_proto', 'nw_tos', 'tp_src', 'tp_dst'] as const).some((s) => (match.get(s)?.mask ?? 0n) !== 0n);
  return l34 ? P_NXM_OXM_ANY : P_ANY;
}
