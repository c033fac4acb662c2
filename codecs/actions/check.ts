// OVS's check of a decoded FLOW_MOD's actions against its match (ofputil_decode_flow_mod() ->
// ofpacts_check_consistency(), and ofpacts_verify()'s conjunction rule): what the text parser checks
// keyword by keyword (each record's parse), checked here on decoded actions with the same tests, so
// a FLOW_MOD OVS refuses is refused with OVS's error (ofp-print's `***decode error: NAME***`).
import { refuse } from '../openflow/errors.js';
import type { Instructions } from '../openflow/instructions.js';
import { Match, slotValue } from '../openflow/match.js';
import { ctMatchWhy } from './ct.js';
import type { Action } from './index.js';
import { fieldPrereqWhy, isIp, isMpls, matchHasVlan, ParseContext, withDlType } from './record.js';
import { ctValid } from './resubmit.js';

const IPPROTO_TCP = 6n;
const ETH_TYPE_NSH = 0x894fn, PT_NSH = 0x1894fn;

/** The packet as the actions so far leave it (ParseContext's match and vlan). */
type State = Pick<ParseContext, 'match' | 'vlan' | 'inWriteActions'>;

/**
 * Why OVS's check_<ACTION>() refuses `a` on the packet `s` describes, else undefined; updates `s`
 * as OVS updates its flow (push/pop of VLAN and MPLS, encap/decap).
 */
function why(a: Action, s: State): string | undefined {
  switch (a.type) {
    case 'set_field': {
      const w = fieldPrereqWhy(a.field, s, 'set_field');
      if (a.field.name === 'vlan_vid') s.vlan = true;
      if (a.field.name === 'vlan_tci') s.vlan = (a.value & 0x1000n) !== 0n;
      return w;
    }
    case 'reg_load': return fieldPrereqWhy(a.dst.field, s, 'set_field');
    case 'reg_load2': return fieldPrereqWhy(a.field, s, 'set_field');
    case 'reg_move': return fieldPrereqWhy(a.src.field, s, 'source field') ?? fieldPrereqWhy(a.dst.field, s, 'destination field');
    case 'stack': return fieldPrereqWhy(a.subfield.field, s, a.pop ? 'destination field' : 'source field');
    case 'output_reg': return fieldPrereqWhy(a.src.field, s, 'source field');
    case 'multipath': case 'check_pkt_larger': return fieldPrereqWhy(a.dst.field, s, 'destination field');
    case 'bundle': return a.dst ? fieldPrereqWhy(a.dst.field, s, 'destination field') : undefined;
    case 'dec_ttl': case 'set_nw_ttl': return isIp(s.match) ? undefined : `${a.type} needs an ip or ipv6 match`;
    case 'set_mpls_ttl': case 'dec_mpls_ttl': return isMpls(s.match) ? undefined : `${a.type} needs an mpls match`;
    case 'pop_mpls': {
      const w = isMpls(s.match) ? undefined : 'pop_mpls needs an mpls match';
      s.match = withDlType(s.match, a.ethertype);
      return w;
    }
    case 'push_mpls': {
      const pt = s.match.get('packet_type');
      s.match = withDlType(s.match, a.ethertype);
      return pt && pt.value !== 0n ? 'push_mpls needs an Ethernet packet' : undefined;
    }
    case 'push_vlan':
      s.vlan = true;
      return undefined;
    case 'pop_vlan': {
      const w = s.vlan ? undefined : 'pop_vlan needs a VLAN in the match';
      s.vlan = false;
      return w;
    }
    case 'fin_timeout':
      return isIp(s.match) && slotValue(s.match, 'nw_proto') === IPPROTO_TCP ? undefined : 'fin_timeout needs a tcp match';
    case 'ct': return ctMatchWhy(a, s.match) ?? listWhy(a.actions, { ...s });
    case 'resubmit': return a.form === 'table_ct' && !ctValid(s.match) ? 'resubmit with ct needs a ct_state that says the connection is valid' : undefined;
    case 'dec_nsh_ttl':
      return slotValue(s.match, 'packet_type') === PT_NSH || slotValue(s.match, 'dl_type') === ETH_TYPE_NSH ? undefined : 'dec_nsh_ttl needs an nsh packet';
    case 'encap':
      if (a.packetType >>> 16 === 1) s.match = withDlType(s.match, a.packetType & 0xffff);
      return undefined;
    case 'decap': {
      const pt = s.match.get('packet_type');
      if (pt && pt.value !== 0n) s.match = withDlType(s.match, 0xffff);
      return undefined;
    }
    case 'clone': return listWhy(a.actions, { ...s });
    default: return undefined;
  }
}

/**
 * The kinds whose check only narrows OVS's usable protocols (inconsistent_match()) rather than
 * failing: an inconsistency OVS reports for the action list, but ignores inside write_actions.
 */
const SOFT: ReadonlySet<Action['type']> = new Set(['pop_vlan', 'dec_ttl', 'set_nw_ttl', 'set_mpls_ttl', 'dec_mpls_ttl', 'pop_mpls', 'fin_timeout', 'dec_nsh_ttl']);

/**
 * What OVS 3.1 does not take in an action set (write_actions): action_set_classify()'s
 * ACTION_SLOT_INVALID, as `ovs-ofctl parse-flow` of each answers ("disallowed action in action set",
 * OFPBAC_BAD_TYPE). A plain `controller` is an output to CONTROLLER, which is allowed.
 */
const NOT_IN_ACTION_SET: ReadonlySet<Action['type']> = new Set([
  'bundle', 'check_pkt_larger', 'clone', 'conjunction', 'controller', 'delete_field', 'exit', 'fin_timeout', 'learn',
  'multipath', 'nat', 'note', 'output_reg', 'output_trunc', 'pop_queue', 'sample', 'stack',
]);

function listWhy(actions: readonly Action[], s: State): string | undefined {
  for (const a of actions) {
    const w = why(a, s);
    if (w && !(s.inWriteActions && SOFT.has(a.type))) return w;
  }
  return undefined;
}

/**
 * Refuses, as OVS does when it decodes a FLOW_MOD, actions its match does not allow
 * (OFPBAC_MATCH_INCONSISTENT) and a conjunction beside any action or instruction other than
 * conjunction and note (NXBAC_BAD_CONJUNCTION). `at`: the instructions' offset, for the error.
 */
export function checkFlowActions(match: Match, ins: Instructions, at: number): void {
  if (ins.apply.some((a) => a.type === 'conjunction')) {
    const other = ins.apply.find((a) => a.type !== 'conjunction' && a.type !== 'note');
    const instruction = ins.meter !== undefined || ins.clear || ins.write !== undefined || ins.writeMetadata || ins.gotoTable !== undefined;
    if (other || instruction) refuse(`conjunction beside ${other?.type ?? 'another instruction'}`, at, 'NXBAC_BAD_CONJUNCTION');
  }
  const disallowed = ins.write?.find((a) => NOT_IN_ACTION_SET.has(a.type));
  if (disallowed) refuse(`${disallowed.type} is not allowed in an action set (write_actions)`, at, 'OFPBAC_BAD_TYPE');
  const s: State = { match, vlan: matchHasVlan(match), inWriteActions: false };
  const w = listWhy(ins.apply, s) ?? (ins.write ? listWhy(ins.write, { ...s, inWriteActions: true }) : undefined);
  if (w) refuse(`actions are invalid with specified match: ${w}`, at, 'OFPBAC_MATCH_INCONSISTENT');
}
