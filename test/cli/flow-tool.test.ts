// The flow tool against a real, sandboxed ovs-vswitchd: ovs-ofctl is the judge of every result.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { runCli } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

const SEED = new URL('../../../fixtures/seed-003/', import.meta.url);
const seedFile = (name: string): string => new URL(name, SEED).pathname;
const sortedLines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0).sort();

describe('ofctl-ts flow tool against a real ovs-vswitchd', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let env: NodeJS.ProcessEnv;
  const tmp = tempDir('ofctl-ts-cli-');

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-tun'] });
    // The seed's ports: patch-int is ofport 1, the VXLAN tunnel to 10.0.100.77 is ofport 2.
    await ovs.vsctl('add-port', 'br-tun', 'patch-int', '--', 'set', 'Interface', 'patch-int', 'type=patch',
      'options:peer=patch-tun', 'ofport_request=1', '--', 'add-port', 'br-tun', 'vxlan-0a00644d', '--', 'set',
      'Interface', 'vxlan-0a00644d', 'type=vxlan', 'options:remote_ip=10.0.100.77', 'options:local_ip=10.0.100.88',
      'options:in_key=flow', 'options:out_key=flow', 'ofport_request=2');
    env = { OVS_RUNDIR: ovs.dir };
  });
  after(async () => {
    await ovs?.stop();
  });
  beforeEach(async () => {
    await ovs.ofctl('del-flows', ovs.mgmtTarget('br-tun'));
  });

  it('add-flows loads the seed pipeline; dump-flows --no-stats prints exactly what ovs-ofctl prints', async () => {
    const add = await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    expect(add.stderr).to.equal('');
    expect(add.code).to.equal(0);
    const ours = await runCli(['dump-flows', 'br-tun', '--no-stats'], env);
    expect(ours.code).to.equal(0);
    const theirs = await ovs.ofctl('dump-flows', '--no-stats', ovs.mgmtTarget('br-tun'));
    expect(sortedLines(ours.stdout)).to.deep.equal(sortedLines(theirs));
    expect(sortedLines(ours.stdout)).to.deep.equal(sortedLines(readFileSync(seedFile('compute-br-tun.ovs31-of13-nostats.txt'), 'utf8')));
  });

  it('dump-flows with stats prints the same flows as plain ovs-ofctl dump-flows (durations aside)', async () => {
    await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    // Mask the durations before sorting: they differ between the two dumps and would reorder lines.
    const strip = (s: string): string[] => s.split('\n').filter((l) => l.length > 0 && !l.startsWith('OFPST_FLOW'))
      .map((l) => l.replace(/duration=[0-9.]+s/, 'duration=X')).sort();
    const ours = await runCli(['dump-flows', 'br-tun'], env);
    const theirs = await ovs.ofctl('dump-flows', ovs.mgmtTarget('br-tun'));
    expect(strip(ours.stdout)).to.deep.equal(strip(theirs));
    expect(strip(ours.stdout)).to.have.length(13);
  });

  it('add-flows is one atomic bundle: a flow the switch refuses leaves the table untouched', async () => {
    const file = join(tmp, 'bad.flows');
    // Group 77 does not exist: OVS refuses the second flow, so the first must not be installed either.
    writeFileSync(file, 'table=3,priority=9 actions=drop\ntable=3,priority=8 actions=group:77\n');
    const r = await runCli(['add-flows', 'br-tun', file], env);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`nothing was applied; the switch refused ${file}:2: OFPET_BAD_ACTION/OFPBAC_BAD_OUT_GROUP`);
    expect(r.stderr).to.include('table=3,priority=8 actions=group:77');
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal([]);
  });

  it('a syntax error names the file, line and column, and nothing is sent', async () => {
    const file = join(tmp, 'typo.flows');
    writeFileSync(file, 'table=0,priority=1 actions=drop\n\n# comment\ntable=2,dl_dstt=01:00:00:00:00:00 actions=drop\n');
    const r = await runCli(['add-flows', 'br-tun', file], env);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`${file}:4: column 9: unknown keyword dl_dstt`);
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal([]);
  });

  it('replace-flows applies only the edited flows, in one bundle, and leaves the others in place', async () => {
    await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    const before = await ovs.ofctl('dump-flows', ovs.mgmtTarget('br-tun'));
    await new Promise((r) => setTimeout(r, 1100));
    const edited = readFileSync(seedFile('compute-br-tun.add-flows.txt'), 'utf8')
      .replace('table=4,priority=1,tun_id=0x3e9 actions=mod_vlan_vid:1,resubmit(,10)', 'table=4,priority=1,tun_id=0x3e9 actions=mod_vlan_vid:7,resubmit(,10)')
      .replace('table=3,priority=0 actions=drop\n', '')
      .concat('table=22,priority=1,dl_vlan=7 actions=strip_vlan,set_tunnel:0x3e9,output:2\n');
    const file = join(tmp, 'edited.flows');
    writeFileSync(file, edited);
    const r = await runCli(['replace-flows', 'br-tun', file], env);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('3 flow-mods: 1 added, 1 modified, 1 deleted');
    const after = await ovs.ofctl('dump-flows', ovs.mgmtTarget('br-tun'));
    // The switch now holds exactly the file.
    const want = await runCli(['diff-flows', 'br-tun', file], env);
    expect(want.code, want.stdout + want.stderr).to.equal(0);
    // Untouched flows were not re-added: they keep their age.
    const ages = (s: string): Map<string, number> => new Map(sortedLines(s).filter((l) => l.includes('duration='))
      .map((l) => [l.replace(/cookie=[^,]+, duration=[0-9.]+s, /, '').replace(/n_packets=\d+, n_bytes=\d+, /, ''),
        Number(/duration=([0-9.]+)s/.exec(l)![1])]));
    const b = ages(before);
    const a = ages(after);
    let kept = 0;
    for (const [flow, age] of a) {
      if (b.has(flow)) {
        expect(age, flow).to.be.at.least(1);
        kept++;
      }
    }
    expect(kept).to.equal(11); // 13 seed flows less the modified and the deleted one
  });

  it('diff-flows: exit 0 when equal, 2 with -/+ lines when different, 1 on error (as ovs-ofctl)', async () => {
    await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    const same = await runCli(['diff-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    expect(same.code).to.equal(0);
    expect(same.stdout).to.equal('');
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br-tun'), 'table=3,priority=5,actions=drop');
    const diff = await runCli(['diff-flows', seedFile('compute-br-tun.add-flows.txt'), 'br-tun'], env);
    expect(diff.code).to.equal(2);
    expect(diff.stdout.trim()).to.equal('+table=3 priority=5 actions=drop');
    const bad = await runCli(['diff-flows', 'br-tun', 'tcp:127.0.0.1:1'], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/connecting to tcp:127\.0\.0\.1:1 \(Connection refused\)/);
  });

  it('diff-flows and replace-flows: a TLV-mapped tun_metadata length is no difference, as for ovs-ofctl', async () => {
    await ovs.addBridge('br-tlv');
    const t = ovs.mgmtTarget('br-tlv');
    await ovs.ofctl('add-tlv-map', t, '{class=0xffff,type=0,len=4}->tun_metadata0');
    const file = join(tmp, 'tlv.flows');
    writeFileSync(file, 'table=1,tun_metadata0=0x1 actions=drop\ntable=1,tun_metadata0=0x10/0xf0 actions=move:reg0[0..7]->tun_metadata0[0..7]\n');
    await ovs.ofctl('add-flows', t, file);
    // The switch sends the values (and the move's field header) at the mapped 4 bytes, not 1.
    const hex = (await ovs.ofctl('-mmmmm', 'dump-flows', t)).split('\n').map((l) => /^[0-9a-f]{8} {2}(.{48})/.exec(l)?.[1] ?? '').join('').replace(/[ -]/g, '');
    expect(hex).to.contain('0001500400000001').and.to.contain('0001510800000010000000f0').and.to.contain('00015004');
    await ovs.ofctl('diff-flows', t, file); // ovs-ofctl: the same flows (exit 0)
    const same = await runCli(['diff-flows', 'br-tlv', file], env);
    expect([same.code, same.stdout]).to.deep.equal([0, '']);
    const replaced = await runCli(['replace-flows', 'br-tlv', file], env);
    expect(replaced.stdout.trim()).to.equal('0 flow-mods: 0 added, 0 modified, 0 deleted');
    writeFileSync(file, 'table=1,tun_metadata0=0x2 actions=drop\ntable=1,tun_metadata0=0x10/0xf0 actions=move:reg0[0..7]->tun_metadata0[0..7]\n');
    const changed = await runCli(['diff-flows', 'br-tlv', file], env);
    expect([changed.code, changed.stdout.trim()]).to.deep.equal([2, '-table=1 tun_metadata0=0x1 actions=drop\n+table=1 tun_metadata0=0x2 actions=drop']);
  });

  it('dump-flows --diff FILE is a golden check of a live bridge', async () => {
    await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    const ok = await runCli(['dump-flows', 'br-tun', '--diff', seedFile('compute-br-tun.add-flows.txt')], env);
    expect(ok.code).to.equal(0);
    await ovs.ofctl('del-flows', '--strict', ovs.mgmtTarget('br-tun'), 'table=3,priority=0');
    const missing = await runCli(['dump-flows', 'br-tun', '--diff', seedFile('compute-br-tun.add-flows.txt')], env);
    expect(missing.code).to.equal(1);
    expect(missing.stdout.trim()).to.equal('-table=3 priority=0 actions=drop');
  });

  it('dump-flows MATCH and del-flows MATCH select like ovs-ofctl', async () => {
    await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    const t4 = await runCli(['dump-flows', 'br-tun', 'table=4', '--no-stats'], env);
    expect(sortedLines(t4.stdout)).to.deep.equal(sortedLines(await ovs.ofctl('dump-flows', '--no-stats', ovs.mgmtTarget('br-tun'), 'table=4')));
    const del = await runCli(['del-flows', 'br-tun', 'table=20'], env);
    expect(del.code).to.equal(0);
    expect((await ovs.dumpFlowsSorted('br-tun')).filter((l) => l.startsWith(' table=20,'))).to.deep.equal([]);
    expect(await ovs.dumpFlowsSorted('br-tun')).to.have.length(11);
  });

  it('ofproto/trace follows the seed path for a unicast frame from patch-int and a frame from the tunnel', async () => {
    await runCli(['add-flows', 'br-tun', seedFile('compute-br-tun.add-flows.txt')], env);
    const out = await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:83:95:fa');
    expect(out).to.match(/ 0\. in_port=1, priority 1\s+resubmit\(,2\)/);
    expect(out).to.match(/ 2\. dl_dst=00:00:00:00:00:00\/01:00:00:00:00:00, priority 0\s+resubmit\(,20\)/);
    expect(out).to.match(/20\. vlan_tci=0x0001\/0x0fff,dl_dst=fa:16:3e:83:95:fa, priority 1\s+load:0->NXM_OF_VLAN_TCI\[\]\s+load:0x3e9->NXM_NX_TUN_ID\[\]\s+output:2/);
    const fromTunnel = await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=2,tun_id=0x3e9,dl_src=fa:16:3e:83:95:fb,dl_dst=fa:16:3e:00:00:01', '-generate');
    expect(fromTunnel).to.match(/ 0\. in_port=2, priority 1\s+resubmit\(,4\)/);
    expect(fromTunnel).to.match(/ 4\. tun_id=0x3e9, priority 1\s+push_vlan:0x8100\s+set_field:4097->vlan_vid\s+resubmit\(,10\)/);
    expect(fromTunnel).to.match(/10\. priority 1\s+learn\(/);
    expect(fromTunnel).to.match(/output:1/);
    // -generate let the learn action install the reverse path, as in the seed dump.
    const learned = await runCli(['dump-flows', 'br-tun', 'table=20,dl_dst=fa:16:3e:83:95:fb', '--no-stats'], env);
    expect(learned.stdout.trim()).to.equal('table=20, hard_timeout=300, priority=1,vlan_tci=0x0001/0x0fff,dl_dst=fa:16:3e:83:95:fb actions=load:0->NXM_OF_VLAN_TCI[],load:0x3e9->NXM_NX_TUN_ID[],output:2');
  });

  it('fails clearly when the bridge does not exist', async () => {
    const r = await runCli(['dump-flows', 'br-nope'], env);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`br-nope is not a bridge or a socket (no ovs-vswitchd answers on ${join(ovs.dir, 'br-nope.mgmt')}`);
  });
});
