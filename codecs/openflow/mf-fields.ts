// OVS 3.1's match fields in mf_field id order (meta-flow.h), each with every NXM/OXM header
// nx_pull_header() maps to it. Table features list fields as a bitmap over these ids, and
// ovs-ofctl prints them in this order, so it is kept whole here (fields.ts holds the fields this
// codec matches and writes; test/codecs/openflow/mf-fields.test.ts holds the two to the same names).
// Read from OVS 3.1 itself: the order and the OpenFlow 1.3 headers from ovs-vswitchd's table
// features reply, the other headers by asking `ovs-ofctl ofp-print` about every NXM, OXM and
// ONF/NX/NSH experimenter header of widths 1-32.

/** One field: its OVS name and its headers (hex, has-mask clear; experimenter OXMs with their id). */
export interface MfField {
  readonly name: string;
  readonly headers: readonly string[];
  /** tun_metadata: any length below 128 names it (OVS's variable_len). */
  readonly variable: boolean;
}

type Row = readonly [string, ...string[]];
// A function, so that the list is made on first use (table features), not at every start.
const rows = (): readonly Row[] => [
  ['dp_hash', '00014604', 'ffff000800002320'],
  ['recirc_id', '00014804'],
  ['packet_type', '80005804'],
  ['conj_id', '00014a04'],
  ['tun_id', '00012008', '80004c08'],
  ['tun_src', '00013e04'],
  ['tun_dst', '00014004'],
  ['tun_ipv6_src', '0001da10'],
  ['tun_ipv6_dst', '0001dc10'],
  ['tun_flags', '0001d002'],
  ['tun_gbp_id', '00014c02'],
  ['tun_gbp_flags', '00014e01'],
  ['tun_erspan_idx', 'ffff160800002320'],
  ['tun_erspan_ver', 'ffff180500002320'],
  ['tun_erspan_dir', 'ffff1a0500002320'],
  ['tun_erspan_hwid', 'ffff1c0500002320'],
  ['tun_gtpu_flags', 'ffff1e0500002320'],
  ['tun_gtpu_msgtype', 'ffff200500002320'],
  ...Array.from({ length: 64 }, (_, i): Row => [`tun_metadata${i}`, (((1 << 16) | ((40 + i) << 9) | 124) >>> 0).toString(16).padStart(8, '0')]),
  ['metadata', '80000408'],
  ['in_port', '00000002'],
  ['in_port_oxm', '80000004'],
  ['actset_output', '80005604', 'ffff56084f4e4600'],
  ['pkt_mark', '00014204'],
  ['ct_state', '0001d204'],
  ['ct_zone', '0001d402'],
  ['ct_mark', '0001d604'],
  ['ct_label', '0001d810'],
  ['ct_nw_proto', '0001ee01'],
  ['ct_nw_src', '0001f004'],
  ['ct_nw_dst', '0001f204'],
  ['ct_ipv6_src', '0001f410'],
  ['ct_ipv6_dst', '0001f610'],
  ['ct_tp_src', '0001f802'],
  ['ct_tp_dst', '0001fa02'],
  ['reg0', '00010004'],
  ['reg1', '00010204'],
  ['reg2', '00010404'],
  ['reg3', '00010604'],
  ['reg4', '00010804'],
  ['reg5', '00010a04'],
  ['reg6', '00010c04'],
  ['reg7', '00010e04'],
  ['reg8', '00011004'],
  ['reg9', '00011204'],
  ['reg10', '00011404'],
  ['reg11', '00011604'],
  ['reg12', '00011804'],
  ['reg13', '00011a04'],
  ['reg14', '00011c04'],
  ['reg15', '00011e04'],
  ['xreg0', '80010008'],
  ['xreg1', '80010208'],
  ['xreg2', '80010408'],
  ['xreg3', '80010608'],
  ['xreg4', '80010808'],
  ['xreg5', '80010a08'],
  ['xreg6', '80010c08'],
  ['xreg7', '80010e08'],
  ['xxreg0', '0001de10'],
  ['xxreg1', '0001e010'],
  ['xxreg2', '0001e210'],
  ['xxreg3', '0001e410'],
  ['eth_src', '00000406', '80000806'],
  ['eth_dst', '00000206', '80000606'],
  ['eth_type', '00000602', '80000a02'],
  ['vlan_tci', '00000802'],
  ['vlan_vid', '80000c02'],
  ['vlan_pcp', '80000e01'],
  ['mpls_label', '80004404'],
  ['mpls_tc', '80004601'],
  ['mpls_bos', '80004801'],
  ['mpls_ttl', '00013c01'],
  ['ip_src', '00000e04', '80001604'],
  ['ip_dst', '00001004', '80001804'],
  ['ipv6_src', '00012610', '80003410'],
  ['ipv6_dst', '00012810', '80003610'],
  ['ipv6_label', '00013604', '80003804'],
  ['nw_proto', '00000c01', '80001401'],
  ['nw_tos', '00000a01'],
  ['ip_dscp', '80001001'],
  ['nw_ecn', '00013801', '80001201'],
  ['nw_ttl', '00013a01'],
  ['ip_frag', '00013401'],
  ['arp_op', '00001e02', '80002a02'],
  ['arp_spa', '00002004', '80002c04'],
  ['arp_tpa', '00002204', '80002e04'],
  ['arp_sha', '00012206', '80003006'],
  ['arp_tha', '00012406', '80003206'],
  ['tcp_src', '00001202', '80001a02'],
  ['tcp_dst', '00001402', '80001c02'],
  ['tcp_flags', '00014402', '80005402', 'ffff54064f4e4600'],
  ['udp_src', '00001602', '80001e02'],
  ['udp_dst', '00001802', '80002002'],
  ['sctp_src', '80002202'],
  ['sctp_dst', '80002402'],
  ['icmp_type', '00001a01', '80002601'],
  ['icmp_code', '00001c01', '80002801'],
  ['icmpv6_type', '00012a01', '80003a01'],
  ['icmpv6_code', '00012c01', '80003c01'],
  ['nd_target', '00012e10', '80003e10'],
  ['nd_sll', '00013006', '80004006'],
  ['nd_tll', '00013206', '80004206'],
  ['nd_reserved', '10000204'],
  ['nd_options_type', '10000401'],
  ['nsh_flags', 'ffff0205005ad650'],
  ['nsh_mdtype', 'ffff0405005ad650'],
  ['nsh_np', 'ffff0605005ad650'],
  ['nsh_spi', 'ffff0808005ad650'],
  ['nsh_si', 'ffff0a05005ad650'],
  ['nsh_c1', 'ffff0c08005ad650'],
  ['nsh_c2', 'ffff0e08005ad650'],
  ['nsh_c3', 'ffff1008005ad650'],
  ['nsh_c4', 'ffff1208005ad650'],
  ['nsh_ttl', 'ffff1405005ad650'],
];

let fields: readonly MfField[] | undefined;

/** The fields by mf id. */
export function mfFields(): readonly MfField[] {
  return (fields ??= rows().map(([name, ...headers]) => ({ name, headers, variable: name.startsWith('tun_metadata') })));
}

type HeaderMap = Map<number, Map<number, { readonly id: number; readonly length: number }>>;

/**
 * By a header without its has-mask bit and length (what OVS hashes on), then by its experimenter id
 * (-1 for none): numbers, not a string key, as a table features reply looks up ~250k headers.
 * Built on first use (an error to name, table features), not at every start.
 */
let byHeader: HeaderMap | undefined;
function byHeaderMap(): HeaderMap {
  if (byHeader) return byHeader;
  const m: HeaderMap = new Map();
  mfFields().forEach((f, id) => {
    for (const h of f.headers) {
      const b = Buffer.from(h, 'hex');
      const header = b.readUInt32BE(0);
      const base = (header & 0xfffffe00) >>> 0;
      let byExp = m.get(base);
      if (!byExp) m.set(base, (byExp = new Map()));
      byExp.set(b.length > 4 ? b.readUInt32BE(4) : -1, { id, length: header & 0xff });
    }
  });
  return (byHeader = m);
}

/**
 * OVS's nxm_field_by_header(): the mf id a header names, or undefined (OFPBMC_BAD_FIELD). A masked
 * header counts as its exact form (half the value length); lengths of 128 and above never match
 * (OVS hashes the header with only the low 7 length bits cleared); a variable-length field takes any other.
 */
export function mfFieldByHeader(header: number, experimenter?: number): number | undefined {
  const expLen = experimenter === undefined ? 0 : 4;
  let length = header & 0xff;
  if (header & 0x100) length = Math.floor((length - expLen) / 2) + expLen;
  if (length >= 128) return undefined;
  const f = byHeaderMap().get((header & 0xfffffe00) >>> 0)?.get(experimenter ?? -1);
  if (!f) return undefined;
  return f.length === length || mfFields()[f.id]!.variable ? f.id : undefined;
}
