// Per-host state: what one hypervisor must hold, derived from the topology. Pure and deterministic:
// the same topology (and the same VLAN hints, ports plugged and ofports read back from OVSDB)
// always gives the same state.
import { allocateConjIds, conjKeysOf } from '../../pipelines/firewall/rules.js';
import type { GroupMembers, Host, Network, Port, SecurityGroup, Topology } from '../topology/model.js';

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
   * every port Neutron has in the group, on any host, plugged or not (Neutron's DB membership), and
   * the group's memberIps (members its source knows beyond the topology's ports: Neutron's sg_member_ips).
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
  /** Ports of other hosts in this host's networks (the l2pop address book): remotePortsByNetwork's lists end to end. */
  readonly remotePorts: readonly RemotePort[];
  /**
   * The remote ports of each network, in `networks`' order. A network's list is the same array while
   * its remote ports are the same objects, the whole the same array while every list is; walking
   * them spares making remotePorts (made on first read: 20k elements at scale, ~1 ms to allocate).
   */
  readonly remotePortsByNetwork: readonly (readonly RemotePort[])[];
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
   * its topology ports: nothing is taken away on knowledge we do not have. With `previous`, a
   * host's set is taken to be unchanged while it is the same object: replace it, never change it.
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

/** What one local network's remote ports were derived from, to hand them back while those are the same objects. */
interface NetworkMemo {
  /** t.portsIn(network) as read: the topology hands back the same array until a port of the network changes. */
  readonly ports: readonly Port[];
  /** Its ports of other hosts that were plugged there. */
  readonly remoteIn: readonly Port[];
  readonly remote: readonly RemotePort[];
}

/**
 * What a state was derived from beyond the state itself, so that the next derivation walks only the
 * networks an event concerns (walking the 20k remote ports of the bench's host was most of an event's
 * cost). Never changed once made: states derived from one state do not disturb each other.
 */
interface Memo {
  readonly local: LocalMemo;
  /** Each network's, by index. */
  readonly networks: readonly NetworkMemo[];
  /** Other host -> how many of its ports (plugged or not) are in the state's networks. */
  readonly sharing: ReadonlyMap<string, number>;
  /**
   * remotePlugged's answers (the defined ones) for those hosts. A host's set is taken to be the same while it
   * is the same object: the caller replaces it when it changes, never changes it in place.
   */
  readonly plugged: ReadonlyMap<string, ReadonlySet<string>>;
  /** Remote host -> how many of its plugged ports are in the state's networks: the hosts that need a tunnel. */
  readonly remoteHosts: ReadonlyMap<string, number>;
  /**
   * Remote ports by topology port, shared along a line of states and added to, not rebuilt (an entry
   * is checked against the port's VNI, VLAN and tunnel before it is reused, so a stale one is harmless).
   */
  readonly remoteIndex: WeakMap<Port, RemotePort>;
  /** The state's remotePorts. */
  readonly list: RemoteList;
}

/**
 * A state's remote ports end to end, made on first read: an array of 20k elements (the bench's
 * host) lands in V8's large-object space, ~1 ms of CPU to allocate, and most events change one
 * network's list. States whose lists hold the same elements share one.
 */
class RemoteList {
  private all?: readonly RemotePort[];

  constructor(private readonly byNetwork: readonly (readonly RemotePort[])[]) {}

  get(): readonly RemotePort[] {
    if (!this.all) {
      let size = 0;
      for (const l of this.byNetwork) size += l.length;
      const all = new Array<RemotePort>(size);
      size = 0;
      for (const l of this.byNetwork) for (const rp of l) all[size++] = rp;
      this.all = all;
    }
    return this.all;
  }

  /**
   * Whether these lists end to end are `other`'s elements, known without making either: a network
   * whose remote ports are the same objects keeps its list, and a remote port is in one network.
   */
  sameAs(other: RemoteList): boolean {
    const full = (ls: readonly (readonly RemotePort[])[]): (readonly RemotePort[])[] => ls.filter((l) => l.length > 0);
    const a = full(this.byNetwork);
    const b = full(other.byNetwork);
    return a.length === b.length && a.every((l, i) => l === b[i]);
  }
}

const memos = new WeakMap<HostState, Memo>();

/** `next` if it differs from `prev` element by element, else `prev` (the same array as before). */
function sameOr<T>(prev: readonly T[] | undefined, next: readonly T[]): readonly T[] {
  return prev && prev.length === next.length && prev.every((x, i) => x === next[i]) ? prev : next;
}

/**
 * The index in `prev` of the element with `key` (-1: none), for elements asked in order: looked for
 * where the last one found says (lists mostly keep their order, or lose or gain an element), else
 * by an index built once.
 */
function indexer<T, K>(prev: readonly T[] | undefined, keyOf: (x: T) => K): (key: K, i: number) => number {
  let index: Map<K, number> | undefined;
  let shift = 0;
  return (key, i) => {
    if (!prev) return -1;
    let j = -1;
    for (const k of [i + shift, i + shift + 1, i + shift - 1]) {
      if (k >= 0 && k < prev.length && keyOf(prev[k]!) === key) {
        j = k;
        break;
      }
    }
    if (j < 0) {
      index ??= new Map(prev.map((x, k) => [keyOf(x), k]));
      j = index.get(key) ?? -1;
    }
    if (j >= 0) shift = j - i;
    return j;
  };
}

const byId = (x: { readonly id: string }): string => x.id;

/** Adds `delta` to a key's count, dropping the key at zero. */
function bump(counts: Map<string, number>, key: string, delta: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

/** `a` and `b` hold the same entries (or are both absent). */
function sameEntries<V>(a: ReadonlyMap<string, V> | undefined, b: ReadonlyMap<string, V> | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

const PATCH_OFPORT = 1;
const FIRST_TUNNEL_OFPORT = 2;
const VLAN_MIN = 1;
const VLAN_MAX = 4094;

function tunnelPortName(remoteIp: string): string {
  return `vxlan-${remoteIp.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
}

/** A host's tunnel IP as a number (the tunnels' order), once per host record. */
const ipNumbers = new WeakMap<Host, number>();
function ipNumber(h: Host): number {
  let n = ipNumbers.get(h);
  if (n === undefined) ipNumbers.set(h, (n = h.tunnelIp.split('.').reduce((a, o) => a * 256 + Number(o), 0)));
  return n;
}

/** A network with a plugged local port, and its local VLAN (none on exhaustion). */
interface NetworkSlot {
  readonly id: string;
  vlan?: number;
}

export function deriveHostState(t: Topology, hostName: string, opts: HostStateOptions = {}): HostState {
  const host = t.hosts.get(hostName);
  if (!host) throw new Error(`unknown host ${hostName}`);
  const prev = opts.previous?.host === hostName ? opts.previous : undefined;
  const memo = prev && memos.get(prev);
  const local = deriveLocal(t, hostName, opts, prev, memo?.local);
  const { networks, localPorts } = local;
  const remote = deriveRemote(t, hostName, opts, networks, prev, memo);
  const firewall = deriveFirewall(t, local.memo.groups, prev?.firewall, opts.conjHints ?? prev?.firewall?.conjBases);

  const { tunnels, list, byNetwork } = remote;
  let state: HostState;
  if (prev && prev.tunnelIp === host.tunnelIp && prev.networks === networks && prev.localPorts === localPorts && prev.tunnels === tunnels
    && memo?.list === list && prev.remotePortsByNetwork === byNetwork && prev.errors === local.errors && prev.firewall === firewall) state = prev;
  else {
    state = {
      host: hostName, tunnelIp: host.tunnelIp, patchIntOfport: PATCH_OFPORT, patchTunOfport: PATCH_OFPORT,
      networks, localPorts, tunnels, get remotePorts() {
        return list.get();
      }, remotePortsByNetwork: byNetwork, errors: local.errors, ...(firewall ? { firewall } : {}),
    };
  }
  // What this derivation read describes the state it returns, even when that is `prev`.
  const unchanged = memo && local.memo === memo.local && remote.networks === memo.networks && remote.sharing === memo.sharing
    && remote.plugged === memo.plugged && remote.remoteHosts === memo.remoteHosts && list === memo.list;
  memos.set(state, unchanged ? memo : {
    local: local.memo, networks: remote.networks, sharing: remote.sharing, plugged: remote.plugged, remoteHosts: remote.remoteHosts, remoteIndex: remote.remoteIndex, list,
  });
  return state;
}

/** What a state's networks and local ports were derived from. */
interface LocalMemo {
  /** t.portsOn(host) as read: the same array until a port of the host changes. */
  readonly ports: readonly Port[];
  /** Copies of the plugged ports and VLAN hints given (the agent builds them afresh at every pass). */
  readonly plugged?: ReadonlyMap<string, number>;
  readonly vlanHints?: ReadonlyMap<string, number>;
  /** The topology's record of each network, by index. */
  readonly records: readonly Network[];
  /** The topology port each local port was copied from (a local port is its port plus VLAN and ofport), by index. */
  readonly sources: readonly Port[];
  /** Security group -> how many protected local ports are in it (the firewall's own groups). */
  readonly groups: ReadonlyMap<string, number>;
}

/**
 * The host's networks (with their local VLANs) and plugged local ports: the previous state's,
 * walking none of them, while the host's ports, the plugged ports, the VLAN hints and the
 * networks' records are the same.
 */
function deriveLocal(t: Topology, hostName: string, opts: HostStateOptions, prev: HostState | undefined, memo: LocalMemo | undefined): {
  networks: readonly LocalNetwork[]; localPorts: readonly LocalPort[]; errors: readonly string[]; memo: LocalMemo;
} {
  const ports = t.portsOn(hostName);
  if (prev && memo && memo.ports === ports && sameEntries(opts.plugged, memo.plugged) && sameEntries(opts.vlanHints, memo.vlanHints)
    && memo.records.every((r) => t.networks.get(r.id) === r)) return { networks: prev.networks, localPorts: prev.localPorts, errors: prev.errors, memo };
  // Local ports that are plugged, with their ofport: never a guessed one (another port may get it).
  // Their networks, in the order their first local port appeared.
  const slotOf = new Map<string, NetworkSlot>();
  const slots: NetworkSlot[] = [];
  const mine: { readonly p: Port; readonly ofport: number; readonly slot: NetworkSlot }[] = [];
  for (const p of ports) {
    const ofport = opts.plugged ? opts.plugged.get(p.id) : p.ofport;
    if (ofport === undefined) continue;
    let slot = slotOf.get(p.network);
    if (!slot) {
      slotOf.set(p.network, (slot = { id: p.network }));
      slots.push(slot);
    }
    mine.push({ p, ofport, slot });
  }
  const errors: string[] = [];
  const used = new Set<number>();
  if (opts.vlanHints) {
    for (const slot of slots) {
      const hint = opts.vlanHints.get(slot.id);
      if (hint !== undefined && hint >= VLAN_MIN && hint <= VLAN_MAX && !used.has(hint)) {
        slot.vlan = hint;
        used.add(hint);
      }
    }
  }
  let nextVlan = VLAN_MIN;
  for (const slot of slots) {
    if (slot.vlan !== undefined) continue;
    while (used.has(nextVlan)) nextVlan++;
    if (nextVlan > VLAN_MAX) {
      errors.push(`network ${slot.id}: no free local VLAN on host ${hostName} (all of ${VLAN_MIN}..${VLAN_MAX} in use)`);
      continue;
    }
    slot.vlan = nextVlan;
    used.add(nextVlan);
  }
  const prevNetwork = indexer(prev?.networks, byId);
  const nets: LocalNetwork[] = [];
  const records: Network[] = [];
  for (const { id, vlan } of slots) {
    if (vlan === undefined) continue;
    const record = t.networks.get(id)!;
    const was = prev?.networks[prevNetwork(id, nets.length)];
    nets.push(was?.vni === record.vni && was.vlan === vlan ? was : { id, vni: record.vni, vlan });
    records.push(record);
  }

  // A local port is the previous one while it comes from the same topology record, at the same VLAN and ofport.
  // The groups' counts follow the local ports that came and went (copied first: memos are never changed).
  const groups = new Map(memo?.groups);
  const count = (lp: LocalPort, delta: 1 | -1): void => {
    if (!isProtected(lp)) return;
    for (const g of lp.securityGroups) bump(groups, g, delta);
  };
  const prevLocal = indexer(memo?.sources, (p) => p);
  const kept = new Uint8Array(memo ? prev!.localPorts.length : 0);
  const local: LocalPort[] = [];
  const sources: Port[] = [];
  for (const { p, ofport, slot: { vlan } } of mine) {
    if (vlan === undefined) continue;
    const j = prevLocal(p, local.length);
    const was = prev?.localPorts[j];
    if (was && was.vlan === vlan && was.ofport === ofport) {
      kept[j] = 1;
      local.push(was);
    } else {
      const lp: LocalPort = { ...p, vlan, ofport };
      count(lp, 1);
      local.push(lp);
    }
    sources.push(p);
  }
  kept.forEach((k, j) => {
    if (!k) count(prev!.localPorts[j]!, -1);
  });
  return {
    networks: sameOr(prev?.networks, nets), localPorts: sameOr(prev?.localPorts, local), errors: sameOr(prev?.errors, errors),
    memo: { ports, ...(opts.plugged ? { plugged: new Map(opts.plugged) } : {}), ...(opts.vlanHints ? { vlanHints: new Map(opts.vlanHints) } : {}), records, sources, groups },
  };
}

/**
 * The tunnels and remote ports of a host's networks: per network, reused while the network's ports,
 * VNI and VLAN, the plugged sets of the hosts with ports there and their tunnels are the same objects.
 */
function deriveRemote(t: Topology, hostName: string, opts: HostStateOptions, networks: readonly LocalNetwork[],
  prev: HostState | undefined, memo: Memo | undefined): Omit<Memo, 'local'> & { tunnels: readonly Tunnel[]; byNetwork: readonly (readonly RemotePort[])[] } {
  // Each network's memo (where it was a local network of the previous state too).
  const prevNetwork = indexer(prev?.networks, byId);
  const prevAt = networks === prev?.networks ? undefined : networks.map((n, i) => prevNetwork(n.id, i));
  const was = prevAt ? prevAt.map((j) => memo?.networks[j]) : memo?.networks ?? [];
  const kept = new Set(prevAt ? was : []);
  const gone = memo && prevAt ? memo.networks.filter((m) => !kept.has(m)) : [];
  const portsIn = networks.map((n) => t.portsIn(n.id));

  // The other hosts with ports in these networks, plugged or not: those whose plugged sets matter.
  let sharingCopy: Map<string, number> | undefined;
  const share = (list: readonly Port[], delta: 1 | -1): void => {
    sharingCopy ??= new Map(memo?.sharing);
    for (const p of list) if (p.host !== hostName) bump(sharingCopy, p.host, delta);
  };
  networks.forEach((_, i) => {
    const m = was[i];
    if (m?.ports === portsIn[i]) return;
    if (m) share(m.ports, -1);
    share(portsIn[i]!, 1);
  });
  for (const m of gone) share(m.ports, -1);
  const sharing: ReadonlyMap<string, number> = sharingCopy ?? memo?.sharing ?? new Map();

  // The networks where a host has ports, for each host whose plugged set is not the one last read.
  const dirty = new Set<string>();
  const touch = (h: string): void => {
    for (const p of t.portsOn(h)) dirty.add(p.network);
  };
  let plugged = memo?.plugged ?? new Map<string, ReadonlySet<string>>();
  const answers = opts.remotePlugged ? [...sharing.keys()].map((h) => [h, opts.remotePlugged!(h)] as const) : [];
  let answered = 0;
  let pluggedChanged = false;
  for (const [h, now] of answers) {
    if (now !== undefined) answered++;
    if (now !== plugged.get(h)) {
      touch(h);
      pluggedChanged = true;
    }
  }
  if (pluggedChanged || answered !== plugged.size) {
    const next = new Map<string, ReadonlySet<string>>();
    for (const [h, now] of answers) if (now !== undefined) next.set(h, now);
    plugged = next;
  }
  const isPlugged = (p: Port): boolean => {
    const there = plugged.get(p.host);
    return there === undefined || there.has(p.id);
  };
  // Ports of other hosts in this host's networks, while plugged on their host; the remote hosts
  // counted as their lists change (copied on the first change: memos are never changed).
  let counts: Map<string, number> | undefined;
  const count = (list: readonly Port[], delta: 1 | -1): void => {
    counts ??= new Map(memo?.remoteHosts);
    for (const p of list) bump(counts, p.host, delta);
  };
  const remoteIn = networks.map((n, i): readonly Port[] => {
    const m = was[i];
    if (m && m.ports === portsIn[i] && !dirty.has(n.id)) return m.remoteIn;
    const list = sameOr(m?.remoteIn, portsIn[i]!.filter((p) => p.host !== hostName && isPlugged(p)));
    if (list !== m?.remoteIn) {
      if (m) count(m.remoteIn, -1);
      count(list, 1);
    }
    return list;
  });
  for (const m of gone) count(m.remoteIn, -1);
  const remoteHosts: ReadonlyMap<string, number> = counts ?? memo?.remoteHosts ?? new Map();

  // Remote hosts sharing a network, numbered by remote IP from ofport 2. The controller pins them
  // with ofport_request (Neutron lets OVS choose), so what we render is what a live host holds.
  // A tunnel OVS already numbered keeps its ofport; a new one gets the lowest ofport no tunnel port
  // on br-tun holds (stale ones included, until removed), so what it requests is what it gets.
  const tunnelOfportsTaken = new Set<number>();
  for (const [name, o] of opts.ofports ?? []) if (name.startsWith('vxlan-')) tunnelOfportsTaken.add(o);
  let nextTunnelOfport = FIRST_TUNNEL_OFPORT;
  const prevTunnels = new Map(prev?.tunnels.map((tu) => [tu.host, tu]));
  const tunnels = sameOr(prev?.tunnels, [...remoteHosts.keys()].map((h) => t.hosts.get(h)!)
    .sort((a, b) => ipNumber(a) - ipNumber(b)).map((h): Tunnel => {
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
  // The memo's remote ports hold the previous state's tunnels: a network with a port behind a
  // tunnel that changed is rebuilt.
  if (memo && tunnels !== prev?.tunnels) for (const tu of tunnels) if (prevTunnels.get(tu.host) !== tu) touch(tu.host);

  const remoteIndex = memo?.remoteIndex ?? new WeakMap<Port, RemotePort>();
  let changed = !memo || networks !== prev?.networks;
  let slicesChanged = changed;
  const memoNetworks = networks.map((n, i): NetworkMemo => {
    const m = was[i];
    const list = remoteIn[i]!;
    // A network of the previous state with the same VNI and VLAN is the same object (see above).
    const same = m && m.remoteIn === list && prev?.networks[prevAt ? prevAt[i]! : i] === n && !dirty.has(n.id);
    // Rebuilt, it takes back the network's own remote ports first (another state derived from the
    // same one may have left others in the shared index).
    const own = same || !m ? undefined : new Map(m.remote.map((rp) => [rp.port, rp]));
    const remote = same ? m.remote : sameOr(m?.remote, list.map((port) => {
      const tunnel = tunnelOf.get(port.host)!;
      for (const rp of [own?.get(port), remoteIndex.get(port)]) if (rp?.vni === n.vni && rp.vlan === n.vlan && rp.tunnel === tunnel) return rp;
      const fresh: RemotePort = { port, vni: n.vni, vlan: n.vlan, tunnel };
      remoteIndex.set(port, fresh);
      return fresh;
    }));
    if (remote !== m?.remote) slicesChanged = true;
    if (m && m.ports === portsIn[i] && m.remoteIn === list && m.remote === remote) return m;
    changed = true;
    return { ports: portsIn[i]!, remoteIn: list, remote };
  });
  // A network's list is new only when its content is (sameOr above).
  const byNetwork = slicesChanged || !prev ? sameOr(prev?.remotePortsByNetwork, memoNetworks.map((m) => m.remote)) : prev.remotePortsByNetwork;
  let list = memo?.list;
  if (!list || byNetwork !== prev?.remotePortsByNetwork) {
    const made = new RemoteList(byNetwork);
    list = list?.sameAs(made) ? list : made;
  }
  return {
    tunnels, byNetwork, list, networks: changed ? memoNetworks : memo!.networks, sharing, plugged, remoteHosts, remoteIndex,
  };
}

/** `next` if it differs from `prev` entry by entry (same keys, same values), else `prev`. */
function sameMapOr<V>(prev: ReadonlyMap<string, V> | undefined, next: ReadonlyMap<string, V>): ReadonlyMap<string, V> {
  return prev && sameEntries(prev, next) ? prev : next;
}

/**
 * Whether Neutron filters a port: port security on, and not Neutron's own (`network:*`: DHCP, routers,
 * its "trusted" ports, which get neither anti-spoofing nor a firewall).
 */
export function isProtected(p: Port): boolean {
  return p.portSecurity && !p.deviceOwner?.startsWith('network:');
}

/**
 * The conjunction keys of a group's remote-group rules, once per group record. A port's keys are
 * its groups' keys (conjKeysOf walks them group by group), so a host's keys are its groups' keys.
 */
const groupKeys = new WeakMap<SecurityGroup, readonly string[]>();
function keysOf(g: SecurityGroup): readonly string[] {
  let keys = groupKeys.get(g);
  if (!keys) groupKeys.set(g, (keys = conjKeysOf({ ofport: 0, groups: [g] })));
  return keys;
}

/**
 * The security groups of the plugged local ports Neutron filters (`own`: group -> how many), and the
 * members of the groups their rules name as remote; undefined when no such port is in a group (no
 * firewall to build).
 */
function deriveFirewall(t: Topology, ownCounts: ReadonlyMap<string, number>, prev: FirewallState | undefined,
  hints: ReadonlyMap<string, number> | undefined): FirewallState | undefined {
  if (ownCounts.size === 0) return undefined;
  const ownIds = [...ownCounts.keys()];
  const own = ownIds.map((id) => t.securityGroups.get(id)!);
  const keys = new Set(own.flatMap(keysOf));
  const remote = new Set<string>();
  for (const g of own) for (const r of g.rules) if (r.remoteGroupId !== undefined) remote.add(r.remoteGroupId);
  const ids = [...new Set([...ownIds, ...remote])].sort();
  const groups = sameMapOr(prev?.groups, new Map(ids.map((id) => [id, t.securityGroups.get(id)!])));
  const members = sameMapOr(prev?.members, new Map([...remote].sort().map((id) => [id, t.membersOf(id)])));
  // Blocks of keys no longer used are released (their flows go in the same bundle as any new ones).
  const installed = hints ?? new Map<string, number>();
  const conjBases = sameMapOr(prev?.conjBases, allocateConjIds(keys, installed, [...installed.keys()].filter((k) => !keys.has(k))));
  return prev && prev.groups === groups && prev.members === members && prev.conjBases === conjBases ? prev : { groups, members, conjBases };
}
