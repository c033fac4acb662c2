// The ofctl-ts commands beside the flow tool (render, audit, pipeline, controller, status, topology; the flow
// tool is quick.ts): parses their arguments with yargs and runs each command's module, loaded only
// when that command runs (start-up time is part of every command's time).
import { setTlsOptions } from './common.js';
import { VERSION } from '../version.js';
import { out, run } from './run.js';
import cjsYargs from './yargs.cjs';

const { yargs, hideBin } = cjsYargs;

// yargs reads a lone `-` as an empty string (for positionals and option values alike); ovs-ofctl
// and this tool take `-` as standard input wherever a FILE is taken. It is carried through the
// parser as a token yargs leaves alone and given back as `-` before any command sees it.
const STDIN_TOKEN = '\u0000stdin';

/** --firewall, the same on every command that renders br-int (Neutron's firewall_driver). */
const FIREWALL_OPTION = {
  choices: ['noop', 'openvswitch'] as const, default: 'noop' as const,
  describe: "security groups (Neutron's firewall_driver; Neutron's default is noop): openvswitch = Neutron's OVS firewall in br-int "
    + '(tables 60-94: per-port anti-spoofing, conntrack, the groups\' rules, remote groups as conjunctions); noop = none, '
    + "br-int's own anti-spoofing only",
};
const args = hideBin(process.argv).map((a) => (a === '-' ? STDIN_TOKEN : a));

void yargs(args)
  .scriptName('ofctl-ts')
  .middleware((a) => {
    for (const [k, v] of Object.entries(a)) {
      if (v === STDIN_TOKEN) a[k] = '-';
      else if (Array.isArray(v)) a[k] = v.map((x) => (x === STDIN_TOKEN ? '-' : x));
    }
  }, true)
  .usage('$0 <command> [args]\n\nThe flow commands (dump-flows, add-flows…): ofctl-ts --help.')
  // TLS for ssl: targets, listen addresses and OVSDB addresses, named as OVS names them.
  .option('private-key', { type: 'string', global: true, describe: 'TLS: our private key (PEM)' })
  .option('certificate', { type: 'string', global: true, describe: 'TLS: our certificate (PEM), signed by a CA the peers trust' })
  .option('ca-cert', { type: 'string', global: true, describe: 'TLS: the CA certificate that signed the peers\' certificates' })
  .middleware((a) => setTlsOptions({ privateKey: a.privateKey, certificate: a.certificate, caCert: a.caCert }))
  .command('render', "print the flows a host should hold (no OVS needed), as dump-flows --no-stats | sort prints them", (y) => y
    .option('topology', { type: 'string', demandOption: true, describe: 'topology file (JSON lines), - for stdin' })
    .option('host', { type: 'string', demandOption: true })
    .option('bridge', { choices: ['br-tun', 'br-int'] as const, default: 'br-tun' as const })
    .option('profile', { choices: ['neutron', 'classic'] as const, default: 'neutron' as const })
    .option('l2pop', { type: 'boolean', default: false, describe: 'l2 population: static unicast entries, per-network flooding' })
    .option('arp-responder', { type: 'boolean', default: false, describe: 'answer ARP for remote ports in OVS (with --l2pop)' })
    .option('firewall', FIREWALL_OPTION)
    .option('controller-id', { type: 'string', describe: 'derives the cookies (default ofctl-ts)' }),
  (a) => run('render', async () => (await import('./render.js')).renderCommand({
    topology: a.topology, host: a.host, bridge: a.bridge, profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall: a.firewall,
    ...(a.controllerId ? { controllerId: a.controllerId } : {}),
  }, out)))
  .command('audit', "compare each host's bridges with the flows it should hold (read-only); exit 0 equal, 1 different, 2 error", (y) => y
    .option('topology', { type: 'string', demandOption: true, describe: 'topology file (JSON lines), - for stdin' })
    .option('host', { type: 'string', describe: 'the host to audit' })
    .option('all', { type: 'boolean', describe: 'every host with an ovsdb address (or --host)' })
    .option('bridge', { choices: ['br-tun', 'br-int'] as const, describe: 'only this bridge (default both)' })
    .option('rundir', { type: 'string', describe: "the host's ovs-vswitchd run directory (BRIDGE.mgmt; default: its unix OVSDB socket's, else $OVS_RUNDIR)" })
    .option('profile', { choices: ['neutron', 'classic'] as const, default: 'neutron' as const })
    .option('l2pop', { type: 'boolean', default: false })
    .option('arp-responder', { type: 'boolean', default: false })
    .option('firewall', FIREWALL_OPTION)
    .option('controller-id', { type: 'string', describe: 'derives the cookies (default ofctl-ts)' }),
  (a) => run('audit', async () => (await import('./audit.js')).auditCommand({
    topology: a.topology, all: a.all ?? false, profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall: a.firewall,
    ...(a.host ? { host: a.host } : {}), ...(a.bridge ? { bridge: a.bridge } : {}), ...(a.rundir ? { rundir: a.rundir } : {}),
    ...(a.controllerId ? { controllerId: a.controllerId } : {}),
  }, out, (s) => process.stderr.write(`ofctl-ts: audit: ${s}\n`))))
  .command('pipeline <action>', 'draw a pipeline (pipeline graph): tables as boxes, continuations as arrows (no OVS needed)', (y) => y
    .positional('action', { choices: ['graph'] as const, demandOption: true })
    .option('profile', { choices: ['neutron', 'classic'] as const, default: 'neutron' as const })
    .option('bridge', { choices: ['br-tun', 'br-int'] as const, default: 'br-tun' as const })
    .option('format', { choices: ['mermaid', 'dot', 'svg'] as const, default: 'mermaid' as const, describe: 'svg runs Graphviz dot' })
    .option('l2pop', { type: 'boolean', default: false, describe: 'l2 population: static unicast entries, per-network flooding' })
    .option('arp-responder', { type: 'boolean', default: false, describe: 'answer ARP for remote ports in OVS (with --l2pop)' })
    .option('firewall', FIREWALL_OPTION),
  (a) => run('pipeline', async () => (await import('./pipeline-graph.js')).pipelineGraphCommand({
    profile: a.profile, bridge: a.bridge, format: a.format, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall: a.firewall,
  }, out)))
  .command('controller', 'run the controller: keep every host of the topology set up and its flows converged', (y) => y
    .option('listen', { type: 'string', default: 'tcp:127.0.0.1:6653', describe: 'where ovs-vswitchd connects: tcp:[IP:]PORT, ssl:[IP:]PORT, ptcp:/pssl:PORT[:IP] or unix:PATH (no IP: 127.0.0.1)' })
    .option('topology', { type: 'string', array: true, describe: 'FILE (followed), - (stdin), http:PORT (POST /events) or etcd:HOST:PORT[,HOST:PORT…][/PREFIX] (watched); given twice, etcd:… and http:PORT: POST /events writes to etcd; or use --neutron-rpc' })
    .option('etcd-connect-timeout', { type: 'number', describe: 'seconds an etcd topology (or --etcd) may take to answer at start (default 10)' })
    .option('etcd', { type: 'string', describe: 'run as one replica among several: the cluster\'s etcd, HOST:PORT[,HOST:PORT…][/PREFIX] (default prefix /ofctl-ts; the topology is then etcd:…/PREFIX/topology unless --topology names one); with --replica-id. With --neutron-rpc, etcd holds the cluster only: every replica takes the same --neutron-hosts and broker, hears Neutron\'s fanouts, and speaks for a host (heartbeats, device loop, its host queues) only while it leads the host\'s shard' })
    .option('replica-id', { type: 'string', describe: 'with --etcd: this replica\'s id (unique in the cluster; letters, digits, . _ -)' })
    .option('shards', { type: 'number', describe: 'with --etcd: hosts are spread over this many shards, each led by one replica (default 16; the same on every replica)' })
    .option('neutron-rpc', { type: 'string', describe: 'take the OVS agent\'s place on Neutron\'s agent RPC: amqp://HOST:PORT/VHOST or amqps://… (implies --l2pop)' })
    .option('neutron-hosts', { type: 'string', describe: 'with --neutron-rpc: FILE of host lines ({"type":"host","name":…,"tunnelIp":…,"ovsdb":…}), the hypervisors spoken for' })
    .option('neutron-rpc-credentials', { type: 'string', describe: 'FILE whose first line is USER:PASSWORD for the broker (never on the command line)' })
    .option('neutron-rpc-ca', { type: 'string', describe: 'CA file for an amqps: broker (default: the system\'s; oslo\'s ssl_ca_file)' })
    .option('neutron-rpc-certificate', { type: 'string', describe: 'client certificate for an amqps: broker that asks for one (ssl_cert_file)' })
    .option('neutron-rpc-private-key', { type: 'string', describe: 'its private key (ssl_key_file)' })
    .option('report-interval', { type: 'number', describe: 'seconds between report_state heartbeats (Neutron\'s report_interval; default 30)' })
    .option('rpc-response-timeout', { type: 'number', describe: 'seconds a Neutron call may take (oslo\'s rpc_response_timeout; default 60)' })
    .option('control-exchange', { type: 'string', describe: 'oslo\'s control_exchange (default neutron)' })
    .option('amqp-durable-queues', { type: 'boolean', describe: 'as the cloud\'s [oslo_messaging_rabbit] amqp_durable_queues' })
    .option('amqp-auto-delete', { type: 'boolean', describe: 'as amqp_auto_delete' })
    .option('rabbit-ha-queues', { type: 'boolean', describe: 'as rabbit_ha_queues' })
    .option('rabbit-transient-queues-ttl', { type: 'number', describe: 'as rabbit_transient_queues_ttl (seconds; default 1800)' })
    .option('rabbit-quorum-queue', { type: 'boolean', describe: 'as rabbit_quorum_queue' })
    .option('rabbit-quorum-delivery-limit', { type: 'number', describe: 'as rabbit_quorum_delivery_limit' })
    .option('enable-cancel-on-failover', { type: 'boolean', describe: 'as enable_cancel_on_failover' })
    .option('ovs-target', { type: 'string', describe: 'the controller target written into each bridge (default: --listen, as ovs-vswitchd spells it: ssl:6653 → ssl:127.0.0.1:6653)' })
    .option('profile', { choices: ['neutron', 'classic'] as const, default: 'neutron' as const })
    .option('l2pop', { type: 'boolean', default: false })
    .option('arp-responder', { type: 'boolean', default: false })
    .option('firewall', FIREWALL_OPTION)
    .option('controller-id', { type: 'string', default: 'ofctl-ts', describe: 'derives the cookies that mark our flows' })
    .option('datapath-type', { type: 'string', default: 'system', describe: 'netdev for the userspace datapath' })
    .option('metrics-port', { type: 'number', describe: 'serve /metrics (Prometheus) and /status on 127.0.0.1' })
    .option('metrics-host', { type: 'string', describe: 'address for /metrics and /status (default 127.0.0.1; firewall it if not loopback)' })
    .option('inactivity-probe', { type: 'number', default: 5, describe: 'seconds without a message before an echo, both ways (ours to a switch; ovs-vswitchd\'s to us: the Controller rows\' inactivity_probe); silent twice as long, besides time for work we sent, the session is dropped (as OVS)' })
    .option('audit-interval', { type: 'number', default: 30, describe: 'seconds between dumps of each bridge that repair drift (0: none)' })
    .option('http-token', { type: 'string', describe: 'bearer token required by the HTTP topology endpoint' })
    .option('http-token-file', { type: 'string', conflicts: 'http-token', describe: 'read that token from FILE (keeps it out of the process list)' })
    .option('http-host', { type: 'string', describe: 'address of the HTTP topology endpoint (default 127.0.0.1)' })
    .option('allow-partial', { type: 'boolean', default: false, describe: 'start despite rejected topology lines; the hosts they concern stay untouched until fixed' }),
  (a) => run('controller', async () => (await import('./controller.js')).controllerCommand({
    listen: a.listen, ...(a.topology !== undefined ? { topology: a.topology } : {}),
    ...(a.etcdConnectTimeout !== undefined ? { etcdConnectTimeoutS: a.etcdConnectTimeout } : {}),
    ...(a.etcd !== undefined ? { etcd: a.etcd } : {}), ...(a.replicaId !== undefined ? { replicaId: a.replicaId } : {}), ...(a.shards !== undefined ? { shards: a.shards } : {}),
    ...(a.neutronRpc !== undefined ? { neutronRpc: a.neutronRpc } : {}), ...(a.neutronHosts !== undefined ? { neutronHosts: a.neutronHosts } : {}),
    ...(a.neutronRpcCredentials !== undefined ? { neutronRpcCredentials: a.neutronRpcCredentials } : {}),
    ...(a.neutronRpcCa !== undefined ? { neutronRpcCa: a.neutronRpcCa } : {}),
    ...(a.neutronRpcCertificate !== undefined ? { neutronRpcCertificate: a.neutronRpcCertificate } : {}),
    ...(a.neutronRpcPrivateKey !== undefined ? { neutronRpcPrivateKey: a.neutronRpcPrivateKey } : {}), ...(a.reportInterval !== undefined ? { reportIntervalS: a.reportInterval } : {}),
    ...(a.rpcResponseTimeout !== undefined ? { rpcResponseTimeoutS: a.rpcResponseTimeout } : {}), ...(a.controlExchange ? { controlExchange: a.controlExchange } : {}),
    rabbit: {
      ...(a.amqpDurableQueues !== undefined ? { durable: a.amqpDurableQueues } : {}), ...(a.amqpAutoDelete !== undefined ? { autoDelete: a.amqpAutoDelete } : {}),
      ...(a.rabbitHaQueues !== undefined ? { haQueues: a.rabbitHaQueues } : {}),
      ...(a.rabbitTransientQueuesTtl !== undefined ? { transientTtlSeconds: a.rabbitTransientQueuesTtl } : {}),
      ...(a.rabbitQuorumQueue !== undefined ? { quorumQueues: a.rabbitQuorumQueue } : {}),
      ...(a.rabbitQuorumDeliveryLimit !== undefined ? { quorumDeliveryLimit: a.rabbitQuorumDeliveryLimit } : {}),
      ...(a.enableCancelOnFailover !== undefined ? { cancelOnFailover: a.enableCancelOnFailover } : {}),
    },
    profile: a.profile, l2pop: a.l2pop, arpResponder: a.arpResponder, firewall: a.firewall,
    controllerId: a.controllerId, datapathType: a.datapathType, inactivityProbeS: a.inactivityProbe, auditIntervalS: a.auditInterval,
    ...(a.ovsTarget ? { ovsTarget: a.ovsTarget } : {}), ...(a.metricsPort !== undefined ? { metricsPort: a.metricsPort } : {}),
    ...(a.metricsHost ? { metricsHost: a.metricsHost } : {}),
    ...(a.httpToken ? { httpToken: a.httpToken } : {}), ...(a.httpTokenFile ? { httpTokenFile: a.httpTokenFile } : {}),
    ...(a.httpHost ? { httpHost: a.httpHost } : {}), ...(a.privateKey ? { privateKey: a.privateKey } : {}),
    ...(a.certificate ? { certificate: a.certificate } : {}), ...(a.caCert ? { caCert: a.caCert } : {}), allowPartial: a.allowPartial,
  })))
  .command('status', "print a running controller's hosts, bridges, sessions and last reconcile", (y) => y
    .option('metrics-port', { type: 'number', demandOption: true, describe: 'the --metrics-port of the controller' })
    .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'the --metrics-host of the controller' }),
  (a) => run('status', async () => (await import('./controller.js')).statusCommand(a.metricsPort, out, a.metricsHost)))
  .command('topology <action> [args..]', 'the topology in etcd: put LINE… (or stdin), import FILE, delete KIND ID, get [KIND [ID]]; checked against etcd, written in one transaction', (y) => y
    .positional('action', { choices: ['put', 'import', 'delete', 'get'] as const, demandOption: true })
    .positional('args', { type: 'string', array: true, default: [] as string[] })
    .option('etcd', { type: 'string', demandOption: true, describe: 'HOST:PORT[,HOST:PORT…][/PREFIX] (default prefix /ofctl-ts/topology)' }),
  (a) => run('topology', async () => (await import('./topology.js')).topologyCommand({ action: a.action, args: a.args.map(String), etcd: a.etcd }, out)))
  // package.json's version, not that of the package.json yargs would find above the binary or the working directory.
  .version(VERSION)
  .demandCommand(1, 'name a command')
  .strict()
  // A slip (an unknown option, a stray argument, a missing value) is one line naming it and pointing
  // at --help, as ovs-ofctl does, not the command's whole help above it. yargs names an unknown
  // option twice (as typed and camelCased): once here; a word typed bare is an argument, not an option.
  .fail((msg: string | null, err: Error | undefined) => {
    if (err) throw err;
    const command = args.find((x) => !x.startsWith('-'));
    const unknown = /^Unknown arguments?: (.*)$/.exec(msg ?? '');
    const names = unknown ? unknown[1]!.split(', ') : [];
    const camel = (x: string): string => x.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const once = names.filter((x) => !names.some((y) => y !== x && camel(y) === x));
    const stray = once.filter((x) => args.includes(x));
    const options = once.filter((x) => !stray.includes(x));
    const text = unknown ? [
      ...(options.length ? [`unknown option ${options.map((x) => `--${x}`).join(', ')}`] : []),
      ...(stray.length ? [`unexpected argument${stray.length > 1 ? 's' : ''} ${stray.join(', ')}`] : []),
    ].join('; ') : msg;
    process.stderr.write(`ofctl-ts: ${command ? `${command}: ` : ''}${text} (see 'ofctl-ts ${command ? `${command} ` : ''}--help')\n`);
    process.exit(1);
  })
  .help()
  .parseAsync();
