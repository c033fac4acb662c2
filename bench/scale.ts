// bench/scale: N simulated hypervisors (testing/sim: a simulated ovsdb-server + br-int and br-tun as
// simulated OpenFlow switches each) and one `ofctl-ts controller` process fed a topology of N hosts
// over its HTTP endpoint. Reports, for N = 100, 300 and 1000 (or the sizes given as arguments):
//   - cold start: time from the topology POST until every switch holds exactly its flows (the
//     controller sets up every host through OVSDB, then every bridge connects at once);
//   - the controller's RSS (peak) and CPU seconds for that;
//   - event→barrier latency for port adds spread over all hosts: from the POST of one port event
//     until every bridge it changes has committed its bundle (p50, p99);
//   - a controller restart: the N×2 switches reconnect at once; time to all checked, flow-mods sent.
// Targets (issue 6, at 1000 hosts): synced ≤ 60 s, RSS ≤ 300 MB, p99 ≤ 50 ms.
// The simulators run in this process, the controller in its own, so its figures are its own.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionalInt } from '../codecs/ovsdb/protocol.js';
import { pluggedPortsFrom } from '../lib/controller/host-setup.js';
import { deriveHostState, HostState } from '../lib/state/host-state.js';
import { SimHypervisor } from '../testing/sim/hypervisor.js';
import { loadSchemaFile } from '../testing/sim/ovsdb-schema.js';
import type { SimSwitch } from '../testing/sim/sim-switch.js';
import { TopologyStore } from '../lib/topology/store.js';
import { renderText } from '../pipelines/index.js';
import { pipelineOptions } from '../pipelines/options.js';
import { freePort } from '../testing/wait.js';
import { processCpuSeconds } from './common.js';
import { mac } from '../testing/big-topology.js';

const BIN = fileURLToPath(new URL('../../bin/ofctl-ts.js', import.meta.url));
const PORTS_PER_HOST = Number(process.env.SCALE_PORTS_PER_HOST ?? 5);
const HOSTS_PER_NETWORK = Number(process.env.SCALE_HOSTS_PER_NETWORK ?? 10);
/** Port events: every other one adds a port, the next removes it. */
const EVENTS = Number(process.env.SCALE_EVENTS ?? 400);
const BRIDGES = ['br-int', 'br-tun'] as const;
const pipeline = pipelineOptions({ l2pop: true, arpResponder: true });

/** A deterministic PRNG (mulberry32) so every run adds the same ports. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}


/**
 * N hosts with PORTS_PER_HOST ports each, in N·PORTS_PER_HOST/HOSTS_PER_NETWORK networks: port
 * slot s is on host ⌊s/PORTS_PER_HOST⌋ in network s mod NETWORKS, so a host's ports are in distinct
 * networks and each network spans HOSTS_PER_NETWORK hosts.
 */
function topologyLines(hvs: readonly SimHypervisor[]): { lines: string[]; networks: number } {
  const n = hvs.length;
  const networks = Math.max(PORTS_PER_HOST, Math.floor((n * PORTS_PER_HOST) / HOSTS_PER_NETWORK));
  const lines = hvs.map((h, i) => JSON.stringify({ type: 'host', name: h.name, tunnelIp: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ovsdb: h.ovsdbTarget }));
  for (let k = 0; k < networks; k++) lines.push(JSON.stringify({ type: 'network', id: `net${k}`, vni: 1000 + k }));
  for (let s = 0; s < n * PORTS_PER_HOST; s++) {
    const k = s % networks;
    lines.push(JSON.stringify({ type: 'port', id: `p${s}`, network: `net${k}`, host: hvs[Math.floor(s / PORTS_PER_HOST)]!.name, mac: mac(s), fixedIps: [`10.${k >> 8}.${k & 255}.${10 + Math.floor(s / networks)}`] }));
  }
  return { lines, networks };
}

function memKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms: number, pollMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

class ControllerProc {
  readonly proc: ChildProcess;
  stderr = '';
  constructor(of: number, http: number, metrics: number) {
    // SCALE_NODE_ARGS (e.g. --cpu-prof) profiles the controller.
    const nodeArgs = (process.env.SCALE_NODE_ARGS ?? '').split(' ').filter((a) => a);
    this.proc = spawn(process.execPath, [...nodeArgs, BIN, 'controller', '--listen', `tcp:127.0.0.1:${of}`, '--topology', `http:${http}`, '--metrics-port', String(metrics),
      '--l2pop', '--arp-responder', '--datapath-type', 'netdev'], { env: { ...process.env, OFCTL_TS_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

async function post(port: number, body: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body });
  if (!res.ok) throw new Error(`POST /events: ${res.status} ${await res.text()}`);
}

async function waitHttp(port: number, c: ControllerProc): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (c.proc.exitCode !== null) throw new Error(`controller exited: ${c.stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/topology`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error('the controller HTTP endpoint did not come up');
}

async function runScale(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-scale-'));
  const schema = loadSchemaFile();
  const hvs: SimHypervisor[] = [];
  let ctl: ControllerProc | undefined;
  try {
    for (let i = 0; i < n; i++) {
      hvs.push(await SimHypervisor.start({
        name: `h${i}`, schema, ovsdb: `unix:${join(dir, `h${i}.sock`)}`, dpidBase: BigInt(i * 2 + 1),
        switchOptions: { initialBackoffMs: 1000, maxBackoffMs: 8000 },
      }));
    }
    const { lines, networks } = topologyLines(hvs);
    // The VMs run already: each host's ports are plugged into br-int (flows exist only for those).
    const store = new TopologyStore();
    for (const l of lines) store.applyLine(l, 'bench');
    for (const h of hvs) {
      h.plug([...store.topology.portsOn(h.name)].map((p) => ({ name: `tap-${p.id}`, ifaceId: p.id, mac: p.mac })));
    }
    await until(() => hvs.every((h) => pluggedPortsFrom(h.view()).size === PORTS_PER_HOST), 'the VM ports to get ofports', 60_000);
    // What each bridge must hold, from the same topology and what each host has plugged (tunnels
    // from ofport_request, as the controller derives them).
    // (Remote ports count while plugged on their host, as the controller reads every host's OVSDB.)
    const byName = new Map(hvs.map((h) => [h.name, h]));
    const stateOf = (h: SimHypervisor): HostState => {
      const seen = new Map<string, ReadonlySet<string>>();
      const remotePlugged = (name: string): ReadonlySet<string> | undefined => {
        let ids = seen.get(name);
        const hv = byName.get(name);
        if (!ids && hv) seen.set(name, ids = new Set(pluggedPortsFrom(hv.view()).keys()));
        return ids;
      };
      return deriveHostState(store.topology, h.name, { plugged: pluggedPortsFrom(h.view()), remotePlugged });
    };
    const want = new Map<string, number>();
    let totalFlows = 0;
    for (const h of hvs) {
      const st = stateOf(h);
      for (const br of BRIDGES) {
        const c = renderText(st, br, pipeline).length;
        want.set(`${h.name} ${br}`, c);
        totalFlows += c;
      }
    }
    const sw = (h: SimHypervisor, br: string): SimSwitch | undefined => h.switches.get(br)?.sw;
    const synced = (): boolean => hvs.every((h) => BRIDGES.every((br) => sw(h, br)?.flows.size === want.get(`${h.name} ${br}`)));

    const [of, http, metrics] = [await freePort(), await freePort(), await freePort()];
    ctl = new ControllerProc(of, http, metrics);
    await waitHttp(http, ctl);
    const cpu0 = processCpuSeconds(ctl.pid);
    const t0 = performance.now();
    await post(http, lines.join('\n'));
    await until(synced, `${n} hosts to sync`, 600_000, 50);
    const syncMs = performance.now() - t0;
    const cpu = processCpuSeconds(ctl.pid) - cpu0;
    const rssSync = memKb(ctl.pid, 'VmRSS');
    const peakSync = memKb(ctl.pid, 'VmHWM');
    if (process.env.SCALE_HEAPSNAP) {
      // With SCALE_NODE_ARGS=--heapsnapshot-signal=SIGUSR2: a heap snapshot of the synced controller.
      ctl.proc.kill('SIGUSR2');
      await sleep(Number(process.env.SCALE_HEAPSNAP));
    }
    // Exactness, checked once: every bridge holds exactly the rendered flows.
    let wrong = 0;
    for (const h of hvs) {
      const st = stateOf(h);
      for (const br of BRIDGES) if (sw(h, br)!.dumpText().sort().join('\n') !== renderText(st, br, pipeline).join('\n')) wrong++;
    }

    // Port adds spread over all hosts, one at a time: the bridges each one changes are known from
    // the host states before and after; the latency is until the last of them commits.
    const rand = prng(6);
    const lat: number[] = [];
    const perBridge: number[] = [];
    const latRemove: number[] = [];
    let nextPort = n * PORTS_PER_HOST;
    // Churn, so the topology stays the size it was: a port added on a random host in a random
    // network, then removed again by the next event (VMs booting and going away).
    let last: { id: string; host: SimHypervisor; net: number } | undefined;
    for (let e = 0; e < EVENTS; e++) {
      const isAdd = e % 2 === 0;
      const host = isAdd ? hvs[Math.floor(rand() * n)]! : last!.host;
      const net = isAdd ? Math.floor(rand() * networks) : last!.net;
      const id = isAdd ? `p${nextPort}` : last!.id;
      const line = isAdd
        ? JSON.stringify({ type: 'port', id, network: `net${net}`, host: host.name, mac: mac(nextPort), fixedIps: [`172.${16 + (e >> 16)}.${(e >> 8) & 255}.${e & 255}`] })
        : JSON.stringify({ type: 'remove', kind: 'port', id });
      if (isAdd) nextPort++;
      last = { id, host, net };
      // Only the host and the hosts with a port in that network can change.
      const candidates = hvs.filter((h) => h === host || [...store.topology.ports.values()].some((p) => p.host === h.name && p.network === `net${net}`));
      const render = (h: SimHypervisor): string[] => {
        const st = stateOf(h);
        return BRIDGES.map((br) => renderText(st, br, pipeline).join('\n'));
      };
      if (isAdd) {
        // Nova plugs the VM first; the controller tags the port it does not know yet with the dead
        // VLAN. The port event is then measured alone.
        host.plug([{ name: `tap-${id}`, ifaceId: id, mac: (JSON.parse(line) as { mac: string }).mac }]);
        const tagged = (): boolean => host.db.rows('Port').some((p) => p.get('name') === `tap-${id}` && optionalInt(p.get('tag')) === 4095);
        await until(tagged, `tap-${id} to be tagged`, 30_000, 1);
      }
      const before = new Map(candidates.map((h) => [h, render(h)]));
      store.applyLine(line, 'bench');
      const pending = new Set<SimSwitch>();
      for (const h of candidates) {
        const after = render(h);
        BRIDGES.forEach((br, i) => {
          if (after[i] !== before.get(h)![i]) pending.add(sw(h, br)!);
        });
      }
      let t = 0;
      const subs = [...pending].map((s) => s.events$.subscribe((ev) => {
        if (ev.type === 'bundle' && ev.ok && pending.delete(s) && isAdd) perBridge.push(performance.now() - t);
      }));
      t = performance.now();
      const trace: string[] = [];
      const unsubs = process.env.SCALE_TRACE ? candidates.map((h) => h.db.onCommit(() => trace.push(`${h.name} commit ${(performance.now() - t).toFixed(1)}`))) : [];
      const subs2 = process.env.SCALE_TRACE ? [...pending].map((s) => s.events$.subscribe((ev) => trace.push(`${s.name}@${s.datapathId} ${ev.type} ${(performance.now() - t).toFixed(1)}`))) : [];
      const posted = post(http, line).then(() => trace.push(`posted ${(performance.now() - t).toFixed(1)}`));
      await until(() => pending.size === 0, `event ${e} to reach its bridges`, 30_000, 1);
      (isAdd ? lat : latRemove).push(performance.now() - t);
      await posted;
      unsubs.forEach((u) => u());
      subs2.forEach((x) => x.unsubscribe());
      if (process.env.SCALE_TRACE && e < 5) console.log(`event ${e} on ${host.name} net${net}: ${(performance.now() - t).toFixed(1)} ms\n  ${trace.join('\n  ')}`);
      subs.forEach((s) => s.unsubscribe());
      if (!isAdd) host.unplug([`tap-${id}`]);
    }
    const rssPeak = memKb(ctl.pid, 'VmHWM');
    if (process.env.SCALE_HEAPSNAP) {
      ctl.proc.kill('SIGUSR2');
      await sleep(Number(process.env.SCALE_HEAPSNAP));
    }

    // A controller restart: every switch reconnects at once and is checked (dumped and diffed);
    // done when the controller's /status shows every bridge connected and reconciled.
    await ctl.stop();
    await until(() => hvs.every((h) => BRIDGES.every((br) => !sw(h, br)!.connected)), 'the sessions to drop', 30_000);
    const modsBefore = hvs.reduce((s, h) => s + BRIDGES.reduce((x, br) => x + sw(h, br)!.counters.flowMods, 0), 0);
    ctl = new ControllerProc(of, http, metrics);
    await waitHttp(http, ctl);
    const t1 = performance.now();
    await post(http, lines.join('\n'));
    for (;;) {
      const st = (await (await fetch(`http://127.0.0.1:${metrics}/status`)).json()) as {
        hosts: Array<{ bridges: Record<string, { connected: boolean; lastReconcile?: unknown }> }>;
      };
      if (st.hosts.length === n && st.hosts.every((h) => BRIDGES.every((br) => h.bridges[br]?.connected && h.bridges[br]?.lastReconcile))) break;
      if (performance.now() - t1 > 300_000) throw new Error('the restarted controller did not check every bridge within 300 s');
      await sleep(100);
    }
    const restartMs = performance.now() - t1;
    const modsAfter = hvs.reduce((s, h) => s + BRIDGES.reduce((x, br) => x + sw(h, br)!.counters.flowMods, 0), 0);

    const ok = (v: boolean): string => (v ? 'OK' : 'MISSED');
    const target = n >= 1000;
    console.log(`${n} hosts (${2 * n} switches, ${networks} networks, ${n * PORTS_PER_HOST} ports, ${totalFlows} flows in all):`);
    console.log(`  cold start synced in ${(syncMs / 1000).toFixed(1)} s${target ? ` ${ok(syncMs <= 60_000)} (target <= 60 s)` : ''}; ` +
      `controller CPU ${cpu.toFixed(1)} s; RSS ${(rssSync / 1024).toFixed(0)} MB after sync (peak ${(peakSync / 1024).toFixed(0)} MB so far), peak ${(rssPeak / 1024).toFixed(0)} MB after the events` +
      `${target ? ` ${ok(rssPeak <= 300 * 1024)} (target <= 300 MB)` : ''}; bridges not exactly as rendered: ${wrong}`);
    console.log(`  port add → barrier on every bridge it changes (${lat.length} adds, each removed again): p50 ${percentile(lat, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms${target ? ` ${ok(percentile(lat, 99) <= 50)} (target p99 <= 50 ms)` : ''}; ` +
      `per bridge (${perBridge.length}, ${(perBridge.length / lat.length).toFixed(1)} per add): p50 ${percentile(perBridge, 50).toFixed(1)} ms, p99 ${percentile(perBridge, 99).toFixed(1)} ms; ` +
      `port removal: p50 ${percentile(latRemove, 50).toFixed(1)} ms, p99 ${percentile(latRemove, 99).toFixed(1)} ms`);
    console.log(`  controller restart: ${2 * n} switches reconnected in ${(restartMs / 1000).toFixed(1)} s; flow-mods sent: ${modsAfter - modsBefore}`);
  } finally {
    await ctl?.stop();
    await Promise.all(hvs.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
console.log(`scale bench: simulated hypervisors (br-int + br-tun), ${PORTS_PER_HOST} VM ports per host, ${HOSTS_PER_NETWORK} hosts per network, l2pop + ARP responder`);
for (const n of sizes.length ? sizes : [100, 300, 1000]) await runScale(n);
