// set_tunnel: the tunnel id of later outputs (NXAST_SET_TUNNEL, 32 bits; NXAST_SET_TUNNEL64). In
// OpenFlow 1.3 OVS writes both keywords as set_field tun_id and never sends these two itself: this
// kind only comes from a peer's bytes, and is re-encoded as OVS re-encodes it, as set_field tun_id.
import { allOnes, fieldByName } from '../openflow/fields.js';
import { fail, inColumn } from '../ofctl/syntax.js';
import { hexOrZero, parseUint } from '../ofctl/values.js';
import { ActionRecord, KeywordParser } from './record.js';
import { setField } from './set-field.js';

export interface SetTunnel {
  readonly type: 'set_tunnel';
  readonly tunId: bigint;
  readonly wide: boolean;
}

const NXAST_SET_TUNNEL = 2, NXAST_SET_TUNNEL64 = 9;

/** Both keywords take a 64-bit id (OVS: set_tunnel above 32 bits becomes SET_TUNNEL64 in OpenFlow 1.0). */
const TUN_ID = fieldByName('tun_id')!;

function parseSetTunnel(): KeywordParser {
  const tunId = TUN_ID;
  return ({ value, valueAt }, _ctx, out) => {
    const v = inColumn(valueAt, () => parseUint(value));
    if (v > allOnes(64)) fail(`${value}: tunnel ID does not fit in 64 bits`, valueAt);
    out.push({ type: 'set_field', field: tunId, value: v });
  };
}

export const setTunnel: ActionRecord<SetTunnel> = {
  wire: [{ nx: NXAST_SET_TUNNEL }, { nx: NXAST_SET_TUNNEL64 }],
  // OpenFlow 1.2+ has no NX set_tunnel on the wire: OVS writes it as set_field tun_id (encode_SET_TUNNEL).
  encode: (w, a) => setField.encode(w, { type: 'set_field', field: TUN_ID, value: a.tunId }),
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
