// Prometheus metrics (prom-client), served at /metrics with /status beside them. Counts that only
// grow are counters named `_total`; states (sessions, connections, flows held) are gauges read from
// the controller's status at scrape time; prom-client's default process and Node metrics are included.
import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Controller } from './controller.js';
import type { ClusterStatus } from '../cluster/cluster.js';
import type { EtcdSourceStatus } from '../topology/etcd-source.js';
import type { WatchLagStatus } from '../topology/etcd-lag.js';
import type { ReconcileResult } from '../flowset/reconciler.js';
import { VERSION } from '../version.js';


export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly reconcileSeconds = new Histogram({
    name: 'ofctl_ts_reconcile_seconds', help: 'Time to reconcile one bridge (diff, bundle, barrier-confirmed commit)',
    labelNames: ['host', 'bridge'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });
  private readonly flowMods = new Counter({
    name: 'ofctl_ts_flow_mods_total', help: 'Flow-mods sent and committed', labelNames: ['host', 'bridge'], registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: 'ofctl_ts_flow_mods_refused_total', help: 'Flow-mods the switch refused (their whole bundle was not applied)',
    labelNames: ['host', 'bridge'], registers: [this.registry],
  });
  private readonly repairs = new Counter({
    name: 'ofctl_ts_flow_repairs_total', help: 'Flows found drifted from the pipeline and put back',
    labelNames: ['host', 'bridge'], registers: [this.registry],
  });
  private readonly checks = new Counter({
    name: 'ofctl_ts_bridge_checks_total', help: 'Checks of a bridge against its pipeline, including those that changed nothing',
    labelNames: ['host', 'bridge'], registers: [this.registry],
  });

  constructor(controller: () => Controller | undefined) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'ofctl_ts_build_info', help: 'Always 1: the version of ofctl-ts and of Node', labelNames: ['version', 'node'], registers: [this.registry],
    }).set({ version: VERSION, node: process.version }, 1);
    const hosts = (): ReturnType<Controller['status']>['hosts'] => controller()?.status().hosts ?? [];
    new Gauge({
      name: 'ofctl_ts_sessions', help: 'OpenFlow sessions', registers: [this.registry],
      collect() { this.set(controller()?.status().sessions ?? 0); },
    });
    new Gauge({
      name: 'ofctl_ts_ovsdb_connected', help: '1 while the host\'s OVSDB session is up', labelNames: ['host'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts()) this.set({ host: h.host }, h.ovsdbConnected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ofctl_ts_openflow_connected', help: '1 while the bridge\'s OpenFlow session is up', labelNames: ['host', 'bridge'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts()) for (const [b, s] of Object.entries(h.bridges)) this.set({ host: h.host, bridge: b }, s.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ofctl_ts_bridge_flows', help: 'Our flows on each bridge', labelNames: ['host', 'bridge'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts()) for (const [b, s] of Object.entries(h.bridges)) this.set({ host: h.host, bridge: b }, s.flows);
      },
    });
    new Gauge({
      name: 'ofctl_ts_bridge_last_check_timestamp_seconds', help: 'When the bridge was last checked against its pipeline (Unix time)',
      labelNames: ['host', 'bridge'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts()) {
          for (const [b, s] of Object.entries(h.bridges)) if (s.lastCheck) this.set({ host: h.host, bridge: b }, Date.parse(s.lastCheck) / 1000);
        }
      },
    });
    new Gauge({
      name: 'ofctl_ts_bridge_flows_observed', help: 'Our flows the last dump (attach or audit) found on each bridge, before any repair', labelNames: ['host', 'bridge'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts()) {
          for (const [b, s] of Object.entries(h.bridges)) if (s.observed !== undefined) this.set({ host: h.host, bridge: b }, s.observed);
        }
      },
    });
    new Counter({
      name: 'ofctl_ts_topology_events_total', help: 'Topology events by outcome', labelNames: ['outcome'], registers: [this.registry],
      // The store counts them (monotonic): the counter is set to its counts at scrape time.
      collect() {
        const t = controller()?.status().topology;
        this.reset();
        this.inc({ outcome: 'accepted' }, t?.accepted ?? 0);
        this.inc({ outcome: 'rejected' }, t?.rejected ?? 0);
      },
    });
  }

  /**
   * Scale-out (issue 18): this replica's shards and leadership changes, its lease, each bridge's
   * role, and the etcd revision and relists of the cluster and of an etcd topology, read from
   * their status at scrape time.
   */
  scaleOut(cluster: () => ClusterStatus | undefined, topology: () => EtcdSourceStatus | undefined, controller: () => Controller | undefined): void {
    const registers = [this.registry];
    new Gauge({
      name: 'ofctl_ts_cluster_shards_led', help: 'Shards this replica leads', registers,
      collect() { this.set(cluster()?.leads.length ?? 0); },
    });
    new Gauge({
      name: 'ofctl_ts_cluster_lease_confirmed', help: '1 while this replica\'s etcd lease is known alive (0: its writes are paused)', registers,
      collect() { this.set(cluster()?.leaseFresh ? 1 : 0); },
    });
    // Totals the cluster keeps, read at scrape time.
    const clusterTotal = (name: string, help: string, value: (c: ClusterStatus) => number): void => {
      new Counter({
        name, help, registers,
        collect() {
          this.reset();
          const c = cluster();
          this.inc(c ? value(c) : 0);
        },
      });
    };
    clusterTotal('ofctl_ts_cluster_leadership_changes_total', 'Shards this replica started or stopped leading', (c) => c.leadershipChanges);
    clusterTotal('ofctl_ts_cluster_peers_revoked_total', 'Leases of replicas whose process was seen gone (peer connection closed) that this replica revoked', (c) => c.peersRevoked);
    // Both etcd watches (the cluster's and the topology's) report the same figures.
    type Watch = { readonly revision: string | number; readonly relists: number; readonly lag: WatchLagStatus };
    const watches = (): Array<[string, Watch]> => {
      const all: Array<[string, Watch | undefined]> = [['cluster', cluster()], ['topology', topology()]];
      return all.filter((w): w is [string, Watch] => w[1] !== undefined);
    };
    new Gauge({
      name: 'ofctl_ts_etcd_revision', help: 'The last etcd revision applied, by what follows it (cluster, topology)', labelNames: ['watch'], registers,
      collect() {
        this.reset();
        for (const [watch, w] of watches()) this.set({ watch }, Number(w.revision));
      },
    });
    new Counter({
      name: 'ofctl_ts_etcd_relists_total', help: 'Watches etcd cancelled (a compacted revision) and listed again', labelNames: ['watch'], registers,
      collect() {
        this.reset();
        for (const [watch, w] of watches()) this.inc({ watch }, w.relists);
      },
    });
    // The watches' lag, once a check has answered: one gauge per figure.
    const lagGauge = (name: string, help: string, value: (lag: WatchLagStatus, checkedAt: string) => number): void => {
      new Gauge({
        name, help, labelNames: ['watch'], registers,
        collect() {
          this.reset();
          for (const [watch, w] of watches()) if (w.lag.checkedAt !== undefined) this.set({ watch }, value(w.lag, w.lag.checkedAt));
        },
      });
    };
    lagGauge('ofctl_ts_etcd_watch_lag_revisions',
      'etcd\'s revision minus the one the watch applied, while etcd holds changes under its prefix that the watch has not applied (0: in step; checked every 5 s)',
      (l) => l.revisions);
    lagGauge('ofctl_ts_etcd_watch_lag_seconds',
      'How long the watch has been behind etcd: since the first check that found changes it has not applied (0: in step; as coarse as the 5 s checks)',
      (l) => l.seconds);
    lagGauge('ofctl_ts_etcd_watch_lag_checked_timestamp_seconds', 'When etcd last answered a lag check of the watch (Unix time)', (_l, checkedAt) => Date.parse(checkedAt) / 1000);
    new Gauge({
      name: 'ofctl_ts_bridge_master', help: '1 while this replica is OpenFlow master of the bridge', labelNames: ['host', 'bridge'], registers,
      collect() {
        this.reset();
        for (const h of controller()?.status().hosts ?? []) for (const [b, s] of Object.entries(h.bridges)) this.set({ host: h.host, bridge: b }, s.role === 'master' ? 1 : 0);
      },
    });
  }

  /** One check of a bridge (a reconcile, whether or not it changed anything). */
  observe(host: string, bridge: string, r: ReconcileResult): void {
    this.reconcileSeconds.observe({ host, bridge }, r.durationMs / 1000);
    this.flowMods.inc({ host, bridge }, r.flowMods);
    this.checks.inc({ host, bridge });
  }

  /** A change the switch refused: `n` flow-mods, none of the bundle applied. */
  refusedFlowMods(host: string, bridge: string, n: number): void {
    this.refused.inc({ host, bridge }, n);
  }

  /** `n` drifted flows put back on a bridge (called by the drift audit). */
  repaired(host: string, bridge: string, n: number): void {
    this.repairs.inc({ host, bridge }, n);
  }

  /**
   * Serves /metrics and /status (JSON) on `host` (loopback by default). Rejects with the listen
   * error (EADDRINUSE, EACCES, EADDRNOTAVAIL…) so that the caller can stop before touching any host.
   */
  serve(port: number, status: () => unknown, host = '127.0.0.1'): Promise<Server> {
    const server = createServer((req, res) => {
      void (async () => {
        if (req.url === '/metrics') {
          res.writeHead(200, { 'content-type': this.registry.contentType }).end(await this.registry.metrics());
        } else if (req.url === '/status') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(status(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
        } else {
          res.writeHead(404).end();
        }
      })();
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }
}
