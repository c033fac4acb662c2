// add-flows of 100k flows in one atomic bundle: `ofctl-ts add-flows BR FILE` vs
// `ovs-ofctl -O OpenFlow13 --bundle add-flows BR FILE`, whole process each, each on an emptied
// bridge (del-flows before every run, flow count checked after), median of 7, runs interleaved.
// Target: ours <= 1.2x ovs-ofctl.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OvsSandbox } from '../testing/sandbox.js';
import { fmtMs, fmtRuns, generateFlows, median, processCpuSeconds, timeProcess, verdict, vswitchdPid } from './common.js';

const N_FLOWS = 100_000;
const RUNS = 7;
const TARGET = 1.2;
const BR = 'br0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'ofctl-ts.js');

function ofctl(env: NodeJS.ProcessEnv, ...args: string[]): string {
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ovs-ofctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function flowCount(env: NodeJS.ProcessEnv): number {
  const m = /flow_count=(\d+)/.exec(ofctl(env, 'dump-aggregate', BR));
  if (!m) throw new Error('dump-aggregate: no flow_count');
  return Number(m[1]);
}

function emptyBridge(env: NodeJS.ProcessEnv): void {
  ofctl(env, 'del-flows', BR);
  const n = flowCount(env);
  if (n !== 0) throw new Error(`del-flows left ${n} flows`);
}

/** Wall ms of the load, and the CPU seconds ovs-vswitchd spent meanwhile. */
async function timedLoad(what: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, vswitchd: number): Promise<[number, number]> {
  emptyBridge(env);
  const cpu0 = processCpuSeconds(vswitchd);
  const { ms } = await timeProcess(cmd, args, env);
  const cpu = processCpuSeconds(vswitchd) - cpu0;
  const n = flowCount(env);
  if (n !== N_FLOWS) throw new Error(`${what}: the bridge holds ${n} flows, expected ${N_FLOWS}`);
  return [ms, cpu];
}

async function main(): Promise<void> {
  console.log(`add-flows bench: ${N_FLOWS} flows in one atomic bundle, median of ${RUNS}, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({ bridges: [BR] });
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    const file = join(box.dir, 'flows.txt');
    writeFileSync(file, generateFlows(N_FLOWS));
    const ovsArgs = ['-O', 'OpenFlow13', '--bundle', 'add-flows', BR, file];
    const ourArgs = [BIN, 'add-flows', BR, file];
    const vswitchd = vswitchdPid(box.dir);
    const ovs: number[] = [];
    const ours: number[] = [];
    const ovsCpu: number[] = [];
    const oursCpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [a, ac] = await timedLoad('ovs-ofctl', 'ovs-ofctl', ovsArgs, env, vswitchd);
      const [b, bc] = await timedLoad('ofctl-ts', process.execPath, ourArgs, env, vswitchd);
      ovs.push(a);
      ovsCpu.push(ac);
      ours.push(b);
      oursCpu.push(bc);
    }
    // Same flows installed by both? (the last load was ours; compare with ovs-ofctl's)
    const oursDump = ofctl(env, '--no-names', 'dump-flows', '--no-stats', BR).split('\n').sort().join('\n');
    emptyBridge(env);
    ofctl(env, '--bundle', 'add-flows', BR, file);
    const ovsDump = ofctl(env, '--no-names', 'dump-flows', '--no-stats', BR).split('\n').sort().join('\n');
    console.log(`flow tables after each tool's load: ${oursDump === ovsDump ? 'identical' : 'DIFFERENT'}`);
    const mo = median(ovs);
    const mu = median(ours);
    const ratio = mu / mo;
    console.log(`  ovs-ofctl --bundle (reference): median ${fmtMs(mo).padStart(8)}  runs ${fmtRuns(ovs)}`);
    console.log(`  ofctl-ts add-flows:             median ${fmtMs(mu).padStart(8)}  runs ${fmtRuns(ours)}`);
    console.log(`  ratio ofctl-ts / ovs-ofctl = ${ratio.toFixed(2)}x  ${verdict(ratio, TARGET)}`);
    const sec = (xs: number[]): string => `${median(xs).toFixed(2)} s`;
    console.log(`  ovs-vswitchd CPU during the load (median): ${sec(ovsCpu)} with ovs-ofctl, ${sec(oursCpu)} with ofctl-ts`);
  } finally {
    await box.stop();
  }
}

await main();
