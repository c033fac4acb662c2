// ofctl-ts render: offline, and as a one-line audit of a live bridge.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OvsSandbox } from '../../testing/sandbox.js';
import { BIN, runCli } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

const FIX = new URL('../../../fixtures/', import.meta.url).pathname;

describe('ofctl-ts render', function () {
  this.timeout(60_000);

  it("prints the seed's compute br-tun (classic) exactly, sorted as sort sorts", async () => {
    const r = await runCli(['render', '--topology', `${FIX}topologies/seed-003.jsonl`, '--host', 'compute', '--bridge', 'br-tun',
      '--profile', 'classic'], { LC_ALL: 'C' });
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    const want = readFileSync(`${FIX}seed-003/compute-br-tun.ovs31-of13-nostats.txt`, 'utf8').split('\n')
      .filter((l) => l && !l.startsWith(' table=20, hard_timeout')).sort();
    expect(r.stdout.split('\n').filter((l) => l)).to.deep.equal(want);
  });

  it("--firewall openvswitch prints br-int with Neutron's firewall tables (the golden case); another driver is refused", async () => {
    const args = ['render', '--topology', `${FIX}topologies/neutron-sg-small.jsonl`, '--host', 'compute', '--bridge', 'br-int'];
    const r = await runCli([...args, '--firewall', 'openvswitch']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout.split('\n').filter((l) => l)).to.deep.equal(
      readFileSync(`${FIX}goldens/neutron-sg-small-firewall/compute.br-int.flows`, 'utf8').split('\n').filter((l) => l));
    const noop = await runCli(args);
    expect(noop.stdout).not.to.include('table=71');
    const bad = await runCli([...args, '--firewall', 'iptables']);
    expect(bad.code).not.to.equal(0);
    expect(bad.stderr).to.match(/firewall/);
  });

  it('rejects a bad topology with the line and reason', async () => {
    const r = await runCli(['render', '--topology', `${FIX}topologies/seed-003.jsonl`, '--host', 'nope']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('unknown host nope');
  });

  it('a stray word is an unexpected argument, an unknown --word an unknown option: one line each way', async () => {
    const t = `${FIX}topologies/seed-003.jsonl`;
    const stray = await runCli(['render', '--topology', t, '--host', 'compute', 'extra1', 'extra2']);
    expect([stray.code, stray.stderr]).to.deep.equal([1, 'ofctl-ts: render: unexpected arguments extra1, extra2 (see \'ofctl-ts render --help\')\n']);
    const both = await runCli(['render', '--bogus-flag', '--topology', t, '--host', 'compute', 'extra']);
    expect([both.code, both.stderr]).to.deep.equal([1, 'ofctl-ts: render: unknown option --bogus-flag; unexpected argument extra (see \'ofctl-ts render --help\')\n']);
  });

  it('--topology - reads standard input, through a spawned pipe and through a shell pipe', async () => {
    const topo = `${FIX}topologies/three-hosts.jsonl`;
    const args = ['render', '--host', 'h1', '--l2pop', '--arp-responder', '--bridge', 'br-int'];
    const fromFile = await runCli([...args, '--topology', topo]);
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    expect(fromFile.stdout.split('\n').length).to.be.above(10);
    const fromPipe = await runCli([...args, '--topology', '-'], {}, readFileSync(topo, 'utf8'));
    expect(fromPipe).to.deep.equal(fromFile);
    const sh = await promisify(execFile)('sh', ['-c', `cat "$1" | "$2" "$3" ${args.join(' ')} --topology -`, 'sh', topo, process.execPath, BIN]);
    expect(sh.stdout).to.equal(fromFile.stdout);
  });

  it('names every bad line of a topology on stdin as <stdin>:line', async () => {
    const lines = readFileSync(`${FIX}topologies/three-hosts.jsonl`, 'utf8').split('\n');
    const ports = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('"type":"port"')).map(([, i]) => i);
    const [p1, p2] = [ports[0]!, ports[1]!];
    lines[p1] = lines[p1]!.replace(/}$/, ',}');
    lines[p2] = lines[p2]!.replace(/}$/, ',"colour":"red"}');
    const r = await runCli(['render', '--host', 'h1', '--topology', '-'], {}, lines.join('\n'));
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(new RegExp(`<stdin>:${p1 + 1}: not JSON`));
    expect(r.stderr).to.include(`<stdin>:${p2 + 1}: unknown member "colour"`);
    // The same file on disk: the same lines, named by its path.
    const file = join(tempDir('ofctl-ts-render-'), 'bad.jsonl');
    writeFileSync(file, lines.join('\n'));
    const f = await runCli(['render', '--host', 'h1', '--topology', file]);
    expect(f.stderr).to.include(`${file}:${p2 + 1}: unknown member "colour"`);
  });

  it('render > want.flows && dump-flows --diff want.flows audits a live host', async () => {
    const ovs = await OvsSandbox.start({ bridges: ['br-tun'] });
    try {
      const env = { OVS_RUNDIR: ovs.dir };
      const r = await runCli(['render', '--topology', `${FIX}topologies/three-hosts.jsonl`, '--host', 'h1', '--l2pop', '--arp-responder']);
      const want = join(ovs.dir, 'want.flows');
      writeFileSync(want, r.stdout);
      expect((await runCli(['add-flows', 'br-tun', want], env)).code).to.equal(0);
      const ok = await runCli(['dump-flows', 'br-tun', '--diff', want], env);
      expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
      await ovs.ofctl('del-flows', '--strict', ovs.mgmtTarget('br-tun'), 'table=22,priority=1,dl_vlan=1');
      const drift = await runCli(['dump-flows', 'br-tun', '--diff', want], env);
      expect(drift.code).to.equal(1);
      expect(drift.stdout).to.match(/^-table=22 priority=1,dl_vlan=1 cookie=0x[0-9a-f]+ actions=pop_vlan,set_field:0x64->tun_id,output:2,output:3$/m);
    } finally {
      await ovs.stop();
    }
  });
});
