// One hypervisor as the controller sees it: its OVSDB replica, its setup, its local VLANs (stable
// while a network stays, kept across restarts through OVSDB) and a flow reconciler per connected
// bridge. Every change (topology, OVSDB, a bridge connecting) runs one convergence pass; passes are
// serialised and coalesced, so a burst of events costs one pass. A periodic audit (a pass of its
// own, in the same series) re-dumps each connected bridge and repairs drift.
import type { Logger } from 'pino';
import { BridgeName, pipelineDesired } from '../../pipelines/index.js';
import type { PipelineOptions } from '../../pipelines/options.js';
import { fromSet } from '../../codecs/ovsdb/protocol.js';
import { canonicalText } from '../flowset/flowset.js';
import { OvsdbClient, Replica, Row } from '../ovsdb/client.js';
import { parseOvsdbTarget } from '../ovsdb/connection.js';
import { NON_TUNNEL_INTERFACES, VSWITCH_TABLES, vswitchView, VswitchView } from '../ovsdb/vswitch.js';
import { isStale, OfConnection } from '../switch/connection.js';
import type { TlsCredentials } from '../tls.js';
import type { Topology } from '../topology/model.js';
import { Drift, FlowReconciler, ReconcileError, ReconcileResult } from '../flowset/reconciler.js';
import { applyHostSetup, BR_INT, BR_TUN, conjBasesFrom, HostSetupOptions, pluggedPortsFrom, programmedPortsFrom, SetupChange, tunnelOfportsFrom, vlanHintsFrom } from './host-setup.js';
import { FencedError, generationIn, takeOverHost } from './host-setup.js';
import { deriveHostState, HostState } from '../state/host-state.js';
import type { Semaphore } from './semaphore.js';

/** Periodic audits take at most about one part in this many of the time (they are paced by their cost). */
const AUDIT_SHARE = 20;

export interface HostAgentOptions {
  readonly pipeline: PipelineOptions;
  readonly setup: HostSetupOptions;
  readonly log?: Logger;
  /** Key, certificate and CA for an `ssl:` OVSDB address. */
  readonly tls?: TlsCredentials;
  readonly onReconciled?: (host: string, bridge: BridgeName, r: ReconcileResult) => void;
  /** A change the switch refused: `n` flow-mods, none applied. */
  readonly onRefused?: (host: string, bridge: BridgeName, n: number) => void;
  /** Shared by all agents: how many may render and send flows at once (default: no limit). */
  readonly passSlots?: Semaphore;
  /** The datapath ids of this host's bridges, each time OVSDB changes (the controller indexes them). */
  readonly onBridges?: (dpids: ReadonlyMap<BridgeName, bigint>) => void;
  /** Progress of a long sync of one bridge. */
  readonly onProgress?: (host: string, bridge: BridgeName, sent: number, total: number) => void;
  /** Re-dump each connected bridge this often and repair drift (undefined or 0: never). */
  readonly auditIntervalMs?: number;
  /** An audit found drift and repaired it with this many flow-mods. */
  readonly onRepaired?: (host: string, bridge: string, repairs: number) => void;
  /** The iface-ids plugged into this host's br-int, each time that set changes (other hosts' l2pop follows it). */
  readonly onPlugged?: (ids: ReadonlySet<string>) => void;
  /** What other hosts have plugged, as their agents last reported (see HostStateOptions.remotePlugged). */
  readonly remotePlugged?: (host: string) => ReadonlySet<string> | undefined;
  /**
   * After a pass that left the host's OVSDB setup and both bridges' flows equal to this state: what
   * a Neutron agent waits for before it tells the server a port is up (programmed, not just seen).
   */
  readonly onConverged?: (state: HostState) => void;
  /**
   * While this answers false the agent reports what is plugged but writes nothing: no OVSDB setup,
   * no flow-mod (a source still gathering what it knows, e.g. Neutron's agent after a restart).
   */
  readonly gate?: () => boolean;
  /**
   * This controller's OpenFlow role on the host's bridges when several controllers share them
   * (undefined: no role is asked, sessions stay EQUAL and write, as with one controller).
   */
  readonly role?: BridgeRole;
  /** Mastership of a bridge was lost (a STALE generation, a ROLE_STATUS, an IS_SLAVE error): now slave. */
  readonly onRoleLost?: (host: string, bridge: BridgeName, reason: string) => void;
  /**
   * Under several replicas (lib/cluster): this controller's generation while it leads the host's
   * shard with a fresh lease, undefined while it does not. Asked at every pass: leading, the
   * bridges are asked for master with it and the host is taken over for it (the OVSDB fence); not
   * leading, the bridges are slave and the agent writes nothing (it still follows OVSDB and dumps);
   * 'paused' (leading, the lease not known alive for a moment): nothing is written, nothing changes.
   */
  readonly leader?: () => bigint | 'paused' | undefined;
  /** Under several replicas: every replica's controller target (each bridge lists them all). */
  readonly targets?: () => readonly string[];
  /**
   * With setup.generation (a leader): another leader holds the host (its setup transaction or
   * take-over was refused, or OVSDB shows a higher generation). The agent has stopped writing.
   */
  readonly onFenced?: (host: string, err: FencedError) => void;
}

/** The role a controller asks for on a bridge: master with its election's generation id, or slave. */
export type BridgeRole = { readonly role: 'master'; readonly generationId: bigint } | { readonly role: 'slave' };

export interface HostStatus {
  readonly host: string;
  readonly ovsdb: string;
  readonly ovsdbConnected: boolean;
  readonly bridges: Record<string, {
    readonly connected: boolean; readonly flows: number; readonly lastReconcile?: ReconcileResult;
    /** When the bridge was last compared with its pipeline (ISO time), whether or not that changed anything. */
    readonly lastCheck?: string;
    /** Our flows the last dump of the bridge found (learned ones not counted), and when (ISO time). */
    readonly observed?: number; readonly lastAudit?: string;
    /** Under roles: what the switch made this session, and the generation id it last named (decimal). */
    readonly role?: string; readonly generation?: string;
  }>;
  readonly errors: readonly string[];
  /** Present while the host's OVSDB has not been reached yet: the last error and when the controller tries again. */
  readonly unreachable?: HostRetry;
}

export interface HostRetry {
  readonly error: string;
  /** Failed attempts so far. */
  readonly attempts: number;
  /** ISO time of the next attempt. */
  readonly nextTryAt: string;
}

export class HostAgent {
  private client: OvsdbClient | undefined;
  private topology: Topology | undefined;
  private vlans = new Map<string, number>();
  private dpids: ReadonlyMap<BridgeName, bigint> = new Map();
  private vlansRestored = false;
  /** Conjunction id blocks in use (br-int's record after a restart, then the last state's). */
  private conjBases: ReadonlyMap<string, number> | undefined;
  private conjRestored = false;
  private readonly reconcilers = new Map<BridgeName, FlowReconciler>();
  /** The state each reconciler was last converged to: the same state object, no re-render. */
  private readonly convergedTo = new WeakMap<FlowReconciler, HostState>();
  private readonly last = new Map<BridgeName, ReconcileResult>();
  private readonly checkedAt = new Map<BridgeName, Date>();
  private retry: HostRetry | undefined;
  private stopped = false;
  private errors: readonly string[] = [];
  private pass: Promise<void> = Promise.resolve();
  private dirty = false;
  private passRunning = false;
  private auditDue = false;
  /** A periodic audit waits until then: each takes at most ~1/AUDIT_SHARE of the time (see periodicAudit). */
  private auditRestUntil = 0;
  private auditTimer: NodeJS.Timeout | undefined;
  /** Bumped by every replica update: what was read from the replica stands while it stays. */
  private replicaVersion = 0;
  private viewOf: { readonly version: number; readonly view: VswitchView; readonly ofports: ReturnType<typeof tunnelOfportsFrom>; readonly plugged: ReturnType<typeof pluggedPortsFrom> } | undefined;
  /** What the OVSDB setup was last found right for (its plan reads these parts of the state alone). */
  private setupFor: { readonly version: number; readonly parts: readonly unknown[] } | undefined;
  /** The iface-ids last reported through onPlugged. */
  private pluggedIds: ReadonlySet<string> | undefined;
  /** Each bridge's wanted role (HostAgentOptions.role until setRole) and its session. */
  private readonly roles = new Map<BridgeName, BridgeRole>();
  private readonly sessions = new Map<BridgeName, OfConnection>();
  /** Per bridge: attaching and role changes, one at a time. */
  private readonly roleChain = new Map<BridgeName, Promise<void>>();
  /** A leader (setup.generation): the host was taken over for it; then fenced once another holds it. */
  private tookOver = false;
  /** Under replicas, for a host another replica leads: the plugged VM ports, read from br-int at a replica version. */
  private pluggedOf: { readonly version: number; readonly plugged: ReadonlyMap<string, number> } | undefined;
  /** The OVSDB take-over in flight or done for a generation (started beside the role requests). */
  private takingOver: { readonly generation: bigint; readonly done: Promise<void> } | undefined;
  fenced: FencedError | undefined;
  /** Under replicas: the generation this agent last acted on (undefined: not leading). */
  private leading: bigint | undefined;
  state: HostState | undefined;

  constructor(
    readonly host: string,
    readonly ovsdb: string,
    private readonly o: HostAgentOptions,
  ) {}

  /** Connects to the host's OVSDB; rejects if it cannot be reached (the controller retries). */
  async start(): Promise<void> {
    const client = await OvsdbClient.start(parseOvsdbTarget(this.ovsdb, this.o.tls), {
      tables: VSWITCH_TABLES, ...(this.following() ? { where: { Interface: NON_TUNNEL_INTERFACES } } : {}), onEvent: (e) => this.o.log?.info({ host: this.host }, `ovsdb: ${e}`),
    });
    if (this.stopped) {
      await client.close();
      return;
    }
    this.client = client;
    this.retry = undefined;
    // OVSDB changes (a VM port plugged, ofports assigned, a restart) call for a pass too.
    // The client swaps in a new table only when an update touches it: the datapath ids are read
    // again only when the Bridge table was (most updates are ofports, tags and cur_cfg).
    let bridgeRows: ReadonlyMap<string, Row> | undefined;
    this.client.replica$.subscribe((replica) => {
      this.replicaVersion++;
      if (replica.get('Bridge') !== bridgeRows) {
        bridgeRows = replica.get('Bridge');
        this.dpids = bridgeDatapathIds(replica);
        this.o.onBridges?.(this.dpids);
      }
      void this.schedule();
    });
    const every = this.o.auditIntervalMs;
    if (every) {
      // The first audit at a random point of the interval: a thousand agents started together do
      // not all dump at the same moment.
      this.auditTimer = setTimeout(() => {
        this.auditTimer = setInterval(() => void this.periodicAudit(), every).unref();
        void this.periodicAudit();
      }, Math.random() * every).unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.auditTimer);
    this.auditTimer = undefined;
    await this.client?.close();
  }

  /** The host's OVSDB could not be reached; shown in status until a start succeeds. */
  unreachable(error: string, attempts: number, nextTryAt: Date): void {
    this.retry = { error, attempts, nextTryAt: nextTryAt.toISOString() };
  }

  /** The host's OVSDB as monitored (under replicas, while another leads it: without the tunnels' interfaces). */
  view(): VswitchView | undefined {
    return this.client ? vswitchView(this.client.replica) : undefined;
  }

  /** The bridge of this host whose datapath id this is, if any. */
  bridgeOf(datapathId: bigint): BridgeName | undefined {
    for (const [br, dpid] of this.dpids) if (dpid === datapathId) return br;
    return undefined;
  }

  setTopology(t: Topology): void {
    this.topology = t;
    void this.schedule();
  }

  /**
   * A bridge of this host connected: its role asked for first (under roles), then dump it once and
   * converge it. A slave's bridge is dumped too (a warm replica) but never written.
   */
  attach(bridge: BridgeName, conn: OfConnection): Promise<void> {
    this.sessions.set(bridge, conn);
    conn.demoted$.subscribe((reason) => {
      if (this.lose(bridge, reason)) void this.serialRole(bridge, () => this.askSlave(conn));
    });
    return this.serialRole(bridge, async () => {
      if (this.sessions.get(bridge) !== conn) return;
      await this.claimRole(bridge, conn);
      await this.track(bridge, conn);
    });
  }

  /**
   * Changes this controller's role on one bridge or both. Becoming master: the role request first,
   * then a dump and a reconcile (as on a reconnect: nothing is sent where the flows are right).
   */
  setRole(bridge: BridgeName | 'all', role: BridgeRole): Promise<void> {
    const bridges = bridge === 'all' ? [BR_INT, BR_TUN] as const : [bridge];
    // Stepped down from outside a pass (the cluster's onStepDown): the next lead, even at the same
    // generation (a lease that recovered), must ask for master again and take the host over.
    if (role.role === 'slave' && bridge === 'all') this.leading = undefined;
    return Promise.all(bridges.map((b) => {
      this.roles.set(b, role);
      // Told to step down (a lost lease): no write from now on, whatever is queued before the request.
      if (role.role === 'slave') this.sessions.get(b)?.fence();
      return this.serialRole(b, async () => {
        const conn = this.sessions.get(b);
        if (!conn?.isOpen || !this.reconcilers.has(b)) return; // attach() will ask
        const was = conn.writable;
        const old = this.reconcilers.get(b);
        // What a slave's reconciler tracks is stale (the master wrote since): no pass may use it
        // once the session can write, only a fresh dump.
        if (!was) this.reconcilers.delete(b);
        try {
          await this.claimRole(b, conn);
        } finally {
          if (!conn.writable && old && !this.reconcilers.has(b)) this.reconcilers.set(b, old);
        }
        if (!was && conn.writable) await this.track(b, conn);
      });
    })).then(() => undefined);
  }

  private serialRole(bridge: BridgeName, fn: () => Promise<void>): Promise<void> {
    const next = (this.roleChain.get(bridge) ?? Promise.resolve()).then(fn);
    this.roleChain.set(bridge, next.catch(() => undefined));
    return next;
  }

  /** Asks the switch for the wanted role; a STALE generation steps down. */
  private async claimRole(bridge: BridgeName, conn: OfConnection): Promise<void> {
    const want = this.roles.get(bridge) ?? this.o.role;
    if (!want) return;
    try {
      if (want.role === 'master') await conn.requestRole('master', want.generationId);
      else await conn.requestRole('slave');
      this.o.log?.info({ host: this.host, bridge, role: conn.role, generation: conn.generationId?.toString() }, 'OpenFlow role granted');
    } catch (err) {
      if (!isStale(err) || want.role !== 'master') throw err;
      if (this.lose(bridge, `generation ${want.generationId} is stale`)) await this.askSlave(conn);
    }
  }

  /**
   * Mastership lost (the session was fenced already): slave from now on, logged and reported at
   * once; false if we were not master. The caller then tells the switch (askSlave).
   */
  private lose(bridge: BridgeName, reason: string): boolean {
    const was = this.roles.get(bridge) ?? this.o.role;
    if (was?.role === 'slave') return false;
    this.roles.set(bridge, { role: 'slave' });
    this.o.log?.warn({ host: this.host, bridge, reason }, 'OpenFlow mastership lost: stepping down to slave');
    this.o.onRoleLost?.(this.host, bridge, reason);
    return true;
  }

  /** Asks to be slave: OVS leaves a master refused as STALE EQUAL, still able to write. */
  private async askSlave(conn: OfConnection): Promise<void> {
    if (!conn.isOpen) return;
    await conn.requestRole('slave').catch((err: unknown) => {
      // The switch would not take us as slave: off the bridge, rather than EQUAL (it reconnects).
      if (conn.isOpen) conn.close(`cannot step down to slave: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Dumps the bridge into a new reconciler and converges it. */
  private async track(bridge: BridgeName, conn: OfConnection): Promise<void> {
    const cookie = bridge === BR_TUN ? this.o.pipeline.cookies.brTun : this.o.pipeline.cookies.brInt;
    const log = this.o.log;
    const r = await FlowReconciler.attach(conn, {
      cookie,
      onProgress: (sent, total) => this.o.onProgress?.(this.host, bridge, sent, total),
      // Each flow changed, at debug only (formatting 20k flows is not free).
      ...(log?.isLevelEnabled('debug') ? {
        onApplied: (adds, deletes) => {
          for (const f of deletes) log.debug({ host: this.host, bridge }, `- ${canonicalText(f)}`);
          for (const f of adds) log.debug({ host: this.host, bridge }, `+ ${canonicalText(f)}`);
        },
      } : {}),
    });
    this.reconcilers.set(bridge, r);
    void conn.closed.then(() => {
      if (this.reconcilers.get(bridge) === r) this.reconcilers.delete(bridge);
    });
    void this.schedule();
  }

  /** Runs a pass soon; passes never overlap and a burst of triggers coalesces into one more pass. */
  schedule(): Promise<void> {
    this.dirty = true;
    if (!this.passRunning) {
      this.passRunning = true;
      this.pass = (async () => {
        try {
          while (this.dirty) {
            this.dirty = false;
            await this.converge().catch((err: unknown) => {
              const msg = err instanceof Error ? err.message : String(err);
              this.errors = [msg];
              this.o.log?.error({ host: this.host, err: msg }, 'convergence failed');
            });
            if (this.auditDue) {
              this.auditDue = false;
              await this.auditBridges().catch((err: unknown) => this.o.log?.error({ host: this.host, err: String(err) }, 'audit failed'));
            }
          }
        } finally {
          this.passRunning = false;
        }
      })();
    }
    return this.pass;
  }

  /** The VM ports on br-int that an earlier run programmed, as OVSDB shows them now (undefined: OVSDB not read yet). */
  programmedPorts(): ReadonlySet<string> | undefined {
    return this.client ? programmedPortsFrom(vswitchView(this.client.replica, BR_INT)) : undefined;
  }

  /** Resolves when no pass is pending (for tests and the demo). */
  async idle(): Promise<void> {
    while (this.passRunning) await this.pass;
  }

  private async converge(): Promise<void> {
    if (!this.client || !this.topology || !this.topology.hosts.has(this.host)) return;
    // Under replicas, a host whose shard another replica leads (and did while this one looked):
    // only which VM ports are plugged on it matters here (the l2pop flows of the hosts this one
    // leads follow them), read from br-int alone. The tunnels' rows are not monitored then.
    if (this.following() && this.leading === undefined) {
      this.followOnly();
      if (this.pluggedOf?.version !== this.replicaVersion) {
        this.pluggedOf = { version: this.replicaVersion, plugged: pluggedPortsFrom(vswitchView(this.client.replica, BR_INT)) };
      }
      this.notePlugged(this.pluggedOf.plugged);
      return;
    }
    // Leading (or about to): every interface monitored, the tunnels too.
    if (this.o.leader) await this.client.setWhere('Interface', undefined);
    // An event that changes no OVSDB row (most topology events) reads the replica once, not per pass.
    if (this.viewOf?.version !== this.replicaVersion) {
      const view = vswitchView(this.client.replica);
      this.viewOf = { version: this.replicaVersion, view, ofports: tunnelOfportsFrom(view), plugged: pluggedPortsFrom(view) };
    }
    const { version: viewVersion, view, ofports, plugged } = this.viewOf;
    this.notePlugged(plugged);
    if (this.o.gate && !this.o.gate()) return;
    if (this.o.leader && !(await this.lead())) return;
    if (this.fenced || this.supersededIn(view)) return;
    if (!this.vlansRestored) {
      // After a restart, or on leading (again): the VLANs recorded in OVSDB win (they are what the
      // last leader installed), so traffic keeps its tags.
      this.vlans = vlanHintsFrom(view);
      this.vlansRestored = true;
    }
    if (!this.conjRestored) {
      // Likewise the conjunction blocks recorded on br-int: installed conjunctions keep their ids.
      // A record that cannot be read stops the pass (an error in status, nothing changed) until
      // it is fixed or removed: which ids the installed flows use is not guessed.
      this.conjBases = conjBasesFrom(view);
      this.conjRestored = true;
    }
    // Handed the previous state, derivation returns the very same object when nothing this host
    // needs has changed (the topology may move on while we await: the state is taken now).
    const state = deriveHostState(this.topology, this.host, {
      vlanHints: this.vlans, ofports, plugged, ...(this.conjBases ? { conjHints: this.conjBases } : {}), ...(this.o.remotePlugged ? { remotePlugged: this.o.remotePlugged } : {}),
      ...(this.state ? { previous: this.state } : {}),
    });
    if (state !== this.state) {
      // Keep VLANs while their network stays; release those whose last local port left.
      this.vlans = new Map(state.networks.map((n) => [n.id, n.vlan]));
      this.conjBases = state.firewall?.conjBases;
      this.state = state;
    }
    this.errors = state.errors;
    // The setup's plan reads the tunnels, the local ports and networks, the conjunction blocks and
    // (under replicas) the controller targets: checked again when one of them or the replica changed.
    const parts = [state.tunnels, state.tunnelIp, state.localPorts, state.networks, state.firewall?.conjBases, this.o.targets?.()];
    const setupFor = this.setupFor;
    // The set-up (OVSDB) and the bridges' bundles go out together: the flows of a new tunnel name
    // the ofport its set-up requests (ofport_request), so they need not wait for the port. Each
    // bundle is committed only once the set-up is done, ovs-vswitchd's cur_cfg included, as when the
    // bundles followed it: flows never land before the configuration they go with (ovs-vswitchd
    // applies a transaction later, and some changes, e.g. a bridge's first controller, flush its
    // flows). If the set-up fails, the bundles are discarded and no flow changes.
    let setup: Promise<number> | undefined;
    if (setupFor?.version !== this.replicaVersion || parts.some((x, i) => x !== setupFor.parts[i])) {
      setup = this.fencedSetup(state, view);
      setup.catch(() => undefined);
    }
    try {
      await this.reconcileBridges(state, setup);
    } finally {
      // The pass ends with its set-up (the next one plans from what this one wrote), which throws here if it failed.
      if (setup) {
        const ops = await setup;
        // Found right as it stood (nothing to write): stands until the replica or those parts change.
        // Recorded for the version of the view it was planned from, not the replica's version now:
        // a port plugged while this pass awaited (lead() asks for master and dumps both bridges on a
        // hand-over) changed the replica after the view was read, and must get its setup next pass.
        this.setupFor = ops === 0 ? { version: viewVersion, parts } : undefined;
      }
    }
    this.reportConverged(state);
  }

  /**
   * OVSDB updates arrive in bursts (ofports, tags) that rarely change what the bridges need: a
   * bridge already converged to this very state object is not re-rendered. (The pipelines are a
   * function of the state alone; an unchanged state is the same object, see deriveHostState.) The
   * two bridges are independent: their bundles' round trips overlap. Rendering, sending and the
   * commits' wait for `beforeCommit` (the pass's set-up, run outside the slot) take a shared slot.
   */
  private async reconcileBridges(state: HostState, beforeCommit: Promise<unknown> | undefined): Promise<void> {
    const stale = [...this.reconcilers].filter(([, r]) => r.conn.isOpen && r.conn.writable && this.convergedTo.get(r) !== state);
    if (stale.length === 0) return;
    const reconcile = (): Promise<void> => Promise.all(stale.map(async ([bridge, r]) => {
      const res = await r.reconcile(pipelineDesired(state, bridge, this.o.pipeline), beforeCommit).catch((err: unknown) => {
        if (err instanceof ReconcileError) this.o.onRefused?.(this.host, bridge, err.refused.length);
        throw err;
      });
      this.convergedTo.set(r, state);
      this.last.set(bridge, res);
      this.checkedAt.set(bridge, new Date());
      if (res.flowMods) this.o.log?.info({ host: this.host, bridge, ...res }, 'bridge reconciled');
      else this.o.log?.debug({ host: this.host, bridge, durationMs: res.durationMs }, 'bridge checked: in sync');
      this.o.onReconciled?.(this.host, bridge, res);
    })).then(() => undefined);
    await (this.o.passSlots ? this.o.passSlots.run(reconcile) : reconcile());
  }

  /**
   * A VM port exists on this host only while it is plugged into br-int with a real ofport: one
   * unplugged (or failed) loses its flows, one plugged later gets them on the OVSDB update that
   * shows it (every replica update schedules a pass). The controller hears of changes.
   */
  private notePlugged(plugged: ReadonlyMap<string, number>): void {
    if (this.pluggedIds && this.pluggedIds.size === plugged.size && [...plugged.keys()].every((id) => this.pluggedIds!.has(id))) return;
    this.pluggedIds = new Set(plugged.keys());
    this.o.onPlugged?.(this.pluggedIds);
  }

  /** Not leading: the tunnels' rows are no longer monitored (a pass that leads asks for them again). */
  private followOnly(): void {
    void this.client?.setWhere('Interface', NON_TUNNEL_INTERFACES).catch((err: unknown) => this.o.log?.warn({ host: this.host, err: String(err) }, 'ovsdb: monitor condition not changed'));
  }

  /** Under replicas: another replica leads the host's shard. */
  private following(): boolean {
    return !!this.o.leader && this.o.leader() === undefined;
  }

  /**
   * Under replicas: follows the leadership (a new generation: master with it, the host to be taken
   * over again, a fence from an older one forgotten; none: slave). True while leading.
   */
  private async lead(): Promise<boolean> {
    const g = this.o.leader!();
    if (g === 'paused') {
      // Tried again shortly: the lease's next keepalive answer (or the step-down) comes within a TTL.
      setTimeout(() => void this.schedule(), 200).unref();
      return false;
    }
    if (g !== this.leading) {
      this.leading = g;
      this.tookOver = false;
      this.fenced = undefined;
      this.setupFor = undefined;
      // The OVSDB take-over needs no OpenFlow role: it goes beside the role requests and dumps
      // (a failover takes hundreds of hosts over at once; each saves a round trip). Generations
      // only grow, so one sent by a leader that is stepping down is overridden by the next.
      this.takingOver = undefined;
      // What OVSDB records of VLANs and conjunction blocks is read again: another leader may have
      // changed them since this replica last led (or since it started).
      this.vlansRestored = false;
      this.conjRestored = false;
      if (g !== undefined) this.takingOver = this.takeOver(g);
      else this.followOnly();
      await this.setRole('all', g === undefined ? { role: 'slave' } : { role: 'master', generationId: g });
    }
    // Asked again after the role round trip: a step-down meanwhile stops this pass.
    return g !== undefined && this.o.leader!() === g;
  }

  /** The setup options this pass uses: under replicas, the leader's generation and every replica's target. */
  private setupOptions(): HostSetupOptions {
    if (!this.o.leader) return this.o.setup;
    const targets = this.o.targets?.();
    return { ...this.o.setup, ...(this.leading !== undefined ? { generation: Number(this.leading) } : {}), ...(targets?.length ? { controllerTarget: targets } : {}) };
  }

  /**
   * The OVSDB setup. A leader takes the host over first (once); a FencedError (another leader holds
   * the host) stops every write of this agent, OVSDB and flows, and is reported.
   */
  private async fencedSetup(state: HostState, view: VswitchView): Promise<number> {
    const setup = this.setupOptions();
    const generation = setup.generation;
    try {
      if (generation !== undefined && !this.tookOver) {
        const t = this.takingOver?.generation === BigInt(generation) ? this.takingOver : (this.takingOver = this.takeOver(BigInt(generation)));
        await t.done;
      }
      return await applyHostSetup(this.client!, state, setup, undefined, view, (changes) => this.logChanges(changes));
    } catch (err) {
      if (err instanceof FencedError) this.fence(err);
      throw err;
    }
  }

  /** Takes the host over in OVSDB for generation g (once per generation; awaited by fencedSetup). */
  private takeOver(g: bigint): { readonly generation: bigint; readonly done: Promise<void> } {
    const t: { readonly generation: bigint; done: Promise<void> } = { generation: g, done: Promise.resolve() };
    const done = takeOverHost(this.client!, Number(g)).then((from) => {
      // A newer lead (or a step-down) since: its own take-over stands, not this one.
      if (this.takingOver !== t) return;
      this.tookOver = true;
      this.o.log?.info({ host: this.host, generation: Number(g), from: from ?? 'none' }, 'host taken over');
    });
    t.done = done;
    // Observed by the pass's fencedSetup (a pass that stops before it must not leave it unhandled);
    // a failed one is tried again by the next pass.
    done.catch(() => {
      if (this.takingOver === t) this.takingOver = undefined;
    });
    return t;
  }

  /**
   * The replica shows a newer leader's generation: seen without a transaction, for passes that
   * write flows only. (A lower or no generation may be the replica lagging our take-over: the
   * transactions' own fence decides then.)
   */
  private supersededIn(view: VswitchView): boolean {
    const ours = this.setupOptions().generation;
    if (ours === undefined || !this.tookOver) return false;
    const seen = generationIn(view.externalIds);
    if (seen === undefined || seen <= ours) return false;
    const err = new FencedError(ours, seen);
    this.fence(err);
    this.errors = [err.message];
    return true;
  }

  private fence(err: FencedError): void {
    if (this.fenced) return;
    this.fenced = err;
    this.o.log?.warn({ host: this.host, generation: err.generation, seen: err.seen ?? 'none' }, 'fenced: another leader holds this host; writing nothing more');
    this.o.onFenced?.(this.host, err);
  }

  /** Calls onConverged when both bridges are connected and hold this state's flows. */
  private reportConverged(state: HostState): void {
    if (!this.o.onConverged || this.state !== state) return;
    for (const bridge of [BR_INT, BR_TUN] as const) {
      const r = this.reconcilers.get(bridge);
      if (!r?.conn.isOpen || this.convergedTo.get(r) !== state) return;
    }
    this.o.onConverged(state);
  }

  /**
   * Audits every connected bridge now: a pass in the same series as the convergence passes (after
   * one, so against the state just converged to), never alongside one.
   */
  audit(): Promise<void> {
    this.auditDue = true;
    return this.schedule();
  }

  /**
   * The timer's audit, paced by its cost: after an audit that took d ms, the next periodic one waits
   * at least AUDIT_SHARE x d (a bridge of 1M flows takes seconds to dump and compare; audited every
   * 30 s, it would spend a large share of the controller's CPU on audits). An explicit audit() is
   * never held back.
   */
  private periodicAudit(): Promise<void> {
    if (Date.now() < this.auditRestUntil) {
      this.o.log?.debug({ host: this.host, until: new Date(this.auditRestUntil).toISOString() }, 'audit skipped: paced by the last one\'s cost');
      return Promise.resolve();
    }
    return this.audit();
  }

  private async auditBridges(): Promise<void> {
    if (this.fenced) return; // an audit repairs: it writes
    const t0 = Date.now();
    try {
      await this.auditEach();
    } finally {
      this.auditRestUntil = Date.now() + AUDIT_SHARE * (Date.now() - t0);
    }
  }

  private async auditEach(): Promise<void> {
    const due = [...this.reconcilers].filter(([, r]) => r.conn.isOpen && r.conn.writable && this.convergedTo.has(r));
    if (due.length === 0) return;
    const log = this.o.log;
    const describe = log?.isLevelEnabled('debug') ? (bridge: BridgeName) => (d: Drift) => logDrift(log, this.host, bridge, d) : undefined;
    const audit = (): Promise<void> => Promise.all(due.map(async ([bridge, r]) => {
      const res = await r.audit(pipelineDesired(this.convergedTo.get(r)!, bridge, this.o.pipeline), describe?.(bridge)).catch((err: unknown) => {
        if (err instanceof ReconcileError) this.o.onRefused?.(this.host, bridge, err.refused.length);
        throw err;
      });
      // An audit is a check of the bridge too, reported even when it found nothing to repair.
      this.checkedAt.set(bridge, new Date());
      if (res.flowMods === 0) {
        log?.debug({ host: this.host, bridge, observed: res.observed, durationMs: res.durationMs }, 'bridge audited: in sync');
        this.o.onReconciled?.(this.host, bridge, res);
        return;
      }
      this.last.set(bridge, res);
      log?.info({ host: this.host, bridge, missing: res.added, changed: res.modified, extra: res.deleted, observed: res.observed, durationMs: res.durationMs }, 'drift repaired');
      this.o.onReconciled?.(this.host, bridge, res);
      this.o.onRepaired?.(this.host, bridge, res.flowMods);
    })).then(() => undefined);
    await (this.o.passSlots ? this.o.passSlots.run(audit) : audit());
  }

  status(): HostStatus {
    const bridges: HostStatus['bridges'] = {};
    for (const b of [BR_INT, BR_TUN] as const) {
      const r = this.reconcilers.get(b);
      const last = this.last.get(b);
      const checked = this.checkedAt.get(b);
      bridges[b] = {
        connected: !!r?.conn.isOpen, flows: r?.size ?? 0, ...(last ? { lastReconcile: last } : {}),
        ...(checked ? { lastCheck: checked.toISOString() } : {}),
        ...(r ? { observed: r.observed, lastAudit: r.observedAt.toISOString() } : {}),
        ...(r && (this.o.role || this.roles.has(b)) ? { role: r.conn.role, ...(r.conn.generationId !== undefined ? { generation: r.conn.generationId.toString() } : {}) } : {}),
      };
    }
    return {
      host: this.host, ovsdb: this.ovsdb, ovsdbConnected: this.client?.connected$.value ?? false, bridges, errors: this.errors,
      ...(this.retry ? { unreachable: this.retry } : this.lostOvsdb()),
    };
  }

  /** A host reached once whose OVSDB went away: the client's own reconnect attempts, as status shows them. */
  private lostOvsdb(): { unreachable?: HostRetry } {
    const r = this.client?.reconnecting;
    return r ? { unreachable: { error: r.error, attempts: r.attempts, nextTryAt: r.nextTryAt.toISOString() } } : {};
  }

  /** What the setup wrote to OVSDB, one info line per change, with the names it concerns. */
  private logChanges(changes: readonly SetupChange[]): void {
    for (const { change, ...names } of changes) this.o.log?.info({ host: this.host, ...names }, `ovsdb: ${change}`);
  }
}

/** One debug line per flow an audit is about to repair, with its text. */
function logDrift(log: Logger, host: string, bridge: BridgeName, d: Drift): void {
  for (const f of d.missing) log.debug({ host, bridge, flow: canonicalText(f) }, 'drift: flow missing');
  for (const [found, want] of d.changed) log.debug({ host, bridge, found: canonicalText(found), flow: canonicalText(want) }, 'drift: flow changed');
  for (const f of d.extra) log.debug({ host, bridge, flow: canonicalText(f) }, 'drift: extra flow');
}

/** br-int's and br-tun's datapath ids, straight from the replica's Bridge rows (no full view). */
function bridgeDatapathIds(replica: Replica): Map<BridgeName, bigint> {
  const out = new Map<BridgeName, bigint>();
  for (const row of replica.get('Bridge')?.values() ?? []) {
    const name = row.name;
    const dpid = fromSet(row.datapath_id)[0];
    if ((name === BR_INT || name === BR_TUN) && typeof dpid === 'string' && /^[0-9a-f]{1,16}$/i.test(dpid)) out.set(name, BigInt(`0x${dpid}`));
  }
  return out;
}
