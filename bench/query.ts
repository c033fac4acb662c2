// The read commands (issue 15, point 4: each within 1.2x of ovs-ofctl on a 48k-flow bridge):
// `ovs-ofctl -O OpenFlow13 --no-names CMD br-q …` vs ours, whole process each (Node's start-up
// included), stdout to /dev/null, runs interleaved, medians, CPU time beside. Both outputs are
// compared first (xids and durations masked). Ours is the bin, as an operator runs it.
// dump-aggregate and dump-tables are the ones whose cost grows with the flows (vswitchd counts them).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { OvsSandbox } from '../testing/sandbox.js';
import { capture, compareOutputs, Figure, interleaved, loadFlows, ofctlTs, ovsOfctl, printComparison, printCpu, printSummary } from './common.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = 1.2;
const FLOWS = 48_000;
const BRIDGE = 'br-q';

/** 48k l2pop-shaped flows over five tables: unicast to remote MACs, flooding, ARP replies, classification. */
function flowFile(dir: string): string {
  const lines: string[] = [];
  const mac = (i: number): string => `fa:16:3e:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
  for (let i = 0; i < 30_000; i++) {
    lines.push(`table=20,priority=2,dl_vlan=${(i % 1000) + 1},dl_dst=${mac(i)},actions=strip_vlan,load:0x${(i % 1000 + 100).toString(16)}->NXM_NX_TUN_ID[],output:${(i % 200) + 2}`);
  }
  for (let i = 0; i < 12_000; i++) {
    lines.push(`table=21,priority=1,arp,dl_vlan=${(i % 1000) + 1},arp_tpa=10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff},actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:${mac(i)},load:0x2->NXM_OF_ARP_OP[],IN_PORT`);
  }
  for (let i = 0; i < 4_000; i++) lines.push(`table=4,priority=1,tun_id=0x${(i + 100).toString(16)},actions=mod_vlan_vid:${(i % 4000) + 1},resubmit(,10)`);
  for (let i = 0; i < 1_999; i++) lines.push(`table=22,priority=1,dl_vlan=${i + 1},actions=strip_vlan,set_tunnel:0x${(i + 100).toString(16)},output:2,output:3,output:4`);
  lines.push('table=0,priority=0,actions=drop');
  const file = join(dir, 'query-48k.flows');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const CASES: ReadonlyArray<readonly string[]> = [
  ['show'], ['dump-desc'], ['dump-ports'], ['dump-ports', '2'], ['dump-ports-desc'], ['dump-tables'], ['dump-table-features'],
  ['dump-aggregate'], ['dump-aggregate', 'table=20,dl_vlan=7'], ['queue-stats'],
];

async function main(): Promise<void> {
  console.log(`read commands bench: median of ${RUNS} interleaved runs, node ${process.version}, nproc=${cpus().length}`);
  const box = await OvsSandbox.start({ bridges: [BRIDGE] });
  const figures: Figure[] = [];
  try {
    const env = { ...process.env, OVS_RUNDIR: box.dir };
    for (let p = 2; p <= 5; p++) await box.vsctl('add-port', BRIDGE, `p${p}`, '--', 'set', 'Interface', `p${p}`, `ofport_request=${p}`);
    const ms = await loadFlows(box, BRIDGE, flowFile(box.dir), FLOWS);
    console.log(`${BRIDGE}: ${FLOWS} flows loaded (ovs-ofctl --bundle add-flows) in ${ms.toFixed(0)} ms`);
    const mask = (l: string): string => l.replace(/xid=0x[0-9a-f]+/g, 'xid=*').replace(/duration=[0-9.]+s/g, 'duration=*');
    for (const [cmd, ...rest] of CASES) {
      const label = [cmd!, ...rest].join(' ');
      const ovs = ovsOfctl('-O', 'OpenFlow13', '--no-names', cmd!, BRIDGE, ...rest);
      const ours = ofctlTs('--no-names', cmd!, BRIDGE, ...rest);
      console.log(`\n${label}: outputs ${compareOutputs(capture(ovs, env).stdout, capture(ours, env).stdout, { mask })}`);
      const r = await interleaved(ovs, ours, env, { runs: RUNS, cpu: true });
      figures.push(printComparison(label, `ovs-ofctl -O OpenFlow13 --no-names ${label}`, `ofctl-ts ${label}`, r, TARGET));
      printCpu(r);
    }
    printSummary('read commands', figures);
  } finally {
    await box.stop();
  }
}

await main();
