// The honesty check: the same flow operations go to a real ovs-vswitchd 3.1 (a sandboxed bridge,
// through its management socket) and to a simulated switch (through our listener), each through
// the project's own client (OfConnection, flow-ops). After every step both tables must print the
// same `dump-flows --no-stats` lines (the real one printed by ovs-ofctl itself), both must refuse
// the same messages with the same errors, and filtered dumps must select the same flows.
import { expect } from 'chai';
import { firstValueFrom } from 'rxjs';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { Match } from '../../codecs/openflow/match.js';
import {
  FlowModMessage, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPTT_ALL,
} from '../../codecs/openflow/messages.js';
import { readFlowFile } from '../../lib/flowset/flow-file.js';
import { SimSwitch } from '../../testing/sim/sim-switch.js';
import { OfConnection } from '../../lib/switch/connection.js';
import { applyFlowMods, DumpFilter, dumpFlows } from '../../lib/switch/flow-ops.js';
import { listen, OfListener } from '../../lib/switch/listener.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { freePort } from '../../testing/wait.js';

const add = (text: string): FlowModMessage => parseFlow(text);
const modify = (text: string, opts: { strict?: boolean; cookie?: bigint; cookieMask?: bigint } = {}): FlowModMessage => ({
  ...parseFlow(text, { mode: 'modify', command: opts.strict ? OFPFC_MODIFY_STRICT : OFPFC_MODIFY }),
  ...(opts.cookieMask !== undefined ? { cookie: opts.cookie ?? 0n, cookieMask: opts.cookieMask } : {}),
});
const del = (text: string, strict = false): FlowModMessage => parseFlow(text, { mode: 'match', command: strict ? OFPFC_DELETE_STRICT : OFPFC_DELETE });
const match = (text: string): Match => parseFlow(text, { mode: 'match' }).match;

describe('simulated switch against a real ovs-vswitchd 3.1 (seed pipeline)', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  let listener: OfListener;
  let sw: SimSwitch;
  let real: OfConnection;
  let sim: OfConnection;

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-tun'] });
    real = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-tun') });
    const port = await freePort();
    listener = await listen({ kind: 'tcp', host: '127.0.0.1', port });
    const first = firstValueFrom(listener.sessions$);
    sw = new SimSwitch({ datapathId: 0x3en, controller: `tcp:127.0.0.1:${port}`, name: 'br-tun', probeIntervalMs: 0 });
    sw.start();
    sim = await first;
  });

  after(async () => {
    await sw?.stop();
    real?.close('test done');
    await listener?.close();
    await ovs?.stop();
  });

  /** Both tables as ovs-ofctl prints them: the real one by ovs-ofctl, the simulated one by the sim and over the wire. */
  async function expectSameTables(step: string): Promise<void> {
    const want = await ovs.dumpFlowsSorted('br-tun');
    expect(sw.dumpText().sort(), `${step}: simulated table`).to.deep.equal(want);
    expect((await dumpFlows(sim)).map((f) => ` ${formatFlow(f)}`).sort(), `${step}: simulated dump over OpenFlow`).to.deep.equal(want);
  }

  /** The same flow-mods, one by one and a barrier, to both; the same refusals (by position and error). */
  async function eachOnBoth(step: string, mods: FlowModMessage[]): Promise<Array<{ index: number; reason: string }>> {
    const r = await real.sendConfirmed(mods);
    const s = await sim.sendConfirmed(mods);
    expect(s, `${step}: refusals`).to.deep.equal(r);
    await expectSameTables(step);
    return r;
  }
  const simText = (): string => sw.dumpText().join('\n');

  /** The same flow-mods in one bundle to both: both commit, or both refuse the same message and apply nothing. */
  async function bundleOnBoth(step: string, mods: FlowModMessage[]): Promise<string> {
    const outcome = (c: OfConnection): Promise<string> => applyFlowMods(c, mods).then(() => 'committed', (e: Error) => e.message);
    const r = await outcome(real);
    const s = await outcome(sim);
    expect(s, `${step}: bundle outcome`).to.equal(r);
    await expectSameTables(step);
    return r;
  }

  it('starts equal, and both empty after deleting everything in every table', async () => {
    await expectSameTables('start');
    await eachOnBoth('first flows', [add('priority=0 actions=NORMAL'), add('table=9,priority=3,in_port=4 actions=drop')]);
    expect(sw.flows.size).to.equal(2);
    await eachOnBoth('delete all', [del('')]);
    expect(sw.flows.size).to.equal(0);
  });

  it('the seed pipeline in one bundle', async () => {
    expect(await bundleOnBoth('seed bundle', readFlowFile('fixtures/seed-003/compute-br-tun.add-flows.txt').map((f) => f.flow))).to.equal('committed');
    expect(sw.flows.size).to.equal(13);
  });

  it('ADD over existing flows: new cookie, timeouts, flags and actions; the rest of the table untouched', async () => {
    await eachOnBoth('add replacing', [
      add('table=4,priority=1,cookie=0x77,idle_timeout=600,send_flow_rem,check_overlap,tun_id=0x3e9 actions=mod_vlan_vid:2,resubmit(,10)'),
      add('table=0,priority=1,in_port=2,reset_counts,no_packet_counts actions=resubmit(,4)'),
    ]);
  });

  it('more flows with cookies, timeouts, write_actions and masks in several tables', async () => {
    await eachOnBoth('add cookies', [
      add('table=22,priority=1,cookie=0x11,dl_vlan=2 actions=strip_vlan,set_tunnel:0x3ea,output:2'),
      add('table=22,priority=1,cookie=0x12,dl_vlan=3 actions=strip_vlan,set_tunnel:0x3eb,output:2,output:3'),
      add('table=20,priority=2,cookie=0x21,hard_timeout=600,dl_vlan=1,dl_dst=fa:16:3e:00:00:01 actions=strip_vlan,set_tunnel:0x3e9,output:3'),
      add('table=21,priority=1,cookie=0x31,arp,dl_vlan=1,arp_tpa=10.0.0.5 actions=write_actions(output:3)'),
      add('table=2,priority=5,cookie=0x13,ip,nw_dst=10.0.0.0/8 actions=output:3'),
      add('table=2,priority=6,cookie=0x14,dl_dst=01:00:5e:00:00:01 actions=output:2'),
    ]);
  });

  it('MODIFY (loose) with a cookie mask, with a masked match, and with timeouts: only instructions change', async () => {
    await eachOnBoth('modify cookie mask', [modify('table=22 actions=output:9', { cookie: 0x10n, cookieMask: 0xf0n })]);
    expect(simText().match(/output:9/g)).to.have.length(2);
    await eachOnBoth('modify masked match', [modify('table=2,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,21)')]);
    await eachOnBoth('modify keeps timeouts and cookie', [
      modify('table=20,priority=2,idle_timeout=5,cookie=0x99,dl_vlan=1,dl_dst=fa:16:3e:00:00:01 actions=output:4', { strict: true }),
    ]);
    expect(simText()).to.include(' cookie=0x21, table=20, hard_timeout=600, priority=2,dl_vlan=1,dl_dst=fa:16:3e:00:00:01 actions=output:4');
  });

  it('MODIFY_STRICT, and modifies that select nothing (no flow is added)', async () => {
    await eachOnBoth('modify strict', [modify('table=4,priority=0 actions=output:5', { strict: true })]);
    const before = sw.flows.size;
    await eachOnBoth('modify selecting nothing', [
      modify('table=4,priority=9,tun_id=0x999 actions=drop', { strict: true }),
      modify('table=40,in_port=7 actions=drop'),
      modify('table=22 actions=drop', { cookie: 0x50n, cookieMask: 0xf0n }),
    ]);
    expect(sw.flows.size).to.equal(before);
  });

  it('filtered dumps select the same flows: table, cookie mask, out_port, loose match', async () => {
    const filters: DumpFilter[] = [
      { table: 22 },
      { cookie: 0x10n, cookieMask: 0xf0n },
      { outPort: 3 },
      { outPort: 2, table: 22 },
      { match: match('tun_id=0x3e9') },
      { match: match('dl_dst=01:00:00:00:00:00/01:00:00:00:00:00') },
      { match: match('dl_vlan=1'), table: 20 },
      { match: match('ip') },
    ];
    for (const f of filters) {
      const text = async (c: OfConnection): Promise<string[]> => (await dumpFlows(c, f)).map((x) => formatFlow(x)).sort();
      const want = await text(real);
      expect(await text(sim), JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v instanceof Map ? [...v.keys()] : v)))
        .to.deep.equal(want);
    }
  });

  it('refuses the same flow-mods with the same errors', async () => {
    const refused = await eachOnBoth('refusals', [
      add('table=5,priority=1 actions=goto_table:2'),
      add('table=254,priority=1 actions=drop'),
      { ...add('table=1,priority=1 actions=drop'), table: OFPTT_ALL },
      { ...modify('table=1 actions=drop'), table: OFPTT_ALL },
      add('table=5,priority=1 actions=group:77'),
      add('table=5,priority=1 actions=meter:5,output:1'),
      add('table=2,priority=5,check_overlap,ip,nw_dst=10.1.0.0/16 actions=drop'),
      add('table=2,priority=5,check_overlap,ip,nw_dst=11.0.0.0/8 actions=drop'),
    ]);
    expect(refused.map((r) => r.index)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]); // the last does not overlap
  });

  it('a bundle with one refused flow applies nothing on either; a mixed bundle applies the same', async () => {
    const refused = await bundleOnBoth('refused bundle', [
      del('table=22'),
      add('table=30,priority=1 actions=drop'),
      add('table=31,priority=1 actions=group:1'),
    ]);
    expect(refused).to.match(/message 3: OFPET_BAD_ACTION\/OFPBAC_BAD_OUT_GROUP/);
    expect(await bundleOnBoth('mixed bundle', [
      del('table=22'),
      add('table=22,priority=1,dl_vlan=1 actions=strip_vlan,set_tunnel:0x3e9,output:2'),
      modify('table=4 actions=drop'),
      del('table=0,priority=0', true),
      add('table=22,priority=0 actions=drop'),
    ])).to.equal('committed');
  });

  it('DELETE (loose) by cookie mask in every table, by out_port, and DELETE_STRICT in one table or all', async () => {
    await eachOnBoth('delete cookie mask', [del('cookie=0x10/0xf0')]);
    await eachOnBoth('delete out_port', [del('out_port=3')]);
    await eachOnBoth('delete strict one table', [{ ...del('priority=1,in_port=1', true), table: 0 }]);
    await eachOnBoth('delete strict every table', [del('priority=1', true), del('priority=0', true)]);
    await eachOnBoth('delete loose match', [del('table=2,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00')]);
    await eachOnBoth('delete the rest', [del('')]);
    expect(sw.flows.size).to.equal(0);
  });

  it('answers FEATURES and DESC as ovs-vswitchd does (but its datapath id)', async () => {
    const [rf] = await real.request({ type: 'features_request' });
    const [sf] = await sim.request({ type: 'features_request' });
    expect({ ...sf, xid: 0, datapathId: 0n }).to.deep.equal({ ...rf, xid: 0, datapathId: 0n });
    const [rd] = await real.request({ type: 'desc_request', flags: 0 });
    const [sd] = await sim.request({ type: 'desc_request', flags: 0 });
    expect({ ...sd, xid: 0 }).to.deep.equal({ ...rd, xid: 0 });
  });
});
