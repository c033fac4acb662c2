// Typed table declarations. A table says what its flows may match, what they may set, which tables
// they may continue to (goto/resubmit), which table they may learn into and which port classes they
// may output to. A flow built through `table.flow()` is checked against that declaration: at compile
// time (literal types) and again at run time, so computed specs fail with the table and field named.
import { parseFlow } from '../codecs/ofctl/parse-flow.js';
import type { FlowModMessage } from '../codecs/openflow/messages.js';

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

export type Action<S extends SetKey, N extends number> =
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
  | { readonly setField: string; readonly set: S }
  | { readonly move: string; readonly set: S }
  | { readonly learn: string; readonly into: number };

export interface FlowSpec<M extends MatchKey, S extends SetKey, N extends number> {
  readonly priority: number;
  readonly match?: { readonly [K in M]?: MatchValue };
  readonly actions: readonly Action<S, N>[];
  readonly cookie?: bigint;
  readonly hardTimeout?: number;
}

/** A flow of a pipeline: its text (ovs-ofctl syntax) and the parsed flow-mod. */
export interface PipelineFlow {
  readonly table: number;
  readonly text: string;
  readonly flow: FlowModMessage;
}

export class PipelineError extends Error {}

const MATCH_ORDER: readonly MatchKey[] = ['arp', 'icmp6', 'in_port', 'tun_id', 'dl_vlan', 'vlan_tci', 'dl_src', 'dl_dst',
  'icmp_type', 'arp_spa', 'arp_tpa', 'nd_target'];

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
    const parts: string[] = [`table=${d.id}`];
    if (spec.cookie) parts.push(`cookie=0x${spec.cookie.toString(16)}`);
    if (spec.hardTimeout) parts.push(`hard_timeout=${spec.hardTimeout}`);
    parts.push(`priority=${spec.priority}`);
    const match = spec.match ?? {};
    for (const k of Object.keys(match) as M[]) if (!d.matches.includes(k)) bad(`may not match ${k}`);
    for (const k of MATCH_ORDER) {
      const v = (match as Record<string, MatchValue | undefined>)[k];
      if (v === undefined) continue;
      parts.push(v === true ? k : `${k}=${typeof v === 'number' && k === 'tun_id' ? `0x${v.toString(16)}` : v}`);
    }
    const actions = spec.actions.map((a) => this.actionText(a, bad));
    const text = `${parts.join(',')} actions=${actions.length ? actions.join(',') : 'drop'}`;
    return { table: d.id, text, flow: parseFlow(text) };
  }

  private actionText(a: Action<S, N>, bad: (what: string) => never): string {
    const d = this.decl;
    const mayNext = (n: number): void => {
      if (!(d.next as readonly number[]).includes(n)) bad(`may not continue to table ${n}`);
    };
    const maySet = (s: SetKey): void => {
      if (!(d.sets as readonly SetKey[]).includes(s)) bad(`may not set ${s}`);
    };
    const mayOutput = (c: PortClass): void => {
      if (!d.outputs?.includes(c)) bad(`may not output to a ${c} port`);
    };
    if ('goto' in a) return mayNext(a.goto), `goto_table:${a.goto}`;
    if ('resubmit' in a) return mayNext(a.resubmit), `resubmit(,${a.resubmit})`;
    if ('outputs' in a) return mayOutput(a.to), a.outputs.map((p) => `output:${p}`).join(',');
    if ('output' in a) return mayOutput(a.to), `output:${a.output}`;
    if ('inPort' in a) return mayOutput('in_port'), 'IN_PORT';
    if ('normal' in a) return mayOutput('normal'), 'NORMAL';
    if ('drop' in a) return 'drop';
    if ('learn' in a) {
      if (!d.learnsInto?.includes(a.into)) bad(`may not learn into table ${a.into}`);
      return `learn(${a.learn})`;
    }
    maySet(a.set);
    if ('pushVlan' in a) return `push_vlan:0x8100,set_field:${4096 + a.pushVlan}->vlan_vid`;
    if ('modVlanVid' in a) return `mod_vlan_vid:${a.modVlanVid}`;
    if ('popVlan' in a) return a.spelling ?? 'pop_vlan';
    if ('setTunnel' in a) return a.spelling === 'set_tunnel' ? `set_tunnel:0x${a.setTunnel.toString(16)}` : `set_field:0x${a.setTunnel.toString(16)}->tun_id`;
    if ('setField' in a) return `set_field:${a.setField}`;
    return `move:${a.move}`;
  }
}

/** Declares a table; `const` type parameters keep the declared fields and targets as literal types. */
export function table<const M extends MatchKey, const S extends SetKey, const N extends number>(
  decl: TableDecl<M, S, N>,
): Table<M, S, N> {
  return new Table(decl);
}
