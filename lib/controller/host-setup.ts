// Host setup through OVSDB, idempotent: br-int and br-tun with their controller, patch ports,
// one VXLAN port per remote host, and VM port tags. `planHostSetup` compares what OVSDB holds with
// what the host needs and returns only the operations that close the gap (none when in sync).
//
// Order matters for the dataplane: a bridge gaining its first controller or losing its last flushes
// its flows, so the controllers are set when the bridge is created and the set never drops to zero
// afterwards (rows are added, retargeted and removed in place: 1 -> 2 -> 3 -> 2 does not flush).
//
// With several controller replicas, a leader's transactions carry a fence (see takeOverHost): each
// waits on the generation recorded in Open_vSwitch external_ids, so an old leader's are refused whole.
import { filter, firstValueFrom, throwError, timeout } from 'rxjs';
import { fromMap, Json, NamedUuid, namedUuid, Operation, ovsMap, ovsSet, uuid, uuidOf } from '../../codecs/ovsdb/protocol.js';
import { OvsdbClient, Replica, TransactionError } from '../ovsdb/client.js';
import { OvsBridge, OvsController, OvsInterface, VswitchView, vswitchView } from '../ovsdb/vswitch.js';
import { formatConjBases, parseConjBases } from '../../pipelines/firewall/rules.js';
import type { HostState, Tunnel } from '../state/host-state.js';

export const BR_INT = 'br-int';
export const BR_TUN = 'br-tun';
const PATCH_INT = 'patch-int';
const PATCH_TUN = 'patch-tun';
export const DEAD_VLAN = 4095;
/** br-int's external_ids key holding the conjunction id blocks its firewall flows use (formatConjBases). */
export const CONJ_BASES_KEY = 'ofctl-ts-conj-bases';
/** Open_vSwitch external_ids key holding the generation of the leader whose setup may apply (the fence). */
export const GENERATION_KEY = 'ofctl-ts-generation';

export interface HostSetupOptions {
  /**
   * Where ovs-vswitchd reaches the controller, e.g. tcp:127.0.0.1:6653 or unix:PATH; with several
   * replicas, every replica's target: each bridge lists them all (one Controller row per target).
   */
  readonly controllerTarget: string | readonly string[];
  /**
   * This leader's generation (a positive integer that only grows from one leader to the next, e.g.
   * its election key's create_revision). Set: every setup transaction waits on Open_vSwitch
   * external_ids:ofctl-ts-generation holding it (written by takeOverHost), so once a newer leader
   * took the host over, this one's are refused whole (FencedError). Unset (a single controller
   * process): no fence is read or written.
   */
  readonly generation?: number;
  readonly datapathType: string;
  /** VXLAN UDP port; only written when not 4789, as Neutron does. */
  readonly vxlanPort?: number;
  /** Controller.max_backoff in ms (tests use 1000 so reconnects are quick). */
  readonly maxBackoffMs?: number;
  /**
   * Controller.inactivity_probe in ms: ovs-vswitchd's echo to us after this long without a message
   * from us, and the session dropped after as long again (Neutron writes its of_inactivity_probe,
   * 10 s). Unset: the rows' value is left as it is.
   */
  readonly inactivityProbeMs?: number;
}

/**
 * A setup transaction refused by the fence, or a take-over refused because OVSDB holds a higher
 * generation: another leader holds the host. Nothing was written; this leader must stop writing.
 */
export class FencedError extends Error {
  constructor(
    /** Ours. */
    readonly generation: number,
    /** What OVSDB holds (undefined: no generation recorded, e.g. the database was recreated). */
    readonly seen: number | undefined,
  ) {
    super(`fenced: OVSDB holds generation ${seen ?? 'none'}, this leader's is ${generation}; nothing written`);
    this.name = 'FencedError';
  }
}

/** The targets as a list, checked: at least one, none twice (a bridge must never have zero). */
export function controllerTargets(o: HostSetupOptions): readonly string[] {
  const targets = typeof o.controllerTarget === 'string' ? [o.controllerTarget] : o.controllerTarget;
  if (targets.length === 0) throw new Error('host setup: controllerTarget: no controller target given');
  const twice = targets.find((t, i) => targets.indexOf(t) !== i);
  if (twice !== undefined) throw new Error(`host setup: controllerTarget: ${twice} is given twice`);
  const bad = targets.find((t) => typeof t !== 'string' || t.length === 0);
  if (bad !== undefined) throw new Error(`host setup: controllerTarget: ${JSON.stringify(bad)} is not a target`);
  return targets;
}

function checkGeneration(g: number): number {
  if (!Number.isSafeInteger(g) || g < 1) throw new Error(`host setup: generation: ${g} is not a positive integer`);
  return g;
}

/** A tunnel as host setup writes it: the state's tunnel, from this host's tunnel IP, on the VXLAN port asked for. */
interface WantedTunnel {
  readonly tunnel: Tunnel;
  readonly localIp: string;
  /** dst_port, when not VXLAN's 4789. */
  readonly dstPort: string | undefined;
}

/**
 * A VXLAN port's options, as Neutron's agent sets them: one list, for writing them and for
 * checking a port against them (every pass checks every tunnel: without building a Map each).
 */
const TUNNEL_OPTIONS: ReadonlyArray<readonly [string, (t: WantedTunnel) => string | undefined]> = [
  ['df_default', () => 'true'], ['egress_pkt_mark', () => '0'], ['in_key', () => 'flow'], ['local_ip', (t) => t.localIp],
  ['out_key', () => 'flow'], ['remote_ip', (t) => t.tunnel.remoteIp], ['dst_port', (t) => t.dstPort],
];

function tunnelOptions(t: WantedTunnel): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of TUNNEL_OPTIONS) {
    const x = v(t);
    if (x !== undefined) m.set(k, x);
  }
  return m;
}

function hasTunnelOptions(have: ReadonlyMap<string, string>, t: WantedTunnel): boolean {
  let n = 0;
  for (const [k, v] of TUNNEL_OPTIONS) {
    const x = v(t);
    if (x === undefined) continue;
    n++;
    if (have.get(k) !== x) return false;
  }
  return have.size === n;
}

function wantedTunnels(s: HostState, o: HostSetupOptions): WantedTunnel[] {
  const dstPort = o.vxlanPort && o.vxlanPort !== 4789 ? String(o.vxlanPort) : undefined;
  return s.tunnels.map((tunnel) => ({ tunnel, localIp: s.tunnelIp, dstPort }));
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Port rows of VM interfaces: iface-id -> the Port's VLAN bookkeeping, as Neutron writes it. */
function vmPortConfig(networkId: string, vni: number, vlan: number): Map<string, string> {
  return new Map([['net_uuid', networkId], ['network_type', 'vxlan'], ['physical_network', 'None'],
    ['segmentation_id', String(vni)], ['tag', String(vlan)]]);
}
/** The other_config keys of that bookkeeping (a port's other keys are left as they are). */
const VLAN_RECORD_KEYS: readonly string[] = [...vmPortConfig('', 0, 0).keys()];
const NO_VLAN_RECORD: ReadonlyMap<string, string> = new Map();

/** other_config holds exactly `want` of the bookkeeping keys. */
function hasVlanRecord(otherConfig: ReadonlyMap<string, string>, want: ReadonlyMap<string, string>): boolean {
  for (const k of VLAN_RECORD_KEYS) if (otherConfig.get(k) !== want.get(k)) return false;
  return true;
}

/** One change a plan makes, for the log: what, on which bridge, and the names it concerns. */
export interface SetupChange {
  readonly change: string;
  readonly bridge: string;
  readonly [name: string]: string | number | readonly string[];
}

/**
 * The operations that make OVSDB hold what host `s` needs (empty when it already does); what they
 * change is described in `changes`.
 */
export function planHostSetup(view: VswitchView, s: HostState, o: HostSetupOptions, changes: SetupChange[] = []): Operation[] {
  const targets = controllerTargets(o);
  const ops: Operation[] = [];
  let n = 0;
  const name = (p: string): string => `${p}${n++}`;

  /** Inserts an Interface and its Port; the caller must reference the Port from a Bridge. */
  const insertPort = (portName: string, iface: Record<string, Json>): Json => {
    const [i, p] = [name('i'), name('p')];
    ops.push(
      { op: 'insert', table: 'Interface', 'uuid-name': i, row: { name: portName, ...iface } },
      { op: 'insert', table: 'Port', 'uuid-name': p, row: { name: portName, interfaces: namedUuid(i) } },
    );
    return namedUuid(p);
  };
  const insertController = (target: string): NamedUuid => {
    const ctl = name('ctl');
    ops.push({
      op: 'insert', table: 'Controller', 'uuid-name': ctl,
      row: {
        target, connection_mode: 'out-of-band', ...(o.maxBackoffMs ? { max_backoff: o.maxBackoffMs } : {}),
        ...(o.inactivityProbeMs !== undefined ? { inactivity_probe: o.inactivityProbeMs } : {}),
      },
    });
    return namedUuid(ctl);
  };
  // Logged as before for one target; the list for several.
  const targetsText = typeof o.controllerTarget === 'string' ? o.controllerTarget : targets;

  /**
   * The bridge's Controller rows become one per target, changed in place by UUID: a missing target
   * reuses a row no longer wanted (retargeted), else gets a new row inserted and added to the
   * bridge in the same transaction; rows left over are removed. Never zero: targets is not empty.
   */
  const syncControllers = (br: string, have: OvsBridge): void => {
    const where = [['_uuid', '==', uuid(have.uuid)]] as const;
    const kept = new Map<string, OvsController>();
    const spare: OvsController[] = [];
    for (const c of have.controllers) {
      if (targets.includes(c.target) && !kept.has(c.target)) kept.set(c.target, c);
      else spare.push(c);
    }
    const added: NamedUuid[] = [];
    for (const t of targets) {
      if (kept.has(t)) continue;
      const reused = spare.shift();
      if (reused) {
        changes.push({ change: 'controller target changed', bridge: br, from: reused.target, controller: t });
        ops.push({ op: 'update', table: 'Controller', where: [['_uuid', '==', uuid(reused.uuid)]], row: { target: t } });
        kept.set(t, { ...reused, target: t });
      } else {
        changes.push({ change: have.controllers.length === 0 ? 'controller set' : 'controller added', bridge: br, controller: t });
        added.push(insertController(t));
      }
    }
    if (added.length) ops.push({ op: 'mutate', table: 'Bridge', where: [...where], mutations: [['controller', 'insert', ovsSet(added)]] });
    if (spare.length) {
      changes.push({ change: 'controller removed', bridge: br, controllers: spare.map((c) => c.target) });
      ops.push({ op: 'mutate', table: 'Bridge', where: [...where], mutations: [['controller', 'delete', ovsSet(spare.map((c) => uuid(c.uuid)))]] });
    }
    for (const c of kept.values()) fixController(br, c);
  };

  /** A kept row's own settings, set by its UUID (set-controller would recreate the rows, in-band). */
  const fixController = (br: string, c: OvsController): void => {
    const row: Record<string, Json> = {};
    if (c.connectionMode !== 'out-of-band') row.connection_mode = 'out-of-band';
    if (o.maxBackoffMs && c.maxBackoffMs !== o.maxBackoffMs) row.max_backoff = o.maxBackoffMs;
    if (o.inactivityProbeMs !== undefined && c.inactivityProbeMs !== o.inactivityProbeMs) {
      changes.push({ change: 'controller inactivity probe set', bridge: br, from: c.inactivityProbeMs ?? 'unset', inactivityProbeMs: o.inactivityProbeMs });
      row.inactivity_probe = o.inactivityProbeMs;
    }
    const others = Object.keys(row).filter((k) => k !== 'inactivity_probe');
    if (others.length) changes.push({ change: 'controller settings fixed', bridge: br, controller: c.target, columns: others });
    if (Object.keys(row).length) ops.push({ op: 'update', table: 'Controller', where: [['_uuid', '==', uuid(c.uuid)]], row });
  };
  const vxlanIface = (t: WantedTunnel): Record<string, Json> => ({ type: 'vxlan', options: ovsMap(tunnelOptions(t)), ofport_request: t.tunnel.ofport });

  const ensureBridge = (br: string, patch: string, peer: string, extra: readonly WantedTunnel[]): void => {
    const have = view.bridges.get(br);
    const patchIface = new Map([['peer', peer]]);
    if (!have) {
      const b = name('br');
      // The bridge's ports go in with it: rows no bridge references vanish at commit.
      const ports = [
        insertPort(br, { type: 'internal' }),
        insertPort(patch, { type: 'patch', options: ovsMap(patchIface), ofport_request: 1 }),
        ...extra.map((t) => insertPort(t.tunnel.portName, vxlanIface(t))),
      ];
      const controller = ovsSet(targets.map(insertController));
      changes.push({ change: 'bridge created', bridge: br, ports: [br, patch, ...extra.map((t) => t.tunnel.portName)], controller: targetsText });
      ops.push(
        {
          op: 'insert', table: 'Bridge', 'uuid-name': b,
          row: {
            name: br, ports: ['set', ports], controller, fail_mode: 'secure',
            protocols: ovsSet(['OpenFlow10', 'OpenFlow13']), datapath_type: o.datapathType,
            other_config: ovsMap({ 'disable-in-band': 'true' }),
          },
        },
        { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', uuid(view.rootUuid!)]], mutations: [['bridges', 'insert', ovsSet([namedUuid(b)])]] },
      );
      return;
    }
    const where = [['_uuid', '==', uuid(have.uuid)]] as const;
    // Controllers first.
    syncControllers(br, have);
    const row: Record<string, Json> = {};
    if (have.failMode !== 'secure') row.fail_mode = 'secure';
    if (!have.protocols.includes('OpenFlow13')) row.protocols = ovsSet([...new Set([...have.protocols, 'OpenFlow10', 'OpenFlow13'])]);
    if (have.datapathType !== o.datapathType && !(have.datapathType === '' && o.datapathType === 'system')) row.datapath_type = o.datapathType;
    if (Object.keys(row).length) {
      changes.push({ change: 'bridge settings fixed', bridge: br, columns: Object.keys(row) });
      ops.push({ op: 'update', table: 'Bridge', where: [...where], row });
    }
    if (have.otherConfig.get('disable-in-band') !== 'true') {
      changes.push({ change: 'in-band control disabled', bridge: br });
      ops.push({ op: 'mutate', table: 'Bridge', where: [...where], mutations: [['other_config', 'insert', ovsMap({ 'disable-in-band': 'true' })]] });
    }
    const patchPort = have.ports.find((p) => p.name === patch);
    if (!patchPort) {
      changes.push({ change: 'patch port added', bridge: br, port: patch, peer });
      addPort(have.uuid, patch, { type: 'patch', options: ovsMap(patchIface), ofport_request: 1 });
    } else fixInterface(br, patchPort.interfaces[0], { type: 'patch', options: patchIface });
  };

  const addPort = (bridgeUuid: string, portName: string, iface: Record<string, Json>): void => {
    touched.add(bridgeUuid);
    const port = insertPort(portName, iface);
    ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(bridgeUuid)]], mutations: [['ports', 'insert', port]] });
  };

  // Read-modify-write: the plan was made from our replica; if a bridge's port list changed meanwhile
  // (Nova plugging a VM), the `wait` fails the whole transaction and the next pass plans again.
  const touched = new Set<string>();
  const guardPorts = (): void => {
    const guards: Operation[] = [];
    for (const b of view.bridges.values()) {
      if (!touched.has(b.uuid)) continue;
      guards.push({
        op: 'wait', table: 'Bridge', where: [['_uuid', '==', uuid(b.uuid)]], columns: ['ports'], until: '==',
        rows: [{ ports: ['set', b.ports.map((p) => uuid(p.uuid))] }], timeout: 0,
      });
    }
    ops.unshift(...guards);
  };

  const fixInterface = (bridge: string, i: OvsInterface | undefined, want: { type: string; options: ReadonlyMap<string, string> }): void => {
    if (!i || (i.type === want.type && sameMap(i.options, want.options))) return;
    changes.push({ change: 'interface fixed', bridge, port: i.name, type: want.type, options: [...want.options].map(([k, v]) => `${k}=${v}`) });
    ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', uuid(i.uuid)]], row: { type: want.type, options: ovsMap(want.options) } });
  };

  const wanted = wantedTunnels(s, o);
  ensureBridge(BR_INT, PATCH_TUN, PATCH_INT, []);
  ensureBridge(BR_TUN, PATCH_INT, PATCH_TUN, wanted);

  // Tunnels: exactly one VXLAN port per remote host that shares a network.
  const brTun = view.bridges.get(BR_TUN);
  if (brTun) {
    const portsByName = new Map(brTun.ports.map((p) => [p.name, p]));
    for (const t of wanted) {
      const have = portsByName.get(t.tunnel.portName);
      if (!have) {
        changes.push({ change: 'tunnel port added', bridge: BR_TUN, port: t.tunnel.portName, remoteIp: t.tunnel.remoteIp, ofport: t.tunnel.ofport });
        addPort(brTun.uuid, t.tunnel.portName, vxlanIface(t));
      } else {
        const i = have.interfaces[0];
        if (i && !(i.type === 'vxlan' && hasTunnelOptions(i.options, t))) fixInterface(BR_TUN, i, { type: 'vxlan', options: tunnelOptions(t) });
      }
    }
    const wantedNames = new Set(wanted.map((t) => t.tunnel.portName));
    const stale = brTun.ports.filter((p) => p.interfaces[0]?.type === 'vxlan' && !wantedNames.has(p.name));
    if (stale.length) {
      for (const p of stale) changes.push({ change: 'tunnel port removed', bridge: BR_TUN, port: p.name, remoteIp: p.interfaces[0]!.options.get('remote_ip') ?? '' });
      touched.add(brTun.uuid);
      ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(brTun.uuid)]], mutations: [['ports', 'delete', ovsSet(stale.map((p) => uuid(p.uuid)))]] });
    }
  }

  // VM ports on br-int: tag = the network's local VLAN, or the dead VLAN for unknown ports.
  const brInt = view.bridges.get(BR_INT);
  if (brInt) {
    // The conjunction blocks, recorded in the same transaction as the rest and so before the flows
    // that use them: a restart reads them back (conjBasesFrom). Written once a firewall had blocks.
    const bases = s.firewall?.conjBases ?? new Map<string, number>();
    const had = brInt.externalIds.get(CONJ_BASES_KEY);
    const want = formatConjBases(bases);
    if (had !== want && (had !== undefined || bases.size > 0)) {
      changes.push({ change: 'conjunction id blocks recorded', bridge: BR_INT, blocks: bases.size });
      ops.push({
        op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(brInt.uuid)]],
        mutations: [['external_ids', 'delete', ovsSet([CONJ_BASES_KEY])], ['external_ids', 'insert', ovsMap({ [CONJ_BASES_KEY]: want })]],
      });
    }
    const byIfaceId = new Map(s.localPorts.map((p) => [p.id, p]));
    const vniOf = new Map(s.networks.map((n) => [n.id, n.vni]));
    for (const port of brInt.ports) {
      const ifaceId = port.interfaces[0]?.externalIds.get('iface-id');
      if (!ifaceId) continue;
      // A port not numbered by ovs-vswitchd yet goes to the dead VLAN too (retagged once it is):
      // an untagged br-int port is a trunk that NORMAL floods every VLAN to.
      const ofport = port.interfaces[0]?.ofport;
      const lp = byIfaceId.get(ifaceId);
      const tag = lp ? lp.vlan : DEAD_VLAN;
      const other = lp ? vmPortConfig(lp.network, vniOf.get(lp.network)!, lp.vlan) : NO_VLAN_RECORD;
      if (port.tag !== tag || !hasVlanRecord(port.otherConfig, other)) {
        const kept = new Map([...port.otherConfig].filter(([k]) => !VLAN_RECORD_KEYS.includes(k)));
        const change = port.tag === tag ? 'VM port VLAN record updated'
          : tag === DEAD_VLAN ? `VM port put in the dead VLAN (${ofport === undefined ? 'no ofport yet' : ofport > 0 ? 'not in the topology' : 'its interface failed: ofport -1'})`
            : port.tag === undefined ? 'VM port tagged' : 'VM port retagged';
        changes.push({
          change, bridge: BR_INT, port: port.name, ifaceId, tag, ...(port.tag !== undefined && port.tag !== tag ? { previousTag: port.tag } : {}),
          ...(lp ? { network: lp.network } : {}),
        });
        ops.push({
          op: 'update', table: 'Port', where: [['_uuid', '==', uuid(port.uuid)]],
          row: { tag, other_config: ovsMap(new Map([...kept, ...other])) },
        });
      }
    }
  }
  guardPorts();
  return ops;
}

/**
 * The VM ports plugged into br-int: iface-id -> ofport, for interfaces with a real ofport (not yet
 * assigned: none; failed, e.g. no such device: -1). Neutron's agent takes only these for devices
 * (ovs_lib get_vif_port_set skips the others) and provisions a port only while it is one.
 */
export function pluggedPortsFrom(view: VswitchView): Map<string, number> {
  const plugged = new Map<string, number>();
  for (const p of view.bridges.get(BR_INT)?.ports ?? []) {
    const id = p.interfaces[0]?.externalIds.get('iface-id');
    const o = p.interfaces[0]?.ofport;
    if (id && o !== undefined && o > 0) plugged.set(id, o);
  }
  return plugged;
}

/** Live ofports of br-tun's interfaces (tunnels, patch-int) by name. */
export function tunnelOfportsFrom(view: VswitchView): Map<string, number> {
  const ofports = new Map<string, number>();
  for (const p of view.bridges.get(BR_TUN)?.ports ?? []) {
    const o = p.interfaces[0]?.ofport;
    if (o !== undefined && o > 0) ofports.set(p.name, o);
  }
  return ofports;
}

/**
 * The VM ports an earlier run programmed: on br-int with the local VLAN tag it recorded for their
 * network (Port.other_config net_uuid + tag), as Neutron's agent leaves them too. A port plugged
 * while no controller ran has no such record (untagged, or in the dead VLAN).
 */
export function programmedPortsFrom(view: VswitchView): Set<string> {
  const out = new Set<string>();
  for (const p of view.bridges.get(BR_INT)?.ports ?? []) {
    const id = p.interfaces[0]?.externalIds.get('iface-id');
    const tag = p.tag;
    if (id && tag !== undefined && tag >= 1 && tag <= 4094 && p.otherConfig.has('net_uuid') && p.otherConfig.get('tag') === String(tag)) out.add(id);
  }
  return out;
}

/** Local VLANs recorded in OVSDB by an earlier run (Port.other_config net_uuid + tag). */
export function vlanHintsFrom(view: VswitchView): Map<string, number> {
  const hints = new Map<string, number>();
  for (const p of view.bridges.get(BR_INT)?.ports ?? []) {
    const net = p.otherConfig.get('net_uuid');
    const tag = Number(p.otherConfig.get('tag') ?? p.tag);
    if (net && Number.isInteger(tag) && tag >= 1 && tag <= 4094) hints.set(net, tag);
  }
  return hints;
}

/**
 * The conjunction id blocks an earlier run recorded on br-int (undefined: none recorded, e.g. a
 * fresh host). A value that does not parse is an error naming the bridge and key: the caller must
 * not guess which ids the installed flows use.
 */
export function conjBasesFrom(view: VswitchView): Map<string, number> | undefined {
  const text = view.bridges.get(BR_INT)?.externalIds.get(CONJ_BASES_KEY);
  if (text === undefined) return undefined;
  try {
    return parseConjBases(text);
  } catch (err) {
    throw new Error(`${BR_INT} external_ids:${CONJ_BASES_KEY}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Applies the plan in one transaction (with next_cfg += 1) and waits until ovs-vswitchd has applied
 * it (cur_cfg catches up). Returns the number of operations (0: already in sync, nothing sent).
 * `onCommitted` is told what changed once the transaction has committed.
 */
export async function applyHostSetup(client: OvsdbClient, s: HostState, o: HostSetupOptions, timeoutMs = 10_000,
  view: VswitchView = vswitchView(client.replica), onCommitted?: (changes: readonly SetupChange[]) => void): Promise<number> {
  const changes: SetupChange[] = [];
  const generation = o.generation === undefined ? undefined : checkGeneration(o.generation);
  const ops = planHostSetup(view, s, o, changes);
  if (ops.length === 0) return 0;
  const root = uuid(view.rootUuid!);
  const results = await transactFenced(client, generation, [
    ...ops,
    { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', root]], mutations: [['next_cfg', '+=', 1]] },
    { op: 'select', table: 'Open_vSwitch', where: [['_uuid', '==', root]], columns: ['next_cfg'] },
  ]);
  const sel = results[results.length - 1] as { rows: Array<{ next_cfg: number }> };
  onCommitted?.(changes);
  const target = sel.rows[0]!.next_cfg;
  await waitFor(client, (r) => curCfgOf(r) >= target, timeoutMs, `ovs-vswitchd to apply configuration ${target}`);
  return ops.length;
}

/**
 * Runs `ops` behind the fence when a generation is given: a first `wait` that the root row's
 * external_ids holds exactly this generation, so the whole transaction fails if another leader
 * took over (FencedError, with what OVSDB holds). Without a generation: the ops as they are.
 */
async function transactFenced(client: OvsdbClient, generation: number | undefined, ops: readonly Operation[]): Promise<Json[]> {
  if (generation === undefined) return client.transact(ops);
  // "includes" tests this one key (a map's == would compare all of external_ids); with no columns
  // the matching rows project to one empty row, so "rows: [{}]" means "the root row matches".
  const fence: Operation = {
    op: 'wait', table: 'Open_vSwitch', where: [['external_ids', 'includes', ovsMap({ [GENERATION_KEY]: String(generation) })]],
    columns: [], until: '==', rows: [{}], timeout: 0,
  };
  try {
    const results = await client.transact([fence, ...ops]);
    return results.slice(1);
  } catch (err) {
    if (err instanceof TransactionError && failed(err.results[0])) throw new FencedError(generation, (await hostGeneration(client)).generation);
    throw err;
  }
}

const failed = (r: Json | undefined): boolean => typeof r === 'object' && r !== null && !Array.isArray(r) && 'error' in r;

/** The root row's uuid, its external_ids as OVSDB sent them, and the generation recorded there. */
export async function hostGeneration(client: OvsdbClient): Promise<{ rootUuid: string; externalIds: Json; generation: number | undefined }> {
  const [sel] = await client.transact([{ op: 'select', table: 'Open_vSwitch', where: [], columns: ['_uuid', 'external_ids'] }]);
  const row = (sel as { rows?: Array<{ _uuid?: Json; external_ids?: Json }> }).rows?.[0];
  const rootUuid = uuidOf(row?._uuid);
  if (!row || !rootUuid) throw new Error('host setup: the Open_vSwitch table has no row');
  return { rootUuid, externalIds: row.external_ids ?? ovsMap({}), generation: generationIn(fromMap(row.external_ids)) };
}

/** hostGeneration as the replica shows it; undefined when the replica has no root row. */
function replicaGeneration(replica: Replica): Awaited<ReturnType<typeof hostGeneration>> | undefined {
  for (const [rootUuid, row] of replica.get('Open_vSwitch') ?? []) {
    const externalIds = row.external_ids ?? ovsMap({});
    return { rootUuid, externalIds, generation: generationIn(fromMap(externalIds)) };
  }
  return undefined;
}

/**
 * The generation recorded in the root row's external_ids (undefined: none). A value that is not a
 * generation is an error naming the key: it is not guessed at, nobody writes until it is fixed.
 */
export function generationIn(rootExternalIds: ReadonlyMap<string, string>): number | undefined {
  const text = rootExternalIds.get(GENERATION_KEY);
  const generation = text === undefined ? undefined : Number(text);
  if (text !== undefined && (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(generation))) {
    throw new Error(`Open_vSwitch external_ids:${GENERATION_KEY}: ${JSON.stringify(text)} is not a generation`);
  }
  return generation;
}

/**
 * Takes the host over for a leader of generation `generation`: one transaction that waits on
 * external_ids being as just read and records the new generation, so the previous leader's setup
 * transactions fail from then on. A higher generation in OVSDB refuses it (FencedError: a newer
 * leader holds the host; the generation is never lowered); the same one is already ours (nothing
 * written). A concurrent change of external_ids is read again (a few times). Returns the
 * generation found before.
 */
export async function takeOverHost(client: OvsdbClient, generation: number): Promise<number | undefined> {
  checkGeneration(generation);
  for (let attempt = 1; ; attempt++) {
    // First from the replica (one round trip: a failover takes hundreds of hosts over at once); if
    // it lagged, the wait below fails and the next attempt reads the row afresh.
    const { rootUuid, externalIds, generation: seen } = (attempt === 1 && replicaGeneration(client.replica)) || await hostGeneration(client);
    if (seen !== undefined && seen > generation) throw new FencedError(generation, seen);
    if (seen === generation) return seen;
    const root = [['_uuid', '==', uuid(rootUuid)]] as const;
    try {
      await client.transact([
        { op: 'wait', table: 'Open_vSwitch', where: [...root], columns: ['external_ids'], until: '==', rows: [{ external_ids: externalIds }], timeout: 0 },
        {
          op: 'mutate', table: 'Open_vSwitch', where: [...root],
          mutations: [['external_ids', 'delete', ovsSet([GENERATION_KEY])], ['external_ids', 'insert', ovsMap({ [GENERATION_KEY]: String(generation) })]],
        },
      ]);
      return seen;
    } catch (err) {
      if (!(err instanceof TransactionError && failed(err.results[0])) || attempt === 5) throw err;
    }
  }
}

/** Open_vSwitch.cur_cfg straight from the replica's root row (no view: it is read on every update). */
function curCfgOf(replica: Replica): number {
  for (const row of replica.get('Open_vSwitch')?.values() ?? []) return typeof row.cur_cfg === 'number' ? row.cur_cfg : 0;
  return 0;
}

export function waitFor(client: OvsdbClient, cond: (r: Replica) => boolean, timeoutMs: number, what: string): Promise<Replica> {
  // Checked on every replica update (not polled): an event's latency includes this wait.
  return firstValueFrom(client.replica$.pipe(
    filter(cond),
    timeout({ first: timeoutMs, with: () => throwError(() => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }),
  ));
}
