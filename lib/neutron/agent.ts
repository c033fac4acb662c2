// Neutron's "Open vSwitch agent" for each host this controller serves (issue 17): what
// neutron-openvswitch-agent says and asks on Neutron's agent RPC, with our pipelines doing its work.
//   - report_state heartbeats (start_flag on the first), so that ML2 binds ports to the host;
//   - tunnel_sync at start, for the other agents' tunnel endpoints;
//   - the device loop: an iface-id plugged into br-int -> get_devices_details_list_and_failed_devices
//     and security_group_info_for_devices -> topology events -> flows and tag programmed ->
//     update_device_list up (the port goes ACTIVE, Nova's VIF is plugged); unplugged -> down;
//   - the server's casts (port, network, l2pop, tunnel, security-group updates) as topology events.
// Everything the server says goes through neutron-map.ts and the TopologyStore's validation: a
// malformed or inconsistent message is logged with its topic and changes nothing.
import { randomUUID } from 'node:crypto';
import type { Json, JsonObject } from '../../codecs/oslo/envelope.js';
import type { FirewallDriver } from '../../pipelines/options.js';
import type { Logger } from '../log.js';
import type { HostState } from '../state/host-state.js';
import type { Host, Port } from '../topology/model.js';
import { AgentView, Mapped, mapCast, mapDevices, mapSecurityGroupInfo, mapTunnelSync, NeutronMapError, remotePortId } from '../topology/neutron-map.js';
import type { TopologyStore } from '../topology/store.js';
import type { TopologyEvent } from '../topology/events.js';
import type { CallOptions, Handler, Incoming } from './rpc.js';

/** neutron_lib.agent.topics and the agent's call versions (neutron/agent/rpc.py, Zed). */
export const TOPICS = {
  plugin: 'q-plugin',
  reports: 'q-reports-plugin',
  /** Fanout topics the OVS agent consumes (q-agent-notifier-<resource>-<event>); l2pop also per host. */
  notifier: [
    'port-update', 'port-delete', 'network-update', 'network-delete', 'security_group-update',
    'tunnel-update', 'tunnel-delete', 'l2population-update', 'port_binding-activate', 'port_binding-deactivate',
  ].map((t) => `q-agent-notifier-${t}`),
} as const;
const VERSIONS = { reportState: '1.2', tunnelSync: '1.4', details: '1.5', deviceList: '1.9', sgInfo: '1.3' } as const;

/** The part of NeutronRpc the agent uses (tests may hand in another). */
export interface RpcClient {
  call(topic: string, method: string, args: JsonObject, version: string, o: CallOptions): Promise<Json>;
  consume(topic: string, hosts: readonly string[], handler: Handler): Promise<string>;
  consumeHost(host: string): Promise<void>;
  stopHost(host: string): void;
}

/** This replica's leadership of a host's shard (lib/cluster: a generation, 'paused', or none). */
export type Leadership = (host: string) => bigint | 'paused' | undefined;

/** A call for a host this replica does not (or no longer) speak for: not sent. */
class NotSpeaking extends Error {}

export interface NeutronAgentOptions {
  /** The hosts this controller speaks for (from the hosts file): name as Neutron knows it, tunnel IP. */
  readonly hosts: readonly Host[];
  /** Seconds between heartbeats (Neutron's report_interval, 30 by default; agent_down_time is 75). */
  readonly reportIntervalS: number;
  /** Seconds a call may take (oslo's rpc_response_timeout, 60 by default). */
  readonly callTimeoutS: number;
  /** What the agent reports it does (configurations): as the pipelines are set. */
  readonly l2pop: boolean;
  readonly arpResponder: boolean;
  readonly firewall: FirewallDriver;
  readonly datapathType: string;
  readonly log: Logger;
  /** Devices per call (Neutron's rpc_resources_processing_step is 20; details are asked in bigger batches). */
  readonly batch?: number;
  /** A failed call is tried again after this long (ms). */
  readonly retryMs?: number;
  /**
   * One replica among several (lib/cluster/replica.ts): every replica hears the fanouts and keeps
   * the whole topology, but speaks for a host (reports, device loop, tunnel and security-group
   * calls, its `<topic>.<host>` queues) only between lead() and stepDown(), and only while
   * follow()'s leadership is a generation. Until then it speaks for no host.
   */
  readonly replicated?: boolean;
}

export interface NeutronHostStatus {
  readonly host: string;
  /** The first sync is done: the controller writes on the host. */
  readonly ready: boolean;
  /** Under replicas: whether this replica speaks for the host now (leads its shard). */
  readonly speaking?: boolean;
  readonly plugged: number;
  /** Reported up (ACTIVE) to Neutron. */
  readonly up: number;
  /** Being fetched, waiting to be programmed or reported, or failed and to be asked again. */
  readonly waiting: number;
  readonly heartbeatLateMs: number;
  readonly lastReport?: { readonly at: string; readonly result?: string; readonly error?: string };
}

/** The agent_state a real neutron-openvswitch-agent reports (ovs_neutron_agent.py, Zed). */
export function agentState(host: Host, o: NeutronAgentOptions, startFlag: boolean, devices: number): JsonObject {
  return {
    binary: 'neutron-openvswitch-agent', host: host.name, topic: 'N/A', agent_type: 'Open vSwitch agent',
    configurations: {
      bridge_mappings: {}, tunnel_types: ['vxlan'], tunneling_ip: host.tunnelIp, l2_population: o.l2pop,
      arp_responder_enabled: o.arpResponder, enable_distributed_routing: false, log_agent_heartbeats: false,
      // No capabilities: ML2 would bind a netdev host's ports as vhost-user if iface_types named
      // dpdkvhostuser, and we program no vhost-user ports.
      extensions: [], datapath_type: o.datapathType, ovs_capabilities: {}, vhostuser_socket_dir: '/var/run/openvswitch',
      // Neutron's native OVS firewall plugs VMs straight into br-int; noop has no filter either.
      ovs_hybrid_plug: false, baremetal_smartnic: false, integration_bridge: 'br-int', tunnel_bridge: 'br-tun',
      firewall_driver: o.firewall === 'openvswitch' ? 'openvswitch' : 'noop', devices,
      in_distributed_mode: false,
    },
    ...(startFlag ? { start_flag: true } : {}),
    uuid: randomUUID(),
  };
}

/** report_state's time: '%Y-%m-%dT%H:%M:%S.%f' in UTC, as the agent sends it. */
export function reportTime(d = new Date()): string {
  return `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000`;
}

/** The admin context the agent's calls carry (oslo flattens it to _context_* keys). */
function adminContext(): JsonObject {
  return {
    user_id: null, project_id: null, tenant_id: null, is_admin: true, roles: ['admin'], read_deleted: 'no',
    request_id: `req-${randomUUID()}`, show_deleted: false, auth_token: null, timestamp: reportTime().replace('T', ' '),
  };
}

/** One served host's device loop. */
class HostDevices {
  /** Plugged iface-ids on br-int, as the host's OVSDB last showed them. */
  plugged = new Set<string>();
  /** To fetch (details and security groups), to report up once programmed, to report down. */
  readonly toFetch = new Set<string>();
  readonly pendingUp = new Set<string>();
  readonly readyUp = new Set<string>();
  readonly toDown = new Set<string>();
  /** Their groups' rules or members changed: security-group info asked again (not details). */
  readonly toRefreshGroups = new Set<string>();
  /** Neutron failed them (failed_devices): fetched again after a pause, not at once. */
  readonly failed = new Set<string>();
  /** Reported up to Neutron (ACTIVE). */
  readonly up = new Set<string>();
  /** The next device-up round asks l2pop for the networks' whole FDB (after a start or a resync). */
  refreshTunnels = true;
  startFlag = true;
  converged: HostState | undefined;
  /**
   * Until the first sync is done nothing is written on the host (the controller's gate): the
   * topology is what Neutron said before, so a restart diffs against all of it, not part.
   */
  initial = true;
  tunnelsSynced = false;
  /** The host's OVSDB has told what is plugged at least once. */
  pluggedKnown = false;
  /** When an l2pop cast for this host last came (its FDB after a refresh comes as casts). */
  lastL2popAt = 0;
  /** Ids whose details are being asked for: a down for them waits, so the server sees details then down. */
  readonly fetching = new Set<string>();
  /**
   * Two lanes, each one call after another: asking for details and reporting up/down run side by
   * side, so ports plugged while a report is in flight are fetched meanwhile (the server answers
   * both at once) rather than after it.
   */
  readonly fetchLane = new Lane();
  readonly reportLane = new Lane();
  retry: NodeJS.Timeout | undefined;
  /** Under replicas, while the leadership is 'paused': the device loop's next try. */
  resume: NodeJS.Timeout | undefined;
  /** Under replicas: bumped on each lead and step-down, so a sync begun in an earlier term does not finish in this one. */
  term = 0;
  constructor(readonly host: Host) {}
}

/** A loop that runs its rounds one after another; a kick while one runs asks for another after it. */
class Lane {
  running: Promise<void> | undefined;
  again = false;
}

export class NeutronAgent {
  private readonly devices = new Map<string, HostDevices>();
  private readonly served: ReadonlySet<string>;
  /** Neutron port id -> its network and MAC (from port_update), for port_delete (see forgetRemote). */
  private readonly portKeys = new Map<string, { readonly network: string; readonly mac: string }>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Called when a host's first sync is done and the controller may write on it. */
  onReady: ((host: string) => void) | undefined;
  /** The VM ports an earlier run programmed on a host (the controller reads them from OVSDB); undefined: all plugged ones count. */
  programmedOn: ((host: string) => ReadonlySet<string> | undefined) | undefined;
  private stopped = false;
  /** Neutron's answer to the last heartbeat of each host ('new', 'alive', 'revived'), for status. */
  readonly lastReport = new Map<string, { readonly at: string; readonly result?: string; readonly error?: string }>();
  /** The most a heartbeat started after its time (previous + interval), in ms, per host: must stay small. */
  readonly heartbeatLateMs = new Map<string, number>();
  private readonly lastBeat = new Map<string, number>();
  /** Under replicas: the hosts between lead() and stepDown(), and the cluster's word on each. */
  private readonly leading = new Set<string>();
  private leadership: Leadership | undefined;
  /** Host-directed messages, handled one after another per host (they may wait on the leadership). */
  private readonly directed = new Map<string, Promise<unknown>>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly store: TopologyStore,
    private readonly o: NeutronAgentOptions,
  ) {
    for (const h of o.hosts) this.devices.set(h.name, new HostDevices(h));
    this.served = new Set(o.hosts.map((h) => h.name));
  }

  /** Devices per details call (the server answers a hundred in well under its timeout). */
  private get batch(): number {
    return this.o.batch ?? 100;
  }

  /** Devices per update_device_list call: the agent's rpc_resources_processing_step. */
  private readonly step = 20;

  /** The hosts spoken for (under replicas: those this replica may speak for, see lead()). */
  get hosts(): readonly string[] {
    return [...this.served];
  }

  /** Whether this replica may write on the bus for a host now: always alone; under replicas, while leading with a generation. */
  speaks(host: string): boolean {
    return !this.o.replicated || (this.leading.has(host) && typeof this.leadership?.(host) === 'bigint');
  }

  /** A call for a host (refused, unsent, when this replica does not speak for it now), or for none. */
  private call(host: string | undefined, topic: string, method: string, args: JsonObject, version: string, timeoutS = this.o.callTimeoutS): Promise<Json> {
    if (host !== undefined && !this.speaks(host)) return Promise.reject(new NotSpeaking(`${method} for ${host}: not its shard's leader`));
    return this.rpc.call(topic, method, args, version, { timeoutMs: timeoutS * 1000, context: adminContext(), namespace: null });
  }

  /** update_device_list for one host: the ids Neutron failed, up and down. */
  private async deviceList(host: string, up: readonly string[], down: readonly string[], refreshTunnels: boolean): Promise<{ readonly failedUp: ReadonlySet<string>; readonly failedDown: ReadonlySet<string> }> {
    const res = obj(await this.call(host, TOPICS.plugin, 'update_device_list', {
      devices_up: [...up], devices_down: [...down], agent_id: agentId(host), host, refresh_tunnels: refreshTunnels,
    }, VERSIONS.deviceList));
    return { failedUp: new Set(strings(res.failed_devices_up)), failedDown: new Set(strings(res.failed_devices_down)) };
  }

  /** Consumes the server's casts, reports every host, syncs tunnels, then beats every reportIntervalS. */
  async start(): Promise<void> {
    // Replicas hear the fanouts only, until they lead a host (lead() consumes its queues).
    const hosts = this.o.replicated ? [] : [...this.served];
    for (const topic of TOPICS.notifier) await this.rpc.consume(topic, hosts, (m) => (m.host && this.o.replicated ? this.onDirected(m) : this.onCast(m)));
    // As the agent starts: is a server there at all (a warning only; the heartbeats keep trying).
    await this.call(undefined, TOPICS.reports, 'has_alive_neutron_server', {}, VERSIONS.reportState)
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'neutron agent: no neutron-server answers yet; carrying on'));
    // One round after another, never two at once (a slow server must not stack reports up), each
    // timed from the start of the one before. A failed report is tried again within 5 s, not a
    // whole interval later: two missed in a row and Neutron (agent_down_time 75 s) takes the agent
    // for dead and stops binding ports to it. The first round is over before any device is asked for.
    const beat = async (): Promise<void> => {
      const t0 = Date.now();
      const ok = await this.reportAll();
      const every = this.o.reportIntervalS * 1000;
      if (!this.stopped) this.heartbeat = setTimeout(() => void beat(), Math.max(0, (ok ? every : Math.min(every, 5000)) - (Date.now() - t0)));
    };
    await beat();
    for (const d of this.devices.values()) this.kick(d);
  }

  /** Under replicas: the cluster's leadership, asked before each write for a host. */
  follow(leadership: Leadership): void {
    this.leadership = leadership;
  }

  /**
   * Under replicas: this replica now leads these hosts' shard. It consumes their queues, reports
   * for them at once and resyncs them as after a restart (tunnels, every plugged device, reported
   * up with refresh_tunnels for l2pop's full FDB); the controller writes on them once that is done.
   * start_flag is not sent again on a later lead: in Neutron 21 it only stamps started_at and runs
   * the clock check and placement/segment syncs once per agent start (agents_db.py); the full FDB a
   * takeover needs comes from refresh_tunnels (l2pop update_port_up). A replica's first report of
   * a host does carry it: another machine, whose clock Neutron has not checked, speaks for it now.
   */
  async lead(hosts: readonly string[]): Promise<void> {
    const mine = hosts.map((h) => this.devices.get(h)).filter((d): d is HostDevices => d !== undefined && !this.leading.has(d.host.name));
    for (const d of mine) {
      this.leading.add(d.host.name);
      d.term++;
      this.lastBeat.delete(d.host.name);
      d.initial = true;
      d.up.clear();
      d.failed.clear();
    }
    this.o.log.info({ hosts: mine.map((d) => d.host.name) }, 'neutron agent: leading; reporting and resyncing these hosts');
    await Promise.all(mine.map(async (d) => {
      const host = d.host.name;
      await Promise.all([
        this.rpc.consumeHost(host).catch((err: unknown) => this.o.log.warn({ host, err: (err as Error).message }, 'neutron agent: consuming the host\'s queues failed; declared again on reconnect')),
        this.report(d),
      ]);
      if (this.leading.has(host)) await this.resync([host]);
    }));
  }

  /**
   * Under replicas: no longer the leader of these hosts. Before anything else it stops consuming
   * their queues (what comes for them goes back to the queue) and reporting for them; their
   * device loop stops, and it is synced again whole if this replica leads them again.
   */
  stepDown(hosts: readonly string[]): void {
    for (const host of hosts) {
      const d = this.devices.get(host);
      if (!d || !this.leading.delete(host)) continue;
      this.rpc.stopHost(host);
      clearTimeout(d.retry);
      clearTimeout(d.resume);
      d.retry = d.resume = undefined;
      d.initial = true;
      d.term++;
      this.lastBeat.delete(host);
      this.o.log.info({ host }, 'neutron agent: no longer leading; not speaking for the host');
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.heartbeat);
    for (const d of this.devices.values()) {
      clearTimeout(d.retry);
      clearTimeout(d.resume);
    }
  }

  /**
   * After the bus came back (or the server revived a host): report, sync tunnels and fetch every
   * plugged device again, as the agent does after an RPC failure. Nothing is removed for want of
   * news: what the server still says is applied over what is there, and l2pop's full FDB is asked for.
   */
  async resync(hosts: Iterable<string> = this.served): Promise<void> {
    for (const name of hosts) {
      const d = this.devices.get(name);
      if (!d) continue;
      d.refreshTunnels = true;
      d.tunnelsSynced = false;
      // Reported up again: with refresh_tunnels, l2pop sends the host its networks' whole FDB.
      d.up.clear();
      for (const id of d.plugged) d.toFetch.add(id);
      this.kick(d);
    }
  }

  /** Whether the controller may write on a host: its first sync is done. */
  ready(host: string): boolean {
    return this.devices.get(host)?.initial === false;
  }

  /** The controller's news: the iface-ids plugged into a host's br-int. */
  plugged(host: string, ids: ReadonlySet<string>): void {
    const d = this.devices.get(host);
    if (!d) return;
    d.pluggedKnown = true;
    for (const id of ids) if (!d.plugged.has(id)) d.toFetch.add(id);
    for (const id of d.plugged) {
      if (ids.has(id)) continue;
      d.toFetch.delete(id);
      d.toRefreshGroups.delete(id);
      d.pendingUp.delete(id);
      d.readyUp.delete(id);
      d.toDown.add(id);
    }
    d.plugged = new Set(ids);
    this.kick(d);
  }

  /** The controller's news: a host's OVSDB setup and both bridges hold this state. */
  converged(host: string, state: HostState): void {
    const d = this.devices.get(host);
    if (!d) return;
    d.converged = state;
    if (this.promote(d)) this.kick(d);
  }

  /** Devices waiting to be reported up that the last converged state programs. */
  private promote(d: HostDevices): boolean {
    if (!d.converged || d.pendingUp.size === 0) return false;
    let any = false;
    for (const p of d.converged.localPorts) {
      if (!d.pendingUp.has(p.id)) continue;
      d.pendingUp.delete(p.id);
      d.readyUp.add(p.id);
      any = true;
    }
    return any;
  }

  private kick(d: HostDevices): void {
    this.runLane(d, d.fetchLane, () => this.fetchRound(d));
    this.runLane(d, d.reportLane, () => this.reportRound(d));
  }

  private runLane(d: HostDevices, lane: Lane, round: () => Promise<void>): void {
    if (this.stopped) return;
    if (!this.speaks(d.host.name)) return this.resumeLater(d);
    if (lane.running) {
      lane.again = true;
      return;
    }
    lane.running = (async () => {
      do {
        lane.again = false;
        try {
          await round();
        } catch (err) {
          if (this.stopped) return;
          if (err instanceof NotSpeaking) return this.resumeLater(d);
          this.o.log.warn({ host: d.host.name, err: (err as Error).message }, 'neutron agent: device loop failed; tried again');
          this.retryLater(d);
        }
      } while (lane.again && !this.stopped);
      if (d.failed.size) this.retryLater(d);
    })().finally(() => (lane.running = undefined));
  }

  /** The fetch lane: tunnels once, details of new plugs, groups asked again, then the first sync. */
  private async fetchRound(d: HostDevices): Promise<void> {
    if (!d.tunnelsSynced) await this.tunnelSync(d.host);
    d.tunnelsSynced = true;
    while (d.toFetch.size) {
      await this.fetch(d, [...d.toFetch].slice(0, this.batch));
      // What it made ready (or a down it held back) goes out now, while the next batch is asked for.
      this.runLane(d, d.reportLane, () => this.reportRound(d));
    }
    while (d.toRefreshGroups.size) await this.refreshGroups(d, this.representatives(d.toRefreshGroups));
    if (d.initial && d.pluggedKnown && d.toFetch.size === 0) await this.firstSync(d);
  }

  /** The report lane: downs, then ups (after the first sync, which reports its own). */
  private async reportRound(d: HostDevices): Promise<void> {
    if (downsReady(d)) await this.devicesDown(d);
    if (!d.initial && d.readyUp.size) await this.devicesUp(d);
  }

  /** Leading with the leadership 'paused' (its lease not confirmed yet): the loop goes on once it is. */
  private resumeLater(d: HostDevices): void {
    if (d.resume || !this.leading.has(d.host.name)) return;
    d.resume = setTimeout(() => {
      d.resume = undefined;
      this.kick(d);
    }, 200);
  }

  private retryLater(d: HostDevices): void {
    if (d.retry || this.stopped) return;
    d.retry = setTimeout(() => {
      d.retry = undefined;
      for (const id of d.failed) if (d.plugged.has(id)) d.toFetch.add(id);
      d.failed.clear();
      this.kick(d);
    }, this.o.retryMs ?? 2000);
  }

  private async devicesDown(d: HostDevices): Promise<void> {
    const ids = [...d.toDown].filter((id) => !d.fetching.has(id)).slice(0, this.step);
    const failed = (await this.deviceList(d.host.name, [], ids, false)).failedDown;
    for (const id of ids) {
      // A failed down is not asked again at once: the next round (or resync) does.
      d.toDown.delete(id);
      if (!failed.has(id)) d.up.delete(id);
    }
    // An unplugged port of this host leaves the topology (its flows went when it was unplugged);
    // its addresses stay in its groups through Neutron's member lists.
    const t = this.store.topology;
    const gone = ids.filter((id) => !failed.has(id) && t.ports.get(id)?.host === d.host.name && !d.plugged.has(id));
    this.apply(gone.map((id) => ({ type: 'remove', kind: 'port', id })), `update_device_list down (${d.host.name})`);
    this.o.log.info({ host: d.host.name, down: ids.length - failed.size, failed: [...failed] }, 'neutron agent: devices down');
    if (downsReady(d)) d.reportLane.again = true;
  }

  private async fetch(d: HostDevices, ids: string[]): Promise<void> {
    const host = d.host.name;
    for (const id of ids) d.fetching.add(id);
    let details: Json;
    let sg: Json;
    try {
      [details, sg] = await Promise.all([
        this.call(host, TOPICS.plugin, 'get_devices_details_list_and_failed_devices', { devices: ids, agent_id: agentId(host), host }, VERSIONS.details),
        this.call(host, TOPICS.plugin, 'security_group_info_for_devices', { devices: ids, call_version: VERSIONS.sgInfo }, VERSIONS.sgInfo),
      ]);
    } finally {
      for (const id of ids) d.fetching.delete(id);
    }
    for (const id of ids) d.toFetch.delete(id);
    this.o.log.debug({ host, devices: ids }, 'neutron agent: device details fetched');
    let mapped: Mapped;
    try {
      mapped = mapDevices(this.view(host), details, sg);
    } catch (err) {
      if (!(err instanceof NeutronMapError)) throw err;
      this.o.log.warn({ host, devices: ids, err: err.message }, 'neutron agent: device details refused; nothing changed');
      return;
    }
    for (const r of mapped.refused) this.o.log.warn({ host }, `neutron agent: ${r}`);
    // A port unplugged while its details were asked for does not come back (its down is on its way).
    const events = mapped.events.filter((e) => !(e.type === 'port' && ids.includes(e.id) && !d.plugged.has(e.id)));
    if (!this.apply(events, `get_devices_details_list_and_failed_devices (${host})`)) return;
    // Still plugged and now in the topology as this host's: wait until programmed, then up (again:
    // asking for details makes Neutron set the port BUILD, as for the agent's port_update).
    const t = this.store.topology;
    for (const id of ids) if (d.plugged.has(id) && t.ports.get(id)?.host === host) d.pendingUp.add(id);
    // Neutron failed these: asked again after a pause.
    for (const id of mapped.refetch) d.failed.add(id);
    this.promote(d);
  }

  /**
   * The devices to ask security-group info for on a member or rule change: one per distinct set of
   * groups (the answer's rules and member lists are the groups', whichever of their ports asks), so
   * a new member of a group of n ports costs one device's answer, not n (n² over n new ports).
   * Devices not in the topology yet are asked for as they are. At most a batch.
   */
  private representatives(ids: ReadonlySet<string>): Map<string, string[]> {
    const t = this.store.topology;
    const bySet = new Map<string, string[]>();
    for (const id of ids) {
      const groups = t.ports.get(id)?.securityGroups;
      const key = groups === undefined ? `device ${id}` : [...groups].sort().join(' ');
      const same = bySet.get(key);
      if (same) same.push(id);
      else bySet.set(key, [id]);
    }
    // Asked for: the first device of each set; covered: all of the set's.
    return new Map([...bySet.values()].slice(0, this.batch).map((same) => [same[0]!, same]));
  }

  /**
   * A group's rules or members changed: as the agent's firewall refresh, security-group info only.
   * (Device details would set the ports BUILD, and l2pop answers the report up that must follow with
   * the port's FDB entry again, which can overtake a deletion.)
   */
  private async refreshGroups(d: HostDevices, sets: ReadonlyMap<string, readonly string[]>): Promise<void> {
    const host = d.host.name;
    const ids = [...sets.keys()];
    // Taken off before the call: a change while it is in flight asks again after it.
    const asked = [...sets.values()].flat();
    for (const id of asked) d.toRefreshGroups.delete(id);
    let sg: Json;
    try {
      sg = await this.call(host, TOPICS.plugin, 'security_group_info_for_devices', { devices: ids, call_version: VERSIONS.sgInfo }, VERSIONS.sgInfo);
    } catch (err) {
      for (const id of asked) d.toRefreshGroups.add(id);
      throw err;
    }
    this.o.log.debug({ host, devices: ids }, 'neutron agent: security groups fetched');
    this.applyMapped(() => {
      const m = mapSecurityGroupInfo(this.view(host), sg);
      return { events: m.groups, refused: m.refused, refetch: [] };
    }, `security_group_info_for_devices (${host})`);
  }

  private async devicesUp(d: HostDevices): Promise<void> {
    const host = d.host.name;
    const ids = [...d.readyUp].slice(0, this.step);
    const refresh = d.refreshTunnels;
    const failed = (await this.deviceList(host, ids, [], refresh)).failedUp;
    for (const id of ids) {
      d.readyUp.delete(id);
      if (failed.has(id)) d.failed.add(id);
      else d.up.add(id);
    }
    if (refresh && failed.size < ids.length) d.refreshTunnels = false;
    if (d.readyUp.size) d.reportLane.again = true;
    this.o.log.info({ host, up: ids.length - failed.size, failed: [...failed], refreshTunnels: refresh }, 'neutron agent: devices up');
  }

  /** The other agents' tunnel endpoints (a failed call fails the round: tried again). */
  private async tunnelSync(host: Host): Promise<void> {
    const res = await this.call(host.name, TOPICS.plugin, 'tunnel_sync', { tunnel_ip: host.tunnelIp, tunnel_type: 'vxlan', host: host.name }, VERSIONS.tunnelSync);
    this.applyMapped(() => mapTunnelSync(this.view(host.name), res), `tunnel_sync (${host.name})`);
  }

  /**
   * The end of a host's first sync, once every plugged device has been asked for: as the real
   * agent's first loop, the host's programmed ports are reported up with refresh_tunnels, which
   * makes l2pop send this host its networks' whole FDB (as casts); when those have stopped coming
   * the controller may write. Programmed: by the previous run (its tags in OVSDB); the first pass
   * then finds their flows as they are and changes nothing that is still right. A port plugged
   * while no controller ran is not programmed yet: it is reported up once its flows are in (the
   * converged state), as any new port, and that report asks for the FDB if this one did not.
   */
  private async firstSync(d: HostDevices): Promise<void> {
    const host = d.host.name;
    const term = d.term;
    const t = this.store.topology;
    const programmed = this.programmedOn?.(host);
    const ids = [...d.plugged].filter((id) => t.ports.get(id)?.host === host && (programmed?.has(id) ?? true));
    for (let i = 0; i < ids.length; i += this.step) {
      const chunk = ids.slice(i, i + this.step);
      const failed = (await this.deviceList(host, chunk, [], true)).failedUp;
      for (const id of chunk) {
        if (failed.has(id)) continue;
        d.up.add(id);
        d.pendingUp.delete(id);
        d.readyUp.delete(id);
      }
    }
    if (ids.length) {
      // l2pop's casts come on another queue than the reply: wait until they have been quiet 1 s (at most 10 s).
      const replied = Date.now();
      while (Date.now() - replied < 10_000 && Date.now() - Math.max(replied, d.lastL2popAt) < 1000) await sleep(100);
    }
    // Stepped down meanwhile (and perhaps leading again, with a sync of its own to come): not done.
    // Paused: done again once the leadership is confirmed.
    if (d.term !== term) return;
    if (!this.speaks(host)) return this.resumeLater(d);
    d.initial = false;
    if (ids.length) d.refreshTunnels = false;
    this.o.log.info({ host, devices: ids.length }, 'neutron agent: first sync done; the host is programmed');
    this.onReady?.(host);
  }

  /** Heartbeats, one host after another (the server writes each to its DB); false if one failed. */
  private async reportAll(): Promise<boolean> {
    let ok = true;
    for (const d of this.devices.values()) {
      if (this.stopped) return ok;
      if (!(await this.report(d))) ok = false;
    }
    return ok;
  }

  /** One host's heartbeat; false if it failed. Under replicas, none for a host this replica does not speak for. */
  private async report(d: HostDevices): Promise<boolean> {
    if (!this.speaks(d.host.name)) return true;
    const now = Date.now();
    const at = new Date(now).toISOString();
    const last = this.lastBeat.get(d.host.name);
    this.lastBeat.set(d.host.name, now);
    if (last !== undefined) {
      // Late: the event loop was held (a large sync) or the round before took long (a slow server).
      const late = now - last - this.o.reportIntervalS * 1000;
      this.heartbeatLateMs.set(d.host.name, Math.max(late, this.heartbeatLateMs.get(d.host.name) ?? 0));
      if (late > 1000) this.o.log.warn({ host: d.host.name, lateMs: late }, 'neutron agent: heartbeat late');
    }
    try {
      const res = await this.call(d.host.name, TOPICS.reports, 'report_state', {
        agent_state: { agent_state: agentState(d.host, this.o, d.startFlag, d.plugged.size) }, time: reportTime(),
      }, VERSIONS.reportState, Math.min(this.o.callTimeoutS, this.o.reportIntervalS));
      const result = typeof res === 'string' ? res : JSON.stringify(res);
      this.lastReport.set(d.host.name, { at, result });
      d.startFlag = false;
      // The server had this agent down: it may have missed what the server sent meanwhile.
      if (result === 'revived') {
        this.o.log.warn({ host: d.host.name }, 'neutron agent: Neutron revived the agent; full resync');
        void this.resync([d.host.name]);
      }
    } catch (err) {
      if (err instanceof NotSpeaking) return true;
      this.lastReport.set(d.host.name, { at, error: (err as Error).message });
      this.o.log.warn({ host: d.host.name, err: (err as Error).message }, 'neutron agent: report_state failed');
      return false;
    }
    return true;
  }

  /** What `ofctl-ts status` shows of each served host's agent. */
  status(): readonly NeutronHostStatus[] {
    return [...this.devices.values()].map((d) => ({
      host: d.host.name, ready: !d.initial, ...(this.o.replicated ? { speaking: this.speaks(d.host.name) } : {}), plugged: d.plugged.size, up: d.up.size,
      waiting: d.toFetch.size + d.toRefreshGroups.size + d.pendingUp.size + d.readyUp.size + d.failed.size, heartbeatLateMs: this.heartbeatLateMs.get(d.host.name) ?? 0,
      ...(this.lastReport.has(d.host.name) ? { lastReport: this.lastReport.get(d.host.name)! } : {}),
    }));
  }

  private view(host: string): AgentView {
    return { host, served: this.served, topology: this.store.topology };
  }

  /** A cast from the server: mapped (per served host where the answer depends on it), applied whole. */
  private onCast(m: Incoming): void {
    const where = `${m.topic}${m.host ? `.${m.host}` : ''}: ${m.method}`;
    this.o.log.debug({ topic: m.topic, method: m.method, ...(m.host ? { host: m.host } : {}) }, 'neutron agent: cast received');
    if (m.method.endsWith('_fdb_entries')) {
      for (const d of this.devices.values()) if (!m.host || m.host === d.host.name) d.lastL2popAt = Date.now();
    }
    const perHost = m.method === 'network_update' || m.method.startsWith('security_groups_');
    const hosts = m.host ? [m.host] : perHost ? [...this.served] : [[...this.served][0]!];
    const before = this.store.topology.ports;
    const known = new Map(m.method === 'port_delete' || m.method === 'remove_fdb_entries' ? before : []);
    if (m.method === 'port_update') this.rememberPort(m.args);
    const groupsOnly = m.method.startsWith('security_groups_');
    for (const host of hosts) {
      const mapped = this.applyMapped(() => mapCast(this.view(host), m.method, m.args), where);
      if (!mapped) return;
      for (const id of mapped.refetch) this.refetch(id, groupsOnly);
    }
    if (m.method === 'port_delete') this.forgetRemote(m.args);
    if (known.size) this.membersLeft([...known.values()].filter((p) => !this.store.topology.ports.has(p.id)));
  }

  /**
   * Under replicas, a message for one host (its `<topic>.<host>` queue) is its leader's: handled
   * (in order, per host) once the leadership is a generation, waiting while it is 'paused'; given
   * back to the queue (false) for the next leader once this replica no longer leads the host.
   */
  private onDirected(m: Incoming): Promise<boolean> {
    const host = m.host!;
    const handled = (this.directed.get(host) ?? Promise.resolve()).then(async () => {
      for (;;) {
        if (this.stopped || !this.leading.has(host)) return false;
        const l = this.leadership?.(host);
        if (l === undefined) return false;
        if (typeof l === 'bigint') break;
        await sleep(100);
      }
      this.onCast(m);
      return true;
    });
    this.directed.set(host, handled.catch(() => undefined));
    return handled;
  }

  /** Every port_update (a fanout: every agent hears of every port): its network and MAC, by id. */
  private rememberPort(args: JsonObject): void {
    const p = args.port;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) return;
    const { id, network_id: network, mac_address: mac } = p;
    if (typeof id === 'string' && typeof network === 'string' && typeof mac === 'string') this.portKeys.set(id, { network, mac });
  }

  /**
   * port_delete names the Neutron id, which l2pop's remote ports (known by network and MAC) lack.
   * A remote port of the deleted id goes too: l2pop's remove may have been overtaken by an add
   * answering a late report of the port up.
   */
  private forgetRemote(args: JsonObject): void {
    const id = typeof args.port_id === 'string' ? args.port_id : undefined;
    const key = id === undefined ? undefined : this.portKeys.get(id);
    if (!key) return;
    this.portKeys.delete(id!);
    const remote = remotePortId(key.network, key.mac);
    const p = this.store.topology.ports.get(remote);
    if (p && !this.served.has(p.host)) this.apply([{ type: 'remove', kind: 'port', id: remote }], `port_delete ${id!} (its l2pop entry)`);
  }

  /**
   * Ports that left: Neutron announces a member's departure (security_groups_member_updated) before
   * the port's deletion is committed, so the member lists fetched then may still hold it. The groups
   * whose memberIps hold a departed port's address are asked for again now that it is gone.
   */
  private membersLeft(gone: readonly Port[]): void {
    if (gone.length === 0) return;
    const addresses = new Set(gone.flatMap((p) => [...p.fixedIps, ...p.allowedAddressPairs.map((a) => a.ip)]));
    const groups = [...this.store.topology.securityGroups.values()].filter((g) => g.memberIps?.some((a) => addresses.has(a))).map((g) => g.id);
    if (groups.length === 0) return;
    for (const host of this.served) {
      const mapped = mapCast(this.view(host), 'security_groups_member_updated', { security_groups: groups });
      for (const id of mapped.refetch) this.refetch(id, true);
    }
  }

  /**
   * Fetches a port again (its groups only, or everything) on the served host that has it plugged
   * (if any: unplugged ports wait for their plug).
   */
  private refetch(id: string, groupsOnly = false): void {
    for (const d of this.devices.values()) {
      if (!d.plugged.has(id)) continue;
      (groupsOnly ? d.toRefreshGroups : d.toFetch).add(id);
      this.kick(d);
    }
  }

  /** Maps and applies; a refusal is logged with its place. Returns the mapping, or undefined if refused. */
  private applyMapped(map: () => Mapped, where: string): Mapped | undefined {
    let mapped: Mapped;
    try {
      mapped = map();
    } catch (err) {
      if (!(err instanceof NeutronMapError)) throw err;
      this.o.log.warn({ where, err: err.message }, `neutron agent: ${where}: refused, nothing changed: ${err.message}`);
      return undefined;
    }
    for (const r of mapped.refused) this.o.log.warn({ where }, `neutron agent: ${where}: ${r}`);
    return this.apply(mapped.events, where) ? mapped : undefined;
  }

  /** Applies events all or nothing (the store reports a rejection with its source). */
  private apply(events: readonly (TopologyEvent | object)[], source: string): boolean {
    if (events.length === 0) return true;
    const rejected = this.store.applyBatch(events.map((e) => JSON.stringify(e)), `neutron:${source}`);
    return rejected.length === 0;
  }
}

/** Downs that may go now: not for a device whose details are being asked for (see HostDevices.fetching). */
function downsReady(d: HostDevices): boolean {
  for (const id of d.toDown) if (!d.fetching.has(id)) return true;
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function agentId(host: string): string {
  return `ovs-agent-${host}`;
}

function obj(v: Json): { readonly [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
