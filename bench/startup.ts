// Commands on a small bridge: the 13 flows of a seed-003 compute br-tun
// (fixtures/seed-003/compute-br-tun.add-flows.txt), where the figure is start-up, not flows. Each
// ofctl-ts command beside the ovs-ofctl command doing the same, whole process, runs interleaved,
// medians; `node -e 0` beside them is the floor Node itself sets. Target (issue 14): every
// command <= 100 ms wall.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { OvsSandbox } from '../testing/sandbox.js';
import { Command, fmtRuns, interleaved, loadFlows, median, ofctlTs, ovsOfctl, ROOT, timeProcess } from './common.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const TARGET_MS = 100;
const BR = 'br-small';
const FILE = join(ROOT, 'fixtures', 'seed-003', 'compute-br-tun.add-flows.txt');
const FLOWS = 13;
const EXTRA = 'table=23,priority=5,dl_vlan=9 actions=drop';

async function main(): Promise<void> {
  console.log(`start-up bench: commands on a ${FLOWS}-flow bridge, median of ${RUNS} interleaved runs, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({ bridges: [BR] });
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    await loadFlows(box, BR, FILE, FLOWS);
    const node: number[] = [];
    for (let i = 0; i < RUNS; i++) node.push((await timeProcess(process.execPath, ['-e', '0'], env)).ms);
    console.log(`\nnode -e 0 (the floor Node sets): median ${median(node).toFixed(0)} ms  runs ${fmtRuns(node)}`);
    const O = (...a: string[]): Command => ovsOfctl('-O', 'OpenFlow13', ...a);
    interface Case { name: string; ovs: Command; ours: Command; before?: () => Promise<void>; okCodes?: number[] }
    const cases: Case[] = [
      { name: 'dump-flows', ovs: O('--no-names', 'dump-flows', BR), ours: ofctlTs('dump-flows', BR) },
      { name: 'dump-flows --no-stats', ovs: O('--no-names', 'dump-flows', '--no-stats', BR), ours: ofctlTs('dump-flows', '--no-stats', BR) },
      // A flow the bridge does not hold yet (removed, untimed, before each run).
      {
        name: 'add-flow', ovs: O('add-flow', BR, EXTRA), ours: ofctlTs('add-flow', BR, EXTRA),
        before: async () => { await box.ofctl('del-flows', '--strict', box.mgmtTarget(BR), EXTRA.split(' ')[0]!); },
      },
      {
        name: 'replace-flows (no change)', ovs: O('--bundle', 'replace-flows', BR, FILE), ours: ofctlTs('replace-flows', BR, FILE),
        before: async () => { await loadFlows(box, BR, FILE, FLOWS); },
      },
      // The tools differ on whether the file's old spellings equal the switch's (README): both exits count.
      { name: 'diff-flows BRIDGE FILE', ovs: O('diff-flows', BR, FILE), ours: ofctlTs('diff-flows', BR, FILE), okCodes: [0, 1, 2] },
      { name: '--help (start-up alone)', ovs: ovsOfctl('--help'), ours: ofctlTs('--help') },
    ];
    const w = Math.max(...cases.map((c) => c.name.length));
    console.log(`${''.padEnd(w)}  ${'ofctl-ts'.padStart(8)}  ${'ovs-ofctl'.padStart(9)}`);
    for (const c of cases) {
      const r = await interleaved(c.ovs, c.ours, env, { runs: RUNS, ...(c.before ? { before: c.before } : {}), ...(c.okCodes ? { okCodes: c.okCodes } : {}) });
      const mu = median(r.ours.map((x) => x.ms));
      const mo = median(r.ovs.map((x) => x.ms));
      console.log(`${c.name.padEnd(w)}  ${`${mu.toFixed(0)} ms`.padStart(8)}  ${`${mo.toFixed(0)} ms`.padStart(9)}  ${mu <= TARGET_MS ? 'OK' : 'MISSED'} (target <= ${TARGET_MS} ms)` +
        `  ofctl-ts runs ${fmtRuns(r.ours.map((x) => x.ms))}`);
    }
  } finally {
    await box.stop();
  }
}

await main();
