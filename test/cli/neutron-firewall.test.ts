// Neutron's OVS-firewall br-int (security groups: conntrack, conjunction, reset_counts), as Neutron's
// agent installed it (fixtures/neutron-examples/sg-*, see the README there), loaded into a real,
// sandboxed ovs-vswitchd with ofctl-ts: both tools dump it identically, the switch holds exactly
// Neutron's flows, and our dump fed back through replace-flows changes nothing (issue 14).
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { tempDir } from '../../testing/temp-dir.js';

const EXAMPLES = new URL('../../../fixtures/neutron-examples/', import.meta.url);
/** The agent's random cookie is written `cookie=AGENT` in the fixtures; any fixed one does. */
const COOKIE = '0x5eed00c0ffee0001';
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe('Neutron OVS-firewall br-int through ofctl-ts and a real ovs-vswitchd', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let env: NodeJS.ProcessEnv;
  const tmp = tempDir('ofctl-ts-neutron-fw-');

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-int'] });
    env = { OVS_RUNDIR: ovs.dir };
  });
  after(async () => {
    await ovs?.stop();
  });

  // sg-remote-group's remote-group rules are conjunctive matches; sg-small has none.
  for (const [example, conjunction] of [['sg-small', false], ['sg-remote-group', true]] as const) {
    it(`${example}: add-flows, identical dumps with ovs-ofctl, and dump-flows → replace-flows sends zero flow-mods`, async () => {
      const flows = lines(readFileSync(new URL(`${example}/br-int.flows`, EXAMPLES), 'utf8')).map((l) => l.replaceAll('AGENT', COOKIE));
      // What the test is about: the firewall's conntrack, conjunctions and reset_counts.
      for (const needle of ['ct_state=', 'ct(commit', 'exec(', 'ct_mark', 'ct_zone', 'ct_clear', 'reset_counts', ...(conjunction ? ['conjunction('] : [])]) {
        expect(flows.some((l) => l.includes(needle)), `${example} uses ${needle}`).to.equal(true);
      }
      const file = join(tmp, `${example}.flows`);
      writeFileSync(file, `${flows.join('\n')}\n`);
      await ovs.ofctl('del-flows', ovs.mgmtTarget('br-int'));

      const add = await runCli(['add-flows', 'br-int', file], env);
      expect(add.stderr).to.equal('');
      expect(add.code).to.equal(0);

      const ours = await runCli(['dump-flows', 'br-int', '--no-stats'], env);
      expect(ours.stderr).to.equal('');
      expect(ours.code).to.equal(0);
      const theirs = await ovs.ofctl('dump-flows', '--no-stats', ovs.mgmtTarget('br-int'));
      expect(ours.stdout).to.equal(theirs);
      expect(ours.stdout).to.not.match(/unknown_oxm|raw\(/);
      // The switch holds exactly Neutron's flows (the fixture is the agent's dump, sorted).
      expect(lines(ours.stdout).map((l) => l.trim()).sort()).to.deep.equal([...flows].sort());

      const dumped = join(tmp, `${example}.dumped.flows`);
      writeFileSync(dumped, ours.stdout);
      const replace = await runCli(['replace-flows', 'br-int', dumped], env);
      expect(replace.stderr).to.equal('');
      expect(replace.code).to.equal(0);
      expect(replace.stdout).to.equal('0 flow-mods: 0 added, 0 modified, 0 deleted\n');
      expect(await ovs.ofctl('dump-flows', '--no-stats', ovs.mgmtTarget('br-int'))).to.equal(theirs);
    });
  }
});
