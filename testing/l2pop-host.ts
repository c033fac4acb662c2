// The benches' big l2pop host, defined once: one host `local` and REMOTE_HOSTS remote ones, NETWORKS
// networks each with one local VM port and REMOTES_PER_NETWORK remote ports spread over the remote
// hosts. Rendered with l2pop + ARP responder it is ~42k br-tun + ~6k br-int flows. With
// `securityGroups`, issue 16's scale case: the local ports alternate between two groups of 10 rules.
import { mac } from './big-topology.js';

export const NETWORKS = 1000;
export const REMOTE_HOSTS = 200;
export const REMOTES_PER_NETWORK = 20;

/** The two groups of issue 16 point 6; local port n is in SECURITY_GROUPS[n % 2]. */
export const SECURITY_GROUPS = ['sg-a', 'sg-b'] as const;

/**
 * A group's 10 rules, as issue 16 point 6 lists them: egress any v4/v6; ingress TCP 22 from 0.0.0.0/0,
 * TCP 80, TCP 443, TCP 8000-8080 from 10.0.0.0/8, UDP 53 from 172.16.0.0/12, ICMP echo, ICMPv6 128
 * (echo request), and TCP 5432 from the group itself (its members: one local port in two).
 */
export function securityGroupRules(group: string): Array<Record<string, unknown>> {
  const tcp = (min: number, max = min, more: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: min, portRangeMax: max, ...more });
  return [
    { direction: 'egress', ethertype: 'IPv4' },
    { direction: 'egress', ethertype: 'IPv6' },
    tcp(22, 22, { remoteIpPrefix: '0.0.0.0/0' }),
    tcp(80),
    tcp(443),
    tcp(8000, 8080, { remoteIpPrefix: '10.0.0.0/8' }),
    { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteIpPrefix: '172.16.0.0/12' },
    { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8 },
    { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmpv6', portRangeMin: 128 },
    tcp(5432, 5432, { remoteGroupId: group }),
  ];
}

/** The securityGroup event of `group` with its rules (and `extra` ones, for a rule added). */
export function securityGroupLine(group: string, extra: ReadonlyArray<Record<string, unknown>> = []): string {
  return JSON.stringify({ type: 'securityGroup', id: group, rules: [...securityGroupRules(group), ...extra] });
}

export interface L2popHostOptions {
  readonly networks?: number;
  readonly remoteHosts?: number;
  /** The local host's OVSDB address (for a controller); offline renders leave it out. */
  readonly ovsdb?: string;
  /**
   * Name each local port's ofport (network n: n + 2, after patch-tun), so an offline render places
   * it; leave out when Nova plugs the ports and OVSDB tells the ofports.
   */
  readonly ofports?: boolean;
  /** Issue 16 point 6: the local ports alternate between SECURITY_GROUPS; remote ports are in none. */
  readonly securityGroups?: boolean;
}

export interface L2popHost {
  /** The topology, as JSON lines. */
  readonly lines: string[];
  /** The local VM ports, [port id, MAC], in network order. */
  readonly localPorts: Array<[string, string]>;
}

export function l2popHost(o: L2popHostOptions = {}): L2popHost {
  const networks = o.networks ?? NETWORKS;
  const remoteHosts = o.remoteHosts ?? REMOTE_HOSTS;
  const lines = [JSON.stringify({ type: 'host', name: 'local', tunnelIp: '10.200.0.1', ...(o.ovsdb ? { ovsdb: o.ovsdb } : {}) })];
  for (let h = 0; h < remoteHosts; h++) lines.push(JSON.stringify({ type: 'host', name: `r${h}`, tunnelIp: `10.201.${h >> 8}.${(h & 255) + 1}` }));
  if (o.securityGroups) lines.push(...SECURITY_GROUPS.map((g) => securityGroupLine(g)));
  const localPorts: Array<[string, string]> = [];
  let port = 0;
  for (let n = 0; n < networks; n++) {
    lines.push(JSON.stringify({ type: 'network', id: `net${n}`, vni: 5000 + n }));
    const add = (host: string, k: number): void => {
      const id = `p${port}`;
      const m = mac(++port);
      if (host === 'local') localPorts.push([id, m]);
      lines.push(JSON.stringify({
        type: 'port', id, network: `net${n}`, host, mac: m, fixedIps: [`10.${n >> 8}.${n & 255}.${k + 10}`],
        ...(host === 'local' && o.ofports ? { ofport: n + 2 } : {}),
        ...(host === 'local' && o.securityGroups ? { securityGroups: [SECURITY_GROUPS[n % 2]] } : {}),
      }));
    };
    add('local', 0);
    for (let k = 0; k < REMOTES_PER_NETWORK; k++) add(`r${(n * 7 + k * 13) % remoteHosts}`, k + 1);
  }
  return { lines, localPorts };
}
