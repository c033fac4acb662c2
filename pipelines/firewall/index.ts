// Neutron's OVS firewall (firewall_driver = openvswitch) in br-int: tables 60 (its per-port part),
// 71-73, 81-82 and 91-94, as Neutron 21's agent installs them. A protected port (port security on,
// not a trusted `network:*` port) gets the base flows and its security groups' rules; any other
// port is let through its egress side unfiltered, as Neutron's `_initialize_egress_no_port_security`.
import { FirewallState, HostState, isProtected, LocalNetwork, LocalPort } from '../../lib/state/host-state.js';
import { objectId } from '../memo.js';
import type { PipelineFlow } from '../table.js';
import { filteredPortFlows, fixedFlows, unfilteredPortFlows } from './base.js';
import { ruleFlow } from './rule-flows.js';
import { conjKeysOf, memberUse, portFlowSpecs, RuleFlowSpec, RulePort, specKey } from './rules.js';
import { MemberFamily } from './members.js';
import { FlowFamily, FlowListFamily } from '../../lib/flowset/family.js';

/**
 * Appends br-int's firewall flows to `out`; with `families`, each port's flows and each network's
 * member flows go there as one flow family each (the controller's reconciler keeps them so: an
 * event then costs what it changes, not a pass over every flow), else into `out` too.
 */
export function firewallFlows(s: HostState, cookie: bigint, out: PipelineFlow[], families?: FlowFamily[]): void {
  const rules = s.firewall ? rulesOf(s.firewall, s.localPorts, cookie) : undefined;
  let anyFiltered = false;
  for (const p of s.localPorts) {
    const protect = isProtected(p);
    anyFiltered ||= protect;
    const base = protect ? filteredPortFlows(p, cookie) : unfilteredPortFlows(p, cookie);
    const ruleFlows = protect && rules ? portRuleFlows(p, rules) : NO_FLOWS;
    if (families) families.push(portFamily(p, base, ruleFlows));
    else {
      for (const f of base) out.push(f);
      for (const f of ruleFlows) out.push(f);
    }
  }
  if (rules) {
    for (const n of s.networks) {
      const family = memberFamily(n, rules);
      if (!family) continue;
      if (families) families.push(family);
      else for (const f of family.pipelineFlows()) out.push(f);
    }
  }
  for (const f of fixedFlows(cookie, anyFiltered)) out.push(f);
}

const NO_FLOWS: readonly PipelineFlow[] = [];

/** A port's firewall flows (base and rules) as one flow family, the same object while both lists are. */
function portFamily(p: LocalPort, base: readonly PipelineFlow[], ruleFlows: readonly PipelineFlow[]): FlowListFamily {
  const was = portFamilies.get(base);
  if (was?.rules === ruleFlows) return was.family;
  const family = new FlowListFamily(`firewall port ${p.id}`, [...base, ...ruleFlows].map((f) => f.flow));
  portFamilies.set(base, { rules: ruleFlows, family });
  return family;
}
const portFamilies = new WeakMap<readonly PipelineFlow[], { rules: readonly PipelineFlow[]; family: FlowListFamily }>();

/** What the rule flows of one render follow from: the groups, the protected ports, the conjunction ids. */
interface Rules {
  readonly firewall: FirewallState;
  readonly cookie: bigint;
  readonly ports: ReadonlyMap<LocalPort, ProtectedPort>;
  /** The protected ports of each network (by network id). */
  readonly byNetwork: ReadonlyMap<string, readonly ProtectedPort[]>;
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
  const ports = new Map<LocalPort, ProtectedPort>();
  const byNetwork = new Map<string, ProtectedPort[]>();
  for (const p of localPorts) {
    if (!isProtected(p)) continue;
    const groups = p.securityGroups.map((id) => firewall.groups.get(id)!);
    const rp: ProtectedPort = { ofport: p.ofport, groups, set: groupSetOf(groups) };
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
// value. Each port and network keeps its latest key and result (a WeakMap: as long as its record lives).

/** A protected port, with what its group set implies (worked out once per set, not per port). */
interface ProtectedPort extends RulePort {
  readonly set: GroupSet;
}

/** What a set of group records implies, whichever ports have it: their conjunction keys and remote-group rules. */
interface GroupSet {
  /** The group records (by identity). */
  readonly key: string;
  readonly conjKeys: readonly string[];
  /** Every remote-group rule of the groups, by value (a group's other rules do not count). */
  readonly remoteRules: string;
  /** The remote groups they name, once each. */
  readonly remotes: readonly string[];
}
const groupSets = new Map<string, GroupSet>();
const GROUP_SETS_MAX = 1024;

function groupSetOf(groups: RulePort['groups']): GroupSet {
  const key = groups.map((g) => objectId(g)).join(',');
  let set = groupSets.get(key);
  if (!set) {
    let remoteRules = '';
    const remotes = new Set<string>();
    for (const g of groups) {
      for (const x of g.rules) {
        if (x.remoteGroupId === undefined) continue;
        remoteRules += `|${g.id} ${x.direction} ${x.ethertype} ${x.protocol} ${x.portRangeMin} ${x.portRangeMax} ${x.remoteGroupId}`;
        remotes.add(x.remoteGroupId);
      }
    }
    if (groupSets.size >= GROUP_SETS_MAX) groupSets.clear();
    groupSets.set(key, (set = { key, conjKeys: conjKeysOf({ ofport: 0, groups }), remoteRules, remotes: [...remotes] }));
  }
  return set;
}

/** A port's groups and their conjunction bases: all of a port's rule flows but its ofport (its LocalPort's). */
function portKey(rp: ProtectedPort, r: Rules): string {
  let k = `${r.cookie}|${rp.set.key}`;
  for (const c of rp.set.conjKeys) k += `|${r.bases.get(c)}`;
  return k;
}


// Tables 72/82: a protected port's rules (plain ones, and its half of the remote-group conjunctions).
// Ports with the same groups have the same specs but for their ofport: built once per port key, as a
// template. A port whose key changed (a rule added to one of its groups) keeps the flow objects of
// the template specs it had (only the new rule's flows are built, and the reconciler finds the rest
// unchanged by object: at 500 ports in the group, rebuilding every flow cost ~0.3 s an event).

/** The spec of every rule flow of the ports of one key, their port left out, and each spec's text. */
interface Template {
  readonly specs: readonly RuleFlowSpec[];
  readonly keys: readonly string[];
}
const TEMPLATE_PORT = -1;
const templates = new Map<string, Template>();
const TEMPLATES_MAX = 256;

function templateOf(key: string, rp: ProtectedPort, r: Rules): Template {
  let t = templates.get(key);
  if (!t) {
    const specs = portFlowSpecs({ ofport: TEMPLATE_PORT, groups: rp.groups }, r.bases);
    if (templates.size >= TEMPLATES_MAX) templates.clear();
    templates.set(key, (t = { specs, keys: specs.map(specKey) }));
  }
  return t;
}

interface PortRules {
  readonly key: string;
  readonly cookie: bigint;
  readonly template: Template;
  readonly flows: readonly PipelineFlow[];
}
const portRules = new WeakMap<LocalPort, PortRules>();

/**
 * Where each spec of `to` was in `from` (-1: new), worked out once per pair of templates: every
 * port that goes from one to the other reuses its flows by index, with no lookup of its own.
 */
function remap(from: Template, to: Template): Int32Array {
  const last = remaps.get(from);
  if (last?.to === to) return last.at;
  const index = new Map(from.keys.map((k, i) => [k, i]));
  const at = Int32Array.from(to.keys, (k) => index.get(k) ?? -1);
  remaps.set(from, { to, at });
  return at;
}
const remaps = new WeakMap<Template, { readonly to: Template; readonly at: Int32Array }>();

function portRuleFlows(p: LocalPort, r: Rules): readonly PipelineFlow[] {
  const rp = r.ports.get(p)!;
  const key = portKey(rp, r);
  const was = portRules.get(p);
  if (was?.key === key) return was.flows;
  const t = templateOf(key, rp, r);
  const at = was?.cookie === r.cookie ? remap(was.template, t) : undefined;
  const flows = t.specs.map((spec, i) => {
    const j = at ? at[i]! : -1;
    return j >= 0 ? was!.flows[j]! : ruleFlow({ ...spec, port: p.ofport }, r.cookie);
  });
  portRules.set(p, { key, cookie: r.cookie, template: t, flows });
  return flows;
}

// Tables 72/82: the other half of the conjunctions, per network: the remote groups' member addresses,
// as a flow family (undefined: the network's ports name no remote group).
const memberFamilies = new WeakMap<LocalNetwork, { readonly key: string; readonly family: MemberFamily | undefined }>();

function memberFamily(n: LocalNetwork, r: Rules): MemberFamily | undefined {
  const on = r.byNetwork.get(n.id) ?? [];
  // The remote-group rules of the network's ports (by value: a group's other rules do not count),
  // their conjunction bases, and the members of each remote group they name.
  let k = `${n.vlan}|${r.cookie}`;
  for (const rp of on) {
    k += `/${rp.set.remoteRules}`;
    for (const remote of rp.set.remotes) k += ` ${remote}=${objectId(r.firewall.members.get(remote) ?? NONE)}`;
    for (const c of rp.set.conjKeys) k += `|${r.bases.get(c)}`;
  }
  const was = memberFamilies.get(n);
  if (was?.key === k) return was.family;
  const use = memberUse(on, r.bases);
  const family = use.length ? new MemberFamily(`firewall members ${n.id}`, n.vlan, r.cookie, use, r.firewall.members) : undefined;
  memberFamilies.set(n, { key: k, family });
  return family;
}
const NONE = {};
