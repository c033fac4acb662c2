// dec_nsh_ttl: decrement the NSH TTL (NXAST_DEC_NSH_TTL). Text: dec_nsh_ttl; on an NSH packet only
// (packet_type=(1,0x894f), or an Ethernet packet of dl_type 0x894f), as OVS's check_DEC_NSH_TTL().
import { slotValue } from '../openflow/match.js';
import { ActionRecord, inconsistent, nxHeader } from './record.js';

export interface DecNshTtl {
  readonly type: 'dec_nsh_ttl';
}

const NXAST_DEC_NSH_TTL = 48;
const ETH_TYPE_NSH = 0x894fn, PT_NSH = 0x1894fn;

export const decNshTtl: ActionRecord<DecNshTtl> = {
  wire: [{ nx: NXAST_DEC_NSH_TTL }],
  encode: (w) => {
    nxHeader(w, 16, NXAST_DEC_NSH_TTL);
    w.zeros(6);
  },
  decode: () => ({ type: 'dec_nsh_ttl' }),
  print: () => 'dec_nsh_ttl',
  parse: {
    dec_nsh_ttl: ({ keyAt }, ctx, out) => {
      if (!ctx.unchecked && slotValue(ctx.match, 'packet_type') !== PT_NSH && slotValue(ctx.match, 'dl_type') !== ETH_TYPE_NSH) {
        inconsistent('dec_nsh_ttl needs an nsh packet', keyAt);
      }
      out.push({ type: 'dec_nsh_ttl' });
    },
  },
};
