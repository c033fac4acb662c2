// What a big atomic bundle costs ovs-vswitchd (OVS 3.1, sandbox), per message: the figure behind
// OfConnection's per-message allowance (lib/switch/connection.ts, DEFAULT_PER_MESSAGE_MS).
//   node dist/scripts/bundle-cost.js [N...]      default 100000
// For each N, firewall member flows as Neutron's remote groups make them (table 82, one per network
// and member IP, two conjunction actions) into an empty br-int:
//   ofctl  `ovs-ofctl --bundle add-flows` of the same flows: wall and ovs-vswitchd CPU
//   ours   OPEN + N adds + barrier (the switch receiving and checking the adds), then COMMIT alone
//          (the switch silent: answering nothing, not even echo, until it is done): wall and CPU;
//          and the longest our event loop went without a turn meanwhile (wall), a lazy generator
//          parsing each flow as it is sent
//   deletes the same for a bundle of N/10 strict deletes of those flows (as the reconciler's)
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseFlow } from '../codecs/ofctl/parse-flow.js';
import {
  FlowModMessage, OFPBCT_COMMIT_REQUEST, OFPBCT_OPEN_REQUEST, OFPBF_ATOMIC, OFPBF_ORDERED, OFPFC_DELETE_STRICT, OfMessage,
} from '../codecs/openflow/messages.js';
import type { OfConnection, Outgoing } from '../lib/switch/connection.js';
import { connectSwitch } from '../lib/switch/target.js';
import { memberFlow } from '../testing/member-flows.js';
import { processCpuSeconds } from '../testing/proc.js';
import { OvsSandbox } from '../testing/sandbox.js';

const run = promisify(execFile);

/** ovs-vswitchd's CPU time so far (ms), from /proc. */
function cpuMs(pid: number): number {
  return processCpuSeconds(pid) * 1000;
}

interface Cost { wall: number; cpu: number }

/** One bundle of `n` messages made lazily by `make`: OPEN + adds + barrier, then COMMIT alone, each timed. */
async function timedBundle(
  conn: OfConnection, pid: number, bundleId: number, n: number, make: (i: number) => FlowModMessage,
): Promise<{ send: Cost; commit: Cost; maxGap: number }> {
  const flags = OFPBF_ATOMIC | OFPBF_ORDERED;
  const control = (ctrlType: number): Outgoing => ({ type: 'bundle_control', bundleId, ctrlType, flags, properties: Buffer.alloc(0) });
  const mods = (function* (): Generator<Outgoing> {
    for (let i = 0; i < n; i++) yield { type: 'bundle_add', bundleId, flags, message: make(i) as OfMessage };
  })();
  let last = performance.now();
  let maxGap = 0;
  const tick = setInterval(() => {
    maxGap = Math.max(maxGap, performance.now() - last);
    last = performance.now();
  }, 5);
  const timed = async (f: () => Promise<unknown>): Promise<Cost> => {
    const [c0, t0] = [cpuMs(pid), performance.now()];
    await f();
    return { wall: performance.now() - t0, cpu: cpuMs(pid) - c0 };
  };
  try {
    const send = await timed(async () => {
      await conn.request(control(OFPBCT_OPEN_REQUEST));
      await conn.sendMany(mods);
      await conn.barrier();
    });
    const commit = await timed(() => conn.request(control(OFPBCT_COMMIT_REQUEST)));
    return { send, commit, maxGap };
  } finally {
    clearInterval(tick);
  }
}

async function measure(n: number): Promise<void> {
  const ovs = await OvsSandbox.start({ bridges: ['br-int'] });
  try {
    const pid = Number(readFileSync(join(ovs.dir, 'ovs-vswitchd.pid'), 'utf8').trim());
    const file = join(ovs.dir, 'flows.txt');
    writeFileSync(file, Array.from({ length: n }, (_, i) => memberFlow(i)).join('\n') + '\n');
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    await run('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', ovs.mgmtTarget('br-int'), file], { env: { ...process.env, OVS_RUNDIR: ovs.dir } });
    const ofctl = { wall: performance.now() - t0, cpu: cpuMs(pid) - c0 };
    await ovs.ofctl('del-flows', ovs.mgmtTarget('br-int'));

    const conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') }, { requestTimeoutMs: 3_600_000, echoIntervalMs: 3_600_000 });
    const adds = await timedBundle(conn, pid, 7, n, (i) => parseFlow(memberFlow(i)));
    const count = async (): Promise<string | undefined> => (await ovs.ofctl('dump-aggregate', ovs.mgmtTarget('br-int'))).match(/flow_count=(\d+)/)?.[1];
    const afterAdds = await count();
    const dels = await timedBundle(conn, pid, 8, n / 10, (i) => ({ ...parseFlow(memberFlow(10 * i)), command: OFPFC_DELETE_STRICT }));
    conn.close('done');
    const us = (ms: number, k: number): string => `${((ms * 1000) / k).toFixed(1)} µs`;
    console.log(`${n} adds (${afterAdds} flows after): ovs-ofctl --bundle add-flows ${ofctl.wall.toFixed(0)} ms wall, vswitchd ${ofctl.cpu.toFixed(0)} ms CPU `
      + `(${us(ofctl.cpu, n)}/flow); ours: adds+barrier ${adds.send.wall.toFixed(0)} ms wall, vswitchd ${adds.send.cpu.toFixed(0)} ms CPU (${us(adds.send.cpu, n)}/add); `
      + `commit ${adds.commit.wall.toFixed(0)} ms wall, vswitchd ${adds.commit.cpu.toFixed(0)} ms CPU (${us(adds.commit.wall, n)}/add wall); `
      + `our loop's longest wait for a turn ${adds.maxGap.toFixed(0)} ms`);
    console.log(`  then ${n / 10} strict deletes (${await count()} flows after): taken ${dels.send.wall.toFixed(0)} ms wall, vswitchd ${dels.send.cpu.toFixed(0)} ms CPU `
      + `(${us(dels.send.cpu, n / 10)}/delete); commit ${dels.commit.wall.toFixed(0)} ms wall, vswitchd ${dels.commit.cpu.toFixed(0)} ms CPU (${us(dels.commit.wall, n / 10)}/delete wall)`);
  } finally {
    await ovs.stop();
  }
}

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length ? sizes : [100_000]) await measure(n);
