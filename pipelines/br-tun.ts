// br-tun: between br-int (patch-int) and the VXLAN tunnels. Table numbers and flows are Neutron's
// (neutron_lib ovs_constants, br_tun.py); see ../shared/reference/neutron-pipeline.md.
//   0 LOCAL_SWITCHING  from patch-int -> 2, from a tunnel -> 4, else drop
//   2 PATCH_LV_TO_TUN  unicast -> 20, multicast/broadcast -> 22 (ARP broadcast -> 21 with the responder)
//   3/4/6 GRE/VXLAN/GENEVE_TUN_TO_LV  tunnel ID -> local VLAN, then 10
//   10 LEARN_FROM_TUN  learn the reverse path into 20, then to patch-int
//   20 UCAST_TO_TUN    learned (and l2pop) unicast entries, default -> 22
//   21 ARP_RESPONDER   answer ARP for known remote IPs in OVS, default -> 22
//   22 FLOOD_TO_TUN    per local VLAN: strip the VLAN, set the tunnel ID, output to the tunnels
import type { HostState, LocalNetwork, RemotePort } from '../lib/state/host-state.js';
import { memo, memoOf, memoPer } from './memo.js';
import type { PipelineOptions, Profile } from './options.js';
import { PipelineFlow, TableRef, tables } from './table.js';
import { FlowFamily, FlowListFamily } from '../lib/flowset/family.js';

// Adding a table: declare it here under a name (Neutron's number and constant, one line of
// purpose, what its flows may match, set, continue to, learn into and output to) and name it in the
// `next` of the tables that lead to it; flows refer to it as `BR_TUN.<name>`, never by number.
// Then write its function below (one sentence above it on what the table does) out of named,
// memoised builders, one per kind of flow; list it in `brTunFlows` in table order; run
// `npm run goldens` and check the new flows against OVS (test/pipelines/golden-ovs.test.ts).
export const BR_TUN = tables({
  localSwitching: {
    id: 0, name: 'LOCAL_SWITCHING', purpose: 'classify by ingress port', matches: ['in_port'], sets: [], next: ['patchLvToTun', 'vxlanTunToLv'],
  },
  patchLvToTun: {
    id: 2, name: 'PATCH_LV_TO_TUN', purpose: 'split unicast from flooding', matches: ['arp', 'dl_dst'], sets: [],
    next: ['ucastToTun', 'arpResponder', 'floodToTun'],
  },
  greTunToLv: { id: 3, name: 'GRE_TUN_TO_LV', purpose: 'GRE is not used: drop', matches: [], sets: [], next: [] },
  vxlanTunToLv: {
    id: 4, name: 'VXLAN_TUN_TO_LV', purpose: 'tunnel ID to local VLAN', matches: ['tun_id'], sets: ['vlan'], next: ['learnFromTun'],
  },
  geneveTunToLv: { id: 6, name: 'GENEVE_TUN_TO_LV', purpose: 'Geneve is not used: drop', matches: [], sets: [], next: [] },
  learnFromTun: {
    id: 10, name: 'LEARN_FROM_TUN', purpose: 'learn the reverse path, deliver to br-int', matches: [], sets: [], next: [],
    learnsInto: ['ucastToTun'], outputs: ['patch'],
  },
  ucastToTun: {
    id: 20, name: 'UCAST_TO_TUN', purpose: 'known unicast to its tunnel', matches: ['dl_vlan', 'dl_dst', 'vlan_tci'],
    sets: ['vlan', 'tun_id'], next: ['floodToTun'], outputs: ['tunnel'],
  },
  arpResponder: {
    id: 21, name: 'ARP_RESPONDER', purpose: 'answer ARP for remote IPs locally', matches: ['arp', 'dl_vlan', 'arp_tpa'],
    sets: ['arp_op', 'arp_sha', 'arp_tha', 'arp_spa', 'arp_tpa', 'eth_src', 'eth_dst'], next: ['floodToTun'], outputs: ['in_port'],
  },
  floodToTun: {
    id: 22, name: 'FLOOD_TO_TUN', purpose: 'flood a local VLAN to its tunnels', matches: ['dl_vlan'], sets: ['vlan', 'tun_id'],
    next: [], outputs: ['tunnel'],
  },
});
const T = BR_TUN;

/**
 * What a profile spells its own way; otherwise both install the same tables and flows. (Classic
 * flows carry no cookie: its options give it cookie 0.)
 */
interface Dialect {
  /** goto_table, or resubmit. */
  readonly continueTo: <N extends string>(t: TableRef<N>) => { readonly goto: TableRef<N> } | { readonly resubmit: TableRef<N> };
  /** push_vlan + set_field, or mod_vlan_vid. */
  readonly tagVlan: (vlan: number) => { readonly pushVlan: number; readonly set: 'vlan' } | { readonly modVlanVid: number; readonly set: 'vlan' };
  /** Table 6's drop flow. */
  readonly geneve: boolean;
  /** Whether the options' l2pop and ARP responder apply. */
  readonly l2pop: boolean;
  /** The flood flows' priority. */
  readonly floodPriority: number;
  /** How a learned flow names the ingress port it outputs to. */
  readonly learnInPort: string;
}

const DIALECTS: Readonly<Record<Profile, Dialect>> = {
  /** Neutron 2023.1's native OpenFlow driver. */
  neutron: {
    continueTo: (t) => ({ goto: t }), tagVlan: (vlan) => ({ pushVlan: vlan, set: 'vlan' }),
    geneve: true, l2pop: true, floodPriority: 1, learnInPort: 'OXM_OF_IN_PORT[]',
  },
  /** The older ovs-ofctl driver of the seed article; its flood flow has OVS's default priority. */
  classic: {
    continueTo: (t) => ({ resubmit: t }), tagVlan: (vlan) => ({ modVlanVid: vlan, set: 'vlan' }),
    geneve: false, l2pop: false, floodPriority: 0x8000, learnInPort: 'NXM_OF_IN_PORT[]',
  },
};

/** One render's inputs besides the host state. */
interface Render {
  readonly d: Dialect;
  readonly cookie: bigint;
  readonly l2pop: boolean;
  readonly arp: boolean;
}

/** One Render per options object: builders remembered per record and render find it by identity. */
const renderOf = memoOf((o: PipelineOptions): Render => {
  const d = DIALECTS[o.profile];
  const l2pop = d.l2pop && o.l2pop;
  return { d, cookie: o.cookies.brTun, l2pop, arp: l2pop && o.arpResponder };
});

/**
 * br-tun's flows: those every network shares, in table order, then each network's own (its VNI,
 * its remote ports' unicast and ARP entries, its flood list), one memoised list per network. With
 * `families`, each network's list goes there as a flow family (the controller's reconciler keeps
 * them so: an event touching one network compares that network's flows, not 40k), else into the result.
 */
export function brTunFlows(s: HostState, o: PipelineOptions, families?: FlowFamily[]): readonly PipelineFlow[] {
  const r = renderOf(o);
  const common = sharedFlows(s, r);
  if (families) {
    s.networks.forEach((n, i) => families.push(networkFamily(n, s.remotePortsByNetwork[i]!, s.tunnels, r)));
    return common;
  }
  // Rendered once per state parts it follows from, which derivation hands back as the same objects
  // while unchanged: an event that leaves them (a security group's) renders nothing.
  const was = rendered.get(s.remotePortsByNetwork);
  if (was && was.networks === s.networks && was.tunnels === s.tunnels && was.shared === common) return was.flows;
  const flows = [...common];
  s.networks.forEach((n, i) => {
    for (const f of networkFlows(n, s.remotePortsByNetwork[i]!, s.tunnels, r).list) flows.push(f);
  });
  rendered.set(s.remotePortsByNetwork, { networks: s.networks, tunnels: s.tunnels, shared: common, flows });
  return flows;
}
const rendered = new WeakMap<HostState['remotePortsByNetwork'], {
  readonly networks: HostState['networks']; readonly tunnels: HostState['tunnels']; readonly shared: readonly PipelineFlow[];
  readonly flows: readonly PipelineFlow[];
}>();

/** The flows no network owns, table by table (each table's own flows are its network's, below). */
function sharedFlows(s: HostState, r: Render): readonly PipelineFlow[] {
  const was = shared.get(s.tunnels);
  if (was?.r === r && was.patchInt === s.patchIntOfport) return was.flows;
  const out: PipelineFlow[] = [];
  localSwitching(s.patchIntOfport, s.tunnels, r, out);
  patchLvToTun(r, out);
  tunToLv(r, out);
  learnFromTun(s.patchIntOfport, r, out);
  out.push(unknownUnicastToFlood(r.d, r.cookie));
  if (r.arp) out.push(unansweredArpToFlood(r.d, r.cookie));
  out.push(dropTheRest(T.floodToTun, r.cookie));
  shared.set(s.tunnels, { r, patchInt: s.patchIntOfport, flows: out });
  return out;
}
const shared = new WeakMap<HostState['tunnels'], { readonly r: Render; readonly patchInt: number; readonly flows: readonly PipelineFlow[] }>();

/** One network's flows, in table order, and the same as a flow family: remembered per network record. */
interface NetworkFlows {
  readonly remote: readonly RemotePort[];
  readonly tunnels: HostState['tunnels'];
  readonly r: Render;
  readonly list: readonly PipelineFlow[];
  family?: FlowListFamily;
}
const byNetwork = new WeakMap<LocalNetwork, NetworkFlows>();

function networkFlows(n: LocalNetwork, remote: readonly RemotePort[], tunnels: HostState['tunnels'], r: Render): NetworkFlows {
  const was = byNetwork.get(n);
  // With l2pop a network's flows follow its remote ports alone: its flood list goes to the tunnels
  // of their hosts, and a remote port whose tunnel changed is a new object (a new list). A tunnel
  // added for another network (most port adds add one) leaves this network's list as it was.
  if (was && was.remote === remote && (r.l2pop || was.tunnels === tunnels) && was.r === r) return was;
  const list: PipelineFlow[] = [vniToVlan(n, r)];
  ucastToTun(remote, r, list);
  arpResponder(remote, r, list);
  floodToTun(n, remote, tunnels, r, list);
  const made: NetworkFlows = { remote, tunnels, r, list };
  byNetwork.set(n, made);
  return made;
}

function networkFamily(n: LocalNetwork, remote: readonly RemotePort[], tunnels: HostState['tunnels'], r: Render): FlowListFamily {
  const nf = networkFlows(n, remote, tunnels, r);
  return (nf.family ??= new FlowListFamily(`br-tun network ${n.id}`, nf.list.map((p) => p.flow)));
}

/** The last resort of a table (priority 0): drop. */
const dropTheRest = memo((t: { flow(spec: { cookie: bigint; priority: number; actions: readonly [] }): PipelineFlow }, cookie: bigint) =>
  t.flow({ cookie, priority: 0, actions: [] }));

// Table 0 LOCAL_SWITCHING: frames from br-int go out to the tunnels (PATCH_LV_TO_TUN), frames from
// a tunnel go in (VXLAN_TUN_TO_LV), anything else is dropped.
function localSwitching(patchInt: number, tunnels: HostState['tunnels'], { d, cookie }: Render, out: PipelineFlow[]): void {
  out.push(fromPatchInt(d, cookie, patchInt));
  for (const tu of tunnels) out.push(fromTunnel(d, cookie, tu.ofport));
  out.push(dropTheRest(T.localSwitching, cookie));
}
const fromPatchInt = memo((d: Dialect, cookie: bigint, ofport: number) =>
  T.localSwitching.flow({ cookie, priority: 1, match: { in_port: ofport }, actions: [d.continueTo(T.patchLvToTun)] }));
const fromTunnel = memo((d: Dialect, cookie: bigint, ofport: number) =>
  T.localSwitching.flow({ cookie, priority: 1, match: { in_port: ofport }, actions: [d.continueTo(T.vxlanTunToLv)] }));

const UNICAST = '00:00:00:00:00:00/01:00:00:00:00:00';
const MULTICAST = '01:00:00:00:00:00/01:00:00:00:00:00';

// Table 2 PATCH_LV_TO_TUN: unicast to UCAST_TO_TUN, multicast and broadcast to FLOOD_TO_TUN, except
// ARP broadcasts, which the ARP responder (when on) may answer first.
function patchLvToTun({ d, cookie, arp }: Render, out: PipelineFlow[]): void {
  if (arp) out.push(arpBroadcastToResponder(d, cookie));
  out.push(unicastToUcast(d, cookie), multicastToFlood(d, cookie));
}
const arpBroadcastToResponder = memo((d: Dialect, cookie: bigint) => T.patchLvToTun.flow({
  cookie, priority: 1, match: { arp: true, dl_dst: 'ff:ff:ff:ff:ff:ff' }, actions: [d.continueTo(T.arpResponder)],
}));
const unicastToUcast = memo((d: Dialect, cookie: bigint) =>
  T.patchLvToTun.flow({ cookie, priority: 0, match: { dl_dst: UNICAST }, actions: [d.continueTo(T.ucastToTun)] }));
const multicastToFlood = memo((d: Dialect, cookie: bigint) =>
  T.patchLvToTun.flow({ cookie, priority: 0, match: { dl_dst: MULTICAST }, actions: [d.continueTo(T.floodToTun)] }));

// Tables 3, 4, 6 *_TUN_TO_LV: a VXLAN network's VNI becomes its local VLAN (vniToVlan, the
// network's), then LEARN_FROM_TUN; unknown VNIs, GRE and Geneve are dropped.
function tunToLv(r: Render, out: PipelineFlow[]): void {
  out.push(dropTheRest(T.greTunToLv, r.cookie));
  out.push(dropTheRest(T.vxlanTunToLv, r.cookie));
  if (r.d.geneve) out.push(dropTheRest(T.geneveTunToLv, r.cookie));
}
const vniToVlan = memoPer((n: LocalNetwork, { d, cookie }: Render) => T.vxlanTunToLv.flow({
  cookie, priority: 1, match: { tun_id: n.vni }, actions: [d.tagVlan(n.vlan), d.continueTo(T.learnFromTun)],
}));

const LEARN_SPECS = 'NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[]';

// Table 10 LEARN_FROM_TUN: learn into UCAST_TO_TUN that the frame's source MAC is behind the tunnel
// it came in by, then deliver it to br-int.
function learnFromTun(patchInt: number, { d, cookie }: Render, out: PipelineFlow[]): void {
  out.push(learnThenDeliver(d, cookie, patchInt));
}
const learnThenDeliver = memo((d: Dialect, cookie: bigint, patchInt: number) => T.learnFromTun.flow({
  cookie, priority: 1,
  actions: [
    { learn: `hard_timeout=300,priority=1,${cookie ? `cookie=0x${cookie.toString(16)},` : ''}${LEARN_SPECS},output:${d.learnInPort}`, into: T.ucastToTun },
    { output: patchInt, to: 'patch' },
  ],
}));

// Table 20 UCAST_TO_TUN: a known MAC (learned, or with l2pop each remote port's) goes to its host's
// tunnel; unknown unicast is flooded (unknownUnicastToFlood, shared). A port without fixed IPs has no
// fdb entry in Neutron's l2pop (only its host's flooding entry).
function ucastToTun(remote: readonly RemotePort[], { cookie, l2pop }: Render, out: PipelineFlow[]): void {
  if (l2pop) for (const rp of remote) if (rp.port.fixedIps.length) out.push(remoteUnicast(rp, cookie));
}
/**
 * l2pop flows are remembered per RemotePort (an event's pass over 20k unchanged ones finds each by
 * identity) and per topology port (a fresh host state, or another host, finds those of the same
 * VLAN, VNI and tunnel).
 */
const remoteUnicast = memoPer((r: RemotePort, cookie: bigint) => unicastToTunnel(r.port, cookie, r.vlan, r.vni, r.tunnel.ofport));
const unicastToTunnel = memo((p: RemotePort['port'], cookie: bigint, vlan: number, vni: number, tunnel: number) => T.ucastToTun.flow({
  cookie, priority: 2, match: { dl_vlan: vlan, dl_dst: p.mac },
  actions: [{ popVlan: true, set: 'vlan' }, { setTunnel: vni, set: 'tun_id' }, { output: tunnel, to: 'tunnel' }],
}));
const unknownUnicastToFlood = memo((d: Dialect, cookie: bigint) =>
  T.ucastToTun.flow({ cookie, priority: 0, actions: [d.continueTo(T.floodToTun)] }));

// Table 21 ARP_RESPONDER: an ARP request for a remote port's IPv4 address is answered from here,
// back out of its ingress port; any other ARP is flooded (unansweredArpToFlood, shared).
function arpResponder(remote: readonly RemotePort[], { cookie, arp }: Render, out: PipelineFlow[]): void {
  if (!arp) return;
  for (const r of remote) {
    if (r.port.fixedIps.length) for (const f of remoteArpAnswers(r, cookie)) out.push(f);
  }
}
const remoteArpAnswers = memoPer((r: RemotePort, cookie: bigint) => arpAnswers(r.port, cookie, r.vlan));
const arpAnswers = memo((p: RemotePort['port'], cookie: bigint, vlan: number) => p.fixedIps.filter((ip) => !ip.includes(':'))
  .map((ip) => T.arpResponder.flow({
    cookie, priority: 1, match: { arp: true, dl_vlan: vlan, arp_tpa: ip },
    actions: [
      { setField: 'arp_op', value: 2, set: 'arp_op' },
      { move: 'NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]', set: 'arp_tha' },
      { move: 'NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]', set: 'arp_tpa' },
      { setField: 'arp_sha', value: p.mac, set: 'arp_sha' },
      { setField: 'arp_spa', value: ip, set: 'arp_spa' },
      { move: 'NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]', set: 'eth_dst' },
      { setField: 'eth_src', value: p.mac, set: 'eth_src' },
      { inPort: true },
    ],
  })));
const unansweredArpToFlood = memo((d: Dialect, cookie: bigint) =>
  T.arpResponder.flow({ cookie, priority: 0, actions: [d.continueTo(T.floodToTun)] }));

// Table 22 FLOOD_TO_TUN: per local VLAN, strip the tag, set the VNI and output to every tunnel of
// the network (flood & learn: every tunnel; with l2pop: the hosts that have ports there); the rest
// is dropped (shared).
function floodToTun(n: LocalNetwork, remote: readonly RemotePort[], tunnels: HostState['tunnels'], { d, cookie, l2pop }: Render, out: PipelineFlow[]): void {
  const hosts = l2pop ? new Set(remote.map(({ port }) => port.host)) : undefined;
  const ports = tunnels.filter((tu) => !hosts || hosts.has(tu.host)).map((tu) => tu.ofport);
  if (ports.length) out.push(floodVlanToTunnels(d, cookie, n.vlan, n.vni, ports));
}
const floodVlanToTunnels = memo((d: Dialect, cookie: bigint, vlan: number, vni: number, ports: readonly number[]) => T.floodToTun.flow({
  cookie, priority: d.floodPriority, match: { dl_vlan: vlan },
  actions: [{ popVlan: true, set: 'vlan' }, { setTunnel: vni, set: 'tun_id' }, { outputs: ports, to: 'tunnel' }],
}));
