// The controller: topology in, one HostAgent per host with an OVSDB address, and an OpenFlow
// listener that ovs-vswitchd connects to. A connecting bridge is recognised by its datapath id (read
// from that host's OVSDB) and handed to its host's agent.
import type { Logger } from 'pino';
import type { PipelineOptions } from '../../pipelines/options.js';
import type { ConnectionOptions, OfConnection } from '../switch/connection.js';
import { listen, OfListener } from '../switch/listener.js';
import type { Target } from '../switch/target.js';
import type { TlsCredentials } from '../tls.js';
import type { TopologyStore } from '../topology/store.js';
import type { BridgeName } from '../../pipelines/index.js';
import type { ReconcileResult } from '../flowset/reconciler.js';
import { BridgeRole, HostAgent, HostAgentOptions, HostStatus } from './host-agent.js';
import type { HostState } from '../state/host-state.js';
import { boundHeapGrowth } from './heap-growth.js';
import { Semaphore } from './semaphore.js';
import type { HostSetupOptions } from './host-setup.js';

/** OVSDB connects, and agents rendering and sending flows, at once: bounds a cold start's memory burst. */
const STARTS_AT_ONCE = 64;
const PASSES_AT_ONCE = 32;
/** A host whose OVSDB cannot be reached is tried again after 1 s, 2 s, 4 s… at most 30 s apart, for ever. */
const HOST_RETRY = { initialMs: 1000, maxMs: 30_000 };
/** How long a switch may wait for its datapath id to appear in a host's OVSDB before we warn. */
const UNKNOWN_SWITCH_GRACE_MS = 3000;

export interface ControllerOptions {
  /** Where ovs-vswitchd connects; several (e.g. a unix socket in each host's run directory). */
  readonly listen: Target | readonly Target[];
  readonly pipeline: PipelineOptions;
  /** How the hosts' ovs-vswitchd reach this controller (written into each bridge's Controller row). */
  readonly setup: HostSetupOptions;
  readonly log?: Logger;
  /** OpenFlow session settings (echo interval, request timeout) for the switches that connect. */
  readonly session?: Omit<ConnectionOptions, 'logger' | 'features'>;
  /** Key, certificate and CA for the hosts' `ssl:` OVSDB addresses (an `ssl:` listen target carries its own). */
  readonly tls?: TlsCredentials;
  readonly onReconciled?: (host: string, bridge: string, r: ReconcileResult) => void;
  readonly onProgress?: (host: string, bridge: string, sent: number, total: number) => void;
  /** Re-dump every connected bridge this often and repair drift (undefined or 0: never). */
  readonly auditIntervalMs?: number;
  readonly onRepaired?: (host: string, bridge: string, repairs: number) => void;
  /** A host-specific controller target (e.g. a unix socket ovs-vswitchd in a namespace can reach). */
  readonly controllerTargetFor?: (host: string) => string | undefined;
  /** V8's old-generation growth past the live set, in percent (default HEAP_GROWING_PERCENT; 0: V8's own). */
  readonly heapGrowingPercent?: number;
  /** Backoff between attempts to reach a host's OVSDB (default HOST_RETRY; tests shorten it). */
  readonly hostRetry?: { readonly initialMs: number; readonly maxMs: number };
  /** A change the switch refused: `n` flow-mods, none applied. */
  readonly onRefused?: (host: string, bridge: string, n: number) => void;
  /** A host's plugged iface-ids on br-int changed (a Neutron agent's device loop follows them). */
  readonly onPlugged?: (host: string, ids: ReadonlySet<string>) => void;
  /** A host's OVSDB setup and both bridges hold this state (see HostAgentOptions.onConverged). */
  readonly onConverged?: (host: string, state: HostState) => void;
  /** While false for a host, its agent writes nothing (see HostAgentOptions.gate); wake() it after. */
  readonly gate?: (host: string) => boolean;
  /**
   * Several controllers share the bridges: each session asks for this role on connecting (writes
   * fenced until the switch makes it master); change it with setRole. Undefined: one controller.
   */
  readonly role?: (host: string) => BridgeRole;
  /**
   * Several replicas (lib/cluster): this replica's generation for a host while it leads the host's
   * shard, and every replica's target (see HostAgentOptions.leader and targets). Implies roles.
   */
  readonly cluster?: { readonly leader: (host: string) => bigint | 'paused' | undefined; readonly targets: () => readonly string[] };
  /** A host's bridge was taken from us (STALE, ROLE_STATUS, IS_SLAVE): now slave there. */
  readonly onRoleLost?: (host: string, bridge: BridgeName, reason: string) => void;
}

export interface ControllerStatus {
  readonly sessions: number;
  readonly hosts: readonly HostStatus[];
  readonly topology: { readonly accepted: number; readonly rejected: number };
  /** --allow-partial: rejected start-up lines and the hosts they keep untouched (`all`: every host). */
  readonly frozen: ReadonlyArray<{ readonly line: string; readonly error: string; readonly hosts: readonly string[] | 'all' }>;
}

export class Controller {
  readonly agents = new Map<string, HostAgent>();
  private listeners: OfListener[] = [];
  private readonly sessions = new Set<OfConnection>();
  /** Switches whose datapath id no host's OVSDB has named yet. */
  private readonly pendingSessions = new Map<bigint, Set<OfConnection>>();
  private readonly bridgeByDpid = new Map<bigint, { readonly agent: HostAgent; readonly bridge: BridgeName }>();
  private readonly dpidsOf = new Map<HostAgent, ReadonlyMap<BridgeName, bigint>>();
  private readonly starting = new Set<Promise<void>>();
  /** Agents whose OVSDB has not been reached yet (being tried, or waiting for the next try). */
  private readonly unreached = new Map<HostAgent, NodeJS.Timeout | undefined>();
  /** Datapath ids of switches already reported as matching no host (reported once each). */
  private readonly unknownDpids = new Set<bigint>();
  /** What each reached host has plugged into br-int (iface-ids), as its agent last reported. */
  private readonly pluggedOn = new Map<string, ReadonlySet<string>>();
  private readonly startSlots = new Semaphore(STARTS_AT_ONCE);
  private readonly passSlots = new Semaphore(PASSES_AT_ONCE);

  constructor(
    private readonly store: TopologyStore,
    private readonly o: ControllerOptions,
  ) {}

  async start(): Promise<void> {
    boundHeapGrowth(this.o.heapGrowingPercent);
    const targets: readonly Target[] = Array.isArray(this.o.listen) ? this.o.listen : [this.o.listen as Target];
    for (const t of targets) {
      const l = await listen(t, { ...this.o.session, ...(this.o.log ? { logger: this.o.log } : {}), ...(this.o.role || this.o.cluster ? { roles: true } : {}) });
      l.sessions$.subscribe((conn) => this.onSession(conn));
      this.listeners.push(l);
    }
    this.store.changes$.subscribe((t) => this.onTopology(t.lastTouched));
    this.store.thawed$.subscribe((t) => this.onTopology(t.hosts));
    this.onTopology('all');
    await Promise.all(this.starting);
  }

  async stop(): Promise<void> {
    for (const timer of this.unreached.values()) clearTimeout(timer);
    this.unreached.clear();
    await Promise.all(this.listeners.map((l) => l.close()));
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
  }

  /** Resolves when every host agent has started and finished its pending passes. */
  async idle(): Promise<void> {
    while (this.starting.size > 0) await Promise.all(this.starting);
    await Promise.all([...this.agents.values()].map((a) => a.idle()));
  }

  /** The VM ports on a host's br-int that an earlier run programmed (see programmedPortsFrom); undefined: not known yet. */
  programmedOn(host: string): ReadonlySet<string> | undefined {
    return this.agents.get(host)?.programmedPorts();
  }

  /** A pass for a host's agent now (e.g. its gate opened). */
  wake(host: string): void {
    void this.agents.get(host)?.schedule();
  }

  /** This controller's role on a host's bridges (or every host's), e.g. on winning or losing its shard's election. */
  setRole(host: string | 'all', role: BridgeRole, bridge: BridgeName | 'all' = 'all'): Promise<void> {
    const agents = host === 'all' ? [...this.agents.values()] : [this.agents.get(host)].filter((a) => a !== undefined);
    return Promise.all(agents.map((a) => a.setRole(bridge, role))).then(() => undefined);
  }

  status(): ControllerStatus {
    return {
      sessions: this.sessions.size,
      hosts: [...this.agents.values()].map((a) => a.status()),
      topology: { accepted: this.store.accepted, rejected: this.store.rejected },
      frozen: this.store.frozen.map((f) => ({ line: f.where, error: f.error, hosts: f.hosts === 'all' ? 'all' : [...f.hosts] })),
    };
  }

  /**
   * A topology change: agents for new hosts with an OVSDB address (started concurrently, a bounded
   * number at a time), and a pass for the agents of the hosts the change touched. Waking only those
   * keeps an event's cost independent of the number of hosts.
   */
  private onTopology(touched: ReadonlySet<string> | 'all'): void {
    const t = this.store.topology;
    // A host not reached yet whose entry left the topology (or changed its OVSDB address) is no longer tried.
    for (const agent of this.unreached.keys()) {
      if (t.hosts.get(agent.host)?.ovsdb === agent.ovsdb) continue;
      clearTimeout(this.unreached.get(agent));
      this.unreached.delete(agent);
      this.agents.delete(agent.host);
      void agent.stop();
      this.o.log?.info({ host: agent.host, ovsdb: agent.ovsdb }, 'host left the topology (or its OVSDB address changed): no longer tried');
    }
    // A host gets its agent on an event that touches it (its own, or its thaw): a port event need
    // not walk a thousand hosts.
    for (const name of touched === 'all' ? t.hosts.keys() : touched) {
      const h = t.hosts.get(name);
      if (!h?.ovsdb || this.agents.has(h.name) || this.store.isFrozen(h.name)) continue;
      const target = this.o.controllerTargetFor?.(h.name);
      const agent = new HostAgent(h.name, h.ovsdb, {
        pipeline: this.o.pipeline, setup: target ? { ...this.o.setup, controllerTarget: target } : this.o.setup,
        ...(this.o.log ? { log: this.o.log } : {}), ...(this.o.tls ? { tls: this.o.tls } : {}), ...(this.o.onReconciled ? { onReconciled: this.o.onReconciled } : {}),
        ...(this.o.onProgress ? { onProgress: this.o.onProgress } : {}), ...(this.o.onRefused ? { onRefused: this.o.onRefused } : {}),
        ...(this.o.auditIntervalMs ? { auditIntervalMs: this.o.auditIntervalMs } : {}), ...(this.o.onRepaired ? { onRepaired: this.o.onRepaired } : {}),
        onBridges: (dpids) => this.onBridges(agent, dpids), passSlots: this.passSlots,
        onPlugged: (ids) => this.onPlugged(agent.host, ids), remotePlugged: (host) => this.pluggedOn.get(host),
        ...(this.o.onConverged ? { onConverged: (state: HostState) => this.o.onConverged!(h.name, state) } : {}),
        ...(this.o.gate ? { gate: () => this.o.gate!(h.name) } : {}),
        ...(this.o.role ? { role: this.o.role(h.name) } : {}), ...(this.o.onRoleLost ? { onRoleLost: this.o.onRoleLost } : {}),
        ...(this.o.cluster ? clusterOptions(this.o.cluster, h.name) : {}),
      });
      this.agents.set(h.name, agent);
      agent.setTopology(t);
      this.startAgent(agent, 0, undefined);
    }
    if (touched === 'all') for (const a of this.agents.values()) a.setTopology(t);
    else for (const h of touched) this.agents.get(h)?.setTopology(t);
  }

  /**
   * A host's plugged VM ports changed: the hosts sharing a network with a port that came or went
   * get a pass (their l2pop entries, flood lists and tunnels follow it). Before its first report a
   * host's topology ports all count as plugged, so the first report wakes for those it lacks.
   */
  private onPlugged(host: string, ids: ReadonlySet<string>): void {
    const t = this.store.topology;
    const was = this.pluggedOn.get(host);
    this.pluggedOn.set(host, ids);
    this.o.onPlugged?.(host, ids);
    const networks = new Set<string>();
    for (const p of t.portsOn(host)) if ((was ? was.has(p.id) : true) !== ids.has(p.id)) networks.add(p.network);
    for (const n of networks) {
      for (const h of t.hostsIn(n)) if (h !== host) void this.agents.get(h)?.schedule();
    }
  }

  /**
   * Connects an agent to its host's OVSDB (a bounded number at a time); if that fails, tries again
   * with capped exponential backoff until it succeeds or the host leaves the topology. The agent
   * already holds the topology: once connected it converges without any topology event.
   */
  private startAgent(agent: HostAgent, failures: number, lastError: string | undefined): void {
    this.unreached.set(agent, undefined);
    const log = this.o.log;
    const started = this.startSlots.run(() => agent.start()).then(() => {
      this.unreached.delete(agent);
      if (failures > 0) log?.info({ host: agent.host, ovsdb: agent.ovsdb, failures }, 'host\'s OVSDB reached');
    }, (err: unknown) => {
      if (!this.unreached.has(agent)) return; // left the topology meanwhile
      const { initialMs, maxMs } = this.o.hostRetry ?? HOST_RETRY;
      const delay = Math.min(initialMs * 2 ** failures, maxMs);
      const error = err instanceof Error ? err.message : String(err);
      agent.unreachable(error, failures + 1, new Date(Date.now() + delay));
      // Warned at the first failure and when the error changes; the retries themselves at debug.
      const level = error === lastError ? 'debug' : 'warn';
      log?.[level]({ host: agent.host, ovsdb: agent.ovsdb, err: error, failures: failures + 1, retryInMs: delay }, 'cannot reach the host\'s OVSDB; will retry');
      this.unreached.set(agent, setTimeout(() => this.startAgent(agent, failures + 1, error), delay));
    }).finally(() => this.starting.delete(started));
    this.starting.add(started);
  }

  private onSession(conn: OfConnection): void {
    this.sessions.add(conn);
    const dpid = conn.datapathId;
    void conn.closed.then(() => {
      this.sessions.delete(conn);
      if (dpid === undefined) return;
      const waiting = this.pendingSessions.get(dpid);
      waiting?.delete(conn);
      if (waiting?.size === 0) this.pendingSessions.delete(dpid);
    });
    if (dpid === undefined) return;
    const known = this.bridgeByDpid.get(dpid);
    if (known) this.attach(known.agent, known.bridge, conn);
    else {
      // The bridge's datapath id may reach our OVSDB replica a moment after the switch connects.
      const waiting = this.pendingSessions.get(dpid) ?? new Set<OfConnection>();
      waiting.add(conn);
      this.pendingSessions.set(dpid, waiting);
      setTimeout(() => {
        if (!conn.isOpen || !this.pendingSessions.get(dpid)?.has(conn) || this.unknownDpids.has(dpid)) return;
        this.unknownDpids.add(dpid);
        this.o.log?.warn({ peer: conn.peer, dpid: dpid.toString(16).padStart(16, '0') }, 'switch matches no host (unknown datapath id); kept waiting for it');
      }, UNKNOWN_SWITCH_GRACE_MS).unref();
    }
  }

  /** An agent's OVSDB replica names its bridges' datapath ids: index them, attach waiting switches. */
  private onBridges(agent: HostAgent, dpids: ReadonlyMap<BridgeName, bigint>): void {
    for (const [bridge, dpid] of this.dpidsOf.get(agent) ?? []) {
      if (dpids.get(bridge) !== dpid && this.bridgeByDpid.get(dpid)?.agent === agent) this.bridgeByDpid.delete(dpid);
    }
    this.dpidsOf.set(agent, dpids);
    for (const [bridge, dpid] of dpids) {
      this.bridgeByDpid.set(dpid, { agent, bridge });
      const waiting = this.pendingSessions.get(dpid);
      if (!waiting) continue;
      this.pendingSessions.delete(dpid);
      this.unknownDpids.delete(dpid);
      for (const conn of waiting) if (conn.isOpen) this.attach(agent, bridge, conn);
    }
  }

  private attach(agent: HostAgent, bridge: BridgeName, conn: OfConnection): void {
    conn.bindLog({ host: agent.host, bridge });
    this.o.log?.info({ host: agent.host, bridge, peer: conn.peer }, 'bridge connected');
    agent.attach(bridge, conn).catch((err: unknown) => {
      this.o.log?.error({ host: agent.host, bridge, err: String(err) }, 'attaching the bridge failed');
      conn.close(`attach failed: ${String(err)}`);
    });
  }
}

/** A host's agent under replicas: slave until it leads; the leadership and targets asked at each pass. */
function clusterOptions(c: NonNullable<ControllerOptions['cluster']>, host: string): Pick<HostAgentOptions, 'role' | 'leader' | 'targets'> {
  const g = c.leader(host);
  return { role: typeof g === 'bigint' ? { role: 'master', generationId: g } : { role: 'slave' }, leader: () => c.leader(host), targets: c.targets };
}
