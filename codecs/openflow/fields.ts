// The field table: the single source of truth for every match/set_field/subfield field the codec
// knows. Modelled on OVS's meta-flow: a *field* is a named view (what ovs-ofctl calls it, its width,
// format and NXM/OXM headers) onto a *slot* of the flow (what a match really constrains). Several
// views can share a slot: dl_vlan, vlan_vid, dl_vlan_pcp and vlan_pcp all live in the 16-bit TCI;
// arp_spa lives in nw_src; icmp_type in tp_src, exactly as OVS stores them, so that the match
// printer and encoder can follow OVS's own order over slots.
import { P_NONE, P_NXM_OXM_ANY, P_OF10_STD_ANY, P_OF11_STD } from './protocols.js';

/** Where a field's value lives in a match. */
export type Slot =
  | 'packet_type' | 'in_port' | 'metadata' | 'tun_id' | 'tun_src' | 'tun_dst' | 'pkt_mark' | 'conj_id'
  | 'reg0' | 'reg1' | 'reg2' | 'reg3' | 'reg4' | 'reg5' | 'reg6' | 'reg7'
  | 'reg8' | 'reg9' | 'reg10' | 'reg11' | 'reg12' | 'reg13' | 'reg14' | 'reg15'
  | 'dl_src' | 'dl_dst' | 'dl_type' | 'vlan_tci'
  | 'nw_src' | 'nw_dst' | 'ipv6_src' | 'ipv6_dst' | 'ipv6_label'
  | 'nw_proto' | 'nw_tos' | 'nw_ttl' | 'nw_frag' | 'tp_src' | 'tp_dst' | 'tcp_flags'
  | 'arp_sha' | 'arp_tha' | 'nd_target'
  | 'ct_state' | 'ct_zone' | 'ct_mark' | 'ct_label' | 'ct_nw_proto' | 'ct_nw_src' | 'ct_nw_dst' | 'ct_ipv6_src'
  | 'ct_ipv6_dst' | 'ct_tp_src' | 'ct_tp_dst'
  | 'dp_hash' | 'recirc_id' | 'actset_output' | 'mpls_lse'
  | 'tun_flags' | 'tun_ipv6_src' | 'tun_ipv6_dst' | 'tun_gbp_id' | 'tun_gbp_flags'
  | 'tun_erspan_idx' | 'tun_erspan_ver' | 'tun_erspan_dir' | 'tun_erspan_hwid' | 'tun_gtpu_flags' | 'tun_gtpu_msgtype'
  | 'nd_reserved' | 'nd_options_type'
  | 'nsh_flags' | 'nsh_ttl' | 'nsh_mdtype' | 'nsh_np' | 'nsh_spi' | 'nsh_si' | 'nsh_c1' | 'nsh_c2' | 'nsh_c3' | 'nsh_c4'
  | TunMetadataSlot;

type Digit = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** tun_metadata0..63: Geneve options, each a slot of its own. */
export type TunMetadataSlot = `tun_metadata${Digit | `${1 | 2 | 3 | 4 | 5}${Digit}` | `6${0 | 1 | 2 | 3}`}`;
/** How many tun_metadata fields OVS has, and their widest value (TUN_METADATA_NUM_OPTS, TLV_MAX_OPT_SIZE). */
export const TUN_METADATA_NUM = 64;
export const TUN_METADATA_BYTES = 124;
const TUN_METADATA_SLOTS = Array.from({ length: TUN_METADATA_NUM }, (_, i) => `tun_metadata${i}` as TunMetadataSlot);

/** Width of each slot in bits. */
export const SLOT_BITS: Readonly<Record<Slot, number>> = {
  packet_type: 32, in_port: 16, metadata: 64, tun_id: 64, tun_src: 32, tun_dst: 32, pkt_mark: 32, conj_id: 32,
  reg0: 32, reg1: 32, reg2: 32, reg3: 32, reg4: 32, reg5: 32, reg6: 32, reg7: 32,
  reg8: 32, reg9: 32, reg10: 32, reg11: 32, reg12: 32, reg13: 32, reg14: 32, reg15: 32,
  dl_src: 48, dl_dst: 48, dl_type: 16, vlan_tci: 16,
  nw_src: 32, nw_dst: 32, ipv6_src: 128, ipv6_dst: 128, ipv6_label: 32,
  nw_proto: 8, nw_tos: 8, nw_ttl: 8, nw_frag: 2, tp_src: 16, tp_dst: 16, tcp_flags: 16,
  arp_sha: 48, arp_tha: 48, nd_target: 128,
  // OVS's struct flow keeps ct_state in 8 bits (the field is 32 bits wide on the wire).
  ct_state: 8, ct_zone: 16, ct_mark: 32, ct_label: 128, ct_nw_proto: 8, ct_nw_src: 32, ct_nw_dst: 32, ct_ipv6_src: 128,
  ct_ipv6_dst: 128, ct_tp_src: 16, ct_tp_dst: 16,
  // actset_output: a port in OVS's 16-bit form, as in_port. mpls_lse: the top label stack entry
  // (label, TC, BoS, TTL). tun_flags: OVS's FLOW_TNL_F_MASK, of which only oam can be matched.
  dp_hash: 32, recirc_id: 32, actset_output: 16, mpls_lse: 32,
  tun_flags: 4, tun_ipv6_src: 128, tun_ipv6_dst: 128, tun_gbp_id: 16, tun_gbp_flags: 8,
  tun_erspan_idx: 32, tun_erspan_ver: 8, tun_erspan_dir: 8, tun_erspan_hwid: 8, tun_gtpu_flags: 8, tun_gtpu_msgtype: 8,
  nd_reserved: 32, nd_options_type: 8,
  // NSH: OVS keeps the service path (SPI, 24 bits, and SI) in one word; it writes and prints them apart.
  nsh_flags: 8, nsh_ttl: 8, nsh_mdtype: 8, nsh_np: 8, nsh_spi: 24, nsh_si: 8, nsh_c1: 32, nsh_c2: 32, nsh_c3: 32, nsh_c4: 32,
} satisfies Record<Exclude<Slot, TunMetadataSlot>, number> as Record<Slot, number>;
for (const s of TUN_METADATA_SLOTS) (SLOT_BITS as Record<Slot, number>)[s] = TUN_METADATA_BYTES * 8;

/**
 * 'flags': named bits (the row's flags), written `a|b` or `+a-b` as OVS's format_flags*() do.
 * 'frag': nw_frag's names for its (value, mask) pairs (no, yes, first, later, not_later), only.
 */
export type FieldFormat = 'decimal' | 'hex' | 'ethernet' | 'ipv4' | 'ipv6' | 'port' | 'packet_type' | 'flags' | 'frag';

/**
 * What a match must already say before a field may be matched (OVS "prerequisites", meta-flow.h's
 * MFP_*). 'none' fields also match packets without an Ethernet header; every other one says the
 * packet is Ethernet. See prereqHolds() for what each one requires.
 */
export type Prereq =
  | 'none' | 'ethernet' | 'vlan' | 'ipv4' | 'ipv6' | 'ip_any' | 'arp' | 'tcp' | 'udp' | 'sctp'
  | 'icmpv4' | 'icmpv6' | 'nd' | 'nd_solicit' | 'nd_advert' | 'ct' | 'ct_l4' | 'mpls' | 'nsh';

/**
 * A condition match_format() tests before it prints a view: a prerequisite, IGMP (IPv4 protocol
 * 2), the ERSPAN version the match holds (1: the index prints; 2: direction and hardware id), or
 * an NSH metadata type of exactly 1 (the context headers print).
 */
export type PrintCondition = Prereq | 'igmp' | 'erspan_v1' | 'erspan_v2' | 'nsh_md1';

/** How match_format() prints a field (the match text of dump-flows), beside its set_field/learn notation. */
export interface MatchPrint {
  /** Position in match_format() (ascending). */
  readonly rank: number;
  /** The name printed (default: the field's name). */
  readonly as?: string;
  /** Printed only when this holds (values read whatever their mask, as match_format does). */
  readonly when?: PrintCondition;
  /** Not printed when one of these holds (another view of the slot prints it then). */
  readonly unless?: readonly PrintCondition[];
  /** Another name under a condition (tp_src prints as igmp_type for IGMP). */
  readonly asWhen?: readonly [PrintCondition, string];
  /**
   * 'field': the field's format, the mask shown unless all ones (format_*_masked); 'value': the
   * field's bits in decimal, never a mask; 'be16': decimal when exact, else `0x%x/0x%x`;
   * 'dl_type': `0x%04x`; 'label': `0x%05x[/0x%05x]`; 'vlan_tci': dl_vlan/dl_vlan_pcp when they say
   * it all, else vlan_tci; 'packet_type': `(ns,type)`, and nothing for the Ethernet default;
   * 'flags': `a|b` when every flag is matched, else `+a-b` (format_flags_masked); 'hex':
   * `%#x[/%#x]` whatever the field's format (format_uint32_masked). 'value' is in hex (`%#x`)
   * for a hex field; 'u8': decimal when exact, else `0x%02x/0x%02x` (format_uint8_masked).
   */
  readonly style: 'field' | 'value' | 'be16' | 'dl_type' | 'label' | 'vlan_tci' | 'packet_type' | 'flags' | 'hex' | 'u8';
}

export interface FlagNames {
  readonly noun: string;
  readonly names: readonly string[];
}

export interface FieldHeader {
  /** 32-bit NXM/OXM header without the has-mask bit; the length byte is the value width. */
  readonly header: number;
  readonly name: string;
  /** An experimenter OXM (class 0xffff): the experimenter id that follows the header (not counted in `header`'s length). */
  readonly experimenter?: number;
}

export interface FieldDef {
  /** The OVS field name (what `set_field:…->NAME` prints). */
  readonly name: string;
  /** Other names ovs-ofctl accepts for it in a match. */
  readonly aliases: readonly string[];
  readonly bits: number;
  readonly maskable: boolean;
  readonly format: FieldFormat;
  readonly prereq: Prereq;
  /** NXM header (class 0x0000/0x0001), printed in subfields when present. */
  readonly nxm?: FieldHeader;
  /** OXM header (class 0x8000) that OVS prefers in OpenFlow 1.3. */
  readonly oxm?: FieldHeader;
  /**
   * The OXM header OVS writes only from OpenFlow 1.5 on (NXOXM_ET_DP_HASH, OXM_OF_ACTSET_OUTPUT) and
   * reads in any version: decoded, never written unless a decoded match came with it (MatchEntry.header).
   */
  readonly of15?: FieldHeader;
  /**
   * The 32-bit registers a wide register is made of, most significant first (xreg0: reg0, reg1):
   * a match on it is a match on them, and OVS 1.3 writes and prints them.
   */
  readonly parts?: readonly FieldDef[];
  /**
   * OVS keeps the value given as the mask (match_set_tun_erspan_ver_masked() and its siblings set
   * the wildcard mask to the value): ver=1 matches with mask 1, ver=0 matches nothing.
   */
  readonly maskIsValue: boolean;
  /** Match slot; undefined for fields that cannot be matched through this view. */
  readonly slot: Slot;
  /** The value's bit offset inside its slot (dl_vlan: 0, dl_vlan_pcp: 13). */
  readonly slotShift?: number;
  /**
   * Its value has a length of its own, 0..bits/8 bytes (OVS's variable_len: tun_metadata). The
   * match entry carries it (MatchEntry.len); OVS writes the shortest length that holds the value
   * (and the mask), and a header of any length below 128 names the field.
   */
  readonly variableLen: boolean;
  /** The field is writable with set_field / load / move (OVS "Access: read/write"). */
  readonly writable: boolean;
  /** The bits of its slot the field's value covers, after slotShift (default: its own width). */
  readonly slotMask: bigint;
  /** The slot mask an exact match stores (default slotMask; ipv6_label and icmp_type keep the whole slot, as OVS does). */
  readonly exactMask: bigint;
  /** Bits set in value and mask whenever the field is matched (VLAN tag present, for dl_vlan and the PCPs). */
  readonly presentBits: bigint;
  /** A value meaning "no such header", matched as an all-zero slot (dl_vlan=0xffff: no VLAN tag). */
  readonly absentValue?: bigint;
  /** Its values are 32-bit OpenFlow 1.1 port numbers, kept in a match in their 16-bit form (OXM in_port). */
  readonly of11Port: boolean;
  /** ovs-ofctl takes it as a match keyword (false: views this codec reads only on the wire or in actions). */
  readonly matchKeyword: boolean;
  /**
   * Where OVS's nx_put_raw() writes it in an OpenFlow 1.3 match (ascending; undefined: never written
   * as itself, another view of its slot is). It is written when its slot is matched on some of its
   * slotMask bits and its prerequisite holds.
   */
  readonly oxmRank?: number;
  /** How OVS's match_format() prints its slot through this view (undefined: another view prints it). */
  readonly print?: MatchPrint;
  /** The 'flags' format's bit names, lowest first, and what OVS calls them in its parse errors. */
  readonly flags?: FlagNames;
  /** How OpenFlow 1.0 matches it (meta-flow.h's "OF1.0:"; undefined: it cannot). */
  readonly of10?: 'exact' | 'cidr';
  /** How OpenFlow 1.1 matches it (meta-flow.h's "OF1.1:"; undefined: it cannot). */
  readonly of11?: 'exact' | 'bitwise';
  /**
   * Derived from of10/of11 (and NXM/OXM, which every field here has), as OVS's extract-ofp-fields
   * derives usable_protocols_exact/_cidr/_bitwise: the protocols (protocols.ts) that can carry a
   * match on it exactly, with a CIDR mask, with any other mask.
   */
  readonly usable: { readonly exact: number; readonly cidr: number; readonly bitwise: number };
  /** Derived: it owns its whole slot unchanged, so a decoded value is stored as it comes. */
  readonly wholeSlot: boolean;
  /**
   * Derived: the slot mask (shifted down to the field) under which OVS writes the field without a
   * mask. Wider than any slot mask when the field is wider than its slot (ct_state: OVS keeps 8 of
   * its 32 bits, so a matched ct_state always goes out masked).
   */
  readonly wireExact: bigint;
}

export const NXM_OF = 0x0000;
export const NXM_NX = 0x0001;
export const OFPXMC_OPENFLOW_BASIC = 0x8000;
/** OpenFlow 1.5's packet registers (xreg0..7), which OVS also uses in 1.3. */
export const OFPXMC_PACKET_REGS = 0x8001;
export const OFPXMC_EXPERIMENTER = 0xffff;

const nxm = (field: number, bytes: number, name: string, cls = NXM_OF): FieldHeader =>
  ({ header: ((cls << 16) | (field << 9) | bytes) >>> 0, name });
const nx = (field: number, bytes: number, name: string): FieldHeader => nxm(field, bytes, name, NXM_NX);
const oxm = (field: number, bytes: number, name: string): FieldHeader =>
  ({ header: ((OFPXMC_OPENFLOW_BASIC << 16) | (field << 9) | bytes) >>> 0, name });
/** The ONF experimenter id (OpenFlow 1.3's extension OXMs, e.g. tcp_flags). */
export const ONF_EXPERIMENTER = 0x4f4e4600;
const onf = (field: number, bytes: number, name: string): FieldHeader =>
  ({ header: ((OFPXMC_EXPERIMENTER << 16) | (field << 9) | bytes) >>> 0, name, experimenter: ONF_EXPERIMENTER });
/** Ericsson's OXM class (ERICOXM_OF_*: the ICMPv6 neighbour discovery reserved word and option type). */
export const ERICOXM_OF = 0x1000;
const eric = (field: number, bytes: number, name: string): FieldHeader => nxm(field, bytes, name, ERICOXM_OF);
/** The NSH experimenter id (NXOXM_NSH_*). */
export const NSH_EXPERIMENTER = 0x005ad650;
const nsh = (field: number, bytes: number, name: string): FieldHeader =>
  ({ header: ((OFPXMC_EXPERIMENTER << 16) | (field << 9) | bytes) >>> 0, name, experimenter: NSH_EXPERIMENTER });
/** Nicira's experimenter id (NXOXM_ET_*: ERSPAN, GTP-U). */
export const NX_EXPERIMENTER = 0x00002320;
const nxExp = (field: number, bytes: number, name: string): FieldHeader =>
  ({ header: ((OFPXMC_EXPERIMENTER << 16) | (field << 9) | bytes) >>> 0, name, experimenter: NX_EXPERIMENTER });

type Defaulted = 'of10' | 'of11' | 'aliases' | 'maskable' | 'prereq' | 'writable' | 'slotMask' | 'exactMask' | 'presentBits' | 'of11Port'
  | 'matchKeyword' | 'maskIsValue' | 'variableLen';
type Row = Omit<FieldDef, Defaulted | 'usable' | 'wholeSlot' | 'wireExact'> & Partial<Pick<FieldDef, Defaulted>>;

/** allOnes() of 0..128 bits, each made on its first use (the rows need a few widths, not 129 BigInts at load). */
const ALL_ONES: (bigint | undefined)[] = new Array<bigint | undefined>(129).fill(undefined);

/** A mask of `bits` ones (table lookup: this is on every encode and decode path). */
export function allOnes(bits: number): bigint {
  return ALL_ONES[bits] ?? (bits <= 128 ? (ALL_ONES[bits] = (1n << BigInt(bits)) - 1n) : (1n << BigInt(bits)) - 1n);
}
const ones = allOnes;
const NO_ALIASES: readonly string[] = [];

/** A row with every member present, in one order: one object shape, so the codec's property reads stay monomorphic. */
function row(r: Row): FieldDef {
  const slotBits = SLOT_BITS[r.slot];
  const shift = r.slotShift ?? 0;
  // The common row (at bit 0, no wider than its slot) shares allOnes()'s mask: no BigInt made at load.
  const slotMask = r.slotMask ?? (shift === 0 && r.bits <= slotBits ? ones(r.bits) : (ones(r.bits) << BigInt(shift)) & ones(slotBits));
  const exactMask = r.exactMask ?? slotMask;
  const presentBits = r.presentBits ?? 0n;
  const of11Port = r.of11Port ?? false;
  return {
    name: r.name, aliases: r.aliases ?? NO_ALIASES, bits: r.bits, maskable: r.maskable ?? true, format: r.format,
    prereq: r.prereq ?? 'none', nxm: r.nxm, oxm: r.oxm, of15: r.of15, parts: r.parts, maskIsValue: r.maskIsValue ?? false, variableLen: r.variableLen ?? false, slot: r.slot, slotShift: r.slotShift, writable: r.writable ?? true,
    slotMask, exactMask, presentBits, absentValue: r.absentValue, of11Port, matchKeyword: r.matchKeyword ?? true,
    oxmRank: r.oxmRank, print: r.print, flags: r.flags, of10: r.of10, of11: r.of11, usable: usableOf(r),
    wholeSlot: r.bits === slotBits && exactMask === ones(r.bits) && presentBits === 0n && !of11Port && r.absentValue === undefined
      && !r.maskIsValue && !r.variableLen,
    wireExact: r.bits > slotBits && (r.maskable ?? true) ? ones(r.bits) : shift === 0 ? slotMask : slotMask >> BigInt(shift),
  };
}

/** extract-ofp-fields' protocols_to_c() sets: every field can be matched in NXM and OXM. */
function usableOf(r: Row): FieldDef['usable'] {
  const exact = P_NXM_OXM_ANY | (r.of10 ? P_OF10_STD_ANY : 0) | (r.of11 ? P_OF11_STD : 0);
  if (r.maskable === false) return usableSet(exact, P_NONE, P_NONE);
  const cidr = exact & ~(r.of10 === 'exact' ? P_OF10_STD_ANY : 0) & ~(r.of11 === 'exact' ? P_OF11_STD : 0);
  return usableSet(exact, cidr, cidr & ~(r.of10 ? P_OF10_STD_ANY : 0));
}

// A handful of distinct sets: one frozen object each, shared by the rows (not one per row at load).
const USABLE = new Map<number, FieldDef['usable']>();
function usableSet(exact: number, cidr: number, bitwise: number): FieldDef['usable'] {
  const key = exact * 2 ** 18 + cidr * 2 ** 9 + bitwise; // protocol sets are 9 bits (P_ANY)
  let u = USABLE.get(key);
  if (!u) USABLE.set(key, (u = Object.freeze({ exact, cidr, bitwise })));
  return u;
}

const VLAN_CFI = 0x1000n;

// lib/packets.c's ct_state_to_string() and packet_tcp_flag_to_string(), by bit.
const CT_STATE_FLAGS: FlagNames = { noun: 'ct_state', names: ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'] };
const TCP_FLAGS: FlagNames = { noun: 'TCP', names: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns', '[200]', '[400]', '[800]'] };
// lib/flow.c's flow_tun_flag_to_string(), by bit.
const TUN_FLAGS: FlagNames = { noun: 'tun_flags', names: ['oam', 'df', 'csum', 'key'] };

const REGS: FieldDef[] = Array.from({ length: 16 }, (_, i) =>
  row({ name: `reg${i}`, bits: 32, format: 'hex', slot: `reg${i}` as Slot, nxm: nx(i, 4, `NXM_NX_REG${i}`), oxmRank: 240 + i,
    print: { rank: 40 + i, style: 'field' } }));

// The wide registers: views of consecutive registers, never written or printed as themselves in 1.3.
const XREGS: FieldDef[] = Array.from({ length: 8 }, (_, i) =>
  row({ name: `xreg${i}`, bits: 64, format: 'hex', slot: `reg${2 * i}` as Slot, parts: REGS.slice(2 * i, 2 * i + 2),
    oxm: { header: ((OFPXMC_PACKET_REGS << 16) | (i << 9) | 8) >>> 0, name: `OXM_OF_PKT_REG${i}` } }));
const XXREGS: FieldDef[] = Array.from({ length: 4 }, (_, i) =>
  row({ name: `xxreg${i}`, bits: 128, format: 'hex', slot: `reg${4 * i}` as Slot, parts: REGS.slice(4 * i, 4 * i + 4),
    nxm: nx(111 + i, 16, `NXM_NX_XXREG${i}`) }));

// One row per field, in the spirit of OVS's meta-flow.h: its name(s), width, maskability, text
// format, prerequisite, NXM/OXM headers, where it lives in a match, and its place in OVS's
// OpenFlow 1.3 encoding. The encoder, decoder, normaliser, parser and printer read these members
// (test/codecs/field-walk.test.ts holds every row to OVS's bytes and text).
export const FIELDS: readonly FieldDef[] = [
  row({ name: 'in_port', of10: 'exact', of11: 'exact', bits: 16, format: 'port', slot: 'in_port', maskable: false, nxm: nxm(0, 2, 'NXM_OF_IN_PORT'), print: { rank: 80, style: 'field' } }),
  // (namespace << 16) | type; 0 is Ethernet, OVS's default, implied by any Ethernet-level field. Written first, as OVS
  // requires; printed after the conntrack fields.
  row({ name: 'packet_type', bits: 32, format: 'packet_type', slot: 'packet_type', writable: false, maskable: false,
    oxm: oxm(44, 4, 'OXM_OF_PACKET_TYPE'), oxmRank: 0, print: { rank: 34, style: 'packet_type' } }),
  row({ name: 'in_port_oxm', bits: 32, format: 'port', slot: 'in_port', maskable: false, of11Port: true, matchKeyword: false,
    exactMask: 0xffffn, oxm: oxm(0, 4, 'OXM_OF_IN_PORT'), oxmRank: 20 }),
  row({ name: 'metadata', of11: 'bitwise', bits: 64, format: 'hex', slot: 'metadata', oxm: oxm(2, 8, 'OXM_OF_METADATA'), oxmRank: 310, print: { rank: 70, style: 'field' } }),
  row({ name: 'tun_id', aliases: ['tunnel_id'], bits: 64, format: 'hex', slot: 'tun_id',
    nxm: nx(16, 8, 'NXM_NX_TUN_ID'), oxm: oxm(38, 8, 'OXM_OF_TUNNEL_ID'), oxmRank: 200, print: { rank: 60, style: 'field' } }),
  row({ name: 'tun_src', bits: 32, format: 'ipv4', slot: 'tun_src', nxm: nx(31, 4, 'NXM_NX_TUN_IPV4_SRC'), oxmRank: 210, print: { rank: 61, style: 'field' } }),
  row({ name: 'tun_dst', bits: 32, format: 'ipv4', slot: 'tun_dst', nxm: nx(32, 4, 'NXM_NX_TUN_IPV4_DST'), oxmRank: 211, print: { rank: 62, style: 'field' } }),
  row({ name: 'pkt_mark', bits: 32, format: 'hex', slot: 'pkt_mark', nxm: nx(33, 4, 'NXM_NX_PKT_MARK'), oxmRank: 300, print: { rank: 20, style: 'field' } }),
  row({ name: 'conj_id', bits: 32, format: 'decimal', slot: 'conj_id', maskable: false, writable: false,
    nxm: nx(37, 4, 'NXM_NX_CONJ_ID'), oxmRank: 10, print: { rank: 30, style: 'value' } }),
  ...REGS,
  ...XREGS,
  ...XXREGS,
  // Datapath metadata: written first (after packet_type), printed after pkt_mark.
  row({ name: 'dp_hash', bits: 32, format: 'hex', slot: 'dp_hash', writable: false,
    nxm: nx(35, 4, 'NXM_NX_DP_HASH'), of15: nxExp(0, 4, 'NXOXM_ET_DP_HASH'), oxmRank: 5, print: { rank: 22, style: 'field' } }),
  row({ name: 'recirc_id', bits: 32, format: 'decimal', slot: 'recirc_id', maskable: false, writable: false,
    nxm: nx(36, 4, 'NXM_NX_RECIRC_ID'), oxmRank: 6, print: { rank: 21, style: 'hex' } }),
  // The output port of the action set, an OpenFlow 1.1 port (ONF's 1.3 extension header).
  row({ name: 'actset_output', bits: 32, format: 'port', slot: 'actset_output', maskable: false, writable: false,
    of11Port: true, exactMask: 0xffffn, oxm: onf(43, 4, 'ONFOXM_ET_ACTSET_OUTPUT'), of15: oxm(43, 4, 'OXM_OF_ACTSET_OUTPUT'), oxmRank: 21, print: { rank: 30.5, style: 'field' } }),
  // The top MPLS label stack entry (OVS's mpls_lse[0]): label, TC, BoS, TTL. Written after the
  // VLAN (TC, BoS, TTL, label), printed after nw_ttl (label, TC, TTL, BoS); never masked.
  row({ name: 'mpls_label', of11: 'exact', bits: 20, format: 'decimal', slot: 'mpls_lse', slotShift: 12, prereq: 'mpls', maskable: false,
    oxm: oxm(34, 4, 'OXM_OF_MPLS_LABEL'), oxmRank: 48, print: { rank: 132.1, style: 'value' } }),
  row({ name: 'mpls_tc', of11: 'exact', bits: 3, format: 'decimal', slot: 'mpls_lse', slotShift: 9, prereq: 'mpls', maskable: false,
    oxm: oxm(35, 1, 'OXM_OF_MPLS_TC'), oxmRank: 45, print: { rank: 132.2, style: 'value' } }),
  row({ name: 'mpls_bos', bits: 1, format: 'decimal', slot: 'mpls_lse', slotShift: 8, prereq: 'mpls', maskable: false,
    writable: false, oxm: oxm(36, 1, 'OXM_OF_MPLS_BOS'), oxmRank: 46, print: { rank: 132.4, style: 'value' } }),
  row({ name: 'mpls_ttl', bits: 8, format: 'decimal', slot: 'mpls_lse', prereq: 'mpls', maskable: false,
    nxm: nx(30, 1, 'NXM_NX_MPLS_TTL'), oxmRank: 47, print: { rank: 132.3, style: 'value' } }),
  // Tunnel metadata beside tun_id/tun_src/tun_dst: written after tun_id (flags first), printed
  // after tun_dst (flags last). Only oam of the tunnel flags can be matched: an exact tun_flags
  // keeps mask 1 of OVS's four bits, so it goes out masked and prints as +oam/-oam.
  row({ name: 'tun_flags', bits: 16, format: 'flags', flags: TUN_FLAGS, slot: 'tun_flags', slotMask: 1n,
    nxm: nx(104, 2, 'NXM_NX_TUN_FLAGS'), oxmRank: 201, print: { rank: 69.7, style: 'flags' } }),
  row({ name: 'tun_ipv6_src', bits: 128, format: 'ipv6', slot: 'tun_ipv6_src', nxm: nx(109, 16, 'NXM_NX_TUN_IPV6_SRC'), oxmRank: 212,
    print: { rank: 63, style: 'field' } }),
  row({ name: 'tun_ipv6_dst', bits: 128, format: 'ipv6', slot: 'tun_ipv6_dst', nxm: nx(110, 16, 'NXM_NX_TUN_IPV6_DST'), oxmRank: 213,
    print: { rank: 64, style: 'field' } }),
  row({ name: 'tun_gbp_id', bits: 16, format: 'decimal', slot: 'tun_gbp_id', nxm: nx(38, 2, 'NXM_NX_TUN_GBP_ID'), oxmRank: 214,
    print: { rank: 65, style: 'be16' } }),
  row({ name: 'tun_gbp_flags', bits: 8, format: 'hex', slot: 'tun_gbp_flags', nxm: nx(39, 1, 'NXM_NX_TUN_GBP_FLAGS'), oxmRank: 215,
    print: { rank: 66, style: 'value' } }),
  // ERSPAN and GTP-U (Nicira experimenter OXMs). The index prints with version 1 only, direction
  // and hardware id with version 2; GTP-U prints without its tun_ prefix.
  row({ name: 'tun_erspan_idx', bits: 32, format: 'hex', slot: 'tun_erspan_idx', nxm: nxExp(11, 4, 'NXOXM_ET_ERSPAN_IDX'),
    oxmRank: 220, print: { rank: 68, when: 'erspan_v1', style: 'value' } }),
  row({ name: 'tun_erspan_ver', bits: 8, format: 'decimal', slot: 'tun_erspan_ver', maskIsValue: true,
    nxm: nxExp(12, 1, 'NXOXM_ET_ERSPAN_VER'), oxmRank: 221, print: { rank: 67, style: 'value' } }),
  row({ name: 'tun_erspan_dir', bits: 8, format: 'decimal', slot: 'tun_erspan_dir', maskIsValue: true,
    nxm: nxExp(13, 1, 'NXOXM_ET_ERSPAN_DIR'), oxmRank: 222, print: { rank: 69, when: 'erspan_v2', style: 'value' } }),
  row({ name: 'tun_erspan_hwid', bits: 8, format: 'hex', slot: 'tun_erspan_hwid', maskIsValue: true,
    nxm: nxExp(14, 1, 'NXOXM_ET_ERSPAN_HWID'), oxmRank: 223, print: { rank: 69.1, when: 'erspan_v2', style: 'value' } }),
  row({ name: 'tun_gtpu_flags', bits: 8, format: 'hex', slot: 'tun_gtpu_flags', maskIsValue: true, writable: false,
    nxm: nxExp(15, 1, 'NXOXM_ET_GTPU_FLAGS'), oxmRank: 224, print: { rank: 69.2, as: 'gtpu_flags', style: 'value' } }),
  row({ name: 'tun_gtpu_msgtype', bits: 8, format: 'decimal', slot: 'tun_gtpu_msgtype', maskIsValue: true, writable: false,
    nxm: nxExp(16, 1, 'NXOXM_ET_GTPU_MSGTYPE'), oxmRank: 225, print: { rank: 69.3, as: 'gtpu_msgtype', style: 'value' } }),
  // Geneve options (no OXM: NXM_NX_TUN_METADATAn, header length 124 = any length): written after
  // the GBP flags and before ERSPAN, printed after tun_flags.
  ...TUN_METADATA_SLOTS.map((slot, i) => row({ name: slot, bits: TUN_METADATA_BYTES * 8, format: 'hex', slot, variableLen: true,
    nxm: nx(40 + i, TUN_METADATA_BYTES, `NXM_NX_TUN_METADATA${i}`), oxmRank: 216 + i / 100, print: { rank: 69.8 + i / 1000, style: 'field' } })),
  row({ name: 'eth_src', of10: 'exact', of11: 'bitwise', aliases: ['dl_src'], bits: 48, format: 'ethernet', slot: 'dl_src', prereq: 'ethernet',
    nxm: nxm(2, 6, 'NXM_OF_ETH_SRC'), oxm: oxm(4, 6, 'OXM_OF_ETH_SRC'), oxmRank: 30, print: { rank: 100, as: 'dl_src', style: 'field' } }),
  row({ name: 'eth_dst', of10: 'exact', of11: 'bitwise', aliases: ['dl_dst'], bits: 48, format: 'ethernet', slot: 'dl_dst', prereq: 'ethernet',
    nxm: nxm(1, 6, 'NXM_OF_ETH_DST'), oxm: oxm(3, 6, 'OXM_OF_ETH_DST'), oxmRank: 31, print: { rank: 101, as: 'dl_dst', style: 'field' } }),
  row({ name: 'eth_type', of10: 'exact', of11: 'exact', aliases: ['dl_type'], bits: 16, format: 'hex', slot: 'dl_type', prereq: 'ethernet', maskable: false,
    writable: false, nxm: nxm(3, 2, 'NXM_OF_ETH_TYPE'), oxm: oxm(5, 2, 'OXM_OF_ETH_TYPE'), oxmRank: 32, print: { rank: 102, as: 'dl_type', style: 'dl_type' } }),
  // The TCI: in OpenFlow 1.3 OVS writes it as vlan_vid (13 bits: VID and tag-present) and vlan_pcp.
  row({ name: 'vlan_tci', of10: 'exact', of11: 'exact', bits: 16, format: 'hex', slot: 'vlan_tci', prereq: 'ethernet', nxm: nxm(4, 2, 'NXM_OF_VLAN_TCI'), print: { rank: 90, style: 'vlan_tci' } }),
  row({ name: 'dl_vlan', of10: 'exact', of11: 'exact', bits: 12, format: 'decimal', slot: 'vlan_tci', prereq: 'ethernet', maskable: false,
    presentBits: VLAN_CFI, absentValue: 0xffffn }),
  row({ name: 'vlan_vid', of10: 'exact', of11: 'exact', bits: 12, format: 'decimal', slot: 'vlan_tci', prereq: 'ethernet', slotMask: 0x1fffn,
    oxm: oxm(6, 2, 'OXM_OF_VLAN_VID'), oxmRank: 40 }),
  row({ name: 'dl_vlan_pcp', of10: 'exact', of11: 'exact', bits: 3, format: 'decimal', slot: 'vlan_tci', slotShift: 13, prereq: 'ethernet', maskable: false,
    presentBits: VLAN_CFI }),
  row({ name: 'vlan_pcp', of10: 'exact', of11: 'exact', bits: 3, format: 'decimal', slot: 'vlan_tci', slotShift: 13, maskable: false, prereq: 'vlan',
    presentBits: VLAN_CFI, oxm: oxm(7, 1, 'OXM_OF_VLAN_PCP'), oxmRank: 41 }),
  row({ name: 'ip_src', of10: 'cidr', of11: 'bitwise', aliases: ['nw_src'], bits: 32, format: 'ipv4', slot: 'nw_src', prereq: 'ipv4',
    nxm: nxm(7, 4, 'NXM_OF_IP_SRC'), oxm: oxm(11, 4, 'OXM_OF_IPV4_SRC'), oxmRank: 50, print: { rank: 113, as: 'nw_src', unless: ['ipv6', 'arp'], style: 'field' } }),
  row({ name: 'ip_dst', of10: 'cidr', of11: 'bitwise', aliases: ['nw_dst'], bits: 32, format: 'ipv4', slot: 'nw_dst', prereq: 'ipv4',
    nxm: nxm(8, 4, 'NXM_OF_IP_DST'), oxm: oxm(12, 4, 'OXM_OF_IPV4_DST'), oxmRank: 51, print: { rank: 114, as: 'nw_dst', unless: ['ipv6', 'arp'], style: 'field' } }),
  row({ name: 'ipv6_src', bits: 128, format: 'ipv6', slot: 'ipv6_src', prereq: 'ipv6',
    nxm: nx(19, 16, 'NXM_NX_IPV6_SRC'), oxm: oxm(26, 16, 'OXM_OF_IPV6_SRC'), oxmRank: 52, print: { rank: 110, when: 'ipv6', style: 'field' } }),
  row({ name: 'ipv6_dst', bits: 128, format: 'ipv6', slot: 'ipv6_dst', prereq: 'ipv6',
    nxm: nx(20, 16, 'NXM_NX_IPV6_DST'), oxm: oxm(27, 16, 'OXM_OF_IPV6_DST'), oxmRank: 53, print: { rank: 111, when: 'ipv6', style: 'field' } }),
  // OVS keeps an exact label with an all-ones 32-bit mask.
  row({ name: 'ipv6_label', bits: 20, format: 'hex', slot: 'ipv6_label', prereq: 'ipv6', exactMask: 0xffffffffn,
    nxm: nx(27, 4, 'NXM_NX_IPV6_LABEL'), oxm: oxm(28, 4, 'OXM_OF_IPV6_FLABEL'), oxmRank: 63, print: { rank: 112, when: 'ipv6', style: 'label' } }),
  row({ name: 'nw_proto', of10: 'exact', of11: 'exact', aliases: ['ip_proto'], bits: 8, format: 'decimal', slot: 'nw_proto', prereq: 'ip_any',
    maskable: false, writable: false, nxm: nxm(6, 1, 'NXM_OF_IP_PROTO'), oxm: oxm(10, 1, 'OXM_OF_IP_PROTO'), oxmRank: 70, print: { rank: 120, unless: ['arp'], style: 'value' } }),
  // The ToS byte: DSCP in the upper six bits (nw_tos keeps them in place, ip_dscp shifted), ECN in the lower two.
  row({ name: 'nw_tos', of10: 'exact', of11: 'exact', bits: 8, format: 'decimal', slot: 'nw_tos', prereq: 'ip_any', maskable: false, slotMask: 0xfcn,
    nxm: nxm(5, 1, 'NXM_OF_IP_TOS'), print: { rank: 130, style: 'value' } }),
  row({ name: 'ip_dscp', of10: 'exact', of11: 'exact', bits: 6, format: 'decimal', slot: 'nw_tos', slotShift: 2, prereq: 'ip_any', maskable: false,
    oxm: oxm(8, 1, 'OXM_OF_IP_DSCP'), oxmRank: 60 }),
  row({ name: 'nw_ecn', of11: 'exact', aliases: ['ip_ecn'], bits: 2, format: 'decimal', slot: 'nw_tos', prereq: 'ip_any',
    maskable: false, nxm: nx(28, 1, 'NXM_NX_IP_ECN'), oxm: oxm(9, 1, 'OXM_OF_IP_ECN'), oxmRank: 61, print: { rank: 131, style: 'value' } }),
  row({ name: 'nw_ttl', bits: 8, format: 'decimal', slot: 'nw_ttl', prereq: 'ip_any', maskable: false,
    nxm: nx(29, 1, 'NXM_NX_IP_TTL'), oxmRank: 62, print: { rank: 132, style: 'value' } }),
  // Bit 0: a fragment; bit 1: not the first one. Written after the addresses, printed after nw_ttl.
  row({ name: 'nw_frag', aliases: ['ip_frag'], bits: 2, format: 'frag', slot: 'nw_frag', prereq: 'ip_any', writable: false,
    nxm: nx(26, 1, 'NXM_NX_IP_FRAG'), oxmRank: 54, print: { rank: 133, style: 'field' } }),
  // ARP reuses the IP slots: the opcode's low byte in nw_proto, the addresses in nw_src/nw_dst.
  row({ name: 'arp_op', of10: 'exact', of11: 'exact', bits: 16, format: 'decimal', slot: 'nw_proto', prereq: 'arp', maskable: false,
    nxm: nxm(15, 2, 'NXM_OF_ARP_OP'), oxm: oxm(21, 2, 'OXM_OF_ARP_OP'), oxmRank: 100, print: { rank: 120, when: 'arp', style: 'value' } }),
  row({ name: 'arp_spa', of10: 'cidr', of11: 'bitwise', bits: 32, format: 'ipv4', slot: 'nw_src', prereq: 'arp',
    nxm: nxm(16, 4, 'NXM_OF_ARP_SPA'), oxm: oxm(22, 4, 'OXM_OF_ARP_SPA'), oxmRank: 101, print: { rank: 113, when: 'arp', style: 'field' } }),
  row({ name: 'arp_tpa', of10: 'cidr', of11: 'bitwise', bits: 32, format: 'ipv4', slot: 'nw_dst', prereq: 'arp',
    nxm: nxm(17, 4, 'NXM_OF_ARP_TPA'), oxm: oxm(23, 4, 'OXM_OF_ARP_TPA'), oxmRank: 102, print: { rank: 114, when: 'arp', style: 'field' } }),
  row({ name: 'arp_sha', bits: 48, format: 'ethernet', slot: 'arp_sha', prereq: 'arp',
    nxm: nx(17, 6, 'NXM_NX_ARP_SHA'), oxm: oxm(24, 6, 'OXM_OF_ARP_SHA'), oxmRank: 103, print: { rank: 121, when: 'arp', style: 'field' } }),
  row({ name: 'arp_tha', bits: 48, format: 'ethernet', slot: 'arp_tha', prereq: 'arp',
    nxm: nx(18, 6, 'NXM_NX_ARP_THA'), oxm: oxm(25, 6, 'OXM_OF_ARP_THA'), oxmRank: 104, print: { rank: 122, when: 'arp', style: 'field' } }),
  row({ name: 'tcp_src', of10: 'exact', of11: 'exact', aliases: ['tp_src'], bits: 16, format: 'decimal', slot: 'tp_src', prereq: 'tcp',
    nxm: nxm(9, 2, 'NXM_OF_TCP_SRC'), oxm: oxm(13, 2, 'OXM_OF_TCP_SRC'), oxmRank: 80, print: { rank: 140, as: 'tp_src', unless: ['icmpv4', 'icmpv6'], asWhen: ['igmp', 'igmp_type'], style: 'be16' } }),
  row({ name: 'tcp_dst', of10: 'exact', of11: 'exact', aliases: ['tp_dst'], bits: 16, format: 'decimal', slot: 'tp_dst', prereq: 'tcp',
    nxm: nxm(10, 2, 'NXM_OF_TCP_DST'), oxm: oxm(14, 2, 'OXM_OF_TCP_DST'), oxmRank: 81, print: { rank: 141, as: 'tp_dst', unless: ['icmpv4', 'icmpv6'], asWhen: ['igmp', 'igmp_code'], style: 'be16' } }),
  // 12 flag bits in a 16-bit slot: OVS keeps an exact match as 0xffff, and 0xfff is a mask it writes.
  row({ name: 'tcp_flags', bits: 12, format: 'flags', flags: TCP_FLAGS, slot: 'tcp_flags', prereq: 'tcp', writable: false,
    slotMask: 0xffffn, nxm: nx(34, 2, 'NXM_NX_TCP_FLAGS'), oxm: onf(42, 2, 'ONFOXM_ET_TCP_FLAGS'), oxmRank: 81.5,
    print: { rank: 150, when: 'tcp', style: 'flags' } }),
  row({ name: 'udp_src', of10: 'exact', of11: 'exact', bits: 16, format: 'decimal', slot: 'tp_src', prereq: 'udp',
    nxm: nxm(11, 2, 'NXM_OF_UDP_SRC'), oxm: oxm(15, 2, 'OXM_OF_UDP_SRC'), oxmRank: 82 }),
  row({ name: 'udp_dst', of10: 'exact', of11: 'exact', bits: 16, format: 'decimal', slot: 'tp_dst', prereq: 'udp',
    nxm: nxm(12, 2, 'NXM_OF_UDP_DST'), oxm: oxm(16, 2, 'OXM_OF_UDP_DST'), oxmRank: 83 }),
  row({ name: 'sctp_src', of11: 'exact', bits: 16, format: 'decimal', slot: 'tp_src', prereq: 'sctp', oxm: oxm(17, 2, 'OXM_OF_SCTP_SRC'),
    oxmRank: 84 }),
  row({ name: 'sctp_dst', of11: 'exact', bits: 16, format: 'decimal', slot: 'tp_dst', prereq: 'sctp', oxm: oxm(18, 2, 'OXM_OF_SCTP_DST'),
    oxmRank: 85 }),
  // ICMP type and code live in the L4 port slots, which OVS matches whole.
  row({ name: 'icmp_type', of10: 'exact', of11: 'exact', bits: 8, format: 'decimal', slot: 'tp_src', prereq: 'icmpv4', maskable: false, exactMask: 0xffffn,
    nxm: nxm(13, 1, 'NXM_OF_ICMP_TYPE'), oxm: oxm(19, 1, 'OXM_OF_ICMPV4_TYPE'), oxmRank: 86, print: { rank: 140, when: 'icmpv4', style: 'be16' } }),
  row({ name: 'icmp_code', of10: 'exact', of11: 'exact', bits: 8, format: 'decimal', slot: 'tp_dst', prereq: 'icmpv4', maskable: false, exactMask: 0xffffn,
    nxm: nxm(14, 1, 'NXM_OF_ICMP_CODE'), oxm: oxm(20, 1, 'OXM_OF_ICMPV4_CODE'), oxmRank: 87, print: { rank: 141, when: 'icmpv4', style: 'be16' } }),
  row({ name: 'icmpv6_type', bits: 8, format: 'decimal', slot: 'tp_src', prereq: 'icmpv6', maskable: false, exactMask: 0xffffn,
    nxm: nx(21, 1, 'NXM_NX_ICMPV6_TYPE'), oxm: oxm(29, 1, 'OXM_OF_ICMPV6_TYPE'), oxmRank: 88, print: { rank: 140, as: 'icmp_type', when: 'icmpv6', style: 'be16' } }),
  row({ name: 'icmpv6_code', bits: 8, format: 'decimal', slot: 'tp_dst', prereq: 'icmpv6', maskable: false, exactMask: 0xffffn,
    nxm: nx(22, 1, 'NXM_NX_ICMPV6_CODE'), oxm: oxm(30, 1, 'OXM_OF_ICMPV6_CODE'), oxmRank: 89, print: { rank: 141, as: 'icmp_code', when: 'icmpv6', style: 'be16' } }),
  row({ name: 'nd_target', bits: 128, format: 'ipv6', slot: 'nd_target', prereq: 'nd',
    nxm: nx(23, 16, 'NXM_NX_ND_TARGET'), oxm: oxm(31, 16, 'OXM_OF_IPV6_ND_TARGET'), oxmRank: 90, print: { rank: 142, when: 'icmpv6', style: 'field' } }),
  // Neighbour discovery link-layer addresses share the ARP hardware-address slots.
  row({ name: 'nd_sll', bits: 48, format: 'ethernet', slot: 'arp_sha', prereq: 'nd_solicit',
    nxm: nx(24, 6, 'NXM_NX_ND_SLL'), oxm: oxm(32, 6, 'OXM_OF_IPV6_ND_SLL'), oxmRank: 91, print: { rank: 143, when: 'icmpv6', style: 'field' } }),
  row({ name: 'nd_tll', bits: 48, format: 'ethernet', slot: 'arp_tha', prereq: 'nd_advert',
    nxm: nx(25, 6, 'NXM_NX_ND_TLL'), oxm: oxm(33, 6, 'OXM_OF_IPV6_ND_TLL'), oxmRank: 92, print: { rank: 144, when: 'icmpv6', style: 'field' } }),
  // Network Service Header (NXOXM_NSH_*): written after ERSPAN/GTP-U, printed in place of the IP
  // addresses when the packet is NSH; the context headers print only with nsh_mdtype=1.
  row({ name: 'nsh_flags', bits: 8, format: 'decimal', slot: 'nsh_flags', prereq: 'nsh', nxm: nsh(1, 1, 'NXOXM_NSH_FLAGS'), oxmRank: 230,
    print: { rank: 113.01, when: 'nsh', style: 'u8' } }),
  row({ name: 'nsh_ttl', bits: 8, format: 'decimal', slot: 'nsh_ttl', prereq: 'nsh', maskable: false, nxm: nsh(10, 1, 'NXOXM_NSH_TTL'),
    oxmRank: 231, print: { rank: 113.02, when: 'nsh', style: 'field' } }),
  row({ name: 'nsh_mdtype', bits: 8, format: 'decimal', slot: 'nsh_mdtype', prereq: 'nsh', maskable: false, writable: false,
    nxm: nsh(2, 1, 'NXOXM_NSH_MDTYPE'), oxmRank: 232, print: { rank: 113.03, when: 'nsh', style: 'field' } }),
  row({ name: 'nsh_np', bits: 8, format: 'decimal', slot: 'nsh_np', prereq: 'nsh', maskable: false, writable: false,
    nxm: nsh(3, 1, 'NXOXM_NSH_NP'), oxmRank: 233, print: { rank: 113.04, when: 'nsh', style: 'field' } }),
  row({ name: 'nsh_spi', aliases: ['nsp'], bits: 24, format: 'hex', slot: 'nsh_spi', prereq: 'nsh', maskable: false,
    nxm: nsh(4, 4, 'NXOXM_NSH_SPI'), oxmRank: 234, print: { rank: 113.05, when: 'nsh', style: 'field' } }),
  row({ name: 'nsh_si', aliases: ['nsi'], bits: 8, format: 'decimal', slot: 'nsh_si', prereq: 'nsh', maskable: false,
    nxm: nsh(5, 1, 'NXOXM_NSH_SI'), oxmRank: 235, print: { rank: 113.06, when: 'nsh', style: 'field' } }),
  ...[1, 2, 3, 4].map((i) => row({ name: `nsh_c${i}`, aliases: [`nshc${i}`], bits: 32, format: 'hex', slot: `nsh_c${i}` as Slot, prereq: 'nsh',
    nxm: nsh(5 + i, 4, `NXOXM_NSH_C${i}`), oxmRank: 235 + i, print: { rank: 113.06 + i / 100, when: 'nsh_md1', style: 'field' } })),
  // Neighbour discovery's reserved word and option type: written after the ICMPv6 code, printed after nd_tll.
  row({ name: 'nd_reserved', bits: 32, format: 'decimal', slot: 'nd_reserved', prereq: 'nd', maskable: false,
    nxm: eric(1, 4, 'ERICOXM_OF_ICMPV6_ND_RESERVED'), oxmRank: 89.1, print: { rank: 145, when: 'icmpv6', style: 'value' } }),
  row({ name: 'nd_options_type', bits: 8, format: 'decimal', slot: 'nd_options_type', prereq: 'nd', maskable: false,
    nxm: eric(2, 1, 'ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE'), oxmRank: 89.2, print: { rank: 146, when: 'icmpv6', style: 'value' } }),
  // Connection tracking (NXM only). match_format() prints them after conj_id, before the protocol
  // keyword; nx_put_raw() writes them after pkt_mark. The original-direction tuple (ct_nw_*,
  // ct_ipv6_*, ct_tp_*) needs a valid connection (OVS's MFP_CT_VALID, which the switch checks and
  // ovs-ofctl does not: 'ct' holds here), and the ports a ct_nw_proto ('ct_l4', as nx_put_raw()
  // writes and match_format() prints them only with it).
  row({ name: 'ct_state', bits: 32, format: 'flags', flags: CT_STATE_FLAGS, slot: 'ct_state', writable: false,
    nxm: nx(105, 4, 'NXM_NX_CT_STATE'), oxmRank: 301, print: { rank: 31, style: 'flags' } }),
  row({ name: 'ct_zone', bits: 16, format: 'hex', slot: 'ct_zone', maskable: false, writable: false,
    nxm: nx(106, 2, 'NXM_NX_CT_ZONE'), oxmRank: 302, print: { rank: 31.1, style: 'be16' } }),
  row({ name: 'ct_mark', bits: 32, format: 'hex', slot: 'ct_mark', nxm: nx(107, 4, 'NXM_NX_CT_MARK'), oxmRank: 303,
    print: { rank: 31.2, style: 'field' } }),
  row({ name: 'ct_label', bits: 128, format: 'hex', slot: 'ct_label', nxm: nx(108, 16, 'NXM_NX_CT_LABEL'), oxmRank: 304,
    print: { rank: 31.3, style: 'field' } }),
  row({ name: 'ct_nw_src', bits: 32, format: 'ipv4', slot: 'ct_nw_src', prereq: 'ct', writable: false,
    nxm: nx(120, 4, 'NXM_NX_CT_NW_SRC'), oxmRank: 305, print: { rank: 31.4, style: 'field' } }),
  row({ name: 'ct_ipv6_src', bits: 128, format: 'ipv6', slot: 'ct_ipv6_src', prereq: 'ct', writable: false,
    nxm: nx(122, 16, 'NXM_NX_CT_IPV6_SRC'), oxmRank: 306, print: { rank: 31.5, style: 'field' } }),
  row({ name: 'ct_nw_dst', bits: 32, format: 'ipv4', slot: 'ct_nw_dst', prereq: 'ct', writable: false,
    nxm: nx(121, 4, 'NXM_NX_CT_NW_DST'), oxmRank: 307, print: { rank: 31.6, style: 'field' } }),
  row({ name: 'ct_ipv6_dst', bits: 128, format: 'ipv6', slot: 'ct_ipv6_dst', prereq: 'ct', writable: false,
    nxm: nx(123, 16, 'NXM_NX_CT_IPV6_DST'), oxmRank: 308, print: { rank: 31.7, style: 'field' } }),
  row({ name: 'ct_nw_proto', bits: 8, format: 'decimal', slot: 'ct_nw_proto', prereq: 'ct', maskable: false, writable: false,
    nxm: nx(119, 1, 'NXM_NX_CT_NW_PROTO'), oxmRank: 309, print: { rank: 31.8, style: 'value' } }),
  row({ name: 'ct_tp_src', bits: 16, format: 'decimal', slot: 'ct_tp_src', prereq: 'ct_l4', writable: false,
    nxm: nx(124, 2, 'NXM_NX_CT_TP_SRC'), oxmRank: 309.1, print: { rank: 31.9, style: 'be16' } }),
  row({ name: 'ct_tp_dst', bits: 16, format: 'decimal', slot: 'ct_tp_dst', prereq: 'ct_l4', writable: false,
    nxm: nx(125, 2, 'NXM_NX_CT_TP_DST'), oxmRank: 309.2, print: { rank: 31.95, style: 'be16' } }),
];

/** The rows that view each slot. */
export const FIELDS_OF_SLOT: ReadonlyMap<Slot, readonly FieldDef[]> = (() => {
  const m = new Map<Slot, FieldDef[]>();
  for (const f of FIELDS) {
    const fs = m.get(f.slot);
    if (fs) fs.push(f);
    else m.set(f.slot, [f]);
  }
  return m;
})();

const ETHERNET_SLOTS = new Set<Slot>();
for (const f of FIELDS) if (f.prereq !== 'none') ETHERNET_SLOTS.add(f.slot);

/**
 * Whether matching this slot says the packet is Ethernet (a field with prerequisite 'none', such as
 * in_port or a register, does not): OVS then leaves the default packet_type out of a match.
 */
export function impliesEthernet(slot: Slot): boolean {
  return ETHERNET_SLOTS.has(slot);
}

/** Built on first use (the simulator's), not at load. */
let PREREQ_BITS: ReadonlyMap<Slot, bigint> | undefined;

/** The bits of a slot that only fields with a protocol prerequisite view (vlan_tci: the PCP; nw_src: all). */
export function prereqBits(slot: Slot): bigint {
  PREREQ_BITS ??= new Map([...FIELDS_OF_SLOT].map(([s, fs]) =>
    [s, fs.reduce((bits, f) => (f.prereq === 'none' || f.prereq === 'ethernet' ? bits : bits | f.slotMask), 0n)]));
  return PREREQ_BITS.get(slot) ?? 0n;
}

export const ETH_TYPE_IP = 0x0800n;
export const ETH_TYPE_ARP = 0x0806n;
export const ETH_TYPE_RARP = 0x8035n;
export const ETH_TYPE_IPV6 = 0x86ddn;
export const ETH_TYPE_MPLS = 0x8847n;
export const ETH_TYPE_MPLS_MCAST = 0x8848n;
export const ETH_TYPE_NSH = 0x894fn;
export const IPPROTO_ICMP = 1n;
export const IPPROTO_TCP = 6n;
export const IPPROTO_UDP = 17n;
export const IPPROTO_SCTP = 132n;
export const IPPROTO_ICMPV6 = 58n;

/**
 * ovs-ofctl's protocol keywords: a dl_type and, for some, an IP protocol. The first entry of a
 * pair is the one match_format() prints (ip, not ipv4); ip and ipv6 print when no entry with the
 * match's protocol exists.
 */
export interface ProtocolKeyword {
  readonly name: string;
  readonly dlType: bigint;
  readonly nwProto?: bigint;
}

// No `igmp`: OVS dropped the keyword in 2.17; 3.1 prints `ip,nw_proto=2` (and igmp_type/igmp_code
// for tp_src/tp_dst there).
export const PROTOCOL_KEYWORDS: readonly ProtocolKeyword[] = [
  { name: 'ip', dlType: ETH_TYPE_IP }, { name: 'ipv4', dlType: ETH_TYPE_IP }, { name: 'ip4', dlType: ETH_TYPE_IP },
  { name: 'ipv6', dlType: ETH_TYPE_IPV6 }, { name: 'ip6', dlType: ETH_TYPE_IPV6 },
  { name: 'icmp', dlType: ETH_TYPE_IP, nwProto: IPPROTO_ICMP },
  { name: 'tcp', dlType: ETH_TYPE_IP, nwProto: IPPROTO_TCP }, { name: 'udp', dlType: ETH_TYPE_IP, nwProto: IPPROTO_UDP },
  { name: 'sctp', dlType: ETH_TYPE_IP, nwProto: IPPROTO_SCTP },
  { name: 'icmp6', dlType: ETH_TYPE_IPV6, nwProto: IPPROTO_ICMPV6 }, { name: 'tcp6', dlType: ETH_TYPE_IPV6, nwProto: IPPROTO_TCP },
  { name: 'udp6', dlType: ETH_TYPE_IPV6, nwProto: IPPROTO_UDP }, { name: 'sctp6', dlType: ETH_TYPE_IPV6, nwProto: IPPROTO_SCTP },
  { name: 'arp', dlType: ETH_TYPE_ARP }, { name: 'rarp', dlType: ETH_TYPE_RARP },
  { name: 'mpls', dlType: ETH_TYPE_MPLS }, { name: 'mplsm', dlType: ETH_TYPE_MPLS_MCAST },
];

/** What a match says about the protocols, for prerequisite checks (undefined: not said). */
export interface ProtocolContext {
  readonly dlType: bigint | undefined;
  readonly nwProto: bigint | undefined;
  /** The VLAN VID and tag-present bits of the TCI are not all zero. */
  readonly vlan: boolean;
  /** The ICMP type (tp_src). */
  readonly icmpType: bigint | undefined;
  /** The ICMP code is unmatched or 0 (neighbour discovery; not checked when normalising, as OVS does not). */
  readonly ndCode: boolean;
  /** The conntrack IP protocol (ct_nw_proto), whatever its mask. */
  readonly ctNwProto: bigint | undefined;
  /** The ERSPAN version (tun_erspan_ver), whatever its mask: for printing only. */
  readonly erspanVer: bigint | undefined;
  /** The NSH metadata type (nsh_mdtype) when matched exactly: for printing only. */
  readonly nshMdType: bigint | undefined;
}

/** OVS's mf_are_prereqs_ok(): whether a context allows a field with this prerequisite. */
export function prereqHolds(p: Prereq, c: ProtocolContext): boolean {
  const t = c.dlType;
  const ip = t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
  switch (p) {
    case 'none':
    case 'ethernet':
      return true;
    case 'vlan':
      return c.vlan;
    case 'ipv4':
      return t === ETH_TYPE_IP;
    case 'ipv6':
      return t === ETH_TYPE_IPV6;
    case 'ip_any':
      return ip;
    case 'arp':
      return t === ETH_TYPE_ARP || t === ETH_TYPE_RARP;
    case 'tcp':
      return ip && c.nwProto === IPPROTO_TCP;
    case 'udp':
      return ip && c.nwProto === IPPROTO_UDP;
    case 'sctp':
      return ip && c.nwProto === IPPROTO_SCTP;
    case 'icmpv4':
      return t === ETH_TYPE_IP && c.nwProto === IPPROTO_ICMP;
    case 'icmpv6':
      return t === ETH_TYPE_IPV6 && c.nwProto === IPPROTO_ICMPV6;
    case 'nd':
      return prereqHolds('icmpv6', c) && (c.icmpType === 135n || c.icmpType === 136n) && c.ndCode;
    case 'nd_solicit':
      return prereqHolds('icmpv6', c) && c.icmpType === 135n && c.ndCode;
    case 'nd_advert':
      return prereqHolds('icmpv6', c) && c.icmpType === 136n && c.ndCode;
    case 'ct':
      return true;
    case 'ct_l4':
      return c.ctNwProto !== undefined && c.ctNwProto !== 0n;
    case 'mpls':
      return t === ETH_TYPE_MPLS || t === ETH_TYPE_MPLS_MCAST;
    case 'nsh':
      return t === ETH_TYPE_NSH;
  }
}

/** A field's headers: NXM, OXM and OpenFlow 1.5's. */
export const headersOf = (f: FieldDef): FieldHeader[] => [f.nxm, f.oxm, f.of15].filter((h): h is FieldHeader => h !== undefined);

// The indexes below are built on their first lookup, not at load: a dump needs only the headers,
// a flow file only the names, and each built at start-up was cold code and young garbage (the
// scavenges of a small command) for every command.
let byName: Map<string, FieldDef> | undefined;
let byHeader: Map<number, { readonly f: FieldDef; readonly h: FieldHeader }> | undefined;
let bySubfieldName: Map<string, FieldDef> | undefined;

function headerIndex(): Map<number, { readonly f: FieldDef; readonly h: FieldHeader }> {
  if (byHeader) return byHeader;
  const m = new Map<number, { readonly f: FieldDef; readonly h: FieldHeader }>();
  for (const f of FIELDS) {
    for (const h of [f.nxm, f.oxm, f.of15]) {
      if (h === undefined) continue;
      // Experimenter headers are keyed without their experimenter id: two may not share a key.
      if (m.has(h.header)) throw new Error(`field table: header 0x${h.header.toString(16)} of ${f.name} is taken`);
      m.set(h.header, { f, h });
    }
  }
  return (byHeader = m);
}

export function fieldByName(name: string): FieldDef | undefined {
  if (!byName) {
    byName = new Map();
    for (const f of FIELDS) {
      byName.set(f.name, f);
      for (const a of f.aliases) byName.set(a, f);
    }
  }
  return byName.get(name);
}

/** The row and header whose 32-bit header (has-mask clear, the value width as length) is exactly `header`. */
export function fieldHeader(header: number): { readonly f: FieldDef; readonly h: FieldHeader } | undefined {
  return headerIndex().get(header);
}

/**
 * Looks a field up by a 32-bit NXM/OXM header (has-mask bit and length normalised away); an
 * experimenter header's length without its experimenter id, which must be the field's.
 */
export function fieldByHeader(header: number, experimenter?: number): FieldDef | undefined {
  const e = headerIndex().get(unmaskedHeader(header)) ?? variableByHeader(header);
  return e && (e.h.experimenter === undefined || e.h.experimenter === experimenter) ? e.f : undefined;
}

/** A variable-length field (tun_metadata) named by a header of any length below 128 (OVS's nxm_field_by_header). */
function variableByHeader(header: number): { readonly f: FieldDef; readonly h: FieldHeader } | undefined {
  const len = header & 0xff;
  if (len >= 128) return undefined;
  const e = headerIndex().get((((header & 0xfffffe00) >>> 0) | TUN_METADATA_BYTES) >>> 0);
  return e?.f.variableLen ? e : undefined;
}

/** The header with has-mask cleared and the length byte set to the unmasked value width. */
function unmaskedHeader(header: number): number {
  const hasMask = (header & 0x100) !== 0;
  const len = header & 0xff;
  return (((header & 0xfffffe00) >>> 0) | (hasMask ? len >> 1 : len)) >>> 0;
}

/** The value width (bytes) a header of this field carries: its OXM and NXM forms may differ (in_port). */
export function headerValueBytes(f: FieldDef, header: number): number {
  return (headerOf(f, header) ?? f.nxm)!.header & 0xff;
}

/** Which of the field's OXM and OpenFlow 1.5 headers this wire header is (class and field compared), if either. */
export function headerOf(f: FieldDef, header: number): FieldHeader | undefined {
  const key = header & 0xfffffe00;
  if (f.oxm && key === (f.oxm.header & 0xfffffe00)) return f.oxm;
  return f.of15 && key === (f.of15.header & 0xfffffe00) ? f.of15 : undefined;
}

/** The header OVS 3.1 uses for this field in OpenFlow 1.3 (OXM when the field has one). */
export function of13Header(f: FieldDef): FieldHeader | undefined {
  return f.oxm ?? f.nxm;
}

/** The name OVS prints for a subfield of this field (the oldest header: NXM before OXM). */
export function subfieldName(f: FieldDef): string {
  return (f.nxm ?? f.oxm)?.name ?? f.name;
}

/** Looks up a field by the NXM/OXM name used in subfield syntax (NXM_OF_ETH_SRC, OXM_OF_IN_PORT). */
export function fieldBySubfieldName(name: string): FieldDef | undefined {
  if (!bySubfieldName) {
    bySubfieldName = new Map();
    for (const f of FIELDS) for (const h of headersOf(f)) bySubfieldName.set(h.name, f);
  }
  return bySubfieldName.get(name);
}


