// br-int: the integration bridge. VM ports are tagged with their network's local VLAN in OVSDB and
// forwarding is NORMAL; the flows here are Neutron's defaults (canary table 23, dead VLAN 4095) and
// the per-port ARP/ND/MAC anti-spoofing of the noop firewall (br_int.py), tables 0/24/25, or, with
// the openvswitch firewall, its tables instead (pipelines/firewall/).
import { HostState, isProtected, LocalPort } from '../lib/state/host-state.js';
import { memo, memoOf, memoPer } from './memo.js';
import type { PipelineOptions } from './options.js';
import type { PipelineFlow } from './table.js';
import { BR_INT } from './br-int-tables.js';
import { firewallFlows } from './firewall/index.js';
import type { FlowFamily } from '../lib/flowset/family.js';

export { BR_INT };

const T = BR_INT;

export const DEAD_VLAN = 4095;

/** The EUI-64 IPv6 link-local address of a MAC (what ND from the port may claim). */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0]! ^= 0x02;
  const w = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${w.map((x) => x.toString(16)).join(':')}`;
}

/** br-int's flows; with `families`, the firewall's member flows go there as flow families (see firewallFlows). */
export function brIntFlows(s: HostState, o: PipelineOptions, families?: FlowFamily[]): PipelineFlow[] {
  if (o.profile === 'classic') return classic();
  const cookie = o.cookies.brInt;
  // Each table appends its flows to one array (no copies from array to array).
  const out: PipelineFlow[] = [];
  // The openvswitch firewall does the anti-spoofing itself: br-int's own checks go (their tables' defaults stay).
  const firewall = o.firewall === 'openvswitch';
  const ports = firewall ? [] : protectedPorts(s);
  localSwitching(ports, cookie, out);
  out.push(canary(cookie));
  arpSpoof(ports, cookie, out);
  macSpoof(ports, cookie, out);
  for (const f of toRateLimit(cookie)) out.push(f);
  for (const f of transient(cookie)) out.push(f);
  if (firewall) firewallFlows(s, cookie, out, families);
  return out;
}

/** The seed article's br-int: NORMAL switching, and the canary table. */
function classic(): PipelineFlow[] {
  return [T.localSwitching.flow({ priority: 1, actions: [{ normal: true }] }), T.canary.flow({ priority: 0, actions: [{ drop: true }] })];
}

// Neutron protects only ports with port security that are not its own (`network:*`: DHCP, routers).
function protectedPorts(s: HostState): LocalPort[] {
  return s.localPorts.filter(isProtected);
}

// Table 0 LOCAL_SWITCHING: the dead VLAN is dropped; a protected port's ARP and neighbour
// advertisements go to ARP_SPOOF, its other frames to MAC_SPOOF; the rest to PACKET_RATE_LIMIT.
function localSwitching(ports: readonly LocalPort[], cookie: bigint, out: PipelineFlow[]): void {
  out.push(deadVlanDrop(cookie));
  for (const p of ports) for (const f of spoofChecksOf(p, cookie)) out.push(f);
  out.push(localSwitchingRest(cookie));
}
const deadVlanDrop = memo((cookie: bigint) => T.localSwitching.flow({ cookie, priority: 65535, match: { dl_vlan: DEAD_VLAN }, actions: [] }));
const spoofChecksOf = memoPer((p: LocalPort, cookie: bigint) => [
  T.localSwitching.flow({ cookie, priority: 10, match: { arp: true, in_port: p.ofport }, actions: [{ goto: T.arpSpoof }] }),
  T.localSwitching.flow({ cookie, priority: 10, match: { icmp6: true, in_port: p.ofport, icmp_type: 136 }, actions: [{ goto: T.arpSpoof }] }),
  T.localSwitching.flow({ cookie, priority: 9, match: { in_port: p.ofport }, actions: [{ goto: T.macSpoof }] }),
]);
const localSwitchingRest = memo((cookie: bigint) => T.localSwitching.flow({ cookie, priority: 0, actions: [{ goto: T.packetRateLimit }] }));

// Table 23 CANARY: holds one flow, so the agent sees an OVS restart as its absence.
const canary = memo((cookie: bigint) => T.canary.flow({ cookie, priority: 0, actions: [] }));

/** A protected port's IPv4 (ARP) and IPv6 (ND) addresses and MACs: fixed IPs, allowed pairs, link-locals. */
const addressesOf = memoOf((p: LocalPort) => {
  const ips = [...p.fixedIps, ...p.allowedAddressPairs.map((a) => a.ip)];
  const macs = [...new Set([p.mac, ...p.allowedAddressPairs.flatMap((a) => (a.mac ? [a.mac] : []))])];
  return {
    v4: [...new Set(ips.filter((ip) => !ip.includes(':')))],
    v6: [...new Set([...ips.filter((ip) => ip.includes(':')), ...macs.map(linkLocalOf)])],
    macs,
  };
});

// Table 24 ARP_SPOOF: ARP and ND from a protected port only for its own addresses; the rest dropped.
function arpSpoof(ports: readonly LocalPort[], cookie: bigint, out: PipelineFlow[]): void {
  for (const p of ports) for (const f of ownAddresses(p, cookie)) out.push(f);
  out.push(arpSpoofRest(cookie));
}
const ownAddresses = memoPer((p: LocalPort, cookie: bigint) => [
  ...addressesOf(p).v4.map((ip) => T.arpSpoof.flow({
    cookie, priority: 2, match: { arp: true, in_port: p.ofport, arp_spa: ip }, actions: [{ goto: T.macSpoof }],
  })),
  ...addressesOf(p).v6.map((ip) => T.arpSpoof.flow({
    cookie, priority: 2, match: { icmp6: true, in_port: p.ofport, icmp_type: 136, nd_target: ip }, actions: [{ goto: T.packetRateLimit }],
  })),
]);
const arpSpoofRest = memo((cookie: bigint) => T.arpSpoof.flow({ cookie, priority: 0, actions: [] }));

// Table 25 MAC_SPOOF: frames from a protected port only from its own MACs, on to LOCAL_EGRESS.
function macSpoof(ports: readonly LocalPort[], cookie: bigint, out: PipelineFlow[]): void {
  for (const p of ports) for (const f of ownMacs(p, cookie)) out.push(f);
}
const ownMacs = memoPer((p: LocalPort, cookie: bigint) =>
  addressesOf(p).macs.map((mac) => T.macSpoof.flow({ cookie, priority: 2, match: { in_port: p.ofport, dl_src: mac }, actions: [{ goto: T.localEgress }] })));

// Tables 30 LOCAL_EGRESS, 31 LOCAL_IP and 59 PACKET_RATE_LIMIT: no firewall, no local IP, no limits:
// straight on to TRANSIENT.
const toRateLimit = memo((cookie: bigint) => [
  T.localEgress.flow({ cookie, priority: 0, actions: [{ goto: T.packetRateLimit }] }),
  T.localIp.flow({ cookie, priority: 0, actions: [{ goto: T.packetRateLimit }] }),
  T.packetRateLimit.flow({ cookie, priority: 0, actions: [{ goto: T.transient }] }),
]);

// Tables 60 TRANSIENT and 62 TRANSIENT_EGRESS: NORMAL switching.
const transient = memo((cookie: bigint) => [
  T.transient.flow({ cookie, priority: 3, actions: [{ normal: true }] }),
  T.transientEgress.flow({ cookie, priority: 3, actions: [{ normal: true }] }),
]);
