// ofctl-ts controller --listen tcp:127.0.0.1:6653 --topology FILE|-|http:PORT [options]
// Runs until SIGINT/SIGTERM: every host of the topology with an "ovsdb" address is set up and its
// bridges' flows are kept equal to the pipelines.
import { readFileSync } from 'node:fs';
import { Controller } from '../controller/controller.js';
import { ControllerMetrics } from '../controller/metrics.js';
import { createLogger } from '../log.js';
import { loadTlsOptions } from '../tls.js';
import { fileSource, httpSource, Source, streamSource } from '../topology/sources.js';
import { TopologyStore } from '../topology/store.js';
import { formatTarget, parseListenTarget } from '../switch/target.js';
import { pipelineOptions, Profile } from '../../pipelines/options.js';

export interface ControllerArgs {
  readonly listen: string;
  readonly topology: string;
  /** What the hosts' ovs-vswitchd should connect to (default: the listen address). */
  readonly ovsTarget?: string;
  readonly profile: Profile;
  readonly l2pop: boolean;
  readonly arpResponder: boolean;
  readonly controllerId: string;
  readonly datapathType: string;
  readonly metricsPort?: number;
  /** Seconds of silence before an echo to a switch (dropped after twice as long). */
  readonly inactivityProbeS?: number;
  /** Seconds between audits of each connected bridge (drift repaired); 0: none. */
  readonly auditIntervalS?: number;
  readonly httpToken?: string;
  /** A file holding the token (its first line), so that it stays out of the process list. */
  readonly httpTokenFile?: string;
  readonly httpHost?: string;
  /** TLS (all three or none), for an `ssl:` listen target and hosts' `ssl:` OVSDB addresses. */
  readonly privateKey?: string;
  readonly certificate?: string;
  readonly caCert?: string;
}


function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--http-token-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const token = text.split('\n')[0]!.trim();
  if (!token) throw new Error(`--http-token-file ${path}: empty`);
  return token;
}

export async function controllerCommand(a: ControllerArgs): Promise<number> {
  if (a.inactivityProbeS !== undefined && !(a.inactivityProbeS > 0)) throw new Error(`--inactivity-probe ${a.inactivityProbeS}: must be a positive number of seconds`);
  if (a.auditIntervalS !== undefined && !(a.auditIntervalS >= 0)) throw new Error(`--audit-interval ${a.auditIntervalS}: must be a number of seconds (0: no audit)`);
  const log = createLogger('ofctl-ts', process.env.OFCTL_TS_LOG ?? 'info');
  // Options are checked (and key files read) before anything listens.
  const tls = loadTlsOptions(a);
  const listen = parseListenTarget(a.listen, tls);
  const token = a.httpTokenFile ? readToken(a.httpTokenFile) : a.httpToken;
  if (tls) log.info({ tls: tls.files, subject: tls.subject }, 'TLS credentials loaded');
  const store = new TopologyStore();
  let source: Source;
  if (a.topology === '-') source = streamSource(store, process.stdin);
  else if (a.topology.startsWith('http:')) {
    source = await httpSource(store, {
      port: Number(a.topology.slice(5)), ...(token ? { token } : {}), ...(a.httpHost ? { host: a.httpHost } : {}),
    });
  } else source = fileSource(store, a.topology);
  log.info({ source: source.name, tokenRequired: token !== undefined }, 'topology source');
  const metrics: ControllerMetrics = new ControllerMetrics(() => ctl);
  const ctl: Controller = new Controller(store, {
    listen,
    ...(a.inactivityProbeS !== undefined ? { session: { echoIntervalMs: a.inactivityProbeS * 1000 } } : {}),
    pipeline: pipelineOptions({ profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, controllerId: a.controllerId }),
    // ovs-vswitchd is told the active spelling of where we listen (`pssl:6653` → `ssl:127.0.0.1:6653`).
    setup: { controllerTarget: a.ovsTarget ?? formatTarget(listen), datapathType: a.datapathType },
    ...(tls ? { tls } : {}), ...(a.auditIntervalS ? { auditIntervalMs: a.auditIntervalS * 1000 } : {}),
    log, onReconciled: (h, b, r) => metrics.observe(h, b, r),
    // A long sync shows its progress: a live line in a terminal, log lines otherwise.
    onProgress: (h, b, sent, total) => {
      const pct = Math.round((100 * sent) / total);
      if (process.stderr.isTTY) process.stderr.write(`\r${h} ${b}: ${sent}/${total} flow-mods (${pct}%)${sent === total ? '\n' : ''}`);
      else log.info({ host: h, bridge: b, sent, total }, `sync ${pct}%`);
    },
  });
  await ctl.start();
  let metricsServer: import('node:http').Server | undefined;
  if (a.metricsPort !== undefined) {
    metricsServer = await metrics.serve(a.metricsPort, () => ctl.status());
    log.info({ port: a.metricsPort }, 'serving /metrics and /status on 127.0.0.1');
  }
  log.info({ listen: formatTarget(listen) }, 'controller running');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await source.stop();
  await ctl.stop();
  await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
  log.info('controller stopped');
  return 0;
}

/** ofctl-ts status [--metrics-port N]: what a running controller knows, from its /status endpoint. */
export async function statusCommand(port: number, out: (s: string) => void): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/status`);
  if (!res.ok) throw new Error(`controller at 127.0.0.1:${port} answered ${res.status}`);
  const s = (await res.json()) as {
    sessions: number; topology: { accepted: number; rejected: number };
    hosts: Array<{ host: string; ovsdbConnected: boolean; errors: string[]; bridges: Record<string, { connected: boolean; flows: number; lastReconcile?: { flowMods: number; durationMs: number }; observed?: number; lastAudit?: string }> }>;
  };
  out(`sessions ${s.sessions}; topology events accepted ${s.topology.accepted}, rejected ${s.topology.rejected}`);
  for (const h of s.hosts) {
    out(`host ${h.host}: ovsdb ${h.ovsdbConnected ? 'connected' : 'DISCONNECTED'}${h.errors.length ? `; errors: ${h.errors.join('; ')}` : ''}`);
    for (const [b, st] of Object.entries(h.bridges)) {
      const last = st.lastReconcile ? `, last reconcile ${st.lastReconcile.flowMods} flow-mods in ${st.lastReconcile.durationMs.toFixed(1)} ms` : '';
      // Desired (what we converged to) beside what the last dump found there, before any repair.
      const seen = st.observed !== undefined ? ` desired, ${st.observed} observed (last audit ${st.lastAudit})` : '';
      out(`  ${b}: ${st.connected ? 'connected' : 'not connected'}, ${st.flows} flows${seen}${last}`);
    }
  }
  return 0;
}
