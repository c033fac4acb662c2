// Port names (--names / --no-names) against ovs-ofctl 3.1: ours and ovs-ofctl take turns on the
// same bridge (an interface name is unique in a switch, so twin bridges cannot both hold a port
// named eth0); ovs-ofctl is the judge of every text, table and refusal.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setPortNames } from '../../codecs/openflow/ports.js';
import { addFlowCommand, addFlowsCommand } from '../../lib/cli/add-flows.js';
import { delFlowsCommand } from '../../lib/cli/del-flows.js';
import { diffFlowsCommand } from '../../lib/cli/diff-flows.js';
import { dumpFlowsCommand } from '../../lib/cli/dump-flows.js';
import { replaceFlowsCommand } from '../../lib/cli/replace-flows.js';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { tempDir } from '../../testing/temp-dir.js';

const run = promisify(execFile);
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0).sort();

// Port names of each kind ovs-ofctl prints differently: plain (eth0), quoted for its punctuation
// (vm-tap.1) or its space (p 1), and one that reads as a number ("7", port 3).
const PORTS: ReadonlyArray<[string, number]> = [['eth0', 1], ['p 1', 2], ['7', 3], ['vm-tap.1', 4]];

// Flows naming ports wherever OVS 3.1 takes a name, each accepted by ovs-ofctl.
const NAMED_FLOWS = [
  'in_port=eth0,actions=output:"vm-tap.1",eth0,output:7,output:"7",LOCAL',
  'priority=5,in_port="vm-tap.1",actions=resubmit:eth0,enqueue:eth0:3,resubmit("7",2)',
  'table=1,in_port=br-a,actions=output(port=eth0,max_len=100),bundle(eth_src,0,hrw,ofport,members:eth0,"vm-tap.1",2)',
  'table=1,priority=3,actions=sample(probability=1,collector_set_id=1,obs_domain_id=1,obs_point_id=1,sampling_port=eth0),set_field:"7"->in_port',
  'table=1,priority=4,actset_output=eth0,actions=clone(output:eth0),write_actions(output:"vm-tap.1")',
  'table=1,priority=6,actions=learn(table=2,in_port=eth0,output:NXM_OF_IN_PORT[]),enqueue("vm-tap.1",5)',
  'table=2,in_port=2,actions=output:2',
];

describe('port names: ofctl-ts against ovs-ofctl 3.1 on the same bridge', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  const tmp = tempDir('ofctl-ts-names-');
  const A = (): string => ovs.mgmtTarget('br-a');
  /** ovs-ofctl -O OpenFlow13 with these arguments: its stdout, stderr and exit code. */
  const ofctl = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const { stdout, stderr } = await run('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { env: { ...process.env, OVS_RUNDIR: ovs.dir } });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout: string; stderr: string; code: number };
      return { stdout: e.stdout, stderr: e.stderr, code: e.code };
    }
  };
  /** One of our commands: its output and exit code, or the message it failed with (exit 1). */
  const ours = async (fn: (out: (s: string | Buffer) => void) => Promise<number>): Promise<{ stdout: string; error: string; code: number }> => {
    let stdout = '';
    const out = (s: string | Buffer): void => {
      const t = s.toString();
      stdout += typeof s === 'string' && !t.endsWith('\n') && t.length ? `${t}\n` : t;
    };
    try {
      const code = await fn(out);
      return { stdout, error: '', code };
    } catch (err) {
      return { stdout, error: (err as Error).message, code: 1 };
    } finally {
      setPortNames(undefined);
    }
  };
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-a'] });
    await ovs.vsctl(...PORTS.flatMap(([name, ofport]) => ['--', 'add-port', 'br-a', name, '--', 'set', 'Interface', name, 'type=internal', `ofport_request=${ofport}`]).slice(1));
  });
  after(async () => {
    await ovs?.stop();
  });
  beforeEach(async () => {
    await ovs.ofctl('del-flows', A());
  });

  /** The table br-a holds after `load` ran on an empty one (the bridge is emptied again after). */
  const tableAfter = async (load: () => Promise<unknown>): Promise<string[]> => {
    await ovs.ofctl('del-flows', A());
    await load();
    const t = await ovs.dumpFlowsSorted('br-a');
    await ovs.ofctl('del-flows', A());
    return t;
  };

  it('flows naming ports load as ovs-ofctl loads them (add-flow, add-flows, both without --names)', async () => {
    const theirs = await tableAfter(async () => {
      for (const f of NAMED_FLOWS) expect((await ofctl('add-flow', A(), f)).code, f).to.equal(0);
    });
    expect(theirs).to.have.length(NAMED_FLOWS.length);
    const one = await tableAfter(async () => {
      for (const f of NAMED_FLOWS) expect(await ours(() => addFlowCommand(A(), f)), f).to.include({ code: 0, error: '' });
    });
    expect(one).to.deep.equal(theirs);
    const file = join(tmp, 'named.flows');
    writeFileSync(file, `${NAMED_FLOWS.join('\n')}\n`);
    for (const bundle of [true, false]) {
      expect(await tableAfter(() => ours(() => addFlowsCommand(A(), file, bundle))), `bundle ${bundle}`).to.deep.equal(theirs);
    }
    const replaced = await tableAfter(async () => {
      await ofctl('add-flow', A(), 'table=9,actions=drop');
      expect(await ours((out) => replaceFlowsCommand(A(), file, out))).to.include({ code: 0, error: '' });
    });
    expect(replaced).to.deep.equal(theirs);
  });

  it('dump-flows --names, --no-names and neither (not a terminal) print what ovs-ofctl prints', async () => {
    for (const f of NAMED_FLOWS) await ofctl('add-flow', A(), f);
    const durations = (s: string): string => s.replace(/duration=[0-9.]+s/g, 'duration=X');
    for (const names of [true, false, undefined]) {
      const opt = names === undefined ? [] : [names ? '--names' : '--no-names'];
      for (const stats of [true, false]) {
        const theirs = await ofctl(...opt, 'dump-flows', A(), ...(stats ? [] : ['--no-stats']));
        expect(theirs.code).to.equal(0);
        // Without names most of a dump goes straight to stdout: the binary runs it (stdout a pipe).
        const mine = names === true ? await ours((out) => dumpFlowsCommand({ target: A(), stats, names }, out))
          : await runCli([...(names === false ? ['--no-names'] : []), 'dump-flows', 'br-a', ...(stats ? [] : ['--no-stats'])], { OVS_RUNDIR: ovs.dir });
        expect(mine.code).to.equal(0);
        expect(lines(durations(mine.stdout)), `${opt.join(' ')} stats ${stats}`).to.deep.equal(lines(durations(theirs.stdout)));
        if (names !== true) continue;
        expect(lines(durations(mine.stdout)), `${opt.join(' ')} stats ${stats}`).to.deep.equal(lines(durations(theirs.stdout)));
        expect(mine.stdout).to.include('in_port="vm-tap.1"').and.include('output:"7"').and.include('members:eth0,"vm-tap.1","p 1"');
        expect(mine.stdout).not.to.include('OFPST_FLOW reply');
      }
    }
  });

  it('names in dump-flows and del-flows filters select what ovs-ofctl selects', async () => {
    for (const f of NAMED_FLOWS) await ofctl('add-flow', A(), f);
    for (const match of ['in_port=eth0', 'in_port="vm-tap.1"', 'out_port="vm-tap.1"', 'table=1,out_port=eth0', 'in_port=br-a']) {
      const theirs = await ofctl('--names', 'dump-flows', A(), match, '--no-stats');
      const mine = await ours((out) => dumpFlowsCommand({ target: A(), stats: false, names: true, match }, out));
      expect(mine.code, match).to.equal(0);
      expect(lines(mine.stdout), match).to.deep.equal(lines(theirs.stdout));
      expect(mine.stdout, match).not.to.equal('');
    }
    const all = await ovs.dumpFlowsSorted('br-a');
    for (const [match, strict] of [['out_port=eth0', false], ['table=1,in_port=br-a', false], ['table=1,in_port=br-a,priority=32768', true]] as const) {
      const theirs = await tableAfter(async () => {
        for (const f of NAMED_FLOWS) await ofctl('add-flow', A(), f);
        expect((await ofctl(strict ? '--strict' : '--names', 'del-flows', A(), match)).code).to.equal(0);
      });
      const mine = await tableAfter(async () => {
        for (const f of NAMED_FLOWS) await ofctl('add-flow', A(), f);
        expect(await ours(() => delFlowsCommand(A(), match, strict))).to.include({ code: 0, error: '' });
      });
      expect(mine, match).to.deep.equal(theirs);
      expect(mine.length, match).to.be.lessThan(all.length);
    }
  });

  it('diff-flows --names prints the differences as ovs-ofctl does, names from the switch', async () => {
    for (const f of NAMED_FLOWS) await ofctl('add-flow', A(), f);
    const file = join(tmp, 'diff.flows');
    writeFileSync(file, 'in_port=eth0,actions=output:"vm-tap.1"\npriority=3,actions=output:7\n');
    const theirs = await ofctl('--names', 'diff-flows', A(), file);
    expect(theirs.code).to.equal(2);
    const mine = await ours((out) => diffFlowsCommand(A(), file, out, { names: true }));
    expect(mine.error).to.equal('');
    expect(lines(mine.stdout)).to.deep.equal(lines(theirs.stdout)).and.to.have.length(NAMED_FLOWS.length + 2);
  });

  it('an unknown name, or any name with --no-names, is refused by both with the same reason and nothing changes', async () => {
    await ofctl('add-flow', A(), 'table=7,actions=drop');
    const before = await ovs.dumpFlowsSorted('br-a');
    const cases: Array<[string, boolean | undefined]> = [
      ['in_port=nosuch,actions=drop', undefined],
      ['in_port=ETH0,actions=drop', undefined],
      ['in_port="nosuch",actions=drop', undefined],
      ['actset_output=nosuch,actions=drop', undefined],
      ['actions=output:nosuch', undefined],
      ['actions=nosuch', undefined],
      ['actions=output(port=nosuch,max_len=1)', undefined],
      ['actions=enqueue(nosuch,1)', undefined],
      ['actions=resubmit:nosuch', undefined],
      ['actions=resubmit(nosuch,1)', undefined],
      ['actions=bundle(eth_src,0,hrw,ofport,members:eth0,nosuch)', undefined],
      ['actions=sample(probability=1,collector_set_id=1,obs_domain_id=1,obs_point_id=1,sampling_port=nosuch)', undefined],
      ['actions=set_field:nosuch->in_port', undefined],
      ['in_port=eth0,actions=drop', false],
      ['actions=output:eth0', false],
      ['actions=output:"vm-tap.1"', false],
    ];
    for (const [flow, names] of cases) {
      const theirs = await ofctl(...(names === false ? ['--no-names'] : []), 'add-flow', A(), flow);
      expect(theirs.code, flow).to.equal(1);
      const mine = await ours(() => addFlowCommand(A(), flow, { names }));
      expect(mine.code, flow).to.equal(1);
      // ovs-ofctl: "ovs-ofctl: REASON"; ours: "column N: REASON".
      expect(mine.error.replace(/^column \d+: /, ''), flow).to.equal(theirs.stderr.trim().replace(/^ovs-ofctl: /, ''));
    }
    const file = join(tmp, 'bad.flows');
    writeFileSync(file, 'in_port=eth0,actions=output:"vm-tap.1"\nin_port=2,actions=output:nosuch\n');
    const theirs = await ofctl('add-flows', A(), file);
    expect(theirs.code).to.equal(1);
    expect(theirs.stderr).to.include(`${file}:2: nosuch: output to unknown port`);
    for (const bundle of [true, false]) {
      const mine = await ours(() => addFlowsCommand(A(), file, bundle));
      expect(mine.error).to.include(`${file}:2: column 26: nosuch: output to unknown port`);
    }
    const filter = await ofctl('dump-flows', A(), 'out_port=nosuch');
    expect(filter.code).to.equal(1);
    const mineFilter = await ours((out) => dumpFlowsCommand({ target: A(), stats: false, names: false, match: 'out_port=eth0' }, out));
    expect(mineFilter.error.replace(/^column \d+: /, '')).to.equal('eth0 is not a valid OpenFlow port');
    expect(await ovs.dumpFlowsSorted('br-a')).to.deep.equal(before);
  });
});
