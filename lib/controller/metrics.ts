// Prometheus metrics (prom-client), served at /metrics: sessions, flows per bridge, reconcile
// durations, topology events accepted and rejected.
import { createServer, Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Controller } from './controller.js';
import type { ReconcileResult } from './flow-reconciler.js';

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly reconcileSeconds = new Histogram({
    name: 'ofctl_ts_reconcile_seconds', help: 'Time to reconcile one bridge (diff, bundle, barrier-confirmed commit)',
    labelNames: ['host', 'bridge'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });
  private readonly flowMods = new Counter({
    name: 'ofctl_ts_flow_mods_total', help: 'Flow-mods sent', labelNames: ['host', 'bridge'], registers: [this.registry],
  });

  constructor(controller: () => Controller | undefined) {
    new Gauge({
      name: 'ofctl_ts_sessions', help: 'OpenFlow sessions', registers: [this.registry],
      collect() { this.set(controller()?.status().sessions ?? 0); },
    });
    new Gauge({
      name: 'ofctl_ts_bridge_flows', help: 'Our flows on each bridge', labelNames: ['host', 'bridge'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of controller()?.status().hosts ?? []) for (const [b, s] of Object.entries(h.bridges)) this.set({ host: h.host, bridge: b }, s.flows);
      },
    });
    new Gauge({
      name: 'ofctl_ts_bridge_flows_observed', help: 'Our flows the last dump (attach or audit) found on each bridge, before any repair', labelNames: ['host', 'bridge'], registers: [this.registry],
      collect() {
        this.reset();
        for (const h of controller()?.status().hosts ?? []) {
          for (const [b, s] of Object.entries(h.bridges)) if (s.observed !== undefined) this.set({ host: h.host, bridge: b }, s.observed);
        }
      },
    });
    new Gauge({
      name: 'ofctl_ts_topology_events', help: 'Topology events by outcome', labelNames: ['outcome'], registers: [this.registry],
      collect() {
        const t = controller()?.status().topology;
        this.set({ outcome: 'accepted' }, t?.accepted ?? 0);
        this.set({ outcome: 'rejected' }, t?.rejected ?? 0);
      },
    });
  }

  observe(host: string, bridge: string, r: ReconcileResult): void {
    this.reconcileSeconds.observe({ host, bridge }, r.durationMs / 1000);
    this.flowMods.inc({ host, bridge }, r.flowMods);
  }

  /** Serves /metrics and /status (JSON) on loopback unless told otherwise. */
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
    return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
  }
}
