// The flow reconciler against a real ovs-vswitchd: minimal atomic changes, zero flow-mods after a
// controller restart, foreign and learned flows left alone, refusals reported with the flow, and a
// full restore after ovs-vswitchd restarts.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { Flow } from '../../codecs/openflow/flow.js';
import { FlowReconciler, ReconcileError } from '../../lib/flowset/reconciler.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { formatInstructions } from '../../codecs/ofctl/format-actions.js';
import { instructionsOfWire, instructionsWire } from '../../codecs/openflow/instructions.js';
import type { FlowModMessage } from '../../codecs/openflow/messages.js';
import { dumpFlows } from '../../lib/switch/flow-ops.js';
import { readTopology, Topology } from '../../lib/topology/model.js';
import { parseEventLine } from '../../lib/topology/events.js';
import { OfConnection } from '../../lib/switch/connection.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { FIXTURES } from '../../testing/golden-cases.js';
import { pipelineFlows, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const OPTS = pipelineOptions({ l2pop: true, arpResponder: true });
const COOKIE = OPTS.cookies.brTun;

function desired(topo: Topology): readonly Flow[] {
  return pipelineFlows(deriveHostState(topo, 'h1'), 'br-tun', OPTS);
}

describe('flow reconciler with a real ovs-vswitchd', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  const conns: OfConnection[] = [];
  const open = async (): Promise<OfConnection> => {
    const c = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-tun') });
    conns.push(c);
    return c;
  };
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-tun'] });
  });
  after(async () => {
    for (const c of conns) c.close('test done');
    await ovs?.stop();
  });

  it('installs a pipeline in one bundle, then a restarted controller sends zero flow-mods', async () => {
    const topo = readTopology(`${FIXTURES}topologies/three-hosts.jsonl`);
    const want = desired(topo);
    const r1 = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    const first = await r1.reconcile(want);
    expect(first.flowMods).to.equal(want.length);
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(renderText(deriveHostState(topo, 'h1'), 'br-tun', OPTS));
    const before = await ovs.ofctl('dump-flows', ovs.mgmtTarget('br-tun'));
    // A new controller process: attach, dump, compare: nothing to send.
    const r2 = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    const again = await r2.reconcile(want);
    expect(again.flowMods).to.equal(0);
    const durations = (s: string): string[] => s.split('\n').filter((l) => l.includes('duration')).map((l) => l.replace(/duration=[0-9.]+s, /, '')).sort();
    expect(durations(await ovs.ofctl('dump-flows', ovs.mgmtTarget('br-tun')))).to.deep.equal(durations(before));
  });

  it('applies only what a topology change implies, and keeps foreign and learned flows', async () => {
    const topo = readTopology(`${FIXTURES}topologies/three-hosts.jsonl`);
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    await r.reconcile(desired(topo));
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br-tun'), 'cookie=0x99,table=30,priority=5,actions=drop');
    // A frame from tunnel port 2 makes the learn action install a table-20 entry.
    await ovs.vsctl('add-port', 'br-tun', 'vx2', '--', 'set', 'Interface', 'vx2', 'type=vxlan', 'options:remote_ip=10.250.0.2',
      'options:key=flow', 'ofport_request=2');
    await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=2,tun_id=0x64,dl_src=fa:16:3e:02:00:09,dl_dst=fa:16:3e:01:00:01', '-generate');
    const learned = (await ovs.dumpFlowsSorted('br-tun')).filter((l) => l.includes('hard_timeout=300, priority=1'));
    expect(learned).to.have.length(1);
    // h2's port in network red goes away: its table-20 and table-21 entries go, nothing else changes.
    topo.apply(parseEventLine('{"type":"remove","kind":"port","id":"h2-red"}'));
    const res = await r.reconcile(desired(topo));
    expect(res).to.include({ added: 0, deleted: 2, modified: 1, flowMods: 3 }); // flooding for red now only to h3
    const after = await ovs.dumpFlowsSorted('br-tun');
    expect(after).to.include(' cookie=0x99, table=30, priority=5 actions=drop');
    expect(after.filter((l) => l.includes('hard_timeout=300, priority=1'))).to.deep.equal(learned);
    expect(after.filter((l) => l.includes('dl_dst=fa:16:3e:02:00:01'))).to.deep.equal([]);
    // A new MAC for h2's green port: as many flows as before, but one identity replaced by another.
    topo.apply(parseEventLine('{"type":"port","id":"h2-green","network":"green","host":"h2","mac":"fa:16:3e:02:00:99","fixedIps":["10.2.0.12"],"rev":2}'));
    const moved = await r.reconcile(desired(topo));
    expect(moved).to.include({ added: 1, deleted: 1, modified: 1, flowMods: 3 }); // table 20 entry replaced, ARP answer rewritten
    const final = await ovs.dumpFlowsSorted('br-tun');
    expect(final.filter((l) => l.includes('fa:16:3e:02:00:02'))).to.deep.equal([]);
    expect(final.filter((l) => l.includes('dl_dst=fa:16:3e:02:00:99'))).to.have.length(1);
  });

  it('reports a refused flow with its text, applies nothing, and keeps converging', async () => {
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    const before = await ovs.dumpFlowsSorted('br-tun');
    const bad = { ...parseFlow(`cookie=0x${COOKIE.toString(16)},table=40,priority=1,actions=group:77`) };
    const good = parseFlow(`cookie=0x${COOKIE.toString(16)},table=41,priority=1,actions=drop`);
    const current = (await import('../../lib/switch/flow-ops.js')).dumpFlows;
    const ours = (await current(r.conn)).filter((f) => f.cookie === COOKIE && !(f.table === 20 && f.hardTimeout > 0));
    const attempt = r.reconcile([...ours, bad, good]);
    await attempt.then(() => expect.fail('accepted'), (err: unknown) => {
      expect(err).to.be.instanceOf(ReconcileError);
      expect((err as ReconcileError).refused.join()).to.include('group:77');
    });
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(before);
    const ok = await r.reconcile([...ours, good]);
    expect(ok.flowMods).to.equal(1);
  });

  it('reports the progress of a large change', async () => {
    const progress: Array<[number, number]> = [];
    const r = await FlowReconciler.attach(await open(), { cookie: 0x77n, onProgress: (sent, total) => progress.push([sent, total]) });
    const many = Array.from({ length: 6000 }, (_, i) => parseFlow(`cookie=0x77,table=50,priority=${i + 1},actions=drop`));
    expect((await r.reconcile(many)).flowMods).to.equal(6000);
    expect(progress[0]).to.deep.equal([0, 6000]);
    expect(progress[progress.length - 1]).to.deep.equal([6000, 6000]);
    expect(progress.length).to.be.within(10, 12);
    expect(progress.every(([s], i) => i === 0 || s >= progress[i - 1]![0])).to.equal(true);
    expect((await r.reconcile([])).deleted).to.equal(6000);
  });

  it('restores the whole pipeline after ovs-vswitchd restarts (flows lost), within 2 s of reconnecting', async () => {
    const topo = readTopology(`${FIXTURES}topologies/three-hosts.jsonl`);
    const want = desired(topo);
    await (await FlowReconciler.attach(await open(), { cookie: COOKIE })).reconcile(want);
    await ovs.killVswitchd();
    await ovs.startVswitchd();
    const until = Date.now() + 10_000;
    while (!existsSync(ovs.mgmt('br-tun'))) {
      if (Date.now() > until) throw new Error('br-tun.mgmt did not come back');
      await new Promise((res) => setTimeout(res, 20));
    }
    const t0 = Date.now();
    const r = await FlowReconciler.attach(await open(), { cookie: COOKIE });
    const res = await r.reconcile(want);
    expect(Date.now() - t0).to.be.below(2000);
    expect(res.flowMods).to.equal(want.length);
    expect((await ovs.dumpFlowsSorted('br-tun')).filter((l) => l.includes(`cookie=0x${COOKIE.toString(16)}`))).to.have.length(want.length);
  });

  it("compares a found flow's instructions by their bytes, and by their text where the bytes differ", async () => {
    const c = await open();
    const cookie = 0x5eedn;
    const flow = (actions: string): FlowModMessage => parseFlow(`cookie=0x5eed,table=52,priority=7,in_port=9,actions=${actions}`);
    const plain = flow('output:2');
    // The same output with max_len 0xffff: other bytes, which OVS keeps and dumps, printed the same.
    const wide = { ...plain, instructions: instructionsOfWire(Buffer.from('00040018000000000000001000000002ffff000000000000', 'hex').toString('latin1')) };
    expect(formatInstructions(wide.instructions)).to.equal(formatInstructions(plain.instructions));
    expect(instructionsWire(wide.instructions)).to.not.equal(instructionsWire(plain.instructions));
    expect(await (await FlowReconciler.attach(c, { cookie })).reconcile([wide])).to.include({ flowMods: 1, added: 1 });
    const held = (await dumpFlows(c)).filter((f) => f.table === 52);
    expect(held.map((f) => instructionsWire(f.instructions))).to.deep.equal([instructionsWire(wide.instructions)]);
    // Other bytes, the same text: the same flow, nothing sent.
    expect(await (await FlowReconciler.attach(c, { cookie })).reconcile([plain])).to.include({ flowMods: 0, modified: 0 });
    // The very bytes: the same flow.
    expect(await (await FlowReconciler.attach(c, { cookie })).reconcile([wide])).to.include({ flowMods: 0, modified: 0 });
    // Other bytes and another text: replaced.
    expect(await (await FlowReconciler.attach(c, { cookie })).reconcile([flow('output:3')])).to.include({ flowMods: 1, modified: 1 });
    expect((await ovs.dumpFlowsSorted('br-tun')).filter((l) => l.includes('table=52'))).to.deep.equal([
      ` cookie=0x5eed, table=52, priority=7,in_port=9 actions=output:3`,
    ]);
  });
});
