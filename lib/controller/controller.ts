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
import type { ReconcileResult } from './flow-reconciler.js';
import { HostAgent, HostStatus } from './host-agent.js';
import type { HostSetupOptions } from './host-setup.js';

export interface ControllerOptions {
  /** Where ovs-vswitchd connects; several (e.g. a unix socket in each host's run directory). */
  readonly listen: Target | readonly Target[];
  readonly pipeline: PipelineOptions;
  /** How the hosts' ovs-vswitchd reach this controller (written into each bridge's Controller row). */
  readonly setup: HostSetupOptions;
  readonly log?: Logger;
  /** Key, certificate and CA for the hosts' `ssl:` OVSDB addresses (an `ssl:` listen target carries its own). */
  readonly tls?: TlsCredentials;
  /** OpenFlow session settings (echo interval, request timeout) for the switches that connect. */
  readonly session?: Omit<ConnectionOptions, 'logger' | 'features'>;
  readonly onReconciled?: (host: string, bridge: string, r: ReconcileResult) => void;
  readonly onProgress?: (host: string, bridge: string, sent: number, total: number) => void;
  /** A host-specific controller target (e.g. a unix socket ovs-vswitchd in a namespace can reach). */
  readonly controllerTargetFor?: (host: string) => string | undefined;
}

export interface ControllerStatus {
  readonly sessions: number;
  readonly hosts: readonly HostStatus[];
  readonly topology: { readonly accepted: number; readonly rejected: number };
}

export class Controller {
  readonly agents = new Map<string, HostAgent>();
  private listeners: OfListener[] = [];
  private readonly sessions = new Set<OfConnection>();
  private readonly pendingSessions = new Set<OfConnection>();

  constructor(
    private readonly store: TopologyStore,
    private readonly o: ControllerOptions,
  ) {}

  async start(): Promise<void> {
    const targets: readonly Target[] = Array.isArray(this.o.listen) ? this.o.listen : [this.o.listen as Target];
    for (const t of targets) {
      const l = await listen(t, { ...this.o.session, ...(this.o.log ? { logger: this.o.log } : {}) });
      l.sessions$.subscribe((conn) => this.onSession(conn));
      this.listeners.push(l);
    }
    this.store.changes$.subscribe(() => void this.onTopology());
    this.store.rejected$.subscribe((r) => this.o.log?.warn({ source: r.source, error: r.error }, 'topology event rejected'));
    await this.onTopology();
  }

  async stop(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
  }

  /** Resolves when every host agent has finished its pending passes. */
  async idle(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.idle()));
  }

  status(): ControllerStatus {
    return {
      sessions: this.sessions.size,
      hosts: [...this.agents.values()].map((a) => a.status()),
      topology: { accepted: this.store.accepted, rejected: this.store.rejected },
    };
  }

  private async onTopology(): Promise<void> {
    const t = this.store.topology;
    for (const h of t.hosts.values()) {
      if (!h.ovsdb || this.agents.has(h.name)) continue;
      const target = this.o.controllerTargetFor?.(h.name);
      const agent = new HostAgent(h.name, h.ovsdb, {
        pipeline: this.o.pipeline, setup: target ? { ...this.o.setup, controllerTarget: target } : this.o.setup,
        ...(this.o.log ? { log: this.o.log } : {}), ...(this.o.tls ? { tls: this.o.tls } : {}), ...(this.o.onReconciled ? { onReconciled: this.o.onReconciled } : {}),
        ...(this.o.onProgress ? { onProgress: this.o.onProgress } : {}),
      });
      this.agents.set(h.name, agent);
      try {
        await agent.start();
      } catch (err) {
        this.o.log?.error({ host: h.name, err: String(err) }, 'cannot reach the host\'s OVSDB; will retry on the next topology change');
        this.agents.delete(h.name);
        continue;
      }
    }
    for (const a of this.agents.values()) a.setTopology(t);
    this.matchPendingSessions();
  }

  private onSession(conn: OfConnection): void {
    this.sessions.add(conn);
    void conn.closed.then(() => {
      this.sessions.delete(conn);
      this.pendingSessions.delete(conn);
    });
    this.pendingSessions.add(conn);
    this.matchPendingSessions();
    // The bridge's datapath id may reach our OVSDB replica a moment after the switch connects.
    const retry = setInterval(() => {
      if (!this.pendingSessions.has(conn)) clearInterval(retry);
      else this.matchPendingSessions();
    }, 50);
    retry.unref();
  }

  private matchPendingSessions(): void {
    for (const conn of this.pendingSessions) {
      const dpid = conn.datapathId;
      if (dpid === undefined) continue;
      for (const agent of this.agents.values()) {
        const bridge = agent.bridgeOf(dpid);
        if (!bridge) continue;
        this.pendingSessions.delete(conn);
        this.o.log?.info({ host: agent.host, bridge, peer: conn.peer }, 'bridge connected');
        agent.attach(bridge, conn).catch((err: unknown) => {
          this.o.log?.error({ host: agent.host, bridge, err: String(err) }, 'attaching the bridge failed');
          conn.close(`attach failed: ${String(err)}`);
        });
        break;
      }
    }
  }
}
