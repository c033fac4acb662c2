// Shared helpers for the benches: timing child processes, medians, formatting.
import { spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OvsSandbox } from '../testing/sandbox.js';

/** The repository (benches run from dist/bench/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OFCTL_TS = join(ROOT, 'bin', 'ofctl-ts.js');

/**
 * The binary runs the bundled CLI only while its bundles are newer than the compiled modules, else
 * the modules themselves, slower to start (bin/ofctl-ts.js). A bench after `tsc` alone would time
 * that fallback, not what users run: refused, for every bench that runs the binary.
 */
function assertBundlesFresh(): void {
  const cli = join(ROOT, 'dist', 'lib', 'cli');
  const built = statSync(join(cli, 'entry.js')).mtimeMs;
  const stale = ['ofctl-ts-quick.cjs', 'ofctl-ts.cjs'].filter((b) => (statSync(join(cli, b), { throwIfNoEntry: false })?.mtimeMs ?? 0) < built);
  if (stale.length) {
    throw new Error(`dist/lib/cli/${stale.join(' and ')}: older than the compiled modules (tsc ran after the last \`npm run build\`); `
      + 'run `npm run build`: the binary would run the compiled modules, slower to start than what users run');
  }
}
assertBundlesFresh();

export interface RunResult {
  readonly ms: number;
  readonly code: number | null;
  readonly stderr: string;
  /** Peak resident set of the process in kB (with `rss`). */
  readonly rssKb?: number;
  /** CPU time of the process, user + system, in ms (with `cpu`; 10 ms resolution). */
  readonly cpuMs?: number;
}

export interface TimeOptions {
  /** Exit codes taken as success (default 0 only; diff-flows exits 1 when the sets differ). */
  readonly okCodes?: readonly number[];
  /** Also measure the peak RSS, through `/usr/bin/time -f %M` (its fork is inside the wall time). */
  readonly rss?: boolean;
  /** Also measure the CPU time (user + system), through `/usr/bin/time`: on a busy machine it says more than wall time. */
  readonly cpu?: boolean;
}

/**
 * Runs cmd with args, stdout to /dev/null (as `> /dev/null`), and returns the wall time of the
 * whole process (spawn to exit). Rejects on an exit code not in okCodes.
 */
export function timeProcess(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, o: TimeOptions = {}): Promise<RunResult> {
  const rssDir = o.rss || o.cpu ? mkdtempSync(join(tmpdir(), 'ofctl-ts-bench-rss-')) : undefined;
  const rssFile = rssDir && join(rssDir, 'rss');
  const [c, a] = rssFile ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
  return new Promise<RunResult>((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(c, a, { env, stdio: ['ignore', devnull, 'pipe'] });
    closeSync(devnull);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!(o.okCodes ?? [0]).includes(code ?? -1)) reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`));
      else if (rssFile) {
        const [kb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        resolve({ ms, code, stderr, rssKb: kb!, cpuMs: (user! + sys!) * 1000 });
      }
      else resolve({ ms, code, stderr });
    });
  }).finally(() => { if (rssDir) rmSync(rssDir, { recursive: true, force: true }); });
}

/** A command line to time: ovs-ofctl's or ours. */
export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
}

export const ovsOfctl = (...args: string[]): Command => ({ cmd: 'ovs-ofctl', args });
/**
 * ofctl-ts as a user runs it: the binary itself, through its #! line (which starts Node without
 * NODE_EXTRA_CA_CERTS: bench/startup.ts).
 */
export const ofctlTs = (...args: string[]): Command => ({ cmd: OFCTL_TS, args });

/** Runs a command to its end and returns what it printed (for comparing outputs, untimed). */
export function capture(c: Command, env: NodeJS.ProcessEnv, okCodes: readonly number[] = [0]): SpawnSyncReturns<string> {
  const r = spawnSync(c.cmd, c.args, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${c.cmd} ${c.args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r;
}

/**
 * Nova plugging VM ports into br-int (created first, as on a compute host before VMs boot), 250 per
 * ovs-vsctl call: [Neutron port id, MAC], each as the internal port `tap<id>`.
 */
export async function plugVmPorts(box: OvsSandbox, vms: ReadonlyArray<readonly [string, string]>): Promise<void> {
  await box.vsctl('add-br', 'br-int', '--', 'set', 'Bridge', 'br-int', 'datapath_type=netdev');
  for (let i = 0; i < vms.length; i += 250) {
    const args: string[] = [];
    for (const [id, m] of vms.slice(i, i + 250)) {
      args.push('--', 'add-port', 'br-int', `tap${id}`, '--', 'set', 'Interface', `tap${id}`, 'type=internal',
        `external_ids:iface-id=${id}`, `external_ids:attached-mac="${m}"`);
    }
    await box.vsctl(...args);
  }
}

/** How many flows a bridge of the sandbox holds. */
export async function flowCount(box: OvsSandbox, bridge: string): Promise<number> {
  const m = /flow_count=(\d+)/.exec(await box.ofctl('dump-aggregate', box.mgmtTarget(bridge)));
  if (!m) throw new Error(`${bridge}: dump-aggregate gave no flow_count`);
  return Number(m[1]);
}

/**
 * Makes the bridge hold exactly the file's flows (del-flows, then `ovs-ofctl --bundle add-flows`:
 * its replace-flows would drop some flags, see bench/replace-flows.ts), untimed for the figures,
 * and checks it holds `expected` flows; returns the wall ms it took.
 */
export async function loadFlows(box: OvsSandbox, bridge: string, file: string, expected: number): Promise<number> {
  const t0 = performance.now();
  await box.ofctl('del-flows', box.mgmtTarget(bridge));
  await box.ofctl('--bundle', 'add-flows', box.mgmtTarget(bridge), file);
  const ms = performance.now() - t0;
  const n = await flowCount(box, bridge);
  if (n !== expected) throw new Error(`${bridge}: holds ${n} flows after loading ${file}, expected ${expected}`);
  return ms;
}

export interface Interleaved {
  readonly ovs: RunResult[];
  readonly ours: RunResult[];
}

/**
 * Runs ovs-ofctl's command and ours alternately, `runs` times each, after one untimed warm-up
 * each (page cache, vswitchd's first dump); `before` runs untimed ahead of every run and `after`
 * (checks) behind it.
 */
export async function interleaved(ovs: Command, ours: Command, env: NodeJS.ProcessEnv, o: TimeOptions & {
  readonly runs: number;
  readonly before?: () => Promise<void>;
  readonly after?: (who: 'ovs-ofctl' | 'ofctl-ts') => Promise<void>;
}): Promise<Interleaved> {
  const r: Interleaved = { ovs: [], ours: [] };
  for (let i = -1; i < o.runs; i++) {
    for (const [who, c, into] of [['ovs-ofctl', ovs, r.ovs], ['ofctl-ts', ours, r.ours]] as const) {
      await o.before?.();
      const res = await timeProcess(c.cmd, c.args, env, o);
      await o.after?.(who);
      if (i >= 0) into.push(res);
    }
  }
  return r;
}

/** One line of a bench's closing summary. */
export interface Figure {
  readonly what: string;
  readonly ours: number;
  readonly ovs: number;
  readonly unit: 'ms' | 'MB';
  readonly target: number;
  /** Figures with the same key are also summed into one line (the two bridges of one host). */
  readonly sumKey?: string;
}

/**
 * Prints ovs-ofctl's and our medians with their runs, the ratio and the verdict, and returns the
 * figure (wall time, or peak RSS when `rss`).
 */
export function printComparison(what: string, ovsCmd: string, oursCmd: string, r: Interleaved, target: number, o: { rss?: boolean; sumKey?: string } = {}): Figure {
  const rss = o.rss ?? false;
  const pick = (x: RunResult): number => (rss ? x.rssKb! / 1024 : x.ms);
  const ovs = r.ovs.map(pick);
  const ours = r.ours.map(pick);
  const unit = rss ? 'MB' : 'ms';
  const f: Figure = { what, ours: median(ours), ovs: median(ovs), unit, target, ...(o.sumKey ? { sumKey: o.sumKey } : {}) };
  const w = Math.max(ovsCmd.length, oursCmd.length) + 1;
  console.log(`  ${`${ovsCmd}:`.padEnd(w)} median ${`${f.ovs.toFixed(0)} ${unit}`.padStart(9)}  runs ${fmtRuns(ovs)}`);
  console.log(`  ${`${oursCmd}:`.padEnd(w)} median ${`${f.ours.toFixed(0)} ${unit}`.padStart(9)}  runs ${fmtRuns(ours)}`);
  console.log(`  ${rss ? 'peak RSS' : 'time'} ratio ofctl-ts / ovs-ofctl = ${(f.ours / f.ovs).toFixed(2)}x  ${verdict(f.ours / f.ovs, target)}`);
  return f;
}

/** The CPU time (user + system) medians of a run made with `cpu`, and their ratio. */
export function printCpu(r: Interleaved): void {
  const ovs = r.ovs.map((x) => x.cpuMs!);
  const ours = r.ours.map((x) => x.cpuMs!);
  console.log(`  CPU (user+sys) median ovs-ofctl ${median(ovs).toFixed(0)} ms ${fmtRuns(ovs)}, ofctl-ts ${median(ours).toFixed(0)} ms ${fmtRuns(ours)}: `
    + `ratio ${(median(ours) / median(ovs)).toFixed(2)}x`);
}

/** The closing table of a bench: every figure with its ratio and verdict. */
export function printSummary(title: string, figures: readonly Figure[]): void {
  const sums = new Map<string, Figure>();
  for (const f of figures) {
    if (!f.sumKey) continue;
    const s = sums.get(f.sumKey);
    sums.set(f.sumKey, s ? { ...s, ours: s.ours + f.ours, ovs: s.ovs + f.ovs } : { ...f, what: `${f.sumKey} (sum of medians)` });
  }
  const all = [...figures, ...sums.values()];
  console.log(`\n${title}: summary (medians; ofctl-ts / ovs-ofctl)`);
  const w = Math.max(...all.map((f) => f.what.length));
  for (const f of all) {
    const ratio = f.ours / f.ovs;
    console.log(`  ${f.what.padEnd(w)}  ${`${f.ours.toFixed(0)}`.padStart(6)} / ${`${f.ovs.toFixed(0)} ${f.unit}`.padEnd(9)} = ${ratio.toFixed(2)}x  ${verdict(ratio, f.target)}`);
  }
}

/**
 * `identical (N lines)`, or DIFFERENT with how many lines differ and the first of them. With
 * `sorted`, the lines are compared as multisets (for outputs in a hash order, or tables): what
 * only one tool printed, and the first such line of each.
 */
export function compareOutputs(ovs: string, ours: string, o: { mask?: (line: string) => string; sorted?: boolean } = {}): string {
  const prep = (t: string): string[] => t.split('\n').filter((x) => x !== '').map(o.mask ?? ((x) => x));
  const la = prep(ovs);
  const lb = prep(ours);
  if (o.sorted) {
    const count = new Map<string, number>();
    for (const l of la) count.set(l, (count.get(l) ?? 0) + 1);
    const onlyB: string[] = [];
    for (const l of lb) {
      const n = count.get(l) ?? 0;
      if (n > 0) count.set(l, n - 1);
      else onlyB.push(l);
    }
    const onlyA = la.filter((l) => {
      const n = count.get(l) ?? 0;
      if (n > 0) count.set(l, n - 1);
      return n > 0;
    });
    if (onlyA.length === 0 && onlyB.length === 0) return `identical (${la.length} lines, compared as sets)`;
    return `DIFFERENT as sets: ${onlyA.length} of ${la.length} lines only from ovs-ofctl, ${onlyB.length} of ${lb.length} only from ofctl-ts; first of each:\n` +
      `    ovs-ofctl: ${onlyA[0] ?? '(none)'}\n    ofctl-ts:  ${onlyB[0] ?? '(none)'}`;
  }
  let n = 0;
  let first = -1;
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) {
      n++;
      if (first < 0) first = i;
    }
  }
  if (n === 0) return `identical (${la.length} lines)`;
  return `DIFFERENT in ${n} of ${la.length} lines (ofctl-ts: ${lb.length}); first, line ${first + 1}:\n` +
    `    ovs-ofctl: ${la[first] ?? '(none)'}\n    ofctl-ts:  ${lb[first] ?? '(none)'}`;
}
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmtRuns(xs: readonly number[]): string {
  return `[${xs.map((x) => x.toFixed(0)).join(', ')}]`;
}

export function verdict(ratio: number, target: number): string {
  return ratio <= target ? `OK (target <= ${target}x)` : `MISSED (target <= ${target}x)`;
}

export { processCpuSeconds } from '../testing/proc.js';
