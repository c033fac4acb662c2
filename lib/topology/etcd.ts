// The topology kept in etcd: each host, network, port and security group is one key under a prefix
// (PREFIX/host/NAME, PREFIX/network/ID, PREFIX/port/ID, PREFIX/securityGroup/ID) holding the JSON of
// its topology event (events.ts), without "rev": an entity's rev is its key's mod_revision, which
// etcd gives and no writer can know before it writes; a value that carries its own would make the
// replay check (an event not newer than the applied one is dropped) trust the writer over etcd, so
// it is refused. Shared by the source (etcd-source.ts) and the writers (etcd-write.ts).
import { Etcd3, IOptions, isRecoverableError } from 'etcd3';
import { parseEventLine, SecurityGroupEvent, TopologyError, TopologyEvent } from './events.js';
import type { Topology } from './model.js';
import { groupsInOrder, Rejection, TopologyStore } from './store.js';

export const DEFAULT_PREFIX = '/ofctl-ts/topology';
export const KINDS = ['host', 'network', 'securityGroup', 'port'] as const;
export type Kind = (typeof KINDS)[number];

export interface EtcdTarget {
  /** HOST:PORT each. */
  readonly endpoints: readonly string[];
  /** No trailing slash. */
  readonly prefix: string;
}

/** `HOST:PORT[,HOST:PORT…][/PREFIX]` (what follows `etcd:` in --topology, and --etcd's value). */
export function parseEtcdTarget(spec: string, option: string, defaultPrefix = DEFAULT_PREFIX): EtcdTarget {
  const slash = spec.indexOf('/');
  const hosts = slash < 0 ? spec : spec.slice(0, slash);
  const prefix = slash < 0 ? defaultPrefix : spec.slice(slash).replace(/\/+$/, '');
  const endpoints = hosts.split(',');
  for (const e of endpoints) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(e);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`${option} ${spec}: ${JSON.stringify(e)} is not HOST:PORT (endpoints: HOST:PORT[,HOST:PORT…], then /PREFIX if not ${defaultPrefix})`);
  }
  if (prefix === '' || /\/\//.test(prefix)) throw new Error(`${option} ${spec}: the prefix must be /NAME[/NAME…]`);
  return { endpoints, prefix };
}

export function formatTarget(t: EtcdTarget): string {
  return `${t.endpoints.join(',')}${t.prefix === DEFAULT_PREFIX ? '' : t.prefix}`;
}

/**
 * A client of the endpoints. Unary calls get a deadline (a stopped member would hold them for
 * ever); the watch stream has none.
 */
export function etcdClient(t: EtcdTarget, callTimeoutMs = 5000): Etcd3 {
  return new Etcd3(etcdClientOptions(t.endpoints, callTimeoutMs));
}

/** How every etcd client of ours is made: HOST:PORT endpoints, a deadline on each call (not on streams). */
export function etcdClientOptions(endpoints: readonly string[], callTimeoutMs = 5000): IOptions {
  return {
    hosts: endpoints.map((e) => `http://${e}`),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  };
}

/**
 * Whether an error of etcd3's means that etcd did not answer: no connection (14 UNAVAILABLE), a
 * deadline passed, or the member not tried again yet ("circuit breaker is open": after failures the
 * client leaves a member alone for 5 s).
 */
export function isUnreachable(err: unknown): boolean {
  return err instanceof Error && (isRecoverableError(err) || isBrokenCircuit(err));
}

function isBrokenCircuit(err: unknown): boolean {
  return (err as { isBrokenCircuitError?: unknown } | undefined)?.isBrokenCircuitError === true;
}

/**
 * Of two failures in a row, the one that says why: a circuit breaker's refusal hides the error
 * that opened it, so that error is kept.
 */
export function telling(previous: unknown, err: unknown): unknown {
  return isBrokenCircuit(err) && previous !== undefined ? previous : err;
}

/** etcd3's own words, without gRPC's empty trailer. */
export function etcdDetail(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return isBrokenCircuit(err) ? `${m} (the client tries that member again 5 s after it failed)` : m.replace(/\.?\s*Resolution note:\s*$/, '');
}

/**
 * One line for an operator when an etcd call failed: the etcd as they named it (`--etcd HOST:PORT`),
 * whether it could not be reached or refused, what that means here, then etcd3's text for detail.
 */
export function etcdFailure(named: string, meaning: string, err: unknown, unreachable = isUnreachable(err)): string {
  return `${named}: ${unreachable ? 'etcd could not be reached' : 'etcd refused the request'}; ${meaning} (etcd3: ${etcdDetail(err)})`;
}

/** A failed etcd call, said in one line (etcdFailure). */
export class EtcdFailure extends Error {}

/**
 * `call`, tried again while etcd does not answer, for at most `timeoutMs`; then (or at once when
 * etcd refuses it) an error of one line in our words (etcdFailure).
 */
export async function untilAnswered<T>(call: () => Promise<T>, o: { readonly timeoutMs: number; readonly retryMs: number; readonly named: string; readonly meaning: string }): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let failure: unknown;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      failure = telling(failure, err);
      if (!isUnreachable(err)) throw new EtcdFailure(etcdFailure(o.named, o.meaning, err));
      if (Date.now() >= deadline) throw new EtcdFailure(etcdFailure(o.named, `no answer within ${o.timeoutMs / 1000} s; ${o.meaning}`, failure));
      await new Promise((r) => setTimeout(r, o.retryMs));
    }
  }
}

export function entityKey(prefix: string, kind: Kind, id: string): string {
  return `${prefix}/${kind}/${id}`;
}

/** The kind and id an event concerns (a remove: the one it removes). */
export function eventEntity(e: TopologyEvent): { readonly kind: Kind; readonly id: string } {
  return e.type === 'remove' ? { kind: e.kind, id: e.id } : { kind: e.type, id: e.type === 'host' ? e.name : e.id };
}

/** The entity of a kind and id in a topology, as its event (without rev), or undefined. */
export function entityOf(t: Topology, kind: Kind, id: string): TopologyEvent | undefined {
  const e = kind === 'host' ? t.hosts.get(id) : kind === 'network' ? t.networks.get(id) : kind === 'port' ? t.ports.get(id) : t.securityGroups.get(id);
  if (!e) return undefined;
  const { rev: _rev, ...bare } = e;
  return { type: kind, ...bare } as TopologyEvent;
}

/** One key's state at a revision: its value, or none (deleted). */
export interface KeyChange {
  readonly key: string;
  readonly rev: number;
  readonly value?: string;
}

/** The place a rejection names: `etcd:KEY@rev N`. */
export function keySource(c: Pick<KeyChange, 'key' | 'rev'>): string {
  return `etcd:${c.key}@rev ${c.rev}`;
}

/** A key's kind and id, or a reason why the key is no entity's. */
function parseKey(prefix: string, key: string): { kind: Kind; id: string } | string {
  const parts = key.slice(prefix.length + 1).split('/');
  const kind = parts[0] as Kind;
  if (parts.length !== 2 || !KINDS.includes(kind)) return `not an entity's key (${prefix}/{${KINDS.join('|')}}/ID)`;
  return { kind, id: parts[1]! };
}

/** The event line a stored value stands for (rev: the key's mod_revision). Throws TopologyError. */
export function valueLine(prefix: string, c: KeyChange & { value: string }): string {
  const k = parseKey(prefix, c.key);
  if (typeof k === 'string') throw new TopologyError(k);
  let v: unknown;
  try {
    v = JSON.parse(c.value);
  } catch (err) {
    throw new TopologyError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TopologyError('must be a JSON object (the entity\'s topology event)');
  const o = v as Record<string, unknown>;
  if ('rev' in o) throw new TopologyError('"rev" must not be in a value: an entity\'s rev is its key\'s mod_revision');
  if (o.type !== k.kind) throw new TopologyError(`"type" ${JSON.stringify(o.type)}: a ${k.kind} key holds a ${k.kind} event`);
  const idMember = k.kind === 'host' ? 'name' : 'id';
  if (o[idMember] !== k.id) throw new TopologyError(`"${idMember}" ${JSON.stringify(o[idMember])} is not the key's ${JSON.stringify(k.id)}`);
  return JSON.stringify({ ...o, rev: c.rev });
}

interface Step {
  readonly change: KeyChange;
  readonly line: string;
}

/**
 * Applies the changes of one revision (or a snapshot, or a relist's difference) in dependency order,
 * each alone, as lines of a file are: a port's removal first (it may free its network or groups),
 * then the puts (hosts, networks, security groups with those naming each other in an order that
 * applies, ports), then the other removals (groups, networks, hosts). A bad value is rejected with
 * its key and revision and changes nothing. Returns the rejections.
 */
export function applyChanges(store: TopologyStore, prefix: string, changes: readonly KeyChange[]): Rejection[] {
  const rejected: Rejection[] = [];
  const reject = (c: KeyChange, line: string, error: string): void => {
    store.reject(keySource(c), line, error);
    rejected.push({ source: keySource(c), line, error });
  };
  const puts = new Map<Kind, Step[]>(KINDS.map((k) => [k, []]));
  const removes = new Map<Kind, Step[]>(KINDS.map((k) => [k, []]));
  for (const c of changes) {
    const k = parseKey(prefix, c.key);
    if (typeof k === 'string') {
      reject(c, c.value ?? '', k);
      continue;
    }
    if (c.value === undefined) {
      // A key whose value was rejected (or never seen) has nothing to remove.
      if (!entityOf(store.topology, k.kind, k.id)) continue;
      removes.get(k.kind)!.push({ change: c, line: JSON.stringify({ type: 'remove', kind: k.kind, id: k.id, rev: c.rev }) });
      continue;
    }
    try {
      puts.get(k.kind)!.push({ change: c, line: valueLine(prefix, { ...c, value: c.value }) });
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      reject(c, c.value, err.message);
    }
  }
  const steps = [
    ...removes.get('port')!, ...puts.get('host')!, ...puts.get('network')!,
    ...groupSteps(puts.get('securityGroup')!, store.topology), ...puts.get('port')!,
    ...removes.get('securityGroup')!, ...removes.get('network')!, ...removes.get('host')!,
  ];
  for (const s of steps) {
    const r = store.applyLine(s.line, keySource(s.change));
    if (!r.ok) rejected.push({ source: keySource(s.change), line: s.line, error: r.error });
  }
  return rejected;
}

/**
 * Security groups in an order that applies: a rule may name only a known group (one the topology
 * has, or one put before it), so groups naming each other go first without those rules
 * (groupsInOrder). A value that does not parse keeps its place: applying it rejects it.
 */
function groupSteps(steps: readonly Step[], topology: Topology): Step[] {
  const parsed: { step: Step; group: SecurityGroupEvent }[] = [];
  const bad: Step[] = [];
  for (const s of steps) {
    try {
      parsed.push({ step: s, group: parseEventLine(s.line) as SecurityGroupEvent });
    } catch {
      bad.push(s);
    }
  }
  const byId = new Map(parsed.map((p) => [p.group.id, p.step]));
  const ordered = groupsInOrder(parsed.map((p) => p.group), (id) => topology.securityGroups.has(id));
  return [...bad, ...ordered.map((o) => {
    const step = byId.get((o as { id: string }).id)!;
    return { change: step.change, line: JSON.stringify(o) };
  })];
}

export interface PrefixRead {
  /** The revision the read saw (every key's mod_revision is at most this). */
  readonly revision: number;
  readonly changes: readonly KeyChange[];
}

/** Every key under the prefix, at one revision. */
export async function readPrefix(client: Etcd3, prefix: string): Promise<PrefixRead> {
  const res = await client.getAll().prefix(`${prefix}/`).exec();
  return {
    revision: Number(res.header.revision),
    changes: res.kvs.map((kv) => ({ key: kv.key.toString('utf8'), rev: Number(kv.mod_revision), value: kv.value.toString('utf8') })),
  };
}

/** A store holding what the prefix holds now (its rejected keys left out), and the revision it read. */
export async function storeAt(client: Etcd3, prefix: string): Promise<{ store: TopologyStore; read: PrefixRead; rejected: Rejection[] }> {
  const read = await readPrefix(client, prefix);
  const store = new TopologyStore();
  const rejected = applyChanges(store, prefix, read.changes);
  return { store, read, rejected };
}
