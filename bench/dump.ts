// dump-flows on the flow sets of bench/flow-sets.ts (the l2pop host's br-tun and br-int, 100k
// flows cycling through the codec corpus): `ofctl-ts dump-flows BR [--no-stats]` vs `ovs-ofctl -O
// OpenFlow13 --no-names dump-flows BR [--no-stats]`, whole process each (Node's start-up
// included), stdout to /dev/null, runs interleaved, medians. Both tools' outputs are compared
// first. Targets (issue 14): <= 1.1x with stats, <= 1.0x with --no-stats. CPU time (user + sys)
// is printed beside: on a busy machine it varies less than wall time.
import { cpus } from 'node:os';
import { OvsSandbox } from '../testing/sandbox.js';
import { capture, compareOutputs, Figure, flowCount, interleaved, loadFlows, ofctlTs, ovsOfctl, printComparison, printCpu, printSummary } from './common.js';
import { flowSets } from './flow-sets.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_STATS = 1.1;
const TARGET_NO_STATS = 1.0;

async function main(): Promise<void> {
  console.log(`dump-flows bench: median of ${RUNS} interleaved runs, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({});
  const figures: Figure[] = [];
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    for (const set of flowSets(box.dir)) {
      await set.prepare(box);
      const ms = await loadFlows(box, set.bridge, set.file, set.flows);
      console.log(`\n${set.name}: ${set.flows} flows, loaded into ${set.bridge} (ovs-ofctl --bundle add-flows) in ${ms.toFixed(0)} ms`);
      for (const extra of [[], ['--no-stats']]) {
        const ovs = ovsOfctl('-O', 'OpenFlow13', '--no-names', 'dump-flows', ...extra, set.bridge);
        const ours = ofctlTs('dump-flows', ...extra, set.bridge);
        // With stats, durations differ from one dump to the next.
        const mask = (l: string): string => l.replace(/duration=[0-9.]+s/, 'duration=*');
        const same = compareOutputs(capture(ovs, env).stdout, capture(ours, env).stdout, { mask });
        const label = `dump-flows${extra.length ? ' --no-stats' : ''}`;
        console.log(`${label}, ${set.bridge}: outputs ${same}`);
        const r = await interleaved(ovs, ours, env, { runs: RUNS, cpu: true });
        const target = extra.length ? TARGET_NO_STATS : TARGET_STATS;
        figures.push(printComparison(`${label}, ${set.bridge} (${set.flows} flows)`, `ovs-ofctl -O OpenFlow13 ${label}`, `ofctl-ts ${label}`, r, target, { ...(set.host ? { sumKey: `${label}, br-tun + br-int of ${set.host}` } : {}) }));
        printCpu(r);
      }
      // The bridge's flows are no longer needed: keep vswitchd small for the next set.
      await box.ofctl('del-flows', box.mgmtTarget(set.bridge));
      if (await flowCount(box, set.bridge) !== 0) throw new Error(`${set.bridge}: del-flows left flows`);
    }
    printSummary('dump-flows', figures);
  } finally {
    await box.stop();
  }
}

await main();
