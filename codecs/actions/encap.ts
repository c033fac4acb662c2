// encap: put a new outer header on the packet (NXAST_ENCAP): ethernet, mpls, mpls_mc or nsh, the
// NSH one with properties (md_type=N, tlv(CLASS,TYPE,0xVALUE)). Text as OVS's format_ENCAP():
// encap(ethernet), encap(nsh(md_type=1,tlv(0x1000,10,0x12345678))). As OVS's parse_ENCAP(), only
// the first argument is read. Later actions are checked against the new packet's Ethertype, as
// OVS's check_ENCAP() does (its packet type is not: OVS's own parse-flow does not check it either).
import type { Reader, Writer } from '../openflow/bytes.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { fail } from '../ofctl/syntax.js';
import { HEX2 } from '../ofctl/values.js';
import { P_OF13_UP } from '../openflow/protocols.js';
import { ActionRecord, nxHeader, restrictUsable, withDlType } from './record.js';

export type EncapProp =
  | { readonly kind: 'md_type'; readonly mdType: number }
  | { readonly kind: 'tlv'; readonly tlvClass: number; readonly tlvType: number; readonly data: Buffer };

export interface Encap {
  readonly type: 'encap';
  /** The packet type after it: (namespace << 16) | type. */
  readonly packetType: number;
  readonly props: readonly EncapProp[];
}

const NXAST_ENCAP = 46;
const PT_ETH = 0, PT_NSH = 0x1894f;
const HEADERS: ReadonlyMap<string, number> = new Map([['ethernet', PT_ETH], ['nsh', PT_NSH], ['mpls', 0x18847], ['mpls_mc', 0x18848]]);
const HEADER_NAMES: ReadonlyMap<number, string> = new Map([...HEADERS].map(([k, v]) => [v, k]));
/** OFPPPC_NSH and its property types. */
const PPC_NSH = 4, PT_MD_TYPE = 1, PT_TLV = 2;

const hex = (b: Buffer): string => [...b].map((x) => HEX2[x]).join('');

function parseProp(key: string, value: string, delim: string, at: number): EncapProp {
  if (key === 'md_type') {
    if (delim === '') fail('Value missing for encap property', at);
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (n !== 1 && n !== 2) fail('invalid md_type', at);
    return { kind: 'md_type', mdType: n };
  }
  if (key === 'tlv') {
    // sscanf("%hx,%hhu,0x%s"): the class wraps to 16 bits, the value is read in whole bytes.
    const m = /^(?:0x)?([0-9a-f]+),(\d+),0x([0-9a-f]+)$/i.exec(value);
    const data = m ? Buffer.from(m[3]!.slice(0, m[3]!.length & ~1), 'hex') : Buffer.alloc(0);
    if (!m || Number(m[2]) > 255 || data.length === 0) fail(`Invalid NSH TLV header: ${value}`, at);
    return { kind: 'tlv', tlvClass: parseInt(m![1]!.slice(-4), 16), tlvType: Number(m![2]), data };
  }
  return fail(`Invalid property: ${key}`, at);
}

function decodeProps(r: Reader, packetType: number, at: number): EncapProp[] {
  const props: EncapProp[] = [];
  while (r.remaining > 0) {
    const pAt = r.pos;
    if (r.remaining < 4) r.fail('encap property truncated', pAt);
    const cls = r.u16();
    const type = r.u8();
    const len = r.u8();
    const padded = Math.ceil(len / 8) * 8;
    if (len < 4 || padded - 4 > r.remaining) r.fail(`encap property length ${len}`, pAt);
    const body = r.sub(padded - 4);
    if (packetType !== PT_NSH || cls !== PPC_NSH) r.fail(`encap property class ${cls} for this header`, pAt);
    if (type === PT_MD_TYPE && len === 5) {
      const mdType = body.u8();
      if (mdType !== 1 && mdType !== 2) r.fail(`encap nsh md_type ${mdType}`, pAt);
      props.push({ kind: 'md_type', mdType });
    } else if (type === PT_TLV && len >= 8) {
      const tlvClass = body.u16();
      const tlvType = body.u8();
      const tlvLen = body.u8();
      if (8 + tlvLen > padded) r.fail(`encap nsh tlv of ${tlvLen} bytes in a property of ${len}`, pAt);
      props.push({ kind: 'tlv', tlvClass, tlvType, data: Buffer.from(body.bytes(tlvLen)) });
    } else {
      r.fail(`encap nsh property ${type} of length ${len}`, pAt);
    }
  }
  if (!HEADER_NAMES.has(packetType)) r.fail(`encap to packet type 0x${packetType.toString(16)}`, at);
  return props;
}

export const encap: ActionRecord<Encap> = {
  wire: [{ nx: NXAST_ENCAP }],
  encode: (w: Writer, a) => {
    const start = w.pos;
    nxHeader(w, 0, NXAST_ENCAP);
    w.u16(0).u32(a.packetType);
    for (const p of a.props) {
      if (p.kind === 'md_type') {
        w.u16(PPC_NSH).u8(PT_MD_TYPE).u8(5).u8(p.mdType).zeros(3);
      } else {
        const len = Math.ceil((8 + p.data.length) / 8) * 8;
        w.u16(PPC_NSH).u8(PT_TLV).u8(len).u16(p.tlvClass).u8(p.tlvType).u8(p.data.length).bytes(p.data).zeros(len - 8 - p.data.length);
      }
    }
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r, _id, _len, at) => {
    r.skip(2); // hdr_size: OVS ignores it and writes 0
    const packetType = r.u32();
    if (!HEADER_NAMES.has(packetType)) r.fail(`encap to packet type 0x${packetType.toString(16)} (NXBAC_BAD_HEADER_TYPE)`, at);
    return { type: 'encap', packetType, props: decodeProps(r, packetType, at) };
  },
  print: (a) => {
    const props = a.props.map((p) => (p.kind === 'md_type' ? `md_type=${p.mdType}`
      : `tlv(0x${p.tlvClass.toString(16).padStart(4, '0')},${p.tlvType},0x${hex(p.data)})`));
    return `encap(${HEADER_NAMES.get(a.packetType)!}${props.length ? `(${props.join(',')})` : ''})`;
  },
  parse: {
    encap: ({ value, valueAt }, ctx, out) => {
      const first = splitKeyValues(value, valueAt)[0];
      if (!first || first.key === '') fail(`Missing encap hdr: ${value}`, valueAt);
      const packetType = HEADERS.get(first!.key);
      if (packetType === undefined) fail(`Encap hdr not supported: ${first!.value}`, first!.keyAt);
      const props = splitKeyValues(first!.value, first!.valueAt).map((kv) => parseProp(kv.key, kv.value, kv.delim, kv.keyAt));
      if (packetType !== PT_NSH && props.length) fail(`Invalid property: ${props[0]!.kind}`, first!.valueAt);
      // A packet type in the Ethertype namespace gives the packet that Ethertype.
      if (packetType! >>> 16 === 1) ctx.match = withDlType(ctx.match, packetType! & 0xffff);
      out.push({ type: 'encap', packetType: packetType!, props });
      // An OpenFlow 1.3+ extension (OVS's parse_ENCAP()).
      restrictUsable(ctx, P_OF13_UP);
    },
  },
};
