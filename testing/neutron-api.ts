// A small client for neutron-server's REST API (v2.0), as an operator or Nova uses it, for tests
// against testing/neutron-server.ts. Under `auth_strategy = noauth` every request is an admin's, and
// every POST must name the project (`tenant_id`), or Neutron answers 400 "Running without keystone
// AuthN requires that tenant_id is specified".

/** A request Neutron refused: the HTTP status and Neutron's own type and message. */
export class NeutronApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** NeutronError.type, e.g. `PortNotFound`, when Neutron gave one. */
    readonly type: string | undefined,
    readonly neutronMessage: string,
  ) {
    super(`neutron API ${method} ${path}: ${status}${type ? ` ${type}` : ''}: ${neutronMessage}`);
    this.name = 'NeutronApiError';
  }
}

export interface Network {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly mtu: number;
  readonly 'provider:network_type': string;
  readonly 'provider:segmentation_id': number | null;
  readonly port_security_enabled: boolean;
  readonly project_id: string;
}

export interface Subnet {
  readonly id: string;
  readonly network_id: string;
  readonly cidr: string;
  readonly ip_version: 4 | 6;
  readonly gateway_ip: string | null;
}

export interface FixedIp {
  readonly subnet_id?: string;
  readonly ip_address?: string;
}

export interface AddressPair {
  readonly ip_address: string;
  readonly mac_address?: string;
}

export interface Port {
  readonly id: string;
  readonly network_id: string;
  readonly mac_address: string;
  readonly status: string;
  readonly fixed_ips: readonly Required<FixedIp>[];
  readonly allowed_address_pairs: readonly Required<AddressPair>[];
  readonly security_groups: readonly string[];
  readonly port_security_enabled: boolean;
  readonly device_owner: string;
  readonly device_id: string;
  readonly 'binding:host_id': string;
  readonly 'binding:vif_type': string;
  readonly 'binding:vif_details': Readonly<Record<string, unknown>>;
}

export interface SecurityGroupRule {
  readonly id: string;
  readonly security_group_id: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: 'IPv4' | 'IPv6';
  readonly protocol: string | null;
  readonly port_range_min: number | null;
  readonly port_range_max: number | null;
  readonly remote_ip_prefix: string | null;
  readonly remote_group_id: string | null;
}

export interface SecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly security_group_rules: readonly SecurityGroupRule[];
}

export interface Agent {
  readonly id: string;
  readonly agent_type: string;
  readonly binary: string;
  readonly host: string;
  readonly alive: boolean;
  readonly admin_state_up: boolean;
  /** The server's time of the last report_state, UTC, 'YYYY-MM-DD HH:MM:SS'. */
  readonly heartbeat_timestamp: string;
  readonly configurations: Readonly<Record<string, unknown>>;
}

/** A port's writable attributes, named as our tests think of them. */
export interface PortChanges {
  /** binding:host_id: the hypervisor the port is bound to. */
  readonly hostId?: string;
  readonly securityGroups?: readonly string[];
  readonly fixedIps?: readonly FixedIp[];
  readonly allowedAddressPairs?: readonly AddressPair[];
  readonly portSecurity?: boolean;
  readonly deviceOwner?: string;
  readonly deviceId?: string;
  readonly name?: string;
}

export interface NewPort extends PortChanges {
  /** The network's id. */
  readonly network: string;
  readonly macAddress?: string;
}

export interface NewSecurityGroupRule {
  readonly securityGroup: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype?: 'IPv4' | 'IPv6';
  readonly protocol?: string;
  readonly portRangeMin?: number;
  readonly portRangeMax?: number;
  readonly remoteIpPrefix?: string;
  readonly remoteGroup?: string;
}

/** The project our tests' resources belong to. */
export const TEST_PROJECT = 'ofctltsproject';

type Body = Record<string, unknown>;

/** Neutron's body for PortChanges (undefined fields are left out: Neutron keeps or defaults them). */
function portBody(c: PortChanges): Body {
  return defined({
    'binding:host_id': c.hostId,
    security_groups: c.securityGroups,
    fixed_ips: c.fixedIps,
    allowed_address_pairs: c.allowedAddressPairs,
    port_security_enabled: c.portSecurity,
    device_owner: c.deviceOwner,
    device_id: c.deviceId,
    name: c.name,
  });
}

function defined(o: Body): Body {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export class NeutronApi {
  /** `url`: the server's root, e.g. NeutronServer.url. */
  constructor(readonly url: string, readonly project = TEST_PROJECT) {}

  createNetwork(o: { name?: string; portSecurity?: boolean } = {}): Promise<Network> {
    return this.post('networks', 'network', defined({ name: o.name, port_security_enabled: o.portSecurity }));
  }

  createSubnet(o: { network: string; cidr: string; ipVersion?: 4 | 6; gatewayIp?: string | null; enableDhcp?: boolean; name?: string }): Promise<Subnet> {
    return this.post('subnets', 'subnet', defined({
      network_id: o.network, cidr: o.cidr, ip_version: o.ipVersion ?? (o.cidr.includes(':') ? 6 : 4),
      gateway_ip: o.gatewayIp, enable_dhcp: o.enableDhcp ?? false, name: o.name,
    }));
  }

  createPort(o: NewPort): Promise<Port> {
    return this.post('ports', 'port', { network_id: o.network, ...defined({ mac_address: o.macAddress }), ...portBody(o) });
  }

  updatePort(id: string, changes: PortChanges): Promise<Port> {
    return this.request<Port>('PUT', `ports/${id}`, 'port', { port: portBody(changes) });
  }

  getPort(id: string): Promise<Port> {
    return this.request<Port>('GET', `ports/${id}`, 'port');
  }

  async deletePort(id: string): Promise<void> {
    await this.request('DELETE', `ports/${id}`);
  }

  createSecurityGroup(o: { name: string; description?: string }): Promise<SecurityGroup> {
    return this.post('security-groups', 'security_group', defined({ name: o.name, description: o.description }));
  }

  createSecurityGroupRule(o: NewSecurityGroupRule): Promise<SecurityGroupRule> {
    return this.post('security-group-rules', 'security_group_rule', defined({
      security_group_id: o.securityGroup, direction: o.direction, ethertype: o.ethertype ?? 'IPv4',
      protocol: o.protocol, port_range_min: o.portRangeMin, port_range_max: o.portRangeMax,
      remote_ip_prefix: o.remoteIpPrefix, remote_group_id: o.remoteGroup,
    }));
  }

  async deleteSecurityGroupRule(id: string): Promise<void> {
    await this.request('DELETE', `security-group-rules/${id}`);
  }

  listAgents(): Promise<Agent[]> {
    return this.request<Agent[]>('GET', 'agents', 'agents');
  }

  /** POST /v2.0/COLLECTION with {KEY: body + tenant_id}; resolves with the created KEY. */
  private post<T>(collection: string, key: string, body: Body): Promise<T> {
    return this.request<T>('POST', collection, key, { [key]: { ...body, tenant_id: this.project } });
  }

  private async request<T>(method: string, path: string, key?: string, body?: Body): Promise<T> {
    const where = `/v2.0/${path}`;
    let res: Response;
    let text: string;
    // The rig's sqlite, shared by the server's processes, answers a write that meets another with
    // "database is locked" (a 500, the transaction rolled back): such a write is tried again, up to
    // 6 times, 4.5 s in all: right after a RabbitMQ outage, with the requests it had held going
    // through at once, port creations met the lock for over 1.5 s (3 tries in 0.9 s fell short in 2
    // of 13 runs of test/neutron/restart under a CPU hog). A MySQL-backed Neutron does not do this;
    // nothing of ofctl-ts is behind it.
    for (let attempt = 1; ; attempt++) {
      res = await fetch(`${this.url}${where}`, {
        method,
        headers: { accept: 'application/json', ...(body && { 'content-type': 'application/json' }) },
        ...(body && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      text = await res.text();
      if (res.status !== 500 || method === 'GET' || attempt === 6) break;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
    if (!res.ok) {
      const [type, message] = neutronError(text);
      throw new NeutronApiError(method, where, res.status, type, message);
    }
    if (key === undefined) return undefined as T;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (!(key in parsed)) throw new NeutronApiError(method, where, res.status, undefined, `the answer has no "${key}": ${text.slice(0, 300)}`);
    return parsed[key] as T;
  }
}

/** `{"NeutronError": {type, message, detail}}`, or whatever text webob answered. */
function neutronError(text: string): [string | undefined, string] {
  try {
    const e = (JSON.parse(text) as { NeutronError?: { type?: string; message?: string } }).NeutronError;
    if (e?.message !== undefined) return [e.type, e.message];
  } catch {
    // not JSON
  }
  return [undefined, text.trim().slice(0, 500) || '(empty body)'];
}
