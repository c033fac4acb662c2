// push_mpls: push an MPLS label stack entry (OFPAT_PUSH_MPLS) of Ethertype 0x8847 or 0x8848. Text
// as OVS's format_PUSH_MPLS(): push_mpls:0x8847. The packet is MPLS after it (later actions are
// checked against that, as OVS's check_PUSH_MPLS() does).
import { fail, inColumn } from '../ofctl/syntax.js';
import { parseUint } from '../ofctl/values.js';
import { ActionRecord, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MC, inconsistent, withDlType } from './record.js';

export interface PushMpls {
  readonly type: 'push_mpls';
  readonly ethertype: number;
}

const OFPAT_PUSH_MPLS = 19;

/** The Ethertype of push_mpls and pop_mpls, as `0x%04x`. */
export const formatEthertype = (t: number): string => `0x${t.toString(16).padStart(4, '0')}`;

/** A 16-bit Ethertype argument (str_to_u16). */
export function ethertypeArg(value: string, valueAt: number, what: string): number {
  const v = inColumn(valueAt, () => parseUint(value));
  if (v > 0xffffn) fail(`invalid ${what} "${value}"`, valueAt);
  return Number(v);
}

const isMplsType = (t: number): boolean => BigInt(t) === ETH_TYPE_MPLS || BigInt(t) === ETH_TYPE_MPLS_MC;

export const pushMpls: ActionRecord<PushMpls> = {
  wire: [{ of: OFPAT_PUSH_MPLS }],
  encode: (w, a) => w.u16(OFPAT_PUSH_MPLS).u16(8).u16(a.ethertype).zeros(2),
  decode: (r, _id, _len, at) => {
    const ethertype = r.u16();
    // decode_OFPAT_RAW11_PUSH_MPLS(): OFPBAC_BAD_ARGUMENT for any other Ethertype.
    if (!isMplsType(ethertype)) r.fail(`push_mpls Ethertype ${formatEthertype(ethertype)} is not MPLS`, at);
    return { type: 'push_mpls', ethertype };
  },
  print: (a) => `push_mpls:${formatEthertype(a.ethertype)}`,
  parse: {
    push_mpls: ({ value, valueAt, keyAt }, ctx, out) => {
      const ethertype = ethertypeArg(value, valueAt, 'push_mpls');
      // OVS writes it and then refuses its own bytes (OFPBAC_BAD_ARGUMENT): refused here first.
      if (!isMplsType(ethertype)) fail(`push_mpls:${value}: not an MPLS Ethertype (0x8847 or 0x8848)`, valueAt);
      if (!ctx.unchecked && ctx.match.get('packet_type') && ctx.match.get('packet_type')!.value !== 0n) inconsistent('push_mpls needs an Ethernet packet', keyAt);
      ctx.match = withDlType(ctx.match, ethertype);
      out.push({ type: 'push_mpls', ethertype });
    },
  },
};
