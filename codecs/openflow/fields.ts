// The field table: the single source of truth for every match/set_field/subfield field the codec
// knows. Modelled on OVS's meta-flow: a *field* is a named view (what ovs-ofctl calls it, its width,
// format and NXM/OXM headers) onto a *slot* of the flow (what a match really constrains). Several
// views can share a slot: dl_vlan, vlan_vid, dl_vlan_pcp and vlan_pcp all live in the 16-bit TCI;
// arp_spa lives in nw_src; icmp_type in tp_src, exactly as OVS stores them, so that the match
// printer and encoder can follow OVS's own order over slots.

/** Where a field's value lives in a match. */
export type Slot =
  | 'packet_type' | 'in_port' | 'metadata' | 'tun_id' | 'tun_src' | 'tun_dst' | 'pkt_mark' | 'conj_id'
  | 'reg0' | 'reg1' | 'reg2' | 'reg3' | 'reg4' | 'reg5' | 'reg6' | 'reg7'
  | 'reg8' | 'reg9' | 'reg10' | 'reg11' | 'reg12' | 'reg13' | 'reg14' | 'reg15'
  | 'dl_src' | 'dl_dst' | 'dl_type' | 'vlan_tci'
  | 'nw_src' | 'nw_dst' | 'ipv6_src' | 'ipv6_dst' | 'ipv6_label'
  | 'nw_proto' | 'nw_tos' | 'nw_ttl' | 'tp_src' | 'tp_dst' | 'tcp_flags'
  | 'arp_sha' | 'arp_tha' | 'nd_target';

/** Width of each slot in bits. */
export const SLOT_BITS: Readonly<Record<Slot, number>> = {
  packet_type: 32, in_port: 16, metadata: 64, tun_id: 64, tun_src: 32, tun_dst: 32, pkt_mark: 32, conj_id: 32,
  reg0: 32, reg1: 32, reg2: 32, reg3: 32, reg4: 32, reg5: 32, reg6: 32, reg7: 32,
  reg8: 32, reg9: 32, reg10: 32, reg11: 32, reg12: 32, reg13: 32, reg14: 32, reg15: 32,
  dl_src: 48, dl_dst: 48, dl_type: 16, vlan_tci: 16,
  nw_src: 32, nw_dst: 32, ipv6_src: 128, ipv6_dst: 128, ipv6_label: 32,
  nw_proto: 8, nw_tos: 8, nw_ttl: 8, tp_src: 16, tp_dst: 16, tcp_flags: 16,
  arp_sha: 48, arp_tha: 48, nd_target: 128,
};

export type FieldFormat = 'decimal' | 'hex' | 'ethernet' | 'ipv4' | 'ipv6' | 'port';

/** What a match must already say before a field may be matched (OVS "prerequisites"). */
export type Prereq =
  | 'none' | 'ip' | 'ipv4' | 'ipv6' | 'arp' | 'vlan' | 'tcp' | 'udp' | 'sctp' | 'tcp_any'
  | 'icmpv4' | 'icmpv6' | 'nd' | 'ip_any';

export interface FieldHeader {
  /** 32-bit NXM/OXM header without the has-mask bit; the length byte is the value width. */
  readonly header: number;
  readonly name: string;
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
  /** Match slot; undefined for fields that cannot be matched through this view. */
  readonly slot: Slot;
  /** The value's bit offset inside its slot (dl_vlan: 0, dl_vlan_pcp: 13). */
  readonly slotShift?: number;
  /** The field is writable with set_field / load / move (OVS "Access: read/write"). */
  readonly writable: boolean;
}

export const NXM_OF = 0x0000;
export const NXM_NX = 0x0001;
export const OFPXMC_OPENFLOW_BASIC = 0x8000;
export const OFPXMC_EXPERIMENTER = 0xffff;

const nxm = (field: number, bytes: number, name: string, cls = NXM_OF): FieldHeader =>
  ({ header: ((cls << 16) | (field << 9) | bytes) >>> 0, name });
const nx = (field: number, bytes: number, name: string): FieldHeader => nxm(field, bytes, name, NXM_NX);
const oxm = (field: number, bytes: number, name: string): FieldHeader =>
  ({ header: ((OFPXMC_OPENFLOW_BASIC << 16) | (field << 9) | bytes) >>> 0, name });

type Row = Omit<FieldDef, 'aliases' | 'maskable' | 'prereq' | 'writable'> &
  Partial<Pick<FieldDef, 'aliases' | 'maskable' | 'prereq' | 'writable'>>;

const row = (r: Row): FieldDef => ({ aliases: [], maskable: true, prereq: 'none', writable: true, ...r });

const REGS: FieldDef[] = Array.from({ length: 16 }, (_, i) =>
  row({ name: `reg${i}`, bits: 32, format: 'hex', slot: `reg${i}` as Slot, nxm: nx(i, 4, `NXM_NX_REG${i}`) }));

export const FIELDS: readonly FieldDef[] = [
  row({ name: 'in_port', bits: 16, format: 'port', slot: 'in_port', maskable: false, nxm: nxm(0, 2, 'NXM_OF_IN_PORT') }),
  // (namespace << 16) | type; 0 is Ethernet, OVS's default, implied by any Ethernet-level field.
  row({ name: 'packet_type', bits: 32, format: 'hex', slot: 'packet_type', writable: false, maskable: false, oxm: oxm(44, 4, 'OXM_OF_PACKET_TYPE') }),
  row({ name: 'in_port_oxm', bits: 32, format: 'port', slot: 'in_port', maskable: false, oxm: oxm(0, 4, 'OXM_OF_IN_PORT') }),
  row({ name: 'metadata', bits: 64, format: 'hex', slot: 'metadata', oxm: oxm(2, 8, 'OXM_OF_METADATA') }),
  row({ name: 'tun_id', aliases: ['tunnel_id'], bits: 64, format: 'hex', slot: 'tun_id',
    nxm: nx(16, 8, 'NXM_NX_TUN_ID'), oxm: oxm(38, 8, 'OXM_OF_TUNNEL_ID') }),
  row({ name: 'tun_src', bits: 32, format: 'ipv4', slot: 'tun_src', nxm: nx(31, 4, 'NXM_NX_TUN_IPV4_SRC') }),
  row({ name: 'tun_dst', bits: 32, format: 'ipv4', slot: 'tun_dst', nxm: nx(32, 4, 'NXM_NX_TUN_IPV4_DST') }),
  row({ name: 'pkt_mark', bits: 32, format: 'hex', slot: 'pkt_mark', nxm: nx(33, 4, 'NXM_NX_PKT_MARK') }),
  row({ name: 'conj_id', bits: 32, format: 'decimal', slot: 'conj_id', maskable: false, writable: false,
    nxm: nx(37, 4, 'NXM_NX_CONJ_ID') }),
  ...REGS,
  row({ name: 'eth_src', aliases: ['dl_src'], bits: 48, format: 'ethernet', slot: 'dl_src',
    nxm: nxm(2, 6, 'NXM_OF_ETH_SRC'), oxm: oxm(4, 6, 'OXM_OF_ETH_SRC') }),
  row({ name: 'eth_dst', aliases: ['dl_dst'], bits: 48, format: 'ethernet', slot: 'dl_dst',
    nxm: nxm(1, 6, 'NXM_OF_ETH_DST'), oxm: oxm(3, 6, 'OXM_OF_ETH_DST') }),
  row({ name: 'eth_type', aliases: ['dl_type'], bits: 16, format: 'hex', slot: 'dl_type', maskable: false,
    writable: false, nxm: nxm(3, 2, 'NXM_OF_ETH_TYPE'), oxm: oxm(5, 2, 'OXM_OF_ETH_TYPE') }),
  row({ name: 'vlan_tci', bits: 16, format: 'hex', slot: 'vlan_tci', nxm: nxm(4, 2, 'NXM_OF_VLAN_TCI') }),
  row({ name: 'dl_vlan', bits: 12, format: 'decimal', slot: 'vlan_tci', maskable: false }),
  row({ name: 'vlan_vid', bits: 12, format: 'decimal', slot: 'vlan_tci', oxm: oxm(6, 2, 'OXM_OF_VLAN_VID') }),
  row({ name: 'dl_vlan_pcp', bits: 3, format: 'decimal', slot: 'vlan_tci', slotShift: 13, maskable: false }),
  row({ name: 'vlan_pcp', bits: 3, format: 'decimal', slot: 'vlan_tci', slotShift: 13, maskable: false, prereq: 'vlan',
    oxm: oxm(7, 1, 'OXM_OF_VLAN_PCP') }),
  row({ name: 'ip_src', aliases: ['nw_src'], bits: 32, format: 'ipv4', slot: 'nw_src', prereq: 'ipv4',
    nxm: nxm(7, 4, 'NXM_OF_IP_SRC'), oxm: oxm(11, 4, 'OXM_OF_IPV4_SRC') }),
  row({ name: 'ip_dst', aliases: ['nw_dst'], bits: 32, format: 'ipv4', slot: 'nw_dst', prereq: 'ipv4',
    nxm: nxm(8, 4, 'NXM_OF_IP_DST'), oxm: oxm(12, 4, 'OXM_OF_IPV4_DST') }),
  row({ name: 'ipv6_src', bits: 128, format: 'ipv6', slot: 'ipv6_src', prereq: 'ipv6',
    nxm: nx(19, 16, 'NXM_NX_IPV6_SRC'), oxm: oxm(26, 16, 'OXM_OF_IPV6_SRC') }),
  row({ name: 'ipv6_dst', bits: 128, format: 'ipv6', slot: 'ipv6_dst', prereq: 'ipv6',
    nxm: nx(20, 16, 'NXM_NX_IPV6_DST'), oxm: oxm(27, 16, 'OXM_OF_IPV6_DST') }),
  row({ name: 'ipv6_label', bits: 20, format: 'hex', slot: 'ipv6_label', prereq: 'ipv6',
    nxm: nx(27, 4, 'NXM_NX_IPV6_LABEL'), oxm: oxm(28, 4, 'OXM_OF_IPV6_FLABEL') }),
  row({ name: 'nw_proto', aliases: ['ip_proto'], bits: 8, format: 'decimal', slot: 'nw_proto', prereq: 'ip_any',
    maskable: false, writable: false, nxm: nxm(6, 1, 'NXM_OF_IP_PROTO'), oxm: oxm(10, 1, 'OXM_OF_IP_PROTO') }),
  row({ name: 'nw_tos', bits: 8, format: 'decimal', slot: 'nw_tos', prereq: 'ip_any', maskable: false,
    nxm: nxm(5, 1, 'NXM_OF_IP_TOS') }),
  row({ name: 'ip_dscp', bits: 6, format: 'decimal', slot: 'nw_tos', slotShift: 2, prereq: 'ip_any', maskable: false,
    oxm: oxm(8, 1, 'OXM_OF_IP_DSCP') }),
  row({ name: 'nw_ecn', aliases: ['ip_ecn'], bits: 2, format: 'decimal', slot: 'nw_tos', prereq: 'ip_any',
    maskable: false, nxm: nx(28, 1, 'NXM_NX_IP_ECN'), oxm: oxm(9, 1, 'OXM_OF_IP_ECN') }),
  row({ name: 'nw_ttl', bits: 8, format: 'decimal', slot: 'nw_ttl', prereq: 'ip_any', maskable: false,
    nxm: nx(29, 1, 'NXM_NX_IP_TTL') }),
  row({ name: 'arp_op', bits: 16, format: 'decimal', slot: 'nw_proto', prereq: 'arp', maskable: false,
    nxm: nxm(15, 2, 'NXM_OF_ARP_OP'), oxm: oxm(21, 2, 'OXM_OF_ARP_OP') }),
  row({ name: 'arp_spa', bits: 32, format: 'ipv4', slot: 'nw_src', prereq: 'arp',
    nxm: nxm(16, 4, 'NXM_OF_ARP_SPA'), oxm: oxm(22, 4, 'OXM_OF_ARP_SPA') }),
  row({ name: 'arp_tpa', bits: 32, format: 'ipv4', slot: 'nw_dst', prereq: 'arp',
    nxm: nxm(17, 4, 'NXM_OF_ARP_TPA'), oxm: oxm(23, 4, 'OXM_OF_ARP_TPA') }),
  row({ name: 'arp_sha', bits: 48, format: 'ethernet', slot: 'arp_sha', prereq: 'arp',
    nxm: nx(17, 6, 'NXM_NX_ARP_SHA'), oxm: oxm(24, 6, 'OXM_OF_ARP_SHA') }),
  row({ name: 'arp_tha', bits: 48, format: 'ethernet', slot: 'arp_tha', prereq: 'arp',
    nxm: nx(18, 6, 'NXM_NX_ARP_THA'), oxm: oxm(25, 6, 'OXM_OF_ARP_THA') }),
  row({ name: 'tcp_src', aliases: ['tp_src'], bits: 16, format: 'decimal', slot: 'tp_src', prereq: 'tcp',
    nxm: nxm(9, 2, 'NXM_OF_TCP_SRC'), oxm: oxm(13, 2, 'OXM_OF_TCP_SRC') }),
  row({ name: 'tcp_dst', aliases: ['tp_dst'], bits: 16, format: 'decimal', slot: 'tp_dst', prereq: 'tcp',
    nxm: nxm(10, 2, 'NXM_OF_TCP_DST'), oxm: oxm(14, 2, 'OXM_OF_TCP_DST') }),
  row({ name: 'tcp_flags', bits: 12, format: 'hex', slot: 'tcp_flags', prereq: 'tcp', writable: false,
    nxm: nx(34, 2, 'NXM_NX_TCP_FLAGS') }),
  row({ name: 'udp_src', bits: 16, format: 'decimal', slot: 'tp_src', prereq: 'udp',
    nxm: nxm(11, 2, 'NXM_OF_UDP_SRC'), oxm: oxm(15, 2, 'OXM_OF_UDP_SRC') }),
  row({ name: 'udp_dst', bits: 16, format: 'decimal', slot: 'tp_dst', prereq: 'udp',
    nxm: nxm(12, 2, 'NXM_OF_UDP_DST'), oxm: oxm(16, 2, 'OXM_OF_UDP_DST') }),
  row({ name: 'sctp_src', bits: 16, format: 'decimal', slot: 'tp_src', prereq: 'sctp', oxm: oxm(17, 2, 'OXM_OF_SCTP_SRC') }),
  row({ name: 'sctp_dst', bits: 16, format: 'decimal', slot: 'tp_dst', prereq: 'sctp', oxm: oxm(18, 2, 'OXM_OF_SCTP_DST') }),
  row({ name: 'icmp_type', bits: 8, format: 'decimal', slot: 'tp_src', prereq: 'icmpv4', maskable: false,
    nxm: nxm(13, 1, 'NXM_OF_ICMP_TYPE'), oxm: oxm(19, 1, 'OXM_OF_ICMPV4_TYPE') }),
  row({ name: 'icmp_code', bits: 8, format: 'decimal', slot: 'tp_dst', prereq: 'icmpv4', maskable: false,
    nxm: nxm(14, 1, 'NXM_OF_ICMP_CODE'), oxm: oxm(20, 1, 'OXM_OF_ICMPV4_CODE') }),
  row({ name: 'icmpv6_type', bits: 8, format: 'decimal', slot: 'tp_src', prereq: 'icmpv6', maskable: false,
    nxm: nx(21, 1, 'NXM_NX_ICMPV6_TYPE'), oxm: oxm(29, 1, 'OXM_OF_ICMPV6_TYPE') }),
  row({ name: 'icmpv6_code', bits: 8, format: 'decimal', slot: 'tp_dst', prereq: 'icmpv6', maskable: false,
    nxm: nx(22, 1, 'NXM_NX_ICMPV6_CODE'), oxm: oxm(30, 1, 'OXM_OF_ICMPV6_CODE') }),
  row({ name: 'nd_target', bits: 128, format: 'ipv6', slot: 'nd_target', prereq: 'nd',
    nxm: nx(23, 16, 'NXM_NX_ND_TARGET'), oxm: oxm(31, 16, 'OXM_OF_IPV6_ND_TARGET') }),
];

/**
 * Slots whose fields OVS matches without an Ethernet frame (meta-flow prerequisite "none"): any
 * other field says the packet is Ethernet, so OVS leaves the default packet_type out of a match.
 */
const NOT_ETHERNET: ReadonlySet<Slot> = new Set<Slot>([
  'packet_type', 'in_port', 'metadata', 'tun_id', 'tun_src', 'tun_dst', 'pkt_mark', 'conj_id',
  ...Array.from({ length: 16 }, (_, i) => `reg${i}` as Slot),
]);

export function impliesEthernet(slot: Slot): boolean {
  return !NOT_ETHERNET.has(slot);
}

const byName = new Map<string, FieldDef>();
const byHeader = new Map<number, FieldDef>();
for (const f of FIELDS) {
  byName.set(f.name, f);
  for (const a of f.aliases) byName.set(a, f);
  if (f.nxm) byHeader.set(f.nxm.header, f);
  if (f.oxm) byHeader.set(f.oxm.header, f);
}

export function fieldByName(name: string): FieldDef | undefined {
  return byName.get(name);
}

/** Looks a field up by a 32-bit NXM/OXM header (has-mask bit and length normalised away). */
export function fieldByHeader(header: number): FieldDef | undefined {
  return byHeader.get(unmaskedHeader(header));
}

/** The header with has-mask cleared and the length byte set to the unmasked value width. */
function unmaskedHeader(header: number): number {
  const hasMask = (header & 0x100) !== 0;
  const len = header & 0xff;
  return (((header & 0xfffffe00) >>> 0) | (hasMask ? len >> 1 : len)) >>> 0;
}

/** The value width (bytes) a header of this field carries: its OXM and NXM forms may differ (in_port). */
export function headerValueBytes(f: FieldDef, header: number): number {
  const h = f.oxm && (header & 0xfffffe00) === (f.oxm.header & 0xfffffe00) ? f.oxm : f.nxm;
  return h!.header & 0xff;
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
  return bySubfieldName.get(name);
}

const bySubfieldName = new Map<string, FieldDef>();
for (const f of FIELDS) {
  if (f.nxm) bySubfieldName.set(f.nxm.name, f);
  if (f.oxm) bySubfieldName.set(f.oxm.name, f);
}

const ALL_ONES: readonly bigint[] = Array.from({ length: 129 }, (_, i) => (1n << BigInt(i)) - 1n);

/** A mask of `bits` ones (table lookup: this is on every encode and decode path). */
export function allOnes(bits: number): bigint {
  return ALL_ONES[bits] ?? (1n << BigInt(bits)) - 1n;
}
