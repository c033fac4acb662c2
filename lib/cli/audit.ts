// ofctl-ts audit --topology FILE (--host NAME | --all) [--bridge br-tun|br-int] [--rundir DIR]
//   [--profile neutron|classic] [--l2pop] [--arp-responder] [--firewall noop|openvswitch] [--controller-id ID]
// Read-only: for each host, reads its OVSDB (VLANs recorded in Port other_config, conjunction id
// blocks recorded on br-int, ofports, plugged ports) and the OVSDB of each managed host sharing a network with it (their plugged ports: l2pop),
// what the controller reads; renders its pipelines, dumps its bridges and prints, per host and bridge, the
// flows of ours missing (-), extra (+) and different (- then +), as `ovs-ofctl diff-flows` prints
// them. Learned and foreign flows are counted, never compared. Exit 0 all equal, 1 different, 2 error.
//
// A bridge is dumped through its management socket `DIR/BRIDGE.mgmt`, DIR being `--rundir` (one
// host), else for a `unix:` OVSDB address the directory of its socket (ovsdb-server and ovs-vswitchd
// share their run directory), else `$OVS_RUNDIR` (one host). A host whose OVSDB is `tcp:`/`ssl:`
// otherwise cannot be audited from here: its management sockets are on that machine.
import { dirname, join } from 'node:path';
import type { Flow } from '../../codecs/openflow/flow.js';
import { BRIDGES, BridgeName, pipelineFlows } from '../../pipelines/index.js';
import { FirewallDriver, pipelineOptions, Profile } from '../../pipelines/options.js';
import { flowOwner, FlowOwner } from '../flowset/reconciler.js';
import { BR_TUN, conjBasesFrom, pluggedPortsFrom, tunnelOfportsFrom, vlanHintsFrom } from '../controller/host-setup.js';
import { deriveHostState } from '../state/host-state.js';
import { Semaphore } from '../controller/semaphore.js';
import { diffFlows, formatDiff, isEmptyDiff } from '../flowset/flowset.js';
import { OvsdbClient } from '../ovsdb/client.js';
import { parseOvsdbTarget } from '../ovsdb/connection.js';
import { VSWITCH_TABLES, vswitchView, VswitchView } from '../ovsdb/vswitch.js';
import { dumpFlows } from '../switch/flow-ops.js';
import { type Host, readTopology, Topology } from '../topology/model.js';
import { cliTls, EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK, UsageError, withTarget } from './common.js';

export interface AuditArgs {
  readonly topology: string;
  readonly host?: string;
  readonly all: boolean;
  readonly bridge?: BridgeName;
  /** ovs-vswitchd's run directory on the audited host (holds BRIDGE.mgmt); one host only. */
  readonly rundir?: string;
  readonly profile: Profile;
  readonly l2pop: boolean;
  readonly arpResponder: boolean;
  readonly firewall?: FirewallDriver;
  readonly controllerId?: string;
}

/** Hosts audited at once (each: one OVSDB read, one dump per bridge). */
const HOSTS_AT_ONCE = 8;

/** Where the host's bridges' management sockets are (see the head of this file). */
function runDir(h: Host, a: AuditArgs, env: NodeJS.ProcessEnv): string {
  if (a.rundir) return a.rundir;
  if (h.ovsdb!.startsWith('unix:')) return dirname(h.ovsdb!.slice(5));
  if (a.host && env.OVS_RUNDIR) return env.OVS_RUNDIR;
  throw new Error(`its OVSDB is ${h.ovsdb}, not a local unix socket: its bridges' management sockets are on that machine; `
    + `run the audit there with --host ${h.name} --rundir DIR (ovs-vswitchd's run directory, e.g. /var/run/openvswitch)`);
}

interface HostReport {
  readonly lines: string[];
  readonly errors: string[];
  /** Reported, not fatal (as render reports them): a network without a free VLAN. */
  readonly warnings: string[];
  different: boolean;
}

/** A host's OVSDB as the controller reads it, or why it could not be read. */
type HostView = { readonly view: VswitchView } | { readonly error: string };

async function readView(h: Host): Promise<HostView> {
  try {
    const tls = h.ovsdb!.startsWith('ssl:') ? cliTls() : undefined;
    const client = await OvsdbClient.start(parseOvsdbTarget(h.ovsdb!, tls), { tables: VSWITCH_TABLES });
    const view = vswitchView(client.replica);
    await client.close();
    return { view };
  } catch (err) {
    return { error: `cannot read its OVSDB at ${h.ovsdb}: ${(err as Error).message}` };
  }
}

async function auditHost(h: Host, a: AuditArgs, bridges: readonly BridgeName[], topo: Topology, hv: HostView,
  remotePlugged: (host: string) => ReadonlySet<string> | undefined): Promise<HostReport> {
  const rep: HostReport = { lines: [], errors: [], warnings: [], different: false };
  let dir: string;
  try {
    dir = runDir(h, a, process.env);
  } catch (err) {
    rep.errors.push(`host ${h.name}: ${(err as Error).message}`);
    return rep;
  }
  if ('error' in hv) {
    rep.errors.push(`host ${h.name}: ${hv.error}`);
    return rep;
  }
  // The same inputs the controller reads: VLANs and conjunction id blocks recorded in OVSDB, the
  // live ofports, what is plugged here and on the hosts sharing a network.
  const { view } = hv;
  let conjHints: Map<string, number> | undefined;
  try {
    conjHints = conjBasesFrom(view);
  } catch (err) {
    // As the controller: not audited against ids guessed in its place.
    rep.errors.push(`host ${h.name}: ${(err as Error).message}`);
    return rep;
  }
  const state = deriveHostState(topo, h.name, {
    vlanHints: vlanHintsFrom(view), ofports: tunnelOfportsFrom(view), plugged: pluggedPortsFrom(view), remotePlugged, ...(conjHints ? { conjHints } : {}),
  });
  for (const e of state.errors) rep.warnings.push(`host ${h.name}: ${e}`);
  const opts = pipelineOptions({
    profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall: a.firewall ?? 'noop', ...(a.controllerId ? { controllerId: a.controllerId } : {}),
  });
  for (const bridge of bridges) {
    const cookie = bridge === BR_TUN ? opts.cookies.brTun : opts.cookies.brInt;
    const mgmt = `unix:${join(dir, `${bridge}.mgmt`)}`;
    let dumped: Flow[];
    try {
      dumped = await withTarget(mgmt, (c) => dumpFlows(c));
    } catch (err) {
      rep.errors.push(`host ${h.name}: bridge ${bridge}: cannot dump ${mgmt}: ${(err as Error).message}`);
      continue;
    }
    const by: Record<FlowOwner, Flow[]> = { ours: [], learned: [], foreign: [] };
    for (const f of dumped) by[flowOwner(f, { cookie })].push(f);
    const d = diffFlows(pipelineFlows(state, bridge, opts), by.ours);
    const ignored = `ignored: ${by.learned.length} learned, ${by.foreign.length} foreign`;
    if (isEmptyDiff(d)) {
      rep.lines.push(`host ${h.name} bridge ${bridge}: equal, ${by.ours.length} flows (${ignored})`);
    } else {
      rep.different = true;
      rep.lines.push(`host ${h.name} bridge ${bridge}: ${d.onlyA.length} missing, ${d.onlyB.length} extra, ${d.changed.length} different `
        + `(${by.ours.length} flows of ours on the switch; ${ignored})`, ...formatDiff(d));
    }
  }
  return rep;
}

export async function auditCommand(a: AuditArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (!a.host === !a.all) throw new UsageError('name one host (--host NAME) or --all');
  if (a.rundir && !a.host) throw new UsageError('--rundir is one host\'s run directory: use it with --host');
  const topo = readTopology(a.topology);
  let hosts: Host[];
  if (a.host) {
    const h = topo.hosts.get(a.host);
    if (!h) throw new Error(`${a.topology}: no host ${a.host}`);
    if (!h.ovsdb) throw new Error(`host ${a.host} has no "ovsdb" address in ${a.topology}: nothing to read its state from`);
    hosts = [h];
  } else {
    hosts = [...topo.hosts.values()].filter((h) => h.ovsdb);
    if (hosts.length === 0) throw new Error(`${a.topology}: no host has an "ovsdb" address`);
  }
  const bridges = a.bridge ? [a.bridge] : BRIDGES;
  // Which remote ports a host's l2pop holds depends on what their hosts have plugged: the OVSDB of
  // every managed host sharing a network with an audited one is read too (as the controller does).
  const read = new Map<string, Host>(hosts.map((h) => [h.name, h]));
  for (const h of hosts) {
    for (const p of topo.portsOn(h.name)) {
      for (const n of topo.hostsIn(p.network)) {
        const other = topo.hosts.get(n);
        if (other?.ovsdb) read.set(n, other);
      }
    }
  }
  const slots = new Semaphore(HOSTS_AT_ONCE);
  const views = new Map(await Promise.all([...read.values()].map(async (h) => [h.name, await slots.run(() => readView(h))] as const)));
  const plugged = new Map<string, ReadonlySet<string>>();
  for (const [name, hv] of views) if ('view' in hv) plugged.set(name, new Set(pluggedPortsFrom(hv.view).keys()));
  const remotePlugged = (host: string): ReadonlySet<string> | undefined => plugged.get(host);
  // Reported in topology order, whatever order the hosts answer in.
  const reports = await Promise.all(hosts.map((h) => slots.run(() => auditHost(h, a, bridges, topo, views.get(h.name)!, remotePlugged))));
  let code = EXIT_OK;
  for (const [name, hv] of views) {
    if ('error' in hv && !hosts.some((h) => h.name === name)) {
      err(`host ${name}: ${hv.error}; its ports are counted as plugged (as the controller counts them until it reaches the host)`);
    }
  }
  for (const r of reports) {
    for (const l of r.lines) out(l);
    for (const e of [...r.warnings, ...r.errors]) err(e);
    if (r.errors.length) code = EXIT_ERROR;
    else if (r.different && code === EXIT_OK) code = EXIT_DIFFERENT;
  }
  return code;
}
