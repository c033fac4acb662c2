// Fault: the controller process is SIGKILLed in the middle of a large sync (a topology change worth
// ~20k flow-mods, sent in one bundle) and started again. What was installed correctly before must
// never be absent: OVS discards the uncommitted bundle of the dead session, and the restarted
// controller diffs before it touches anything. ovs-ofctl monitor watches every flow event meanwhile.
import { expect } from 'chai';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../ovs/sandbox.js';
import { eventually, freePort } from '../ovs/wait.js';
import { runCli } from '../cli/run-cli.js';
import { ControllerProcess } from './controller-process.js';
import { dumpLineKey, FlowMonitor } from './flow-monitor.js';

const REMOTE_HOSTS = 40;
const REMOTES_PER_NETWORK = 15;

function mac(n: number): string {
  return `fa:16:3e:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

/** Networks [from, to): one local port each and REMOTES_PER_NETWORK remote ones. */
function networks(from: number, to: number): string[] {
  const lines: string[] = [];
  for (let n = from; n < to; n++) {
    lines.push(JSON.stringify({ type: 'network', id: `net${n}`, vni: 5000 + n }));
    for (let k = 0; k <= REMOTES_PER_NETWORK; k++) {
      const host = k === 0 ? 'local' : `r${(n * 7 + k * 13) % REMOTE_HOSTS}`;
      const p = n * 100 + k;
      lines.push(JSON.stringify({ type: 'port', id: `p${p}`, network: `net${n}`, host, mac: mac(p), fixedIps: [`10.${n >> 8}.${n & 255}.${k + 10}`] }));
    }
  }
  return lines;
}

describe('fault: controller SIGKILLed during a large sync', function () {
  this.timeout(180_000);
  let ovs: OvsSandbox;
  const procs: ControllerProcess[] = [];
  const monitors: FlowMonitor[] = [];
  after(async () => {
    monitors.forEach((m) => m.stop());
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await ovs?.stop();
  });

  it('restarted, it converges, and no flow that was correct before is ever absent', async () => {
    ovs = await OvsSandbox.start({});
    const of = await freePort();
    const topo = join(ovs.dir, 'topology.jsonl');
    const hosts = [`{"type":"host","name":"local","tunnelIp":"10.200.0.1","ovsdb":"unix:${ovs.dbSock}"}`];
    for (let h = 0; h < REMOTE_HOSTS; h++) hosts.push(`{"type":"host","name":"r${h}","tunnelIp":"10.201.0.${h + 1}"}`);
    writeFileSync(topo, [...hosts, ...networks(0, 300), ''].join('\n'));
    const args = ['--listen', `tcp:127.0.0.1:${of}`, '--topology', topo, '--datapath-type', 'netdev', '--l2pop', '--arp-responder'];
    const want = async (bridge: string): Promise<string[]> => {
      const r = await runCli(['render', '--topology', topo, '--host', 'local', '--bridge', bridge, '--l2pop', '--arp-responder']);
      expect(r.code, r.stderr).to.equal(0);
      return r.stdout.split('\n').filter((l) => l);
    };
    const converged = async (c: ControllerProcess, bridge: string, flows: string[]): Promise<void> => eventually(
      async () => (await ovs.dumpFlowsSorted(bridge)).join('\n') === flows.join('\n'), `${bridge} to hold the rendered flows`, 90_000, c.alive, 250);

    // 1. A first controller converges the first topology (~10k br-tun flows).
    const first = ControllerProcess.start(args);
    procs.push(first);
    const wantBefore = { 'br-tun': await want('br-tun'), 'br-int': await want('br-int') };
    expect(wantBefore['br-tun'].length).to.be.above(9000);
    await converged(first, 'br-tun', wantBefore['br-tun']);
    await converged(first, 'br-int', wantBefore['br-int']);
    const before = { 'br-tun': await ovs.dumpFlowsSorted('br-tun'), 'br-int': await ovs.dumpFlowsSorted('br-int') };
    monitors.push(await FlowMonitor.start(ovs, 'br-tun'), await FlowMonitor.start(ovs, 'br-int'));
    const [monTun, monInt] = monitors as [FlowMonitor, FlowMonitor];

    // 2. A large change: 600 more networks (~20k flow-mods), and 20 networks' remote ports removed
    //    (their flows must go: the negative control that the monitor reports deletions; the local
    //    ports stay, so no VLAN is freed and `render` still names the VLANs the controller keeps).
    //    The controller is killed once it reports the first part of that bundle sent.
    const removed: string[] = [];
    for (let n = 0; n < 20; n++) for (let k = 1; k <= REMOTES_PER_NETWORK; k++) removed.push(JSON.stringify({ type: 'remove', kind: 'port', id: `p${n * 100 + k}` }));
    appendFileSync(topo, [...removed, ...networks(300, 900), ''].join('\n'));
    await first.waitForLine((l) => l.bridge === 'br-tun' && typeof l.sent === 'number' && l.sent > 0 && l.sent < (l.total as number), 'the big sync to be under way');
    expect(await first.kill('SIGKILL')).to.equal(-1);
    const afterKill = await ovs.dumpFlowsSorted('br-tun');
    const wantAfter = { 'br-tun': await want('br-tun'), 'br-int': await want('br-int') };
    // The kill did land mid-sync: the switch does not hold the new flow set yet.
    expect(afterKill.length).to.be.below(wantAfter['br-tun'].length);

    // 3. A new controller converges the whole new topology.
    const second = ControllerProcess.start(args);
    procs.push(second);
    await converged(second, 'br-tun', wantAfter['br-tun']);
    await converged(second, 'br-int', wantAfter['br-int']);
    expect(await second.kill('SIGTERM')).to.equal(0);

    // 4. Every flow correct before and after was never deleted; the deletions seen are the removed
    //    networks' flows; every flow added is one of the final set (the key parser is sound).
    for (const [bridge, mon] of [['br-tun', monTun], ['br-int', monInt]] as const) {
      const finalKeys = new Set(wantAfter[bridge].map(dumpLineKey));
      const keptKeys = new Set(before[bridge].map(dumpLineKey).filter((k) => finalKeys.has(k)));
      const events = mon.events;
      const lost = events.filter((e) => e.event === 'DELETED' && keptKeys.has(e.key));
      expect(lost.map((e) => e.key), `${bridge}: flows correct before and after, deleted meanwhile`).to.deep.equal([]);
      const added = events.filter((e) => e.event === 'ADDED');
      expect(added.filter((e) => !finalKeys.has(e.key)).map((e) => e.key), `${bridge}: added flows not in the final set`).to.deep.equal([]);
      if (bridge === 'br-tun') {
        expect(keptKeys.size).to.be.above(8000);
        expect(added.length).to.be.above(15_000);
        expect(events.filter((e) => e.event === 'DELETED').length).to.be.above(300);
      }
    }
  });
});
