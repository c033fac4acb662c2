// br-tun: between br-int (patch-int) and the VXLAN tunnels. Table numbers and flows are Neutron's
// (neutron_lib ovs_constants, br_tun.py); see ../shared/reference/neutron-pipeline.md.
//   0 LOCAL_SWITCHING  from patch-int -> 2, from a tunnel -> 4, else drop
//   2 PATCH_LV_TO_TUN  unicast -> 20, multicast/broadcast -> 22 (ARP broadcast -> 21 with the responder)
//   3/4/6 GRE/VXLAN/GENEVE_TUN_TO_LV  tunnel ID -> local VLAN, then 10
//   10 LEARN_FROM_TUN  learn the reverse path into 20, then to patch-int
//   20 UCAST_TO_TUN    learned (and l2pop) unicast entries, default -> 22
//   21 ARP_RESPONDER   answer ARP for known remote IPs in OVS, default -> 22
//   22 FLOOD_TO_TUN    per local VLAN: strip the VLAN, set the tunnel ID, output to the tunnels
import type { HostState, RemotePort } from '../lib/state/host-state.js';
import type { PipelineOptions } from './options.js';
import { memoFlows, PipelineFlow, table } from './table.js';

export const BR_TUN = {
  localSwitching: table({
    id: 0, name: 'LOCAL_SWITCHING', purpose: 'classify by ingress port', matches: ['in_port'], sets: [], next: [2, 4],
  }),
  patchLvToTun: table({
    id: 2, name: 'PATCH_LV_TO_TUN', purpose: 'split unicast from flooding', matches: ['arp', 'dl_dst'], sets: [], next: [20, 21, 22],
  }),
  greTunToLv: table({ id: 3, name: 'GRE_TUN_TO_LV', purpose: 'GRE is not used: drop', matches: [], sets: [], next: [] }),
  vxlanTunToLv: table({
    id: 4, name: 'VXLAN_TUN_TO_LV', purpose: 'tunnel ID to local VLAN', matches: ['tun_id'], sets: ['vlan'], next: [10],
  }),
  geneveTunToLv: table({ id: 6, name: 'GENEVE_TUN_TO_LV', purpose: 'Geneve is not used: drop', matches: [], sets: [], next: [] }),
  learnFromTun: table({
    id: 10, name: 'LEARN_FROM_TUN', purpose: 'learn the reverse path, deliver to br-int', matches: [], sets: [], next: [],
    learnsInto: [20], outputs: ['patch'],
  }),
  ucastToTun: table({
    id: 20, name: 'UCAST_TO_TUN', purpose: 'known unicast to its tunnel', matches: ['dl_vlan', 'dl_dst', 'vlan_tci'],
    sets: ['vlan', 'tun_id'], next: [22], outputs: ['tunnel'],
  }),
  arpResponder: table({
    id: 21, name: 'ARP_RESPONDER', purpose: 'answer ARP for remote IPs locally', matches: ['arp', 'dl_vlan', 'arp_tpa'],
    sets: ['arp_op', 'arp_sha', 'arp_tha', 'arp_spa', 'arp_tpa', 'eth_src', 'eth_dst'], next: [22], outputs: ['in_port'],
  }),
  floodToTun: table({
    id: 22, name: 'FLOOD_TO_TUN', purpose: 'flood a local VLAN to its tunnels', matches: ['dl_vlan'], sets: ['vlan', 'tun_id'],
    next: [], outputs: ['tunnel'],
  }),
} as const;

const UNICAST = '00:00:00:00:00:00/01:00:00:00:00:00';
const MULTICAST = '01:00:00:00:00:00/01:00:00:00:00:00';
const LEARN_SPECS = 'NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[]';

export function brTunFlows(s: HostState, o: PipelineOptions): PipelineFlow[] {
  return o.profile === 'classic' ? classic(s) : neutron(s, o);
}

/** Neutron 2023.1's native OpenFlow driver (goto_table, cookies, tables 6 and 21). */
function neutron(s: HostState, o: PipelineOptions): PipelineFlow[] {
  const t = BR_TUN;
  const cookie = o.cookies.brTun;
  const arp = o.arpResponder && o.l2pop;
  const out: PipelineFlow[] = [
    ...memoFlows(`tun-static|${cookie}|${s.patchIntOfport}|${arp}`, () => [
      t.localSwitching.flow({ cookie, priority: 1, match: { in_port: s.patchIntOfport }, actions: [{ goto: 2 }] }),
      t.localSwitching.flow({ cookie, priority: 0, actions: [] }),
      ...(arp ? [t.patchLvToTun.flow({ cookie, priority: 1, match: { arp: true, dl_dst: 'ff:ff:ff:ff:ff:ff' }, actions: [{ goto: 21 }] })] : []),
      t.patchLvToTun.flow({ cookie, priority: 0, match: { dl_dst: UNICAST }, actions: [{ goto: 20 }] }),
      t.patchLvToTun.flow({ cookie, priority: 0, match: { dl_dst: MULTICAST }, actions: [{ goto: 22 }] }),
      t.greTunToLv.flow({ cookie, priority: 0, actions: [] }),
      t.vxlanTunToLv.flow({ cookie, priority: 0, actions: [] }),
      t.geneveTunToLv.flow({ cookie, priority: 0, actions: [] }),
      t.learnFromTun.flow({
        cookie, priority: 1,
        actions: [
          { learn: `table=20,hard_timeout=300,priority=1,cookie=0x${cookie.toString(16)},${LEARN_SPECS},output:OXM_OF_IN_PORT[]`, into: 20 },
          { output: s.patchIntOfport, to: 'patch' },
        ],
      }),
      t.ucastToTun.flow({ cookie, priority: 0, actions: [{ goto: 22 }] }),
      ...(arp ? [t.arpResponder.flow({ cookie, priority: 0, actions: [{ goto: 22 }] })] : []),
      t.floodToTun.flow({ cookie, priority: 0, actions: [] }),
    ]),
    ...s.tunnels.flatMap((tu) => memoFlows(`tun-in|${cookie}|${tu.ofport}`, () => [
      t.localSwitching.flow({ cookie, priority: 1, match: { in_port: tu.ofport }, actions: [{ goto: 4 }] }),
    ])),
    ...s.networks.flatMap((n) => memoFlows(`tun-vni|${cookie}|${n.vni}|${n.vlan}`, () => [t.vxlanTunToLv.flow({
      cookie, priority: 1, match: { tun_id: n.vni }, actions: [{ pushVlan: n.vlan, set: 'vlan' }, { goto: 10 }],
    })])),
  ];
  const hostsIn = new Map<string, Set<string>>();
  for (const { port } of s.remotePorts) {
    let hosts = hostsIn.get(port.network);
    if (!hosts) hostsIn.set(port.network, (hosts = new Set()));
    hosts.add(port.host);
  }
  for (const n of s.networks) {
    // Flooding: every tunnel (flood & learn), or with l2pop only the hosts that have ports there.
    const hosts = hostsIn.get(n.id);
    const ports = s.tunnels.filter((tu) => !o.l2pop || hosts?.has(tu.host)).map((tu) => tu.ofport);
    if (ports.length) {
      out.push(...memoFlows(`tun-flood|${cookie}|${n.vlan}|${n.vni}|${ports.join(',')}`, () => [t.floodToTun.flow({
        cookie, priority: 1, match: { dl_vlan: n.vlan },
        actions: [{ popVlan: true, set: 'vlan' }, { setTunnel: n.vni, set: 'tun_id' }, { outputs: ports, to: 'tunnel' }],
      })]));
    }
  }
  if (o.l2pop) {
    // A port without fixed IPs has no fdb entry in Neutron's l2pop (only its host's flooding entry).
    const variant = `${cookie}|${arp}`;
    for (const r of s.remotePorts) {
      if (r.port.fixedIps.length === 0) continue;
      for (const f of l2popFlows(r, cookie, arp, variant)) out.push(f);
    }
  }
  return out;
}

/**
 * The l2pop (and ARP responder) flows of one remote port, remembered per topology port object:
 * with 20k remote ports, re-deriving them after every event would dominate the event latency.
 * An unchanged port (same object, same VLAN, VNI, tunnel and options) gets the same flows back.
 * Each host that sees the port renders it with its own VLAN and tunnel, so a port keeps one entry
 * per such variant (bounded: a port is seen by the hosts of its network).
 */
const l2popCache = new WeakMap<object, Map<string, readonly PipelineFlow[]>>();
const L2POP_VARIANTS_MAX = 256;

/**
 * The flows last rendered for each RemotePort object. A host's state hands back the same object for
 * a remote port whose VLAN, VNI and tunnel are unchanged, so an event's pass over thousands of
 * remote ports finds most of them here without building a key.
 */
const byRemotePort = new WeakMap<RemotePort, { readonly variant: string; readonly flows: readonly PipelineFlow[] }>();

/** `variant` is `${cookie}|${arp}`, built once per pass rather than once per port. */
function l2popFlows(r: RemotePort, cookie: bigint, arp: boolean, variant: string): readonly PipelineFlow[] {
  const last = byRemotePort.get(r);
  if (last?.variant === variant) return last.flows;
  const flows = l2popFlowsOfPort(r, cookie, arp, variant);
  byRemotePort.set(r, { variant, flows });
  return flows;
}

function l2popFlowsOfPort(r: RemotePort, cookie: bigint, arp: boolean, variant: string): readonly PipelineFlow[] {
  const key = `${r.vlan}|${r.vni}|${r.tunnel.ofport}|${variant}`;
  let variants = l2popCache.get(r.port);
  const hit = variants?.get(key);
  if (hit) return hit;
  if (!variants || variants.size >= L2POP_VARIANTS_MAX) l2popCache.set(r.port, (variants = new Map()));
  const t = BR_TUN;
  const { mac, fixedIps } = r.port;
  const flows = [t.ucastToTun.flow({
    cookie, priority: 2, match: { dl_vlan: r.vlan, dl_dst: mac },
    actions: [{ popVlan: true, set: 'vlan' }, { setTunnel: r.vni, set: 'tun_id' }, { output: r.tunnel.ofport, to: 'tunnel' }],
  })];
  if (arp) {
    for (const ip of fixedIps.filter((x) => !x.includes(':'))) {
      flows.push(t.arpResponder.flow({
        cookie, priority: 1, match: { arp: true, dl_vlan: r.vlan, arp_tpa: ip },
        actions: [
          { setField: 'arp_op', value: 2, set: 'arp_op' },
          { move: 'NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]', set: 'arp_tha' },
          { move: 'NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]', set: 'arp_tpa' },
          { setField: 'arp_sha', value: mac, set: 'arp_sha' },
          { setField: 'arp_spa', value: ip, set: 'arp_spa' },
          { move: 'NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]', set: 'eth_dst' },
          { setField: 'eth_src', value: mac, set: 'eth_src' },
          { inPort: true },
        ],
      }));
    }
  }
  variants.set(key, flows);
  return flows;
}

/** The older ovs-ofctl driver of the seed article: resubmit, no table 6, no cookies. */
function classic(s: HostState): PipelineFlow[] {
  const t = BR_TUN;
  const out: PipelineFlow[] = [
    t.localSwitching.flow({ priority: 1, match: { in_port: s.patchIntOfport }, actions: [{ resubmit: 2 }] }),
    ...s.tunnels.map((tu) => t.localSwitching.flow({ priority: 1, match: { in_port: tu.ofport }, actions: [{ resubmit: 4 }] })),
    t.localSwitching.flow({ priority: 0, actions: [{ drop: true }] }),
    t.patchLvToTun.flow({ priority: 0, match: { dl_dst: UNICAST }, actions: [{ resubmit: 20 }] }),
    t.patchLvToTun.flow({ priority: 0, match: { dl_dst: MULTICAST }, actions: [{ resubmit: 22 }] }),
    t.greTunToLv.flow({ priority: 0, actions: [{ drop: true }] }),
    ...s.networks.map((n) => t.vxlanTunToLv.flow({
      priority: 1, match: { tun_id: n.vni }, actions: [{ modVlanVid: n.vlan, set: 'vlan' }, { resubmit: 10 }],
    })),
    t.vxlanTunToLv.flow({ priority: 0, actions: [{ drop: true }] }),
    t.learnFromTun.flow({
      priority: 1,
      actions: [
        { learn: `table=20,hard_timeout=300,priority=1,${LEARN_SPECS},output:NXM_OF_IN_PORT[]`, into: 20 },
        { output: s.patchIntOfport, to: 'patch' },
      ],
    }),
    t.ucastToTun.flow({ priority: 0, actions: [{ resubmit: 22 }] }),
    t.floodToTun.flow({ priority: 0, actions: [{ drop: true }] }),
  ];
  for (const n of s.networks) {
    if (!s.tunnels.length) continue;
    // The seed's flood flow has OVS's default priority (32768).
    out.push(t.floodToTun.flow({
      priority: 0x8000, match: { dl_vlan: n.vlan },
      actions: [{ popVlan: true, set: 'vlan', spelling: 'strip_vlan' }, { setTunnel: n.vni, set: 'tun_id', spelling: 'set_tunnel' },
        { outputs: s.tunnels.map((tu) => tu.ofport), to: 'tunnel' }],
    }));
  }
  return out;
}
