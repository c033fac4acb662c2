// dump-flows of 100k flows: `ofctl-ts dump-flows BR` vs `ovs-ofctl -O OpenFlow13 --no-names
// dump-flows BR`, whole process each (node start-up included), stdout to /dev/null, median of 9,
// runs interleaved. Also the --no-stats variant. Target: ours <= 1.2x ovs-ofctl.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OvsSandbox } from '../testing/sandbox.js';
import { fmtMs, fmtRuns, generateFlows, median, startupReference, timeProcess, verdict } from './common.js';

const N_FLOWS = 100_000;
const RUNS = 9;
const TARGET = 1.2;
const BR = 'br0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'ofctl-ts.js');

function flowCount(env: NodeJS.ProcessEnv): number {
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-aggregate', BR], { env, encoding: 'utf8' });
  const m = /flow_count=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`dump-aggregate: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

/** Same text on stdout from both tools? With stats, durations are masked (they differ by run). */
function sameOutput(env: NodeJS.ProcessEnv, extra: readonly string[]): string {
  const opts = { env, encoding: 'utf8' as const, maxBuffer: 1 << 30 };
  const mask = (t: string): string[] => t.replace(/duration=[0-9.]+s/g, 'duration=*').split('\n');
  const a = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', 'dump-flows', ...extra, BR], opts).stdout;
  const b = spawnSync(process.execPath, [BIN, 'dump-flows', ...extra, BR], opts).stdout;
  const la = mask(a);
  const lb = mask(b);
  const diff: number[] = [];
  for (let i = 0; i < Math.max(la.length, lb.length); i++) if (la[i] !== lb[i]) diff.push(i);
  if (diff.length === 0) return `identical (${a.length} bytes)`;
  const i = diff[0]!;
  return `DIFFERENT in ${diff.length} of ${la.length} lines; first, line ${i + 1}:\n    ovs-ofctl: ${la[i] ?? '(none)'}\n    ofctl-ts:  ${lb[i] ?? '(none)'}`;
}

async function compare(label: string, env: NodeJS.ProcessEnv, extra: readonly string[]): Promise<number> {
  const ovsArgs = ['-O', 'OpenFlow13', '--no-names', 'dump-flows', ...extra, BR];
  const ourArgs = [BIN, 'dump-flows', ...extra, BR];
  // one untimed warm-up each (page cache, vswitchd's first dump)
  await timeProcess('ovs-ofctl', ovsArgs, env);
  await timeProcess(process.execPath, ourArgs, env);
  const ovs: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ovs.push((await timeProcess('ovs-ofctl', ovsArgs, env)).ms);
    ours.push((await timeProcess(process.execPath, ourArgs, env)).ms);
  }
  const mo = median(ovs);
  const mu = median(ours);
  const ratio = mu / mo;
  console.log(`\ndump-flows${extra.length ? ` ${extra.join(' ')}` : ''} (${label})`);
  console.log(`  ovs-ofctl (reference): median ${fmtMs(mo).padStart(8)}  runs ${fmtRuns(ovs)}`);
  console.log(`  ofctl-ts:              median ${fmtMs(mu).padStart(8)}  runs ${fmtRuns(ours)}`);
  console.log(`  ratio ofctl-ts / ovs-ofctl = ${ratio.toFixed(2)}x  ${verdict(ratio, TARGET)}`);
  return ratio;
}

async function main(): Promise<void> {
  console.log(`dump-flows bench: ${N_FLOWS} flows, median of ${RUNS}, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({ bridges: [BR] });
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    const file = join(box.dir, 'flows.txt');
    writeFileSync(file, generateFlows(N_FLOWS));
    const t0 = Date.now();
    await timeProcess('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', BR, file], env);
    const n = flowCount(env);
    console.log(`loaded ${n} flows with ovs-ofctl --bundle add-flows in ${Date.now() - t0} ms`);
    if (n !== N_FLOWS) throw new Error(`expected ${N_FLOWS} flows, the bridge holds ${n}`);
    console.log(`output of both tools, --no-stats: ${sameOutput(env, ['--no-stats'])}`);
    console.log(`output of both tools, with stats (durations masked): ${sameOutput(env, [])}`);
    await compare('with stats', env, []);
    await compare('no stats', env, ['--no-stats']);
    const s = await startupReference(BIN);
    console.log(`\nfixed start-up inside the ofctl-ts figures: \`node -e 0\` ${fmtMs(s.node)}, \`ofctl-ts --help\` ${fmtMs(s.ofctlTs)} (medians)`);
  } finally {
    await box.stop();
  }
}

await main();
