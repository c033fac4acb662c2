// What `controller --neutron-rpc` reads before it connects: the hosts file (the hypervisors this
// controller speaks for) and the broker's credentials (from a file, never from the command line
// or a log). Both are checked whole first; an error names the file and line.
import { readOptionFile } from '../option-file.js';
import { HostEvent, isEventLine, parseEventLine, TopologyError } from '../topology/events.js';

/**
 * The hosts file: JSON lines, one host event per hypervisor, as in a topology file, each with its
 * OVSDB address: `{"type":"host","name":"compute-1","tunnelIp":"10.0.0.11","ovsdb":"tcp:10.0.0.11:6640"}`.
 * `name` is the host as Neutron knows it (binding:host_id, the agent's `host`).
 */
export function readHostsFile(path: string): { readonly hosts: readonly HostEvent[]; readonly lines: readonly string[] } {
  const text = readOptionFile('--neutron-hosts', path).toString('utf8');
  const hosts: HostEvent[] = [];
  const lines: string[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    if (!isEventLine(line)) return;
    const at = `${path}:${i + 1}`;
    try {
      const e = parseEventLine(line);
      if (e.type !== 'host') throw new TopologyError(`a hosts file holds host lines only (got ${e.type}): Neutron gives the rest`);
      if (!e.ovsdb) throw new TopologyError(`host ${e.name} has no "ovsdb" address: a served host needs one`);
      for (const key of [`host ${e.name}`, `tunnel IP ${e.tunnelIp}`]) {
        if (seen.has(key)) throw new TopologyError(`${key} is already on line ${seen.get(key)}`);
      }
      seen.set(`host ${e.name}`, i + 1).set(`tunnel IP ${e.tunnelIp}`, i + 1);
      hosts.push(e);
      lines.push(line);
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      errors.push(`  ${at}: ${err.message}`);
    }
  });
  if (errors.length) throw new Error(`--neutron-hosts ${path}: ${errors.length} bad line(s); nothing was done:\n${errors.join('\n')}`);
  if (hosts.length === 0) throw new Error(`--neutron-hosts ${path}: no host line (one JSON line per hypervisor: {"type":"host","name":…,"tunnelIp":…,"ovsdb":…})`);
  return { hosts, lines };
}

/**
 * The broker URL with the credentials of FILE (its first line, `USER:PASSWORD`) filled in. A
 * password in the URL itself is refused: it would show in the process list.
 */
export function brokerUrl(url: string, credentialsFile: string | undefined): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('--neutron-rpc: not a URL (amqp://HOST:PORT/VHOST or amqps://…)');
  }
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') throw new Error(`--neutron-rpc: the scheme must be amqp: or amqps: (got ${u.protocol})`);
  if (u.password) throw new Error('--neutron-rpc: the URL holds a password, which the process list shows; put USER:PASSWORD in a file and name it with --neutron-rpc-credentials');
  if (credentialsFile === undefined) return u.toString();
  const line = readOptionFile('--neutron-rpc-credentials', credentialsFile).toString('utf8').split('\n')[0]!.trim();
  const colon = line.indexOf(':');
  if (colon <= 0) throw new Error(`--neutron-rpc-credentials ${credentialsFile}: the first line must be USER:PASSWORD`);
  u.username = encodeURIComponent(line.slice(0, colon));
  u.password = encodeURIComponent(line.slice(colon + 1));
  return u.toString();
}
