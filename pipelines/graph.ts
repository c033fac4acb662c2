// The drawn pipeline: tables as boxes, continuations as labelled arrows. Pure: the edges come from the
// flows a pipeline really renders for a host (so each profile shows what it installs), the box labels
// from the table declarations. Text out: Mermaid (`flowchart LR`) and Graphviz dot.
import type { Action } from '../codecs/actions/index.js';
import { formatSubfield } from '../codecs/ofctl/subfield.js';
import { PORT_NAMES } from '../codecs/openflow/ports.js';
import type { HostState } from '../lib/state/host-state.js';
import { BR_INT } from './br-int.js';
import { BR_TUN } from './br-tun.js';
import { BridgeName, renderPipeline } from './index.js';
import type { PipelineOptions } from './options.js';
import type { PipelineFlow } from './table.js';

export type EdgeLabel = 'goto' | 'resubmit' | 'learn' | 'output' | 'ct';

export interface GraphNode {
  /** A table's id as text ("4"), or a terminal's name ("patch-int", "tunnels", "IN_PORT", "NORMAL"). */
  readonly key: string;
  readonly kind: 'table' | 'terminal';
  /** Lines of the box: `4 VXLAN_TUN_TO_LV` and the table's purpose. */
  readonly lines: readonly string[];
}

export interface GraphEdge {
  readonly from: number;
  /** A node key. */
  readonly to: string;
  readonly label: EdgeLabel;
}

export interface PipelineGraph {
  readonly title: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const DECLS: Readonly<Record<BridgeName, ReadonlyMap<number, { readonly name: string; readonly purpose: string }>>> = {
  'br-tun': new Map(Object.values(BR_TUN).map((t) => [t.decl.id, t.decl])),
  'br-int': new Map(Object.values(BR_INT).map((t) => [t.decl.id, t.decl])),
};

/** The graph of what `renderPipeline(s, bridge, o)` installs. */
export function pipelineGraph(s: HostState, bridge: BridgeName, o: PipelineOptions): PipelineGraph {
  return graphOfFlows(renderPipeline(s, bridge, o), bridge, s, `${bridge} (${o.profile})`);
}

/** Port classes of a bridge's outputs: its patch port, the tunnels (br-tun), the VM ports (br-int). */
function portClass(port: number, bridge: BridgeName, s: HostState): string {
  if (bridge === 'br-tun') {
    if (port === s.patchIntOfport) return 'patch-int';
    if (s.tunnels.some((t) => t.ofport === port)) return 'tunnels';
  } else {
    if (port === s.patchTunOfport) return 'patch-tun';
    if (s.localPorts.some((p) => p.ofport === port)) return 'VM ports';
  }
  return PORT_NAMES.get(port) ?? `port ${port}`; // IN_PORT, NORMAL, LOCAL, ...
}

export function graphOfFlows(flows: readonly PipelineFlow[], bridge: BridgeName, s: HostState, title: string): PipelineGraph {
  const edges = new Map<string, GraphEdge>();
  const add = (from: number, to: string, label: EdgeLabel): void => {
    edges.set(`${from}\0${to}\0${label}`, { from, to, label });
  };
  const tables = new Set<number>();
  for (const { table, flow } of flows) {
    tables.add(table);
    const ins = flow.instructions;
    const actions: readonly Action[] = [...ins.apply, ...(ins.write ?? [])];
    for (const a of actions) {
      if (a.type === 'resubmit') add(table, String(a.table === 255 ? table : a.table), 'resubmit');
      else if (a.type === 'ct' && a.table !== 255) add(table, String(a.table), 'ct');
      else if (a.type === 'learn') add(table, String(a.learn.table), 'learn');
      else if (a.type === 'output') add(table, portClass(a.port, bridge, s), 'output');
      else if (a.type === 'output_reg') add(table, formatSubfield(a.src), 'output');
    }
    if (ins.gotoTable !== undefined) add(table, String(ins.gotoTable), 'goto');
  }
  // Boxes: every table with a flow, and every table an arrow reaches (so no arrow ends in nothing).
  const isTable = (k: string): boolean => /^\d+$/.test(k);
  for (const e of edges.values()) if (isTable(e.to)) tables.add(Number(e.to));
  const decls = DECLS[bridge];
  const nodes: GraphNode[] = [...tables].sort((a, b) => a - b).map((id) => {
    const d = decls.get(id);
    return { key: String(id), kind: 'table', lines: d ? [`${id} ${d.name}`, d.purpose] : [String(id)] };
  });
  const terminals = [...new Set([...edges.values()].map((e) => e.to).filter((k) => !isTable(k)))];
  nodes.push(...terminals.map((key): GraphNode => ({ key, kind: 'terminal', lines: [key] })));
  const rank = new Map(nodes.map((n, i) => [n.key, i]));
  const sorted = [...edges.values()].sort((a, b) => a.from - b.from || rank.get(a.to)! - rank.get(b.to)! || (a.label < b.label ? -1 : 1));
  return { title, nodes, edges: sorted };
}

/** `0->2 goto`, `10->patch-int output`: one line per edge, handy to read and to test. */
export function edgeList(g: PipelineGraph): string[] {
  return g.edges.map((e) => `${e.from}->${e.to} ${e.label}`);
}

/** A node key as an identifier both Mermaid and dot accept: `t4`, `patch_int`, `VM_ports`. */
export function nodeId(key: string): string {
  return /^\d+$/.test(key) ? `t${key}` : `p_${key.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export function toMermaid(g: PipelineGraph): string {
  const esc = (s: string): string => s.replace(/"/g, '#quot;');
  const lines = ['flowchart LR', `  %% ${g.title}`];
  for (const n of g.nodes) {
    const text = `"${n.lines.map(esc).join('<br/>')}"`;
    lines.push(`  ${nodeId(n.key)}${n.kind === 'table' ? `[${text}]` : `([${text}])`}`);
  }
  for (const e of g.edges) {
    lines.push(`  ${nodeId(String(e.from))} ${e.label === 'learn' ? '-.->' : '-->'}|${e.label}| ${nodeId(e.to)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function toDot(g: PipelineGraph): string {
  const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [
    `digraph ${q(g.title)} {`,
    '  rankdir=LR;',
    `  label=${q(g.title)}; labelloc=t; fontname="Helvetica";`,
    '  node [shape=box, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const n of g.nodes) {
    // dot's own "\n" line break: joined after quoting, so it is not escaped.
    const label = n.lines.map((l) => q(l).slice(1, -1)).join('\\n');
    const shape = n.kind === 'terminal' ? ', shape=ellipse, style=filled, fillcolor="#eeeeee"' : '';
    lines.push(`  ${nodeId(n.key)} [label="${label}"${shape}];`);
  }
  for (const e of g.edges) {
    lines.push(`  ${nodeId(String(e.from))} -> ${nodeId(e.to)} [label=${q(e.label)}${e.label === 'learn' ? ', style=dashed' : ''}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
