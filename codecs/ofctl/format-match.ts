// match_format() of OVS 3.1 (lib/match.c): the canonical text of a match, slot by slot in OVS's order.
import { allOnes, Slot, SLOT_BITS } from '../openflow/fields.js';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
  IPPROTO_TCP, IPPROTO_UDP, Match, UnknownOxm,
} from '../openflow/match.js';
import { formatPort } from '../openflow/ports.js';
import { formatIpv4Masked, formatIpv6Masked, formatMacMasked, hexOrZero } from './values.js';

const full = (slot: Slot): bigint => allOnes(SLOT_BITS[slot]);

/** The match text without priority; '' for a catch-all match. */
export function formatMatch(m: Match, priority: number, unknown: readonly UnknownOxm[] = []): string {
  const out: string[] = [];
  const put = (s: string): void => void out.push(s);
  if (priority !== 0x8000) put(`priority=${priority}`);

  const u32 = (name: string, slot: Slot): void => {
    const e = m.get(slot);
    if (e) put(`${name}=${hexOrZero(e.value)}${e.mask === full(slot) ? '' : `/${hexOrZero(e.mask)}`}`);
  };
  const be16 = (name: string, slot: Slot): void => {
    const e = m.get(slot);
    if (e) put(e.mask === 0xffffn ? `${name}=${e.value}` : `${name}=0x${e.value.toString(16)}/0x${e.mask.toString(16)}`);
  };
  const eth = (name: string, slot: Slot): void => {
    const e = m.get(slot);
    if (e) put(`${name}=${formatMacMasked(e.value, e.mask)}`);
  };
  const ip = (name: string, slot: Slot): void => {
    const e = m.get(slot);
    if (e) put(`${name}=${formatIpv4Masked(e.value, e.mask)}`);
  };
  const ip6 = (name: string, slot: Slot): void => {
    const e = m.get(slot);
    if (e) put(`${name}=${formatIpv6Masked(e.value, e.mask)}`);
  };

  u32('pkt_mark', 'pkt_mark');
  const conj = m.get('conj_id');
  if (conj) put(`conj_id=${conj.value}`);

  const dlTypeEntry = m.get('dl_type');
  const dlType = dlTypeEntry?.value;
  const proto = m.get('nw_proto');
  let skipType = false;
  let skipProto = false;
  if (dlTypeEntry) {
    skipType = true;
    if (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) {
      const v6 = dlType === ETH_TYPE_IPV6;
      const shorthands: ReadonlyMap<bigint, string> = v6
        ? new Map([[IPPROTO_ICMPV6, 'icmp6'], [IPPROTO_TCP, 'tcp6'], [IPPROTO_UDP, 'udp6'], [IPPROTO_SCTP, 'sctp6']])
        : new Map([[IPPROTO_ICMP, 'icmp'], [2n, 'igmp'], [IPPROTO_TCP, 'tcp'], [IPPROTO_UDP, 'udp'], [IPPROTO_SCTP, 'sctp']]);
      const short = proto ? shorthands.get(proto.value) : undefined;
      if (short) {
        put(short);
        skipProto = true;
      } else {
        put(v6 ? 'ipv6' : 'ip');
      }
    } else if (dlType === ETH_TYPE_ARP) put('arp');
    else if (dlType === ETH_TYPE_RARP) put('rarp');
    else if (dlType === 0x8847n) put('mpls');
    else if (dlType === 0x8848n) put('mplsm');
    else skipType = false;
  }
  for (let i = 0; i < 16; i++) u32(`reg${i}`, `reg${i}` as Slot);
  u32('tun_id', 'tun_id');
  ip('tun_src', 'tun_src');
  ip('tun_dst', 'tun_dst');
  u32('metadata', 'metadata');
  const inPort = m.get('in_port');
  if (inPort) put(`in_port=${formatPort(Number(inPort.value))}`);

  const tci = m.get('vlan_tci');
  if (tci) {
    const vidMask = tci.mask & 0x0fffn;
    const pcpMask = tci.mask & 0xe000n;
    const cfi = tci.mask & 0x1000n;
    if (cfi && tci.value & 0x1000n && (vidMask === 0n || vidMask === 0xfffn) && (pcpMask === 0n || pcpMask === 0xe000n)
      && (vidMask || pcpMask)) {
      if (vidMask) put(`dl_vlan=${tci.value & 0xfffn}`);
      if (pcpMask) put(`dl_vlan_pcp=${tci.value >> 13n}`);
    } else {
      const v = `0x${tci.value.toString(16).padStart(4, '0')}`;
      put(tci.mask === 0xffffn ? `vlan_tci=${v}` : `vlan_tci=${v}/0x${tci.mask.toString(16).padStart(4, '0')}`);
    }
  }
  eth('dl_src', 'dl_src');
  eth('dl_dst', 'dl_dst');
  if (!skipType && dlTypeEntry) put(`dl_type=0x${dlTypeEntry.value.toString(16).padStart(4, '0')}`);

  const isArp = dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP;
  if (dlType === ETH_TYPE_IPV6) {
    ip6('ipv6_src', 'ipv6_src');
    ip6('ipv6_dst', 'ipv6_dst');
    const label = m.get('ipv6_label');
    if (label) {
      const v = `0x${label.value.toString(16).padStart(5, '0')}`;
      put(label.mask === 0xfffffn || label.mask === 0xffffffffn ? `ipv6_label=${v}` : `ipv6_label=${v}/0x${label.mask.toString(16).padStart(5, '0')}`);
    }
  } else if (isArp) {
    ip('arp_spa', 'nw_src');
    ip('arp_tpa', 'nw_dst');
  } else {
    ip('nw_src', 'nw_src');
    ip('nw_dst', 'nw_dst');
  }
  if (!skipProto && proto) put(`${isArp ? 'arp_op' : 'nw_proto'}=${proto.value}`);
  if (isArp) {
    eth('arp_sha', 'arp_sha');
    eth('arp_tha', 'arp_tha');
  }
  const tos = m.get('nw_tos');
  if (tos && tos.mask & 0xfcn) put(`nw_tos=${tos.value & 0xfcn}`);
  if (tos && tos.mask & 3n) put(`nw_ecn=${tos.value & 3n}`);
  const ttl = m.get('nw_ttl');
  if (ttl) put(`nw_ttl=${ttl.value}`);

  const p = proto?.value;
  if (dlType === ETH_TYPE_IP && p === IPPROTO_ICMP) {
    be16('icmp_type', 'tp_src');
    be16('icmp_code', 'tp_dst');
  } else if (dlType === ETH_TYPE_IP && p === 2n) {
    be16('igmp_type', 'tp_src');
    be16('igmp_code', 'tp_dst');
  } else if (dlType === ETH_TYPE_IPV6 && p === IPPROTO_ICMPV6) {
    be16('icmp_type', 'tp_src');
    be16('icmp_code', 'tp_dst');
    ip6('nd_target', 'nd_target');
    eth('nd_sll', 'arp_sha');
    eth('nd_tll', 'arp_tha');
  } else {
    be16('tp_src', 'tp_src');
    be16('tp_dst', 'tp_dst');
  }
  for (const u of unknown) put(`unknown_oxm=${u.bytes.toString('hex')}`);
  return out.join(',');
}
