// ofctl-ts render: offline, and as a one-line audit of a live bridge.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../ovs/sandbox.js';
import { runCli } from './run-cli.js';

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

  it('rejects a bad topology with the line and reason', async () => {
    const r = await runCli(['render', '--topology', `${FIX}topologies/seed-003.jsonl`, '--host', 'nope']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('unknown host nope');
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
