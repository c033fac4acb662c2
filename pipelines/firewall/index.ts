// Neutron's OVS firewall (firewall_driver = openvswitch) in br-int: tables 60 (its per-port part),
// 71-73, 81-82 and 91-94, as Neutron 21's agent installs them. A protected port (port security on,
// not a trusted `network:*` port) gets the base flows and its security groups' rules; any other
// port is let through its egress side unfiltered, as Neutron's `_initialize_egress_no_port_security`.
import { FirewallState, HostState, isProtected, LocalNetwork, LocalPort } from '../../lib/state/host-state.js';
import { memoLatest, objectId } from '../memo.js';
import type { PipelineFlow } from '../table.js';
import { filteredPortFlows, fixedFlows, unfilteredPortFlows } from './base.js';
import { ruleFlow } from './rule-flows.js';
import { conjKeysOf, networkMemberFlowSpecs, portFlowSpecs, RulePort } from './rules.js';

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
  /** The protected ports of each network (by network id). */
  readonly byNetwork: ReadonlyMap<string, readonly RulePort[]>;
  /** Conjunction id bases by conjKey: the host state's (allocated there, stable across restarts). */
  readonly bases: ReadonlyMap<string, number>;
}

/**
 * One Rules per firewall state, local ports and cookie (each kept by the host state while unchanged).
 */
function rulesOf(firewall: FirewallState, localPorts: readonly LocalPort[], cookie: bigint): Rules {
  let byPorts = rulesCache.get(firewall);
  if (!byPorts) rulesCache.set(firewall, (byPorts = new WeakMap()));
  const was = byPorts.get(localPorts);
  if (was?.cookie === cookie) return was;
  const ports = new Map<LocalPort, RulePort>();
  const byNetwork = new Map<string, RulePort[]>();
  for (const p of localPorts) {
    if (!isProtected(p)) continue;
    const rp: RulePort = { ofport: p.ofport, groups: p.securityGroups.map((id) => firewall.groups.get(id)!) };
    ports.set(p, rp);
    const on = byNetwork.get(p.network);
    if (on) on.push(rp);
    else byNetwork.set(p.network, [rp]);
  }
  const rules: Rules = { firewall, cookie, ports, byNetwork, bases: firewall.conjBases };
  byPorts.set(localPorts, rules);
  return rules;
}
const rulesCache = new WeakMap<FirewallState, WeakMap<readonly LocalPort[], Rules>>();

// The flows of a port or a network are remembered by what they follow from, not by the Rules of the
// render: one group's rule or one member changed gives a new firewall state, and only the ports in
// that group, or the networks matching its members, build their flows again (at 1000 networks x 500
// members, rebuilding them all was ~1M flows an event). The key names each input: groups and member
// lists by identity (the host state keeps them while unchanged), conjunction bases and the cookie by
// value; `building` hands the rest to the builder.

/** A port's groups and their conjunction bases: all of a port's rule flows but its ofport (its LocalPort's). */
function portKey(rp: RulePort, r: Rules): string {
  let k = `${r.cookie}`;
  for (const g of rp.groups) k += `|${objectId(g)}`;
  for (const c of conjKeysOf(rp)) k += `|${r.bases.get(c)}`;
  return k;
}

let building: Rules | undefined;

// Tables 72/82: a protected port's rules (plain ones, and its half of the remote-group conjunctions).
const portRules = memoLatest((p: LocalPort, _key: string): PipelineFlow[] =>
  portFlowSpecs(building!.ports.get(p)!, building!.bases).map((spec) => ruleFlow(spec, building!.cookie)));

function portRuleFlows(p: LocalPort, r: Rules): PipelineFlow[] {
  building = r;
  return portRules(p, portKey(r.ports.get(p)!, r));
}

// Tables 72/82: the other half of the conjunctions, per network: the remote groups' member addresses.
const networkMembers = memoLatest((n: LocalNetwork, _key: string): PipelineFlow[] => {
  const r = building!;
  return networkMemberFlowSpecs(n.vlan, r.byNetwork.get(n.id) ?? [], r.firewall.members, r.bases).map((spec) => ruleFlow(spec, r.cookie));
});

function memberFlows(n: LocalNetwork, r: Rules): PipelineFlow[] {
  const on = r.byNetwork.get(n.id) ?? [];
  // The remote-group rules of the network's ports (by value: a group's other rules do not count),
  // their conjunction bases, and the members of each remote group they name.
  let k = `${r.cookie}`;
  for (const rp of on) {
    k += '/';
    for (const g of rp.groups) {
      for (const x of g.rules) {
        if (x.remoteGroupId === undefined) continue;
        k += `|${g.id} ${x.direction} ${x.ethertype} ${x.protocol} ${x.portRangeMin} ${x.portRangeMax} ${x.remoteGroupId} ${objectId(r.firewall.members.get(x.remoteGroupId) ?? NONE)}`;
      }
    }
    for (const c of conjKeysOf(rp)) k += `|${r.bases.get(c)}`;
  }
  building = r;
  return networkMembers(n, k);
}
const NONE = {};
