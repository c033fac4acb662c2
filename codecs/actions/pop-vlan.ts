// pop_vlan: remove the outer VLAN header (OFPAT_POP_VLAN). Text: pop_vlan, or OpenFlow 1.0's
// strip_vlan; OVS refuses both unless a VLAN is known to be there (match or an earlier push).
import { fail } from '../ofctl/syntax.js';
import type { ActionRecord, KeywordParser } from './record.js';

export interface PopVlan {
  readonly type: 'pop_vlan';
}

const OFPAT_POP_VLAN = 18;

const parsePopVlan: KeywordParser = ({ keyAt }, ctx, out) => {
  if (!ctx.vlan && !ctx.inWriteActions && !ctx.unchecked) fail('no usable protocol (pop_vlan needs a VLAN in the match)', keyAt);
  out.push({ type: 'pop_vlan' });
  ctx.vlan = false;
};

export const popVlan: ActionRecord<PopVlan> = {
  wire: [{ of: OFPAT_POP_VLAN }],
  encode: (w) => w.u16(OFPAT_POP_VLAN).u16(8).zeros(4),
  decode: () => ({ type: 'pop_vlan' }),
  print: () => 'pop_vlan',
  parse: { pop_vlan: parsePopVlan, strip_vlan: parsePopVlan },
};
