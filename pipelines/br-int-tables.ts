// br-int's tables, declared apart from their flows so that the firewall's flow builders
// (pipelines/firewall/) and br-int.ts, which calls them, both import them without a cycle.
import { tables } from './table.js';

// Adding a table: as for br-tun (see the note above BR_TUN in br-tun.ts).
export const BR_INT = tables({
  localSwitching: {
    id: 0, name: 'LOCAL_SWITCHING', purpose: 'dead VLAN drop, spoofing checks per VM port',
    matches: ['dl_vlan', 'in_port', 'arp', 'icmp6', 'icmp_type'], sets: [], next: ['arpSpoof', 'macSpoof', 'packetRateLimit'], outputs: ['normal'],
  },
  canary: { id: 23, name: 'CANARY', purpose: 'empty after an OVS restart', matches: [], sets: [], next: [] },
  arpSpoof: {
    id: 24, name: 'ARP_SPOOF', purpose: "ARP/ND only from the port's own addresses",
    matches: ['arp', 'icmp6', 'in_port', 'arp_spa', 'icmp_type', 'nd_target'], sets: [], next: ['macSpoof', 'packetRateLimit'],
  },
  macSpoof: { id: 25, name: 'MAC_SPOOF', purpose: "frames only from the port's own MACs", matches: ['in_port', 'dl_src'], sets: [], next: ['localEgress'] },
  localEgress: { id: 30, name: 'LOCAL_EGRESS', purpose: 'egress (no firewall)', matches: [], sets: [], next: ['packetRateLimit'] },
  localIp: { id: 31, name: 'LOCAL_IP', purpose: 'local IP (unused)', matches: [], sets: [], next: ['packetRateLimit'] },
  packetRateLimit: { id: 59, name: 'PACKET_RATE_LIMIT', purpose: 'rate limits (none)', matches: [], sets: [], next: ['transient'] },
  transient: {
    id: 60, name: 'TRANSIENT', purpose: 'normal switching; with the firewall, a VM port\'s frames to its egress and ingress tables',
    matches: ['in_port', 'dl_vlan', 'dl_dst'], sets: ['reg5', 'reg6', 'vlan'], next: ['baseEgress', 'acceptOrIngress', 'baseIngress'],
    outputs: ['normal'],
  },
  transientEgress: { id: 62, name: 'TRANSIENT_EGRESS', purpose: 'normal switching (egress)', matches: [], sets: [], next: [], outputs: ['normal'] },
  // Neutron's OVS firewall (firewall_driver = openvswitch): reg5 = the VM's ofport, reg6 = its
  // network's local VLAN, which is also the conntrack zone.
  baseEgress: {
    id: 71, name: 'BASE_EGRESS', purpose: "a VM's own MAC/IP pairs, DHCP and ND; IP to conntrack",
    matches: ['ct_state', 'reg5', 'in_port', 'dl_src', 'arp', 'arp_spa', 'icmp6', 'icmp_type', 'ipv6_src', 'nd_target', 'ip', 'ipv6',
      'udp', 'udp6', 'nw_src', 'tp_src', 'tp_dst'],
    sets: [], next: ['baseEgress', 'rulesEgress', 'acceptOrIngress', 'droppedTraffic', 'acceptedEgressTrafficNormal'],
  },
  rulesEgress: {
    id: 72, name: 'RULES_EGRESS', purpose: 'egress security-group rules, replies, removed-rule drops',
    matches: ['ct_state', 'ct_zone', 'ct_mark', 'conj_id', 'reg5', 'reg6', 'dl_type', 'nw_proto', 'ip', 'ipv6', 'nw_dst', 'ipv6_dst',
      'tp_src', 'tp_dst', 'icmp_type', 'icmp_code', 'dl_src'],
    sets: ['reg7', 'ct_mark'], next: ['acceptOrIngress', 'droppedTraffic', 'acceptedEgressTrafficNormal'],
  },
  acceptOrIngress: {
    id: 73, name: 'ACCEPT_OR_INGRESS', purpose: "commit accepted egress; to a local VM's ingress",
    matches: ['ct_state', 'ip', 'ipv6', 'reg5', 'reg6', 'dl_dst'], sets: ['reg5'],
    next: ['baseIngress', 'acceptedEgressTraffic', 'acceptedEgressTrafficNormal'],
  },
  baseIngress: {
    id: 81, name: 'BASE_INGRESS', purpose: 'ARP, ND, DHCP to the VM; IP to conntrack',
    matches: ['ct_state', 'reg5', 'arp', 'icmp6', 'icmp_type', 'udp', 'udp6', 'tp_src', 'tp_dst', 'ip', 'ipv6'], sets: [],
    next: ['rulesIngress'], outputs: ['vm'],
  },
  rulesIngress: {
    id: 82, name: 'RULES_INGRESS', purpose: 'ingress security-group rules, replies, removed-rule drops',
    matches: ['ct_state', 'ct_zone', 'ct_mark', 'conj_id', 'reg5', 'reg6', 'dl_type', 'nw_proto', 'ip', 'ipv6', 'nw_src', 'ipv6_src',
      'tp_src', 'tp_dst', 'icmp_type', 'icmp_code', 'dl_src'],
    sets: ['reg7', 'ct_mark'], next: ['acceptedIngressTraffic', 'droppedTraffic'], outputs: ['vm'],
  },
  acceptedEgressTraffic: {
    id: 91, name: 'ACCEPTED_EGRESS_TRAFFIC', purpose: 'first packet of an accepted egress connection', matches: [], sets: [],
    next: ['acceptedEgressTrafficNormal'],
  },
  acceptedIngressTraffic: {
    id: 92, name: 'ACCEPTED_INGRESS_TRAFFIC', purpose: 'accepted ingress (already output)', matches: [], sets: [], next: [],
  },
  droppedTraffic: { id: 93, name: 'DROPPED_TRAFFIC', purpose: 'dropped by the firewall', matches: [], sets: [], next: [] },
  acceptedEgressTrafficNormal: {
    id: 94, name: 'ACCEPTED_EGRESS_TRAFFIC_NORMAL', purpose: 'accepted egress: normal switching', matches: [], sets: [], next: [],
    outputs: ['normal'],
  },
});
