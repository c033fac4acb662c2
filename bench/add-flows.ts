// add-flows on the flow sets of bench/flow-sets.ts (the l2pop host's br-tun and br-int, 100k flows
// cycling through the codec corpus), each in one atomic bundle: `ofctl-ts add-flows BR FILE` vs
// `ovs-ofctl -O OpenFlow13 --bundle add-flows BR FILE`, whole process each, on an emptied bridge
// (del-flows before every run, flow count checked after), runs interleaved, medians. The tables
// each tool leaves are compared. Target (issue 14): <= 1.2x.
import { cpus } from 'node:os';
import { OvsSandbox } from '../testing/sandbox.js';
import { compareOutputs, Figure, flowCount, interleaved, ofctlTs, ovsOfctl, printComparison, printCpu, printSummary } from './common.js';
import { flowSets } from './flow-sets.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 1.2;

async function main(): Promise<void> {
  console.log(`add-flows bench: one atomic bundle each, median of ${RUNS} interleaved runs, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({});
  const figures: Figure[] = [];
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    for (const set of flowSets(box.dir)) {
      await set.prepare(box);
      console.log(`\n${set.name}: ${set.flows} flows into ${set.bridge}`);
      const tables = new Map<string, string>();
      const r = await interleaved(ovsOfctl('-O', 'OpenFlow13', '--bundle', 'add-flows', set.bridge, set.file), ofctlTs('add-flows', set.bridge, set.file), env, {
        runs: RUNS,
        cpu: true,
        before: async () => {
          await box.ofctl('del-flows', box.mgmtTarget(set.bridge));
          const n = await flowCount(box, set.bridge);
          if (n !== 0) throw new Error(`${set.bridge}: del-flows left ${n} flows`);
        },
        after: async (who) => {
          const n = await flowCount(box, set.bridge);
          if (n !== set.flows) throw new Error(`${who} add-flows: ${set.bridge} holds ${n} flows, expected ${set.flows}`);
          // The table each tool leaves, once (after the untimed warm-up).
          if (!tables.has(who)) tables.set(who, (await box.dumpFlowsSorted(set.bridge)).join('\n'));
        },
      });
      console.log(`  flow table after each tool's load (dump-flows --no-stats): ${compareOutputs(tables.get('ovs-ofctl')!, tables.get('ofctl-ts')!, { sorted: true })}`);
      printCpu(r);
      figures.push(printComparison(`add-flows, ${set.bridge} (${set.flows} flows)`, 'ovs-ofctl -O OpenFlow13 --bundle add-flows', 'ofctl-ts add-flows', r, TARGET, { ...(set.host ? { sumKey: `add-flows, br-tun + br-int of ${set.host}` } : {}) }));
      await box.ofctl('del-flows', box.mgmtTarget(set.bridge));
    }
    printSummary('add-flows', figures);
  } finally {
    await box.stop();
  }
}

await main();
