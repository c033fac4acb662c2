// Fault: the controller process is SIGKILLed in the middle of a large sync (a topology change worth
// ~20k flow-mods, sent in one bundle) and started again. What was installed correctly before must
// never be absent: OVS discards the uncommitted bundle of the dead session, and the restarted
// controller diffs before it touches anything. ovs-ofctl monitor watches every flow event meanwhile.
import { expect } from 'chai';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { runCli } from '../../testing/run-cli.js';
import { ControllerProcess } from '../../testing/controller-process.js';
import { hostLines, networkLines, plugLocalPorts, removeRemotePortLines } from '../../testing/big-topology.js';
import { dumpLineKey, FlowMonitor } from '../../testing/flow-monitor.js';

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
    writeFileSync(topo, [...hostLines(`unix:${ovs.dbSock}`), ...networkLines(0, 300), ''].join('\n'));
    await plugLocalPorts(ovs, 0, 900); // the VMs of both topologies run already
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
    const mark = first.mark();
    appendFileSync(topo, [...removeRemotePortLines(0, 20), ...networkLines(300, 900), ''].join('\n'));
    await first.waitForLine((l) => l.bridge === 'br-tun' && typeof l.sent === 'number' && l.sent > 0 && l.sent < (l.total as number), 'the big sync to be under way', mark);
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
    //    ports' flows; every flow new in the final set was seen added (the two texts' keys agree).
    for (const [bridge, mon] of [['br-tun', monTun], ['br-int', monInt]] as const) {
      const beforeKeys = new Set(before[bridge].map(dumpLineKey));
      const finalKeys = new Set(wantAfter[bridge].map(dumpLineKey));
      const keptKeys = new Set([...beforeKeys].filter((k) => finalKeys.has(k)));
      const events = mon.events;
      const lost = events.filter((e) => e.event === 'DELETED' && keptKeys.has(e.key));
      expect(lost.map((e) => e.key), `${bridge}: flows correct before and after, deleted meanwhile`).to.deep.equal([]);
      const added = events.filter((e) => e.event === 'ADDED');
      const addedKeys = new Set(added.map((e) => e.key));
      expect([...finalKeys].filter((k) => !beforeKeys.has(k) && !addedKeys.has(k)), `${bridge}: new flows never seen added`).to.deep.equal([]);
      if (bridge === 'br-tun') {
        expect(keptKeys.size).to.be.above(8000);
        expect(added.length).to.be.above(15_000);
        expect(events.filter((e) => e.event === 'DELETED').length).to.be.above(300);
      }
    }
  });
});
