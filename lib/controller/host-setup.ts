// Host setup through OVSDB, idempotent: br-int and br-tun with their controller, patch ports,
// one VXLAN port per remote host, and VM port tags. `planHostSetup` compares what OVSDB holds with
// what the host needs and returns only the operations that close the gap (none when in sync).
//
// Order matters for the dataplane: a bridge gaining or losing its active controller flushes its
// flows, so the controller is set when the bridge is created and never removed afterwards (a
// different target is updated in place, which does not flush).
import { filter, firstValueFrom, throwError, timeout } from 'rxjs';
import { Json, namedUuid, Operation, ovsMap, ovsSet, uuid } from '../../codecs/ovsdb/protocol.js';
import type { OvsdbClient, Replica } from '../ovsdb/client.js';
import { OvsInterface, VswitchView, vswitchView } from '../ovsdb/vswitch.js';
import { formatConjBases, parseConjBases } from '../../pipelines/firewall/rules.js';
import type { HostState } from '../state/host-state.js';

export const BR_INT = 'br-int';
export const BR_TUN = 'br-tun';
const PATCH_INT = 'patch-int';
const PATCH_TUN = 'patch-tun';
export const DEAD_VLAN = 4095;
/** br-int's external_ids key holding the conjunction id blocks its firewall flows use (formatConjBases). */
export const CONJ_BASES_KEY = 'ofctl-ts-conj-bases';

export interface HostSetupOptions {
  /** Where ovs-vswitchd reaches this controller, e.g. tcp:127.0.0.1:6653 or unix:PATH. */
  readonly controllerTarget: string;
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

interface WantedTunnel {
  readonly name: string;
  readonly ofport: number;
  readonly options: ReadonlyMap<string, string>;
}

function wantedTunnels(s: HostState, o: HostSetupOptions): WantedTunnel[] {
  return s.tunnels.map((t) => {
    const options = new Map([
      ['df_default', 'true'], ['egress_pkt_mark', '0'], ['in_key', 'flow'], ['local_ip', s.tunnelIp], ['out_key', 'flow'],
      ['remote_ip', t.remoteIp],
    ]);
    if (o.vxlanPort && o.vxlanPort !== 4789) options.set('dst_port', String(o.vxlanPort));
    return { name: t.portName, ofport: t.ofport, options };
  });
}

const sameMap = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** Port rows of VM interfaces: iface-id -> the Port's VLAN bookkeeping, as Neutron writes it. */
function vmPortConfig(networkId: string, vni: number, vlan: number): Map<string, string> {
  return new Map([['net_uuid', networkId], ['network_type', 'vxlan'], ['physical_network', 'None'],
    ['segmentation_id', String(vni)], ['tag', String(vlan)]]);
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
  const insertController = (): Json => {
    const ctl = name('ctl');
    ops.push({
      op: 'insert', table: 'Controller', 'uuid-name': ctl,
      row: {
        target: o.controllerTarget, connection_mode: 'out-of-band', ...(o.maxBackoffMs ? { max_backoff: o.maxBackoffMs } : {}),
        ...(o.inactivityProbeMs !== undefined ? { inactivity_probe: o.inactivityProbeMs } : {}),
      },
    });
    return namedUuid(ctl);
  };
  const vxlanIface = (t: WantedTunnel): Record<string, Json> => ({ type: 'vxlan', options: ovsMap(t.options), ofport_request: t.ofport });

  const ensureBridge = (br: string, patch: string, peer: string, extra: readonly WantedTunnel[]): void => {
    const have = view.bridges.get(br);
    const patchIface = new Map([['peer', peer]]);
    if (!have) {
      const b = name('br');
      // The bridge's ports go in with it: rows no bridge references vanish at commit.
      const ports = [
        insertPort(br, { type: 'internal' }),
        insertPort(patch, { type: 'patch', options: ovsMap(patchIface), ofport_request: 1 }),
        ...extra.map((t) => insertPort(t.name, vxlanIface(t))),
      ];
      const controller = insertController();
      changes.push({ change: 'bridge created', bridge: br, ports: [br, patch, ...extra.map((t) => t.name)], controller: o.controllerTarget });
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
    // Controller first: updated in place, or added if the bridge has none (never removed).
    if (have.controllers.length === 0) {
      changes.push({ change: 'controller set', bridge: br, controller: o.controllerTarget });
      ops.push({ op: 'update', table: 'Bridge', where: [...where], row: { controller: insertController() } });
    } else if (have.controllers[0]!.target !== o.controllerTarget) {
      changes.push({ change: 'controller target changed', bridge: br, from: have.controllers[0]!.target, controller: o.controllerTarget });
      ops.push({ op: 'update', table: 'Controller', where: [['_uuid', '==', uuid(have.controllers[0]!.uuid)]], row: { target: o.controllerTarget } });
    }
    const probe = have.controllers[0]?.inactivityProbeMs;
    if (have.controllers.length && o.inactivityProbeMs !== undefined && probe !== o.inactivityProbeMs) {
      changes.push({ change: 'controller inactivity probe set', bridge: br, from: probe ?? 'unset', inactivityProbeMs: o.inactivityProbeMs });
      ops.push({ op: 'update', table: 'Controller', where: [['_uuid', '==', uuid(have.controllers[0]!.uuid)]], row: { inactivity_probe: o.inactivityProbeMs } });
    }
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
    for (const t of wanted) {
      const have = brTun.ports.find((p) => p.name === t.name);
      if (!have) {
        changes.push({ change: 'tunnel port added', bridge: BR_TUN, port: t.name, remoteIp: t.options.get('remote_ip')!, ofport: t.ofport });
        addPort(brTun.uuid, t.name, vxlanIface(t));
      } else fixInterface(BR_TUN, have.interfaces[0], { type: 'vxlan', options: t.options });
    }
    const stale = brTun.ports.filter((p) => p.interfaces[0]?.type === 'vxlan' && !wanted.some((t) => t.name === p.name));
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
      const other = lp ? vmPortConfig(lp.network, vniOf.get(lp.network)!, lp.vlan) : new Map<string, string>();
      const otherNow = new Map([...port.otherConfig].filter(([k]) => ['net_uuid', 'network_type', 'physical_network', 'segmentation_id', 'tag'].includes(k)));
      if (port.tag !== tag || !sameMap(otherNow, other)) {
        const kept = new Map([...port.otherConfig].filter(([k]) => !otherNow.has(k)));
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
  const ops = planHostSetup(view, s, o, changes);
  if (ops.length === 0) return 0;
  const root = uuid(view.rootUuid!);
  const results = await client.transact([
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
