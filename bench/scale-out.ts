// bench/scale-out (issue 18 point 6): N simulated hypervisors (default 1000 × BENCH_SCALE; their
// bridges connect to every replica, roles as OVS 3.1) under three `ofctl-ts controller --etcd …
// --replica-id rN` processes sharing the hosts through a real etcd (testing/etcd.ts). Reports:
//   - cold start: from spawning the replicas (the topology already in etcd, written in guarded
//     transactions of ≤ 127 keys as `ofctl-ts topology import` writes them) until every simulated
//     bridge holds exactly its rendered flows (target ≤ 60 s at 1000 hosts);
//   - port add through etcd → the last bundle on every bridge it changes, p50/p99, from the etcd
//     put's answer (target p99 ≤ 50 ms) and from just before the write (as bench/scale.ts);
//   - SIGKILL of one replica: time until every bridge of its shards has a master again and a port
//     added right after the kill is on every bridge it changes; flows deleted that were right
//     before and after (must be 0); flow-mods to bridges whose flows did not change (must be 0);
//   - each replica's RSS and CPU seconds;
// and beside them bench/scale.ts's figures for one controller process at the same N, run after
// (BENCH_SINGLE=0 skips it). A table, then one JSON line. SCALE_CTL_ARGS: more `controller` options
// for each replica (as bench/scale.ts takes them for its one process), e.g. `--audit-interval 0`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatFlow } from '../codecs/ofctl/format-flow.js';
import { shardOf } from '../lib/cluster/shards.js';
import { entityKey, etcdClient, eventEntity, parseEtcdTarget } from '../lib/topology/etcd.js';
import { parseEventLine } from '../lib/topology/events.js';
import { writeLines } from '../lib/topology/etcd-write.js';
import { mac } from '../testing/big-topology.js';
import { ControllerProcess } from '../testing/controller-process.js';
import { EtcdCluster } from '../testing/etcd.js';
import { envWords } from '../testing/proc.js';
import type { SimSwitch } from '../testing/sim/sim-switch.js';
import { freePortBelowEphemeral } from '../testing/wait.js';
import { processCpuSeconds, ROOT } from './common.js';
import { BRIDGES, EVENTS, Fleet, memKb, percentile, portEvents, simGcSummary, WARMUP_EVENTS, warmupSummary, sleep, until } from './sim-fleet.js';

const N = Math.max(3, Math.round(1000 * Number(process.env.BENCH_SCALE ?? 1)));
const REPLICAS = 3;
const SHARDS = 16;
/** etcd's default --max-txn-ops is 128; a guarded write puts its guard key besides the lines. */
const KEYS_PER_TXN = 127;

interface BridgeStatus { readonly connected?: boolean; readonly role?: string; readonly lastReconcile?: unknown }
interface Status {
  readonly hosts: readonly { readonly host: string; readonly bridges: Record<string, BridgeStatus> }[];
  readonly cluster?: { readonly leads: readonly { readonly shard: number; readonly generation: string }[] };
}

class Replica {
  constructor(readonly id: string, readonly proc: ControllerProcess, readonly metrics: number) {}
  async status(): Promise<Status | undefined> {
    return fetch(`http://127.0.0.1:${this.metrics}/status`, { signal: AbortSignal.timeout(5000) }).then((r) => r.json() as Promise<Status>, () => undefined);
  }
  /** RSS now and at its peak (MB), CPU seconds since it started. */
  usage(): { rssMb: number; peakMb: number; cpuS: number } {
    return { rssMb: memKb(this.proc.pid, 'VmRSS') / 1024, peakMb: memKb(this.proc.pid, 'VmHWM') / 1024, cpuS: processCpuSeconds(this.proc.pid) };
  }
}

/** The session roles a bridge's switch sees now. */
const masters = (sw: SimSwitch | undefined): number => sw?.controllerRoles().filter((r) => r.role === 'master').length ?? 0;

/** Runs bench/scale.js at the same N in its own process and returns its JSON line. */
async function singleProcess(n: number): Promise<Record<string, number> | undefined> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'scale.js'), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    process.stdout.write(d.split('\n').filter((l) => !l.startsWith('{')).map((l) => (l ? `  | ${l}` : l)).join('\n'));
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`bench/scale.js ${n} exited ${code}`);
  const line = out.split('\n').find((l) => l.startsWith('{"bench":"scale"'));
  return line ? JSON.parse(line) as Record<string, number> : undefined;
}

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-scale-out-'));
  let etcd: EtcdCluster | undefined;
  let fleet: Fleet | undefined;
  const replicas: Replica[] = [];
  const E = (): string => `${etcd!.endpoints.join(',')}/bench`;
  const client = (): ReturnType<typeof etcdClient> => etcdClient(parseEtcdTarget(`${E()}/topology`, 'bench'));
  let kv: ReturnType<typeof etcdClient> | undefined;
  try {
    [etcd, fleet] = await Promise.all([EtcdCluster.start({ members: Number(process.env.BENCH_ETCD_MEMBERS ?? 1) }), Fleet.start(N, dir)]);
    const f = fleet;
    const { hvs, lines, networks, totalFlows } = f;
    kv = client();
    const prefix = parseEtcdTarget(`${E()}/topology`, 'bench').prefix;
    const tw = performance.now();
    for (let i = 0; i < lines.length; i += KEYS_PER_TXN) await writeLines(kv, prefix, lines.slice(i, i + KEYS_PER_TXN), 'bench');
    const writeMs = performance.now() - tw;
    console.log(`scale-out bench: ${N} simulated hypervisors (${2 * N} bridges, ${networks} networks, ${totalFlows} flows), ${REPLICAS} replicas, ${SHARDS} shards, etcd ${etcd.size} member(s); topology written to etcd in ${(writeMs / 1000).toFixed(1)} s (${Math.ceil(lines.length / KEYS_PER_TXN)} transactions)`);

    // Cold start.
    const t0 = performance.now();
    for (let i = 1; i <= REPLICAS; i++) {
      const [of, metrics] = [await freePortBelowEphemeral(), await freePortBelowEphemeral()];
      const proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--etcd', E(), '--replica-id', `r${i}`, '--shards', String(SHARDS),
        '--metrics-port', String(metrics), '--l2pop', '--arp-responder', '--datapath-type', 'netdev', ...envWords('SCALE_CTL_ARGS')], { OFCTL_TS_LOG: process.env.BENCH_REPLICA_LOG ?? 'warn' });
      replicas.push(new Replica(`r${i}`, proc, metrics));
    }
    const alive = async (): Promise<void> => {
      for (const r of replicas) await r.proc.alive();
    };
    for (;;) {
      if (f.synced()) break;
      if (performance.now() - t0 > 600_000) throw new Error(`${N} hosts not synced within 600 s`);
      await alive();
      await sleep(50);
    }
    const syncMs = performance.now() - t0;
    const wrong = f.wrongBridges();
    const atSync = replicas.map((r) => r.usage());
    // Steady state before measuring: shards shared out (each replica leads some), one master on every bridge.
    const leads = async (): Promise<Map<Replica, number[]>> => new Map(await Promise.all(replicas.map(async (r) => [r, (await r.status())?.cluster?.leads.map((l) => l.shard) ?? []] as const)));
    for (let i = 0; ; i++) {
      const l = await leads();
      if ([...l.values()].every((s) => s.length > 0) && [...l.values()].reduce((a, s) => a + s.length, 0) === SHARDS) break;
      if (i > 600) throw new Error('the shards were not shared out among the replicas within 60 s');
      await sleep(100);
    }
    // After the hand-overs of the sharing out (the first replica up led every shard).
    const masterless = (): string[] => hvs.flatMap((h) => BRIDGES.filter((br) => masters(f.sw(h, br)) !== 1).map((br) => `${h.name} ${br} (shard ${shardOf(h.name, SHARDS)})`));
    await until(() => masterless().length === 0, 'one master on every bridge', 60_000, 100).catch((err: unknown) => {
      throw new Error(`${String(err)}: not on ${masterless().slice(0, 10).join(', ')}`);
    });

    // Port adds through etcd: one put (a removal: one delete) of the port's key, as etcdctl would
    // write it, so that "from before the write" compares with bench/scale.ts's POST.
    const put = async (line: string): Promise<void> => {
      const e = parseEventLine(line);
      const { kind, id: key } = eventEntity(e);
      if (e.type === 'remove') await kv!.delete().key(entityKey(prefix, kind, key));
      else await kv!.put(entityKey(prefix, kind, key)).value(line);
    };
    // CPU of each process through the port events: the adds' latency is mostly CPU shared by five processes on the machine's cores.
    const cpuOf = (): number[] => [...replicas.map((r) => processCpuSeconds(r.proc.pid)), processCpuSeconds(process.pid), processCpuSeconds(etcd!.pid(0)!)];
    const warm = await portEvents(f, put, WARMUP_EVENTS, !!process.env.SCALE_TRACE, true);
    const cpu0 = cpuOf();
    const te = performance.now();
    const ev = await portEvents(f, put, EVENTS, !!process.env.SCALE_TRACE);
    const eventsS = (performance.now() - te) / 1000;
    const eventCpuMs = cpuOf().map((c, i) => ((c - cpu0[i]!) * 1000) / EVENTS);

    // SIGKILL one replica (the one leading most shards) while a port is added.
    const l = await leads();
    const victim = [...l.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const deadShards = new Set(victim[1]);
    const orphaned = hvs.filter((h) => deadShards.has(shardOf(h.name, SHARDS)));
    // A port on a host of a surviving shard, in a network with a port on a host of a dead shard:
    // its l2pop entries must reach bridges that only the new leader can write.
    const ports = [...f.store.topology.ports.values()];
    const target = ports.find((p) => deadShards.has(shardOf(p.host, SHARDS)))!;
    const net = Number(target.network.slice(3));
    const host = hvs.find((h) => !deadShards.has(shardOf(h.name, SHARDS)) && !ports.some((p) => p.host === h.name && p.network === target.network))
      ?? hvs.find((h) => !deadShards.has(shardOf(h.name, SHARDS)))!;
    const id = 'p-failover';
    const portMac = mac(0xfffff0);
    await f.plugAndWaitTagged(host, id, portMac);
    const line = JSON.stringify({ type: 'port', id, network: target.network, host: host.name, mac: portMac, fixedIps: ['172.31.255.1'] });
    const candidates = f.candidates(host, net);
    const rightBefore = new Map(hvs.flatMap((h) => BRIDGES.map((br) => [f.sw(h, br)!, new Set(f.sw(h, br)!.dumpText())] as const)));
    const pending = f.changedBy(line, candidates);
    const changed = new Set(pending);
    const deleted = new Map<SimSwitch, string[]>();
    const offs = [...rightBefore.keys()].map((sw) => sw.flows.onDeleted((r) => {
      const l2 = deleted.get(sw) ?? [];
      l2.push(` ${formatFlow(r.flow)}`);
      deleted.set(sw, l2);
    }));
    const mods0 = new Map([...rightBefore.keys()].map((sw) => [sw, sw.counters.flowMods]));
    const subs = [...pending].map((s) => s.events$.subscribe((e) => {
      if (e.type === 'bundle' && e.ok) pending.delete(s);
    }));
    const tk = performance.now();
    await victim[0].proc.kill('SIGKILL');
    await put(line);
    const orphanedSwitches = orphaned.flatMap((h) => BRIDGES.map((br) => f.sw(h, br)!));
    await until(() => pending.size === 0 && orphanedSwitches.every((sw) => masters(sw) === 1), 'the dead replica\'s bridges to have a master and the change', 60_000, 5);
    const failoverMs = performance.now() - tk;
    subs.forEach((s) => s.unsubscribe());
    // Let stragglers (a late reconcile, a second take-over) show before counting.
    await sleep(Number(process.env.BENCH_SETTLE_MS ?? 5000));
    offs.forEach((off) => off());
    let rightDeleted = 0;
    let unchangedMods = 0;
    for (const h of hvs) {
      const after = f.render(h);
      BRIDGES.forEach((br, i) => {
        const sw = f.sw(h, br)!;
        const rightAfter = new Set(after[i]!.split('\n'));
        rightDeleted += (deleted.get(sw) ?? []).filter((t) => rightBefore.get(sw)!.has(t) && rightAfter.has(t)).length;
        if (!changed.has(sw)) unchangedMods += sw.counters.flowMods - mods0.get(sw)!;
      });
    }
    const wrongAfter = f.wrongBridges();
    // BENCH_LOG_DIR: each replica's log (with BENCH_REPLICA_LOG=info, the take-over host by host) and the kill's time.
    if (process.env.BENCH_LOG_DIR) {
      for (const r of replicas) writeFileSync(join(process.env.BENCH_LOG_DIR, `${r.id}.log`), r.proc.log);
      writeFileSync(join(process.env.BENCH_LOG_DIR, 'kill.json'), JSON.stringify({ victim: victim[0].id, killedAt: new Date(performance.timeOrigin + tk).toISOString(), failoverMs }));
    }
    const usage = replicas.map((r) => ({ id: r.id, killed: r === victim[0], ...(r === victim[0] ? { rssMb: NaN, peakMb: NaN, cpuS: NaN } : r.usage()) }));

    const p = (xs: readonly number[], q: number): string => percentile(xs, q).toFixed(1);
    const ok = (v: boolean): string => (v ? 'OK' : 'MISSED');
    const full = N >= 1000;
    console.log(`  cold start (3 replicas spawned → every bridge exactly as rendered): ${(syncMs / 1000).toFixed(1)} s${full ? ` ${ok(syncMs <= 60_000)} (target <= 60 s)` : ''}; bridges not as rendered: ${wrong}`);
    console.log(`  port add via etcd → bundle on every bridge it changes (${ev.lat.length} adds): from the put's answer p50 ${p(ev.latFromAnswer, 50)} ms, p99 ${p(ev.latFromAnswer, 99)} ms` +
      `${full ? ` ${ok(percentile(ev.latFromAnswer, 99) <= 50)} (target p99 <= 50 ms)` : ''}; from before the write p50 ${p(ev.lat, 50)} ms, p99 ${p(ev.lat, 99)} ms; ` +
      `${ev.latFromAnswer.filter((x) => x <= 0).length} add(s) on the bridges before the put answered; removal p50 ${p(ev.latRemove, 50)} ms, p99 ${p(ev.latRemove, 99)} ms`);
    console.log(`  ${warmupSummary(warm.lat)}`);
    console.log(`  ${simGcSummary(ev.simGcMs)}`);
    console.log(`  CPU per port event (adds and removals, ${EVENTS} in ${eventsS.toFixed(1)} s, each after its VM's plug and tag): replicas ${eventCpuMs.slice(0, REPLICAS).map((c) => c.toFixed(1)).join(' + ')} ms, simulator (this process) ${eventCpuMs[REPLICAS]!.toFixed(1)} ms, etcd ${eventCpuMs[REPLICAS + 1]!.toFixed(1)} ms`);
    const changedOrphans = orphanedSwitches.filter((sw) => changed.has(sw)).length;
    console.log(`  SIGKILL ${victim[0].id} (led ${deadShards.size} shards, ${orphaned.length} hosts): master on each of its bridges and the change made in the gap on its ${changed.size} bridges (${changedOrphans} of the dead shards') after ${(failoverMs / 1000).toFixed(2)} s; ` +
      `right flows deleted: ${rightDeleted}; flow-mods to unchanged bridges: ${unchangedMods}; bridges not as rendered after: ${wrongAfter}`);
    console.log('  replica   RSS at sync   RSS now/peak   CPU s');
    replicas.forEach((r, i) => console.log(`  ${r.id.padEnd(8)}  ${atSync[i]!.rssMb.toFixed(0).padStart(8)} MB   ${usage[i]!.killed ? '  (killed)    ' : `${usage[i]!.rssMb.toFixed(0).padStart(4)}/${usage[i]!.peakMb.toFixed(0).padEnd(4)} MB`}   ${(usage[i]!.killed ? atSync[i]!.cpuS : usage[i]!.cpuS).toFixed(1).padStart(5)}${usage[i]!.killed ? ' (at sync)' : ''}`));
    const figures = {
      bench: 'scale-out', hosts: N, bridges: 2 * N, flows: totalFlows, replicas: REPLICAS, shards: SHARDS, etcdMembers: etcd.size,
      coldStartMs: Math.round(syncMs), wrongBridges: wrong, adds: ev.lat.length, warmupAddsMs: warm.lat.map((x) => +x.toFixed(1)),
      simGcInWindowsMs: +ev.simGcMs.reduce((a, x) => a + x, 0).toFixed(1), simGcInWindowsMaxMs: +Math.max(0, ...ev.simGcMs).toFixed(1),
      eventCpuMs: { replicas: eventCpuMs.slice(0, REPLICAS).map((c) => +c.toFixed(1)), simulator: +eventCpuMs[REPLICAS]!.toFixed(1), etcd: +eventCpuMs[REPLICAS + 1]!.toFixed(1) },
      addFromAnswerP50Ms: +p(ev.latFromAnswer, 50), addFromAnswerP99Ms: +p(ev.latFromAnswer, 99), addP50Ms: +p(ev.lat, 50), addP99Ms: +p(ev.lat, 99),
      failoverMs: Math.round(failoverMs), failoverShards: deadShards.size, failoverHosts: orphaned.length, failoverChangedBridges: changed.size, failoverChangedDeadShardBridges: changedOrphans, rightFlowsDeleted: rightDeleted, unchangedBridgeFlowMods: unchangedMods, wrongAfterFailover: wrongAfter,
      replicaUsage: replicas.map((r, i) => ({ id: r.id, rssSyncMb: Math.round(atSync[i]!.rssMb), rssPeakMb: usage[i]!.killed ? null : Math.round(usage[i]!.peakMb), cpuS: +(usage[i]!.killed ? atSync[i]!.cpuS : usage[i]!.cpuS).toFixed(1) })),
    };
    // Stop everything of the cluster before the single-process run, so that it has the machine.
    for (const r of replicas) await r.proc.kill('SIGTERM');
    kv.close();
    kv = undefined;
    await fleet.stop();
    fleet = undefined;
    await etcd.stop();
    etcd = undefined;
    const single = process.env.BENCH_SINGLE === '0' ? undefined : (console.log(`  one controller process (bench/scale.js ${N}):`), await singleProcess(N));
    if (single) {
      console.log('                       3 replicas + etcd    1 process');
      console.log(`  cold start            ${(syncMs / 1000).toFixed(1).padStart(8)} s        ${(single.syncMs! / 1000).toFixed(1).padStart(6)} s`);
      console.log(`  add p50 / p99         ${p(ev.lat, 50).padStart(6)} / ${p(ev.lat, 99).padEnd(6)} ms  ${single.addP50Ms!.toFixed(1)} / ${single.addP99Ms!.toFixed(1)} ms (both from before the write)`);
      console.log(`  RSS per process       ${atSync.map((u) => u.rssMb.toFixed(0)).join('/')} MB at sync   ${single.rssSyncMb} MB at sync, peak ${single.rssPeakMb} MB`);
      console.log(`  CPU per process       ${atSync.map((u) => u.cpuS.toFixed(1)).join('/')} s to sync  ${single.cpuS} s to sync`);
    }
    console.log(JSON.stringify({ ...figures, single: single ?? null }));
  } catch (err) {
    // What the replicas said (warnings and errors) explains most failures.
    for (const r of replicas) console.error(`--- ${r.id} (last 3000 characters of its log):\n${r.proc.log.slice(-3000)}`);
    throw err;
  } finally {
    for (const r of replicas) await r.proc.kill('SIGKILL');
    kv?.close();
    await fleet?.stop();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await run();
