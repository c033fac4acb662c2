// Typed table declarations. A table says what its flows may match, what they may set, which tables
// they may continue to (goto/resubmit), which table they may learn into and which port classes they
// may output to. Tables refer to each other by name (their key in the bridge's record); a table's
// number is written once, in its declaration. A flow built through `table.flow()` is checked against
// that declaration: at compile time (literal types) and again at run time, so computed specs fail
// with the table and field named.
import { Action, Learn, parseLearn, parseMove } from '../codecs/actions/index.js';
import { parseSubfield } from '../codecs/ofctl/subfield.js';
import { parseFieldValue } from '../codecs/ofctl/values.js';
import { FieldDef, fieldByName, PROTOCOL_KEYWORDS, ProtocolKeyword } from '../codecs/openflow/fields.js';
import { Match, setField, setSlot } from '../codecs/openflow/match.js';
import { FlowModMessage, OFP_NO_BUFFER, OFPFC_ADD, OFPG_ANY } from '../codecs/openflow/messages.js';
import { OFPP_IN_PORT, OFPP_NONE, OFPP_NORMAL } from '../codecs/openflow/ports.js';
import { memo } from './memo.js';

/** Protocol shorthands a table may match (keys without a value), as the codec defines them. */
export type ProtocolKey = 'arp' | 'ip' | 'ipv6' | 'icmp' | 'icmp6' | 'tcp' | 'udp' | 'sctp' | 'tcp6' | 'udp6' | 'sctp6';

/** Match keys, in ovs-ofctl spelling. */
export type MatchKey =
  | ProtocolKey | 'in_port' | 'dl_src' | 'dl_dst' | 'dl_vlan' | 'vlan_tci' | 'tun_id' | 'icmp_type' | 'icmp_code'
  | 'arp_spa' | 'arp_tpa' | 'nd_target' | 'dl_type' | 'nw_proto' | 'nw_src' | 'nw_dst' | 'ipv6_src' | 'ipv6_dst'
  | 'tp_src' | 'tp_dst' | 'reg5' | 'reg6' | 'ct_state' | 'ct_zone' | 'ct_mark' | 'conj_id';

/** What actions may write (the field, or the VLAN header for push/pop). */
export type SetKey =
  | 'vlan' | 'tun_id' | 'arp_op' | 'arp_sha' | 'arp_tha' | 'arp_spa' | 'arp_tpa' | 'eth_src' | 'eth_dst'
  | 'reg5' | 'reg6' | 'reg7' | 'ct_mark';

/** Where a flow may send the packet ('vm': a VM's port on br-int). */
export type PortClass = 'patch' | 'tunnel' | 'in_port' | 'normal' | 'vm';

export interface TableDecl<M extends MatchKey, S extends SetKey, N extends string, L extends string> {
  readonly id: number;
  readonly name: string;
  /** One line on what the table does (shown in the drawn pipeline). */
  readonly purpose: string;
  readonly matches: readonly M[];
  readonly sets: readonly S[];
  /** The tables (by name) its flows may continue to. */
  readonly next: readonly N[];
  readonly learnsInto?: readonly L[];
  readonly outputs?: readonly PortClass[];
}

/** A table as a flow names it: `{ goto: BR_TUN.floodToTun }`; only a table of `next` type-checks. */
export interface TableRef<K extends string> {
  readonly key: K;
  readonly id: number;
}

export type MatchValue = string | number | true;

/** set_field of one field (its name as ovs-ofctl spells it) to a value in that field's notation. */
export interface SetFieldSpec<S extends SetKey> {
  readonly setField: string;
  readonly value: string | number;
  readonly set: S;
}

/** ct(...): through the connection tracker in the zone of a 16-bit subfield, maybe committing, then on to a table. */
export interface CtSpec<S extends SetKey, N extends string> {
  readonly commit?: true;
  /** The zone as a subfield, `NXM_NX_REG6[0..15]`. */
  readonly zone: string;
  readonly table?: TableRef<N>;
  /** exec(...): writes to the connection (ct_mark), on commit. */
  readonly exec?: readonly SetFieldSpec<S>[];
}

export type ActionSpec<S extends SetKey, N extends string, L extends string = never> =
  | { readonly goto: TableRef<N> }
  | { readonly resubmit: TableRef<N> }
  | { readonly output: number; readonly to: PortClass }
  | { readonly outputs: readonly number[]; readonly to: PortClass }
  | { readonly inPort: true }
  | { readonly normal: true }
  | { readonly drop: true }
  /** push_vlan + set_field vlan_vid (OpenFlow 1.3 spelling) */
  | { readonly pushVlan: number; readonly set: Extract<S, 'vlan'> }
  /** mod_vlan_vid (the classic spelling, which OVS turns into the same push + set) */
  | { readonly modVlanVid: number; readonly set: Extract<S, 'vlan'> }
  /** pop_vlan (strip_vlan is the same action) */
  | { readonly popVlan: true; readonly set: Extract<S, 'vlan'> }
  /** set_field of tun_id (set_tunnel is the same action) */
  | { readonly setTunnel: number; readonly set: Extract<S, 'tun_id'> }
  | SetFieldSpec<S>
  | { readonly ct: CtSpec<S, N> }
  | { readonly ctClear: true }
  /** conjunction(ID,CLAUSE/OF), CLAUSE counted from 1 as in the text */
  | { readonly conjunction: number; readonly clause: number; readonly of: number }
  /** move:SRC->DST in subfield syntax */
  | { readonly move: string; readonly set: S }
  /** learn(table=<into's number>,<learn>) */
  | { readonly learn: string; readonly into: TableRef<L> };

export interface FlowSpec<M extends MatchKey, S extends SetKey, N extends string, L extends string = never> {
  readonly priority: number;
  readonly match?: { readonly [K in M]?: MatchValue };
  readonly actions: readonly ActionSpec<S, N, L>[];
  readonly cookie?: bigint;
  readonly hardTimeout?: number;
  /** OFPFF_RESET_COUNTS, as Neutron's agent leaves it on some flows. */
  readonly resetCounts?: true;
}

/** A flow of a pipeline (its text form is formatFlow(flow), what ovs-ofctl prints for it). */
export interface PipelineFlow {
  readonly table: number;
  readonly flow: FlowModMessage;
}

export class PipelineError extends Error {}

// Match keys with a value, resolved once to their field.
const MATCH_FIELDS: ReadonlyMap<string, FieldDef> = new Map(
  ([
    'in_port', 'dl_src', 'dl_dst', 'dl_vlan', 'vlan_tci', 'tun_id', 'icmp_type', 'icmp_code', 'arp_spa', 'arp_tpa', 'nd_target',
    'dl_type', 'nw_proto', 'nw_src', 'nw_dst', 'ipv6_src', 'ipv6_dst', 'tp_src', 'tp_dst', 'reg5', 'reg6', 'ct_state', 'ct_zone',
    'ct_mark', 'conj_id',
  ] as const).map((k) => [k, fieldByName(k)!]),
);
const PROTOCOL_KEYS: readonly ProtocolKey[] = ['arp', 'ip', 'ipv6', 'icmp', 'icmp6', 'tcp', 'udp', 'sctp', 'tcp6', 'udp6', 'sctp6'];
const PROTOCOLS: ReadonlyMap<string, ProtocolKeyword> = new Map(
  PROTOCOL_KEYWORDS.filter((k) => (PROTOCOL_KEYS as readonly string[]).includes(k.name)).map((k) => [k.name, k]),
);
/**
 * Match values given as text, parsed once per field and text (ct_state and masks repeat on every
 * port's flows). Its own bounded cache, not `memo`'s: a member address per flow would flush that
 * shared one of the flows it exists to keep.
 */
const parsedValues = new Map<FieldDef, Map<string, { value: bigint; mask?: bigint }>>();
const PARSED_MAX = 4096;
function parsedValue(field: FieldDef, text: string): { value: bigint; mask?: bigint } {
  let byText = parsedValues.get(field);
  if (!byText) parsedValues.set(field, (byText = new Map()));
  let v = byText.get(text);
  if (!v) {
    if (byText.size >= PARSED_MAX) byText.clear();
    byText.set(text, (v = parseFieldValue(field, text)));
  }
  return v;
}

const F_VLAN_VID = fieldByName('vlan_vid')!;
const OFPFF_RESET_COUNTS = 4;
const CT_COMMIT = 1;
const CT_NO_TABLE = 255;
const zoneOf = memo((text: string) => parseSubfield(text, 0));
const F_TUN_ID = fieldByName('tun_id')!;

/** Learn and move texts repeat across flows and pipelines: parse each once. */
const learnOf = memo((text: string): Learn => parseLearn(text));
const moveOf = memo((text: string): Action => parseMove(text));

/**
 * Flows are built as data (the codec's model), not as text to parse: rendering 40k flows must take
 * well under a second. The golden tests prove the result is canonical: OVS holds it unchanged.
 */
export class Table<K extends string, M extends MatchKey, S extends SetKey, N extends string, L extends string>
implements TableRef<K> {
  /** The tables of `decl.next` and `decl.learnsInto`, resolved by `tables()`. */
  private readonly nextTables = new Set<TableRef<string>>();
  private readonly learnTables = new Set<TableRef<string>>();

  /** decl.matches, looked up once per key of every flow. */
  private readonly matchKeys: ReadonlySet<string>;

  constructor(readonly key: K, readonly decl: TableDecl<M, S, N, L>) {
    this.matchKeys = new Set(decl.matches);
  }

  /** Resolves the names of `next` and `learnsInto` among the bridge's tables (once, by `tables()`). */
  link(all: ReadonlyMap<string, TableRef<string>>): void {
    const resolve = (names: readonly string[] | undefined, into: Set<TableRef<string>>): void => {
      for (const n of names ?? []) {
        const target = all.get(n);
        if (!target) throw new PipelineError(`table ${this.id} (${this.decl.name}): no table named ${n}`);
        into.add(target);
      }
    };
    resolve(this.decl.next, this.nextTables);
    resolve(this.decl.learnsInto, this.learnTables);
  }

  get id(): number {
    return this.decl.id;
  }

  /** Builds one flow of this table; throws PipelineError naming the table on any undeclared use. */
  flow(spec: FlowSpec<M, S, N, L>): PipelineFlow {
    const d = this.decl;
    const bad = (what: string): never => {
      throw new PipelineError(`table ${d.id} (${d.name}): ${what}`);
    };
    const match: Match = new Map();
    const given = spec.match ?? {};
    for (const [k, v] of Object.entries(given) as Array<[M, MatchValue | undefined]>) {
      if (v === undefined) continue;
      if (!this.matchKeys.has(k)) bad(`may not match ${k}`);
      const protocol = PROTOCOLS.get(k);
      if (protocol) {
        const { dlType, nwProto } = protocol;
        setSlot(match, 'dl_type', dlType, 0xffffn);
        if (nwProto !== undefined) setSlot(match, 'nw_proto', nwProto, 0xffn);
        continue;
      }
      const field = MATCH_FIELDS.get(k)!;
      const { value, mask } = typeof v === 'number' ? { value: BigInt(v), mask: undefined } : parsedValue(field, String(v));
      setField(match, field, value, mask);
    }
    const ctx = { vlan: (match.get('vlan_tci')?.value ?? 0n) >= 0x1000n };
    const apply: Action[] = [];
    let gotoTable: number | undefined;
    for (const a of spec.actions) {
      if ('goto' in a) {
        this.mayNext(a.goto, bad);
        gotoTable = a.goto.id;
      } else {
        apply.push(...this.actions(a, ctx, bad));
      }
    }
    const flow: FlowModMessage = {
      type: 'flow_mod', command: OFPFC_ADD, table: d.id, priority: spec.priority, cookie: spec.cookie ?? 0n, cookieMask: 0n,
      idleTimeout: 0, hardTimeout: spec.hardTimeout ?? 0, flags: spec.resetCounts ? OFPFF_RESET_COUNTS : 0, importance: 0, bufferId: OFP_NO_BUFFER,
      outPort: OFPP_NONE, outGroup: OFPG_ANY, match, instructions: gotoTable === undefined ? { apply } : { apply, gotoTable },
    };
    return { table: d.id, flow };
  }

  private mayNext(t: TableRef<string>, bad: (what: string) => never): void {
    if (!this.nextTables.has(t)) bad(`may not continue to ${nameOf(t)}`);
  }

  private actions(a: ActionSpec<S, N, L>, ctx: { vlan: boolean }, bad: (what: string) => never): Action[] {
    const d = this.decl;
    const mayOutput = (c: PortClass): void => {
      if (!d.outputs?.includes(c)) bad(`may not output to a ${c} port`);
    };
    const output = (port: number): Action => ({ type: 'output', port, maxLen: 0 });
    if ('goto' in a) return [];
    if ('resubmit' in a) {
      this.mayNext(a.resubmit, bad);
      return [{ type: 'resubmit', inPort: OFPP_IN_PORT, table: a.resubmit.id, form: 'table' }];
    }
    if ('outputs' in a) return mayOutput(a.to), a.outputs.map(output);
    if ('output' in a) return mayOutput(a.to), [output(a.output)];
    if ('inPort' in a) return mayOutput('in_port'), [output(OFPP_IN_PORT)];
    if ('normal' in a) return mayOutput('normal'), [output(OFPP_NORMAL)];
    if ('drop' in a) return [];
    if ('ctClear' in a) return [{ type: 'ct_clear' }];
    if ('conjunction' in a) return [{ type: 'conjunction', id: a.conjunction, clause: a.clause - 1, nClauses: a.of }];
    if ('ct' in a) {
      const c = a.ct;
      if (c.table) this.mayNext(c.table, bad);
      return [{
        type: 'ct', flags: c.commit ? CT_COMMIT : 0, zoneSrc: zoneOf(c.zone), zoneImm: 0, table: c.table?.id ?? CT_NO_TABLE, alg: 0,
        actions: (c.exec ?? []).flatMap((x) => this.actions(x, ctx, bad)),
      }];
    }
    if ('learn' in a) {
      if (!this.learnTables.has(a.into)) bad(`may not learn into ${nameOf(a.into)}`);
      const text = `table=${a.into.id},${a.learn}`;
      return [{ type: 'learn', learn: learnOf(text) }];
    }
    if (!(d.sets as readonly SetKey[]).includes(a.set)) bad(`may not set ${a.set}`);
    if ('pushVlan' in a || 'modVlanVid' in a) {
      // mod_vlan_vid pushes a header only when there is none, as OVS converts it for OpenFlow 1.3.
      const vid = 'pushVlan' in a ? a.pushVlan : a.modVlanVid;
      const push = 'pushVlan' in a || !ctx.vlan;
      ctx.vlan = true;
      const set: Action = { type: 'set_field', field: F_VLAN_VID, value: BigInt(0x1000 | vid) };
      return push ? [{ type: 'push_vlan', ethertype: 0x8100 }, set] : [set];
    }
    if ('popVlan' in a) {
      ctx.vlan = false;
      return [{ type: 'pop_vlan' }];
    }
    if ('setTunnel' in a) return [{ type: 'set_field', field: F_TUN_ID, value: BigInt(a.setTunnel) }];
    if ('setField' in a) {
      const field = fieldByName(a.setField);
      if (!field?.writable) return bad(`${a.setField} is not a writable field`);
      const value = typeof a.value === 'number' ? BigInt(a.value) : parseFieldValue(field, a.value).value;
      return [{ type: 'set_field', field, value }];
    }
    return [moveOf(a.move)];
  }
}

function nameOf(t: TableRef<string>): string {
  return t instanceof Table ? `table ${t.id} (${t.decl.name})` : JSON.stringify(t);
}

type AnyDecl = TableDecl<MatchKey, SetKey, string, string>;
type Elem<A> = A extends readonly (infer E)[] ? E : never;

/** The tables of a bridge, each typed from its declaration (literal types, by the `const` parameter). */
export type Tables<D extends Record<string, AnyDecl>> = {
  readonly [K in keyof D & string]: Table<K, Elem<D[K]['matches']>, Elem<D[K]['sets']>, Elem<D[K]['next']> & string,
    Elem<NonNullable<D[K]['learnsInto']>> & string>;
};

/**
 * Declares a bridge's tables, keyed by the name flows use for them. `next` and `learnsInto` name
 * tables of the same record, so a misspelt or foreign table fails tsc (and, computed, at run time).
 */
export function tables<const D extends { readonly [K in keyof D]: TableDecl<MatchKey, SetKey, keyof D & string, keyof D & string> }>(
  decls: D,
): Tables<D> {
  const out = new Map<string, Table<string, MatchKey, SetKey, string, string>>();
  for (const [key, decl] of Object.entries(decls) as Array<[string, AnyDecl]>) out.set(key, new Table(key, decl));
  for (const t of out.values()) t.link(out);
  return Object.fromEntries(out) as Tables<D>;
}
