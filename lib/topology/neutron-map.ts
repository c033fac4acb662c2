// Neutron agent RPC -> topology events (issue 17 point 2): pure functions from what neutron-server
// sends one host's OVS agent to the events a JSON-lines topology line parses to. No I/O, no AMQP.
// Each message is read whole: a malformed or inconsistent one throws NeutronMapError naming the
// method and the field, and yields no event. What is well formed but not supported (not vxlan,
// admin down, ...) is listed in `refused` with its reason, and nothing is made of it.
import { createHash } from 'node:crypto';
import { HostEvent, memberAddress, parseEventLine, PortEvent, SecurityGroupEvent, SecurityGroupRule, TopologyError, TopologyEvent } from './events.js';
import { Port, SecurityGroup, Topology } from './model.js';
import { groupsInOrder } from './store.js';

export class NeutronMapError extends Error {}

/** What one agent knows when it maps a message. */
export interface AgentView {
  /** This agent's host as Neutron knows it (binding:host_id): local ports are its. */
  readonly host: string;
  /**
   * Every host this ofctl-ts acts for (default: `host` alone). l2pop entries at their tunnel IPs are
   * skipped: their own device details carry those ports with their Neutron ids.
   */
  readonly served?: ReadonlySet<string>;
  /** The topology as it stands (read, never changed): tunnel IPs' hosts, ports, groups. */
  readonly topology: Topology;
}

export interface Mapped {
  /** In the order they must be applied. */
  readonly events: readonly TopologyEvent[];
  /** Well-formed parts not supported, each with its reason; nothing was made of them. */
  readonly refused: readonly string[];
  /** Port ids to fetch again (device details and security-group info), as the real agent does. */
  readonly refetch: readonly string[];
}

type Obj = Record<string, unknown>;

/** Reads one message's fields, naming the method and the field's path in every error. */
class Reader {
  constructor(readonly method: string) {}

  fail(path: string, why: string): never {
    throw new NeutronMapError(`${this.method}: "${path}" ${why}`);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    return v as Obj;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'must be an array');
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '') this.fail(path, 'must be a non-empty string');
    return v;
  }

  int(v: unknown, path: string): number {
    if (!Number.isSafeInteger(v)) this.fail(path, `must be an integer (got ${JSON.stringify(v)})`);
    return v as number;
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, 'must be true or false');
    return v;
  }

  /** A value through one of the topology's validators, which names its path in its error. */
  valid<T>(check: () => T): T {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      throw new NeutronMapError(`${this.method}: ${err.message}`);
    }
  }

  /** An event run through the topology's own validation (normalised as a JSON line would be). */
  event<E extends TopologyEvent>(e: E, path: string): E {
    try {
      return parseEventLine(JSON.stringify(e)) as E;
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      return this.fail(path, `does not make a valid ${e.type} event: ${err.message}`);
    }
  }
}

/** The host holding a tunnel IP in the topology. */
function hostAt(t: Topology, ip: string): string | undefined {
  for (const h of t.hosts.values()) if (h.tunnelIp === ip) return h.name;
  return undefined;
}

/**
 * A remote port's id. l2pop names no port, only (MAC, IP) pairs per tunnel IP; Neutron keeps a MAC
 * unique in a network, so (network, MAC) names the port wherever it moves (a move's add on the new
 * host replaces it; the old host's late remove then finds it elsewhere and is ignored).
 */
export function remotePortId(network: string, mac: string): string {
  return `l2pop-${createHash('sha256').update(`${network} ${mac.toLowerCase()}`).digest('hex').slice(0, 32)}`;
}

/** A rule as `security_group_info_for_devices` sends it (Neutron's securitygroups_rpc_base). */
const RULE_KEYS = ['direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'source_ip_prefix', 'dest_ip_prefix',
  'remote_group_id', 'remote_address_group_id', 'stateful'];

/**
 * One group rule. Neutron's server writes a rule's remote_ip_prefix as `source_ip_prefix` on an
 * ingress rule and `dest_ip_prefix` on an egress one (DIRECTION_IP_PREFIX): both are the rule's
 * remote prefix, so the other spelling in a group rule is an error.
 */
function sgRule(r: Reader, v: unknown, at: string): { rule: Obj; stateful?: boolean } {
  const o = r.obj(v, at);
  for (const k of Object.keys(o)) if (!RULE_KEYS.includes(k)) r.fail(`${at}.${k}`, 'is not a member of a security-group rule');
  if (o.remote_address_group_id != null) r.fail(`${at}.remote_address_group_id`, 'is not supported yet (address groups)');
  const prefixKey = o.direction === 'egress' ? 'dest_ip_prefix' : 'source_ip_prefix';
  const wrongKey = o.direction === 'egress' ? 'source_ip_prefix' : 'dest_ip_prefix';
  if (o[wrongKey] != null) r.fail(`${at}.${wrongKey}`, `is not a remote prefix on an ${String(o.direction)} rule (Neutron writes it as ${prefixKey})`);
  // Neutron's DB keeps a numeric protocol as text ("6").
  const protocol = typeof o.protocol === 'string' && /^\d+$/.test(o.protocol) ? Number(o.protocol) : o.protocol;
  const rule: Obj = {
    direction: o.direction, ethertype: o.ethertype, protocol, portRangeMin: o.port_range_min, portRangeMax: o.port_range_max,
    remoteIpPrefix: o[prefixKey], remoteGroupId: o.remote_group_id,
  };
  for (const k of Object.keys(rule)) if (rule[k] === null || rule[k] === undefined) delete rule[k];
  return { rule, ...(o.stateful != null ? { stateful: r.bool(o.stateful, `${at}.stateful`) } : {}) };
}

/** Device owners whose ports need what the pipelines do not have: refused, not programmed. */
const UNSUPPORTED_OWNERS: ReadonlyMap<string, string> = new Map([
  ['network:router_interface_distributed', 'DVR'],
  ['network:router_centralized_snat', 'DVR'],
  ['trunk:subport', 'VLAN-aware VMs (trunks)'],
]);

/**
 * `security_group_info_for_devices` reply (secgroup RPC 1.3): the groups (field by field), each
 * device's groups and the remote groups' member IPs. A group no rule of which is in the reply and
 * that the topology lacks, but that a rule names as remote group, is entered with no rules: the
 * model needs a named group to exist, and no port here is in it (its rules matter to its ports'
 * hosts only; their own agent's reply brings them).
 * `sg_member_ips` lists every member of each remote group the devices' groups' rules name, on every
 * host (l2pop's remote ports carry no groups): each such group's event carries them as memberIps; a
 * group the topology has and the reply names as remote only gets an event (its rules as they are,
 * rev dropped) when they change. A group the reply gives without an sg_member_ips entry keeps the
 * memberIps the topology has. Members are addresses (1.2) or [address, MAC] pairs (1.3); a /0 member
 * (any address, told apart by its port's MAC alone, which memberIps cannot hold) is refused.
 * The devices' own `security_group_rules` are Neutron's provider rules (DHCP, RA); like Neutron's
 * OVS firewall, our base flows hold those.
 */
export function mapSecurityGroupInfo(view: AgentView, result: unknown): {
  readonly groups: readonly SecurityGroupEvent[];
  readonly portGroups: ReadonlyMap<string, readonly string[]>;
  readonly refused: readonly string[];
} {
  const r = new Reader('security_group_info_for_devices');
  const o = r.obj(result, 'result');
  const known = view.topology.securityGroups;
  const portGroups = new Map<string, string[]>();
  for (const [id, d] of Object.entries(r.obj(o.devices, 'result.devices'))) {
    const at = `result.devices.${id}`;
    const dev = r.obj(d, at);
    portGroups.set(id, r.arr(dev.security_groups ?? [], `${at}.security_groups`).map((g, i) => r.str(g, `${at}.security_groups[${i}]`)));
  }
  const refused: string[] = [];
  const members = new Map<string, string[]>();
  for (const [id, m] of Object.entries(r.obj(o.sg_member_ips ?? {}, 'result.sg_member_ips'))) {
    const at = `result.sg_member_ips.${id}`;
    const mo = r.obj(m, at);
    const list = (k: 'IPv4' | 'IPv6'): string[] => r.arr(mo[k] ?? [], `${at}.${k}`).flatMap((x, i) => {
      const path = `${at}.${k}[${i}]`;
      // Call version 1.3 gives [ip, mac] pairs; 1.2 the IPs alone.
      let given: string;
      if (Array.isArray(x)) {
        if (x.length !== 2) r.fail(path, 'must be an address or an [address, MAC] pair');
        given = r.str(x[0], `${path}[0]`);
        // null for a fixed IP: the pair's MAC is only given for an address pair's own MAC.
        if (x[1] !== null) r.str(x[1], `${path}[1]`);
      } else given = r.str(x, path);
      if (/\/0$/.test(given)) {
        refused.push(`security group ${id}: member ${given} (any address) left out: a member list holds addresses, and any address is told apart by its MAC alone`);
        return [];
      }
      const a = r.valid(() => memberAddress(given, path));
      if (a.includes(':') !== (k === 'IPv6')) r.fail(path, `${given} is not an ${k} address`);
      return [a];
    });
    // Once each: Neutron lists a fixed IP and another port's address pair of the same address (10.0.0.5/32) both.
    members.set(id, [...new Set([...list('IPv4'), ...list('IPv6')])]);
  }
  const groups: SecurityGroup[] = [];
  const named = new Set<string>();
  for (const [id, rules] of Object.entries(r.obj(o.security_groups, 'result.security_groups'))) {
    const at = `result.security_groups.${id}`;
    const mapped = r.arr(rules, at).map((x, i) => sgRule(r, x, `${at}[${i}]`));
    const stateful = [...new Set(mapped.map((m) => m.stateful).filter((s) => s !== undefined))];
    if (stateful.length > 1) r.fail(at, 'has rules both stateful and not: a group is one or the other');
    for (const m of mapped) if (typeof m.rule.remoteGroupId === 'string') named.add(m.rule.remoteGroupId);
    const memberIps = members.get(id) ?? known.get(id)?.memberIps;
    // A group without rules does not say whether it is stateful: Neutron's default (stateful) is kept.
    groups.push({ id, rules: mapped.map((m) => m.rule) as unknown as SecurityGroupRule[], stateful: stateful[0] ?? true, ...(memberIps ? { memberIps } : {}) });
  }
  const inReply = new Set(groups.map((g) => g.id));
  const stubs: SecurityGroup[] = [];
  // Known groups named as remote whose members changed: their rules name known groups only, so they come last, whole.
  const updates: SecurityGroupEvent[] = [];
  for (const id of [...named].filter((g) => !inReply.has(g)).sort()) {
    const memberIps = members.get(id);
    const had = known.get(id);
    if (!had) stubs.push({ id, rules: [], stateful: true, ...(memberIps ? { memberIps } : {}) });
    else if (memberIps) {
      const { rev: _rev, memberIps: was, ...rest } = had;
      const e = r.event({ type: 'securityGroup', ...rest, memberIps }, `result.sg_member_ips.${id}`);
      if (String(e.memberIps ?? []) !== String(was ?? [])) updates.push(e);
    }
  }
  for (const id of members.keys()) {
    if (!inReply.has(id) && !named.has(id)) refused.push(`security group ${id}: sg_member_ips lists its members, but no group of the reply names it as remote group; left out`);
  }
  const events = (groupsInOrder([...stubs, ...groups]) as SecurityGroupEvent[]).map((e, i) => r.event(e, `result.security_groups.${e.id} (event ${i})`));
  return { groups: [...events, ...updates], portGroups, refused };
}

/**
 * The device loop's two replies for this host's ports: `get_devices_details_list_and_failed_devices`
 * (1.5) and `security_group_info_for_devices` for the same devices -> network events (VNI =
 * segmentation_id), the groups, and local port events (host = this agent's). A device Neutron does
 * not know (`{device}` alone) is removed if we have it; failed devices are fetched again.
 */
export function mapDevices(view: AgentView, details: unknown, sgInfo: unknown): Mapped {
  const r = new Reader('get_devices_details_list_and_failed_devices');
  const o = r.obj(details, 'result');
  const sg = mapSecurityGroupInfo(view, sgInfo);
  const refused: string[] = [...sg.refused];
  const refetch = r.arr(o.failed_devices ?? [], 'result.failed_devices').map((d, i) => r.str(d, `result.failed_devices[${i}]`));
  const networks = new Map<string, number>();
  const ports: PortEvent[] = [];
  const removes: TopologyEvent[] = [];
  r.arr(o.devices, 'result.devices').forEach((d, i) => {
    const at = `result.devices[${i}]`;
    const dev = r.obj(d, at);
    const id = r.str(dev.device, `${at}.device`);
    if (dev.network_id === undefined) {
      if (view.topology.ports.has(id)) removes.push(r.event({ type: 'remove', kind: 'port', id }, at));
      else refused.push(`device ${id}: Neutron knows no such port`);
      return;
    }
    if (dev.port_id !== undefined && dev.port_id !== id) r.fail(`${at}.port_id`, `${JSON.stringify(dev.port_id)} is not the device ${id}`);
    const network = r.str(dev.network_id, `${at}.network_id`);
    const type = r.str(dev.network_type, `${at}.network_type`);
    if (type !== 'vxlan') return void refused.push(`device ${id}: network ${network} is of type ${type}; only vxlan is supported`);
    const owner = dev.device_owner == null ? undefined : r.str(dev.device_owner, `${at}.device_owner`);
    const unsupported = owner === undefined ? undefined : UNSUPPORTED_OWNERS.get(owner);
    if (unsupported) return void refused.push(`device ${id}: ${owner} ports are not supported (${unsupported}); not programmed`);
    for (const k of ['qos_policy_id', 'qos_network_policy_id'] as const) {
      // The port is programmed all the same: QoS limits traffic, it does not let it through.
      if (dev[k] != null) refused.push(`device ${id}: ${k} ${String(dev[k])} is not applied (QoS is not supported)`);
    }
    if (!r.bool(dev.admin_state_up, `${at}.admin_state_up`)) return void refused.push(`device ${id}: admin_state_up false is not supported yet (Neutron's agent parks it on the dead VLAN)`);
    const vni = r.int(dev.segmentation_id, `${at}.segmentation_id`);
    const known = networks.get(network);
    if (known !== undefined && known !== vni) r.fail(`${at}.segmentation_id`, `${vni} differs from ${known} given for network ${network} before`);
    networks.set(network, vni);
    const portSecurity = r.bool(dev.port_security_enabled ?? true, `${at}.port_security_enabled`);
    const groups = sg.portGroups.get(id);
    if (portSecurity && groups === undefined) r.fail(`${at}`, `(port ${id}) has port security but security_group_info_for_devices has no entry for it`);
    ports.push(r.event({
      type: 'port', id, network, host: view.host, mac: r.str(dev.mac_address, `${at}.mac_address`),
      fixedIps: r.arr(dev.fixed_ips ?? [], `${at}.fixed_ips`).map((f, j) => r.str(r.obj(f, `${at}.fixed_ips[${j}]`).ip_address, `${at}.fixed_ips[${j}].ip_address`)),
      allowedAddressPairs: r.arr(dev.allowed_address_pairs ?? [], `${at}.allowed_address_pairs`).map((p, j) => {
        const po = r.obj(p, `${at}.allowed_address_pairs[${j}]`);
        return { ip: r.str(po.ip_address, `${at}.allowed_address_pairs[${j}].ip_address`), ...(po.mac_address != null ? { mac: po.mac_address as string } : {}) };
      }),
      portSecurity, securityGroups: portSecurity ? [...(groups ?? [])] : [],
      ...(owner ? { deviceOwner: owner } : {}),
    }, at));
  });
  const nets = [...networks].map(([id, vni]) => r.event({ type: 'network', id, vni }, `result.devices (network ${id})`));
  return { events: [...nets, ...sg.groups, ...ports, ...removes], refused, refetch };
}

/** A host event for a tunnel IP no host of the topology holds (never this agent's own, never a configured one). */
function newHost(r: Reader, view: AgentView, ip: string, name: string | undefined, at: string): HostEvent | undefined {
  if (hostAt(view.topology, ip) !== undefined) return undefined;
  return r.event({ type: 'host', name: name ?? ip, tunnelIp: ip }, at);
}

/** `tunnel_sync` reply (1.4): every agent's tunnel endpoint, named by its host. */
export function mapTunnelSync(view: AgentView, result: unknown): Mapped {
  const r = new Reader('tunnel_sync');
  const tunnels = r.arr(r.obj(result, 'result').tunnels, 'result.tunnels');
  const refused: string[] = [];
  const events: HostEvent[] = [];
  tunnels.forEach((t, i) => {
    const at = `result.tunnels[${i}]`;
    const o = r.obj(t, at);
    const ip = r.str(o.ip_address, `${at}.ip_address`);
    const name = o.host == null ? undefined : r.str(o.host, `${at}.host`);
    if (o.udp_port != null && r.int(o.udp_port, `${at}.udp_port`) !== 4789) return void refused.push(`tunnel ${ip}: UDP port ${String(o.udp_port)}; only 4789 is supported`);
    const holder = hostAt(view.topology, ip);
    if (name !== undefined && holder !== undefined && holder !== name && holder !== ip) r.fail(`${at}.host`, `${name} at ${ip}, but the topology has host ${holder} there`);
    const e = newHost(r, view, ip, name, at);
    if (e) events.push(e);
  });
  return { events, refused, refetch: [] };
}

/** Casts from neutron-server to the agent (fanout or host-directed), by method. */
export function mapCast(view: AgentView, method: string, args: unknown): Mapped {
  const r = new Reader(method);
  const a = r.obj(args, 'args');
  const t = view.topology;
  const none: Mapped = { events: [], refused: [], refetch: [] };
  switch (method) {
    case 'tunnel_update': {
      const ip = r.str(a.tunnel_ip, 'args.tunnel_ip');
      const type = r.str(a.tunnel_type, 'args.tunnel_type');
      if (type !== 'vxlan') return { ...none, refused: [`tunnel ${ip}: type ${type}; only vxlan is supported`] };
      const e = newHost(r, view, ip, a.host == null ? undefined : r.str(a.host, 'args.host'), 'args');
      return { ...none, events: e ? [e] : [] };
    }
    case 'tunnel_delete': {
      const ip = r.str(a.tunnel_ip, 'args.tunnel_ip');
      const host = hostAt(t, ip);
      if (host === undefined) return none;
      if (host === view.host || t.hosts.get(host)!.ovsdb !== undefined || view.served?.has(host)) {
        return { ...none, refused: [`tunnel ${ip}: host ${host} is one this ofctl-ts serves; its configuration, not Neutron, removes it`] };
      }
      // Neutron deletes a tunnel endpoint with its agent: that host's ports go with it.
      const ports = t.portsOn(host).map((p) => r.event({ type: 'remove', kind: 'port', id: p.id }, 'args.tunnel_ip'));
      return { ...none, events: [...ports, r.event({ type: 'remove', kind: 'host', id: host }, 'args.tunnel_ip')] };
    }
    case 'port_update': {
      // The agent re-fetches an updated port (device details, security groups) rather than trusting the cast.
      const id = r.str(r.obj(a.port, 'args.port').id, 'args.port.id');
      return { ...none, refetch: [id] };
    }
    case 'port_delete': {
      const id = r.str(a.port_id, 'args.port_id');
      return t.ports.has(id) ? { ...none, events: [r.event({ type: 'remove', kind: 'port', id }, 'args.port_id')] } : none;
    }
    case 'network_update': {
      const id = r.str(r.obj(a.network, 'args.network').id, 'args.network.id');
      return { ...none, refetch: t.portsIn(id).filter((p) => p.host === view.host).map((p) => p.id) };
    }
    case 'network_delete': {
      const id = r.str(a.network_id, 'args.network_id');
      if (!t.networks.has(id)) return none;
      const user = t.portsIn(id)[0];
      if (user) return { ...none, refused: [`network ${id}: deleted by Neutron while port ${user.id} is still in it; kept until its ports go`] };
      return { ...none, events: [r.event({ type: 'remove', kind: 'network', id }, 'args.network_id')] };
    }
    case 'security_groups_rule_updated':
    case 'security_groups_member_updated': {
      // As the agent does: re-fetch the local ports in those groups or in groups naming them as remote.
      const groups = r.arr(a.security_groups, 'args.security_groups').map((g, i) => r.str(g, `args.security_groups[${i}]`));
      const affected = new Set(groups.flatMap((g) => [g, ...t.groupsNaming(g)]));
      return { ...none, refetch: t.portsOn(view.host).filter((p) => p.securityGroups.some((g) => affected.has(g))).map((p) => p.id) };
    }
    case 'add_fdb_entries':
    case 'remove_fdb_entries':
      return mapFdb(r, view, method === 'add_fdb_entries', a);
    case 'update_fdb_entries':
      return mapFdbUpdate(r, view, a);
    case 'binding_activate':
    case 'binding_deactivate':
      return { ...none, refused: [`${method}: live migration's port binding activation is not supported; the port is programmed where it is plugged`] };
    default:
      return { ...none, refused: [`${method}: not supported yet`] };
  }
}

/** One l2pop entry [mac, ip]: the flood entry is [00:00:00:00:00:00, 0.0.0.0]. */
function fdbEntry(r: Reader, v: unknown, at: string): { mac: string; ip: string; flood: boolean } {
  const e = r.arr(v, at);
  if (e.length !== 2) r.fail(at, 'must be [mac, ip]');
  const mac = r.str(e[0], `${at}[0]`).toLowerCase();
  const ip = r.str(e[1], `${at}[1]`);
  return { mac, ip, flood: mac === '00:00:00:00:00:00' };
}

/** Builds a remote port event (validated) for the given state of (network, MAC) at a host. */
function remotePort(r: Reader, network: string, host: string, mac: string, ips: readonly string[], at: string): PortEvent {
  // l2pop tells MAC and IPs only: the port's security is its own host's business, not this host's.
  return r.event({ type: 'port', id: remotePortId(network, mac), network, host, mac, fixedIps: [...ips], allowedAddressPairs: [], portSecurity: true, securityGroups: [] }, at);
}

/**
 * l2pop add/remove_fdb_entries: `{net: {segment_id, network_type, ports: {tunnel_ip: [[mac, ip]...]}}}`.
 * A tunnel IP's host is the topology's (tunnel_sync named it), else a new host named by the IP.
 * Entries at this agent's own or a served host's tunnel IP are skipped (the agent does the same
 * for its own). The flood entry says the host has ports in the network: in our model a host
 * floods and tunnels through its ports, so the flood entry alone makes nothing (said in refused).
 */
function mapFdb(r: Reader, view: AgentView, add: boolean, a: Obj): Mapped {
  const t = view.topology;
  const served = new Set([view.host, ...(view.served ?? [])]);
  const events: TopologyEvent[] = [];
  const refused: string[] = [];
  for (const [net, v] of Object.entries(r.obj(a.fdb_entries, 'args.fdb_entries'))) {
    const at = `args.fdb_entries.${net}`;
    const n = r.obj(v, at);
    const type = r.str(n.network_type, `${at}.network_type`);
    const vni = r.int(n.segment_id, `${at}.segment_id`);
    const portsByIp = r.obj(n.ports, `${at}.ports`);
    if (type !== 'vxlan') {
      refused.push(`network ${net}: type ${type}; only vxlan is supported`);
      continue;
    }
    const known = t.networks.get(net);
    if (known && known.vni !== vni) r.fail(`${at}.segment_id`, `${vni} differs from network ${net}'s VNI ${known.vni}`);
    const netEvents: TopologyEvent[] = [];
    for (const [ip, list] of Object.entries(portsByIp)) {
      const pat = `${at}.ports.${ip}`;
      const entries = r.arr(list, pat).map((e, i) => fdbEntry(r, e, `${pat}[${i}]`));
      const holder = hostAt(t, ip);
      if (holder !== undefined && served.has(holder)) continue;
      const host = holder ?? ip;
      const byMac = new Map<string, string[]>();
      for (const e of entries) if (!e.flood) byMac.set(e.mac, [...(byMac.get(e.mac) ?? []), e.ip]);
      if (add) {
        const h = newHost(r, view, ip, undefined, pat);
        if (h) netEvents.push(h);
        if (byMac.size === 0 && !t.portsIn(net).some((p) => p.host === host)) refused.push(`network ${net}: flood entry alone for ${ip}; a host floods through its ports here`);
      }
      for (const [mac, ips] of byMac) {
        const old = t.ports.get(remotePortId(net, mac));
        const here = old !== undefined && old.host === host;
        if (add) netEvents.push(remotePort(r, net, host, mac, here ? [...new Set([...old.fixedIps, ...ips])] : ips, pat));
        else if (here) netEvents.push(...dropIps(r, old, ips, pat));
        // A remove for a port we do not have there (moved, or never added) changes nothing.
      }
    }
    if (add && !known && netEvents.some((e) => e.type === 'port')) events.push(r.event({ type: 'network', id: net, vni }, at));
    events.push(...netEvents);
  }
  return { events, refused, refetch: [] };
}

/** A remote port less some IPs: the port removed when none is left. */
function dropIps(r: Reader, old: Port, ips: readonly string[], at: string): TopologyEvent[] {
  const gone = new Set(ips.map((i) => i.toLowerCase()));
  const left = old.fixedIps.filter((i) => !gone.has(i));
  return left.length === 0 ? [r.event({ type: 'remove', kind: 'port', id: old.id }, at)] : [remotePort(r, old.network, old.host, old.mac, left, at)];
}

/** l2pop update_fdb_entries: `{chg_ip: {net: {tunnel_ip: {before: [[mac, ip]], after: [[mac, ip]]}}}}` (a port's IPs changed). */
function mapFdbUpdate(r: Reader, view: AgentView, a: Obj): Mapped {
  const t = view.topology;
  const chg = r.obj(a.fdb_entries, 'args.fdb_entries');
  for (const k of Object.keys(chg)) if (k !== 'chg_ip') r.fail(`args.fdb_entries.${k}`, 'is not an update Neutron sends (chg_ip only)');
  const events: TopologyEvent[] = [];
  const refused: string[] = [];
  for (const [net, v] of Object.entries(r.obj(chg.chg_ip ?? {}, 'args.fdb_entries.chg_ip'))) {
    for (const [ip, c] of Object.entries(r.obj(v, `args.fdb_entries.chg_ip.${net}`))) {
      const at = `args.fdb_entries.chg_ip.${net}.${ip}`;
      const co = r.obj(c, at);
      const before = r.arr(co.before ?? [], `${at}.before`).map((e, i) => fdbEntry(r, e, `${at}.before[${i}]`));
      const after = r.arr(co.after ?? [], `${at}.after`).map((e, i) => fdbEntry(r, e, `${at}.after[${i}]`));
      const host = hostAt(t, ip);
      if (host === undefined || host === view.host || view.served?.has(host)) continue;
      for (const mac of new Set([...before, ...after].map((e) => e.mac))) {
        const old = t.ports.get(remotePortId(net, mac));
        if (!old || old.host !== host) {
          refused.push(`network ${net}: IP change for ${mac} at ${ip}, a port we do not have there (its add_fdb_entries brings it)`);
          continue;
        }
        const gone = new Set(before.filter((e) => e.mac === mac).map((e) => e.ip));
        const ips = [...old.fixedIps.filter((i) => !gone.has(i)), ...after.filter((e) => e.mac === mac).map((e) => e.ip)];
        events.push(ips.length ? remotePort(r, net, host, mac, [...new Set(ips)], at) : r.event({ type: 'remove', kind: 'port', id: old.id }, at));
      }
    }
  }
  return { events, refused, refetch: [] };
}
