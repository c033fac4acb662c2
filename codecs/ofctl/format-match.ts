// match_format() of OVS 3.1 (lib/match.c): the canonical text of a match, slot by slot in OVS's order.
// This runs once per flow of every dump (100k flows), so it appends to one string and allocates
// as little as it can.
import { allOnes, Slot, SLOT_BITS } from '../openflow/fields.js';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
  IPPROTO_TCP, IPPROTO_UDP, hasRegister, Match, MatchEntry, UnknownOxm,
} from '../openflow/match.js';
import { formatPort } from '../openflow/ports.js';
import { formatIpv4Masked, formatIpv6Masked, formatMacMasked, formatPacketType, hexOrZero } from './values.js';

const REG_SLOTS: readonly Slot[] = Array.from({ length: 16 }, (_, i) => `reg${i}` as Slot);
const IPV4_SHORTHANDS: ReadonlyMap<bigint, string> = new Map([
  [IPPROTO_ICMP, 'icmp'], [2n, 'igmp'], [IPPROTO_TCP, 'tcp'], [IPPROTO_UDP, 'udp'], [IPPROTO_SCTP, 'sctp'],
]);
const IPV6_SHORTHANDS: ReadonlyMap<bigint, string> = new Map([
  [IPPROTO_ICMPV6, 'icmp6'], [IPPROTO_TCP, 'tcp6'], [IPPROTO_UDP, 'udp6'], [IPPROTO_SCTP, 'sctp6'],
]);

/** format_uint32_masked / format_be64_masked: `%#x`, mask shown unless all ones. */
function hexMasked(name: string, slot: Slot, e: MatchEntry): string {
  return e.mask === allOnes(SLOT_BITS[slot]) ? `${name}=${hexOrZero(e.value)}` : `${name}=${hexOrZero(e.value)}/${hexOrZero(e.mask)}`;
}

/** format_be16_masked: decimal when exact, `0x%x/0x%x` otherwise. */
function be16Masked(name: string, e: MatchEntry): string {
  return e.mask === 0xffffn ? `${name}=${e.value}` : `${name}=0x${e.value.toString(16)}/0x${e.mask.toString(16)}`;
}

/** The VLAN TCI under its mask as OVS prints it: dl_vlan/dl_vlan_pcp when they say it all, else vlan_tci. */
export function formatVlanTci(value: number, mask: number): string {
  const vidMask = mask & 0x0fff;
  const pcpMask = mask & 0xe000;
  if (mask & 0x1000 && value & 0x1000 && (vidMask === 0 || vidMask === 0xfff)
    && (pcpMask === 0 || pcpMask === 0xe000) && (vidMask || pcpMask)) {
    const vid = vidMask ? `dl_vlan=${value & 0xfff}` : '';
    const pcp = pcpMask ? `dl_vlan_pcp=${value >> 13}` : '';
    return vid && pcp ? `${vid},${pcp}` : vid || pcp;
  }
  const v = `0x${value.toString(16).padStart(4, '0')}`;
  return mask === 0xffff ? `vlan_tci=${v}` : `vlan_tci=${v}/0x${mask.toString(16).padStart(4, '0')}`;
}

/** The match text, starting with `priority=N` unless N is the default; '' for a catch-all. */
export function formatMatch(m: Match, priority: number, unknown: readonly UnknownOxm[] = []): string {
  let s = priority !== 0x8000 ? `priority=${priority}` : '';
  const add = (part: string): void => {
    s = s ? `${s},${part}` : part;
  };
  if (m.size === 0 && unknown.length === 0) return s;
  let e: MatchEntry | undefined;

  // The default (Ethernet) is not printed, as OVS does not.
  if ((e = m.get('packet_type')) && e.value !== 0n) add(`packet_type=${formatPacketType(e.value)}`);
  if ((e = m.get('pkt_mark'))) add(hexMasked('pkt_mark', 'pkt_mark', e));
  if ((e = m.get('conj_id'))) add(`conj_id=${e.value}`);

  const dlTypeEntry = m.get('dl_type');
  const dlType = dlTypeEntry?.value;
  const proto = m.get('nw_proto');
  let skipType = false;
  let skipProto = false;
  if (dlTypeEntry) {
    skipType = true;
    if (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) {
      const v6 = dlType === ETH_TYPE_IPV6;
      const short = proto ? (v6 ? IPV6_SHORTHANDS : IPV4_SHORTHANDS).get(proto.value) : undefined;
      skipProto = short !== undefined;
      add(short ?? (v6 ? 'ipv6' : 'ip'));
    } else if (dlType === ETH_TYPE_ARP) add('arp');
    else if (dlType === ETH_TYPE_RARP) add('rarp');
    else if (dlType === 0x8847n) add('mpls');
    else if (dlType === 0x8848n) add('mplsm');
    else skipType = false;
  }
  if (hasRegister(m)) for (const slot of REG_SLOTS) if ((e = m.get(slot))) add(hexMasked(slot, slot, e));
  if ((e = m.get('tun_id'))) add(hexMasked('tun_id', 'tun_id', e));
  if ((e = m.get('tun_src'))) add(`tun_src=${formatIpv4Masked(e.value, e.mask)}`);
  if ((e = m.get('tun_dst'))) add(`tun_dst=${formatIpv4Masked(e.value, e.mask)}`);
  if ((e = m.get('metadata'))) add(hexMasked('metadata', 'metadata', e));
  if ((e = m.get('in_port'))) add(`in_port=${formatPort(Number(e.value))}`);
  if ((e = m.get('vlan_tci'))) add(formatVlanTci(Number(e.value), Number(e.mask)));
  if ((e = m.get('dl_src'))) add(`dl_src=${formatMacMasked(e.value, e.mask)}`);
  if ((e = m.get('dl_dst'))) add(`dl_dst=${formatMacMasked(e.value, e.mask)}`);
  if (!skipType && dlTypeEntry) add(`dl_type=0x${dlTypeEntry.value.toString(16).padStart(4, '0')}`);

  const isArp = dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP;
  if (dlType === ETH_TYPE_IPV6) {
    if ((e = m.get('ipv6_src'))) add(`ipv6_src=${formatIpv6Masked(e.value, e.mask)}`);
    if ((e = m.get('ipv6_dst'))) add(`ipv6_dst=${formatIpv6Masked(e.value, e.mask)}`);
    if ((e = m.get('ipv6_label'))) {
      const v = `0x${e.value.toString(16).padStart(5, '0')}`;
      add(e.mask === 0xfffffn || e.mask === 0xffffffffn ? `ipv6_label=${v}` : `ipv6_label=${v}/0x${e.mask.toString(16).padStart(5, '0')}`);
    }
  } else {
    if ((e = m.get('nw_src'))) add(`${isArp ? 'arp_spa' : 'nw_src'}=${formatIpv4Masked(e.value, e.mask)}`);
    if ((e = m.get('nw_dst'))) add(`${isArp ? 'arp_tpa' : 'nw_dst'}=${formatIpv4Masked(e.value, e.mask)}`);
  }
  if (!skipProto && proto) add(`${isArp ? 'arp_op' : 'nw_proto'}=${proto.value}`);
  if (isArp) {
    if ((e = m.get('arp_sha'))) add(`arp_sha=${formatMacMasked(e.value, e.mask)}`);
    if ((e = m.get('arp_tha'))) add(`arp_tha=${formatMacMasked(e.value, e.mask)}`);
  }
  if ((e = m.get('nw_tos'))) {
    if (e.mask & 0xfcn) add(`nw_tos=${e.value & 0xfcn}`);
    if (e.mask & 3n) add(`nw_ecn=${e.value & 3n}`);
  }
  if ((e = m.get('nw_ttl'))) add(`nw_ttl=${e.value}`);

  const p = proto?.value;
  const tpSrc = m.get('tp_src');
  const tpDst = m.get('tp_dst');
  if (dlType === ETH_TYPE_IP && p === 2n) {
    if (tpSrc) add(be16Masked('igmp_type', tpSrc));
    if (tpDst) add(be16Masked('igmp_code', tpDst));
  } else if ((dlType === ETH_TYPE_IP && p === IPPROTO_ICMP) || (dlType === ETH_TYPE_IPV6 && p === IPPROTO_ICMPV6)) {
    if (tpSrc) add(be16Masked('icmp_type', tpSrc));
    if (tpDst) add(be16Masked('icmp_code', tpDst));
    if (dlType === ETH_TYPE_IPV6) {
      if ((e = m.get('nd_target'))) add(`nd_target=${formatIpv6Masked(e.value, e.mask)}`);
      if ((e = m.get('arp_sha'))) add(`nd_sll=${formatMacMasked(e.value, e.mask)}`);
      if ((e = m.get('arp_tha'))) add(`nd_tll=${formatMacMasked(e.value, e.mask)}`);
    }
  } else {
    if (tpSrc) add(be16Masked('tp_src', tpSrc));
    if (tpDst) add(be16Masked('tp_dst', tpDst));
  }
  for (const u of unknown) add(`unknown_oxm=${u.bytes.toString('hex')}`);
  return s;
}
