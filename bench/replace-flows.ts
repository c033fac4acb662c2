// replace-flows on the flow sets of bench/flow-sets.ts, every flow's cookie changed (so every flow
// is a modification): the bridge holds the set (restored untimed before every run), then
// `ofctl-ts replace-flows BR CHANGED` vs `ovs-ofctl -O OpenFlow13 --bundle replace-flows BR
// CHANGED`, whole process each, wall time and peak RSS (/usr/bin/time -f %M), runs interleaved,
// medians. The tables each tool leaves are compared (ovs-ofctl 3.1's replace-flows re-adds a changed
// flow without its check_overlap, reset_counts, no_packet_counts and no_byte_counts flags; ofctl-ts
// keeps them: the corpus set shows it). Targets (issue 14): <= 1.2x in time and in peak RSS.
import { cpus } from 'node:os';
import { OvsSandbox } from '../testing/sandbox.js';
import { compareOutputs, Figure, flowCount, interleaved, loadFlows, ofctlTs, ovsOfctl, printComparison, printSummary } from './common.js';
import { flowSets } from './flow-sets.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 1.2;

async function main(): Promise<void> {
  console.log(`replace-flows bench: every cookie changed, median of ${RUNS} interleaved runs, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({});
  const figures: Figure[] = [];
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    for (const set of flowSets(box.dir)) {
      await set.prepare(box);
      console.log(`\n${set.name}: ${set.flows} flows in ${set.bridge}, replaced by the same flows with other cookies`);
      const tables = new Map<string, string>();
      const r = await interleaved(
        ovsOfctl('-O', 'OpenFlow13', '--bundle', 'replace-flows', set.bridge, set.changedFile),
        ofctlTs('replace-flows', set.bridge, set.changedFile), env, {
          runs: RUNS, rss: true,
          before: async () => { await loadFlows(box, set.bridge, set.file, set.flows); },
          after: async (who) => {
            const n = await flowCount(box, set.bridge);
            if (n !== set.flows) throw new Error(`${who} replace-flows: ${set.bridge} holds ${n} flows, expected ${set.flows}`);
            if (!tables.has(who)) tables.set(who, (await box.dumpFlowsSorted(set.bridge)).join('\n'));
          },
        });
      console.log(`  flow table after each tool's replace (dump-flows --no-stats): ${compareOutputs(tables.get('ovs-ofctl')!, tables.get('ofctl-ts')!, { sorted: true })}`);
      const what = `replace-flows, ${set.bridge} (${set.flows} flows)`;
      figures.push(printComparison(what, 'ovs-ofctl -O OpenFlow13 --bundle replace-flows', 'ofctl-ts replace-flows', r, TARGET, { ...(set.host ? { sumKey: `replace-flows, br-tun + br-int of ${set.host}` } : {}) }));
      figures.push(printComparison(`${what}, peak RSS`, 'ovs-ofctl -O OpenFlow13 --bundle replace-flows', 'ofctl-ts replace-flows', r, TARGET, { rss: true }));
      await box.ofctl('del-flows', box.mgmtTarget(set.bridge));
    }
    printSummary('replace-flows', figures);
  } finally {
    await box.stop();
  }
}

await main();
