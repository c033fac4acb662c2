// The reconciler with flow families (the firewall's member flows, kept as descriptions) against a
// real ovs-vswitchd: installed whole, then an event sends exactly the flows it changes, a restarted
// controller compares them one by one and sends nothing, an audit repairs a family's flows changed
// behind its back, and a family gone takes its flows with it.
import { expect } from 'chai';
import { FlowReconciler } from '../../lib/flowset/reconciler.js';
import { deriveHostState, HostState } from '../../lib/state/host-state.js';
import { parseEventLine } from '../../lib/topology/events.js';
import { parseTopology, Topology } from '../../lib/topology/model.js';
import { OfConnection } from '../../lib/switch/connection.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { pipelineDesired, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { l2popHost, securityGroupLine } from '../../testing/l2pop-host.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const FIREWALL = pipelineOptions({ l2pop: true, arpResponder: true, firewall: 'openvswitch' });
const COOKIE = FIREWALL.cookies.brInt;

describe('flow reconciler with flow families, on a real ovs-vswitchd', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  const conns: OfConnection[] = [];
  const open = async (): Promise<OfConnection> => {
    const c = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') });
    conns.push(c);
    return c;
  };
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-int'] });
  });
  after(async () => {
    for (const c of conns) c.close('test done');
    await ovs?.stop();
  });

  const lines = l2popHost({ networks: 6, remoteHosts: 3, ofports: true, securityGroups: true }).lines;
  const remotes = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.type === 'port' && e.host !== 'local');
  let t: Topology;
  let s: HostState;
  const step = (line: string): void => {
    t.apply(parseEventLine(line));
    s = deriveHostState(t, 'local', { previous: s });
  };
  const holds = async (): Promise<void> => {
    expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal(renderText(s, 'br-int', FIREWALL));
  };

  it('installs the families whole, then sends what an event changes and nothing else', async () => {
    t = parseTopology(lines.join('\n'));
    s = deriveHostState(t, 'local');
    const desired = pipelineDesired(s, 'br-int', FIREWALL);
    // One per local port (its firewall flows), one per network (its member flows).
    expect(desired.families.length).to.equal(12);
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    const first = await r.reconcile(desired);
    const total = renderText(s, 'br-int', FIREWALL).length;
    expect(first).to.include({ added: total, modified: 0, deleted: 0, flowMods: total });
    expect(r.size).to.equal(total);
    await holds();
    // A remote port joins sg-a: its address in each of the three sg-a networks, new and established.
    step(JSON.stringify({ ...remotes[0], securityGroups: ['sg-a'] }));
    const join = await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL));
    expect(join).to.include({ added: 6, modified: 0, deleted: 0, flowMods: 6 });
    expect(r.size).to.equal(total + 6);
    await holds();
    // The same state again: nothing to send.
    expect((await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).flowMods).to.equal(0);
    // And it leaves again.
    step(JSON.stringify(remotes[0]));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 0, deleted: 6, flowMods: 6 });
    await holds();
  });

  it('a restarted controller compares the families flow by flow and sends nothing; an audit repairs them', async () => {
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ flowMods: 0 });
    const total = renderText(s, 'br-int', FIREWALL).length;
    expect(r.size).to.equal(total);
    // Behind its back: one member flow deleted, another one's actions changed.
    const member = (await ovs.dumpFlowsSorted('br-int')).filter((l) => l.includes('table=82') && l.includes('reg6=') && l.includes('conjunction('));
    expect(member.length).to.be.greaterThan(2);
    const match = (l: string): string => l.trim().replace(/^cookie=\S+ /, '').replace(/ actions=.*$/, '').replace(/,$/, '');
    await ovs.ofctl('--strict', 'del-flows', ovs.mgmtTarget('br-int'), match(member[0]!));
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br-int'), `cookie=${COOKIE},${match(member[1]!)},actions=drop`);
    const repaired = await r.audit(pipelineDesired(s, "br-int", FIREWALL));
    expect(repaired).to.include({ added: 1, modified: 1, deleted: 0, flowMods: 2 });
    await holds();
    // After the audit the families are tracked again: an event sends its flows alone.
    step(JSON.stringify({ ...remotes[1], securityGroups: ['sg-b'] }));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 6, deleted: 0, flowMods: 6 });
    expect(r.size).to.equal(total + 6);
    await holds();
  });

  it('a group\'s memberIps: an address added or removed sends its flows alone; one a port of the group also has counts once', async () => {
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    expect((await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).flowMods).to.equal(0);
    const total = r.size;
    const sgA = JSON.parse(securityGroupLine('sg-a')) as Record<string, unknown>;
    const members = (...memberIps: string[]): string => JSON.stringify({ ...sgA, memberIps });
    const flowsOf = async (a: string): Promise<string[]> => (await ovs.dumpFlowsSorted('br-int')).filter((l) => l.includes(`nw_src=${a},`) || l.includes(`nw_src=${a} `));
    // Two members on no port of ours (an address and a CIDR): each in each of the three sg-a networks, new and established.
    step(members('10.99.0.7', '10.98.0.0/24'));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 12, modified: 0, deleted: 0, flowMods: 12 });
    expect(await flowsOf('10.99.0.7')).to.have.length(6);
    expect(await flowsOf('10.98.0.0/24')).to.have.length(6);
    await holds();
    // The same members again (the group's rules given anew): nothing to send.
    step(members('10.98.0.0/24', '10.99.0.7'));
    expect((await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).flowMods).to.equal(0);
    // One removed: its 6 flows go, the other's stay.
    step(members('10.98.0.0/24'));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 0, modified: 0, deleted: 6, flowMods: 6 });
    expect(await flowsOf('10.99.0.7')).to.deep.equal([]);
    await holds();
    // A remote port's address in memberIps (6 flows), then the port joins sg-a too: the same member, nothing sent;
    // out of memberIps while the port is in: nothing; the port leaves: its 6 flows go.
    const port = remotes[2]!;
    const [ip] = port.fixedIps as string[];
    step(members('10.98.0.0/24', ip!));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 6, deleted: 0, flowMods: 6 });
    step(JSON.stringify({ ...port, securityGroups: ['sg-a'] }));
    expect((await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).flowMods).to.equal(0);
    step(members('10.98.0.0/24'));
    expect((await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).flowMods).to.equal(0);
    expect(await flowsOf(ip!)).to.have.length(6);
    step(JSON.stringify(port));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 0, deleted: 6, flowMods: 6 });
    // The member list dropped: back to where the test began.
    step(JSON.stringify(sgA));
    expect(await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).to.include({ added: 0, deleted: 6, flowMods: 6 });
    expect(r.size).to.equal(total);
    await holds();
  });

  it('a family gone (its network left the host) takes its flows with it', async () => {
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    expect((await r.reconcile(pipelineDesired(s, 'br-int', FIREWALL))).flowMods).to.equal(0);
    const local = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.type === 'port' && e.host === 'local')!;
    step(JSON.stringify({ type: 'remove', kind: 'port', id: local.id }));
    const d = pipelineDesired(s, 'br-int', FIREWALL);
    expect(d.families.length).to.equal(10);
    const res = await r.reconcile(d);
    expect(res.deleted).to.be.greaterThan(10);
    await holds();
    expect(r.size).to.equal(renderText(s, 'br-int', FIREWALL).length);
  });
});
