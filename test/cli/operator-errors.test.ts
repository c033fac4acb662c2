// What an operator's slips get: one line naming the thing, a non-zero exit, nothing sent. Found by
// trying the tool as a user would (typo'd bridge, a directory or missing file, an unset variable
// after --diff, stdin twice, a port out of range), and a switch holding actions this codec does not
// model yet (MPLS), which must not fail a whole dump.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { ovsOfctl, runCli } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

describe('flow tool: an operator\'s slips get one clear line', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  const tmp = tempDir('ofctl-ts-slips-');
  const env = (): NodeJS.ProcessEnv => ({ OVS_RUNDIR: ovs.dir });

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0'] });
  });
  after(async () => {
    await ovs?.stop();
  });

  it('a bridge with no ovs-vswitchd behind it is "not a bridge or a socket", as ovs-ofctl says', async () => {
    for (const args of [['dump-flows', 'br9'], ['dump-flows', 'br9', 'table=1'], ['del-flows', 'br9']]) {
      const r = await runCli(args, env());
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(`ofctl-ts: ${args[0]}: br9 is not a bridge or a socket (no ovs-vswitchd answers on ${join(ovs.dir, 'br9.mgmt')}; set OVS_RUNDIR?)\n`);
    }
  });

  it('a bridge whose mgmt socket a dead ovs-vswitchd left behind: ovs-ofctl\'s words, exit 1', async () => {
    // A process that listens on the socket, then dies without removing it (SIGKILL), as a crashed ovs-vswitchd.
    const path = join(ovs.dir, 'br8.mgmt');
    const holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise((r) => holder.stdout.once('data', r));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect(existsSync(path)).to.equal(true);
    const want = await ovsOfctl(['-O', 'OpenFlow13', 'dump-flows', 'br8'], undefined, env());
    expect({ code: want.code, stderr: want.stderr }).to.deep.equal({ code: 1, stderr: `ovs-ofctl: ${path}: failed to open socket (Connection refused)\n` });
    const r = await runCli(['dump-flows', 'br8'], env());
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`ofctl-ts: dump-flows: ${path}: failed to open socket (Connection refused)\n`);
  });

  it('a missing file or a directory is named, and nothing is sent', async () => {
    mkdirSync(join(tmp, 'adir'), { recursive: true });
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br0'), 'priority=7,actions=drop');
    const before = await ovs.dumpFlowsSorted('br0');
    // ovs-ofctl's words for a missing file (test/cli/ofctl-args.test.ts runs it beside ours); a
    // directory is our error (ovs-ofctl reads it as an empty file).
    const dir = join(tmp, 'adir');
    const nope = join(tmp, 'nope.flows');
    for (const [args, why] of [
      [['add-flows', 'br0', dir], 'is a directory'], [['add-flows', 'br0', dir, '--no-bundle'], 'is a directory'],
      [['replace-flows', 'br0', dir], 'is a directory'], [['diff-flows', dir, 'br0'], 'is a directory'],
      [['add-groups', 'br0', dir], 'is a directory'],
      [['add-flows', 'br0', nope], 'open failed (No such file or directory)'],
      [['add-flows', 'br0', nope, '--no-bundle'], 'open failed (No such file or directory)'],
      [['replace-flows', 'br0', nope], 'open (No such file or directory)'],
      [['diff-flows', nope, 'br0'], 'open (No such file or directory)'],
    ] as const) {
      const r = await runCli([...args], env());
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.stderr).to.equal(`ofctl-ts: ${args[0]}: ${args[0] === 'diff-flows' ? args[1] : args[2]}: ${why}\n`);
    }
    expect(await ovs.dumpFlowsSorted('br0')).to.deep.equal(before);
  });

  it('--diff with an empty value (an unset variable) is an error, never "in sync"; stdin is taken once', async () => {
    for (const args of [['--diff', ''], ['--diff=']]) {
      const r = await runCli(['dump-flows', 'br0', ...args], env());
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal('ofctl-ts: dump-flows: --diff needs a FILE (- for standard input)\n');
    }
    const r = await runCli(['diff-flows', '-', '-'], env(), 'priority=1,actions=drop\n');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/standard input \(-\) can be only one of the two flow sets/);
  });

  it('a port number out of range is refused before anything listens', async () => {
    const r = await runCli(['controller', '--topology', '/dev/null', '--metrics-port', '99999']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('ofctl-ts: controller: --metrics-port 99999: must be a port number (0-65535)\n');
  });

  it('a tun_metadata flow on a bridge without a TLV map: both tools exit 1 naming NXFMFC_INVALID_TLV_FIELD', async () => {
    const flow = 'tun_metadata0=0x1,actions=drop';
    const theirs = await ovsOfctl(['-O', 'OpenFlow13', 'add-flow', ovs.mgmtTarget('br0'), flow]);
    expect(theirs.code).to.equal(1);
    expect(theirs.stderr).to.match(/^OFPT_ERROR \(OF1\.3\) \(xid=0x\w+\): NXFMFC_INVALID_TLV_FIELD\n/);
    const r = await runCli(['add-flow', 'br0', flow], env());
    expect(r.code).to.equal(theirs.code);
    expect(r.stderr).to.equal('ofctl-ts: add-flow: switch refused: flow-mod 1: NXFMFC_INVALID_TLV_FIELD\n');
  });

  it('a flow with MPLS actions (put there by another tool) dumps as OVS dumps it', async () => {
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=5,priority=3,actions=push_mpls:0x8847,output:2');
    const r = await runCli(['dump-flows', 'br0', '--no-stats'], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(' table=5, priority=3 actions=push_mpls:0x8847,output:2\n');
    const theirs = await ovs.dumpFlowsSorted('br0');
    expect(r.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(theirs);
  });
});
