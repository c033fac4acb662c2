// Incremental and atomic firewall changes (issue 16 point 4), counted against a real OVS: a rule
// added or removed, a local port joining or leaving a group, a remote-group member on another host
// joining or leaving, each changes exactly the flows it concerns (the reconcile result's counts and
// ovs-ofctl's dump difference), in one bundle: ovs-vswitchd's own log counts the bundle commits
// it received, one per change, and a port plugged into a group gets its whole flow set in one.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReconcileResult } from '../../lib/flowset/reconciler.js';
import { FirewallHost } from '../../testing/firewall-controller.js';
import { eventually } from '../../testing/wait.js';

const WEB_RULES = [
  { direction: 'egress', ethertype: 'IPv4' },
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' },
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80, remoteGroupId: 'web' },
];
const HTTPS = { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 443, portRangeMax: 443, remoteIpPrefix: '10.0.0.0/8' };
const web = (rules: readonly object[]): string => JSON.stringify({ type: 'securityGroup', id: 'web', rules });
const vm = (id: string, host: string, n: number, groups: string[]): string => JSON.stringify({
  type: 'port', id, network: 'net1', host, mac: `fa:16:3e:00:00:${n.toString(16).padStart(2, '0')}`, fixedIps: [`10.0.0.${n}`], securityGroups: groups,
});

describe('firewall changes on a real OVS: incremental, one bundle each', function () {
  this.timeout(120_000);
  let h: FirewallHost;
  const log = (): string => readFileSync(join(h.box.dir, 'ovs-vswitchd.log'), 'utf8');
  /** Bundle commits ovs-vswitchd received (from any client) since the log had `from` characters. */
  const commitsSince = (from: number): number => (log().slice(from).match(/type=COMMIT_REQUEST/g) ?? []).length;

  interface Change {
    readonly result: ReconcileResult;
    readonly added: string[];
    readonly gone: string[];
    readonly commits: number;
  }
  /** Applies a change, waits for br-int to converge on it, and says what changed and how. */
  const change = async (apply: () => Promise<void> | void): Promise<Change> => {
    await h.ctl.idle();
    const before = await h.brInt();
    const from = log().length;
    h.clear();
    await apply();
    await eventually(() => h.brIntChanges().length > 0, 'br-int to change');
    await h.ctl.idle();
    const after = await h.brInt();
    const changes = h.brIntChanges();
    expect(changes, 'one reconcile of br-int').to.have.length(1);
    expect(h.results.filter((r) => r.bridge === 'br-tun' && r.result.flowMods > 0), 'br-tun changes').to.deep.equal([]);
    return { result: changes[0]!, added: after.filter((l) => !before.includes(l)), gone: before.filter((l) => !after.includes(l)), commits: commitsSince(from) };
  };
  const counts = (c: Change): object => ({ added: c.result.added, modified: c.result.modified, deleted: c.result.deleted, commits: c.commits });
  const ofportOf = (id: string): number => h.ctl.agents.get('a')!.state!.localPorts.find((p) => p.id === id)!.ofport;
  const tables = (lines: readonly string[]): string[] => [...new Set(lines.map((l) => /table=(\d+)/.exec(l)![1]!))].sort();

  before(async () => {
    h = await FirewallHost.start([
      '{"type":"host","name":"r","tunnelIp":"10.250.0.2"}',
      '{"type":"network","id":"net1","vni":1001}',
      web(WEB_RULES),
      vm('vm-a1', 'a', 11, ['web']), vm('vm-a2', 'a', 12, []),
      vm('vm-r1', 'r', 21, ['web']), vm('vm-r2', 'r', 22, []),
    ]);
    await h.plug('tap-a1', 'vm-a1', 'fa:16:3e:00:00:0b');
    await h.plug('tap-a2', 'vm-a2', 'fa:16:3e:00:00:0c');
    // ovs-vswitchd logs every OpenFlow message it receives: bundle commits are counted from there.
    await h.box.appctl('vlog/set', 'vconn:file:dbg');
  });
  after(async () => h?.stop());

  it('a local port joining a group: its rule flows and its address as a member, one bundle', async () => {
    const c = await change(() => h.apply(vm('vm-a2', 'a', 12, ['web'])));
    const reg5 = `reg5=0x${ofportOf('vm-a2').toString(16)}`;
    // Per state (+est-rel-rpl, +new-est): egress any, TCP 22 from anywhere, TCP 80's second
    // dimension and its accept flow (vm-a2's), and vm-a2's address in the first dimension (the network's).
    expect(counts(c)).to.deep.equal({ added: 10, modified: 0, deleted: 0, commits: 1 });
    expect(c.gone).to.deep.equal([]);
    expect(c.added).to.have.length(10);
    expect(c.added.filter((l) => l.includes(reg5))).to.have.length(8);
    expect(c.added.filter((l) => l.includes('nw_src=10.0.0.12') && /conjunction\(\d+,1\/2\)/.test(l))).to.have.length(2);
    expect(tables(c.added)).to.deep.equal(['72', '82']);
  });

  it('a rule added to a group: its two flows per port in the group, one bundle; removed: they go', async () => {
    const add = await change(() => h.apply(web([...WEB_RULES, HTTPS])));
    expect(counts(add)).to.deep.equal({ added: 4, modified: 0, deleted: 0, commits: 1 });
    expect(add.added).to.have.length(4);
    expect(add.added.every((l) => l.includes('table=82') && l.includes('nw_src=10.0.0.0/8') && l.includes('tp_dst=443'))).to.equal(true);
    for (const p of ['vm-a1', 'vm-a2']) expect(add.added.filter((l) => l.includes(`reg5=0x${ofportOf(p).toString(16)},`))).to.have.length(2);
    const remove = await change(() => h.apply(web(WEB_RULES)));
    expect(counts(remove)).to.deep.equal({ added: 0, modified: 0, deleted: 4, commits: 1 });
    expect(remove.gone.sort()).to.deep.equal(add.added.sort());
  });

  it('a member on another host joining a remote group: its address flows only, one per state; leaving: they go', async () => {
    const join = await change(() => h.apply(vm('vm-r2', 'r', 22, ['web'])));
    expect(counts(join)).to.deep.equal({ added: 2, modified: 0, deleted: 0, commits: 1 });
    expect(join.added.every((l) => l.includes('table=82') && l.includes('nw_src=10.0.0.22') && /conjunction\(\d+,1\/2\)/.test(l))).to.equal(true);
    const leave = await change(() => h.apply(vm('vm-r2', 'r', 22, [])));
    expect(counts(leave)).to.deep.equal({ added: 0, modified: 0, deleted: 2, commits: 1 });
    expect(leave.gone.sort()).to.deep.equal(join.added.sort());
  });

  it('a local port leaving its group: exactly what joining added goes, one bundle', async () => {
    const reg5 = `reg5=0x${ofportOf('vm-a2').toString(16)}`;
    const c = await change(() => h.apply(vm('vm-a2', 'a', 12, [])));
    expect(counts(c)).to.deep.equal({ added: 0, modified: 0, deleted: 10, commits: 1 });
    expect(c.gone.filter((l) => l.includes(reg5))).to.have.length(8);
    expect(c.gone.filter((l) => l.includes('nw_src=10.0.0.12'))).to.have.length(2);
  });

  it('a port plugged into a group gets its whole firewall flow set in one bundle', async () => {
    // In the group before it is plugged: already a member (Neutron's DB membership), nothing else.
    const member = await change(() => h.apply(vm('vm-a3', 'a', 13, ['web'])));
    expect(counts(member)).to.deep.equal({ added: 2, modified: 0, deleted: 0, commits: 1 });
    expect(member.added.every((l) => l.includes('nw_src=10.0.0.13') && /conjunction\(\d+,1\/2\)/.test(l))).to.equal(true);
    const c = await change(() => h.plug('tap-a3', 'vm-a3', 'fa:16:3e:00:00:0d'));
    const o = ofportOf('vm-a3');
    expect(counts(c)).to.deep.equal({ added: c.added.length, modified: 0, deleted: 0, commits: 1 });
    expect(c.gone).to.deep.equal([]);
    // Every flow that came is the port's own (its ofport, its MAC), in every firewall table that
    // holds per-port flows: base flows and rules together.
    const own = new RegExp(`(in_port=${o}|reg5=0x${o.toString(16)}|0x${o.toString(16)}->reg5|output:${o})\\b|fa:16:3e:00:00:0d`);
    expect(c.added.filter((l) => !own.test(l))).to.deep.equal([]);
    expect(tables(c.added)).to.deep.equal(['60', '71', '72', '73', '81', '82']);
    expect(c.added.filter((l) => /table=82, priority=77,.*tp_dst=22/.test(l))).to.have.length(2);
    expect(c.added.filter((l) => /tp_dst=80 actions=conjunction\(\d+,2\/2\)/.test(l))).to.have.length(2);
  });
});
