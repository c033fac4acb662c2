// `-` is standard input wherever the flow tool takes a FILE, through real pipes (a shell pipeline,
// as an operator types it); and --no-bundle says what it applied when the switch refuses a flow.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OvsSandbox } from '../../testing/sandbox.js';
import { BIN, CliResult, runCli } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

const exec = promisify(execFile);

const FLOWS = ['table=0,priority=10,ip,actions=output:1', 'table=3,priority=5,arp,actions=drop', 'table=3,priority=1,actions=LOCAL'];

describe('flow tool: - is standard input, through real pipes', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  const tmp = tempDir('ofctl-ts-stdin-');
  const file = join(tmp, 'flows.txt');
  writeFileSync(file, `${FLOWS.join('\n')}\n`);

  /** `cat FILE | ofctl-ts ARGS` in a shell. */
  const piped = async (from: string, args: readonly string[]): Promise<CliResult> => {
    const cmd = `cat '${from}' | '${process.execPath}' '${BIN}' ${args.map((a) => `'${a}'`).join(' ')}`;
    try {
      const { stdout, stderr } = await exec('sh', ['-c', cmd], { env: { ...process.env, OVS_RUNDIR: ovs.dir } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0'] });
  });
  after(async () => {
    await ovs?.stop();
  });
  beforeEach(async () => {
    await ovs.ofctl('del-flows', ovs.mgmtTarget('br0'));
  });

  it('add-flows - loads what the pipe carries, as ovs-ofctl add-flows does', async () => {
    const r = await piped(file, ['add-flows', 'br0', '-']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    await ovs.vsctl('add-br', 'ref', '--', 'set', 'Bridge', 'ref', 'datapath_type=netdev', 'fail_mode=secure');
    try {
      await exec('sh', ['-c', `cat '${file}' | ovs-ofctl -O OpenFlow13 add-flows ${ovs.mgmtTarget('ref')} -`], { env: { ...process.env, OVS_RUNDIR: ovs.dir } });
      expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal(await ovs.dumpFlowsSorted('ref'));
    } finally {
      await ovs.vsctl('del-br', 'ref');
    }
  });

  it('dump-flows --diff - compares with the pipe: exit 0 in sync, 1 with the lines when not', async () => {
    await ovs.ofctl('add-flows', ovs.mgmtTarget('br0'), file);
    const same = await piped(file, ['dump-flows', 'br0', '--diff', '-']);
    expect(same.code, same.stderr).to.equal(0);
    expect(same.stdout).to.equal('');
    const other = join(tmp, 'other.txt');
    writeFileSync(other, `${FLOWS.slice(1).join('\n')}\ntable=3,priority=9,actions=drop\n`);
    const differs = await piped(other, ['dump-flows', 'br0', '--diff', '-']);
    expect(differs.code).to.equal(1);
    expect(differs.stdout.split('\n').filter(Boolean).sort()).to.deep.equal([
      '+priority=10,ip actions=output:1', '-table=3 priority=9 actions=drop',
    ]);
    // An empty pipe is an empty golden: every flow is extra, never "in sync".
    const empty = await piped('/dev/null', ['dump-flows', 'br0', '--diff', '-']);
    expect(empty.code).to.equal(1);
  });

  it('diff-flows TARGET - and replace-flows TARGET - read the pipe', async () => {
    await ovs.ofctl('add-flows', ovs.mgmtTarget('br0'), file);
    const d = await piped(file, ['diff-flows', 'br0', '-']);
    expect(d.code, d.stderr).to.equal(0);
    const other = join(tmp, 'replace.txt');
    writeFileSync(other, 'table=3,priority=9,actions=drop\n');
    const r = await piped(other, ['replace-flows', 'br0', '-']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal([' table=3, priority=9 actions=drop']);
  });

  it('a syntax error on stdin is named <stdin>:LINE and nothing is sent, with or without a bundle', async () => {
    for (const extra of [[], ['--no-bundle']]) {
      const r = await runCli(['add-flows', 'br0', '-', ...extra], { OVS_RUNDIR: ovs.dir }, `${FLOWS[0]}\npriority=2,dl_dstt=1,actions=drop\n`);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^ofctl-ts: add-flows: <stdin>:2: column \d+: unknown keyword dl_dstt\n$/);
      expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal([]);
    }
  });

  it('--no-bundle: stops at the first refused flow as ovs-ofctl does, naming its file and line and how many were applied', async () => {
    const bad = join(tmp, 'bad.txt');
    // OVS refuses flow-mods to its hidden table 254; the flows around it are applied one by one.
    writeFileSync(bad, `${FLOWS[0]}\n# a comment\ntable=254,actions=drop\n${FLOWS[1]}\n`);
    const r = await runCli(['add-flows', 'br0', bad, '--no-bundle'], { OVS_RUNDIR: ovs.dir });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`ofctl-ts: add-flows: 1 of 3 flow-mods were applied (--no-bundle: one at a time, stopping at the first refused, as ovs-ofctl); the switch refused ${bad}:3: OFPET_BAD_REQUEST/OFPBRC_EPERM: table=254,actions=drop; the 1 after it were not sent\n`);
    // The same table as ovs-ofctl add-flows (no --bundle) leaves: the flows before the refused one.
    await ovs.vsctl('add-br', 'ref', '--', 'set', 'Bridge', 'ref', 'datapath_type=netdev', 'fail_mode=secure');
    try {
      await ovs.ofctl('add-flows', ovs.mgmtTarget('ref'), bad).then(() => expect.fail('ovs-ofctl accepted a refused flow'), () => undefined);
      expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal(await ovs.dumpFlowsSorted('ref'));
      expect(await ovs.dumpFlowsSorted('br0')).to.have.length(1);
    } finally {
      await ovs.vsctl('del-br', 'ref');
    }
    // The same file in a bundle applies nothing.
    await ovs.ofctl('del-flows', ovs.mgmtTarget('br0'));
    const b = await runCli(['add-flows', 'br0', bad], { OVS_RUNDIR: ovs.dir });
    expect(b.code).to.equal(1);
    expect(b.stderr).to.contain(`nothing was applied; the switch refused ${bad}:3: `);
    expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal([]);
  });

  it('a flow-mod whose match loses a field (tp_dst without tcp) gets ovs-ofctl\'s warning with its place', async () => {
    const warn = join(tmp, 'warn.txt');
    writeFileSync(warn, 'priority=3,tp_dst=80,actions=drop\n');
    const r = await runCli(['add-flows', 'br0', warn], { OVS_RUNDIR: ovs.dir });
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal(`ofctl-ts: ${warn}:1: normalization changed ofp_match, details:\nofctl-ts: ${warn}:1:  pre: tp_dst=80\nofctl-ts: ${warn}:1: post: \n`);
    // What OVS holds is what ovs-ofctl would have installed: Ethernet frames, tp_dst dropped.
    expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal([' priority=3 actions=drop']);
  });
});
