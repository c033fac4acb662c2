// The text of instructions as ovs-ofctl 3.1 prints them, in OVS's fixed order; each action's text
// comes from its record (codecs/actions/).
import { Action, formatAction } from '../actions/index.js';
import { allOnes } from '../openflow/fields.js';
import type { Instructions } from '../openflow/instructions.js';
import { hexOrZero } from './values.js';

function formatActionList(actions: readonly Action[]): string {
  if (actions.length === 1) return formatAction(actions[0]!);
  return actions.map(formatAction).join(',');
}

/** The text after `actions=`: instructions in OVS's fixed order, "drop" when there are none. */
export function formatInstructions(ins: Instructions): string {
  // Most flows have apply-actions only: no list to build and join (this runs for every dumped flow).
  if (ins.meter === undefined && !ins.clear && !ins.write && !ins.writeMetadata && ins.gotoTable === undefined) {
    return ins.apply.length ? formatActionList(ins.apply) : 'drop';
  }
  const parts: string[] = [];
  if (ins.meter !== undefined) parts.push(`meter:${ins.meter}`);
  if (ins.apply.length) parts.push(formatActionList(ins.apply));
  if (ins.clear) parts.push('clear_actions');
  // An empty write_actions instruction from the wire prints as OVS prints it (the text parser drops one).
  if (ins.write) parts.push(`write_actions(${ins.write.length ? formatActionList(ins.write) : 'drop'})`);
  if (ins.writeMetadata) {
    const { value, mask } = ins.writeMetadata;
    parts.push(`write_metadata:${hexOrZero(value)}${mask === allOnes(64) ? '' : `/${hexOrZero(mask)}`}`);
  }
  if (ins.gotoTable !== undefined) parts.push(`goto_table:${ins.gotoTable}`);
  return parts.length ? parts.join(',') : 'drop';
}
