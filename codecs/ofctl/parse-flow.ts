// Parses ovs-ofctl flow syntax (`add-flow`, `del-flows`, `dump-flows` arguments) into a FlowMod.
import { allOnes, fieldByName } from '../openflow/fields.js';
import { OFP_DEFAULT_PRIORITY, FLOW_MOD_FLAG_NAMES } from '../openflow/flow.js';
import { Instructions, NO_INSTRUCTIONS } from '../openflow/instructions.js';
import { Match, setField, setSlot, slotValue } from '../openflow/match.js';
import { FlowModCommand, FlowModMessage, OFP_NO_BUFFER, OFPFC_ADD, OFPG_ANY } from '../openflow/messages.js';
import { OFPP_NONE, portByName } from '../openflow/ports.js';
import { splitKeyValues } from './lexer.js';
import { FlowSyntaxError, matchHasVlan, parseActions } from './parse-actions.js';
import { parseFieldValue, parseUint, ValueError } from './values.js';

export { FlowSyntaxError };

export interface ParseOptions {
  /** add/modify need actions; 'match' (dump-flows, del-flows) takes none and allows a cookie mask. */
  readonly mode?: 'add' | 'modify' | 'match';
  readonly command?: FlowModCommand;
}

/** Protocol shorthands: dl_type and, optionally, nw_proto. */
const PROTOCOLS: ReadonlyMap<string, readonly [bigint, bigint?]> = new Map([
  ['ip', [0x0800n]], ['ipv4', [0x0800n]], ['ip4', [0x0800n]], ['ipv6', [0x86ddn]], ['ip6', [0x86ddn]],
  ['icmp', [0x0800n, 1n]], ['tcp', [0x0800n, 6n]], ['udp', [0x0800n, 17n]], ['sctp', [0x0800n, 132n]],
  ['icmp6', [0x86ddn, 58n]], ['tcp6', [0x86ddn, 6n]], ['udp6', [0x86ddn, 17n]], ['sctp6', [0x86ddn, 132n]],
  ['arp', [0x0806n]], ['rarp', [0x8035n]], ['mpls', [0x8847n]], ['mplsm', [0x8848n]],
]);

const FLAG_BY_NAME: ReadonlyMap<string, number> = new Map(FLOW_MOD_FLAG_NAMES.map(([bit, name]) => [name, bit]));

/** Keys that dump-flows prints and ovs-ofctl ignores on input, so a dump can be fed back. */
const IGNORED = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);

function num(text: string, at: number, max: number, what: string): number {
  let v: bigint;
  try {
    v = parseUint(text);
  } catch {
    throw new FlowSyntaxError(`invalid ${what} "${text}"`, at);
  }
  if (v > BigInt(max)) throw new FlowSyntaxError(`invalid ${what} "${text}"`, at);
  return Number(v);
}

// A flow file repeats a few action lists over and over (output:patch-int, resubmit(,22)…).
// What parseActions makes of one depends on its text and on three things of the match only: a
// VLAN present, the exact dl_type and the exact nw_proto (its prerequisite checks). Successes are
// kept (errors carry the column, so they are parsed again); the Instructions are never mutated.
const ACTIONS_MEMO_MAX = 4096;
const actionsMemo = new Map<string, Instructions>();

function memoParseActions(text: string, at: number, match: Match): Instructions {
  const key = `${matchHasVlan(match) ? 'v' : '-'}${slotValue(match, 'dl_type') ?? ''}/${slotValue(match, 'nw_proto') ?? ''}|${text}`;
  let ins = actionsMemo.get(key);
  if (ins === undefined) {
    ins = parseActions(text, at, match);
    if (actionsMemo.size >= ACTIONS_MEMO_MAX) actionsMemo.clear();
    actionsMemo.set(key, ins);
  }
  return ins;
}

/** Parses one flow. Throws FlowSyntaxError (with a column) on anything ovs-ofctl would refuse. */
export function parseFlow(text: string, opts: ParseOptions = {}): FlowModMessage {
  const mode = opts.mode ?? 'add';
  let matchText = text;
  let actionsText: string | undefined;
  let actionsAt = 0;
  const a = text.indexOf('action');
  if (a >= 0) {
    const eq = text.indexOf('=', a + 1);
    matchText = text.slice(0, a);
    if (eq >= 0) {
      actionsText = text.slice(eq + 1);
      actionsAt = eq + 1;
    }
  }
  if (mode !== 'match' && actionsText === undefined) throw new FlowSyntaxError('must specify an action', text.length);
  if (mode === 'match' && a >= 0) throw new FlowSyntaxError('actions are not allowed here', a);

  const match: Match = new Map();
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
  for (const kv of splitKeyValues(matchText)) {
    const { key, value, keyAt, valueAt } = kv;
    const proto = PROTOCOLS.get(key);
    if (proto && kv.delim === '') {
      setSlot(match, 'dl_type', proto[0], 0xffffn);
      if (proto[1] !== undefined) setSlot(match, 'nw_proto', proto[1], 0xffn);
      continue;
    }
    if (IGNORED.has(key)) continue;
    const flag = FLAG_BY_NAME.get(key);
    if (flag !== undefined && kv.delim === '') {
      flags |= flag;
      continue;
    }
    switch (key) {
      case 'table':
        if (!/^\d+$/.test(value) || Number(value) > 254) throw new FlowSyntaxError(`unknown table "${value}"`, valueAt);
        table = Number(value);
        continue;
      case 'priority':
        priority = num(value, valueAt, 0xffff, 'priority');
        continue;
      case 'idle_timeout':
        idleTimeout = num(value, valueAt, 0xffff, 'idle_timeout');
        continue;
      case 'hard_timeout':
        hardTimeout = num(value, valueAt, 0xffff, 'hard_timeout');
        continue;
      case 'importance':
        importance = num(value, valueAt, 0xffff, 'importance');
        continue;
      case 'cookie': {
        const [c, m] = value.split('/');
        try {
          cookie = parseUint(c!);
          if (m !== undefined) cookieMask = parseUint(m);
        } catch {
          throw new FlowSyntaxError(`invalid cookie "${value}"`, valueAt);
        }
        if (m !== undefined && mode !== 'match') throw new FlowSyntaxError('flow additions cannot use a cookie mask', keyAt);
        if (m === undefined && mode === 'match') cookieMask = allOnes(64);
        continue;
      }
      case 'out_port': {
        const p = portByName(value) ?? (/^\d+$/.test(value) ? Number(value) : undefined);
        if (p === undefined || p > 0xffff) throw new FlowSyntaxError(`${value}: invalid or unknown port for out_port`, valueAt);
        outPort = p;
        continue;
      }
      case 'out_group':
        outGroup = num(value, valueAt, 0xffffffff, 'out_group');
        continue;
      default:
        break;
    }
    const field = fieldByName(key);
    if (!field || field.name === 'tcp_flags' || field.name === 'in_port_oxm') {
      throw new FlowSyntaxError(`unknown keyword ${key}`, keyAt);
    }
    if (kv.delim === '') throw new FlowSyntaxError(`field ${key} missing value`, keyAt);
    let parsed: { value: bigint; mask?: bigint };
    try {
      parsed = parseFieldValue(field, value);
    } catch (err) {
      if (err instanceof ValueError) throw new FlowSyntaxError(err.message, valueAt);
      throw err;
    }
    setField(match, field, parsed.value, parsed.mask);
  }
  const instructions = actionsText === undefined ? NO_INSTRUCTIONS : memoParseActions(actionsText, actionsAt, match);
  return {
    type: 'flow_mod',
    command: opts.command ?? OFPFC_ADD,
    table, priority, cookie, cookieMask, idleTimeout, hardTimeout, flags, importance,
    bufferId: OFP_NO_BUFFER, outPort, outGroup, match, instructions,
  };
}
