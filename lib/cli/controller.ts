// ofctl-ts controller --listen tcp:127.0.0.1:6653 --topology FILE|-|http:PORT|etcd:HOST:PORT[,…][/PREFIX] [options]
// Runs until SIGINT/SIGTERM: every host of the topology with an "ovsdb" address is set up and its
// bridges' flows are kept equal to the pipelines.
import { readOptionFile } from '../option-file.js';
import { Controller, ControllerStatus } from '../controller/controller.js';
import { ControllerMetrics } from '../controller/metrics.js';
import { createLogger } from '../log.js';
import { loadTlsOptions } from '../tls.js';
import { describeFreeze } from '../topology/freeze.js';
import type { EtcdSource, EtcdSourceStatus } from '../topology/etcd-source.js';
import type { WatchLagStatus } from '../topology/etcd-lag.js';
import { fileSource, httpSource, SnapshotSource, Source, streamSource } from '../topology/sources.js';
import { TopologyStore, where } from '../topology/store.js';
import { formatTarget, parseListenTarget } from '../switch/target.js';
import { brokerUrl, readHostsFile } from '../neutron/config.js';
import type { NeutronHostStatus } from '../neutron/agent.js';
import type { QueueOptions } from '../neutron/rpc.js';
import { NeutronSource, neutronSource } from '../neutron/source.js';
import type { Replica } from '../cluster/replica.js';

/** The prefix of a cluster's keys unless --etcd names one (its topology under PREFIX/topology). */
const CLUSTER_PREFIX = '/ofctl-ts';

/** Shards of a cluster unless --shards says otherwise: enough to share out among a dozen replicas. */
const DEFAULT_SHARDS = 16;
type ReplicaStatus = ReturnType<Replica['status']>;
import { FirewallDriver, pipelineOptions, Profile } from '../../pipelines/options.js';

export interface ControllerArgs {
  readonly listen: string;
  /**
   * FILE, -, http:PORT or etcd:HOST:PORT[,…][/PREFIX]; or none with neutronRpc (Neutron gives the
   * topology). Two: etcd:… and http:PORT, whose POST /events then writes to etcd.
   */
  readonly topology?: string | readonly string[];
  /** Seconds an etcd topology may take to answer at start. */
  readonly etcdConnectTimeoutS?: number;
  /**
   * One replica among several (lib/cluster): the etcd holding the cluster, HOST:PORT[,…][/PREFIX]
   * (default prefix /ofctl-ts: cluster keys under PREFIX/cluster/; the topology, unless given, is
   * etcd:…PREFIX/topology), this replica's id and the cluster's shard count.
   */
  readonly etcd?: string;
  readonly replicaId?: string;
  readonly shards?: number;
  /** Speak for the hosts of neutronHosts on Neutron's agent RPC at this broker (amqp[s]://HOST:PORT/VHOST). */
  readonly neutronRpc?: string;
  readonly neutronHosts?: string;
  /** A file whose first line is USER:PASSWORD for the broker. */
  readonly neutronRpcCredentials?: string;
  /** A CA file for amqps: (default: the system's). */
  readonly neutronRpcCa?: string;
  /** A client certificate and its key, for a broker that asks for one (both or neither). */
  readonly neutronRpcCertificate?: string;
  readonly neutronRpcPrivateKey?: string;
  readonly reportIntervalS?: number;
  readonly rpcResponseTimeoutS?: number;
  /** oslo.messaging's [oslo_messaging_rabbit] settings of the cloud (queues must be declared alike). */
  readonly rabbit?: Partial<QueueOptions>;
  readonly controlExchange?: string;
  /** What the hosts' ovs-vswitchd should connect to (default: the listen address). */
  readonly ovsTarget?: string;
  readonly profile: Profile;
  readonly l2pop: boolean;
  readonly arpResponder: boolean;
  readonly firewall?: FirewallDriver;
  readonly controllerId: string;
  readonly datapathType: string;
  readonly metricsPort?: number;
  /** Address /metrics and /status bind to (default 127.0.0.1). */
  readonly metricsHost?: string;
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
  /** Start despite rejected snapshot lines, freezing the hosts they concern (see freeze.ts). */
  readonly allowPartial?: boolean;
}


function readToken(path: string): string {
  const token = readOptionFile('--http-token-file', path).toString('utf8').split('\n')[0]!.trim();
  if (!token) throw new Error(`--http-token-file ${path}: empty`);
  return token;
}

/**
 * A listen that failed (port in use, address not ours, no permission) as one line naming the
 * option; other errors are returned as they are.
 */
function listenFailure(option: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.syscall !== 'listen' && e.syscall !== 'getaddrinfo') return err instanceof Error ? err : new Error(String(err));
  const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied'
    : e.code === 'EADDRNOTAVAIL' ? 'address not available on this machine' : e.code === 'ENOTFOUND' ? 'unknown host name' : e.message;
  return new Error(`${option}: ${why}`);
}

export async function controllerCommand(a: ControllerArgs): Promise<number> {
  if (a.inactivityProbeS !== undefined && !(a.inactivityProbeS > 0)) throw new Error(`--inactivity-probe ${a.inactivityProbeS}: must be a positive number of seconds`);
  if (a.metricsPort !== undefined && !(Number.isInteger(a.metricsPort) && a.metricsPort >= 0 && a.metricsPort <= 65535)) {
    throw new Error(`--metrics-port ${a.metricsPort}: must be a port number (0-65535)`);
  }
  if (a.auditIntervalS !== undefined && !(a.auditIntervalS >= 0)) throw new Error(`--audit-interval ${a.auditIntervalS}: must be a number of seconds (0: no audit)`);
  const log = createLogger('ofctl-ts', process.env.OFCTL_TS_LOG ?? 'info');
  // Ctrl-C or SIGTERM from here on stops cleanly, even while waiting for a broker at start.
  const abort = new AbortController();
  const signalled = new Promise<void>((resolve) => {
    const stop = (): void => {
      abort.abort();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // Options are checked (and key files read) before anything listens.
  const tls = loadTlsOptions(a);
  const listen = parseListenTarget(a.listen, tls);
  const token = a.httpTokenFile ? readToken(a.httpTokenFile) : a.httpToken;
  if (tls) log.info({ tls: tls.files, subject: tls.subject }, 'TLS credentials loaded');
  const store = new TopologyStore();
  store.rejected$.subscribe((r) => log.warn({ source: r.source, line: r.lineNo, error: r.error }, `${where(r)}: ${r.error}`));
  store.thawed$.subscribe(({ lifted, hosts }) => log.info({ hosts: [...hosts], lines: lifted.map((f) => f.where) },
    `accepted events named what ${lifted.map((f) => f.where).join(', ')} named: hosts thawed: ${[...hosts].join(', ') || 'none (others still frozen)'}`));
  // The start-up snapshot (a file as it is now, stdin to its end or its first empty line) is read
  // whole before anything listens or any host is touched.
  let source: Source;
  let neutron: NeutronSource | undefined;
  let etcd: EtcdSource | undefined;
  let writeThrough: Source | undefined;
  // Replicas: checked and joined before anything listens; the cluster's etcd names the topology by default.
  let cluster: { readonly endpoints: readonly string[]; readonly prefix: string } | undefined;
  if ((a.etcd === undefined) !== (a.replicaId === undefined)) throw new Error('--etcd and --replica-id go together: each replica names the cluster\'s etcd and its own id');
  if (a.shards !== undefined && a.etcd === undefined) throw new Error('--shards: only with --etcd and --replica-id');
  if (a.etcd !== undefined) {
    const { parseEtcdTarget } = await import('../topology/etcd.js');
    const { checkReplica } = await import('../cluster/cluster.js');
    checkReplica(a.replicaId!, a.shards ?? DEFAULT_SHARDS);
    // The cluster's default prefix is the parent of the topology's.
    cluster = parseEtcdTarget(a.etcd, '--etcd', CLUSTER_PREFIX);
  }
  // Under --neutron-rpc the topology is Neutron's: --etcd then holds the cluster only.
  const topologies = a.topology === undefined ? (cluster && a.neutronRpc === undefined ? [`etcd:${cluster.endpoints.join(',')}${cluster.prefix}/topology`] : [])
    : typeof a.topology === 'string' ? [a.topology] : a.topology;
  const etcdSpec = topologies.find((t) => t.startsWith('etcd:'));
  const httpSpec = topologies.find((t) => t.startsWith('http:'));
  if (topologies.length > 1 && !(topologies.length === 2 && etcdSpec && httpSpec)) {
    throw new Error(`--topology ${topologies.join(' --topology ')}: one topology, or etcd:… with http:PORT (whose POST /events then writes to etcd)`);
  }
  const httpOptions = (write?: EtcdSource['write']): Parameters<typeof httpSource>[1] => ({
    port: Number(httpSpec!.slice(5)), ...(token ? { token } : {}), ...(a.httpHost ? { host: a.httpHost } : {}), ...(write ? { write } : {}),
  });
  if (a.neutronRpc !== undefined) {
    if (a.topology !== undefined) throw new Error('--topology and --neutron-rpc: Neutron gives the topology; name the hypervisors with --neutron-hosts');
    if (a.neutronHosts === undefined) throw new Error('--neutron-rpc needs --neutron-hosts FILE: the hypervisors it speaks for (one host line each, with "ovsdb")');
    if (!(a.reportIntervalS === undefined || a.reportIntervalS > 0)) throw new Error(`--report-interval ${a.reportIntervalS}: must be a positive number of seconds`);
    if (!(a.rpcResponseTimeoutS === undefined || a.rpcResponseTimeoutS > 0)) throw new Error(`--rpc-response-timeout ${a.rpcResponseTimeoutS}: must be a positive number of seconds`);
    const { hosts, lines } = readHostsFile(a.neutronHosts);
    const url = brokerUrl(a.neutronRpc, a.neutronRpcCredentials);
    if ((a.neutronRpcCertificate === undefined) !== (a.neutronRpcPrivateKey === undefined)) {
      throw new Error('--neutron-rpc-certificate and --neutron-rpc-private-key go together');
    }
    const tlsFiles = {
      ...(a.neutronRpcCa !== undefined ? { ca: readOptionFile('--neutron-rpc-ca', a.neutronRpcCa) } : {}),
      ...(a.neutronRpcCertificate !== undefined ? { cert: readOptionFile('--neutron-rpc-certificate', a.neutronRpcCertificate) } : {}),
      ...(a.neutronRpcPrivateKey !== undefined ? { key: readOptionFile('--neutron-rpc-private-key', a.neutronRpcPrivateKey) } : {}),
    };
    const ns = await neutronSource(store, {
      url, hosts, hostLines: lines, hostsFile: a.neutronHosts, ...(a.rabbit ? { queues: a.rabbit } : {}),
      ...(a.controlExchange ? { exchange: a.controlExchange } : {}), tls: tlsFiles,
      reportIntervalS: a.reportIntervalS ?? 30, callTimeoutS: a.rpcResponseTimeoutS ?? 60,
      arpResponder: a.arpResponder, firewall: a.firewall ?? 'noop', datapathType: a.datapathType, log, signal: abort.signal,
      ...(cluster ? { replicated: true } : {}),
    });
    if (!ns) {
      log.info('stopped before the broker answered; nothing was written on any host');
      return 0;
    }
    neutron = ns;
    source = ns;
  } else if (topologies.length === 0) {
    throw new Error('name the topology: --topology FILE|-|http:PORT|etcd:HOST:PORT[/PREFIX], or --neutron-rpc URL with --neutron-hosts FILE');
  } else if (etcdSpec || !httpSpec) {
    const t = etcdSpec ?? topologies[0]!;
    let s: SnapshotSource;
    if (etcdSpec) {
      const { etcdSource } = await import('../topology/etcd-source.js');
      const { parseEtcdTarget } = await import('../topology/etcd.js');
      if (!(a.etcdConnectTimeoutS === undefined || a.etcdConnectTimeoutS > 0)) throw new Error(`--etcd-connect-timeout ${a.etcdConnectTimeoutS}: must be a positive number of seconds`);
      s = etcd = await etcdSource(store, parseEtcdTarget(etcdSpec.slice(5), '--topology etcd:'), {
        ...(a.etcdConnectTimeoutS !== undefined ? { connectTimeoutMs: a.etcdConnectTimeoutS * 1000 } : {}),
        // The topology the replica's --etcd names (no --topology given): errors name --etcd.
        ...(a.topology === undefined && cluster ? { option: `--etcd ${a.etcd!}` } : {}),
        onEvent: (what, detail) => (what === 'disconnected' ? log.warn({ etcd: etcdSpec }, detail) : log.info({ etcd: etcdSpec }, detail)),
      });
    } else s = t === '-' ? await streamSource(store, process.stdin) : fileSource(store, t);
    source = s;
    if (s.snapshot.length && !a.allowPartial) {
      await source.stop();
      throw new Error(`${s.snapshot.length} rejected line(s) in the topology; nothing was done on any host (fix them, or start with --allow-partial):\n`
        + s.snapshot.map((r) => `  ${where(r)}: ${r.error}`).join('\n'));
    }
    for (const f of store.freeze(s.snapshot)) {
      log.warn({ line: f.where, hosts: f.hosts === 'all' ? 'all' : [...f.hosts], names: f.names }, `--allow-partial: ${describeFreeze(f)}`);
    }
    if (etcd && httpSpec) {
      const write = etcd.write;
      writeThrough = await httpSource(store, httpOptions(write)).catch(async (err: unknown) => {
        await source.stop();
        throw listenFailure(`--topology ${httpSpec}`, err);
      });
      log.info({ source: writeThrough.name }, 'POST /events writes through to etcd');
    }
  } else {
    source = await httpSource(store, httpOptions()).catch((err: unknown) => { throw listenFailure(`--topology ${httpSpec}`, err); });
  }
  log.info({ source: source.name, tokenRequired: token !== undefined }, 'topology source');
  const ovsTarget = a.ovsTarget ?? formatTarget(listen);
  let replica: Replica | undefined;
  if (cluster) {
    const { joinCluster } = await import('../cluster/replica.js');
    replica = await joinCluster({
      endpoints: cluster.endpoints, prefix: cluster.prefix, replicaId: a.replicaId!, target: ovsTarget, shards: a.shards ?? DEFAULT_SHARDS, log, named: `--etcd ${a.etcd!}`,
      ...(a.etcdConnectTimeoutS !== undefined ? { connectTimeoutMs: a.etcdConnectTimeoutS * 1000 } : {}),
    }, neutron?.agent).catch(async (err: unknown) => {
      await source.stop();
      throw err;
    });
    log.info({ replica: a.replicaId, shards: a.shards ?? DEFAULT_SHARDS, target: ovsTarget }, 'joined the cluster');
  }
  const metrics: ControllerMetrics = new ControllerMetrics(() => ctl);
  if (replica || etcd) metrics.scaleOut(() => replica?.status(), () => etcd?.status(), () => ctl);
  const ctl: Controller = new Controller(store, {
    listen,
    ...(a.inactivityProbeS !== undefined ? { session: { echoIntervalMs: a.inactivityProbeS * 1000 } } : {}),
    // Under Neutron, l2population tells the remote ports: the pipelines are l2pop's.
    pipeline: pipelineOptions({ profile: a.profile, l2pop: a.l2pop || neutron !== undefined, arpResponder: a.arpResponder, firewall: a.firewall ?? 'noop', controllerId: a.controllerId }),
    // ovs-vswitchd is told the active spelling of where we listen (`pssl:6653` → `ssl:127.0.0.1:6653`).
    setup: {
      controllerTarget: ovsTarget, datapathType: a.datapathType,
      // One probe both ways, as Neutron's of_inactivity_probe: ovs-vswitchd's of us as ours of it.
      ...(a.inactivityProbeS !== undefined ? { inactivityProbeMs: Math.round(a.inactivityProbeS * 1000) } : {}),
    },
    ...(tls ? { tls } : {}), ...(a.auditIntervalS ? { auditIntervalMs: a.auditIntervalS * 1000 } : {}),
    log, onReconciled: (h, b, r) => metrics.observe(h, b, r), onRefused: (h, b, n) => metrics.refusedFlowMods(h, b, n),
    onRepaired: (h, b, n) => metrics.repaired(h, b, n),
    ...neutron?.controllerHooks, ...(replica ? { cluster: replica.controllerOptions } : {}),
    // A long sync shows its progress: a live line in a terminal, log lines otherwise.
    onProgress: (h, b, sent, total) => {
      const pct = Math.round((100 * sent) / total);
      if (process.stderr.isTTY) process.stderr.write(`\r${h} ${b}: ${sent}/${total} flow-mods (${pct}%)${sent === total ? '\n' : ''}`);
      else log.info({ host: h, bridge: b, sent, total }, `sync ${pct}%`);
    },
  });
  // Every listen is checked before any host is touched: a busy port stops us with one line.
  let metricsServer: import('node:http').Server | undefined;
  if (a.metricsPort !== undefined) {
    const host = a.metricsHost ?? '127.0.0.1';
    const option = `${a.metricsHost ? `--metrics-host ${a.metricsHost} ` : ''}--metrics-port ${a.metricsPort}`;
    metricsServer = await metrics.serve(a.metricsPort, () => ({ ...ctl.status(), ...(neutron ? { neutron: neutron.agent.status() } : {}), ...(etcd ? { etcd: etcd.status() } : {}), ...(replica ? { cluster: replica.status() } : {}) }), host).catch((err: unknown) => { throw listenFailure(option, err); });
    log.info({ host, port: a.metricsPort }, 'serving /metrics and /status');
  }
  neutron?.bind(ctl);
  replica?.bind(ctl);
  await ctl.start().catch((err: unknown) => { throw listenFailure(`--listen ${a.listen}`, err); });
  log.info({ listen: formatTarget(listen) }, 'controller running');
  await signalled;
  await writeThrough?.stop();
  await source.stop();
  // Leaving at once hands this replica's shards to their standbys now, not a lease TTL later.
  await replica?.stop();
  await ctl.stop();
  await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
  log.info('controller stopped');
  return 0;
}

/** A watch's lag behind etcd (etcd-lag.ts), as the status line says it. */
function describeLag(l: WatchLagStatus): string {
  if (l.checkedAt === undefined) return 'watch lag not measured yet';
  return l.revisions === 0 ? `watch in step with etcd (revision ${l.etcdRevision}, checked ${l.checkedAt})`
    : `watch BEHIND etcd by ${l.revisions} revision(s) for ${l.seconds.toFixed(1)} s (etcd at ${l.etcdRevision}, checked ${l.checkedAt})`;
}

/** ofctl-ts status [--metrics-port N] [--metrics-host H]: what a running controller knows, from its /status endpoint. */
export async function statusCommand(port: number, out: (s: string) => void, host = '127.0.0.1'): Promise<number> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const res = await fetch(`http://${where}/status`).catch(() => {
    throw new Error(`no controller answers on ${where} (is it running with --metrics-port ${port}?)`);
  });
  if (!res.ok) throw new Error(`controller at ${where} answered ${res.status}`);
  const s = (await res.json()) as ControllerStatus & { readonly neutron?: readonly NeutronHostStatus[]; readonly etcd?: EtcdSourceStatus; readonly cluster?: ReplicaStatus };
  out(`sessions ${s.sessions}; topology events accepted ${s.topology.accepted}, rejected ${s.topology.rejected}`);
  if (s.etcd) {
    const e = s.etcd;
    out(`etcd ${e.target}: ${e.connected ? 'connected' : `DISCONNECTED (${e.named}: etcd could not be reached; the topology stays as it was and the hosts keep their flows; etcd3: ${e.lastError ?? 'no answer'})`}`
      + `, revision ${e.revision}, ${e.relists} relist(s), ${describeLag(e.lag)}`);
  }
  if (s.cluster) {
    const c = s.cluster;
    const leads = c.leads.map((l) => `${l.shard} (generation ${l.generation})`).join(', ') || 'none';
    // members: every replica that ever joined (a departed one stays listed as a controller target).
    out(`replica ${c.replica}: ${c.alive.length} of ${c.members.length} known replicas alive (${c.alive.join(', ')}), ${c.shards} shards: leads ${leads}; standby for ${c.standby.join(', ') || 'none'}; ` +
      `etcd revision ${c.revision}${c.leaseFresh ? '' : ', LEASE NOT CONFIRMED (no keepalive answer from etcd: this replica\'s writes are paused; the hosts keep their flows)'}; `
      + `${c.leadershipChanges} leadership change(s), ${c.peersRevoked} dead peer(s)' lease revoked, ${c.relists} relist(s), ${describeLag(c.lag)}`);
  }
  for (const f of s.frozen ?? []) {
    out(`FROZEN (--allow-partial): ${f.hosts === 'all' ? 'every host' : `host${f.hosts.length === 1 ? '' : 's'} ${f.hosts.join(', ')}`}, untouched until ${f.line} is fixed: ${f.error}`);
  }
  for (const n of s.neutron ?? []) {
    const r = n.lastReport;
    const beat = !r ? 'no heartbeat yet' : r.error ? `last heartbeat FAILED at ${r.at}: ${r.error}` : `last heartbeat ${r.at} (${r.result})`;
    const sync = n.speaking === false ? 'standby (the leader of its shard speaks for it)' : n.ready ? 'synced' : 'FIRST SYNC NOT DONE (nothing written yet)';
    out(`neutron agent ${n.host}: ${sync}, ${n.plugged} plugged, ${n.up} up, ${n.waiting} waiting; ${beat}`);
  }
  for (const h of s.hosts) {
    const u = h.unreachable;
    const ovsdb = h.ovsdbConnected ? 'connected'
      : u ? `UNREACHABLE (${u.error}; ${u.attempts} attempt${u.attempts === 1 ? '' : 's'}, next at ${u.nextTryAt})` : 'DISCONNECTED';
    out(`host ${h.host}: ovsdb ${ovsdb}${h.errors.length ? `; errors: ${h.errors.join('; ')}` : ''}`);
    for (const [b, st] of Object.entries(h.bridges)) {
      const last = st.lastReconcile ? `, last reconcile ${st.lastReconcile.flowMods} flow-mods in ${st.lastReconcile.durationMs.toFixed(1)} ms` : '';
      // Desired (what we converged to) beside what the last dump found there, before any repair.
      const seen = st.observed !== undefined ? ` desired, ${st.observed} observed (last audit ${st.lastAudit})` : '';
      const role = st.role ? `, ${st.role}${st.generation !== undefined ? ` (generation ${st.generation})` : ''}` : '';
      out(`  ${b}: ${st.connected ? 'connected' : 'not connected'}${role}, ${st.flows} flows${seen}${last}${st.lastCheck ? `, last checked ${st.lastCheck}` : ''}`);
    }
  }
  return 0;
}
