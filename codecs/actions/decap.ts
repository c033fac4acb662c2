// decap: remove the outer header (NXAST_DECAP); the packet type after it is the next protocol's,
// or the one given. Text as OVS's format_DECAP(): decap() or decap(packet_type(ns=N,type=0xT)).
// After it, as OVS's check_DECAP() says, an Ethernet packet keeps its Ethertype and any other is
// of unknown type (no later action may depend on its headers).
import { splitKeyValues } from '../ofctl/lexer.js';
import { fail, intArg } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader, withDlType } from './record.js';

export interface Decap {
  readonly type: 'decap';
  /** (namespace << 16) | type; PT_USE_NEXT_PROTO: from the header removed. */
  readonly packetType: number;
}

const NXAST_DECAP = 47;
const PT_USE_NEXT_PROTO = 0xfffe;

export const decap: ActionRecord<Decap> = {
  wire: [{ nx: NXAST_DECAP }],
  encode: (w, a) => {
    nxHeader(w, 16, NXAST_DECAP);
    w.u16(0).u32(a.packetType);
  },
  decode: (r) => {
    r.skip(2);
    return { type: 'decap', packetType: r.u32() };
  },
  print: (a) => {
    if (a.packetType === PT_USE_NEXT_PROTO) return 'decap()';
    const type = a.packetType & 0xffff;
    return `decap(packet_type(ns=${a.packetType >>> 16},type=${type ? `0x${type.toString(16)}` : '0'}))`;
  },
  parse: {
    decap: ({ value, valueAt }, ctx, out) => {
      // parse_DECAP(): the first argument only; packet_type(ns=N,type=T) in that order.
      const first = splitKeyValues(value, valueAt)[0];
      let packetType = PT_USE_NEXT_PROTO;
      if (first) {
        if (first.key !== 'packet_type') fail(`Invalid decap argument: ${first.key}`, first.keyAt);
        const [ns, type] = splitKeyValues(first.value, first.valueAt);
        if (ns?.key !== 'ns') fail('Missing packet_type attribute ns', first.valueAt);
        const n = intArg(ns!.value, ns!.valueAt, 0xffff, 'ns');
        if (n !== 0 && n !== 1) fail(`Unsupported ns value: ${n}`, ns!.valueAt);
        if (type?.key !== 'type') fail('Missing packet_type attribute type', first.valueAt);
        packetType = ((n << 16) | intArg(type!.value, type!.valueAt, 0xffff, 'type')) >>> 0;
      }
      const pt = ctx.match.get('packet_type');
      if (pt && pt.value !== 0n) ctx.match = withDlType(ctx.match, 0xffff);
      out.push({ type: 'decap', packetType });
    },
  },
};
