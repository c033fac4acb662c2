// Typed table declarations. A table says what its flows may match, what they may set, which tables
// they may continue to (goto/resubmit), which table they may learn into and which port classes they
// may output to. A flow built through `table.flow()` is checked against that declaration: at compile
// time (literal types) and again at run time, so computed specs fail with the table and field named.
import { Action, Learn, parseLearn, parseMove } from '../codecs/actions/index.js';
import { parseFieldValue } from '../codecs/ofctl/values.js';
import { FieldDef, fieldByName } from '../codecs/openflow/fields.js';
import { Match, setField, setSlot } from '../codecs/openflow/match.js';
import { FlowModMessage, OFP_NO_BUFFER, OFPFC_ADD, OFPG_ANY } from '../codecs/openflow/messages.js';
import { OFPP_IN_PORT, OFPP_NONE, OFPP_NORMAL } from '../codecs/openflow/ports.js';

/** Match keys, in ovs-ofctl spelling (protocol shorthands are keys without a value). */
export type MatchKey =
  | 'in_port' | 'dl_src' | 'dl_dst' | 'dl_vlan' | 'vlan_tci' | 'tun_id' | 'arp' | 'icmp6' | 'icmp_type'
  | 'arp_spa' | 'arp_tpa' | 'nd_target';

/** What actions may write (the field, or the VLAN header for push/pop). */
export type SetKey = 'vlan' | 'tun_id' | 'arp_op' | 'arp_sha' | 'arp_tha' | 'arp_spa' | 'arp_tpa' | 'eth_src' | 'eth_dst';

/** Where a flow may send the packet. */
export type PortClass = 'patch' | 'tunnel' | 'in_port' | 'normal';

export interface TableDecl<M extends MatchKey, S extends SetKey, N extends number> {
  readonly id: number;
  readonly name: string;
  /** One line on what the table does (shown in the drawn pipeline). */
  readonly purpose: string;
  readonly matches: readonly M[];
  readonly sets: readonly S[];
  readonly next: readonly N[];
  readonly learnsInto?: readonly number[];
  readonly outputs?: readonly PortClass[];
}

export type MatchValue = string | number | true;

export type ActionSpec<S extends SetKey, N extends number> =
  | { readonly goto: N }
  | { readonly resubmit: N }
  | { readonly output: number; readonly to: PortClass }
  | { readonly outputs: readonly number[]; readonly to: PortClass }
  | { readonly inPort: true }
  | { readonly normal: true }
  | { readonly drop: true }
  /** push_vlan + set_field vlan_vid (OpenFlow 1.3 spelling) */
  | { readonly pushVlan: number; readonly set: Extract<S, 'vlan'> }
  /** mod_vlan_vid (the classic spelling, which OVS turns into the same push + set) */
  | { readonly modVlanVid: number; readonly set: Extract<S, 'vlan'> }
  | { readonly popVlan: true; readonly set: Extract<S, 'vlan'>; readonly spelling?: 'pop_vlan' | 'strip_vlan' }
  | { readonly setTunnel: number; readonly set: Extract<S, 'tun_id'>; readonly spelling?: 'set_field' | 'set_tunnel' }
  /** set_field of one field (its name as ovs-ofctl spells it) to a value in that field's notation */
  | { readonly setField: string; readonly value: string | number; readonly set: S }
  /** move:SRC->DST in subfield syntax */
  | { readonly move: string; readonly set: S }
  | { readonly learn: string; readonly into: number };

export interface FlowSpec<M extends MatchKey, S extends SetKey, N extends number> {
  readonly priority: number;
  readonly match?: { readonly [K in M]?: MatchValue };
  readonly actions: readonly ActionSpec<S, N>[];
  readonly cookie?: bigint;
  readonly hardTimeout?: number;
}

/** A flow of a pipeline (its text form is formatFlow(flow), what ovs-ofctl prints for it). */
export interface PipelineFlow {
  readonly table: number;
  readonly flow: FlowModMessage;
}

export class PipelineError extends Error {}

// Match keys with a value, resolved once to their field.
const MATCH_FIELDS: ReadonlyMap<string, FieldDef> = new Map(
  (['in_port', 'dl_src', 'dl_dst', 'dl_vlan', 'vlan_tci', 'tun_id', 'icmp_type', 'arp_spa', 'arp_tpa', 'nd_target'] as const)
    .map((k) => [k, fieldByName(k)!]),
);
const PROTOCOLS: Readonly<Record<'arp' | 'icmp6', readonly [bigint, bigint?]>> = { arp: [0x0806n], icmp6: [0x86ddn, 58n] };

const F_VLAN_VID = fieldByName('vlan_vid')!;
const F_TUN_ID = fieldByName('tun_id')!;

/**
 * Flows by a caller-chosen key naming everything they depend on: a pipeline re-rendered after one
 * topology event is mostly the same flows, and handing back the same objects lets the reconciler
 * skip them by identity. Generational, so flows no pipeline asks for any more are let go: a lookup
 * promotes an entry from the previous generation, and when the current one reaches MEMO_GENERATION
 * entries the previous one is dropped. (A flat cache kept every variant an event ever produced:
 * at 1000 hosts that grew by ~100 KB an event.)
 */
const MEMO_GENERATION = 50_000;
let memo = new Map<string, readonly PipelineFlow[]>();
let memoPrevious = new Map<string, readonly PipelineFlow[]>();

export function memoFlows(key: string, build: () => readonly PipelineFlow[]): readonly PipelineFlow[] {
  let flows = memo.get(key);
  if (flows) return flows;
  flows = memoPrevious.get(key) ?? build();
  if (memo.size >= MEMO_GENERATION) {
    memoPrevious = memo;
    memo = new Map();
  }
  memo.set(key, flows);
  return flows;
}

/** Learn and move texts repeat across flows and pipelines: parse each once. */
const learnCache = new Map<string, Learn>();
const moveCache = new Map<string, Action>();

/**
 * Flows are built as data (the codec's model), not as text to parse: rendering 40k flows must take
 * well under a second. The golden tests prove the result is canonical: OVS holds it unchanged.
 */
export class Table<M extends MatchKey, S extends SetKey, N extends number> {
  constructor(readonly decl: TableDecl<M, S, N>) {}

  get id(): number {
    return this.decl.id;
  }

  /** Builds one flow of this table; throws PipelineError naming the table on any undeclared use. */
  flow(spec: FlowSpec<M, S, N>): PipelineFlow {
    const d = this.decl;
    const bad = (what: string): never => {
      throw new PipelineError(`table ${d.id} (${d.name}): ${what}`);
    };
    const match: Match = new Map();
    const given = spec.match ?? {};
    for (const [k, v] of Object.entries(given) as Array<[M, MatchValue | undefined]>) {
      if (v === undefined) continue;
      if (!d.matches.includes(k)) bad(`may not match ${k}`);
      if (k === 'arp' || k === 'icmp6') {
        const [type, proto] = PROTOCOLS[k as 'arp' | 'icmp6'];
        setSlot(match, 'dl_type', type, 0xffffn);
        if (proto !== undefined) setSlot(match, 'nw_proto', proto, 0xffn);
        continue;
      }
      const field = MATCH_FIELDS.get(k)!;
      const { value, mask } = typeof v === 'number' ? { value: BigInt(v), mask: undefined } : parseFieldValue(field, String(v));
      setField(match, field, value, mask);
    }
    const ctx = { vlan: (match.get('vlan_tci')?.value ?? 0n) >= 0x1000n };
    const apply: Action[] = [];
    let gotoTable: number | undefined;
    for (const a of spec.actions) {
      if ('goto' in a) {
        this.mayNext(a.goto, bad);
        gotoTable = a.goto;
      } else {
        apply.push(...this.actions(a, ctx, bad));
      }
    }
    const flow: FlowModMessage = {
      type: 'flow_mod', command: OFPFC_ADD, table: d.id, priority: spec.priority, cookie: spec.cookie ?? 0n, cookieMask: 0n,
      idleTimeout: 0, hardTimeout: spec.hardTimeout ?? 0, flags: 0, importance: 0, bufferId: OFP_NO_BUFFER,
      outPort: OFPP_NONE, outGroup: OFPG_ANY, match, instructions: gotoTable === undefined ? { apply } : { apply, gotoTable },
    };
    return { table: d.id, flow };
  }

  private mayNext(n: number, bad: (what: string) => never): void {
    if (!(this.decl.next as readonly number[]).includes(n)) bad(`may not continue to table ${n}`);
  }

  private actions(a: ActionSpec<S, N>, ctx: { vlan: boolean }, bad: (what: string) => never): Action[] {
    const d = this.decl;
    const mayOutput = (c: PortClass): void => {
      if (!d.outputs?.includes(c)) bad(`may not output to a ${c} port`);
    };
    const output = (port: number): Action => ({ type: 'output', port, maxLen: 0 });
    if ('goto' in a) return [];
    if ('resubmit' in a) {
      this.mayNext(a.resubmit, bad);
      return [{ type: 'resubmit', inPort: OFPP_IN_PORT, table: a.resubmit, form: 'table' }];
    }
    if ('outputs' in a) return mayOutput(a.to), a.outputs.map(output);
    if ('output' in a) return mayOutput(a.to), [output(a.output)];
    if ('inPort' in a) return mayOutput('in_port'), [output(OFPP_IN_PORT)];
    if ('normal' in a) return mayOutput('normal'), [output(OFPP_NORMAL)];
    if ('drop' in a) return [];
    if ('learn' in a) {
      if (!d.learnsInto?.includes(a.into)) bad(`may not learn into table ${a.into}`);
      let learn = learnCache.get(a.learn);
      if (!learn) learnCache.set(a.learn, (learn = parseLearn(a.learn)));
      return [{ type: 'learn', learn }];
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
    let move = moveCache.get(a.move);
    if (!move) moveCache.set(a.move, (move = parseMove(a.move)));
    return [move];
  }
}

/** Declares a table; `const` type parameters keep the declared fields and targets as literal types. */
export function table<const M extends MatchKey, const S extends SetKey, const N extends number>(
  decl: TableDecl<M, S, N>,
): Table<M, S, N> {
  return new Table(decl);
}
