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
// SCALE_NODE_ARGS: node options for the controller (e.g. --cpu-prof); SCALE_CTL_ARGS: controller
// options added to the bench's (e.g. --audit-interval 0, to see what the audits cost).
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../testing/wait.js';
import { envWords } from '../testing/proc.js';
import { processCpuSeconds } from './common.js';
import { BRIDGES, EVENTS, Fleet, memKb, PORTS_PER_HOST, HOSTS_PER_NETWORK, percentile, portEvents, simGcSummary, WARMUP_EVENTS, warmupSummary, sleep, until } from './sim-fleet.js';

const BIN = fileURLToPath(new URL('../../bin/ofctl-ts.js', import.meta.url));

class ControllerProc {
  readonly proc: ChildProcess;
  stderr = '';
  constructor(of: number, http: number, metrics: number) {
    const nodeArgs = envWords('SCALE_NODE_ARGS');
    this.proc = spawn(process.execPath, [...nodeArgs, BIN, 'controller', '--listen', `tcp:127.0.0.1:${of}`, '--topology', `http:${http}`, '--metrics-port', String(metrics),
      '--l2pop', '--arp-responder', '--datapath-type', 'netdev', ...envWords('SCALE_CTL_ARGS')], { env: { ...process.env, OFCTL_TS_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
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
  let fleet: Fleet | undefined;
  let ctl: ControllerProc | undefined;
  try {
    const f = fleet = await Fleet.start(n, dir);
    const { hvs, lines, networks, totalFlows } = f;
    const sw = f.sw.bind(f);

    const [of, http, metrics] = [await freePort(), await freePort(), await freePort()];
    ctl = new ControllerProc(of, http, metrics);
    await waitHttp(http, ctl);
    const cpu0 = processCpuSeconds(ctl.pid);
    const t0 = performance.now();
    await post(http, lines.join('\n'));
    await until(() => f.synced(), `${n} hosts to sync`, 600_000, 50);
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
    const wrong = f.wrongBridges();

    const c = ctl;
    const warm = await portEvents(f, (line) => post(http, line), WARMUP_EVENTS, !!process.env.SCALE_TRACE, true);
    const { lat, perBridge, latRemove, simGcMs } = await portEvents(f, (line) => post(http, line), EVENTS, !!process.env.SCALE_TRACE);
    const rssPeak = memKb(c.pid, 'VmHWM');
    if (process.env.SCALE_HEAPSNAP) {
      c.proc.kill('SIGUSR2');
      await sleep(Number(process.env.SCALE_HEAPSNAP));
    }

    // A controller restart: every switch reconnects at once and is checked (dumped and diffed);
    // done when the controller's /status shows every bridge connected and reconciled.
    await ctl.stop();
    await until(() => hvs.every((h) => BRIDGES.every((br) => !sw(h, br)!.connected)), 'the sessions to drop', 30_000);
    const modsBefore = hvs.reduce((s, h) => s + BRIDGES.reduce((x, br) => x + sw(h, br)!.counters.flowMods, 0), 0);
    ctl = new ControllerProc(of, http, metrics);
    await waitHttp(http, ctl);
    const cpuR0 = processCpuSeconds(ctl.pid);
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
    const restartCpu = processCpuSeconds(ctl.pid) - cpuR0;
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
    console.log(`  ${warmupSummary(warm.lat)}`);
    console.log(`  ${simGcSummary(simGcMs)}`);
    console.log(`  controller restart: ${2 * n} switches reconnected and checked in ${(restartMs / 1000).toFixed(1)} s (controller CPU ${restartCpu.toFixed(2)} s); flow-mods sent: ${modsAfter - modsBefore}`);
    // One JSON line (bench/scale-out.ts reads it to print the single-process figures beside its own).
    console.log(JSON.stringify({
      bench: 'scale', hosts: n, flows: totalFlows, syncMs: Math.round(syncMs), cpuS: +cpu.toFixed(1), rssSyncMb: Math.round(rssSync / 1024), rssPeakMb: Math.round(rssPeak / 1024),
      wrongBridges: wrong, addP50Ms: +percentile(lat, 50).toFixed(1), addP99Ms: +percentile(lat, 99).toFixed(1), adds: lat.length, warmupAddsMs: warm.lat.map((x) => +x.toFixed(1)),
      restartMs: Math.round(restartMs), restartCpuS: +restartCpu.toFixed(2), restartFlowMods: modsAfter - modsBefore,
    }));
  } finally {
    await ctl?.stop();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
console.log(`scale bench: simulated hypervisors (br-int + br-tun), ${PORTS_PER_HOST} VM ports per host, ${HOSTS_PER_NETWORK} hosts per network, l2pop + ARP responder`);
for (const n of sizes.length ? sizes : [100, 300, 1000]) await runScale(n);
