// bench/neutron: issue 17's last check. ofctl-ts's controller, run as an operator runs it (the CLI
// in its own process: `ofctl-ts controller --neutron-rpc …`), speaks for one sandboxed host as its
// "Open vSwitch agent" against Debian's real neutron-server (sqlite, noauth) and RabbitMQ. Ports are
// then made the way Nova makes them, PORTS of them with CONCURRENCY in flight (Nova boots many VMs
// at once): POST /v2.0/ports bound to the host (compute:nova), the VM interface plugged into br-int
// as os-vif does, then the port polled until ACTIVE (what Nova waits for before it starts the VM).
// All ports are in one network (a /21) and one security group with a remote-group rule, as
// Neutron's default group: every new port is also a new member every port's firewall matches.
// Figures, per port: POST -> ACTIVE (what Nova sees), of which the POST alone (Neutron's) and plug
// -> ACTIVE (the agent's share: OVSDB notice, details RPC, flows, update_device_list; Neutron's RPC
// server answers inside it); p50/p99/max, the wall time until every port is ACTIVE, the controller's
// CPU time and peak RSS, neutron-server's. After the run the bridges' flows must be the controller's
// own state (dump-flows vs /status) and what `ofctl-ts render` gives for the topology the REST API
// describes, each port must have its anti-spoofing flows, and every port must still be ACTIVE.
// The controller logs at debug: its "device details fetched" lines (with ids) split plug -> ACTIVE.
// The reference: neutron-openvswitch-agent programming the benches' large host on this machine
// kind, 544 s (issue 17; 1000 local ports, one per network, 200 remote hosts: bench/sync's host).
// BENCH_SCALE=0.1 makes 100 ports (a quick run); NEUTRON_BENCH_CONCURRENCY sets the ports in flight;
// NEUTRON_BENCH_LOGS=DIR keeps the controller's and neutron-server's logs there (a diagnostic).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerProcess, LogLine } from '../testing/controller-process.js';
import { NeutronApi, Port } from '../testing/neutron-api.js';
import { NeutronServer } from '../testing/neutron-server.js';
import { Postgres } from '../testing/postgres.js';
import { RabbitMq } from '../testing/rabbitmq.js';
import { OvsSandbox } from '../testing/sandbox.js';
import { eventually, freePort } from '../testing/wait.js';
import { mapDevices } from '../lib/topology/neutron-map.js';
import { TopologyStore } from '../lib/topology/store.js';
import { capture, compareOutputs, flowCount, ofctlTs, processCpuSeconds } from './common.js';

/** Seconds between the agent's heartbeats (Neutron's default is 30): more of them, more samples of their lateness. */
const REPORT_S = 10;
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const PORTS = Math.max(10, Math.round(1000 * SCALE));
const CONCURRENCY = Number(process.env.NEUTRON_BENCH_CONCURRENCY ?? 10);
/**
 * POSTs in flight at once: 1 by default. The rig's neutron-server runs on sqlite, whose write lock
 * blocks the whole eventlet process of its API worker: two POSTs at once end in "database is
 * locked" (500) after sqlite's 5 s busy timeout. A production server (MySQL) takes them concurrently.
 */
const POSTS = Number(process.env.NEUTRON_BENCH_POSTS ?? 1);
/** NEUTRON_BENCH_DB=postgres: the server on a private PostgreSQL (testing/postgres.ts), as production runs it on MySQL, instead of sqlite. */
const DB = process.env.NEUTRON_BENCH_DB === 'postgres' ? 'postgres' : 'sqlite';
/** How often the ports waiting for ACTIVE are asked for (one list call for all of them). */
const POLL_MS = 100;
const HOST = 'hv1';
/** neutron-openvswitch-agent on the large host, measured on this machine kind (issue 17). */
const REFERENCE_S = 544;

interface Timing {
  id: string;
  mac: string;
  want: number;
  /** Date.now() marks: the VM wanted its port (before the POST slot), POST sent, POST answered, plug (ovs-vsctl) returned, details fetched by the agent, seen ACTIVE. */
  post: number;
  posted: number;
  plugged: number;
  fetched?: number;
  /** br-int's first reconcile (or check) after the fetch, barrier-confirmed: the port's flows are in. */
  programmed?: number;
  active?: number;
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const stats = (xs: readonly number[]): { p50: number; p99: number; max: number } => ({ p50: pct(xs, 50), p99: pct(xs, 99), max: Math.max(...xs) });
const vmKb = (pid: number, field: 'VmRSS' | 'VmHWM'): number =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cpuOf = (pids: readonly number[]): number => pids.reduce((s, p) => {
  try {
    return s + processCpuSeconds(p);
  } catch {
    return s; // gone meanwhile
  }
}, 0);

/** The statuses of these ports, in one list call (`?id=…&id=…`), as a cheap poll. */
async function statuses(url: string, ids: readonly string[]): Promise<Map<string, string>> {
  const q = ids.map((id) => `id=${id}`).join('&');
  const res = await fetch(`${url}/v2.0/ports?fields=id&fields=status&${q}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET /v2.0/ports?id=…: ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const body = (await res.json()) as { ports: Array<{ id: string; status: string }> };
  return new Map(body.ports.map((p) => [p.id, p.status]));
}

/** GET /v2.0/PATH, the answer's KEY. */
async function get<T>(url: string, path: string, key: string): Promise<T> {
  const res = await fetch(`${url}/v2.0/${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`GET /v2.0/${path}: ${res.status}`);
  return ((await res.json()) as Record<string, T>)[key]!;
}

/**
 * The host's topology as the REST API describes it (an operator's view, not the agent's RPC), with
 * the ofports OVSDB gave the VM interfaces: the network, the group (its members: its ports), the
 * ports. Turned into topology lines by the same mapping the agent uses for its RPC replies (the REST
 * fields are the RPC's), so that `ofctl-ts render` of that file is what the host must hold.
 */
async function restTopology(url: string, hostLine: string, net: string, sg: string, ovs: OvsSandbox): Promise<string[]> {
  const network = await get<{ 'provider:segmentation_id': number }>(url, `networks/${net}`, 'network');
  const ports = await get<Port[]>(url, `ports?network_id=${net}&device_owner=compute:nova`, 'ports');
  const group = await get<{ security_group_rules: Array<Record<string, unknown>> }>(url, `security-groups/${sg}`, 'security_group');
  const rules = group.security_group_rules.map((r) => {
    const prefix = r.direction === 'egress' ? 'dest_ip_prefix' : 'source_ip_prefix';
    return { direction: r.direction, ethertype: r.ethertype, protocol: r.protocol, port_range_min: r.port_range_min, port_range_max: r.port_range_max,
      remote_group_id: r.remote_group_id, [prefix]: r.remote_ip_prefix };
  });
  const ips = ports.flatMap((p) => p.fixed_ips.map((f) => f.ip_address));
  const details = { failed_devices: [], devices: ports.map((p) => ({
    device: p.id, port_id: p.id, network_id: net, network_type: 'vxlan', segmentation_id: network['provider:segmentation_id'], admin_state_up: true,
    mac_address: p.mac_address, fixed_ips: p.fixed_ips, allowed_address_pairs: p.allowed_address_pairs, port_security_enabled: p.port_security_enabled,
    device_owner: p.device_owner,
  })) };
  const sgInfo = {
    devices: Object.fromEntries(ports.map((p) => [p.id, { security_groups: p.security_groups }])),
    security_groups: { [sg]: rules },
    sg_member_ips: { [sg]: { IPv4: ips.filter((a) => !a.includes(':')), IPv6: ips.filter((a) => a.includes(':')) } },
  };
  const ofports = new Map<string, number>();
  const rows = JSON.parse(await ovs.vsctl('--format=json', '--columns=ofport,external_ids', 'find', 'Interface', 'type=internal')) as { data: Array<[number, ['map', Array<[string, string]>]]> };
  for (const [ofport, [, ids]] of rows.data) {
    const id = ids.find(([k]) => k === 'iface-id')?.[1];
    if (id) ofports.set(id, ofport);
  }
  const store = new TopologyStore();
  store.applyLine(hostLine, 'bench');
  const mapped = mapDevices({ host: HOST, topology: store.topology }, details, sgInfo);
  if (mapped.refused.length) throw new Error(`the REST topology: ${mapped.refused.join('; ')}`);
  return [hostLine, ...mapped.events.map((e) => JSON.stringify(e.type === 'port' ? { ...e, ofport: ofports.get(e.id) } : e))];
}

async function main(): Promise<void> {
  console.log(`bench/neutron: ${PORTS} ports through Neutron's REST API -> ACTIVE on one host, ${CONCURRENCY} in flight, ${POSTS} POST at a time (BENCH_SCALE=${SCALE}; neutron-server on ${DB})`);
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-bench-neutron-'));
  let rabbit: RabbitMq | undefined;
  let server: NeutronServer | undefined;
  let pg: Postgres | undefined;
  let ovs: OvsSandbox | undefined;
  let ctl: ControllerProcess | undefined;
  try {
    const t0 = Date.now();
    if (DB === 'postgres') [rabbit, pg] = await Promise.all([RabbitMq.start(), Postgres.start()]);
    else [rabbit] = await Promise.all([RabbitMq.start(), NeutronServer.prepare()]);
    server = await NeutronServer.start({ amqpUrl: rabbit.url, ...(pg ? { database: pg.url } : {}) });
    // The dummy datapath: 1000 internal ports make no kernel devices; ofports and OVSDB are as with netdev.
    ovs = await OvsSandbox.start({ dummy: true });
    console.log(`  rig: RabbitMQ ${(rabbit.startMs / 1000).toFixed(1)} s, neutron-server ${(server.startMs / 1000).toFixed(1)} s, OVS sandbox; ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
    const api = new NeutronApi(server.url);

    const hosts = join(dir, 'hosts.jsonl');
    const hostLine = JSON.stringify({ type: 'host', name: HOST, tunnelIp: '10.0.0.1', ovsdb: ovs.dbTarget });
    writeFileSync(hosts, `${hostLine}\n`);
    const creds = join(dir, 'credentials');
    writeFileSync(creds, 'guest:guest\n', { mode: 0o600 });
    const [listen, metrics] = [await freePort(), await freePort()];
    // debug: the agent's "device details fetched" lines (with their ids) split plug -> ACTIVE in two.
    ctl = ControllerProcess.start(['--neutron-rpc', `amqp://127.0.0.1:${rabbit.port}/`, '--neutron-hosts', hosts, '--neutron-rpc-credentials', creds,
      '--firewall', 'openvswitch', '--arp-responder', '--datapath-type', 'netdev', '--listen', `tcp:127.0.0.1:${listen}`, '--report-interval', String(REPORT_S),
      '--metrics-port', String(metrics)], { OFCTL_TS_LOG: 'debug' });
    const c = ctl;
    await c.waitForLine((l) => l.msg === 'neutron agent: first sync done; the host is programmed', 'the first sync', 0, 120_000);
    await eventually(async () => (await api.listAgents()).some((a) => a.host === HOST && a.alive), `${HOST}'s agent alive`, 60_000, c.alive);
    const status = async (): Promise<{ hosts: Array<{ bridges: Record<string, { flows: number; observed?: number; connected: boolean }> }>; neutron?: Array<{ heartbeatLateMs: number }> }> =>
      (await (await fetch(`http://127.0.0.1:${metrics}/status`)).json()) as never;

    const net = await api.createNetwork({ name: 'bench' });
    await api.createSubnet({ network: net.id, cidr: '10.8.0.0/21' });
    const sg = (await api.createSecurityGroup({ name: 'bench' })).id;
    // Neutron's default group's ingress (its members reach each other, v4 and v6) and two usual rules.
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', remoteGroup: sg });
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv6', remoteGroup: sg });
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 });
    await api.createSecurityGroupRule({ securityGroup: sg, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' });
    // With Neutron's own two egress rules (any, v4 and v6).
    const rules = ((await (await fetch(`${server.url}/v2.0/security-groups/${sg}`)).json()) as { security_group: { security_group_rules: unknown[] } })
      .security_group.security_group_rules.length;

    // Nova's part, CONCURRENCY at a time: POST, plug, wait for ACTIVE.
    const timings: Timing[] = [];
    const waiting = new Map<string, Timing>();
    const errors: string[] = [];
    let postRetries = 0;
    let bindingFailed = 0;
    const pollErrors: string[] = [];
    let next = 0;
    const cpu0 = processCpuSeconds(c.pid);
    const serverCpu0 = cpuOf(server.pids());
    let serverPeak = server.rssBytes();
    let ctlPeakSeen = vmKb(c.pid, 'VmRSS');
    const start = Date.now();
    let done = false;
    const poller = (async () => {
      while (!done) {
        const ids = [...waiting.keys()];
        for (let i = 0; i < ids.length; i += 100) {
          // A failed poll (the rig's server busy) is counted and made again at the next tick.
          const got = await statuses(server!.url, ids.slice(i, i + 100)).catch((err: unknown) => {
            pollErrors.push((err as Error).message);
            return new Map<string, string>();
          });
          const now = Date.now();
          for (const [id, s] of got) {
            if (s !== 'ACTIVE') continue;
            const t = waiting.get(id);
            if (!t) continue;
            t.active = now;
            waiting.delete(id);
          }
        }
        serverPeak = Math.max(serverPeak, server!.rssBytes());
        ctlPeakSeen = Math.max(ctlPeakSeen, vmKb(c.pid, 'VmRSS'));
        await sleep(POLL_MS);
      }
    })();
    let slots = POSTS;
    const slotFreed: Array<() => void> = [];
    const worker = async (): Promise<void> => {
      for (let n = next++; n < PORTS; n = next++) {
        const want = Date.now();
        while (slots === 0) await new Promise<void>((r) => slotFreed.push(r));
        slots--;
        const post = Date.now();
        // The rig's sqlite answers some writes with "database is locked": a POST that got a 500, or
        // whose binding failed (Nova would reschedule the VM), is made again after a pause, and counted.
        let p: Port | undefined;
        for (let attempt = 1; !p; attempt++) {
          try {
            p = await api.createPort({ network: net.id, hostId: HOST, securityGroups: [sg], deviceOwner: 'compute:nova', deviceId: `vm-${n}`, name: `vm-${n}` });
            if (p['binding:vif_type'] !== 'ovs') {
              bindingFailed++;
              await api.deletePort(p.id);
              throw new Error(`port ${p.id}: binding:vif_type ${p['binding:vif_type']}, not ovs`);
            }
          } catch (err) {
            p = undefined;
            errors.push(`port ${n}, attempt ${attempt}: ${(err as Error).message}`);
            if (attempt === 8) throw err;
            postRetries++;
            await sleep(500 * attempt);
          }
        }
        slots++;
        slotFreed.shift()?.();
        const posted = Date.now();
        const tap = `tap${p.id.slice(0, 11)}`;
        await ovs!.vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap, 'type=internal',
          `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active', `external_ids:vm-uuid=vm-${n}`);
        const t: Timing = { id: p.id, mac: p.mac_address, want, post, posted, plugged: Date.now() };
        timings.push(t);
        waiting.set(p.id, t);
        await eventually(() => t.active !== undefined, `port ${p.id} (vm-${n}) ACTIVE`, 300_000, c.alive, 20);
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      done = true;
      await poller;
    }
    const wallMs = Date.now() - start;
    const waitedFor = new Set(timings.map((t) => t.id));
    // Each port was seen ACTIVE once; whether it still is once everything settled (a port's details
    // fetched again make Neutron set it BUILD until the agent reports it up again).
    await sleep(5000);
    const final = await get<Array<{ id: string; status: string }>>(server.url, `ports?network_id=${net.id}&device_owner=compute:nova&fields=id&fields=status`, 'ports');
    // Only the ports plugged; a POST answered 500 may still have made its port (left unplugged, DOWN: counted apart).
    const finalStatus: Record<string, number> = {};
    for (const p of final) if (waitedFor.has(p.id)) finalStatus[p.status] = (finalStatus[p.status] ?? 0) + 1;
    const orphans = final.filter((p) => !waitedFor.has(p.id)).length;
    const cpuS = processCpuSeconds(c.pid) - cpu0;
    const serverCpuS = cpuOf(server.pids()) - serverCpu0;

    // The agent's "device details fetched" line for each port (when it knew the port's details),
    // then br-int's next pass (when its flows were in): the log's own times.
    const byId = new Map(timings.map((t) => [t.id, t]));
    const lines = c.lines as Array<LogLine & { devices?: string[]; time?: number; bridge?: string }>;
    for (const [i, l] of lines.entries()) {
      if (l.msg !== 'neutron agent: device details fetched' || !l.devices || !l.time) continue;
      const pass = lines.slice(i + 1).find((x) => x.bridge === 'br-int' && /^bridge (reconciled|checked)/.test(x.msg));
      for (const id of l.devices) {
        const t = byId.get(id);
        if (!t || t.fetched !== undefined || l.time < t.plugged - 5) continue;
        t.fetched = l.time;
        if (pass?.time) t.programmed = pass.time;
      }
    }

    // After the run: the flows the bridges hold are the controller's own state, and every port has its anti-spoofing flows.
    await eventually(async () => {
      const s = (await status()).hosts[0]!.bridges;
      for (const b of ['br-int', 'br-tun']) if (s[b]!.flows !== await flowCount(ovs!, b)) return false;
      return true;
    }, 'the bridges to hold the controller\'s state', 60_000, c.alive, 500);
    const full = await status();
    const st = full.hosts[0]!.bridges;
    // How late the agent's heartbeats started, at worst, against their interval (the sync must not hold them).
    const lateMs = full.neutron?.[0]?.heartbeatLateMs ?? NaN;
    const brInt = (await ovs.dumpFlowsSorted('br-int'));
    const brTun = await ovs.dumpFlowsSorted('br-tun');
    const perMac = timings.map((t) => brInt.filter((l) => l.includes(`dl_src=${t.mac}`)).length);
    const spoofOk = perMac.every((n) => n >= 1);
    const ofports = (await ovs.vsctl('--columns=ofport', '--bare', 'find', 'Interface', 'type=internal', `external_ids:iface-status=active`)).split('\n').filter(Boolean).map(Number);
    // And they are what `ofctl-ts render` gives for the topology the REST API describes.
    const topo = join(dir, 'rest-topology.jsonl');
    writeFileSync(topo, `${(await restTopology(server.url, hostLine, net.id, sg, ovs)).join('\n')}\n`);
    const rendered = Object.fromEntries(['br-int', 'br-tun'].map((b) => [b, capture(ofctlTs('render', '--topology', topo, '--host', HOST, '--bridge', b,
      '--l2pop', '--arp-responder', '--firewall', 'openvswitch'), process.env).stdout]));
    const renderVerdict = { 'br-int': compareOutputs(rendered['br-int']!, brInt.join('\n'), { sorted: true }), 'br-tun': compareOutputs(rendered['br-tun']!, brTun.join('\n'), { sorted: true }) };
    const renderOk = Object.values(renderVerdict).every((v) => v.startsWith('identical'));
    const ctlPeakKb = Math.max(ctlPeakSeen, vmKb(c.pid, 'VmHWM'));
    const serverRss = server.rssBytes();
    const warns = c.lines.filter((l) => (l as { level?: number }).level! >= 40);
    const locked = (readFileSync(server.logFile, 'utf8').match(/database is locked/g) ?? []).length;

    // The table.
    const postActive = timings.map((t) => t.active! - t.post);
    const postAlone = timings.map((t) => t.posted - t.post);
    const postQueue = timings.map((t) => t.post - t.want);
    const plugMs = timings.map((t) => t.plugged - t.posted);
    const plugActive = timings.map((t) => t.active! - t.plugged);
    const plugFetched = timings.filter((t) => t.fetched).map((t) => t.fetched! - t.plugged);
    const fetchedProgrammed = timings.filter((t) => t.programmed).map((t) => t.programmed! - t.fetched!);
    const programmedActive = timings.filter((t) => t.programmed).map((t) => t.active! - t.programmed!);
    const row = (what: string, xs: readonly number[]): string => {
      const s = stats(xs);
      return `  ${what.padEnd(50)} ${`${s.p50.toFixed(0)}`.padStart(7)} ${`${s.p99.toFixed(0)}`.padStart(7)} ${`${s.max.toFixed(0)}`.padStart(7)}`;
    };
    console.log(`\n  ${`per port (ms; ACTIVE polled every ${POLL_MS} ms)`.padEnd(50)}     p50     p99     max`);
    console.log(row('POST /ports -> ACTIVE (what Nova waits for)', postActive));
    console.log(row('  POST /ports alone (neutron-server)', postAlone));
    console.log(row(`(before it: waiting for one of ${POSTS} POST slots)`, postQueue));
    console.log(row('  plug (ovs-vsctl add-port, os-vif\'s part)', plugMs));
    console.log(row('  plug -> ACTIVE (the agent\'s share)', plugActive));
    console.log(row('    plug -> details fetched (OVSDB, 2 RPC calls)', plugFetched));
    console.log(row('    details -> flows in (ofctl-ts: render, bundle)', fetchedProgrammed));
    console.log(row('    flows in -> ACTIVE (update_device_list)', programmedActive));
    const rate = PORTS / (wallMs / 1000);
    console.log(`\n  all ${PORTS} ports ACTIVE in ${(wallMs / 1000).toFixed(1)} s (${rate.toFixed(1)} ports/s)${PORTS === 1000 ? '' : `; projected for 1000 at this rate: ${(1000 / rate).toFixed(0)} s`}`);
    console.log(`  reference: ${REFERENCE_S} s for neutron-openvswitch-agent to program the large host (1000 local ports), measured on this machine kind (issue 17)`);
    console.log(`  heartbeats (report_state every ${REPORT_S} s): at worst ${lateMs} ms after their time`);
    console.log(`  controller (ofctl-ts CLI, pid ${c.pid}): CPU ${cpuS.toFixed(1)} s over the run (${(100 * cpuS / (wallMs / 1000)).toFixed(0)}% of a core), peak RSS ${(ctlPeakKb / 1024).toFixed(0)} MB`);
    console.log(`  neutron-server (${server.pids().length} processes): CPU ${serverCpuS.toFixed(1)} s over the run (${(100 * serverCpuS / (wallMs / 1000)).toFixed(0)}% of a core), RSS ${(serverRss / 2 ** 20).toFixed(0)} MB at the end (peak seen ${(serverPeak / 2 ** 20).toFixed(0)} MB)`);
    console.log(`  port statuses 5 s after the last ACTIVE: ${JSON.stringify(finalStatus)} ${finalStatus.ACTIVE === PORTS ? 'OK' : 'MISSED (every port should stay ACTIVE)'}; ` +
      `ports the rig made from POSTs it answered with a 500 (never plugged): ${orphans}`);
    console.log(`  POSTs made again ${postRetries} (of which ${bindingFailed} for binding_failed); "database is locked" in neutron-server's log: ${locked}; controller warnings: ${warns.length}${warns.length ? ` (first: ${warns[0]!.msg})` : ''}`);
    const flowsOk = st['br-int']!.flows === brInt.length && st['br-tun']!.flows === brTun.length;
    console.log(`  after the run: br-int ${brInt.length} flows, br-tun ${brTun.length}; the controller's state ${st['br-int']!.flows} / ${st['br-tun']!.flows} ${flowsOk ? 'OK (equal)' : 'MISSED'}; ` +
      `anti-spoofing flows (dl_src=MAC) for every port: ${spoofOk ? 'OK' : `MISSED (${perMac.filter((n) => n === 0).length} ports without)`} (${Math.min(...perMac)}-${Math.max(...perMac)} per port); ` +
      `${ofports.filter((o) => o > 0).length} of ${PORTS} interfaces with an ofport; ${rules} rules in the group`);
    console.log(`  the bridges vs \`ofctl-ts render\` of the topology the REST API describes (ovs-ofctl dump-flows; the render's lines as "ovs-ofctl", the bridge's as "ofctl-ts"):\n` +
      `    br-int: ${renderVerdict['br-int']}\n    br-tun: ${renderVerdict['br-tun']}`);
    console.log(JSON.stringify({
      bench: 'neutron', ports: PORTS, concurrency: CONCURRENCY, pollMs: POLL_MS, wallS: wallMs / 1000, portsPerS: rate,
      posts: POSTS, postToActiveMs: stats(postActive), postMs: stats(postAlone), postQueueMs: stats(postQueue), plugMs: stats(plugMs), plugToActiveMs: stats(plugActive),
      plugToFetchedMs: stats(plugFetched), fetchedToProgrammedMs: stats(fetchedProgrammed), programmedToActiveMs: stats(programmedActive),
      controller: { cpuS, peakRssMb: ctlPeakKb / 1024 }, neutronServer: { cpuS: serverCpuS, rssMb: serverRss / 2 ** 20, peakRssMb: serverPeak / 2 ** 20 },
      flows: { brInt: brInt.length, brTun: brTun.length, equalToControllerState: flowsOk, antiSpoofingEveryPort: spoofOk, equalToRender: renderOk },
      finalStatus, orphanPorts: orphans, postRetries, bindingFailed, pollErrors: pollErrors.length, databaseLocked: locked, controllerWarnings: warns.length, heartbeatLateMs: lateMs,
      reference: { seconds: REFERENCE_S, what: 'neutron-openvswitch-agent, measured on this machine kind (issue 17)' },
    }));
    if (pollErrors.length) console.log(`  status polls that failed (made again): ${pollErrors.length}, first: ${pollErrors[0]}`);
    if (errors.length) console.log(`  POST errors (${errors.length}), first: ${errors[0]!.split('\n')[0]}`);
    if (!flowsOk || !spoofOk || !renderOk || finalStatus.ACTIVE !== PORTS) process.exitCode = 1;
  } catch (err) {
    // What the two sides said before the failure.
    const warn = (ctl?.lines ?? []).filter((l) => (l as { level?: number }).level! >= 40).slice(-10).map((l) => JSON.stringify(l));
    const serverErrors = (server?.logTail(3000) ?? '').split('\n').filter((l) => / (ERROR|WARNING) /.test(l) && !/ (ERROR|WARNING) \S+\s+(File|\s|Traceback)/.test(l)).slice(-20);
    console.log(`--- controller warnings (last 10) ---\n${warn.join('\n')}\n--- neutron-server errors and warnings (last 20) ---\n${serverErrors.join('\n')}`);
    throw err;
  } finally {
    const keep = process.env.NEUTRON_BENCH_LOGS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      if (ctl) writeFileSync(join(keep, 'controller.log'), ctl.log);
      if (server) copyFileSync(server.logFile, join(keep, 'neutron-server.log'));
      console.log(`  logs kept in ${keep}`);
    }
    await ctl?.kill('SIGTERM');
    await ovs?.stop();
    await server?.stop();
    await pg?.stop();
    await rabbit?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
