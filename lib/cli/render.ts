// ofctl-ts render --topology FILE --host NAME [--bridge br-tun|br-int] [--profile neutron|classic]
//   [--l2pop] [--arp-responder] [--firewall noop|openvswitch] [--controller-id ID]
// Prints the flows a host should hold, without touching OVS, exactly as
// `ovs-ofctl -O OpenFlow13 --no-names dump-flows --no-stats BRIDGE | LC_ALL=C sort` would print them,
// so `ofctl-ts render … > want.flows && ofctl-ts dump-flows br-tun --diff want.flows` audits a host.
import { BridgeName, renderText } from '../../pipelines/index.js';
import { FirewallDriver, pipelineOptions, Profile } from '../../pipelines/options.js';
import { deriveHostState } from '../state/host-state.js';
import { readTopology } from '../topology/model.js';
import { EXIT_OK } from './common.js';

export interface RenderArgs {
  readonly topology: string;
  readonly host: string;
  readonly bridge: BridgeName;
  readonly profile: Profile;
  readonly l2pop: boolean;
  readonly arpResponder: boolean;
  /** Default noop. */
  readonly firewall?: FirewallDriver;
  readonly controllerId?: string;
}

export function renderCommand(a: RenderArgs, out: (s: string) => void): number {
  const topo = readTopology(a.topology);
  const state = deriveHostState(topo, a.host);
  for (const e of state.errors) process.stderr.write(`ofctl-ts: render: ${e}\n`);
  const opts = pipelineOptions({
    profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall: a.firewall ?? 'noop', ...(a.controllerId ? { controllerId: a.controllerId } : {}),
  });
  out(renderText(state, a.bridge, opts).join('\n'));
  return EXIT_OK;
}
