// `ofctl-ts audit` against a real host converged by the controller (then stopped, so that nothing
// repairs what the test changes): equal → 0, drift → 1 with the lines `ovs-ofctl diff-flows` prints
// for our flows, unreachable or unauditable hosts → 2 with the host named.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../lib/controller/controller.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { runCli } from '../../testing/run-cli.js';

describe('ofctl-ts audit', function () {
  this.timeout(60_000);
  let box: OvsSandbox;
  let topo: string;
  const pipeline = pipelineOptions({ controllerId: 'test' });
  const cookie = `0x${pipeline.cookies.brTun.toString(16)}`;
  const lines = [
    '{"type":"host","name":"b","tunnelIp":"10.250.0.2"}',
    '{"type":"network","id":"red","vni":1001}',
    '{"type":"port","id":"vm-a","network":"red","host":"a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.251.0.1"]}',
    '{"type":"port","id":"vm-b","network":"red","host":"b","mac":"fa:16:3e:00:00:0b","fixedIps":["10.251.0.2"]}',
  ];
  /** Our flows on each bridge as the controller left them, counted by OVS. */
  let nTun = 0;
  let nInt = 0;
  const audit = (...args: string[]): ReturnType<typeof runCli> => runCli(['audit', '--topology', topo, '--controller-id', 'test', ...args]);

  before(async () => {
    box = await OvsSandbox.start({});
    const hostA = `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${box.dbSock}"}`;
    topo = join(box.dir, 'topology.jsonl');
    writeFileSync(topo, `${[hostA, ...lines].join('\n')}\n`);
    const store = new TopologyStore();
    for (const l of [hostA, ...lines]) expect(store.applyLine(l).ok).to.equal(true);
    const port = await freePort();
    const ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    });
    await ctl.start();
    try {
      await eventually(() => Object.values(ctl.status().hosts[0]?.bridges ?? {}).filter((b) => b.connected).length === 2, 'both bridges to connect');
      await box.vsctl('add-port', 'br-int', 'tap-a', '--', 'set', 'Interface', 'tap-a', 'type=internal', 'external_ids:iface-id=vm-a');
      await eventually(async () => (await box.vsctl('get', 'Port', 'tap-a', 'tag')).trim() === '1', 'tap-a to be tagged');
      await ctl.idle();
    } finally {
      await ctl.stop();
    }
    const count = async (br: string, c: bigint): Promise<number> =>
      (await box.ofctl('dump-flows', '--no-stats', box.mgmtTarget(br), `cookie=0x${c.toString(16)}/-1`)).split('\n').filter((l) => l.includes('cookie=')).length;
    [nTun, nInt] = [await count('br-tun', pipeline.cookies.brTun), await count('br-int', pipeline.cookies.brInt)];
    expect(nTun).to.be.above(10);
    expect(nInt).to.be.above(10);
    // A learned flow (through br-tun's learn action) and a foreign one: counted, never compared.
    await box.appctl('ofproto/trace', 'br-tun', 'in_port=2,tun_id=0x3e9,dl_src=fa:16:3e:00:00:0b,dl_dst=fa:16:3e:00:00:0a', '-generate');
    await box.ofctl('add-flow', box.mgmtTarget('br-tun'), 'cookie=0x1234,table=3,priority=7,dl_dst=fa:16:3e:00:00:99,actions=drop');
  });
  after(async () => {
    await box?.stop();
  });

  it('a host as the controller left it: exit 0, one equal line per bridge, learned and foreign flows counted', async () => {
    const r = await audit('--host', 'a');
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout.trim().split('\n')).to.deep.equal([
      `host a bridge br-tun: equal, ${nTun} flows (ignored: 1 learned, 1 foreign)`,
      `host a bridge br-int: equal, ${nInt} flows (ignored: 0 learned, 0 foreign)`,
    ]);
    const only = await audit('--all', '--bridge', 'br-int');
    expect([only.code, only.stdout.trim()]).to.deep.equal([0, `host a bridge br-int: equal, ${nInt} flows (ignored: 0 learned, 0 foreign)`]);
  });

  it('a drifted host: exit 1 and the missing, extra and different flows, as ovs-ofctl diff-flows prints them', async () => {
    // What the controller installed, as OVS prints it: the reference for ovs-ofctl diff-flows below.
    const want = join(box.dir, 'want.flows');
    writeFileSync(want, (await box.ofctl('dump-flows', '--no-stats', box.mgmtTarget('br-tun'), `cookie=${cookie}/-1`))
      .split('\n').filter((l) => l.includes('cookie=') && !l.includes('hard_timeout=300')).join('\n'));
    const tun = box.mgmtTarget('br-tun');
    await box.ofctl('del-flows', '--strict', tun, 'table=4,priority=1,tun_id=0x3e9');
    await box.ofctl('mod-flows', '--strict', tun, 'table=22,priority=1,dl_vlan=1,actions=drop');
    await box.ofctl('add-flow', tun, `cookie=${cookie},table=3,priority=5,dl_dst=fa:16:3e:00:00:77,actions=drop`);
    const r = await audit('--host', 'a', '--bridge', 'br-tun');
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(1);
    const [header, ...diff] = r.stdout.trim().split('\n');
    expect(header).to.equal(`host a bridge br-tun: 1 missing, 1 extra, 1 different (${nTun} flows of ours on the switch; ignored: 1 learned, 1 foreign)`);
    expect(diff).to.deep.equal([
      `-table=22 priority=1,dl_vlan=1 cookie=${cookie} actions=pop_vlan,set_field:0x3e9->tun_id,output:2`,
      `+table=22 priority=1,dl_vlan=1 cookie=${cookie} actions=drop`,
      `+table=3 priority=5,dl_dst=fa:16:3e:00:00:77 cookie=${cookie} actions=drop`,
      `-table=4 priority=1,tun_id=0x3e9 cookie=${cookie} actions=push_vlan:0x8100,set_field:4097->vlan_vid,goto_table:10`,
    ]);
    // OVS's own diff-flows, from what the controller installed to the bridge, says the same of our flows.
    const ovs = (await box.ofctl('diff-flows', want, tun).catch((e: { stdout: string }) => e.stdout))
      .split('\n').filter((l) => l.includes(`cookie=${cookie}`) && !l.includes('hard_timeout=300'));
    expect([...diff].sort()).to.deep.equal(ovs.sort());
    // The other bridge is still equal, and named as such.
    const both = await audit('--all');
    expect(both.code).to.equal(1);
    expect(both.stdout).to.include(`host a bridge br-int: equal, ${nInt} flows`);
  });

  it('an unreachable host, or one whose bridges are out of reach: exit 2, the host named', async () => {
    const bad = join(box.dir, 'bad.jsonl');
    writeFileSync(bad, [
      `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${box.dbSock}"}`,
      `{"type":"host","name":"gone","tunnelIp":"10.250.0.3","ovsdb":"unix:${join(box.dir, 'nowhere', 'db.sock')}"}`,
      '{"type":"host","name":"remote","tunnelIp":"10.250.0.4","ovsdb":"tcp:127.0.0.1:1"}',
      ...lines, '',
    ].join('\n'));
    const gone = await runCli(['audit', '--topology', bad, '--host', 'gone']);
    expect(gone.code).to.equal(2);
    expect(gone.stderr).to.match(/^ofctl-ts: audit: host gone: cannot read its OVSDB at unix:\S+nowhere\/db\.sock: .*ENOENT/);
    const remote = await runCli(['audit', '--topology', bad, '--host', 'remote']);
    expect(remote.code).to.equal(2);
    expect(remote.stderr).to.match(/host remote: its OVSDB is tcp:127\.0\.0\.1:1, not a local unix socket: .* --host remote --rundir DIR/);
    // --all: the reachable host is still reported; the error decides the exit code.
    const all = await runCli(['audit', '--topology', bad, '--all', '--controller-id', 'test', '--bridge', 'br-int']);
    expect(all.code).to.equal(2);
    expect(all.stdout.trim()).to.equal(`host a bridge br-int: equal, ${nInt} flows (ignored: 0 learned, 0 foreign)`);
    expect(all.stderr).to.match(/host gone: cannot read its OVSDB/);
    expect(all.stderr).to.match(/host remote: its OVSDB is tcp:/);
    // A wrong run directory names the socket it tried.
    const wrong = await runCli(['audit', '--topology', bad, '--host', 'a', '--rundir', join(box.dir, 'nowhere')]);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.match(/host a: bridge br-tun: cannot dump unix:\S+nowhere\/br-tun\.mgmt/);
    const usage = await runCli(['audit', '--topology', bad]);
    expect([usage.code, usage.stderr.trim()]).to.deep.equal([2, 'ofctl-ts: audit: name one host (--host NAME) or --all']);
  });
});
