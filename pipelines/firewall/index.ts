// Neutron's OVS firewall (firewall_driver = openvswitch) in br-int: tables 60 (its per-port part),
// 71-73, 81-82 and 91-94, as Neutron 21's agent installs them. A protected port (port security on,
// not a trusted `network:*` port) gets the base flows and its security groups' rules; any other
// port is let through its egress side unfiltered, as Neutron's `_initialize_egress_no_port_security`.
import { FirewallState, HostState, isProtected, LocalNetwork, LocalPort } from '../../lib/state/host-state.js';
import { memoPer } from '../memo.js';
import type { PipelineFlow } from '../table.js';
import { filteredPortFlows, fixedFlows, unfilteredPortFlows } from './base.js';
import { ruleFlow } from './rule-flows.js';
import { networkMemberFlowSpecs, portFlowSpecs, RulePort } from './rules.js';

export function firewallFlows(s: HostState, cookie: bigint, out: PipelineFlow[]): void {
  const rules = s.firewall ? rulesOf(s.firewall, s.localPorts, cookie) : undefined;
  let anyFiltered = false;
  for (const p of s.localPorts) {
    if (isProtected(p)) {
      anyFiltered = true;
      for (const f of filteredPortFlows(p, cookie)) out.push(f);
      if (rules) for (const f of portRuleFlows(p, rules)) out.push(f);
    } else {
      for (const f of unfilteredPortFlows(p, cookie)) out.push(f);
    }
  }
  if (rules) for (const n of s.networks) for (const f of memberFlows(n, rules)) out.push(f);
  for (const f of fixedFlows(cookie, anyFiltered)) out.push(f);
}

/** What the rule flows of one render follow from: the groups, the protected ports, the conjunction ids. */
interface Rules {
  readonly firewall: FirewallState;
  readonly cookie: bigint;
  readonly ports: ReadonlyMap<LocalPort, RulePort>;
  /** Conjunction id bases by conjKey: the host state's (allocated there, stable across restarts). */
  readonly bases: ReadonlyMap<string, number>;
}

/**
 * One Rules per firewall state, local ports and cookie (each kept by the host state while unchanged),
 * so that the per-port and per-network builders below find their flows by identity.
 */
function rulesOf(firewall: FirewallState, localPorts: readonly LocalPort[], cookie: bigint): Rules {
  let byPorts = rulesCache.get(firewall);
  if (!byPorts) rulesCache.set(firewall, (byPorts = new WeakMap()));
  const was = byPorts.get(localPorts);
  if (was?.cookie === cookie) return was;
  const ports = new Map<LocalPort, RulePort>();
  for (const p of localPorts) {
    if (!isProtected(p)) continue;
    ports.set(p, { ofport: p.ofport, groups: p.securityGroups.map((id) => firewall.groups.get(id)!) });
  }
  const rules: Rules = { firewall, cookie, ports, bases: firewall.conjBases };
  byPorts.set(localPorts, rules);
  return rules;
}
const rulesCache = new WeakMap<FirewallState, WeakMap<readonly LocalPort[], Rules>>();

// Tables 72/82: a protected port's rules (plain ones, and its half of the remote-group conjunctions).
const portRuleFlows = memoPer((p: LocalPort, r: Rules): PipelineFlow[] =>
  portFlowSpecs(r.ports.get(p)!, r.bases).map((spec) => ruleFlow(spec, r.cookie)));

// Tables 72/82: the other half of the conjunctions, per network: the remote groups' member addresses.
const memberFlows = memoPer((n: LocalNetwork, r: Rules): PipelineFlow[] => {
  const onNetwork = [...r.ports].filter(([p]) => p.network === n.id).map(([, rp]) => rp);
  return networkMemberFlowSpecs(n.vlan, onNetwork, r.firewall.members, r.bases).map((spec) => ruleFlow(spec, r.cookie));
});
