// set_tunnel: the tunnel id of later outputs (NXAST_SET_TUNNEL, 32 bits; NXAST_SET_TUNNEL64). In
// OpenFlow 1.3 OVS writes both keywords as set_field tun_id and never sends these two itself: this
// kind only comes from a peer's bytes, and is re-encoded as it came.
import { allOnes, fieldByName } from '../openflow/fields.js';
import { fail, inColumn } from '../ofctl/syntax.js';
import { hexOrZero, parseUint } from '../ofctl/values.js';
import { ActionRecord, KeywordParser, nxHeader } from './record.js';

export interface SetTunnel {
  readonly type: 'set_tunnel';
  readonly tunId: bigint;
  readonly wide: boolean;
}

const NXAST_SET_TUNNEL = 2, NXAST_SET_TUNNEL64 = 9;

/** Both keywords take a 64-bit id (OVS: set_tunnel above 32 bits becomes SET_TUNNEL64 in OpenFlow 1.0). */
function parseSetTunnel(): KeywordParser {
  const tunId = fieldByName('tun_id')!;
  return ({ value, valueAt }, _ctx, out) => {
    const v = inColumn(valueAt, () => parseUint(value));
    if (v > allOnes(64)) fail(`${value}: tunnel ID does not fit in 64 bits`, valueAt);
    out.push({ type: 'set_field', field: tunId, value: v });
  };
}

export const setTunnel: ActionRecord<SetTunnel> = {
  wire: [{ nx: NXAST_SET_TUNNEL }, { nx: NXAST_SET_TUNNEL64 }],
  encode: (w, a) => {
    if (a.wide) {
      nxHeader(w, 24, NXAST_SET_TUNNEL64);
      w.zeros(6).u64(a.tunId);
    } else {
      nxHeader(w, 16, NXAST_SET_TUNNEL);
      w.zeros(2).u32(Number(a.tunId));
    }
  },
  decode: (r, id) => {
    if (id === NXAST_SET_TUNNEL64) {
      r.skip(6);
      return { type: 'set_tunnel', tunId: r.u64(), wide: true };
    }
    r.skip(2);
    return { type: 'set_tunnel', tunId: BigInt(r.u32()), wide: false };
  },
  print: (a) => `set_tunnel${a.wide || a.tunId > 0xffffffffn ? '64' : ''}:${hexOrZero(a.tunId)}`,
  parse: { set_tunnel: parseSetTunnel(), set_tunnel64: parseSetTunnel() },
};
