// Fault: the controller's topology file is corrupted while the controller is down (a trailing comma
// in a port line, an unknown member in another). Started again, the controller must not act on the
// rest: it exits non-zero naming each bad line, and every VM port's tag and every flow of both
// hosts is as it was. With --allow-partial it runs, but the host the bad port line names is frozen
// (untouched) until a corrected line arrives, while the other host is served.
import { expect } from 'chai';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { runCli } from '../../testing/run-cli.js';
import { ControllerProcess } from '../../testing/controller-process.js';

interface HostStatus { host: string; bridges: Record<string, { connected: boolean; lastReconcile?: { flowMods: number } }> }

describe('fault: the topology file is corrupted while the controller is down', function () {
  this.timeout(120_000);
  let a: OvsSandbox;
  let b: OvsSandbox;
  let topo: string;
  let args: string[];
  let lines: string[];
  let held: Record<'a' | 'b', string[]>;
  const procs: ControllerProcess[] = [];
  // Each VM on a pinned ofport, named in its topology line too: `render` (offline) then knows it is plugged there.
  const PLUG = [['a', 'tap-a', 'vm-a', 'fa:16:3e:00:00:0a', 11], ['a', 'tap-a3', 'vm-a3', 'fa:16:3e:00:00:a3', 12],
    ['b', 'tap-b', 'vm-b', 'fa:16:3e:00:00:0b', 11], ['b', 'tap-b2', 'vm-b2', 'fa:16:3e:00:00:b2', 12]] as const;
  const box = (h: 'a' | 'b'): OvsSandbox => (h === 'a' ? a : b);

  /** What a host holds: each VM port's tag and recorded VLAN, the tunnels, both bridges' flows. */
  const state = async (h: 'a' | 'b'): Promise<string[]> => {
    const ovs = box(h);
    const ports = (await ovs.vsctl('--format=csv', '--no-headings', '--columns=name,tag,other_config', 'list', 'Port'))
      .split('\n').filter((l) => l.startsWith('tap-')).sort();
    return [...ports, `br-tun ports: ${(await ovs.vsctl('list-ports', 'br-tun')).trim().replace(/\n/g, ' ')}`,
      ...(await ovs.dumpFlowsSorted('br-int')), ...(await ovs.dumpFlowsSorted('br-tun'))];
  };
  const rendered = async (h: 'a' | 'b', bridge: string): Promise<string[]> => {
    const r = await runCli(['render', '--topology', topo, '--host', h, '--bridge', bridge, '--l2pop', '--arp-responder']);
    expect(r.code, r.stderr).to.equal(0);
    return r.stdout.split('\n').filter((l) => l);
  };

  before(async () => {
    [a, b] = await Promise.all([OvsSandbox.start({}), OvsSandbox.start({})]);
    topo = join(a.dir, 'topology.jsonl');
    lines = [
      `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${a.dbSock}"}`,
      `{"type":"host","name":"b","tunnelIp":"10.250.0.2","ovsdb":"unix:${b.dbSock}"}`,
      '{"type":"network","id":"red","vni":1001}',
      '{"type":"network","id":"green","vni":1003}',
      '{"type":"network","id":"blue","vni":1002}',
      '{"type":"port","id":"vm-a","network":"red","host":"a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.251.0.1"],"ofport":11}',
      '{"type":"port","id":"vm-b","network":"red","host":"b","mac":"fa:16:3e:00:00:0b","fixedIps":["10.251.0.2"],"ofport":11}',
      // green is a's alone: freezing what vm-a3 names freezes host a only.
      '{"type":"port","id":"vm-a3","network":"green","host":"a","mac":"fa:16:3e:00:00:a3","fixedIps":["10.253.0.1"],"ofport":12}',
      '{"type":"port","id":"vm-b2","network":"blue","host":"b","mac":"fa:16:3e:00:00:b2","fixedIps":["10.252.0.2"],"ofport":12}',
    ];
    writeFileSync(topo, `${lines.join('\n')}\n`);
    args = ['--listen', `tcp:127.0.0.1:${await freePort()}`, '--topology', topo, '--datapath-type', 'netdev', '--l2pop', '--arp-responder'];
    const first = ControllerProcess.start(args);
    procs.push(first);
    // Nova plugs the VMs once the bridges exist; the controller tags them and converges.
    await eventually(async () => (await a.vsctl('list-br')).includes('br-int') && (await b.vsctl('list-br')).includes('br-int'), 'br-int on both hosts', 20_000, first.alive);
    for (const [h, tap, id, mac, ofport] of PLUG) {
      await box(h).vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap, 'type=internal', `external_ids:iface-id=${id}`,
        `external_ids:attached-mac="${mac}"`, `ofport_request=${ofport}`);
    }
    for (const h of ['a', 'b'] as const) {
      for (const br of ['br-int', 'br-tun']) {
        const want = await rendered(h, br);
        await eventually(async () => (await box(h).dumpFlowsSorted(br)).join('\n') === want.join('\n'), `${h} ${br} to converge`, 30_000, first.alive);
      }
    }
    expect(await first.kill('SIGTERM')).to.equal(0);
    held = { a: await state('a'), b: await state('b') };
    // What is compared: 4 tagged VM ports, tunnels, and the flows of 4 bridges.
    for (const h of ['a', 'b'] as const) {
      const tags = held[h].filter((l) => l.startsWith('tap-'));
      expect(tags).to.have.length(2);
      for (const t of tags) expect(t).to.match(/^tap-\w+,[1-9]\d*,/);
      expect(held[h].length).to.be.above(40);
    }
    expect(held.a).to.include('br-tun ports: patch-int vxlan-0afa0002');
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('restarted on the corrupted file, it exits non-zero naming file:line of each bad line, and both hosts are untouched', async () => {
    const bad = [...lines];
    bad[7] = bad[7]!.replace(/}$/, ',}'); // vm-a3: a trailing comma
    bad[6] = bad[6]!.replace(/}$/, ',"colour":"red"}'); // vm-b: an unknown member
    writeFileSync(topo, `${bad.join('\n')}\n`);
    const proc = ControllerProcess.start(args);
    procs.push(proc);
    const code = await Promise.race([proc.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(code, proc.log).to.equal(1);
    expect(proc.log).to.include(`ofctl-ts: controller: 2 rejected line(s) in the topology; nothing was done on any host`);
    expect(proc.log).to.include(`\n  ${topo}:7: unknown member "colour"\n`);
    expect(proc.log).to.match(new RegExp(`\\n  ${topo.replace(/[.]/g, '\\.')}:8: not JSON`));
    expect(proc.lines.filter((l) => l.level === 40).map((l) => l.msg.split(': ')[0])).to.deep.equal([`${topo}:7`, `${topo}:8`]);
    expect(await state('a')).to.deep.equal(held.a);
    expect(await state('b')).to.deep.equal(held.b);
  });

  it('with --allow-partial, the host the bad line names keeps its tags and flows until the line is fixed; the other is served', async () => {
    const bad = [...lines];
    bad[7] = bad[7]!.replace(/}$/, ',}');
    writeFileSync(topo, `${bad.join('\n')}\n`);
    const metrics = await freePort();
    const proc = ControllerProcess.start([...args, '--allow-partial', '--metrics-port', String(metrics)]);
    procs.push(proc);
    const frozen = await proc.waitForLine((l) => l.msg.startsWith('--allow-partial:'), 'the freeze to be logged');
    expect(frozen.msg).to.equal(`--allow-partial: ${topo}:8 rejected: hosts a frozen (not touched) until an accepted event names port:vm-a3`);
    const hosts = async (): Promise<HostStatus[]> => ((await (await fetch(`http://127.0.0.1:${metrics}/status`)).json()) as { hosts: HostStatus[] }).hosts;
    // b is served: both its bridges connect and are reconciled (to what they hold: nothing to send).
    await eventually(async () => {
      const hb = (await hosts()).find((h) => h.host === 'b');
      return !!hb && ['br-int', 'br-tun'].every((br) => hb.bridges[br]?.connected && hb.bridges[br]?.lastReconcile);
    }, 'host b to be served', 30_000, proc.alive);
    expect((await hosts()).map((h) => h.host)).to.deep.equal(['b']);
    // status names the frozen host and the line that keeps it so.
    const st = await runCli(['status', '--metrics-port', String(metrics)]);
    expect(st.stdout).to.include(`FROZEN (--allow-partial): host a, untouched until ${topo}:8 is fixed: not JSON`);
    // a's switch has been connecting to us meanwhile; give it time to be (wrongly) acted on.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await state('a')).to.deep.equal(held.a);
    expect(await state('b')).to.deep.equal(held.b);

    // The corrected line, appended: a thaws, is served, and still holds exactly what it held.
    const mark = proc.mark();
    appendFileSync(topo, `${lines[7]}\n`);
    const thawed = await proc.waitForLine((l) => l.msg.includes('hosts thawed'), 'a to thaw', mark);
    expect(thawed.msg).to.match(/hosts thawed: a$/);
    expect((await runCli(['status', '--metrics-port', String(metrics)])).stdout).to.not.include('FROZEN');
    await eventually(async () => {
      const ha = (await hosts()).find((h) => h.host === 'a');
      return !!ha && ['br-int', 'br-tun'].every((br) => ha.bridges[br]?.connected && ha.bridges[br]?.lastReconcile);
    }, 'host a to be served', 30_000, proc.alive);
    expect((await hosts()).find((h) => h.host === 'a')!.bridges['br-tun']!.lastReconcile!.flowMods).to.equal(0);
    expect(await state('a')).to.deep.equal(held.a);
    expect(await proc.kill('SIGTERM')).to.equal(0);
  });
});
