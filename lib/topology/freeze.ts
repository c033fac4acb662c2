// Frozen hosts (`controller --allow-partial`): a start-up snapshot line that was rejected names
// entities the controller does not know, and acting without them would cut VMs off (flows deleted,
// an unknown VM port retagged to VLAN 4095). So every host such a line concerns is frozen (no agent:
// no OVSDB write, no flow-mod) until a later accepted event names the same entity.
import type { TopologyEvent } from './events.js';
import type { Topology } from './model.js';

/** What a (possibly unparseable) line names: its type and its string members that name entities. */
export interface Named {
  readonly type?: string;
  readonly kind?: string;
  readonly id?: string;
  readonly name?: string;
  readonly host?: string;
  readonly network?: string;
}

const MEMBERS = ['type', 'kind', 'id', 'name', 'host', 'network'] as const;

/**
 * Reads what a rejected line names, as best it can: the parsed object's members when the line is
 * JSON, else each `"member": "string"` found by pattern (a trailing comma, a cut line). Only the
 * top-level object's members name entities; the nested ones (allowedAddressPairs) use other names.
 */
export function namedBy(line: string): Named {
  const out: Record<string, string> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  for (const k of MEMBERS) {
    let v: unknown;
    if (typeof parsed === 'object' && parsed !== null) v = (parsed as Record<string, unknown>)[k];
    else {
      const m = new RegExp(`"${k}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*")`).exec(line);
      try {
        v = m ? JSON.parse(m[1]!) : undefined;
      } catch {
        v = undefined;
      }
    }
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

const KINDS: readonly (string | undefined)[] = ['host', 'network', 'port', 'securityGroup'];

/** The entity keys (`port:ID`, `network:ID`, `host:NAME`, `securityGroup:ID`; `*:ID` when the kind is unknown) a line names. */
function entityKeys(n: Named): string[] {
  switch (n.type) {
    case 'host': return n.name ? [`host:${n.name}`] : [];
    case 'network': case 'port': case 'securityGroup': return n.id ? [`${n.type}:${n.id}`] : [];
    case 'remove': return n.id ? [KINDS.includes(n.kind) ? `${n.kind}:${n.id}` : `*:${n.id}`] : [];
    default: return [n.id, n.name].filter((x): x is string => !!x).map((x) => `*:${x}`);
  }
}

/** The key of the entity an accepted event names. */
function eventKey(e: TopologyEvent): string {
  return e.type === 'host' ? `host:${e.name}` : e.type === 'remove' ? `${e.kind}:${e.id}` : `${e.type}:${e.id}`;
}

export interface Freeze {
  /** `file:line` of the rejected line. */
  readonly where: string;
  readonly error: string;
  /** What it names; an accepted event naming one of them lifts the freeze. Empty: nothing identified. */
  readonly names: readonly string[];
  readonly hosts: ReadonlySet<string> | 'all';
}

/**
 * The hosts a rejected line concerns, against the topology as it stands: the host it names and those
 * sharing a network with it, the host of the port it names, every host with a port in the network it
 * names or in that port's network, every host with a port in the security group it names or in a
 * group whose rules name it as remote (a group the topology does not know yet concerns no host: no
 * port can be in it, nor a rule name it). All hosts when it names a port whose host is unknown, or
 * nothing identifiable at all.
 */
export function freezeFor(where: string, error: string, line: string, t: Topology): Freeze {
  const n = namedBy(line);
  const names = entityKeys(n);
  const hosts = new Set<string>();
  const inNetwork = (net: string | undefined): void => {
    if (net !== undefined) for (const h of t.hostsIn(net)) hosts.add(h);
  };
  const id = n.type === 'host' ? n.name : n.id;
  let all = names.length === 0;
  switch (n.type === 'remove' ? n.kind : n.type) {
    case 'host':
      if (id === undefined) break;
      hosts.add(id);
      for (const p of t.portsOn(id)) inNetwork(p.network);
      break;
    case 'network':
      inNetwork(id);
      break;
    case 'port': {
      const known = id !== undefined ? t.ports.get(id) : undefined;
      if (known) hosts.add(known.host);
      inNetwork(known?.network);
      if (n.host) hosts.add(n.host);
      inNetwork(n.network);
      if (!known && !n.host) all = true;
      break;
    }
    case 'securityGroup':
      if (id === undefined) break;
      for (const g of [id, ...t.groupsNaming(id)]) for (const h of t.hostsInGroup(g)) hosts.add(h);
      break;
    default:
      all = true;
  }
  return { where, error, names, hosts: all ? 'all' : hosts };
}

/** For the log: the line, what is frozen, and what lifts it. */
export function describeFreeze(f: Freeze): string {
  if (f.hosts !== 'all' && f.hosts.size === 0) return `${f.where} rejected: no host frozen (none is known to be concerned)`;
  const hosts = f.hosts === 'all' ? 'ALL hosts frozen (the line names no host that can be found)' : `hosts ${[...f.hosts].join(', ')} frozen (not touched)`;
  const until = f.names.length ? `until an accepted event names ${f.names.join(' or ')}` : 'until restarted with a corrected topology';
  return `${f.where} rejected: ${hosts} ${until}`;
}

/** The freezes in force, lifted by accepted events. */
export class Freezes {
  private list: Freeze[] = [];

  add(f: Freeze): void {
    this.list.push(f);
  }

  get all(): readonly Freeze[] {
    return this.list;
  }

  isFrozen(host: string): boolean {
    return this.list.some((f) => f.hosts === 'all' || f.hosts.has(host));
  }

  /** An event was accepted: lifts the freezes naming its entity; returns the hosts no longer frozen. */
  accepted(e: TopologyEvent, t: Topology): { readonly lifted: readonly Freeze[]; readonly thawed: ReadonlySet<string> } {
    if (this.list.length === 0) return { lifted: [], thawed: new Set() };
    const key = eventKey(e);
    const anyKind = `*:${key.slice(key.indexOf(':') + 1)}`;
    const lifted = this.list.filter((f) => f.names.includes(key) || f.names.includes(anyKind));
    if (lifted.length === 0) return { lifted, thawed: new Set() };
    this.list = this.list.filter((f) => !lifted.includes(f));
    const candidates = lifted.some((f) => f.hosts === 'all') ? t.hosts.keys() : lifted.flatMap((f) => [...(f.hosts as ReadonlySet<string>)]);
    const thawed = new Set<string>();
    for (const h of candidates) if (!this.isFrozen(h)) thawed.add(h);
    return { lifted, thawed };
  }
}
