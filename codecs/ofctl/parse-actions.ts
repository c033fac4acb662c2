// Parses the text after `actions=` into OpenFlow 1.3 instructions. Each action's keywords are
// read by its record (codecs/actions/), which applies the conversions ovs-ofctl 3.1 makes for
// OpenFlow 1.3 (mod_vlan_vid -> push_vlan + set_field, set_tunnel -> set_field tun_id, strip_vlan ->
// pop_vlan, masked set_field -> load, …); this file reads the instructions around them.
import { Action, parseAction, ParseContext } from '../actions/index.js';
import { matchHasVlan } from '../actions/record.js';
import { allOnes } from '../openflow/fields.js';
import type { Instructions } from '../openflow/instructions.js';
import type { Match } from '../openflow/match.js';
import { P_NXM_OF11_UP, P_OF13_UP, Usable } from '../openflow/protocols.js';
import { splitKeyValues } from './lexer.js';
import { fail, inColumn, intArg } from './syntax.js';
import { parseUint } from './values.js';

export { FlowSyntaxError } from './syntax.js';


// ---------------------------------------------------------------------------------------------
// Instructions

const INSTRUCTION_ORDER = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];

/** Checks that instruction `name` may follow the one at index `last` of INSTRUCTION_ORDER; returns its index. */
function order(name: string, keyAt: number, last: number): number {
  const i = INSTRUCTION_ORDER.indexOf(name);
  if (i < last) {
    fail(`invalid instruction ordering: ${name} must appear before ${INSTRUCTION_ORDER[last]}, for OpenFlow 1.1+ compatibility`, keyAt);
  }
  if (i === last && name !== 'apply_actions') fail(`duplicate ${name} instruction`, keyAt);
  return i;
}

/** usable: narrowed as OVS's ofpacts_parse_instructions() narrows its usable_protocols; `unchecked`: a
 * group bucket's actions, which OVS reads without checking them against any packet. */
export function parseActions(
  text: string, offset: number, match: Match, inWriteActions = false, vlan = matchHasVlan(match), usable?: Usable, unchecked = false,
): Instructions {
  const ctx: ParseContext = { match, vlan, inWriteActions, inCt: false, usable, unchecked };
  const apply: Action[] = [];
  let meter: number | undefined, clear = false, write: Action[] | undefined, gotoTable: number | undefined;
  let writeMetadata: { value: bigint; mask: bigint } | undefined;
  let last = -1;
  let sawDrop = -1;
  const kvs = splitKeyValues(text, offset);
  for (const kv of kvs) {
    const k = kv.key.toLowerCase();
    // Refused before any recursion, as ovs-ofctl does: write_actions nested deep cost O(n²) and the stack.
    if (inWriteActions && k === 'meter') fail(`write_actions action doesn't support nested action meter`, kv.keyAt);
    if (inWriteActions && k !== 'apply_actions' && INSTRUCTION_ORDER.includes(k)) fail(`${k} instruction not allowed here`, kv.keyAt);
    switch (k) {
      case 'drop':
        sawDrop = kv.keyAt;
        continue;
      case 'meter':
        last = order('meter', kv.keyAt, last);
        meter = intArg(kv.value, kv.valueAt, 0xffffffff, 'meter');
        if (usable) usable.protocols &= P_OF13_UP;
        continue;
      case 'clear_actions':
        last = order('clear_actions', kv.keyAt, last);
        clear = true;
        continue;
      case 'write_actions': {
        last = order('write_actions', kv.keyAt, last);
        // Checked against the packet the apply actions leave (pop_mpls, push_vlan), as OVS does.
        write = parseActions(kv.value, kv.valueAt, ctx.match, true, ctx.vlan, usable, unchecked).apply as Action[];
        continue;
      }
      case 'write_metadata': {
        last = order('write_metadata', kv.keyAt, last);
        if (usable) usable.protocols &= P_NXM_OF11_UP;
        const [v, m] = kv.value.split('/');
        writeMetadata = {
          value: inColumn(kv.valueAt, () => parseUint(v!)),
          mask: m === undefined ? allOnes(64) : inColumn(kv.valueAt, () => parseUint(m)),
        };
        continue;
      }
      case 'goto_table': {
        last = order('goto_table', kv.keyAt, last);
        const t = Number(kv.value);
        if (!/^\d+$/.test(kv.value) || t > 254) fail(`unknown table "${kv.value}"`, kv.valueAt);
        gotoTable = t;
        continue;
      }
      case 'apply_actions':
        fail('apply_actions is the default instruction', kv.keyAt);
        continue;
      default:
        last = order('apply_actions', kv.keyAt, last);
        parseAction(kv, ctx, apply);
    }
  }
  const hasAny = apply.length > 0 || meter !== undefined || clear || write !== undefined || writeMetadata || gotoTable !== undefined;
  if (sawDrop >= 0 && hasAny) fail('"drop" must not be accompanied by any other action or instruction', sawDrop);
  const conj = apply.findIndex((a) => a.type === 'conjunction');
  if (conj >= 0) {
    const other = apply.find((a) => a.type !== 'conjunction' && a.type !== 'note');
    if (other) {
      fail(`"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.type}" action used here)`, offset);
    }
  }
  // Built member by member (in this order), not by spreads: one object per flow, not one per member.
  const ins: { -readonly [K in keyof Instructions]: Instructions[K] } = { apply };
  if (meter !== undefined) ins.meter = meter;
  if (clear) ins.clear = clear;
  if (write && write.length) ins.write = write;
  if (writeMetadata) ins.writeMetadata = writeMetadata;
  if (gotoTable !== undefined) ins.gotoTable = gotoTable;
  return ins;
}
