// The memory figure of the switch simulator (not a test: no assertions, run by hand):
//   node --expose-gc dist/test/sim/memory-figure.js [SWITCHES=2000]
// SWITCHES simulated switches run in this process; our controller side runs in a child process
// (listener + one atomic bundle per switch), so only the simulators' memory is counted here. Each
// switch receives the br-tun of an l2pop + ARP-responder host (~950 flows, rendered by the
// project's pipeline). Prints heap and RSS per switch, empty and holding the flows.
import { ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { startSimSwitches, stopSimSwitches } from '../../testing/sim/fleet.js';
import type { SimSwitch } from '../../testing/sim/sim-switch.js';
import { applyFlowMods } from '../../lib/switch/flow-ops.js';
import { listen } from '../../lib/switch/listener.js';
import { Topology } from '../../lib/topology/model.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { freePort } from '../../testing/wait.js';

const mac = (n: number): string => `fa:16:3e:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

/** A host in 40 networks with 10 remote ports each on 50 remote hosts: ~950 br-tun flows. */
function brTunFlows(): string[] {
  const t = new Topology();
  t.apply({ type: 'host', name: 'local', tunnelIp: '10.200.0.1' });
  for (let h = 0; h < 50; h++) t.apply({ type: 'host', name: `r${h}`, tunnelIp: `10.201.0.${h + 1}` });
  let port = 0;
  for (let n = 0; n < 40; n++) {
    t.apply({ type: 'network', id: `net${n}`, vni: 5000 + n });
    const addPort = (host: string, k: number): void => {
      t.apply({ type: 'port', id: `p${port}`, network: `net${n}`, host, mac: mac(++port), fixedIps: [`10.0.${n}.${k + 10}`], allowedAddressPairs: [], portSecurity: true, securityGroups: [] });
    };
    addPort('local', 0);
    for (let k = 0; k < 10; k++) addPort(`r${(n * 7 + k * 13) % 50}`, k + 1);
  }
  return renderText(deriveHostState(t, 'local'), 'br-tun', pipelineOptions({ profile: 'neutron', l2pop: true, arpResponder: true }));
}

/** Child: listens, and on "push" sends every session its flows in one bundle. */
async function controllerChild(port: number): Promise<void> {
  const mods = brTunFlows().map((l) => parseFlow(l.trim()));
  const l = await listen({ kind: 'tcp', host: '127.0.0.1', port }, { echoIntervalMs: 60_000 });
  const sessions: Array<Parameters<typeof applyFlowMods>[0]> = [];
  l.sessions$.subscribe((c) => sessions.push(c));
  process.send!({ flows: mods.length });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'push') continue;
    const t0 = performance.now();
    for (let i = 0; i < sessions.length; i += 50) await Promise.all(sessions.slice(i, i + 50).map((c) => applyFlowMods(c, mods)));
    process.send!({ pushedMs: performance.now() - t0 });
  }
}

function measure(): { heap: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

function waitFor(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      }
    }, 50);
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--controller') return controllerChild(Number(process.argv[3]));
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc');
  const n = Number(process.argv[2] ?? 2000);
  const port = await freePort();
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--controller', String(port)], { stdio: ['pipe', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<Record<string, number>> => new Promise((r) => child.once('message', (m) => r(m as Record<string, number>)));
  const { flows } = await next();
  const base = measure();
  const switches: SimSwitch[] = startSimSwitches(n, `tcp:127.0.0.1:${port}`, 0x10000n, { maxBackoffMs: 2000 });
  await waitFor(() => switches.every((s) => s.connected));
  const empty = measure();
  const pushed = next();
  child.stdin!.write('push\n');
  const { pushedMs } = await pushed;
  await waitFor(() => switches.every((s) => s.flows.size === flows));
  const full = measure();
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;
  const kb = (b: number): string => `${(b / 1024).toFixed(1)} KB`;
  console.log(`${n} simulated switches, ${flows} flows each (${n * flows!} flows), pushed in ${(pushedMs! / 1000).toFixed(1)} s`);
  console.log(`connected, empty: heap +${mb(empty.heap - base.heap)} (${kb((empty.heap - base.heap) / n)}/switch), rss +${mb(empty.rss - base.rss)}`);
  console.log(`holding the flows: heap +${mb(full.heap - base.heap)} (${kb((full.heap - base.heap) / n)}/switch, ` +
    `${((full.heap - empty.heap) / (n * flows!)).toFixed(0)} B/flow), rss ${mb(full.rss)} (+${mb(full.rss - base.rss)}, ${kb((full.rss - base.rss) / n)}/switch)`);
  await stopSimSwitches(switches);
  child.kill();
}

await main();
