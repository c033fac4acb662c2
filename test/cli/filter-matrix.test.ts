// Every filter form of dump-flows and del-flows through both tools, on twin sandboxed bridges
// loaded with the same flows: ovs-ofctl -O OpenFlow13 is the judge. For each form the two tools
// must agree on the exit code (success or refusal), on the warning ovs-ofctl prints for a match it
// normalises, on the flows a dump prints, and on the table each bridge holds afterwards.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OvsSandbox } from '../../testing/sandbox.js';
import { runCli } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

const run = promisify(execFile);

// Several tables, priorities, cookies and output ports, so that every filter selects a different part.
const FLOWS = [
  'table=0,priority=10,cookie=0x1,ip,actions=output:1',
  'table=0,priority=5,cookie=0x2,arp,actions=output:2',
  'table=0,priority=1,cookie=0x10,actions=goto_table:3',
  'table=3,priority=10,cookie=0x1,ip,actions=drop',
  'table=3,priority=10,cookie=0x11,tcp,tp_dst=80,actions=output:3',
  'table=3,priority=1,cookie=0x12,actions=LOCAL',
  'table=5,priority=10,cookie=0x3,in_port=1,dl_dst=00:11:22:33:44:55,actions=output:2',
  'table=5,priority=1,cookie=0x3,actions=output:1,output:2',
  'table=20,priority=1,actions=resubmit(,3)',
];

/** Filter forms an operator types: valid ones, ones ovs-ofctl refuses, ones it normalises. */
const FILTERS = [
  '', 'priority=1', 'priority=10,ip', 'priority=10', 'priority', 'table=3', 'table=03', 'table=255', 'table=all',
  'table=256', 'table=0x3', 'table=-1', 'cookie=0x1', 'cookie=0x1/-1', 'cookie=0x1/0xf', 'cookie=0x10/0x10',
  'cookie=0x1/', 'cookie=abc/-1', 'out_port=2', 'out_port=LOCAL', 'out_port=foo', 'out_port=4294967294',
  'out_group=any', 'out_group=all', 'out_group=x', 'ip', 'tcp,tp_dst=80', 'tp_dst=80', 'nw_src=10.0.0.1',
  'in_port=1', 'table=5,in_port=1,dl_dst=00:11:22:33:44:55', 'idle_timeout=5', 'hard_timeout=5', 'importance=1',
  'actions=drop', 'actions', 'foo=1', 'send_flow_rem', 'check_overlap', 'n_packets=0', 'duration=1s',
  'no_readonly_table', 'table=3,priority=10,ip', 'table=3,priority=10,cookie=0x1/-1,ip', 'priority=5,arp',
  'table=3,priority=1', 'priority=10,tcp,tp_dst=80', 'table=5,priority=10,in_port=1,dl_dst=00:11:22:33:44:55',
];

const COMMANDS: ReadonlyArray<readonly string[]> = [['dump-flows'], ['del-flows'], ['del-flows', '--strict']];

interface Outcome {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** A dump's lines with what differs between two sessions masked, sorted. */
const comparable = (s: string): string[] => s.split('\n').filter((l) => l.startsWith(' '))
  .map((l) => l.replace(/duration=[0-9.]+s/, 'duration=X')).sort();

describe('dump-flows and del-flows filters: ofctl-ts and ovs-ofctl on twin bridges', function () {
  this.timeout(300_000);
  let ovs: OvsSandbox;
  const tmp = tempDir('ofctl-ts-filters-');
  const flowFile = join(tmp, 'flows.txt');
  writeFileSync(flowFile, `${FLOWS.join('\n')}\n`);

  const ovsOfctl = async (args: readonly string[]): Promise<Outcome> => {
    try {
      const { stdout, stderr } = await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', ...args], { env: { ...process.env, OVS_RUNDIR: ovs.dir } });
      return { ok: true, stdout, stderr };
    } catch (err) {
      const e = err as { stdout: string; stderr: string };
      return { ok: false, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const reset = async (): Promise<void> => {
    for (const br of ['ours', 'ref']) await ovs.ofctl('--bundle', 'replace-flows', ovs.mgmtTarget(br), flowFile);
  };

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['ours', 'ref'] });
    await reset();
    // The same flows, as both bridges hold them.
    expect(await ovs.dumpFlowsSorted('ours')).to.deep.equal(await ovs.dumpFlowsSorted('ref'));
    expect(await ovs.dumpFlowsSorted('ours')).to.have.length(FLOWS.length);
  });
  after(async () => {
    await ovs?.stop();
  });

  for (const command of COMMANDS) {
    it(`${command.join(' ')}: the same verdict, warnings, output and table for ${FILTERS.length} filter forms`, async () => {
      const mismatches: string[] = [];
      let refused = 0;
      let changedTable = 0;
      for (const filter of FILTERS) {
        const args = (br: string): string[] => [...command, br, ...(filter ? [filter] : [])];
        const theirs = await ovsOfctl(args(ovs.mgmtTarget('ref')));
        const ours = await runCli(args('ours'), { OVS_RUNDIR: ovs.dir });
        const label = `${command.join(' ')} '${filter}'`;
        if (ours.code !== 0 !== !theirs.ok) mismatches.push(`${label}: exit ${ours.code}, ovs-ofctl ${theirs.ok ? 'succeeded' : `refused: ${theirs.stderr.trim()}`}`);
        if (!theirs.ok) {
          refused++;
          // A refusal is one line on stderr naming the problem, and nothing was sent.
          if (!/^ofctl-ts: [a-z-]+: .+\n$/.test(ours.stderr)) mismatches.push(`${label}: refusal not one line: ${JSON.stringify(ours.stderr)}`);
        }
        const warned = (s: string): boolean => s.includes('normalization changed ofp_match');
        if (warned(ours.stderr) !== warned(theirs.stderr)) mismatches.push(`${label}: normalization warning ${warned(ours.stderr)} vs ${warned(theirs.stderr)}`);
        if (command[0] === 'dump-flows' && theirs.ok) {
          if (JSON.stringify(comparable(ours.stdout)) !== JSON.stringify(comparable(theirs.stdout))) {
            mismatches.push(`${label}: printed\n${ours.stdout}\novs-ofctl printed\n${theirs.stdout}`);
          }
        }
        const [a, b] = [await ovs.dumpFlowsSorted('ours'), await ovs.dumpFlowsSorted('ref')];
        if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push(`${label}: tables differ afterwards\nours: ${a.join('\n      ')}\nref:  ${b.join('\n      ')}`);
        if (b.length !== FLOWS.length) {
          changedTable++;
          await reset();
        }
      }
      expect(mismatches, mismatches.join('\n')).to.deep.equal([]);
      // The matrix really exercises both sides: refusals, and (for deletes) flows really deleted.
      expect(refused).to.be.above(10);
      if (command[0] === 'del-flows') expect(changedTable).to.be.above(command.includes('--strict') ? 5 : 8);
    });
  }

  it('del-flows --strict without a table deletes the flow in every table, as ovs-ofctl does', async () => {
    await reset();
    const r = await runCli(['del-flows', '--strict', 'ours', 'priority=10,ip'], { OVS_RUNDIR: ovs.dir });
    expect(r.code, r.stderr).to.equal(0);
    const left = await ovs.dumpFlowsSorted('ours');
    expect(left.filter((l) => /priority=10,ip /.test(l))).to.deep.equal([]);
    expect(left).to.have.length(FLOWS.length - 2);
  });
});
