// bench/firewall: issue 16 point 6, Neutron's OVS firewall at scale. The benches' large l2pop host
// (testing/l2pop-host.ts: 1000 networks with one local port each, 200 remote hosts, l2pop + ARP
// responder) with its local ports alternating between two security groups of 10 rules each, one of
// them TCP 5432 from the group itself (500 members, whose addresses br-int matches in every network
// of the group: ~1M flows). Figures, each beside its reference measured in the same run:
//   (a) render of br-int with the firewall (offline): time, flow counts; reference `ovs-ofctl
//       parse-flows` of the same flows;
//   (b) converge from an empty sandboxed OVS (userspace datapath) with the controller in its own
//       process, end to end (process start -> every flow barrier-confirmed), beside `ovs-ofctl
//       --bundle add-flows` of the very same flows into twin empty bridges; the controller's peak
//       RSS (target <= 1 GB); target <= 1.3x the reference;
//   (c) a rule added to one group -> its flows barrier-confirmed on the host, p50/p99 (<= 50 ms);
//   (d) a member joining a group (a remote port gaining it) -> the same, p50/p99 (<= 50 ms);
//   (e) the controller restarted against the converged host: time to dump and check, flow-mods
//       (issue 16 point 3: none), peak RSS.
// BENCH_SCALE=0.1 runs 100 networks and 20 remote hosts (a quick check); FIREWALL_TRIALS sets N.
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveHostState } from '../lib/state/host-state.js';
import { parseTopology } from '../lib/topology/model.js';
import { pipelineFlows, renderText } from '../pipelines/index.js';
import * as l2pop from '../testing/l2pop-host.js';
import { envWords } from '../testing/proc.js';
import { OvsSandbox } from '../testing/sandbox.js';
import { freePort } from '../testing/wait.js';
import { median, plugVmPorts, processCpuSeconds, RunResult, timeProcess } from './common.js';
import { BRIDGES, FIREWALL_PIPELINE, FromChild, ToChild } from './firewall-controller.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const NETWORKS = Math.max(2, Math.round(l2pop.NETWORKS * SCALE));
const REMOTE_HOSTS = Math.max(1, Math.round(l2pop.REMOTE_HOSTS * SCALE));
const TRIALS = Number(process.env.FIREWALL_TRIALS ?? 100);
const CHILD = fileURLToPath(new URL('./firewall-controller.js', import.meta.url));

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const ok = (v: boolean, target: string): string => `${v ? 'OK' : 'MISSED'} (target ${target})`;
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
const vmKb = (pid: number, field: 'VmRSS' | 'VmHWM'): number =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** The controller process: commands out, reports in; `next` waits for the next report of a type. */
class ControllerChild {
  // FIREWALL_NODE_ARGS (e.g. --cpu-prof) profiles the controller; FIREWALL_LOG=debug logs its every flow-mod.
  private readonly child = fork(CHILD, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, OFCTL_TS_LOG: 'warn' },
    execArgv: envWords('FIREWALL_NODE_ARGS'),
  });
  private readonly waiters: Array<[FromChild['type'], (m: FromChild) => void]> = [];
  readonly started = performance.now();
  /** The flows each bridge holds, barrier-confirmed, as last reported. */
  readonly flows = new Map<string, number>();
  /** Time spent in reconciles with changes (diff, bundle, barrier). */
  flowPartMs = 0;
  flowMods = 0;

  constructor() {
    this.child.on('message', (m: FromChild) => {
      if (m.type === 'error') throw new Error(`controller: ${m.error}`);
      if (m.type === 'reconciled') {
        this.flows.set(m.bridge, m.flows);
        if (m.flowMods > 0) {
          this.flowPartMs += m.durationMs;
          this.flowMods += m.flowMods;
        }
      }
      const i = this.waiters.findIndex(([t]) => t === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]![1](m);
    });
    this.child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGTERM') throw new Error(`the controller exited: ${code ?? signal}`);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  ask<T extends FromChild['type']>(m: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>> {
    const p = new Promise<Extract<FromChild, { type: T }>>((resolve) => this.waiters.push([reply, resolve as (m: FromChild) => void]));
    this.child.send(m);
    return p;
  }

  send(m: ToChild): void {
    this.child.send(m);
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    return exited;
  }
}

async function main(): Promise<void> {
  console.log(`firewall bench (issue 16 point 6): 1 host, ${NETWORKS} networks with a local VM port each, ${REMOTE_HOSTS} remote hosts, ` +
    `${l2pop.REMOTES_PER_NETWORK} remote ports per network, l2pop + ARP responder, local ports alternating between ${l2pop.SECURITY_GROUPS.join(' and ')} ` +
    `(10 rules each, one from the group itself)${SCALE !== 1 ? `; BENCH_SCALE=${SCALE}: NOT the issue's scale` : ''}`);
  const ovs = await OvsSandbox.start({});
  let ctl: ControllerChild | undefined;
  try {
    const host = l2pop.l2popHost({ networks: NETWORKS, remoteHosts: REMOTE_HOSTS, ovsdb: `unix:${ovs.dbSock}`, securityGroups: true });

    // (a) Offline render (ofports named in the topology), as `ofctl-ts render` does it.
    const topo = parseTopology(l2pop.l2popHost({ networks: NETWORKS, remoteHosts: REMOTE_HOSTS, ofports: true, securityGroups: true }).lines.join('\n'));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const offline = deriveHostState(topo, 'local');
    const intFlows = pipelineFlows(offline, 'br-int', FIREWALL_PIPELINE);
    const renderMs = performance.now() - t0;
    const renderCpu = cpuMs(process.cpuUsage(c0));
    const want = new Map<string, number>([['br-int', intFlows.length], ['br-tun', pipelineFlows(offline, 'br-tun', FIREWALL_PIPELINE).length]]);
    const perTable = new Map<number, number>();
    for (const f of intFlows) perTable.set(f.table, (perTable.get(f.table) ?? 0) + 1);
    console.log(`(a) render br-int with the firewall: ${want.get('br-int')} flows (br-tun ${want.get('br-tun')}) in ${renderMs.toFixed(0)} ms wall, ${renderCpu.toFixed(0)} ms CPU`);
    console.log(`    br-int flows per table: ${[...perTable].sort(([a], [b]) => a - b).map(([t, n]) => `${t}:${n}`).join(' ')}`);
    // FIREWALL_SKIP_PARSE=1 leaves out the reference (minutes at the full scale on a busy machine).
    if (!process.env.FIREWALL_SKIP_PARSE) {
      const textFile = join(ovs.dir, 'offline-br-int.flows');
      const t1 = performance.now();
      const text = renderText(offline, 'br-int', FIREWALL_PIPELINE);
      const textMs = performance.now() - t1;
      writeFileSync(textFile, `${text.join('\n')}\n`);
      text.length = 0;
      const parse = await timeProcess('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flows', textFile], process.env, { cpu: true });
      console.log(`    as sorted text ${textMs.toFixed(0)} ms more; reference: ovs-ofctl parse-flows of the same br-int text: ${parse.ms.toFixed(0)} ms wall, ${parse.cpuMs!.toFixed(0)} ms CPU`);
    }

    // (b) Converge from empty: Nova has plugged the VM ports; the controller does the rest.
    await plugVmPorts(ovs, host.localPorts);
    const listen = await freePort();
    ctl = new ControllerChild();
    const c = ctl;
    c.send({ type: 'start', lines: host.lines, ovsdb: `unix:${ovs.dbSock}`, listen });
    const converged = (): boolean => BRIDGES.every((br) => c.flows.get(br) === want.get(br));
    const deadline = Date.now() + Number(process.env.FIREWALL_CONVERGE_S ?? 3600) * 1000;
    let peakKb = 0;
    // ovs-vswitchd drops a controller that answers no echo for its inactivity probe (5 s, then 5 s
    // more): counted from its log. FIREWALL_INACTIVITY_PROBE_MS sets the Controller rows' probe as
    // soon as the controller has written them (Neutron's agent sets of_inactivity_probe, 10 s by
    // default): a diagnostic, to see past a controller busy for longer than that.
    const probe = process.env.FIREWALL_INACTIVITY_PROBE_MS;
    let probeSet = !probe;
    let nextProbeTry = 0;
    while (!converged()) {
      if (Date.now() > deadline) throw new Error(`no convergence (holds ${JSON.stringify([...c.flows])}, wants ${JSON.stringify([...want])})`);
      peakKb = Math.max(peakKb, vmKb(c.pid, 'VmHWM'));
      if (!probeSet && Date.now() > nextProbeTry) {
        nextProbeTry = Date.now() + 1000;
        const rows = (await ovs.vsctl('--bare', '--columns=_uuid', 'list', 'Controller')).split('\n').filter((l) => l.trim());
        if (rows.length >= 2) {
          for (const u of rows) await ovs.vsctl('set', 'Controller', u.trim(), `inactivity_probe=${probe}`);
          probeSet = true;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const dropped = (readFileSync(join(ovs.dir, 'ovs-vswitchd.log'), 'utf8').match(/no response to inactivity probe/g) ?? []).length;
    const convergeMs = performance.now() - c.started;
    const convergeCpu = processCpuSeconds(c.pid) * 1000;
    const rssConverged = vmKb(c.pid, 'VmRSS');
    const flowPart = c.flowPartMs;
    console.log(`(b) converged from empty OVS in ${(convergeMs / 1000).toFixed(1)} s end to end (process start -> barrier-confirmed flows), ` +
      `controller CPU ${(convergeCpu / 1000).toFixed(1)} s; ${c.flowMods} flow-mods; flow part (diff + bundles + barriers) ${(flowPart / 1000).toFixed(1)} s`);
    console.log(`    controller RSS ${(rssConverged / 1024).toFixed(0)} MB converged, peak ${(vmKb(c.pid, 'VmHWM') / 1024).toFixed(0)} MB; ` +
      `sessions ovs-vswitchd dropped for no answer to its inactivity probe: ${dropped}${probe ? ` (probe set to ${probe} ms by the bench)` : ''}` +
      `${process.env.FIREWALL_SESSION_TIMEOUT_MS ? `; the controller's session timeout set to ${process.env.FIREWALL_SESSION_TIMEOUT_MS} ms by the bench` : ''}`);

    // (c) A rule added to one group, then removed again (the next trial adds another port).
    const rule = (i: number): Record<string, unknown> => ({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 9000 + i, portRangeMax: 9000 + i, remoteIpPrefix: '192.168.0.0/16' });
    const ruleAdd: number[] = [];
    const ruleDel: number[] = [];
    const ruleMods: number[] = [];
    const ruleReconcile: number[] = [];
    const ruleBundle: number[] = [];
    const ruleCpu: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const g = l2pop.SECURITY_GROUPS[i % 2]!;
      const a = await c.ask({ type: 'event', line: l2pop.securityGroupLine(g, [rule(i)]), bridges: ['br-int'] }, 'event');
      ruleAdd.push(a.ms);
      ruleMods.push(a.flowMods);
      ruleReconcile.push(a.reconcileMs);
      ruleBundle.push(a.bundleMs);
      ruleCpu.push(a.cpuMs);
      ruleDel.push((await c.ask({ type: 'event', line: l2pop.securityGroupLine(g), bridges: ['br-int'] }, 'event')).ms);
    }
    // (d) A remote port (each trial another, in another network) gains sg-a, then leaves it.
    const remotePorts = host.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.type === 'port' && e.host !== 'local');
    const join_: number[] = [];
    const leave: number[] = [];
    const joinMods: number[] = [];
    const joinReconcile: number[] = [];
    const joinBundle: number[] = [];
    const joinCpu: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const p = remotePorts[(i * 37) % remotePorts.length]!;
      const a = await c.ask({ type: 'event', line: JSON.stringify({ ...p, securityGroups: ['sg-a'] }), bridges: ['br-int'] }, 'event');
      join_.push(a.ms);
      joinMods.push(a.flowMods);
      joinReconcile.push(a.reconcileMs);
      joinBundle.push(a.bundleMs);
      joinCpu.push(a.cpuMs);
      leave.push((await c.ask({ type: 'event', line: JSON.stringify(p), bridges: ['br-int'] }, 'event')).ms);
    }
    const peak = Math.max(peakKb, vmKb(c.pid, 'VmHWM'));
    const droppedAll = (readFileSync(join(ovs.dir, 'ovs-vswitchd.log'), 'utf8').match(/no response to inactivity probe/g) ?? []).length;

    // The very same flows, as the controller rendered them, and what one event of each kind adds.
    const dumped = await c.ask({ type: 'dump', dir: ovs.dir }, 'dumped');
    for (const br of BRIDGES) if (dumped.counts[br] !== want.get(br)) throw new Error(`${br}: the controller's state renders ${dumped.counts[br]} flows, offline ${want.get(br)}`);
    // (e) The controller restarted against the converged host (every event above undone): a new
    // process dumps both bridges, compares them with its pipelines and sends nothing.
    await ctl.stop();
    const r = new ControllerChild();
    ctl = r;
    r.send({ type: 'start', lines: host.lines, ovsdb: `unix:${ovs.dbSock}`, listen });
    let restartPeakKb = 0;
    while (!BRIDGES.every((br) => r.flows.get(br) === want.get(br))) {
      if (Date.now() > deadline) throw new Error(`the restarted controller never checked its bridges (holds ${JSON.stringify([...r.flows])})`);
      restartPeakKb = Math.max(restartPeakKb, vmKb(r.pid, 'VmHWM'));
      await new Promise((res) => setTimeout(res, 50));
    }
    const restartMs = performance.now() - r.started;
    restartPeakKb = Math.max(restartPeakKb, vmKb(r.pid, 'VmHWM'));
    const restartCpu = processCpuSeconds(r.pid) * 1000;
    const restartMods = r.flowMods;
    const ruleFile = join(ovs.dir, 'rule.flows');
    const ruleDiff = await r.ask({ type: 'diff', line: l2pop.securityGroupLine('sg-a', [rule(TRIALS)]), file: ruleFile }, 'diff');
    await r.ask({ type: 'event', line: l2pop.securityGroupLine('sg-a'), bridges: ['br-int'] }, 'event');
    const joinFile = join(ovs.dir, 'join.flows');
    const p0 = remotePorts[remotePorts.length - 1]!;
    const joinDiff = await r.ask({ type: 'diff', line: JSON.stringify({ ...p0, securityGroups: ['sg-a'] }), file: joinFile }, 'diff');
    await ctl.stop();
    ctl = undefined;

    // References, same run: ovs-ofctl --bundle add-flows of the same flows into twin empty bridges
    // of the same switch (the controller's bridges stay as they are), then each event's new flows.
    const ref: RunResult[] = [];
    for (const br of BRIDGES) {
      await ovs.addBridge(`ref-${br}`);
      ref.push(await timeProcess('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', ovs.mgmtTarget(`ref-${br}`), join(ovs.dir, `${br}.flows`)], process.env, { cpu: true, rss: true }));
    }
    const refMs = ref.reduce((s, r) => s + r.ms, 0);
    const refCpu = ref.reduce((s, r) => s + r.cpuMs!, 0);
    const refEvent = async (file: string): Promise<number[]> => {
      const undo = join(ovs.dir, 'undo.flows');
      writeFileSync(undo, readFileSync(file, 'utf8').split('\n').filter((l) => l)
        // A delete names the flow's match (cookie with a mask), without actions; not an all-ones mask,
        // which makes OVS walk every flow of the cookie (see lib/flowset/reconciler.ts STRICT_COOKIE_MASK).
        .map((l) => `delete_strict ${l.trim().replace(/^cookie=(0x[0-9a-f]+)/, 'cookie=$1/0xfffffffffffffffe').replace(/[ ,]actions=.*$/, '')}`).join('\n'));
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        ms.push((await timeProcess('ovs-ofctl', ['-O', 'OpenFlow13', '--bundle', 'add-flows', ovs.mgmtTarget('ref-br-int'), file], process.env)).ms);
        await ovs.ofctl('--bundle', 'add-flows', ovs.mgmtTarget('ref-br-int'), undo);
      }
      return ms;
    };
    const refRule = await refEvent(ruleFile);
    const refJoin = await refEvent(joinFile);

    const ratio = convergeMs / refMs;
    console.log(`    reference: ovs-ofctl --bundle add-flows of the same ${[...want.values()].reduce((s, n) => s + n, 0)} flows into twin empty bridges: ` +
      `${(refMs / 1000).toFixed(1)} s wall, ${(refCpu / 1000).toFixed(1)} s CPU (ovs-ofctl itself; ovs-vswitchd's is not counted), peak RSS ${(Math.max(...ref.map((r) => r.rssKb!)) / 1024).toFixed(0)} MB`);
    console.log(`    end to end / reference = ${ratio.toFixed(2)}x ${ok(ratio <= 1.3, '<= 1.3x')}; flow part / reference = ${(flowPart / refMs).toFixed(2)}x`);
    console.log(`    controller peak RSS ${(peak / 1024).toFixed(0)} MB (through the events below) ${ok(peak <= 1024 * 1024, '<= 1024 MB')}; ` +
      `sessions dropped by ovs-vswitchd's probe up to the end of the events: ${droppedAll}`);
    const line = (what: string, xs: number[], target?: number): string => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms` +
      (target !== undefined ? ` ${ok(pct(xs, 99) <= target, `p99 <= ${target} ms`)}` : '') + (what ? ` (${what})` : '');
    console.log(`(c) a rule added to one group -> barrier-confirmed br-int flows, ${TRIALS} trials: ${line('', ruleAdd, 50)}`);
    console.log(`    ${median(ruleMods)} flow-mods each (median); of which the reconcile (diff, bundle, barrier) ${line('', ruleReconcile)}; the rule removed again: ${line('', ruleDel)}`);
    console.log(`    of which the bundle (encoded, sent, committed and confirmed by ovs-vswitchd) ${line('', ruleBundle)}; controller CPU per event ${line('', ruleCpu)}`);
    console.log(`    reference: ovs-ofctl --bundle add-flows of the ${ruleDiff.adds} flows such a rule adds (${ruleDiff.deletes} go), process per change, 5 runs: median ${median(refRule).toFixed(1)} ms`);
    console.log(`(d) a remote port joining a group -> barrier-confirmed br-int flows, ${TRIALS} trials: ${line('', join_, 50)}`);
    console.log(`    ${median(joinMods)} flow-mods each (median); of which the reconcile ${line('', joinReconcile)}; leaving again: ${line('', leave)}`);
    console.log(`    of which the bundle ${line('', joinBundle)}; controller CPU per event ${line('', joinCpu)}`);
    console.log(`    reference: ovs-ofctl --bundle add-flows of the ${joinDiff.adds} flows such a join adds (${joinDiff.deletes} go), 5 runs: median ${median(refJoin).toFixed(1)} ms`);
    console.log(`(e) the controller restarted against the converged host: both bridges dumped and checked ${(restartMs / 1000).toFixed(1)} s after ` +
      `process start, ${restartMods} flow-mods (target 0: ${restartMods === 0 ? 'OK' : 'MISSED'}), controller CPU ${(restartCpu / 1000).toFixed(1)} s, ` +
      `peak RSS ${(restartPeakKb / 1024).toFixed(0)} MB`);
    console.log('for scale: Neutron\'s own agent queued 1.07M br-int flow-mods for this host and had not converged after 25 minutes (issue 16)');
  } finally {
    await ctl?.stop();
    await ovs.stop();
  }
}

await main();
