// Host setup for several controller replicas, against a real ovsdb-server + ovs-vswitchd: every
// bridge lists every replica's target (rows changed in place: flows stay across 1 -> 2 -> 3 -> 2),
// and the generation fence (a newer leader's take-over makes an older leader's transactions fail
// whole, leaving the database as it was).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { applyHostSetup, FencedError, GENERATION_KEY, HostSetupOptions, hostGeneration, planHostSetup, pluggedPortsFrom, takeOverHost } from '../../lib/controller/host-setup.js';
import { HostAgent } from '../../lib/controller/host-agent.js';
import { deriveHostState, HostState } from '../../lib/state/host-state.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsdbClient } from '../../lib/ovsdb/client.js';
import { VSWITCH_TABLES, vswitchView } from '../../lib/ovsdb/vswitch.js';
import { parseTopology } from '../../lib/topology/model.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually } from '../../testing/wait.js';

const TOPO = [
  '{"type":"host","name":"compute","tunnelIp":"10.0.100.88"}',
  '{"type":"host","name":"network","tunnelIp":"10.0.100.77"}',
  '{"type":"network","id":"net-1001","vni":1001}',
  '{"type":"network","id":"net-1002","vni":1002}',
  '{"type":"port","id":"vm-1","network":"net-1001","host":"compute","mac":"fa:16:3e:83:95:fa","fixedIps":["10.0.0.5"]}',
  '{"type":"port","id":"vm-2","network":"net-1002","host":"compute","mac":"fa:16:3e:83:95:fb","fixedIps":["10.0.1.5"]}',
  '{"type":"port","id":"dhcp-1","network":"net-1001","host":"network","mac":"fa:16:3e:52:7a:f2","fixedIps":["10.0.0.3"]}',
].join('\n');

/**
 * The whole database as ovsdb-client dumps it (one JSON object a table), less the columns
 * ovs-vswitchd rewrites by itself as it runs: an unreachable target's Controller.status went from
 * {} to {last_error, state=BACKOFF} and back every few seconds (measured on 3.1).
 */
async function dump(ovs: OvsSandbox): Promise<unknown[]> {
  const { stdout } = await promisify(execFile)('ovsdb-client', ['-f', 'json', 'dump', ovs.dbTarget, 'Open_vSwitch'], { maxBuffer: 1 << 26 });
  return stdout.split('\n').filter(Boolean).map((l) => {
    const t = JSON.parse(l) as { caption: string; headings: string[]; data: unknown[][] };
    const keep = t.headings.map((h, i) => (['status', 'statistics'].includes(h) ? -1 : i)).filter((i) => i >= 0);
    return { caption: t.caption, headings: keep.map((i) => t.headings[i]), data: t.data.map((row) => keep.map((i) => row[i])) };
  });
}

describe('host setup for several controller replicas (real OVS)', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let client: OvsdbClient;
  let base: HostSetupOptions;
  const target = (n: string): string => `unix:${ovs.dir}/${n}.sock`; // nobody listens: the rows stay unconnected
  const get = async (...a: string[]): Promise<string> => (await ovs.vsctl('get', ...a)).trim();
  /** The bridge's Controller rows, target -> row uuid, as ovs-vsctl reads them. */
  const controllerRows = async (br: string): Promise<Map<string, string>> => {
    const uuids = (await get('Bridge', br, 'controller')).replace(/[[\]\s]/g, '').split(',').filter(Boolean);
    return new Map(await Promise.all(uuids.map(async (u): Promise<[string, string]> => [JSON.parse(await get('Controller', u, 'target')) as string, u])));
  };
  const state = (extra = ''): HostState => deriveHostState(parseTopology(`${TOPO}${extra}`), 'compute', { plugged: pluggedPortsFrom(vswitchView(client.replica)) });

  before(async () => {
    ovs = await OvsSandbox.start({});
    client = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: VSWITCH_TABLES });
    base = { controllerTarget: target('a'), datapathType: 'netdev', maxBackoffMs: 1000 };
  });
  after(async () => {
    await client?.close();
    await ovs?.stop();
  });

  it('keeps the flows while the bridges go from 1 to 2 to 3 to 2 controller targets, changing the rows in place', async () => {
    expect(await applyHostSetup(client, state(), base)).to.be.above(0);
    expect((await ovs.vsctl('get-controller', 'br-int')).trim()).to.equal(target('a'));
    // Flows go in after the first controller (0 -> 1 flushes), then must survive every change.
    for (const br of ['br-int', 'br-tun']) {
      for (let i = 1; i <= 5; i++) await ovs.ofctl('add-flow', ovs.mgmtTarget(br), `cookie=0x${i}0,table=${i},priority=${i},ip,nw_dst=10.1.0.${i},actions=drop`);
    }
    const before = { int: await ovs.dumpFlowsSorted('br-int'), tun: await ovs.dumpFlowsSorted('br-tun') };
    expect(before.int).to.have.length(5);
    const monitors = { int: await FlowMonitor.start(ovs, 'br-int'), tun: await FlowMonitor.start(ovs, 'br-tun') };
    try {
      let previous = await controllerRows('br-int');
      for (const names of [['a', 'b'], ['a', 'b', 'c'], ['a', 'c']]) {
        const opts = { ...base, controllerTarget: names.map(target) };
        expect(await applyHostSetup(client, state(), opts)).to.be.above(0);
        for (const br of ['br-int', 'br-tun']) {
          expect((await ovs.vsctl('get-controller', br)).trim().split('\n').sort()).to.deep.equal(names.map(target).sort());
          const rows = await controllerRows(br);
          // A kept target's row is the same row (changed in place, never recreated).
          if (br === 'br-int') for (const [t, u] of previous) if (rows.has(t)) expect(rows.get(t), t).to.equal(u);
          for (const u of rows.values()) {
            expect(await get('Controller', u, 'connection_mode')).to.equal('out-of-band');
            expect(await get('Controller', u, 'max_backoff')).to.equal('1000');
          }
          if (br === 'br-int') previous = rows;
        }
        await eventually(() => planHostSetup(vswitchView(client.replica), state(), opts).length === 0, 'the replica to see the targets');
      }
      // A target replaced by another: the row no longer wanted is retargeted (same row).
      const retarget = { ...base, controllerTarget: [target('a'), target('d')] };
      expect(await applyHostSetup(client, state(), retarget)).to.equal(2);
      expect(await controllerRows('br-int')).to.deep.equal(new Map([[target('a'), previous.get(target('a'))], [target('d'), previous.get(target('c'))]]));
      // Removed rows are gone (no bridge references them): 2 per bridge.
      expect((await ovs.vsctl('--columns=target', 'list', 'Controller')).trim().split('\n').filter(Boolean)).to.have.length(4);
      expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal(before.int);
      expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(before.tun);
      // The monitor does see a delete when there is one (so its silence above means something).
      await ovs.ofctl('del-flows', '--strict', ovs.mgmtTarget('br-int'), 'table=1,priority=1,ip,nw_dst=10.1.0.1');
      await eventually(() => monitors.int.events.some((e) => e.event === 'DELETED'), 'the monitor to see the delete');
      expect(monitors.int.events.filter((e) => e.event === 'DELETED')).to.have.length(1);
      expect(monitors.tun.events).to.deep.equal([]);
    } finally {
      monitors.int.stop();
      monitors.tun.stop();
    }
  });

  it('refuses a bad target list or generation before it writes anything', async () => {
    const before = await dump(ovs);
    // Each would change the bridges' controllers if it were taken.
    const other = { ...base, controllerTarget: [target('a'), target('e')] };
    expect(planHostSetup(vswitchView(client.replica), state(), other)).to.not.deep.equal([]);
    for (const [bad, message] of [[[], /controllerTarget: no controller target given/], [[target('d'), target('d')], /controllerTarget: unix:.*d\.sock is given twice/],
      [[target('d'), ''], /controllerTarget: "" is not a target/]] as const) {
      await applyHostSetup(client, state(), { ...base, controllerTarget: bad }).then(() => expect.fail(`${JSON.stringify(bad)} accepted`), (err: Error) => expect(err.message).to.match(message));
    }
    for (const g of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      await applyHostSetup(client, state(), { ...other, generation: g })
        .then(() => expect.fail(`generation ${g} accepted`), (err: Error) => expect(err.message).to.match(/generation: .* is not a positive integer/));
      await takeOverHost(client, g).then(() => expect.fail(`generation ${g} accepted`), (err: Error) => expect(err.message).to.match(/is not a positive integer/));
    }
    expect(await dump(ovs)).to.deep.equal(before);
    // Single-process mode so far: no fence was ever written.
    expect(await get('Open_vSwitch', '.', 'external_ids')).to.not.include(GENERATION_KEY);
  });

  describe('the generation fence', () => {
    let c5: OvsdbClient;
    let c6: OvsdbClient;
    const opts5 = (): HostSetupOptions => ({ ...base, generation: 5 });
    const opts6 = (): HostSetupOptions => ({ ...base, generation: 6 });
    before(async () => {
      [c5, c6] = await Promise.all([1, 2].map(() => OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: VSWITCH_TABLES })));
      await ovs.plugVm('tap-vm1', 'vm-1');
      await ovs.plugVm('tap-vm2', 'vm-2');
      await eventually(() => pluggedPortsFrom(vswitchView(client.replica)).size === 2 && [c5, c6].every((c) => pluggedPortsFrom(vswitchView(c.replica)).size === 2),
        'every replica to see both VMs plugged');
    });
    after(async () => {
      await c5?.close();
      await c6?.close();
    });

    it('lets the leader of generation 5 write once it took the host over', async () => {
      expect(await hostGeneration(c5)).to.include({ generation: undefined });
      // Not taken over yet: a fenced setup is refused (nothing recorded).
      await applyHostSetup(c5, state(), opts5()).then(() => expect.fail('applied without a take-over'), (err: unknown) => {
        expect(err).to.be.instanceOf(FencedError).and.include({ generation: 5, seen: undefined });
      });
      expect(await get('Port', 'tap-vm1', 'tag')).to.equal('[]');
      expect(await takeOverHost(c5, 5)).to.equal(undefined);
      expect(await get('Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).to.equal('"5"');
      expect(await applyHostSetup(c5, state(), opts5())).to.be.above(0);
      expect([await get('Port', 'tap-vm1', 'tag'), await get('Port', 'tap-vm2', 'tag')]).to.deep.equal(['1', '2']);
    });

    it('refuses the whole of generation 5\'s transactions once 6 took over, and the database stays as it was', async () => {
      expect(await takeOverHost(c6, 6)).to.equal(5);
      expect(await get('Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).to.equal('"6"');
      // vm-1 leaves (its port goes to the dead VLAN) and a new remote host shares net-1002 (a br-tun port).
      const changed = state([
        '', '{"type":"remove","kind":"port","id":"vm-1"}', '{"type":"host","name":"compute2","tunnelIp":"10.0.100.99"}',
        '{"type":"port","id":"vm-9","network":"net-1002","host":"compute2","mac":"fa:16:3e:83:95:99","fixedIps":["10.0.1.9"]}',
      ].join('\n'));
      await eventually(() => vswitchView(c5.replica).bridges.get('br-int')!.ports.some((p) => p.name === 'tap-vm1' && p.tag === 1), 'replica 5 to be current');
      expect(planHostSetup(vswitchView(c5.replica), changed, opts5()).length).to.be.above(1);
      const before = await dump(ovs);
      await applyHostSetup(c5, changed, opts5()).then(() => expect.fail('the old leader\'s setup applied'), (err: unknown) => {
        expect(err).to.be.instanceOf(FencedError).and.include({ generation: 5, seen: 6 });
        expect((err as Error).message).to.equal('fenced: OVSDB holds generation 6, this leader\'s is 5; nothing written');
      });
      expect(await dump(ovs)).to.deep.equal(before);
      // The new leader's same change goes in.
      await eventually(() => vswitchView(c6.replica).bridges.get('br-int')!.ports.some((p) => p.name === 'tap-vm1' && p.tag === 1), 'replica 6 to be current');
      expect(await applyHostSetup(c6, changed, opts6())).to.be.above(1);
      expect(await get('Port', 'tap-vm1', 'tag')).to.equal('4095');
      expect((await ovs.vsctl('list-ports', 'br-tun')).trim().split('\n')).to.include('vxlan-0a006463');
      expect(await dump(ovs)).to.not.deep.equal(before);
    });

    it('never lowers the generation; taking over again at the same one writes nothing', async () => {
      const before = await dump(ovs);
      for (const [c, g] of [[c5, 5], [c6, 4]] as const) {
        await takeOverHost(c, g).then(() => expect.fail(`lowered to ${g}`), (err: unknown) => expect(err).to.be.instanceOf(FencedError).and.include({ generation: g, seen: 6 }));
      }
      expect(await takeOverHost(c6, 6)).to.equal(6);
      expect(await dump(ovs)).to.deep.equal(before);
      // A higher one takes over from 6 in turn.
      expect(await takeOverHost(c5, 7)).to.equal(6);
      expect(await get('Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).to.equal('"7"');
    });

    it('refuses a recorded generation that does not parse, naming the key', async () => {
      await ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:${GENERATION_KEY}=seven`);
      await takeOverHost(c6, 8).then(() => expect.fail('took over'), (err: Error) =>
        expect(err.message).to.equal(`Open_vSwitch external_ids:${GENERATION_KEY}: "seven" is not a generation`));
      expect(await get('Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).to.equal('seven');
      await ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:${GENERATION_KEY}=7`);
    });

    it('leaves single-process mode as it was: no fence is waited on or written', async () => {
      // The generation recorded by leaders is neither checked nor changed without one.
      const back = state();
      await eventually(() => vswitchView(client.replica).bridges.get('br-int')!.ports.some((p) => p.name === 'tap-vm1' && p.tag === 4095), 'the replica to be current');
      expect(await applyHostSetup(client, back, base)).to.be.above(0);
      expect(await get('Port', 'tap-vm1', 'tag')).to.equal('1');
      expect(await get('Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).to.equal('"7"');
    });
  });
});

describe('a host agent as a leader (real OVS)', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let other: OvsdbClient;
  let agent: HostAgent | undefined;
  before(async () => {
    ovs = await OvsSandbox.start({});
    await ovs.plugVm('tap-vm1', 'vm-1');
    await ovs.plugVm('tap-vm2', 'vm-2');
    other = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: VSWITCH_TABLES });
  });
  after(async () => {
    await agent?.stop();
    await other?.close();
    await ovs?.stop();
  });

  it('takes the host over before it writes, and stops writing once a newer leader took it over', async () => {
    const targets = ['a', 'b'].map((n) => `unix:${ovs.dir}/${n}.sock`);
    const setup: HostSetupOptions = { controllerTarget: targets, datapathType: 'netdev', maxBackoffMs: 1000, generation: 5 };
    const fenced: FencedError[] = [];
    agent = new HostAgent('compute', ovs.dbTarget, { pipeline: pipelineOptions(), setup, onFenced: (_host, err) => fenced.push(err) });
    await agent.start();
    agent.setTopology(parseTopology(TOPO));
    await eventually(async () => (await ovs.vsctl('get', 'Port', 'tap-vm2', 'tag')).trim() === '2', 'the agent to set the host up');
    await agent.idle();
    expect(agent.status().errors).to.deep.equal([]);
    expect((await ovs.vsctl('get', 'Open_vSwitch', '.', `external_ids:${GENERATION_KEY}`)).trim()).to.equal('"5"');
    expect((await ovs.vsctl('get-controller', 'br-int')).trim().split('\n').sort()).to.deep.equal(targets);
    expect(fenced).to.deep.equal([]);

    expect(await takeOverHost(other, 6)).to.equal(5);
    await eventually(() => fenced.length > 0, 'the agent to see it is fenced');
    expect(fenced).to.have.length(1);
    expect(fenced[0]).to.include({ generation: 5, seen: 6 });
    expect(agent.fenced).to.equal(fenced[0]);
    // vm-1 leaves: the fenced agent writes nothing.
    const gone = parseTopology(`${TOPO}\n{"type":"remove","kind":"port","id":"vm-1"}`);
    const before = await dump(ovs);
    agent.setTopology(gone);
    await agent.idle();
    expect(await dump(ovs)).to.deep.equal(before);
    expect(agent.status().errors).to.deep.equal(['fenced: OVSDB holds generation 6, this leader\'s is 5; nothing written']);
    // The leader of generation 6 does make that change.
    const state = deriveHostState(gone, 'compute', { plugged: pluggedPortsFrom(vswitchView(other.replica)) });
    expect(await applyHostSetup(other, state, { ...setup, generation: 6 })).to.be.above(0);
    expect((await ovs.vsctl('get', 'Port', 'tap-vm1', 'tag')).trim()).to.equal('4095');
  });

  it('following, it monitors no tunnel interface; leading, every interface (its pass needs the tunnels)', async () => {
    await agent?.stop();
    let lead: bigint | undefined = 8n;
    const setup: HostSetupOptions = { controllerTarget: [`unix:${ovs.dir}/a.sock`], datapathType: 'netdev', maxBackoffMs: 1000 };
    agent = new HostAgent('compute', ovs.dbTarget, { pipeline: pipelineOptions(), setup, leader: () => lead, role: { role: 'slave' } });
    await agent.start();
    // The tunnel interfaces the agent's OVSDB replica holds (its view: what it monitors).
    const tunnels = (): string[] => (agent!.view()?.bridges.get('br-tun')?.ports ?? []).flatMap((p) => p.interfaces)
      .filter((i) => i.type === 'vxlan').map((i) => i.name);
    const inOvsdb = async (): Promise<string[]> => (await ovs.vsctl('--bare', '--columns=name', 'find', 'Interface', 'type=vxlan')).trim().split('\n').filter(Boolean);
    const pass = async (): Promise<void> => {
      await agent!.schedule();
      await agent!.idle();
      expect(agent!.status().errors).to.deep.equal([]);
    };
    // Leading: it sets the host up, the tunnel to the network node too.
    agent.setTopology(parseTopology(TOPO));
    await pass();
    expect(await inOvsdb()).to.deep.equal(['vxlan-0a00644d']);
    expect(tunnels()).to.deep.equal(['vxlan-0a00644d']);
    // Following: the tunnels leave its replica; the plugged ports on br-int stay followed.
    lead = undefined;
    await pass();
    await eventually(() => tunnels().length === 0, 'the tunnels to leave the replica');
    expect([...agent.programmedPorts()!].sort()).to.deep.equal(['vm-1', 'vm-2']);
    // Leading again: every interface is back before its pass reads OVSDB, so it finds the tunnel
    // and adds none (a second Port of that name would fail the transaction).
    lead = 9n;
    await pass();
    expect(tunnels()).to.deep.equal(['vxlan-0a00644d']);
    expect(await inOvsdb()).to.deep.equal(['vxlan-0a00644d']);
  });
});
