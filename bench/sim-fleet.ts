// Simulated hypervisors for the scale benches (scale.ts: one controller process; scale-out.ts:
// replicas through etcd): the topology of N hosts, what each bridge must hold, and the port-event
// latency measurement, the same for both so that their figures compare.
import { constants as perf, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionalInt } from '../codecs/ovsdb/protocol.js';
import { pluggedPortsFrom, tunnelOfportsFrom, vlanHintsFrom } from '../lib/controller/host-setup.js';
import type { VswitchView } from '../lib/ovsdb/vswitch.js';
import { deriveHostState, HostState } from '../lib/state/host-state.js';
import { TopologyStore } from '../lib/topology/store.js';
import type { Flow } from '../codecs/openflow/flow.js';
import { flowLine, renderText } from '../pipelines/index.js';
import { pipelineOptions } from '../pipelines/options.js';
import { mac } from '../testing/big-topology.js';
import { SimHypervisor } from '../testing/sim/hypervisor.js';
import { loadSchemaFile } from '../testing/sim/ovsdb-schema.js';
import type { SimSwitch } from '../testing/sim/sim-switch.js';

export const PORTS_PER_HOST = Number(process.env.SCALE_PORTS_PER_HOST ?? 5);
export const HOSTS_PER_NETWORK = Number(process.env.SCALE_HOSTS_PER_NETWORK ?? 10);
/** Port events: every other one adds a port, the next removes it. */
export const EVENTS = Number(process.env.SCALE_EVENTS ?? 400);
/**
 * Port events run before those measured, their latency printed apart: the first adds after a sync
 * run code no sync ran (an add's host setup, a tunnel's flows) and took 60-160 ms at 1000 hosts.
 */
export const WARMUP_EVENTS = Number(process.env.SCALE_WARMUP_EVENTS ?? 4);
/** With SCALE_TRACE, besides the first five, every event slower than this (ms) is traced. */
const TRACE_SLOW_MS = Number(process.env.SCALE_TRACE_SLOW_MS ?? Infinity);
export const BRIDGES = ['br-int', 'br-tun'] as const;
export const pipeline = pipelineOptions({ l2pop: true, arpResponder: true });

/** A deterministic PRNG (mulberry32) so every run adds the same ports. */
export function prng(seed: number): () => number {
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

export function memKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/**
 * A rendered flow's line (flowLine), once per flow object: the pipelines' memo hands
 * back the same objects for what did not change, so each add's expectations (every touched host
 * rendered before and after) format only the flows that are new. Formatting them all made most of
 * the garbage this process (which also runs the simulated switches) collected while adds were timed.
 */
const texts = new WeakMap<Flow, string>();
function textOf(f: Flow): string {
  let t = texts.get(f);
  if (t === undefined) texts.set(f, (t = flowLine(f)));
  return t;
}

/**
 * The simulator's collector, kept out of the adds' windows. The simulated hypervisors (a thousand
 * machines in a real cloud) share this process with the bench's own expectations (every touched host
 * rendered before and after the event), and a collection here pauses every one of them at once,
 * mid-add, which no real fleet does.
 * - The young generation is emptied before each window: left alone, it ran inside 127 of 200 adds'
 *   windows (~920 ms in all); emptied before each, in 0-2 of them.
 * - A full collection runs before the window when the heap has grown to FULL_GC_GROWTH times what
 *   the last one left, or V8 has begun one of its own (incremental marking). Left to V8, its final
 *   pause (40-140 ms here) landed inside about one add in 200 at 1000 hosts, the simulator stalled
 *   and that add took 150-390 ms. V8 began marking at 2-4 times the heap its last collection left;
 *   at 1.6 times, one runs every 3-4 s of adds, before V8 would. (Full collections at every event
 *   were tried once and cost more than they saved: p50 15 -> 18 ms, the simulator's CPU per event
 *   29 -> 41 ms.)
 * What still runs inside a window is measured and reported (PortEventFigures.simGcMs). The
 * controllers, in their own processes, are left to their own collectors.
 */
const FULL_GC_GROWTH = Number(process.env.SCALE_SIM_FULL_GC_GROWTH ?? 1.6);
const FULL_GC_DRAIN_MS = 500;
let gc: ((o?: { type: 'minor' }) => void) | undefined;
let markingBegun = false;
/** The heap after the last full collection, and at the last call (a drop since means V8 ran one). */
let afterFull = 0;
let lastUsed = 0;
async function quietCollector(): Promise<void> {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as (o?: { type: 'minor' }) => void;
    new PerformanceObserver((l) => {
      for (const g of l.getEntries()) {
        const kind = (g as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === perf.NODE_PERFORMANCE_GC_INCREMENTAL) markingBegun = true;
        else if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) markingBegun = false;
      }
    }).observe({ entryTypes: ['gc'] });
  }
  const used = getHeapStatistics().used_heap_size;
  // Entries come late: a drop of the heap since the last call is a full collection already run.
  if (used < lastUsed * 0.75) {
    afterFull = used;
    markingBegun = false;
  }
  if (!afterFull || markingBegun || used > afterFull * FULL_GC_GROWTH) {
    markingBegun = false;
    gc();
    afterFull = getHeapStatistics().used_heap_size;
    // The simulated switches and OVSDB servers were stalled (~200 ms): what the controllers sent
    // meanwhile (audits, echoes) is answered before the window, not inside it.
    await sleep(FULL_GC_DRAIN_MS);
  }
  gc({ type: 'minor' });
  lastUsed = getHeapStatistics().used_heap_size;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, what: string, ms: number, pollMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** The warm-up adds' latencies (WARMUP_EVENTS), as the benches print them apart from the figures. */
export function warmupSummary(lat: readonly number[]): string {
  return `warm-up before the measured events (not in the figures): ${lat.length} add(s), ${lat.map((x) => x.toFixed(1)).join(', ')} ms`;
}

/** What of the simulator's collector still ran inside the adds' windows (see `quietCollector`), as the benches print it. */
export function simGcSummary(simGcMs: readonly number[]): string {
  const total = simGcMs.reduce((a, x) => a + x, 0);
  return `the simulator's own collector inside the adds' windows: in ${simGcMs.filter((x) => x > 0).length} of ${simGcMs.length} adds, ` +
    `${total.toFixed(0)} ms in all, at most ${Math.max(0, ...simGcMs).toFixed(1)} ms`;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** N simulated hypervisors with their VMs plugged, the topology that describes them, and what each bridge must hold. */
export class Fleet {
  /** The topology as the bench knows it (each event applied here too): the expectations derive from it. */
  readonly store = new TopologyStore();
  readonly byName: Map<string, SimHypervisor>;
  /** Rendered flow count of each `host bridge` for the initial topology. */
  readonly want = new Map<string, number>();
  totalFlows = 0;

  /**
   * Each hypervisor's OVSDB view and plugged ports, until its next commit. The expectations read
   * every remote host's: built afresh for each event, their garbage was collected while the next
   * event was being measured (pauses of ~50 ms of this process, which also runs the simulators).
   */
  private readonly views = new Map<SimHypervisor, { readonly view: VswitchView; readonly plugged: ReadonlySet<string> }>();

  private constructor(readonly hvs: readonly SimHypervisor[], readonly lines: readonly string[], readonly networks: number) {
    this.byName = new Map(hvs.map((h) => [h.name, h]));
    for (const l of lines) this.store.applyLine(l, 'bench');
    for (const h of hvs) h.db.onCommit(() => void this.views.delete(h));
  }

  private viewOf(h: SimHypervisor): { readonly view: VswitchView; readonly plugged: ReadonlySet<string> } {
    let v = this.views.get(h);
    if (!v) {
      const view = h.view();
      this.views.set(h, v = { view, plugged: new Set(pluggedPortsFrom(view).keys()) });
    }
    return v;
  }

  /** Starts n hypervisors (OVSDB on unix sockets in dir) and plugs their VMs; waits for their ofports. */
  static async start(n: number, dir: string): Promise<Fleet> {
    const schema = loadSchemaFile();
    const hvs: SimHypervisor[] = [];
    try {
      for (let i = 0; i < n; i++) {
        hvs.push(await SimHypervisor.start({
          name: `h${i}`, schema, ovsdb: `unix:${join(dir, `h${i}.sock`)}`, dpidBase: BigInt(i * 2 + 1),
          switchOptions: { initialBackoffMs: 1000, maxBackoffMs: 8000 },
        }));
      }
    } catch (err) {
      await Promise.all(hvs.map((h) => h.stop()));
      throw err;
    }
    const { lines, networks } = topologyLines(hvs);
    const f = new Fleet(hvs, lines, networks);
    // The VMs run already: each host's ports are plugged into br-int (flows exist only for those).
    for (const h of hvs) h.plug([...f.store.topology.portsOn(h.name)].map((p) => ({ name: `tap-${p.id}`, ifaceId: p.id, mac: p.mac })));
    await until(() => hvs.every((h) => pluggedPortsFrom(h.view()).size === PORTS_PER_HOST), 'the VM ports to get ofports', 60_000);
    for (const h of hvs) {
      const st = f.stateOf(h);
      for (const br of BRIDGES) {
        const c = renderText(st, br, pipeline).length;
        f.want.set(`${h.name} ${br}`, c);
        f.totalFlows += c;
      }
    }
    return f;
  }

  stop(): Promise<void[]> {
    return Promise.all(this.hvs.map((h) => h.stop()));
  }

  /**
   * What a host's bridges must hold, from the bench's topology and what its OVSDB says, as the
   * controller derives it: plugged ports, tunnels' live ofports and VLAN tags (a tunnel added
   * later keeps the others' ofports, which rendering offline would renumber); remote ports count
   * while plugged on their host, as the controller reads every host's OVSDB.
   */
  stateOf(h: SimHypervisor): HostState {
    const remotePlugged = (name: string): ReadonlySet<string> | undefined => {
      const hv = this.byName.get(name);
      return hv ? this.viewOf(hv).plugged : undefined;
    };
    const { view } = this.viewOf(h);
    return deriveHostState(this.store.topology, h.name, { plugged: pluggedPortsFrom(view), ofports: tunnelOfportsFrom(view), vlanHints: vlanHintsFrom(view), remotePlugged });
  }

  /** Each bridge's rendered flows, one text per bridge (in BRIDGES order). */
  render(h: SimHypervisor): string[] {
    const st = this.stateOf(h);
    return BRIDGES.map((br) => renderText(st, br, pipeline, textOf).join('\n'));
  }

  sw(h: SimHypervisor, br: string): SimSwitch | undefined {
    return h.switches.get(br)?.sw;
  }

  /** Every bridge holds as many flows as rendered for the initial topology (cheap; exactness: wrongBridges). */
  synced(): boolean {
    return this.hvs.every((h) => BRIDGES.every((br) => this.sw(h, br)?.flows.size === this.want.get(`${h.name} ${br}`)));
  }

  /** Bridges whose flows are not exactly the rendered ones (with SCALE_TRACE, the first one's difference is printed). */
  wrongBridges(): number {
    let wrong = 0;
    for (const h of this.hvs) {
      const r = this.render(h);
      BRIDGES.forEach((br, i) => {
        const got = this.sw(h, br)!.dumpText().sort();
        if (got.join('\n') === r[i]) return;
        if (wrong++ === 0 && process.env.SCALE_TRACE) {
          const want = r[i]!.split('\n');
          console.log(`${h.name} ${br}: missing\n${want.filter((l) => !got.includes(l)).join('\n')}\nextra\n${got.filter((l) => !want.includes(l)).join('\n')}`);
        }
      });
    }
    return wrong;
  }

  /** The hosts a port event in network `net` on `host` can change: the host and those with a port in the network. */
  candidates(host: SimHypervisor, net: number): SimHypervisor[] {
    const on = new Set([...this.store.topology.ports.values()].filter((p) => p.network === `net${net}`).map((p) => p.host));
    return this.hvs.filter((h) => h === host || on.has(h.name));
  }

  /**
   * Nova plugs a VM first; the controller tags the port it does not know yet with the dead VLAN.
   * Resolves once tagged, so that the port event is then measured alone.
   */
  async plugAndWaitTagged(host: SimHypervisor, id: string, portMac: string): Promise<void> {
    host.plug([{ name: `tap-${id}`, ifaceId: id, mac: portMac }]);
    const tagged = (): boolean => host.db.rows('Port').some((p) => p.get('name') === `tap-${id}` && optionalInt(p.get('tag')) === 4095);
    await until(tagged, `tap-${id} to be tagged`, 30_000, 1);
  }

  /**
   * Applies `line` to the bench's topology and returns the switches whose rendered flows it
   * changes among `candidates`.
   */
  changedBy(line: string, candidates: readonly SimHypervisor[]): Set<SimSwitch> {
    const before = new Map(candidates.map((h) => [h, this.render(h)]));
    this.store.applyLine(line, 'bench');
    const changed = new Set<SimSwitch>();
    for (const h of candidates) {
      const after = this.render(h);
      BRIDGES.forEach((br, i) => {
        if (after[i] !== before.get(h)![i]) changed.add(this.sw(h, br)!);
      });
    }
    return changed;
  }
}

export interface PortEventFigures {
  /** Port add → the last bundle on the bridges it changes, from just before it was sent, ms. */
  readonly lat: number[];
  /** The same, from when the writer's answer came (etcd's put answered; an HTTP POST answered), ms; ≤ 0: the flows were in before. */
  readonly latFromAnswer: number[];
  /** Each changed bridge's bundle, from just before the add was sent. */
  readonly perBridge: number[];
  readonly latRemove: number[];
  /** The simulator's own collector inside each add's window, ms (see `quietCollector`). */
  readonly simGcMs: number[];
}

/**
 * Port adds spread over all hosts, one at a time, each removed again by the next event (VMs
 * booting and going away, so the topology stays the size it was). The bridges each one changes
 * are known from the host states before and after; the latency is until the last of them commits.
 */
export async function portEvents(f: Fleet, send: (line: string) => Promise<void>, events: number, trace = false, warmup = false): Promise<PortEventFigures> {
  const { hvs, networks } = f;
  const n = hvs.length;
  // Warm-up events (WARMUP_EVENTS) draw from their own sequence, ports and addresses: the measured
  // ones are the same with or without them.
  const rand = prng(warmup ? 7 : 6);
  const out: PortEventFigures = { lat: [], latFromAnswer: [], perBridge: [], latRemove: [], simGcMs: [] };
  let nextPort = n * PORTS_PER_HOST + (warmup ? 1_000_000 : 0);
  let last: { id: string; host: SimHypervisor; net: number } | undefined;
  for (let e = 0; e < events; e++) {
    const isAdd = e % 2 === 0;
    const host = isAdd ? hvs[Math.floor(rand() * n)]! : last!.host;
    const net = isAdd ? Math.floor(rand() * networks) : last!.net;
    const id = isAdd ? `p${nextPort}` : last!.id;
    const line = isAdd
      ? JSON.stringify({ type: 'port', id, network: `net${net}`, host: host.name, mac: mac(nextPort), fixedIps: [`172.${warmup ? 31 : 16 + (e >> 16)}.${(e >> 8) & 255}.${e & 255}`] })
      : JSON.stringify({ type: 'remove', kind: 'port', id });
    if (isAdd) nextPort++;
    last = { id, host, net };
    if (isAdd) await f.plugAndWaitTagged(host, id, (JSON.parse(line) as { mac: string }).mac);
    const candidates = f.candidates(host, net);
    const pending = f.changedBy(line, candidates);
    await quietCollector();
    let t = 0;
    let lastCommit = 0;
    const subs = [...pending].map((s) => s.events$.subscribe((ev) => {
      if (ev.type !== 'bundle' || !ev.ok || !pending.delete(s)) return;
      lastCommit = performance.now();
      if (isAdd) out.perBridge.push(lastCommit - t);
    }));
    const log: string[] = [];
    // The bench's own process pauses (its collector) show in the trace: the simulator stops with it.
    // Entries come after the fact (t is set by then): those from t until the last bridge's bundle count.
    let gcMs = 0;
    let end = Infinity;
    const gcs = new PerformanceObserver((l) => {
      for (const g of l.getEntries()) {
        if (g.startTime >= t && g.startTime < end) gcMs += g.duration;
        if (trace) log.push(`bench gc ${(g.startTime - t).toFixed(1)} for ${g.duration.toFixed(1)} ms`);
      }
    });
    gcs.observe({ entryTypes: ['gc'] });
    const unsubs = trace ? candidates.map((h) => h.db.onCommit(() => log.push(`${h.name} commit ${(performance.now() - t).toFixed(1)}`))) : [];
    const subs2 = trace ? [...pending].map((s) => s.events$.subscribe((ev) => log.push(`${s.name}@${s.datapathId} ${ev.type} ${(performance.now() - t).toFixed(1)}`))) : [];
    t = performance.now();
    // The monotonic clock in µs, as CPU profiles (CONTROLLER_NODE_ARGS=--cpu-prof) time their samples.
    const mono = process.hrtime.bigint() / 1000n;
    lastCommit = t;
    let answeredAt = 0;
    const sent = send(line).then(() => {
      answeredAt = performance.now();
      log.push(`answered ${(answeredAt - t).toFixed(1)}`);
    });
    await until(() => pending.size === 0, `event ${e} to reach its bridges`, 30_000, 1);
    end = performance.now();
    (isAdd ? out.lat : out.latRemove).push(end - t);
    await sent;
    if (isAdd) out.latFromAnswer.push(lastCommit - answeredAt);
    // Entries are delivered after the fact: those of the window have come by now.
    await new Promise((r) => setImmediate(r));
    gcs.disconnect();
    if (isAdd) out.simGcMs.push(gcMs);
    unsubs.forEach((u) => u());
    subs2.forEach((x) => x.unsubscribe());
    if (trace && (e < 5 || performance.now() - t > TRACE_SLOW_MS)) console.log(`event ${e} on ${host.name} net${net} at ${new Date(performance.timeOrigin + t).toISOString()} mono ${mono}: ${(performance.now() - t).toFixed(1)} ms\n  ${log.join('\n  ')}`);
    subs.forEach((s) => s.unsubscribe());
    if (!isAdd) host.unplug([`tap-${id}`]);
  }
  return out;
}
