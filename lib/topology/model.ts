// The topology model: hosts, networks and ports, built by applying validated events. Applying an
// event either succeeds whole or throws TopologyError and leaves the model as it was.
import { readFileSync } from 'node:fs';
import { HostEvent, NetworkEvent, parseEventLine, PortEvent, TopologyError, TopologyEvent } from './events.js';

export type Host = Omit<HostEvent, 'type'>;
export type Network = Omit<NetworkEvent, 'type'>;
export type Port = Omit<PortEvent, 'type'>;

export class Topology {
  readonly hosts = new Map<string, Host>();
  readonly networks = new Map<string, Network>();
  readonly ports = new Map<string, Port>();
  /** network id -> MAC -> port id: a MAC is unique within a network. */
  private readonly macs = new Map<string, Map<string, string>>();

  /** Applies one event (all or nothing). Returns false for a replay (rev not newer). */
  apply(e: TopologyEvent): boolean {
    switch (e.type) {
      case 'host': {
        const old = this.hosts.get(e.name);
        if (stale(old, e)) return false;
        for (const h of this.hosts.values()) {
          if (h.name !== e.name && h.tunnelIp === e.tunnelIp) throw new TopologyError(`host ${e.name}: tunnel IP ${e.tunnelIp} is already host ${h.name}'s`);
        }
        const { type: _t, ...host } = e;
        this.hosts.set(e.name, host);
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
        return true;
      }
      case 'port': {
        const old = this.ports.get(e.id);
        if (stale(old, e)) return false;
        if (!this.networks.has(e.network)) throw new TopologyError(`port ${e.id}: unknown network ${e.network}`);
        if (!this.hosts.has(e.host)) throw new TopologyError(`port ${e.id}: unknown host ${e.host}`);
        const holder = this.macs.get(e.network)?.get(e.mac);
        if (holder !== undefined && holder !== e.id) {
          throw new TopologyError(`port ${e.id}: MAC ${e.mac} is already port ${holder}'s in network ${e.network}`);
        }
        const { type: _t, ...port } = e;
        if (old) this.macs.get(old.network)?.delete(old.mac);
        this.ports.set(e.id, port);
        let byMac = this.macs.get(e.network);
        if (!byMac) this.macs.set(e.network, (byMac = new Map()));
        byMac.set(e.mac, e.id);
        return true;
      }
      case 'remove': {
        const table = e.kind === 'host' ? this.hosts : e.kind === 'network' ? this.networks : this.ports;
        if (!table.has(e.id)) throw new TopologyError(`remove ${e.kind} ${e.id}: no such ${e.kind}`);
        if (e.kind !== 'port') {
          const key = e.kind === 'host' ? 'host' : 'network';
          const user = [...this.ports.values()].find((p) => p[key] === e.id);
          if (user) throw new TopologyError(`remove ${e.kind} ${e.id}: port ${user.id} still uses it`);
        }
        if (e.kind === 'port') {
          const p = this.ports.get(e.id)!;
          this.macs.get(p.network)?.delete(p.mac);
        }
        table.delete(e.id);
        return true;
      }
    }
  }

  /** Ports of a host, in the order they were added. */
  portsOn(host: string): Port[] {
    return [...this.ports.values()].filter((p) => p.host === host);
  }
}

function stale(old: { rev?: number } | undefined, e: { rev?: number }): boolean {
  return old?.rev !== undefined && e.rev !== undefined && e.rev <= old.rev;
}

/** Reads a JSON-lines topology (a snapshot is a stream of adds). Errors name the line. */
export function parseTopology(text: string, source = 'topology'): Topology {
  const t = new Topology();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    try {
      t.apply(parseEventLine(line));
    } catch (err) {
      if (err instanceof TopologyError) throw new TopologyError(`${source}:${i + 1}: ${err.message}`);
      throw err;
    }
  });
  return t;
}

export function readTopology(path: string): Topology {
  return parseTopology(readFileSync(path === '-' ? 0 : path, 'utf8'), path === '-' ? '<stdin>' : path);
}
