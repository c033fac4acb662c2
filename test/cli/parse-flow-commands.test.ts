// parse-flow, parse-flows and probe beside ovs-ofctl 3.1 -O OpenFlow13: the same stdout, the same
// error and the same exit code. parse-flow is held to fixtures/codec/parse-flow.jsonl (what OVS
// printed for every corpus flow and for variations of masks, tables, flags and actions:
// scripts/gen-parse-flow-corpus.sh); parse-flows and the errors run ovs-ofctl live beside the CLI;
// probe runs both against a sandboxed ovs-vswitchd.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlowCommand } from '../../lib/cli/cmd-parse-flow.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { CliResult, ovsOfctl, runCli } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

interface Row { readonly input: string; readonly stdout: string; readonly error: string; readonly code: number }

const rows = readFileSync(new URL('../../../fixtures/codec/parse-flow.jsonl', import.meta.url), 'utf8').split('\n')
  .filter((l) => l.trim()).map((l) => JSON.parse(l) as Row);


/** ovs-ofctl's fatal message (its last `ovs-ofctl: ` line; the rest is its logging), and ours without `ofctl-ts: CMD: `. */
const theirError = (r: CliResult): string => r.stderr.split('\n').filter((l) => l.startsWith('ovs-ofctl: ')).pop()?.slice(11) ?? '';
const ourError = (r: CliResult, cmd: string): string => r.stderr.split('\n').filter((l) => l.startsWith(`ofctl-ts: ${cmd}: `)).pop()?.slice(12 + cmd.length) ?? '';

describe('parse-flow and parse-flows: the same text and exit code as ovs-ofctl -O OpenFlow13', function () {
  this.timeout(120_000);

  it(`prints what ovs-ofctl printed for each of the ${rows.length} flows of the fixture, and exits as it did`, async () => {
    expect(rows.length).to.be.greaterThan(400);
    const wrong: string[] = [];
    for (const r of rows) {
      let stdout = '';
      let code: number;
      let error = '';
      try {
        code = await parseFlowCommand([r.input], {}, (s) => (stdout += s.toString()));
      } catch (err) {
        code = 1;
        error = err instanceof Error ? err.message : String(err);
      }
      // An error's words may say more than OVS's (ours name the action); its start is OVS's.
      const sameError = r.error === '' ? error === '' : error.startsWith(r.error);
      if (stdout !== r.stdout || code !== r.code || !sameError) {
        wrong.push(`${r.input}\n  ovs:  ${JSON.stringify(r.stdout)} ${r.code} ${r.error}\n  ours: ${JSON.stringify(stdout)} ${code} ${error}`);
      }
    }
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });

  describe('live, the CLI beside ovs-ofctl', () => {
    const dir = tempDir('parse-flows-');
    const file = (name: string, text: string): string => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const cases: Array<[string, string[], string?]> = [
      ['a file of several flows: one usable set for all, xids from 1', ['parse-flows', file('two.txt', 'table=1,ip,actions=drop\n# a comment\n\n  tcp,tp_dst=80,actions=output:1 # trailing\nct_state=+trk,actions=drop\n')]],
      ['standard input', ['parse-flows', '-'], 'table=1,ip,actions=drop\nip,nw_src=10.0.0.0/8,actions=drop\n'],
      ['an empty file', ['parse-flows', file('empty.txt', '')]],
      ['-m adds the hex dump of each message', ['-mmmmm', 'parse-flows', file('m.txt', 'ip,actions=output:1\n')]],
      ['a bad line names FILE:LINE', ['parse-flows', file('bad.txt', 'ip,actions=drop\nfoo=1,actions=drop\n')]],
      ['a line no OpenFlow 1.3 protocol carries: its set printed, then no usable protocol', ['parse-flows', file('incons.txt', 'ip,actions=drop\nactions=strip_vlan\n')]],
      ['no line continuation and no add prefix, as OVS', ['parse-flows', file('cont.txt', 'add ip,\\\nactions=drop\n')]],
      ['a missing file', ['parse-flows', '/nonexistent/flows.txt']],
      ['parse-flow: an unknown keyword', ['parse-flow', 'foo=1,actions=drop']],
      ['parse-flow: no usable protocol', ['parse-flow', 'tun_id=1,actions=dec_ttl']],
      ['parse-flow: no argument', ['parse-flow']],
      ['parse-flow under --read-only (a read/write command in ovs-ofctl 3.1)', ['--read-only', 'parse-flow', 'actions=drop']],
    ];
    for (const [what, args, input] of cases) {
      it(what, async () => {
        const [theirs, ours] = await Promise.all([ovsOfctl(['-O', 'OpenFlow13', ...args], input), runCli(['-O', 'OpenFlow13', ...args], {}, input ?? '')]);
        const cmd = args.find((a) => a.startsWith('parse-flow'))!;
        expect(ours.stdout).to.equal(theirs.stdout);
        expect(ours.code).to.equal(theirs.code);
        const want = theirError(theirs);
        if (want) expect(ourError(ours, cmd) || ours.stderr.replace(/^ofctl-ts: /, '').trim()).to.equal(want);
        else expect(ours.stderr).to.equal('');
      });
    }
  });
});

describe('probe: the same output and exit code as ovs-ofctl', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0'] });
  });
  after(async () => {
    await ovs?.stop();
  });

  const both = (args: readonly string[]): Promise<[CliResult, CliResult]> => {
    const env = { OVS_RUNDIR: ovs.dir };
    return Promise.all([
      ovsOfctl(args, undefined, env),
      runCli(args, env),
    ]);
  };

  it('a live switch: silent, exit 0 (by bridge name and by its socket)', async () => {
    for (const target of ['br0', ovs.mgmtTarget('br0')]) {
      const [theirs, ours] = await both(['-O', 'OpenFlow13', 'probe', target]);
      expect(theirs).to.deep.equal({ code: 0, stdout: '', stderr: '' });
      expect(ours).to.deep.equal(theirs);
    }
  });

  it('a missing socket and an unknown bridge fail as ovs-ofctl says', async () => {
    const [t1, o1] = await both(['-O', 'OpenFlow13', 'probe', 'unix:/nonexistent.sock']);
    expect(o1.code).to.equal(t1.code).and.equal(1);
    expect(o1.stderr).to.equal(`ofctl-ts: probe: ${theirError(t1)}\n`);
    const [t2, o2] = await both(['-O', 'OpenFlow13', 'probe', 'br-nothere']);
    expect(o2.code).to.equal(t2.code).and.equal(1);
    // Ours says where it looked, beside OVS's words.
    expect(o2.stderr).to.include(`ofctl-ts: probe: ${theirError(t2)} (`);
  });

  it('too many arguments', async () => {
    const [theirs, ours] = await both(['probe', 'br0', 'x']);
    expect(ours.code).to.equal(theirs.code);
    expect(ours.stderr).to.equal(`ofctl-ts: ${theirError(theirs)}\n`);
  });
});
