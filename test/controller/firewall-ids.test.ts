// Stable conjunction ids (issue 16 point 3) on a real OVS: the blocks are part of the host state,
// recorded on br-int (external_ids:ofctl-ts-conj-bases) before the flows that use them and read
// back at start. A controller restart sends nothing and OVS reports no flow event; an unrelated
// change (a group removed, a new group whose key sorts first) never renumbers an installed
// conjunction; a record that cannot be read stops the host's passes and changes nothing.
import { expect } from 'chai';
import { CONJ_BASES_KEY } from '../../lib/controller/host-setup.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { formatConjBases, parseConjBases } from '../../pipelines/firewall/rules.js';
import { idsOf } from '../../testing/conj-ids.js';
import { FirewallHost } from '../../testing/firewall-controller.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { eventually } from '../../testing/wait.js';

const group = (id: string, port: number, remote: string): string => JSON.stringify({
  type: 'securityGroup', id, rules: [
    { direction: 'egress', ethertype: 'IPv4' },
    { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: port, portRangeMax: port, remoteGroupId: remote },
  ],
});
const vm = (id: string, host: string, n: number, groups: string[]): string => JSON.stringify({
  type: 'port', id, network: 'net1', host, mac: `fa:16:3e:00:00:${n.toString(16).padStart(2, '0')}`, fixedIps: [`10.0.0.${n}`], securityGroups: groups,
});

describe('firewall conjunction ids on a real OVS (stable across restarts and unrelated changes)', function () {
  this.timeout(120_000);
  let h: FirewallHost;
  /** The blocks br-int records. */
  const recorded = async (): Promise<Map<string, number>> =>
    parseConjBases(JSON.parse((await h.box.vsctl('get', 'Bridge', 'br-int', `external_ids:${CONJ_BASES_KEY}`)).trim()) as string);
  const inBlock = (line: string, base: number): boolean => idsOf(line).some((id) => id >= base && id < base + 8);

  before(async () => {
    h = await FirewallHost.start([
      '{"type":"host","name":"r","tunnelIp":"10.250.0.2"}',
      '{"type":"network","id":"net1","vni":1001}',
      group('web', 80, 'web'), group('old', 8080, 'old'), group('db', 5432, 'web'),
      vm('vm-a1', 'a', 11, ['web']), vm('vm-a2', 'a', 12, ['db']), vm('vm-a4', 'a', 14, ['old']),
      vm('vm-r1', 'r', 21, ['web']), vm('vm-r4', 'r', 24, ['old']),
    ]);
    await h.plug('tap-a1', 'vm-a1', 'fa:16:3e:00:00:0b');
    await h.plug('tap-a2', 'vm-a2', 'fa:16:3e:00:00:0c');
    await h.plug('tap-a4', 'vm-a4', 'fa:16:3e:00:00:0e');
  });
  after(async () => h?.stop());

  it('records the blocks on br-int, the conjunctions installed with them', async () => {
    const bases = h.ctl.agents.get('a')!.state!.firewall!.conjBases;
    // Numbered as the keys came (vm-a1's web, vm-a2's db, vm-a4's old), each the lowest free block.
    expect([...bases]).to.deep.equal([['ingress/IPv4/db/web', 16], ['ingress/IPv4/old/old', 24], ['ingress/IPv4/web/web', 8]]);
    expect(await recorded()).to.deep.equal(bases);
    const flows = await h.brInt();
    for (const base of [8, 16, 24]) expect(flows.filter((l) => inBlock(l, base)).length, `block ${base}`).to.be.above(0);
    expect(flows.flatMap(idsOf).every((id) => [8, 16, 24].includes(id & ~7))).to.equal(true);
  });

  it('a controller restart sends zero flow-mods and OVS reports no flow event', async () => {
    const before = await h.brInt();
    const monitor = await FlowMonitor.start(h.box, 'br-int');
    try {
      await h.restartController();
      expect(h.results.filter((r) => r.bridge === 'br-int').length).to.be.above(0);
      expect(h.results.reduce((n, r) => n + r.result.flowMods, 0)).to.equal(0);
      expect(await h.brInt()).to.deep.equal(before);
      // Negative control: the monitor does see a change.
      await h.box.ofctl('add-flow', h.box.mgmtTarget('br-int'), 'cookie=0x99,table=99,priority=1,actions=drop');
      await h.box.ofctl('del-flows', h.box.mgmtTarget('br-int'), 'table=99');
      await eventually(() => monitor.events.some((e) => e.event === 'DELETED'), 'the monitor to report the control flow');
      expect(monitor.events.map((e) => e.key.split(' ')[0])).to.deep.equal(['99', '99']);
    } finally {
      monitor.stop();
    }
  });

  it('a group removed and a new group whose key sorts first renumber no installed conjunction', async () => {
    const before = await h.brInt();
    const monitor = await FlowMonitor.start(h.box, 'br-int');
    try {
      h.clear();
      // `old` leaves its ports and goes; `aaa` comes with a port plugged on a.
      h.apply(vm('vm-a4', 'a', 14, []), vm('vm-r4', 'r', 24, []), '{"type":"remove","kind":"securityGroup","id":"old"}',
        group('aaa', 443, 'aaa'), vm('vm-a3', 'a', 13, ['aaa']));
      await h.plug('tap-a3', 'vm-a3', 'fa:16:3e:00:00:0d');
      const bases = h.ctl.agents.get('a')!.state!.firewall!.conjBases;
      // Numbered afresh in key order, aaa would take 8 and web 24: db and web keep theirs, aaa gets old's freed 24.
      expect([...bases]).to.deep.equal([['ingress/IPv4/aaa/aaa', 24], ['ingress/IPv4/db/web', 16], ['ingress/IPv4/web/web', 8]]);
      expect(await recorded()).to.deep.equal(bases);
      const after = await h.brInt();
      const gone = before.filter((l) => !after.includes(l));
      const added = after.filter((l) => !before.includes(l));
      // Every flow of blocks 8 and 16 is still there, byte for byte; what went is old's block only.
      for (const l of before.filter((x) => inBlock(x, 8) || inBlock(x, 16))) expect(after, l).to.include(l);
      expect(gone.length).to.be.above(0);
      // (and vm-a4's own rule flows of old's rules: its egress-any pair)
      const a4 = h.ctl.agents.get('a')!.state!.localPorts.find((p) => p.id === 'vm-a4')!.ofport;
      const a4Rule = (l: string): boolean => /table=(72|82),/.test(l) && l.includes(`reg5=0x${a4.toString(16)} `);
      expect(gone.filter((l) => !inBlock(l, 24) && !a4Rule(l)), 'removed flows neither old\'s nor vm-a4\'s rules').to.deep.equal([]);
      // What came: aaa's conjunctions (block 24) and vm-a3's own flows (its ofport in reg5 or in_port, its MAC).
      const a3 = h.ctl.agents.get('a')!.state!.localPorts.find((p) => p.id === 'vm-a3')!.ofport;
      const hex = a3.toString(16);
      const ofA3 = (l: string): boolean => new RegExp(`(in_port=${a3}|reg5=0x${hex}|0x${hex}->reg5|output:${a3})\\b|fa:16:3e:00:00:0d`).test(l);
      expect(added.filter((l) => !inBlock(l, 24) && !ofA3(l)), 'added flows neither aaa\'s nor vm-a3\'s').to.deep.equal([]);
      expect(added.filter((l) => inBlock(l, 24)).length).to.be.above(0);
      // OVS saw no flow of blocks 8 or 16 change: no modification at all, deletions of old's flows only.
      expect(monitor.events.filter((e) => e.event === 'MODIFIED')).to.deep.equal([]);
      expect(monitor.events.filter((e) => e.event === 'DELETED').length).to.equal(gone.length);
      expect(h.brIntChanges().every((r) => r.modified === 0)).to.equal(true);
    } finally {
      monitor.stop();
    }
  });

  it('after that change, a restart still sends nothing (the record, not a fresh numbering, wins)', async () => {
    const state = h.ctl.agents.get('a')!.state!;
    // Negative control: numbered afresh (no record), the same topology would move db/web's conjunctions.
    const fresh = deriveHostState(h.store.topology, 'a', { plugged: new Map(state.localPorts.map((p) => [p.id, p.ofport])) });
    expect(fresh.firewall!.conjBases.get('ingress/IPv4/web/web')).to.equal(24);
    const before = await h.brInt();
    const monitor = await FlowMonitor.start(h.box, 'br-int');
    try {
      await h.restartController();
      expect(h.results.reduce((n, r) => n + r.result.flowMods, 0)).to.equal(0);
      expect(await h.brInt()).to.deep.equal(before);
      expect(monitor.events).to.deep.equal([]);
    } finally {
      monitor.stop();
    }
  });

  it('a record that cannot be read stops the host (error in status, nothing changed) until it is restored', async () => {
    const good = formatConjBases(await recorded());
    const before = await h.brInt();
    await h.ctl.stop();
    await h.box.vsctl('set', 'Bridge', 'br-int', `external_ids:${CONJ_BASES_KEY}=${JSON.stringify('{"ingress/IPv4/db/web":9}')}`);
    h.clear();
    await h.startController();
    await eventually(() => h.ctl.status().hosts[0]!.errors.some((e) => e.includes(CONJ_BASES_KEY)), 'the error in status');
    expect(h.ctl.status().hosts[0]!.errors[0]).to.match(/br-int external_ids:ofctl-ts-conj-bases: conjunction base 9 of ingress\/IPv4\/db\/web/);
    expect(h.results.reduce((n, r) => n + r.result.flowMods, 0)).to.equal(0);
    expect(await h.brInt()).to.deep.equal(before);
    expect((await h.box.vsctl('get', 'Bridge', 'br-int', `external_ids:${CONJ_BASES_KEY}`)).trim()).to.equal(JSON.stringify('{"ingress/IPv4/db/web":9}'));
    // The operator puts the record back: the next pass reads it, converges, and sends nothing.
    await h.box.vsctl('set', 'Bridge', 'br-int', `external_ids:${CONJ_BASES_KEY}=${JSON.stringify(good)}`);
    await eventually(() => h.results.some((r) => r.bridge === 'br-int'), 'br-int to be checked');
    await h.ctl.idle();
    expect(h.ctl.status().hosts[0]!.errors).to.deep.equal([]);
    expect(h.results.reduce((n, r) => n + r.result.flowMods, 0)).to.equal(0);
    expect(await h.brInt()).to.deep.equal(before);
  });
});
