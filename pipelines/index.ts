// A host's pipelines: a pure function from its state to the flows of br-tun and br-int.
import { formatFlow } from '../codecs/ofctl/format-flow.js';
import type { Flow } from '../codecs/openflow/flow.js';
import type { HostState } from '../lib/state/host-state.js';
import { brIntFlows } from './br-int.js';
import { brTunFlows } from './br-tun.js';
import type { PipelineOptions } from './options.js';
import type { PipelineFlow } from './table.js';
import type { FlowFamily } from '../lib/flowset/family.js';
import type { DesiredFlows } from '../lib/flowset/reconciler.js';

export type BridgeName = 'br-tun' | 'br-int';
export const BRIDGES: readonly BridgeName[] = ['br-tun', 'br-int'];

export function renderPipeline(s: HostState, bridge: BridgeName, o: PipelineOptions): readonly PipelineFlow[] {
  return bridge === 'br-tun' ? brTunFlows(s, o) : brIntFlows(s, o);
}

/** The flows as the switch will hold them (built in canonical form: the golden tests check OVS agrees). */
export function pipelineFlows(s: HostState, bridge: BridgeName, o: PipelineOptions): readonly Flow[] {
  return flowsOf(renderPipeline(s, bridge, o));
}

/** The flows of a rendered list, once per list (br-tun hands back the same list while unchanged). */
function flowsOf(list: readonly PipelineFlow[]): readonly Flow[] {
  let flows = flowLists.get(list);
  if (!flows) flowLists.set(list, (flows = list.map((p) => p.flow)));
  return flows;
}
const flowLists = new WeakMap<readonly PipelineFlow[], readonly Flow[]>();

/**
 * What the controller's reconciler keeps a bridge to: the flows, with per-network and per-port sets
 * as flow families (br-tun's networks; br-int's firewall ports and member flows, the latter never
 * held as flow objects).
 */
export function pipelineDesired(s: HostState, bridge: BridgeName, o: PipelineOptions): DesiredFlows {
  const families: FlowFamily[] = [];
  const flows = flowsOf(bridge === 'br-tun' ? brTunFlows(s, o, families) : brIntFlows(s, o, families));
  return { flows, families };
}

/** One flow's line as `ovs-ofctl dump-flows --no-stats` prints it. */
export const flowLine = (f: Flow): string => ` ${formatFlow(f)}`;

/**
 * Canonical text, sorted as `sort` sorts: what `ovs-ofctl dump-flows --no-stats | sort` prints.
 * `line` may be flowLine memoized (a bench rendering the same flow objects again and again).
 */
export function renderText(s: HostState, bridge: BridgeName, o: PipelineOptions, line: (f: Flow) => string = flowLine): string[] {
  // The default sort compares UTF-16 code units: for this ASCII text, the order of `LC_ALL=C sort`.
  return pipelineFlows(s, bridge, o).map(line).sort();
}

/** `sort` under LC_ALL=C: plain code-unit order. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
