// A packet as ofp-print shows it (ofp_packet_to_string): the flow OVS extracts from its bytes
// (flow_extract, Ethernet only), printed as a match of every field the packet determines, then the
// L4 checksum. Packets whose extraction is not modelled here (MPLS labels, IPv6 extension
// headers and neighbour discovery, later IP fragments) give undefined: never a guess.
import { ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, Match } from '../openflow/match.js';
import { Slot } from '../openflow/fields.js';
import { formatMatch, formatVlanTci } from './format-match.js';

const FLOW_DL_TYPE_NONE = 0x5ff;

function exact(m: Match, slot: Slot, value: bigint, bits: number): void {
  m.set(slot, { value, mask: (1n << BigInt(bits)) - 1n });
}

/** flow_extract's dl_type for an 802.3 length field: the SNAP type, or 0x5ff. */
function llcType(p: Buffer, at: number): number {
  if (p.length - at < 8) return FLOW_DL_TYPE_NONE;
  const snap = p[at] === 0xaa && p[at + 1] === 0xaa && p[at + 2] === 0x03 && p.readUIntBE(at + 3, 3) === 0;
  const type = p.readUInt16BE(at + 6);
  return snap && type >= 0x600 ? type : FLOW_DL_TYPE_NONE;
}

/** The L4 fields of TCP/UDP/SCTP/ICMP(v6) at `at`; the checksum text, '' when the header is short. */
function l4(m: Match, p: Buffer, at: number, end: number, proto: number): string | undefined {
  const size = end - at;
  const ports = (): void => {
    exact(m, 'tp_src', BigInt(p.readUInt16BE(at)), 16);
    exact(m, 'tp_dst', BigInt(p.readUInt16BE(at + 2)), 16);
  };
  exact(m, 'tp_src', 0n, 16);
  exact(m, 'tp_dst', 0n, 16);
  switch (proto) {
    case 6: {
      exact(m, 'tcp_flags', 0n, 16);
      if (size < 20) return '';
      const off = (p[at + 12]! >> 4) * 4;
      if (off < 20 || off > size) return ` tcp_csum:${p.readUInt16BE(at + 16).toString(16)}`;
      ports();
      exact(m, 'tcp_flags', BigInt(p.readUInt16BE(at + 12) & 0x0fff), 16);
      return ` tcp_csum:${p.readUInt16BE(at + 16).toString(16)}`;
    }
    case 17:
      if (size < 8) return '';
      ports();
      return ` udp_csum:${p.readUInt16BE(at + 6).toString(16)}`;
    case 132:
      if (size < 12) return '';
      ports();
      return ` sctp_csum:${p.readUInt32BE(at + 8).toString(16)}`;
    case 1: case 58: {
      if (size < 4) return '';
      // ICMPv6 neighbour discovery carries nd_target/nd_sll/nd_tll, not modelled here.
      if (proto === 58 && (p[at] === 135 || p[at] === 136)) return undefined;
      exact(m, 'tp_src', BigInt(p[at]!), 16);
      exact(m, 'tp_dst', BigInt(p[at + 1]!), 16);
      return size >= 8 ? ` ${proto === 1 ? 'icmp' : 'icmp6'}_csum:${p.readUInt16BE(at + 2).toString(16)}` : '';
    }
    default:
      m.delete('tp_src');
      m.delete('tp_dst');
      return '';
  }
}

function ipv4(m: Match, p: Buffer, at: number): string | undefined {
  const size = p.length - at;
  for (const s of ['nw_src', 'nw_dst', 'nw_proto', 'nw_tos', 'nw_ttl'] as const) exact(m, s, 0n, s === 'nw_src' || s === 'nw_dst' ? 32 : 8);
  exact(m, 'nw_frag', 0n, 2);
  if (size < 20) return '';
  const ihl = (p[at]! & 0x0f) * 4;
  const totLen = p.readUInt16BE(at + 2);
  // ipv4_sanity_check: a header that does not fit leaves the flow's IP fields zero.
  if (p[at]! >> 4 !== 4 || ihl < 20 || ihl > size || totLen < ihl || totLen > size) return '';
  exact(m, 'nw_src', BigInt(p.readUInt32BE(at + 12)), 32);
  exact(m, 'nw_dst', BigInt(p.readUInt32BE(at + 16)), 32);
  const proto = p[at + 9]!;
  exact(m, 'nw_proto', BigInt(proto), 8);
  exact(m, 'nw_tos', BigInt(p[at + 1]!), 8);
  exact(m, 'nw_ttl', BigInt(p[at + 8]!), 8);
  const frag = p.readUInt16BE(at + 6);
  if (frag & 0x1fff) return undefined; // a later fragment: no L4 header
  if (frag & 0x2000) exact(m, 'nw_frag', 1n, 2);
  return l4(m, p, at + ihl, at + totLen, proto);
}

function ipv6(m: Match, p: Buffer, at: number): string | undefined {
  const size = p.length - at;
  if (size < 40) return undefined;
  const payload = p.readUInt16BE(at + 4);
  if (p[at]! >> 4 !== 6 || payload > size - 40) return undefined;
  const next = p[at + 6]!;
  if (![6, 17, 58, 132].includes(next)) return undefined; // extension headers: not modelled
  const word = p.readUInt32BE(at);
  exact(m, 'ipv6_src', p.subarray(at + 8, at + 24).reduce((v, b) => (v << 8n) | BigInt(b), 0n), 128);
  exact(m, 'ipv6_dst', p.subarray(at + 24, at + 40).reduce((v, b) => (v << 8n) | BigInt(b), 0n), 128);
  exact(m, 'ipv6_label', BigInt(word & 0xfffff), 32);
  exact(m, 'nw_proto', BigInt(next), 8);
  exact(m, 'nw_tos', BigInt((word >>> 20) & 0xff), 8);
  exact(m, 'nw_ttl', BigInt(p[at + 7]!), 8);
  exact(m, 'nw_frag', 0n, 2);
  return l4(m, p, at + 40, at + 40 + payload, next);
}

function arp(m: Match, p: Buffer, at: number): void {
  exact(m, 'nw_src', 0n, 32);
  exact(m, 'nw_dst', 0n, 32);
  exact(m, 'nw_proto', 0n, 8);
  exact(m, 'arp_sha', 0n, 48);
  exact(m, 'arp_tha', 0n, 48);
  if (p.length - at < 28 || p.readUInt16BE(at) !== 1 || p.readUInt16BE(at + 2) !== 0x0800 || p[at + 4] !== 6 || p[at + 5] !== 4) return;
  const op = p.readUInt16BE(at + 6);
  exact(m, 'nw_proto', BigInt(op <= 0xff ? op : 0), 8);
  exact(m, 'arp_sha', BigInt(p.readUIntBE(at + 8, 6)), 48);
  exact(m, 'nw_src', BigInt(p.readUInt32BE(at + 14)), 32);
  exact(m, 'arp_tha', BigInt(p.readUIntBE(at + 18, 6)), 48);
  exact(m, 'nw_dst', BigInt(p.readUInt32BE(at + 24)), 32);
}

/** How many VLAN tags flow_extract() reads (FLOW_MAX_VLAN_HEADERS, OVS's default vlan-limit). */
const MAX_VLAN_HEADERS = 2;
const VLAN_CFI = 0x1000;

/** The packet line of ofp-print (with its newline), or undefined when its extraction is not modelled. */
export function formatPacket(p: Buffer): string | undefined {
  const m: Match = new Map();
  let dlType = 0;
  let csum: string | undefined = '';
  // parse_vlan(): up to two 802.1Q/802.1ad tags, each TCI with its CFI bit set, while a tag and
  // the Ethertype after it fit.
  const tcis: number[] = [];
  if (p.length >= 14) {
    exact(m, 'dl_dst', BigInt(p.readUIntBE(0, 6)), 48);
    exact(m, 'dl_src', BigInt(p.readUIntBE(6, 6)), 48);
    let t = 12;
    for (let tpid = p.readUInt16BE(t); (tpid === 0x8100 || tpid === 0x88a8) && tcis.length < MAX_VLAN_HEADERS && p.length - t >= 6;
      tpid = p.readUInt16BE(t)) {
      tcis.push(p.readUInt16BE(t + 2) | VLAN_CFI);
      t += 4;
    }
    dlType = p.readUInt16BE(t);
    let l3 = t + 2;
    if (dlType < 0x600) {
      // An 802.3 frame: its SNAP type, and the network header after the 8-byte LLC/SNAP header.
      dlType = llcType(p, l3);
      if (dlType !== FLOW_DL_TYPE_NONE) l3 += 8;
    }
    if (dlType === 0x8847 || dlType === 0x8848) return undefined;
    if (BigInt(dlType) === ETH_TYPE_IP) csum = ipv4(m, p, l3);
    else if (BigInt(dlType) === ETH_TYPE_IPV6) csum = ipv6(m, p, l3);
    else if (BigInt(dlType) === ETH_TYPE_ARP || BigInt(dlType) === ETH_TYPE_RARP) arp(m, p, l3);
  } else {
    exact(m, 'dl_dst', 0n, 48);
    exact(m, 'dl_src', 0n, 48);
  }
  if (csum === undefined) return undefined;
  exact(m, 'vlan_tci', BigInt(tcis[0] ?? 0), 16);
  exact(m, 'dl_type', BigInt(dlType), 16);
  const text = formatMatch(m, 0x8000);
  // match_wc_init() also matches the inner tag's TCI (0 when there is none) once the packet has a
  // tag: it prints just before dl_src, which every packet's flow holds.
  if (!tcis.length) return `${text}${csum}\n`;
  const at = text.indexOf('dl_src=');
  return `${text.slice(0, at)}${formatVlanTci(tcis[1] ?? 0, 0xffff, 1)},${text.slice(at)}${csum}\n`;
}
