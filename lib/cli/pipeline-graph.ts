// ofctl-ts pipeline graph [--profile neutron|classic] [--bridge br-tun|br-int] [--format mermaid|dot|svg]
//   [--l2pop] [--arp-responder] [--firewall noop|openvswitch]
// Draws a pipeline as a representative host renders it (neutron: three-hosts h1, or with the
// openvswitch firewall neutron-sg-remote-group's compute host, whose rules use every firewall
// table and conjunctions; classic: the seed's compute host): tables as boxes, continuations as labelled arrows. svg runs Graphviz's `dot -Tsvg`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PipelineGraph, pipelineGraph, toDot, toMermaid } from '../../pipelines/graph.js';
import type { BridgeName } from '../../pipelines/index.js';
import { FirewallDriver, pipelineOptions, Profile } from '../../pipelines/options.js';
import { deriveHostState } from '../state/host-state.js';
import { readTopology } from '../topology/model.js';
import { EXIT_OK } from './common.js';

export type GraphFormat = 'mermaid' | 'dot' | 'svg';

export interface PipelineGraphArgs {
  readonly profile: Profile;
  readonly bridge: BridgeName;
  readonly format: GraphFormat;
  readonly l2pop: boolean;
  readonly arpResponder: boolean;
  readonly firewall?: FirewallDriver;
}

/** The host each profile is drawn from: a fixture topology and one of its hosts. */
const REPRESENTATIVE: Readonly<Record<Profile, { readonly topology: string; readonly host: string }>> = {
  neutron: { topology: 'three-hosts.jsonl', host: 'h1' },
  classic: { topology: 'seed-003.jsonl', host: 'compute' },
};

// From dist/lib/cli/ (compiled) to the repository's fixtures.
const TOPOLOGIES = fileURLToPath(new URL('../../../fixtures/topologies/', import.meta.url));

const FIREWALL_REPRESENTATIVE = { topology: 'neutron-sg-remote-group.jsonl', host: 'compute' };

export function graphFor(a: Omit<PipelineGraphArgs, 'format'>): PipelineGraph {
  const firewall = a.firewall ?? 'noop';
  const rep = firewall === 'openvswitch' && a.profile === 'neutron' ? FIREWALL_REPRESENTATIVE : REPRESENTATIVE[a.profile];
  const state = deriveHostState(readTopology(`${TOPOLOGIES}${rep.topology}`), rep.host);
  return pipelineGraph(state, a.bridge, pipelineOptions({ profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall }));
}

/** Graphviz renders the dot text; a clear error when it is not installed. */
function dotToSvg(dot: string): string {
  const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('install graphviz (apt-get install graphviz) for --format svg');
    throw r.error;
  }
  if (r.status !== 0) throw new Error(`dot -Tsvg failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export function pipelineGraphCommand(a: PipelineGraphArgs, out: (s: string) => void): number {
  const g = graphFor(a);
  out(a.format === 'mermaid' ? toMermaid(g) : a.format === 'dot' ? toDot(g) : dotToSvg(toDot(g)));
  return EXIT_OK;
}
