// The topology model: hosts, networks and ports, built by applying validated events. Applying an
// event either succeeds whole or throws TopologyError and leaves the model as it was.
import { readFileSync } from 'node:fs';
import { openFailed } from '../strerror.js';
import { HostEvent, isEventLine, NetworkEvent, parseEventLine, PortEvent, RemoveEvent, SecurityGroupEvent, sortAddresses, TopologyError, TopologyEvent } from './events.js';

export type Host = Omit<HostEvent, 'type'>;
export type Network = Omit<NetworkEvent, 'type'>;
export type Port = Omit<PortEvent, 'type'>;
export type SecurityGroup = Omit<SecurityGroupEvent, 'type'>;

/**
 * A member address: a fixed IP or address-pair IP/CIDR; an address pair of /0 (any address, as
 * routers and VRRP ports use) comes with the MAC it is paired with, the only thing that tells its
 * traffic apart (Neutron's firewall matches that MAC for it).
 */
export type MemberAddress = string | { readonly address: string; readonly mac: string };

/**
 * A group's members: the addresses of its ports, on every host, and its memberIps, sorted (any-address
 * pairs last), once each.
 */
export interface GroupMembers {
  readonly v4: readonly MemberAddress[];
  readonly v6: readonly MemberAddress[];
}

const NO_MEMBERS: GroupMembers = { v4: [], v6: [] };

export class Topology {
  readonly hosts = new Map<string, Host>();
  readonly networks = new Map<string, Network>();
  readonly ports = new Map<string, Port>();
  /** What must be unique among ports (MAC and fixed IPs per network, ofport per host) -> port id. */
  private readonly unique = new Map<string, string>();

  /** network -> host -> how many of its ports the host has there: who shares a network with whom. */
  private readonly netHosts = new Map<string, Map<string, number>>();
  /** Ports by host and by network, and each port's place in the order ports were first added. */
  private readonly byHost = new Map<string, Map<string, Port>>();
  private readonly byNetwork = new Map<string, Map<string, Port>>();
  private readonly seq = new Map<string, number>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  /** Security group -> its ports (membership) and -> host -> how many of them the host has. */
  private readonly groupPorts = new Map<string, Map<string, Port>>();
  private readonly groupHosts = new Map<string, Map<string, number>>();
  /** Security group R -> the groups whose rules name R as remote group (R itself when it names itself). */
  private readonly namedBy = new Map<string, Set<string>>();
  /** membersOf's answer per group, until a port of the group or its memberIps change (shared by every host's state). */
  private readonly membersCache = new Map<string, GroupMembers>();
  /** portsOn/portsIn's sorted answer per index entry, until that entry changes (asked at every pass). */
  private readonly orderedCache = new WeakMap<ReadonlyMap<string, Port>, readonly Port[]>();
  private nextSeq = 0;

  /** Incremented by every applied change. */
  version = 0;

  /**
   * The hosts whose state the last applied change may alter: the port's host and every host with a
   * port in its network (l2pop entries, flood lists, tunnels), a host and those sharing a network
   * with it (its tunnel IP), a network's hosts (its VNI). The controller wakes only their agents.
   * Security groups: a group's change touches the hosts with a port in it or in a group whose rules
   * name it as remote; a port's change also touches the hosts with a port in a group whose rules
   * name one of the port's old or new groups as remote (their members changed).
   */
  lastTouched: ReadonlySet<string> = new Set();

  /** Applies one event (all or nothing). Returns false for a replay (rev not newer). */
  apply(e: TopologyEvent): boolean {
    const touched = new Set<string>();
    const changed = this.applyEvent(e, touched);
    if (changed) {
      this.version++;
      this.lastTouched = touched;
    }
    return changed;
  }

  /** An independent copy (for a dry run): the maps are copied, the entries are immutable and shared. */
  clone(): Topology {
    const c = new Topology();
    const copy = <K, V>(from: ReadonlyMap<K, V>, to: Map<K, V>, value: (v: V) => V = (v) => v): void => {
      for (const [k, v] of from) to.set(k, value(v));
    };
    copy(this.hosts, c.hosts);
    copy(this.networks, c.networks);
    copy(this.ports, c.ports);
    copy(this.unique, c.unique);
    copy(this.netHosts, c.netHosts, (m) => new Map(m));
    copy(this.byHost, c.byHost, (m) => new Map(m));
    copy(this.byNetwork, c.byNetwork, (m) => new Map(m));
    copy(this.seq, c.seq);
    copy(this.securityGroups, c.securityGroups);
    copy(this.groupPorts, c.groupPorts, (m) => new Map(m));
    copy(this.groupHosts, c.groupHosts, (m) => new Map(m));
    copy(this.namedBy, c.namedBy, (s) => new Set(s));
    copy(this.membersCache, c.membersCache);
    c.nextSeq = this.nextSeq;
    c.version = this.version;
    return c;
  }

  /** Hosts with at least one port in a network. */
  hostsIn(network: string): Iterable<string> {
    return this.netHosts.get(network)?.keys() ?? [];
  }

  /** Hosts with at least one port in a security group. */
  hostsInGroup(group: string): Iterable<string> {
    return this.groupHosts.get(group)?.keys() ?? [];
  }

  /** The ports in a security group, on every host (Neutron's members, plugged or not). */
  portsInGroup(group: string): Iterable<Port> {
    return this.groupPorts.get(group)?.values() ?? [];
  }

  /** The groups whose rules name a group as remote group. */
  groupsNaming(group: string): ReadonlySet<string> {
    return this.namedBy.get(group) ?? new Set();
  }

  /**
   * A group's members: every address (fixed IPs, address-pair IPs and CIDRs) of its ports on every
   * host and its memberIps (members the source knows beyond those ports), split v4/v6, sorted, once
   * each. The same object while neither a port of the group nor its memberIps change.
   */
  membersOf(group: string): GroupMembers {
    let m = this.membersCache.get(group);
    if (!m) {
      const all: string[] = [...(this.securityGroups.get(group)?.memberIps ?? [])];
      const anyAddress = new Map<string, { address: string; mac: string }>();
      for (const p of this.portsInGroup(group)) {
        all.push(...p.fixedIps);
        for (const a of p.allowedAddressPairs) {
          if (!a.ip.endsWith('/0')) all.push(a.ip);
          else {
            const mac = a.mac ?? p.mac;
            anyAddress.set(`${a.ip} ${mac}`, { address: a.ip, mac });
          }
        }
      }
      const anyOf = (v6: boolean): MemberAddress[] => [...anyAddress.keys()].sort()
        .map((k) => anyAddress.get(k)!).filter((a) => a.address.includes(':') === v6);
      m = all.length === 0 && anyAddress.size === 0 ? NO_MEMBERS : {
        v4: [...sortAddresses(all.filter((a) => !a.includes(':'))), ...anyOf(false)],
        v6: [...sortAddresses(all.filter((a) => a.includes(':'))), ...anyOf(true)],
      };
      this.membersCache.set(group, m);
    }
    return m;
  }

  /** A host and every host it shares a network with. */
  private neighbours(host: string, into: Set<string>): void {
    into.add(host);
    for (const hosts of this.netHosts.values()) if (hosts.has(host)) for (const h of hosts.keys()) into.add(h);
  }

  private portIn(p: Port, delta: 1 | -1): void {
    for (const [index, key] of [[this.byHost, p.host], [this.byNetwork, p.network]] as const) {
      let ports = index.get(key);
      if (!ports) index.set(key, (ports = new Map()));
      if (delta > 0) ports.set(p.id, p);
      else ports.delete(p.id);
      this.orderedCache.delete(ports);
      if (ports.size === 0) index.delete(key);
    }
    if (!this.seq.has(p.id)) this.seq.set(p.id, this.nextSeq++);
    countHost(this.netHosts, p.network, p.host, delta);
    for (const g of p.securityGroups) {
      let ports = this.groupPorts.get(g);
      if (!ports) this.groupPorts.set(g, (ports = new Map()));
      if (delta > 0) ports.set(p.id, p);
      else ports.delete(p.id);
      if (ports.size === 0) this.groupPorts.delete(g);
      countHost(this.groupHosts, g, p.host, delta);
      this.membersCache.delete(g);
    }
  }

  private applyEvent(e: TopologyEvent, touched: Set<string>): boolean {
    switch (e.type) {
      case 'host': {
        const old = this.hosts.get(e.name);
        if (stale(old, e)) return false;
        for (const h of this.hosts.values()) {
          if (h.name !== e.name && h.tunnelIp === e.tunnelIp) throw new TopologyError(`host ${e.name}: tunnel IP ${e.tunnelIp} is already host ${h.name}'s`);
        }
        const { type: _t, ...host } = e;
        this.hosts.set(e.name, host);
        this.neighbours(e.name, touched);
        return true;
      }
      case 'network': {
        const old = this.networks.get(e.id);
        if (stale(old, e)) return false;
        for (const n of this.networks.values()) {
          if (n.id !== e.id && n.vni === e.vni) throw new TopologyError(`network ${e.id}: VNI ${e.vni} is already network ${n.id}'s`);
        }
        const { type: _t, ...net } = e;
        this.networks.set(e.id, net);
        for (const h of this.hostsIn(e.id)) touched.add(h);
        return true;
      }
      case 'port': {
        const old = this.ports.get(e.id);
        if (stale(old, e)) return false;
        if (!this.networks.has(e.network)) throw new TopologyError(`port ${e.id}: unknown network ${e.network}`);
        if (!this.hosts.has(e.host)) throw new TopologyError(`port ${e.id}: unknown host ${e.host}`);
        for (const g of e.securityGroups) if (!this.securityGroups.has(g)) throw new TopologyError(`port ${e.id}: unknown security group ${g}`);
        const taken = (key: string, what: string, scope: string): void => {
          const holder = this.unique.get(key);
          if (holder !== undefined && holder !== e.id) throw new TopologyError(`port ${e.id}: ${what} is already port ${holder}'s ${scope}`);
        };
        const keys = portKeys(e);
        taken(keys[0]!, `MAC ${e.mac}`, `in network ${e.network}`);
        e.fixedIps.forEach((ip, i) => taken(keys[1 + i]!, `fixed IP ${ip}`, `in network ${e.network}`));
        if (e.ofport !== undefined) taken(keys[keys.length - 1]!, `ofport ${e.ofport}`, `on host ${e.host}`);
        const { type: _t, ...port } = e;
        if (old) {
          for (const k of portKeys(old)) this.unique.delete(k);
          this.touchPort(old, touched);
          this.portIn(old, -1);
        }
        this.ports.set(e.id, port);
        for (const k of keys) this.unique.set(k, e.id);
        this.portIn(port, 1);
        this.touchPort(port, touched);
        return true;
      }
      case 'securityGroup': {
        const old = this.securityGroups.get(e.id);
        if (stale(old, e)) return false;
        e.rules.forEach((r, i) => {
          if (r.remoteGroupId !== undefined && r.remoteGroupId !== e.id && !this.securityGroups.has(r.remoteGroupId)) {
            throw new TopologyError(`security group ${e.id}: rules[${i}].remoteGroupId names unknown security group ${r.remoteGroupId}`);
          }
        });
        const { type: _t, ...group } = e;
        if (old) this.nameRemotes(old, -1);
        this.securityGroups.set(e.id, group);
        this.nameRemotes(group, 1);
        // Its members change with its memberIps alone (both sorted, once each): the rest keeps membersOf's object.
        if (String(old?.memberIps ?? []) !== String(group.memberIps ?? [])) this.membersCache.delete(e.id);
        this.touchGroup(e.id, touched);
        return true;
      }
      case 'remove': {
        if (e.kind === 'securityGroup') return this.removeGroup(e);
        const table = e.kind === 'host' ? this.hosts : e.kind === 'network' ? this.networks : this.ports;
        if (!table.has(e.id)) throw new TopologyError(`remove ${e.kind} ${e.id}: no such ${e.kind}`);
        if (e.kind !== 'port') {
          const key = e.kind === 'host' ? 'host' : 'network';
          const user = [...this.ports.values()].find((p) => p[key] === e.id);
          if (user) throw new TopologyError(`remove ${e.kind} ${e.id}: port ${user.id} still uses it`);
        }
        if (e.kind === 'port') {
          const p = this.ports.get(e.id)!;
          for (const k of portKeys(p)) this.unique.delete(k);
          this.touchPort(p, touched);
          this.portIn(p, -1);
          this.seq.delete(p.id);
        }
        if (e.kind === 'host') touched.add(e.id);
        table.delete(e.id);
        return true;
      }
    }
  }

  private touchPort(p: Port, touched: Set<string>): void {
    touched.add(p.host);
    for (const h of this.hostsIn(p.network)) touched.add(h);
    for (const g of p.securityGroups) for (const by of this.groupsNaming(g)) for (const h of this.hostsInGroup(by)) touched.add(h);
  }

  /** The hosts a group's change concerns: those with a port in it or in a group naming it as remote. */
  private touchGroup(id: string, touched: Set<string>): void {
    for (const g of [id, ...this.groupsNaming(id)]) for (const h of this.hostsInGroup(g)) touched.add(h);
  }

  /** Enters (1) or withdraws (-1) a group's rules in the index of who names whom as remote group. */
  private nameRemotes(g: SecurityGroup, delta: 1 | -1): void {
    for (const r of g.rules) {
      if (r.remoteGroupId === undefined) continue;
      let by = this.namedBy.get(r.remoteGroupId);
      if (!by) this.namedBy.set(r.remoteGroupId, (by = new Set()));
      if (delta > 0) by.add(g.id);
      else by.delete(g.id);
      if (by.size === 0) this.namedBy.delete(r.remoteGroupId);
    }
  }

  /** Removes a group no port uses and no other group names as remote; no host's state holds it then. */
  private removeGroup(e: RemoveEvent): true {
    const g = this.securityGroups.get(e.id);
    if (!g) throw new TopologyError(`remove securityGroup ${e.id}: no such securityGroup`);
    const user = this.portsInGroup(e.id)[Symbol.iterator]().next();
    if (!user.done) throw new TopologyError(`remove securityGroup ${e.id}: port ${user.value.id} still uses it`);
    const namer = [...this.groupsNaming(e.id)].find((by) => by !== e.id);
    if (namer !== undefined) throw new TopologyError(`remove securityGroup ${e.id}: security group ${namer} names it as remote group`);
    this.nameRemotes(g, -1);
    this.securityGroups.delete(e.id);
    this.membersCache.delete(e.id);
    return true;
  }

  /** Ports of a host, in the order they were added. */
  portsOn(host: string): readonly Port[] {
    return this.ordered(this.byHost.get(host));
  }

  /** Ports in a network, in the order they were added. */
  portsIn(network: string): readonly Port[] {
    return this.ordered(this.byNetwork.get(network));
  }

  private ordered(ports: ReadonlyMap<string, Port> | undefined): readonly Port[] {
    if (!ports) return [];
    let sorted = this.orderedCache.get(ports);
    if (!sorted) {
      sorted = [...ports.values()].sort((a, b) => this.seq.get(a.id)! - this.seq.get(b.id)!);
      this.orderedCache.set(ports, sorted);
    }
    return sorted;
  }
}

/** Counts a host's entries under a key (network or group -> host -> count), dropping what reaches zero. */
function countHost(index: Map<string, Map<string, number>>, key: string, host: string, delta: 1 | -1): void {
  let hosts = index.get(key);
  if (!hosts) index.set(key, (hosts = new Map()));
  const n = (hosts.get(host) ?? 0) + delta;
  if (n > 0) hosts.set(host, n);
  else hosts.delete(host);
  if (hosts.size === 0) index.delete(key);
}

/** The uniqueness keys of a port: its MAC, each fixed IP (per network), its ofport (per host). */
function portKeys(p: Pick<Port, 'network' | 'host' | 'mac' | 'fixedIps' | 'ofport'>): string[] {
  return [`mac ${p.network} ${p.mac}`, ...p.fixedIps.map((ip) => `ip ${p.network} ${ip}`),
    ...(p.ofport !== undefined ? [`ofport ${p.host} ${p.ofport}`] : [])];
}

function stale(old: { rev?: number } | undefined, e: { rev?: number }): boolean {
  return old?.rev !== undefined && e.rev !== undefined && e.rev <= old.rev;
}

/** Reads a JSON-lines topology (a snapshot is a stream of adds). Errors name every bad line. */
export function parseTopology(text: string, source = 'topology'): Topology {
  const t = new Topology();
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!isEventLine(line)) return;
    try {
      t.apply(parseEventLine(line));
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      errors.push(`${source}:${i + 1}: ${err.message}`);
    }
  });
  if (errors.length) throw new TopologyError(errors.join('\n'));
  return t;
}

export function readTopology(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new Error(openFailed(path, err));
  }
  return parseTopology(text, path === '-' ? '<stdin>' : path);
}
