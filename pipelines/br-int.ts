// br-int: the integration bridge. VM ports are tagged with their network's local VLAN in OVSDB and
// forwarding is NORMAL; the flows here are Neutron's defaults (canary table 23, dead VLAN 4095) and
// the per-port ARP/ND/MAC anti-spoofing of the noop firewall (br_int.py), tables 0/24/25.
import type { HostState, LocalPort } from '../lib/state/host-state.js';
import type { PipelineOptions } from './options.js';
import { memoFlows, PipelineFlow, table } from './table.js';

export const BR_INT = {
  localSwitching: table({
    id: 0, name: 'LOCAL_SWITCHING', purpose: 'dead VLAN drop, spoofing checks per VM port',
    matches: ['dl_vlan', 'in_port', 'arp', 'icmp6', 'icmp_type'], sets: [], next: [24, 25, 59], outputs: ['normal'],
  }),
  canary: table({ id: 23, name: 'CANARY', purpose: 'empty after an OVS restart', matches: [], sets: [], next: [] }),
  arpSpoof: table({
    id: 24, name: 'ARP_SPOOF', purpose: "ARP/ND only from the port's own addresses",
    matches: ['arp', 'icmp6', 'in_port', 'arp_spa', 'icmp_type', 'nd_target'], sets: [], next: [25, 59],
  }),
  macSpoof: table({ id: 25, name: 'MAC_SPOOF', purpose: "frames only from the port's own MACs", matches: ['in_port', 'dl_src'], sets: [], next: [30] }),
  localEgress: table({ id: 30, name: 'LOCAL_EGRESS', purpose: 'egress (no firewall)', matches: [], sets: [], next: [59] }),
  localIp: table({ id: 31, name: 'LOCAL_IP', purpose: 'local IP (unused)', matches: [], sets: [], next: [59] }),
  packetRateLimit: table({ id: 59, name: 'PACKET_RATE_LIMIT', purpose: 'rate limits (none)', matches: [], sets: [], next: [60] }),
  transient: table({ id: 60, name: 'TRANSIENT', purpose: 'normal switching', matches: [], sets: [], next: [], outputs: ['normal'] }),
  transientEgress: table({ id: 62, name: 'TRANSIENT_EGRESS', purpose: 'normal switching (egress)', matches: [], sets: [], next: [], outputs: ['normal'] }),
} as const;

export const DEAD_VLAN = 4095;

/** The EUI-64 IPv6 link-local address of a MAC (what ND from the port may claim). */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0]! ^= 0x02;
  const w = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${w.map((x) => x.toString(16)).join(':')}`;
}

function antiSpoofing(p: LocalPort, cookie: bigint): PipelineFlow[] {
  const t = BR_INT;
  const P = p.ofport;
  const ips = [...p.fixedIps, ...p.allowedAddressPairs.map((a) => a.ip)];
  const v4 = [...new Set(ips.filter((ip) => !ip.includes(':')))];
  const macs = [...new Set([p.mac, ...p.allowedAddressPairs.flatMap((a) => (a.mac ? [a.mac] : []))])];
  const v6 = [...new Set([...ips.filter((ip) => ip.includes(':')), ...macs.map(linkLocalOf)])];
  return [
    t.localSwitching.flow({ cookie, priority: 10, match: { arp: true, in_port: P }, actions: [{ goto: 24 }] }),
    t.localSwitching.flow({ cookie, priority: 10, match: { icmp6: true, in_port: P, icmp_type: 136 }, actions: [{ goto: 24 }] }),
    t.localSwitching.flow({ cookie, priority: 9, match: { in_port: P }, actions: [{ goto: 25 }] }),
    ...v4.map((ip) => t.arpSpoof.flow({ cookie, priority: 2, match: { arp: true, in_port: P, arp_spa: ip }, actions: [{ goto: 25 }] })),
    ...v6.map((ip) => t.arpSpoof.flow({
      cookie, priority: 2, match: { icmp6: true, in_port: P, icmp_type: 136, nd_target: ip }, actions: [{ goto: 59 }],
    })),
    ...macs.map((mac) => t.macSpoof.flow({ cookie, priority: 2, match: { in_port: P, dl_src: mac }, actions: [{ goto: 30 }] })),
  ];
}

export function brIntFlows(s: HostState, o: PipelineOptions): PipelineFlow[] {
  const t = BR_INT;
  if (o.profile === 'classic') {
    return [
      t.localSwitching.flow({ priority: 1, actions: [{ normal: true }] }),
      t.canary.flow({ priority: 0, actions: [{ drop: true }] }),
    ];
  }
  const cookie = o.cookies.brInt;
  return [
    ...memoFlows(`int-static|${cookie}`, () => [
    t.localSwitching.flow({ cookie, priority: 65535, match: { dl_vlan: DEAD_VLAN }, actions: [] }),
    t.localSwitching.flow({ cookie, priority: 0, actions: [{ goto: 59 }] }),
    t.canary.flow({ cookie, priority: 0, actions: [] }),
    t.arpSpoof.flow({ cookie, priority: 0, actions: [] }),
    t.localEgress.flow({ cookie, priority: 0, actions: [{ goto: 59 }] }),
    t.localIp.flow({ cookie, priority: 0, actions: [{ goto: 59 }] }),
    t.packetRateLimit.flow({ cookie, priority: 0, actions: [{ goto: 60 }] }),
    t.transient.flow({ cookie, priority: 3, actions: [{ normal: true }] }),
    t.transientEgress.flow({ cookie, priority: 3, actions: [{ normal: true }] }),
    ]),
    // Neutron protects only ports with port security that are not its own (`network:*`: DHCP, routers).
    ...s.localPorts.filter((p) => p.portSecurity && !p.deviceOwner?.startsWith('network:')).flatMap((p) => memoFlows(
      `int-spoof|${cookie}|${p.ofport}|${p.mac}|${p.fixedIps.join(',')}|${p.allowedAddressPairs.map((a) => `${a.ip}/${a.mac ?? ''}`).join(',')}`,
      () => antiSpoofing(p, cookie))),
  ];
}
