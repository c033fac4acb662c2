// The benches' big l2pop host, defined once: one host `local` and REMOTE_HOSTS remote ones, NETWORKS
// networks each with one local VM port and REMOTES_PER_NETWORK remote ports spread over the remote
// hosts. Rendered with l2pop + ARP responder it is ~42k br-tun + ~6k br-int flows.
import { mac } from './big-topology.js';

export const NETWORKS = 1000;
export const REMOTE_HOSTS = 200;
export const REMOTES_PER_NETWORK = 20;

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
      }));
    };
    add('local', 0);
    for (let k = 0; k < REMOTES_PER_NETWORK; k++) add(`r${(n * 7 + k * 13) % remoteHosts}`, k + 1);
  }
  return { lines, localPorts };
}
