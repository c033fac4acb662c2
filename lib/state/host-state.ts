// Per-host state: what one hypervisor must hold, derived from the topology. Pure and deterministic:
// the same topology (and the same VLAN hints, ports plugged and ofports read back from OVSDB)
// always gives the same state.
import { allocateConjIds, conjKeysOf } from '../../pipelines/firewall/rules.js';
import type { GroupMembers, Port, SecurityGroup, Topology } from '../topology/model.js';

export type { GroupMembers };

export interface LocalNetwork {
  readonly id: string;
  readonly vni: number;
  /** The local VLAN tagging this network's frames on br-int (1..4094). */
  readonly vlan: number;
}

export interface LocalPort extends Port {
  readonly vlan: number;
  /** Where the port is plugged into br-int (OVSDB's, or the topology's offline). */
  readonly ofport: number;
}

export interface Tunnel {
  readonly host: string;
  readonly remoteIp: string;
  /** `vxlan-` + the remote IPv4 as 8 hex digits, as Neutron names it. */
  readonly portName: string;
  readonly ofport: number;
}

/** A port of another host in one of this host's networks (not copied: 20k of them at scale). */
export interface RemotePort {
  readonly port: Port;
  readonly vni: number;
  readonly vlan: number;
  readonly tunnel: Tunnel;
}

/** What Neutron's OVS firewall needs on one host (security groups, issue 16). */
export interface FirewallState {
  /** Every group a protected local port is in, and every group their rules name as remote, by id. */
  readonly groups: ReadonlyMap<string, SecurityGroup>;
  /**
   * The members of each group a protected local port's rule names as its remote group, by group id:
   * every port Neutron has in the group, on any host, plugged or not (Neutron's DB membership).
   */
  readonly members: ReadonlyMap<string, GroupMembers>;
  /**
   * Conjunction id blocks (base, a multiple of 8) by conjKey, for every remote-group rule key a
   * protected local port uses: installed blocks (HostStateOptions.conjHints) kept, new keys given
   * the lowest free ones, unused ones released. The pipeline reads them, never allocates.
   */
  readonly conjBases: ReadonlyMap<string, number>;
}

export interface HostState {
  readonly host: string;
  readonly tunnelIp: string;
  /** ofport of patch-int on br-tun. */
  readonly patchIntOfport: number;
  /** ofport of patch-tun on br-int. */
  readonly patchTunOfport: number;
  readonly networks: readonly LocalNetwork[];
  readonly localPorts: readonly LocalPort[];
  /** One VXLAN port per remote host that shares a network with this host, by remote IP. */
  readonly tunnels: readonly Tunnel[];
  /** Ports of other hosts in this host's networks (the l2pop address book). */
  readonly remotePorts: readonly RemotePort[];
  /** Networks that could not get a VLAN (exhaustion): reported, not fatal. */
  readonly errors: readonly string[];
  /** Security groups of this host's ports; absent where no local port is in one. */
  readonly firewall?: FirewallState;
}

export interface HostStateOptions {
  /** VLANs already in use (read back from OVSDB after a restart): network id -> VLAN. */
  readonly vlanHints?: ReadonlyMap<string, number>;
  /** Live ofports of br-tun's interfaces from OVSDB: interface name -> ofport. */
  readonly ofports?: ReadonlyMap<string, number>;
  /**
   * The VM ports plugged into br-int, from OVSDB: iface-id -> ofport (> 0). Given (a live host), it
   * alone says which local ports exist and where; a port's `ofport` member is ignored. Without it
   * (offline rendering), a port with an `ofport` member is plugged there and one without is not.
   * As in Neutron, only a plugged port is provisioned: it gets flows, and it alone gives its
   * network a local VLAN (hence br-tun flows and tunnels) on this host.
   */
  readonly plugged?: ReadonlyMap<string, number>;
  /**
   * The VM ports plugged on other hosts, as their OVSDBs last said: host -> iface-ids. A port of
   * another host enters this host's l2pop address book, flood lists and tunnels only while it is
   * plugged there (Neutron's l2pop adds a remote port when it goes ACTIVE on its host). A host it
   * answers nothing for (offline rendering, no OVSDB address, not reached yet, frozen) keeps all
   * its topology ports: nothing is taken away on knowledge we do not have.
   */
  readonly remotePlugged?: (host: string) => ReadonlySet<string> | undefined;
  /**
   * Conjunction id blocks installed on the host (read back from br-int's external_ids after a
   * restart, then the last state's): conjKey -> base. A key still used keeps its base, so neither
   * a restart nor an unrelated change renumbers an installed conjunction. Without hints (offline
   * rendering, a fresh host) the keys are numbered in sorted order.
   */
  readonly conjHints?: ReadonlyMap<string, number>;
  /**
   * The host's previous state: whatever comes out the same is handed back as its objects (the
   * whole state, when nothing changed). The agent keeps a host's state until its next pass, so at
   * 1000 hosts fresh copies of the same tunnels and remote ports were most of the garbage an event
   * left in the old generation; and an unchanged state is recognised by identity.
   */
  readonly previous?: HostState;
}

/** The topology port each local port was copied from (a local port is its port plus VLAN and ofport). */
const sourceOf = new WeakMap<LocalPort, Port>();

/**
 * Each state's remote ports by topology port, shared along a line of states (an entry is checked
 * against the port's VNI, VLAN and tunnel before it is reused, so a stale one is harmless).
 */
const remoteIndex = new WeakMap<HostState, WeakMap<Port, RemotePort>>();

/** `next` if it differs from `prev` element by element, else `prev` (the same array as before). */
function sameOr<T>(prev: readonly T[] | undefined, next: readonly T[]): readonly T[] {
  return prev && prev.length === next.length && prev.every((x, i) => x === next[i]) ? prev : next;
}

const PATCH_OFPORT = 1;
const FIRST_TUNNEL_OFPORT = 2;
const VLAN_MIN = 1;
const VLAN_MAX = 4094;

function tunnelPortName(remoteIp: string): string {
  return `vxlan-${remoteIp.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function deriveHostState(t: Topology, hostName: string, opts: HostStateOptions = {}): HostState {
  const host = t.hosts.get(hostName);
  if (!host) throw new Error(`unknown host ${hostName}`);
  const prev = opts.previous?.host === hostName ? opts.previous : undefined;
  // Local ports that are plugged, with their ofport: never a guessed one (another port may get it).
  const ofportOf = new Map<Port, number>();
  for (const p of t.portsOn(hostName)) {
    const o = opts.plugged ? opts.plugged.get(p.id) : p.ofport;
    if (o !== undefined) ofportOf.set(p, o);
  }
  const mine = [...ofportOf.keys()];
  const errors: string[] = [];

  // Networks with a plugged local port, in the order their first local port appeared.
  const netIds = [...new Set(mine.map((p) => p.network))];
  const vlanOf = new Map<string, number>();
  const used = new Set<number>();
  for (const id of netIds) {
    const hint = opts.vlanHints?.get(id);
    if (hint !== undefined && hint >= VLAN_MIN && hint <= VLAN_MAX && !used.has(hint)) {
      vlanOf.set(id, hint);
      used.add(hint);
    }
  }
  let nextVlan = VLAN_MIN;
  for (const id of netIds) {
    if (vlanOf.has(id)) continue;
    while (used.has(nextVlan)) nextVlan++;
    if (nextVlan > VLAN_MAX) {
      errors.push(`network ${id}: no free local VLAN on host ${hostName} (all of ${VLAN_MIN}..${VLAN_MAX} in use)`);
      continue;
    }
    vlanOf.set(id, nextVlan);
    used.add(nextVlan);
  }
  const prevNetworks = new Map(prev?.networks.map((n) => [n.id, n]));
  const networks = sameOr(prev?.networks, netIds.filter((id) => vlanOf.has(id)).map((id): LocalNetwork => {
    const vni = t.networks.get(id)!.vni;
    const vlan = vlanOf.get(id)!;
    const was = prevNetworks.get(id);
    return was?.vni === vni && was.vlan === vlan ? was : { id, vni, vlan };
  }));

  const prevLocal = new Map(prev?.localPorts.map((lp) => [lp.id, lp]));
  const local: LocalPort[] = [];
  for (const p of mine) {
    const vlan = vlanOf.get(p.network);
    if (vlan === undefined) continue;
    const ofport = ofportOf.get(p)!;
    const was = prevLocal.get(p.id);
    if (was && sourceOf.get(was) === p && was.vlan === vlan && was.ofport === ofport) local.push(was);
    else {
      const lp: LocalPort = { ...p, vlan, ofport };
      sourceOf.set(lp, p);
      local.push(lp);
    }
  }
  const localPorts = sameOr(prev?.localPorts, local);

  // Remote hosts sharing a network, numbered by remote IP from ofport 2. The controller pins them
  // with ofport_request (Neutron lets OVS choose), so what we render is what a live host holds.
  const remoteHosts = new Set<string>();
  const isPlugged = (p: Port): boolean => {
    const there = opts.remotePlugged?.(p.host);
    return there === undefined || there.has(p.id);
  };
  // Ports of other hosts in this host's networks, while plugged on their host.
  const remoteIn: Port[] = [];
  for (const n of networks) {
    for (const p of t.portsIn(n.id)) {
      if (p.host === hostName || !isPlugged(p)) continue;
      remoteIn.push(p);
      remoteHosts.add(p.host);
    }
  }
  // A tunnel OVS already numbered keeps its ofport; a new one gets the lowest ofport no tunnel port
  // on br-tun holds (stale ones included, until removed), so what it requests is what it gets.
  const tunnelOfportsTaken = new Set<number>();
  for (const [name, o] of opts.ofports ?? []) if (name.startsWith('vxlan-')) tunnelOfportsTaken.add(o);
  let nextTunnelOfport = FIRST_TUNNEL_OFPORT;
  const prevTunnels = new Map(prev?.tunnels.map((tu) => [tu.host, tu]));
  const tunnels = sameOr(prev?.tunnels, [...remoteHosts].map((h) => t.hosts.get(h)!)
    .map((h) => ({ h, ip: ipNumber(h.tunnelIp) })).sort((a, b) => a.ip - b.ip).map(({ h }): Tunnel => {
      const was = prevTunnels.get(h.name);
      const portName = was?.remoteIp === h.tunnelIp ? was.portName : tunnelPortName(h.tunnelIp);
      let ofport = opts.ofports?.get(portName);
      if (ofport === undefined) {
        while (tunnelOfportsTaken.has(nextTunnelOfport)) nextTunnelOfport++;
        ofport = nextTunnelOfport;
        tunnelOfportsTaken.add(ofport);
      }
      return was?.remoteIp === h.tunnelIp && was.ofport === ofport ? was : { host: h.name, remoteIp: h.tunnelIp, portName, ofport };
    }));
  const tunnelOf = new Map(tunnels.map((tu) => [tu.host, tu]));
  const vniOf = new Map(networks.map((n) => [n.id, n.vni]));
  // The previous remote ports by topology port: one index carried from state to state and added
  // to, not rebuilt (a 20k-entry map built per event was two thirds of a derivation).
  const prevRemote = (prev && remoteIndex.get(prev)) ?? new WeakMap<Port, RemotePort>();
  const remote: RemotePort[] = [];
  for (const port of remoteIn) {
    const vlan = vlanOf.get(port.network);
    if (vlan === undefined) continue;
    const vni = vniOf.get(port.network)!;
    const tunnel = tunnelOf.get(port.host)!;
    const was = prevRemote.get(port);
    if (was?.vni === vni && was.vlan === vlan && was.tunnel === tunnel) remote.push(was);
    else {
      const rp: RemotePort = { port, vni, vlan, tunnel };
      prevRemote.set(port, rp);
      remote.push(rp);
    }
  }
  const remotePorts = sameOr(prev?.remotePorts, remote);
  const errs = sameOr(prev?.errors, errors);
  const firewall = deriveFirewall(t, localPorts, prev?.firewall, opts.conjHints ?? prev?.firewall?.conjBases);

  if (prev && prev.tunnelIp === host.tunnelIp && prev.networks === networks && prev.localPorts === localPorts && prev.tunnels === tunnels
    && prev.remotePorts === remotePorts && prev.errors === errs && prev.firewall === firewall) return prev;
  const state: HostState = {
    host: hostName, tunnelIp: host.tunnelIp, patchIntOfport: PATCH_OFPORT, patchTunOfport: PATCH_OFPORT,
    networks, localPorts, tunnels, remotePorts, errors: errs, ...(firewall ? { firewall } : {}),
  };
  remoteIndex.set(state, prevRemote);
  return state;
}

/** `next` if it differs from `prev` entry by entry (same keys, same values), else `prev`. */
function sameMapOr<V>(prev: ReadonlyMap<string, V> | undefined, next: ReadonlyMap<string, V>): ReadonlyMap<string, V> {
  if (!prev || prev.size !== next.size) return next;
  for (const [k, v] of next) if (prev.get(k) !== v) return next;
  return prev;
}

/**
 * Whether Neutron filters a port: port security on, and not Neutron's own (`network:*`: DHCP, routers,
 * its "trusted" ports, which get neither anti-spoofing nor a firewall).
 */
export function isProtected(p: Port): boolean {
  return p.portSecurity && !p.deviceOwner?.startsWith('network:');
}

/**
 * The security groups of the plugged local ports Neutron filters, and the members of the groups
 * their rules name as remote; undefined when no such port is in a group (no firewall to build).
 */
function deriveFirewall(t: Topology, localPorts: readonly LocalPort[], prev: FirewallState | undefined,
  hints: ReadonlyMap<string, number> | undefined): FirewallState | undefined {
  const own = new Set<string>();
  const keys = new Set<string>();
  for (const p of localPorts) {
    if (!isProtected(p)) continue;
    for (const g of p.securityGroups) own.add(g);
    for (const k of conjKeysOf({ ofport: p.ofport, groups: p.securityGroups.map((id) => t.securityGroups.get(id)!) })) keys.add(k);
  }
  if (own.size === 0) return undefined;
  const remote = new Set<string>();
  for (const g of own) for (const r of t.securityGroups.get(g)!.rules) if (r.remoteGroupId !== undefined) remote.add(r.remoteGroupId);
  const ids = [...new Set([...own, ...remote])].sort();
  const groups = sameMapOr(prev?.groups, new Map(ids.map((id) => [id, t.securityGroups.get(id)!])));
  const members = sameMapOr(prev?.members, new Map([...remote].sort().map((id) => [id, t.membersOf(id)])));
  // Blocks of keys no longer used are released (their flows go in the same bundle as any new ones).
  const installed = hints ?? new Map<string, number>();
  const conjBases = sameMapOr(prev?.conjBases, allocateConjIds(keys, installed, [...installed.keys()].filter((k) => !keys.has(k))));
  return prev && prev.groups === groups && prev.members === members && prev.conjBases === conjBases ? prev : { groups, members, conjBases };
}
