// The topology format: JSON lines, one event per line. A snapshot file is just a stream of adds.
//
//   {"type":"host","name":"compute","tunnelIp":"10.0.100.88","ovsdb":"unix:/run/openvswitch/db.sock"}
//   {"type":"network","id":"net-a","vni":1001}
//   {"type":"port","id":"<neutron port id = OVS iface-id>","network":"net-a","host":"compute",
//    "mac":"fa:16:3e:83:95:fa","fixedIps":["10.0.0.5"],"allowedAddressPairs":[{"ip":"10.0.0.100"}]}
//   {"type":"remove","kind":"port","id":"<port id>"}        (kind: host | network | port)
//
// Every object may carry "rev" (a non-negative integer): an event whose rev is not newer than the
// one applied is a harmless replay. Validation is total: an event is accepted whole or rejected with
// the reason, and a rejected event changes nothing.

export interface HostEvent {
  readonly type: 'host';
  readonly name: string;
  readonly tunnelIp: string;
  readonly ovsdb?: string;
  readonly rev?: number;
}

export interface NetworkEvent {
  readonly type: 'network';
  readonly id: string;
  readonly vni: number;
  readonly rev?: number;
}

export interface AddressPair {
  /** An address, or (security groups) a CIDR such as 10.0.0.128/25, as Neutron allows. */
  readonly ip: string;
  readonly mac?: string;
}

/**
 * One security-group rule, in Neutron's terms (`neutron security-group-rule-show`). Names are
 * resolved at validation: `protocol` is an IP protocol number; for ICMP/ICMPv6 the port range
 * holds the type (min) and code (max), as Neutron keeps them.
 */
export interface SecurityGroupRule {
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: 'IPv4' | 'IPv6';
  readonly protocol?: number;
  readonly portRangeMin?: number;
  readonly portRangeMax?: number;
  /** A CIDR of the rule's ethertype, normalised (host bits zero). */
  readonly remoteIpPrefix?: string;
  /** Another (or the same) security group whose members' addresses the rule admits. */
  readonly remoteGroupId?: string;
}

export interface SecurityGroupEvent {
  readonly type: 'securityGroup';
  readonly id: string;
  readonly rules: readonly SecurityGroupRule[];
  /** Neutron's OVS firewall installs stateful flows even for `stateful: false`; kept, said, not acted on. */
  readonly stateful: boolean;
  readonly rev?: number;
}

export interface PortEvent {
  readonly type: 'port';
  readonly id: string;
  readonly network: string;
  readonly host: string;
  readonly mac: string;
  readonly fixedIps: readonly string[];
  readonly allowedAddressPairs: readonly AddressPair[];
  /** Port security (anti-spoofing flows); Neutron's default is on. */
  readonly portSecurity: boolean;
  /** Neutron's device_owner: `network:*` ports (DHCP, routers) get no anti-spoofing flows. */
  readonly deviceOwner?: string;
  /** OpenFlow port on br-int when known ahead (offline rendering); OVS's value wins when live. */
  readonly ofport?: number;
  readonly rev?: number;
}

export interface RemoveEvent {
  readonly type: 'remove';
  readonly kind: 'host' | 'network' | 'port';
  readonly id: string;
  readonly rev?: number;
}

export type TopologyEvent = HostEvent | NetworkEvent | PortEvent | RemoveEvent;

export class TopologyError extends Error {}

const VNI_MAX = 16777215;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function isIpv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

function isIpv6(s: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(s) || !s.includes(':')) return false;
  const parts = s.split('::');
  if (parts.length > 2) return false;
  const groups = parts.flatMap((p) => (p === '' ? [] : p.split(':')));
  const v4 = groups.length > 0 && groups[groups.length - 1]!.includes('.');
  if (v4 && !isIpv4(groups.pop()!)) return false;
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  const n = groups.length + (v4 ? 2 : 0);
  return parts.length === 2 ? n <= 7 : n === 8;
}

function fail(why: string): never {
  throw new TopologyError(why);
}

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('an event must be a JSON object');
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) fail(`"${k}" must be a non-empty string`);
  return v;
}

function name(o: Record<string, unknown>, k: string): string {
  const v = str(o, k);
  if (!NAME_RE.test(v)) fail(`"${k}" ${JSON.stringify(v)} must be 1-63 letters, digits, '_', '.', ':' or '-'`);
  return v;
}

function rev(o: Record<string, unknown>): { rev?: number } {
  if (o.rev === undefined) return {};
  if (!Number.isSafeInteger(o.rev) || (o.rev as number) < 0) fail('"rev" must be a non-negative integer');
  return { rev: o.rev as number };
}

function mac(v: unknown, k: string): string {
  if (typeof v !== 'string' || !MAC_RE.test(v.toLowerCase())) fail(`"${k}" must be a MAC address like fa:16:3e:00:00:01`);
  const m = v.toLowerCase();
  if (parseInt(m.slice(0, 2), 16) & 1) fail(`"${k}" ${m} is a multicast MAC; a port needs a unicast one`);
  if (m === '00:00:00:00:00:00') fail(`"${k}" must not be all zeros`);
  return m;
}

function ip(v: unknown, k: string): string {
  if (typeof v !== 'string' || !(isIpv4(v) || isIpv6(v))) fail(`"${k}" ${JSON.stringify(v)} is not an IPv4 or IPv6 address`);
  const why = unusableHostAddress(v);
  if (why) fail(`"${k}" ${v} is ${why}, not a host address`);
  return v.toLowerCase();
}

/** Why an address cannot be a port's or a tunnel endpoint's own address, or undefined. */
function unusableHostAddress(a: string): string | undefined {
  if (isIpv4(a)) {
    const [b0] = a.split('.').map(Number) as [number];
    if (a === '0.0.0.0') return 'unspecified';
    if (a === '255.255.255.255') return 'broadcast';
    if (b0 === 127) return 'loopback';
    if (b0 >= 224 && b0 <= 239) return 'multicast';
    return undefined;
  }
  const l = a.toLowerCase();
  if (l === '::') return 'unspecified';
  if (l === '::1') return 'loopback';
  if (l.startsWith('ff')) return 'multicast';
  return undefined;
}

function only(o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`unknown member "${k}"`);
}

/** Validates one parsed JSON value as a topology event. Throws TopologyError with the reason. */
function validateEvent(v: unknown): TopologyEvent {
  const o = obj(v);
  switch (o.type) {
    case 'host': {
      only(o, ['type', 'name', 'tunnelIp', 'ovsdb', 'rev']);
      const tunnelIp = str(o, 'tunnelIp');
      if (!isIpv4(tunnelIp)) fail(`"tunnelIp" ${JSON.stringify(tunnelIp)} must be an IPv4 address`);
      const why = unusableHostAddress(tunnelIp);
      if (why) fail(`"tunnelIp" ${tunnelIp} is ${why}, not a tunnel endpoint`);
      if (o.ovsdb !== undefined && (typeof o.ovsdb !== 'string' || !/^(unix:.+|tcp:.+:\d+|ssl:.+:\d+)$/.test(o.ovsdb))) {
        fail('"ovsdb" must be unix:PATH, tcp:IP:PORT or ssl:IP:PORT');
      }
      return { type: 'host', name: name(o, 'name'), tunnelIp, ...(o.ovsdb ? { ovsdb: o.ovsdb as string } : {}), ...rev(o) };
    }
    case 'network': {
      only(o, ['type', 'id', 'vni', 'rev']);
      const vni = o.vni;
      if (!Number.isInteger(vni) || (vni as number) < 1 || (vni as number) > VNI_MAX) fail(`"vni" must be an integer in 1..${VNI_MAX}`);
      return { type: 'network', id: name(o, 'id'), vni: vni as number, ...rev(o) };
    }
    case 'port': {
      only(o, ['type', 'id', 'network', 'host', 'mac', 'fixedIps', 'allowedAddressPairs', 'portSecurity', 'deviceOwner', 'ofport', 'rev']);
      if (o.deviceOwner !== undefined && (typeof o.deviceOwner !== 'string' || o.deviceOwner.length > 255)) fail('"deviceOwner" must be a string');
      const fixed = o.fixedIps ?? [];
      if (!Array.isArray(fixed)) fail('"fixedIps" must be an array of IP addresses');
      const pairs = o.allowedAddressPairs ?? [];
      if (!Array.isArray(pairs)) fail('"allowedAddressPairs" must be an array of {"ip", "mac"?}');
      if (o.portSecurity !== undefined && typeof o.portSecurity !== 'boolean') fail('"portSecurity" must be true or false');
      // ofport 1 is patch-tun's on br-int.
      if (o.ofport !== undefined && (!Number.isInteger(o.ofport) || (o.ofport as number) < 2 || (o.ofport as number) >= 0xff00)) {
        fail('"ofport" must be an integer in 2..65279 (1 is patch-tun)');
      }
      return {
        type: 'port', id: name(o, 'id'), network: name(o, 'network'), host: name(o, 'host'), mac: mac(o.mac, 'mac'),
        fixedIps: fixed.map((x, i) => ip(x, `fixedIps[${i}]`)),
        allowedAddressPairs: pairs.map((p, i) => {
          const po = obj(p);
          only(po, ['ip', 'mac']);
          return { ip: ip(po.ip, `allowedAddressPairs[${i}].ip`), ...(po.mac !== undefined ? { mac: mac(po.mac, `allowedAddressPairs[${i}].mac`) } : {}) };
        }),
        portSecurity: (o.portSecurity as boolean | undefined) ?? true,
        ...(o.deviceOwner !== undefined ? { deviceOwner: o.deviceOwner as string } : {}),
        ...(o.ofport !== undefined ? { ofport: o.ofport as number } : {}),
        ...rev(o),
      };
    }
    case 'remove': {
      only(o, ['type', 'kind', 'id', 'rev']);
      if (o.kind !== 'host' && o.kind !== 'network' && o.kind !== 'port') fail('"kind" must be host, network or port');
      return { type: 'remove', kind: o.kind, id: name(o, 'id'), ...rev(o) };
    }
    default:
      return fail(`"type" must be host, network, port or remove (got ${JSON.stringify(o.type)})`);
  }
}

/** Empty lines and `#` comments carry no event. */
export function isEventLine(line: string): boolean {
  const t = line.trim();
  return t !== '' && !t.startsWith('#');
}

/** Parses one line of the JSON-lines format. */
export function parseEventLine(line: string): TopologyEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    fail(`not JSON: ${(err as Error).message}`);
  }
  return validateEvent(v);
}
