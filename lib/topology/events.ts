// The topology format: JSON lines, one event per line. A snapshot file is just a stream of adds.
//
//   {"type":"host","name":"compute","tunnelIp":"10.0.100.88","ovsdb":"unix:/run/openvswitch/db.sock"}
//   {"type":"network","id":"net-a","vni":1001}
//   {"type":"port","id":"<neutron port id = OVS iface-id>","network":"net-a","host":"compute",
//    "mac":"fa:16:3e:83:95:fa","fixedIps":["10.0.0.5"],"allowedAddressPairs":[{"ip":"10.0.0.128/25"}],
//    "securityGroups":["web"]}
//   {"type":"securityGroup","id":"web","rules":[{"direction":"ingress","ethertype":"IPv4","protocol":"tcp",
//    "portRangeMin":22,"portRangeMax":22,"remoteIpPrefix":"0.0.0.0/0"}],"memberIps":["10.0.0.80"]}
//   (memberIps, optional: members beyond the topology's ports, e.g. Neutron's sg_member_ips for ports
//    on hosts this controller does not serve; addresses or CIDRs, not /0; omitted = none)
//   {"type":"remove","kind":"port","id":"<port id>"}        (kind: host | network | port | securityGroup)
//
// Every object may carry "rev" (a non-negative integer): an event whose rev is not newer than the
// one applied is a harmless replay. Validation is total: an event is accepted whole or rejected with
// the reason, and a rejected event changes nothing.
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../codecs/ofctl/values.js';

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
  /**
   * Members this source knows beyond the topology's ports, e.g. Neutron's sg_member_ips for ports on
   * hosts this controller does not serve: addresses or CIDRs (not /0: an any-address member needs its
   * port's MAC, which such a list does not give), normalised as address pairs are, sorted, once each.
   * Omitted when none. A rule naming the group as remote admits these and its ports' addresses.
   */
  readonly memberIps?: readonly string[];
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
  /** Security-group ids (known groups, no duplicates); Neutron refuses them on a port without port security. */
  readonly securityGroups: readonly string[];
  /** Neutron's device_owner: `network:*` ports (DHCP, routers) get no anti-spoofing flows. */
  readonly deviceOwner?: string;
  /** OpenFlow port on br-int when known ahead (offline rendering); OVS's value wins when live. */
  readonly ofport?: number;
  readonly rev?: number;
}

export interface RemoveEvent {
  readonly type: 'remove';
  readonly kind: 'host' | 'network' | 'port' | 'securityGroup';
  readonly id: string;
  readonly rev?: number;
}

export type TopologyEvent = HostEvent | NetworkEvent | PortEvent | SecurityGroupEvent | RemoveEvent;

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
  return nameValue(o[k], k);
}

function nameValue(v: unknown, k: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(`"${k}" must be a non-empty string`);
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
  // IPv6 in its canonical text (as Neutron's netaddr keeps it): one address, one spelling.
  return isIpv4(v) ? v : formatIpv6(parseIpv6(v));
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

function only(o: Record<string, unknown>, allowed: readonly string[], at = ''): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`unknown member "${at}${k}"`);
}

/** An address's bits and width (the text is a valid address). */
function addressBits(a: string): { readonly value: bigint; readonly width: number } {
  return isIpv4(a) ? { value: parseIpv4(a), width: 32 } : { value: parseIpv6(a), width: 128 };
}

/**
 * A CIDR (or a bare address, a full-length prefix) normalised as Neutron's netaddr does: host bits
 * zero, IPv6 in its canonical text. A full-length prefix is written bare when `fullBare` (address
 * pairs: 10.0.0.5/32 is the address 10.0.0.5), else with its length (rule prefixes: 10.0.0.5/32).
 */
function cidr(v: unknown, k: string, fullBare: boolean, family?: 'IPv4' | 'IPv6'): string {
  const text = typeof v === 'string' ? v : '';
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  if (!isIpv4(addr) && !isIpv6(addr)) fail(`"${k}" ${JSON.stringify(v)} is not an IPv4 or IPv6 address or CIDR`);
  const { value, width } = addressBits(addr);
  const v4 = width === 32;
  if (family !== undefined && (family === 'IPv4') !== v4) fail(`"${k}" ${text} is an ${v4 ? 'IPv4' : 'IPv6'} prefix; the rule's ethertype is ${family}`);
  const lenText = slash < 0 ? String(width) : text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > width) fail(`"${k}" ${text}: the prefix length must be 0..${width}`);
  const len = Number(lenText);
  const hostBits = (1n << BigInt(width - len)) - 1n;
  const net = value & ~hostBits;
  const out = v4 ? formatIpv4(net) : formatIpv6(net);
  return len === width && fullBare ? out : `${out}/${len}`;
}

/**
 * An address, or a CIDR as Neutron allows in address pairs and group members: host bits zeroed, a
 * full-length prefix written as its address (10.0.0.5/32 is 10.0.0.5), which must be a host's.
 */
function addressOrPrefix(v: unknown, k: string): string {
  const a = typeof v === 'string' && v.includes('/') ? cidr(v, k, true) : v;
  return typeof a === 'string' && a.includes('/') ? a : ip(a, k);
}

/** One group member beyond the ports (memberIps[i] at `k`): an address or CIDR, normalised; not /0. */
export function memberAddress(v: unknown, k: string): string {
  const a = addressOrPrefix(v, k);
  if (a.endsWith('/0')) fail(`"${k}" ${a} is any address: such a member needs its port's MAC (an address pair of the port), which a member list does not give`);
  return a;
}

/** memberIps: addresses or CIDRs, not /0, no repeats once normalised; sorted (undefined: none). */
function memberIps(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail('"memberIps" must be an array of addresses or CIDRs');
  const out = v.map((x, i) => memberAddress(x, `memberIps[${i}]`));
  const seen = new Map<string, number>();
  out.forEach((a, i) => {
    const j = seen.get(a);
    if (j !== undefined) fail(`"memberIps[${i}]" ${a === v[i] ? a : `${String(v[i])} (${a})`} repeats memberIps[${j}]`);
    seen.set(a, i);
  });
  return out.length ? sortAddresses(out) : undefined;
}

/** Addresses and CIDRs deduplicated and in numeric order (address, then prefix length). */
export function sortAddresses(list: Iterable<string>): string[] {
  const keyed = [...new Set(list)].map((s) => {
    const slash = s.indexOf('/');
    const { value, width } = addressBits(slash < 0 ? s : s.slice(0, slash));
    return { s, value, len: slash < 0 ? width : Number(s.slice(slash + 1)) };
  });
  return keyed.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.len - b.len)).map((k) => k.s);
}

/** Neutron's protocol names (neutron_lib IP_PROTOCOL_MAP, with its ICMPv6 aliases) -> IP protocol number. */
const PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['ah', 51], ['dccp', 33], ['egp', 8], ['esp', 50], ['gre', 47], ['icmp', 1], ['icmpv6', 58], ['igmp', 2], ['ipip', 4],
  ['ipv6-encap', 41], ['ipv6-frag', 44], ['ipv6-icmp', 58], ['ipv6-nonxt', 59], ['ipv6-opts', 60], ['ipv6-route', 43],
  ['ospf', 89], ['pgm', 113], ['rsvp', 46], ['sctp', 132], ['tcp', 6], ['udp', 17], ['udplite', 136], ['vrrp', 112],
]);
/** Protocols with ports (tcp, udp, dccp, sctp, udplite), with ICMP type/code (icmp, icmpv6), and IPv6-only ones. */
const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 33, 132, 136]);
const ICMP_PROTOCOLS: ReadonlySet<number> = new Set([1, 58]);
const IPV6_ONLY_PROTOCOLS: ReadonlySet<number> = new Set([41, 43, 44, 58, 59, 60]);
const RULE_MEMBERS = ['direction', 'ethertype', 'protocol', 'portRangeMin', 'portRangeMax', 'remoteIpPrefix', 'remoteGroupId'];

/** One rule of a securityGroup event, validated as Neutron's API does (at: `rules[i]`, for the errors). */
function sgRule(v: unknown, at: string): SecurityGroupRule {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`"${at}" must be an object`);
  const o = v as Record<string, unknown>;
  only(o, RULE_MEMBERS, `${at}.`);
  const given = (k: string): boolean => o[k] !== undefined && o[k] !== null;
  const { direction, ethertype } = o;
  if (direction !== 'ingress' && direction !== 'egress') fail(`"${at}.direction" must be ingress or egress`);
  if (ethertype !== 'IPv4' && ethertype !== 'IPv6') fail(`"${at}.ethertype" must be IPv4 or IPv6`);
  let protocol: number | undefined;
  if (given('protocol')) {
    const p = o.protocol;
    protocol = typeof p === 'string' ? PROTOCOLS.get(p) : Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 255 ? p as number : undefined;
    if (protocol === undefined) fail(`"${at}.protocol" ${JSON.stringify(p)} must be a protocol name (tcp, udp, icmp, icmpv6, sctp, ...) or a number in 0..255`);
    if (ethertype === 'IPv4' && IPV6_ONLY_PROTOCOLS.has(protocol)) fail(`"${at}.protocol" ${JSON.stringify(p)} is IPv6 only; the rule's ethertype is IPv4`);
    // Neutron reads ICMP on an IPv6 rule as ICMPv6 (its legacy spellings "icmp" and 1 mean 58 there).
    if (ethertype === 'IPv6' && protocol === 1) protocol = 58;
  }
  const range: { portRangeMin?: number; portRangeMax?: number } = {};
  for (const k of ['portRangeMin', 'portRangeMax'] as const) {
    if (!given(k)) continue;
    if (!Number.isInteger(o[k])) fail(`"${at}.${k}" must be an integer`);
    range[k] = o[k] as number;
  }
  const { portRangeMin: min, portRangeMax: max } = range;
  const first = min !== undefined ? 'portRangeMin' : 'portRangeMax';
  if (min !== undefined || max !== undefined) {
    if (protocol === undefined) fail(`"${at}.${first}" needs a protocol (ports for tcp, udp, sctp, udplite, dccp; type and code for icmp, icmpv6)`);
    if (PORT_PROTOCOLS.has(protocol)) {
      for (const [k, x] of [['portRangeMin', min], ['portRangeMax', max]] as const) {
        if (x !== undefined && (x < 1 || x > 65535)) fail(`"${at}.${k}" ${x} must be a port in 1..65535`);
      }
      if (min === undefined) fail(`"${at}.portRangeMax" needs portRangeMin`);
      if (max === undefined) fail(`"${at}.portRangeMin" needs portRangeMax (for one port, give both the same)`);
      if (min > max) fail(`"${at}.portRangeMax" ${max} is below portRangeMin ${min}`);
    } else if (ICMP_PROTOCOLS.has(protocol)) {
      for (const [k, x, what] of [['portRangeMin', min, 'type'], ['portRangeMax', max, 'code']] as const) {
        if (x !== undefined && (x < 0 || x > 255)) fail(`"${at}.${k}" ${x} (the ICMP ${what}) must be in 0..255`);
      }
      if (min === undefined) fail(`"${at}.portRangeMax" (the ICMP code) needs portRangeMin (the ICMP type)`);
    } else {
      fail(`"${at}.${first}": protocol ${JSON.stringify(o.protocol)} has no ports (ports for tcp, udp, sctp, udplite, dccp; type and code for icmp, icmpv6)`);
    }
  }
  if (given('remoteIpPrefix') && given('remoteGroupId')) fail(`"${at}.remoteGroupId": a rule has either remoteIpPrefix or remoteGroupId, not both`);
  return {
    direction, ethertype, ...(protocol !== undefined ? { protocol } : {}), ...range,
    ...(given('remoteIpPrefix') ? { remoteIpPrefix: cidr(o.remoteIpPrefix, `${at}.remoteIpPrefix`, false, ethertype) } : {}),
    ...(given('remoteGroupId') ? { remoteGroupId: nameValue(o.remoteGroupId, `${at}.remoteGroupId`) } : {}),
  };
}

/** A list of names without repeats (`securityGroups`). */
function names(v: unknown, k: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`"${k}" must be an array of ids`);
  const out = v.map((x, i) => nameValue(x, `${k}[${i}]`));
  out.forEach((x, i) => {
    const j = out.indexOf(x);
    if (j < i) fail(`"${k}[${i}]" ${x} repeats ${k}[${j}]`);
  });
  return out;
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
      only(o, ['type', 'id', 'network', 'host', 'mac', 'fixedIps', 'allowedAddressPairs', 'portSecurity', 'securityGroups', 'deviceOwner', 'ofport', 'rev']);
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
      const securityGroups = names(o.securityGroups, 'securityGroups');
      if (securityGroups.length > 0 && o.portSecurity === false) {
        fail('"securityGroups" must be empty when "portSecurity" is false (Neutron refuses security groups on a port without port security)');
      }
      return {
        type: 'port', id: name(o, 'id'), network: name(o, 'network'), host: name(o, 'host'), mac: mac(o.mac, 'mac'),
        fixedIps: fixed.map((x, i) => ip(x, `fixedIps[${i}]`)),
        allowedAddressPairs: pairs.map((p, i) => {
          const po = obj(p);
          only(po, ['ip', 'mac']);
          return { ip: addressOrPrefix(po.ip, `allowedAddressPairs[${i}].ip`),
            ...(po.mac !== undefined ? { mac: mac(po.mac, `allowedAddressPairs[${i}].mac`) } : {}) };
        }),
        portSecurity: (o.portSecurity as boolean | undefined) ?? true,
        securityGroups,
        ...(o.deviceOwner !== undefined ? { deviceOwner: o.deviceOwner as string } : {}),
        ...(o.ofport !== undefined ? { ofport: o.ofport as number } : {}),
        ...rev(o),
      };
    }
    case 'securityGroup': {
      only(o, ['type', 'id', 'rules', 'stateful', 'memberIps', 'rev']);
      const rules = o.rules ?? [];
      if (!Array.isArray(rules)) fail('"rules" must be an array of rules');
      if (o.stateful !== undefined && typeof o.stateful !== 'boolean') fail('"stateful" must be true or false');
      const valid = rules.map((r, i) => sgRule(r, `rules[${i}]`));
      const seen = new Map<string, number>();
      valid.forEach((r, i) => {
        const key = JSON.stringify(r);
        const j = seen.get(key);
        if (j !== undefined) fail(`"rules[${i}]" repeats rules[${j}] (Neutron refuses a duplicate rule)`);
        seen.set(key, i);
      });
      const members = memberIps(o.memberIps);
      return { type: 'securityGroup', id: name(o, 'id'), rules: valid, stateful: (o.stateful as boolean | undefined) ?? true,
        ...(members ? { memberIps: members } : {}), ...rev(o) };
    }
    case 'remove': {
      only(o, ['type', 'kind', 'id', 'rev']);
      if (o.kind !== 'host' && o.kind !== 'network' && o.kind !== 'port' && o.kind !== 'securityGroup') fail('"kind" must be host, network, port or securityGroup');
      return { type: 'remove', kind: o.kind, id: name(o, 'id'), ...rev(o) };
    }
    default:
      return fail(`"type" must be host, network, port, securityGroup or remove (got ${JSON.stringify(o.type)})`);
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
