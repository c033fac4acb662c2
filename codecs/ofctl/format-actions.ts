// The text of actions and instructions as ovs-ofctl 3.1 prints them (lib/ofp-actions.c format_*).
// One formatter per action kind; the Record type makes a missing kind a compile error.
import type { Action, ActionType, Subfield } from '../openflow/actions.js';
import { allOnes, subfieldName } from '../openflow/fields.js';
import type { Instructions } from '../openflow/instructions.js';
import type { Learn } from '../openflow/learn.js';
import { NX_LEARN_F_DELETE_LEARNED, NX_LEARN_F_SEND_FLOW_REM, NX_LEARN_F_WRITE_RESULT } from '../openflow/learn.js';
import { formatPort, OFPP_CONTROLLER, OFPP_MAX } from '../openflow/ports.js';
import { formatFieldValue, hexOrZero } from './values.js';

export function formatSubfield(sf: Subfield): string {
  const name = subfieldName(sf.field);
  if (sf.ofs === 0 && sf.nBits === sf.field.bits) return `${name}[]`;
  if (sf.nBits === 1) return `${name}[${sf.ofs}]`;
  return `${name}[${sf.ofs}..${sf.ofs + sf.nBits - 1}]`;
}

/** ds_put_hex(): the shortest 0x form of the immediate bytes, or "0". */
function putHex(v: bigint): string {
  return hexOrZero(v);
}

function formatLearn(l: Learn): string {
  const parts = [`table=${l.table}`];
  if (l.idleTimeout) parts.push(`idle_timeout=${l.idleTimeout}`);
  if (l.hardTimeout) parts.push(`hard_timeout=${l.hardTimeout}`);
  if (l.finIdleTimeout) parts.push(`fin_idle_timeout=${l.finIdleTimeout}`);
  if (l.finHardTimeout) parts.push(`fin_hard_timeout=${l.finHardTimeout}`);
  if (l.priority !== 0x8000) parts.push(`priority=${l.priority}`);
  if (l.flags & NX_LEARN_F_SEND_FLOW_REM) parts.push('send_flow_rem');
  if (l.flags & NX_LEARN_F_DELETE_LEARNED) parts.push('delete_learned');
  if (l.cookie !== 0n) parts.push(`cookie=${hexOrZero(l.cookie)}`);
  if (l.limit) parts.push(`limit=${l.limit}`);
  if (l.flags & NX_LEARN_F_WRITE_RESULT && l.resultDst) parts.push(`result_dst=${formatSubfield(l.resultDst)}`);
  for (const s of l.specs) {
    switch (s.kind) {
      case 'match_imm':
        if (s.dst.ofs === 0 && s.dst.nBits === s.dst.field.bits) {
          parts.push(`${s.dst.field.name}=${formatFieldValue(s.dst.field, s.value)}`);
        } else {
          parts.push(`${formatSubfield(s.dst)}=${putHex(s.value)}`);
        }
        break;
      case 'match_field':
        parts.push(s.src.field === s.dst.field && s.src.ofs === s.dst.ofs
          ? formatSubfield(s.dst)
          : `${formatSubfield(s.dst)}=${formatSubfield(s.src)}`);
        break;
      case 'load_imm':
        parts.push(`load:${putHex(s.value)}->${formatSubfield(s.dst)}`);
        break;
      case 'load_field':
        parts.push(`load:${formatSubfield(s.src)}->${formatSubfield(s.dst)}`);
        break;
      case 'output':
        parts.push(`output:${formatSubfield(s.src)}`);
        break;
    }
  }
  return `learn(${parts.join(',')})`;
}

type Formatter<T extends ActionType> = (a: Extract<Action, { type: T }>) => string;

const FORMATTERS: { readonly [T in ActionType]: Formatter<T> } = {
  output: (a) => {
    if (a.port < OFPP_MAX) return `output:${a.port}`;
    return a.port === OFPP_CONTROLLER ? `CONTROLLER:${a.maxLen}` : formatPort(a.port);
  },
  group: (a) => `group:${a.groupId}`,
  set_field: (a) => `set_field:${formatFieldValue(a.field, a.value)}->${a.field.name}`,
  push_vlan: (a) => `push_vlan:0x${a.ethertype.toString(16)}`,
  pop_vlan: () => 'pop_vlan',
  set_queue: (a) => `set_queue:${a.queueId}`,
  pop_queue: () => 'pop_queue',
  dec_ttl: () => 'dec_ttl',
  set_nw_ttl: (a) => `mod_nw_ttl:${a.ttl}`,
  resubmit: (a) => {
    if (a.inPort !== 0xfff8 && a.table === 255) return `resubmit:${formatPort(a.inPort)}`;
    return `resubmit(${a.inPort !== 0xfff8 ? formatPort(a.inPort) : ''},${a.table !== 255 ? a.table : ''})`;
  },
  set_tunnel: (a) => `set_tunnel${a.wide || a.tunId > 0xffffffffn ? '64' : ''}:${hexOrZero(a.tunId)}`,
  reg_load: (a) => `load:${hexOrZero(a.value)}->${formatSubfield(a.dst)}`,
  reg_move: (a) => `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`,
  output_reg: (a) => `output:${formatSubfield(a.src)}`,
  learn: (a) => formatLearn(a.learn),
  note: (a) => `note:${[...a.data].map((b) => b.toString(16).padStart(2, '0')).join('.')}`,
  conjunction: (a) => `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`,
  raw: (a) => `raw(${a.bytes.toString('hex')})`,
};

export function formatAction(a: Action): string {
  return (FORMATTERS[a.type] as Formatter<ActionType>)(a);
}

function formatActionList(actions: readonly Action[]): string {
  if (actions.length === 1) return formatAction(actions[0]!);
  return actions.map(formatAction).join(',');
}

/** The text after `actions=`: instructions in OVS's fixed order, "drop" when there are none. */
export function formatInstructions(ins: Instructions): string {
  // Most flows have apply-actions only: no list to build and join (this runs for every dumped flow).
  if (ins.meter === undefined && !ins.clear && !ins.write && !ins.writeMetadata && ins.gotoTable === undefined && !ins.unknown) {
    return ins.apply.length ? formatActionList(ins.apply) : 'drop';
  }
  const parts: string[] = [];
  if (ins.meter !== undefined) parts.push(`meter:${ins.meter}`);
  if (ins.apply.length) parts.push(formatActionList(ins.apply));
  if (ins.clear) parts.push('clear_actions');
  if (ins.write && ins.write.length) parts.push(`write_actions(${formatActionList(ins.write)})`);
  if (ins.writeMetadata) {
    const { value, mask } = ins.writeMetadata;
    parts.push(`write_metadata:${hexOrZero(value)}${mask === allOnes(64) ? '' : `/${hexOrZero(mask)}`}`);
  }
  if (ins.gotoTable !== undefined) parts.push(`goto_table:${ins.gotoTable}`);
  for (const u of ins.unknown ?? []) parts.push(`raw_instruction(${u.toString('hex')})`);
  return parts.length ? parts.join(',') : 'drop';
}
