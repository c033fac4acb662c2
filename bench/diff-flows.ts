// diff-flows of two flow files, on the flow sets of bench/flow-sets.ts: each set's file against its
// twin with every cookie changed (every flow differs): `ofctl-ts diff-flows A B` vs `ovs-ofctl
// diff-flows A B`, whole process each, stdout to /dev/null, runs interleaved, medians. Files only:
// no switch is involved. Both outputs are compared (ovs-ofctl prints in hash order, so also as
// sorted lines). Target (issue 14): <= 1.2x.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, compareOutputs, Figure, interleaved, ofctlTs, ovsOfctl, printComparison, printCpu, printSummary } from './common.js';
import { flowSets } from './flow-sets.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 1.2;
// Both exit non-zero when the sets differ (ovs-ofctl 2, ofctl-ts 1 for now).
const DIFFERENT = [0, 1, 2];

async function main(): Promise<void> {
  console.log(`diff-flows bench: file against file, every cookie changed, median of ${RUNS} interleaved runs, node ${process.version}, nproc=${cpus().length}`);
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-bench-diff-'));
  const figures: Figure[] = [];
  try {
    for (const set of flowSets(dir)) {
      console.log(`\n${set.name}: ${set.flows} flows against the same with other cookies`);
      const ovs = ovsOfctl('diff-flows', set.file, set.changedFile);
      const ours = ofctlTs('diff-flows', set.file, set.changedFile);
      const a = capture(ovs, process.env, DIFFERENT).stdout;
      const b = capture(ours, process.env, DIFFERENT).stdout;
      console.log(`  outputs, in order: ${compareOutputs(a, b)}`);
      console.log(`  outputs, as sets:  ${compareOutputs(a, b, { sorted: true })}`);
      const r = await interleaved(ovs, ours, process.env, { runs: RUNS, okCodes: DIFFERENT, cpu: true });
      printCpu(r);
      figures.push(printComparison(`diff-flows, ${set.bridge} (${set.flows} flows)`, 'ovs-ofctl diff-flows', 'ofctl-ts diff-flows', r, TARGET, { ...(set.host ? { sumKey: `diff-flows, br-tun + br-int of ${set.host}` } : {}) }));
    }
    printSummary('diff-flows', figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
