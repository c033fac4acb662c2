// push_vlan: push an 802.1Q/802.1ad header (OFPAT_PUSH_VLAN). Text: push_vlan:ETHERTYPE.
import { fail, intArg } from '../ofctl/syntax.js';
import { P_OF11_UP } from '../openflow/protocols.js';
import { ActionRecord, restrictUsable } from './record.js';

export interface PushVlan {
  readonly type: 'push_vlan';
  readonly ethertype: number;
}

const OFPAT_PUSH_VLAN = 17;

export const pushVlan: ActionRecord<PushVlan> = {
  wire: [{ of: OFPAT_PUSH_VLAN }],
  encode: (w, a) => w.u16(OFPAT_PUSH_VLAN).u16(8).u16(a.ethertype).zeros(2),
  decode: (r) => ({ type: 'push_vlan', ethertype: r.u16() }),
  print: (a) => `push_vlan:0x${a.ethertype.toString(16)}`,
  parse: {
    push_vlan: ({ value, valueAt }, ctx, out) => {
      const et = intArg(value, valueAt, 0xffff, 'ethertype');
      if (et !== 0x8100 && et !== 0x88a8) fail(`${value}: not a valid VLAN ethertype`, valueAt);
      out.push({ type: 'push_vlan', ethertype: et });
      ctx.vlan = true;
      // OpenFlow 1.0 has no push_vlan (OVS's parse_PUSH_VLAN()).
      restrictUsable(ctx, P_OF11_UP);
    },
  },
};
