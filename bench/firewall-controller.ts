// The controller of bench/firewall in a process of its own (forked, commands over the IPC channel),
// so that its CPU and peak RSS are its own: the bench's renders and OVS's reference stay outside.
//   start {lines, ovsdb, listen}  the topology, then Controller.start(); every reconcile is reported
//   event {line, bridges}         applies one topology line and answers once the host's pass is done
//                                 (each named bridge committed a change, barrier-confirmed): the latency
//   dump {dir}                    writes the flows of the state converged to, `<dir>/<bridge>.flows`
//   diff {line, file}             (untimed) the flows one event adds, as the text add-flows reads
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../lib/controller/controller.js';
import { createLogger } from '../lib/log.js';
import type { ReconcileResult } from '../lib/flowset/reconciler.js';
import type { HostState } from '../lib/state/host-state.js';
import { TopologyStore } from '../lib/topology/store.js';
import { byteOrder, pipelineDesired } from '../pipelines/index.js';
import { formatFlow } from '../codecs/ofctl/format-flow.js';
import type { Flow } from '../codecs/openflow/flow.js';
import { pipelineOptions } from '../pipelines/options.js';

export type ToChild =
  | { readonly type: 'start'; readonly lines: readonly string[]; readonly ovsdb: string; readonly listen: number }
  | { readonly type: 'event'; readonly line: string; readonly bridges: readonly string[] }
  | { readonly type: 'dump'; readonly dir: string }
  | { readonly type: 'diff'; readonly line: string; readonly file: string };

export type FromChild =
  | { readonly type: 'reconciled'; readonly bridge: string; readonly flowMods: number; readonly durationMs: number; readonly flows: number }
  | { readonly type: 'event'; readonly ms: number; readonly flowMods: number; readonly reconcileMs: number; readonly bundleMs: number; readonly cpuMs: number }
  | { readonly type: 'dumped'; readonly counts: Record<string, number> }
  | { readonly type: 'diff'; readonly adds: number; readonly deletes: number }
  | { readonly type: 'error'; readonly error: string };

/** The controller's pipeline in this bench: l2pop, ARP responder and Neutron's OVS firewall. */
export const FIREWALL_PIPELINE = pipelineOptions({ l2pop: true, arpResponder: true, firewall: 'openvswitch' });
export const BRIDGES = ['br-int', 'br-tun'] as const;

const send = (m: FromChild): void => void process.send!(m);
const store = new TopologyStore();
let ctl: Controller | undefined;
/** Sees the reconciles of an event. */
let watching: ((bridge: string, r: ReconcileResult) => void) | undefined;

function applyOrThrow(line: string): void {
  const r = store.applyLine(line, 'bench');
  if (!r.ok) throw new Error(`rejected: ${r.error}: ${line}`);
}

/**
 * Applies the line and resolves once the host's passes are done (the topology reaches the agent
 * synchronously, so its pass runs from here): every change barrier-confirmed. Each named bridge
 * must have committed one.
 */
async function event(line: string, bridges: readonly string[]): Promise<{ flowMods: number; reconcileMs: number; bundleMs: number; cpuMs: number }> {
  const changed = new Set<string>();
  let flowMods = 0;
  let reconcileMs = 0;
  let bundleMs = 0;
  const cpu0 = process.cpuUsage();
  watching = (bridge, r) => {
    if (r.flowMods === 0) return;
    changed.add(bridge);
    flowMods += r.flowMods;
    reconcileMs = Math.max(reconcileMs, r.durationMs);
    bundleMs = Math.max(bundleMs, r.bundleMs);
  };
  try {
    applyOrThrow(line);
    await ctl!.agents.get('local')!.idle();
  } finally {
    watching = undefined;
  }
  const missing = bridges.filter((b) => !changed.has(b));
  if (missing.length) throw new Error(`${missing.join(', ')} committed no change for ${line}`);
  const cpu = process.cpuUsage(cpu0);
  return { flowMods, reconcileMs, bundleMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * The state's flows as sorted canonical text (what renderText gives), built a few thousand flows at
 * a time: the controller's sessions stay answered while a million flows are printed (a blocking
 * render here made ovs-vswitchd drop them, and the reconnect's re-dump spoiled the run).
 */
async function flowText(s: HostState, bridge: (typeof BRIDGES)[number]): Promise<string[]> {
  const d = pipelineDesired(s, bridge, FIREWALL_PIPELINE);
  const lines: string[] = [];
  const add = async (f: Flow): Promise<void> => {
    lines.push(` ${formatFlow(f)}`);
    if (lines.length % 5000 === 0) await new Promise((r) => setImmediate(r));
  };
  for (const f of d.flows) await add(f);
  for (const fam of d.families) for (const f of fam.flows()) await add(f);
  return lines.sort(byteOrder);
}

function state(): HostState {
  const s = ctl?.agents.get('local')?.state;
  if (!s) throw new Error('no host state yet');
  return s;
}

async function handle(m: ToChild): Promise<void> {
  switch (m.type) {
    case 'start': {
      for (const l of m.lines) applyOrThrow(l);
      ctl = new Controller(store, {
        listen: { kind: 'tcp', host: '127.0.0.1', port: m.listen }, pipeline: FIREWALL_PIPELINE,
        // FIREWALL_LOG (a diagnostic): the controller's log at that level, on stderr.
        ...(process.env.FIREWALL_LOG ? { log: createLogger('controller', process.env.FIREWALL_LOG, process.stderr) } : {}),
        // FIREWALL_SESSION_TIMEOUT_MS (a diagnostic): the sessions' request timeout (15 s by default)
        // and echo interval (5 s, silence for twice that closes): ovs-vswitchd committing a bundle of
        // 1M flows answers nothing for longer.
        ...(process.env.FIREWALL_SESSION_TIMEOUT_MS ? {
          session: { requestTimeoutMs: Number(process.env.FIREWALL_SESSION_TIMEOUT_MS), echoIntervalMs: Number(process.env.FIREWALL_SESSION_TIMEOUT_MS) / 2 },
        } : {}),
        setup: { controllerTarget: `tcp:127.0.0.1:${m.listen}`, datapathType: 'netdev', maxBackoffMs: 1000 },
        onReconciled: (_h, bridge, r) => {
          watching?.(bridge, r);
          send({ type: 'reconciled', bridge, flowMods: r.flowMods, durationMs: r.durationMs, flows: ctl!.status().hosts[0]!.bridges[bridge]!.flows });
        },
      });
      await ctl.start();
      return;
    }
    case 'event': {
      const t0 = performance.now();
      const r = await event(m.line, m.bridges);
      send({ type: 'event', ms: performance.now() - t0, ...r });
      return;
    }
    case 'dump': {
      const counts: Record<string, number> = {};
      for (const br of BRIDGES) {
        const text = await flowText(state(), br);
        writeFileSync(join(m.dir, `${br}.flows`), `${text.join('\n')}\n`);
        counts[br] = text.length;
      }
      send({ type: 'dumped', counts });
      return;
    }
    case 'diff': {
      const before = new Set(await flowText(state(), 'br-int'));
      await event(m.line, ['br-int']);
      const after = await flowText(state(), 'br-int');
      const adds = after.filter((l) => !before.has(l));
      for (const l of after) before.delete(l);
      writeFileSync(m.file, `${adds.join('\n')}\n`);
      send({ type: 'diff', adds: adds.length, deletes: before.size });
    }
  }
}

// Commands run one at a time, in order.
let queue = Promise.resolve();
process.on('message', (m: ToChild) => {
  queue = queue.then(() => handle(m)).catch((err: unknown) => send({ type: 'error', error: err instanceof Error ? err.stack ?? err.message : String(err) }));
});
process.on('SIGTERM', () => void (ctl?.stop() ?? Promise.resolve()).finally(() => process.exit(0)));
