// A typed view of the Open_vSwitch tables the controller uses, read from the client's replica.
import { fromMap, fromSet, Json, optionalInt, uuidOf } from '../../codecs/ovsdb/protocol.js';
import type { Replica, Row } from './client.js';

/** Tables and columns the controller monitors. */
export const VSWITCH_TABLES = {
  Open_vSwitch: ['bridges', 'cur_cfg', 'next_cfg', 'external_ids'],
  Bridge: ['name', 'ports', 'controller', 'fail_mode', 'protocols', 'datapath_type', 'datapath_id', 'other_config', 'external_ids'],
  Port: ['name', 'interfaces', 'tag', 'other_config'],
  Interface: ['name', 'type', 'options', 'ofport', 'ofport_request', 'error', 'external_ids'],
  Controller: ['target', 'is_connected', 'max_backoff', 'inactivity_probe', 'connection_mode'],
} as const;

/**
 * The Interface rows a replica needs for a host another replica leads: which VM ports are plugged
 * (br-int), not the tunnels (br-tun), which are most of a host's interfaces and of its updates.
 * A monitor condition (its clauses are alternatives): every interface but a VXLAN one.
 */
export const NON_TUNNEL_INTERFACES: readonly Json[] = [['type', '!=', 'vxlan']];

export interface OvsInterface {
  readonly uuid: string;
  readonly name: string;
  readonly type: string;
  readonly options: ReadonlyMap<string, string>;
  /** undefined: not assigned yet ([]); -1: failed (see error). */
  readonly ofport: number | undefined;
  readonly ofportRequest: number | undefined;
  readonly error: string | undefined;
  readonly externalIds: ReadonlyMap<string, string>;
}

export interface OvsPort {
  readonly uuid: string;
  readonly name: string;
  readonly interfaces: readonly OvsInterface[];
  readonly tag: number | undefined;
  readonly otherConfig: ReadonlyMap<string, string>;
}

export interface OvsController {
  readonly uuid: string;
  readonly target: string;
  readonly isConnected: boolean;
  /** inactivity_probe (ms), undefined when unset (OVS then probes after 5 s). */
  readonly inactivityProbeMs: number | undefined;
  /** connection_mode: 'in-band', 'out-of-band', undefined when unset (in-band). */
  readonly connectionMode: string | undefined;
  /** max_backoff (ms), undefined when unset (OVS then backs off up to 8 s). */
  readonly maxBackoffMs: number | undefined;
}

export interface OvsBridge {
  readonly uuid: string;
  readonly name: string;
  readonly ports: readonly OvsPort[];
  readonly controllers: readonly OvsController[];
  readonly failMode: string | undefined;
  readonly protocols: readonly string[];
  readonly datapathType: string;
  /** The OpenFlow datapath id ovs-vswitchd chose (undefined until it ran). */
  readonly datapathId: bigint | undefined;
  readonly otherConfig: ReadonlyMap<string, string>;
  readonly externalIds: ReadonlyMap<string, string>;
}

export interface VswitchView {
  readonly rootUuid: string | undefined;
  readonly curCfg: number;
  readonly nextCfg: number;
  /** The root row's external_ids (where a leader's generation is recorded). */
  readonly externalIds: ReadonlyMap<string, string>;
  readonly bridges: ReadonlyMap<string, OvsBridge>;
}

const str = (v: Json | undefined): string | undefined => {
  const s = fromSet(v);
  return s.length === 1 && typeof s[0] === 'string' ? s[0] : undefined;
};

/** A column's value as text, whatever a (malformed) row holds: a string, else its JSON. */
const text = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

/** A datapath id as ovs-vswitchd writes it (hex, up to 16 digits); anything else is unknown. */
function dpidOf(v: Json | undefined): bigint | undefined {
  const s = str(v);
  return s !== undefined && /^[0-9a-f]{1,16}$/i.test(s) ? BigInt(`0x${s}`) : undefined;
}

/**
 * The typed Interface and Port of each row, kept while the row lives. The client's replica replaces
 * a row object when the row changes and keeps it otherwise, and a view is read again after every
 * update (every ofport, tag and cur_cfg a host's ovs-vswitchd writes): rows that did not change
 * are not converted again.
 */
const ifaces = new WeakMap<Row, OvsInterface>();
const ports = new WeakMap<Row, OvsPort>();

function iface(uuid: string, r: Row): OvsInterface {
  let i = ifaces.get(r);
  if (!i) ifaces.set(r, (i = ifaceOf(uuid, r)));
  return i;
}

/** Calls fn with each UUID of a set column (a bare UUID atom is a one-element set), allocating nothing. */
function eachUuid(v: Json | undefined, fn: (u: string) => void): void {
  const one = uuidOf(v);
  if (one !== undefined) return fn(one);
  for (const a of fromSet(v)) {
    const u = uuidOf(a);
    if (u !== undefined) fn(u);
  }
}

/**
 * A port row with its interfaces (those the replica holds): the kept object while its row and each
 * of its interfaces' are the same, found without building the list.
 */
function port(uuid: string, p: Row, ifaceRows: ReadonlyMap<string, Row>): OvsPort {
  const kept = ports.get(p);
  let n = 0;
  let same = kept !== undefined;
  eachUuid(p.interfaces, (iu) => {
    const r = ifaceRows.get(iu);
    if (!r || !same) return;
    same = kept!.interfaces[n++] === iface(iu, r);
  });
  if (same && n === kept!.interfaces.length) return kept!;
  const interfaces: OvsInterface[] = [];
  eachUuid(p.interfaces, (iu) => {
    const r = ifaceRows.get(iu);
    if (r) interfaces.push(iface(iu, r));
  });
  const made: OvsPort = { uuid, name: text(p.name), tag: optionalInt(p.tag), otherConfig: kept?.otherConfig ?? mapOf(p.other_config), interfaces };
  ports.set(p, made);
  return made;
}

function ifaceOf(uuid: string, r: Row): OvsInterface {
  return {
    uuid, name: text(r.name), type: typeof r.type === 'string' ? r.type : '', options: mapOf(r.options),
    ofport: optionalInt(r.ofport), ofportRequest: optionalInt(r.ofport_request), error: str(r.error), externalIds: mapOf(r.external_ids),
  };
}

/**
 * A map column of the view, read in place: over the replica's own [key, value] pairs, not copied
 * into a Map (the views of 1000 hosts held 54k Maps of a few entries each, ~10 MB), and one
 * shared instance when empty. A map column holds a few entries: a lookup scans them. A column
 * with an atom that is not a string is read by fromMap (each atom as text).
 */
class PairMap implements ReadonlyMap<string, string> {
  constructor(private readonly pairs: ReadonlyArray<[string, string]>) {}

  get size(): number {
    return this.pairs.length;
  }

  get(key: string): string | undefined {
    for (const p of this.pairs) if (p[0] === key) return p[1];
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  forEach(fn: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.pairs) fn.call(thisArg, v, k, this);
  }

  /** The pairs themselves (as a Map's entries, not to be changed). */
  entries(): IterableIterator<[string, string]> {
    return this.pairs[Symbol.iterator]();
  }

  *keys(): IterableIterator<string> {
    for (const p of this.pairs) yield p[0];
  }

  *values(): IterableIterator<string> {
    for (const p of this.pairs) yield p[1];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

const NO_ENTRIES: ReadonlyMap<string, string> = new PairMap([]);

function mapOf(v: Json | undefined): ReadonlyMap<string, string> {
  if (!Array.isArray(v) || v[0] !== 'map' || !Array.isArray(v[1])) return NO_ENTRIES;
  const pairs = v[1];
  if (pairs.length === 0) return NO_ENTRIES;
  for (const p of pairs) if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') return fromMap(v);
  return new PairMap(pairs as Array<[string, string]>);
}

/** The view; with `only`, of that bridge alone (the others left out, not read). */
export function vswitchView(replica: Replica, only?: string): VswitchView {
  const table = (t: string): ReadonlyMap<string, Row> => replica.get(t) ?? new Map();
  const ifaceRows = table('Interface');
  const portRows = table('Port');
  const ctls = table('Controller');
  const root = [...table('Open_vSwitch')][0];
  const bridges = new Map<string, OvsBridge>();
  for (const [uuid, b] of table('Bridge')) {
    if (only !== undefined && text(b.name) !== only) continue;
    const portList: OvsPort[] = [];
    eachUuid(b.ports, (pu) => {
      const p = portRows.get(pu);
      if (p) portList.push(port(pu, p, ifaceRows));
    });
    const controllers: OvsController[] = [];
    eachUuid(b.controller, (cu) => {
      const c = ctls.get(cu);
      if (!c) return;
      controllers.push({
        uuid: cu, target: text(c.target), isConnected: c.is_connected === true, inactivityProbeMs: optionalInt(c.inactivity_probe),
        connectionMode: str(c.connection_mode), maxBackoffMs: optionalInt(c.max_backoff),
      });
    });
    bridges.set(text(b.name), {
      uuid, name: text(b.name), ports: portList, controllers, failMode: str(b.fail_mode),
      protocols: fromSet(b.protocols).map(text), datapathType: typeof b.datapath_type === 'string' ? b.datapath_type : '',
      datapathId: dpidOf(b.datapath_id),
      otherConfig: mapOf(b.other_config), externalIds: mapOf(b.external_ids),
    });
  }
  return {
    rootUuid: root?.[0], curCfg: typeof root?.[1].cur_cfg === 'number' ? root[1].cur_cfg : 0, nextCfg: typeof root?.[1].next_cfg === 'number' ? root[1].next_cfg : 0,
    externalIds: mapOf(root?.[1].external_ids), bridges,
  };
}
