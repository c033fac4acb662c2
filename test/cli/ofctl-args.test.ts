// The flow tool's command line against ovs-ofctl's, on twin bridges of one real ovs-vswitchd: the
// same line (options anywhere, errors, --read-only, --sort, -t, mod-flows, add-flows keywords…)
// run by ofctl-ts on one bridge and by `ovs-ofctl -O OpenFlow13` on the other, both starting from
// the same flows, must print the same text (program name, bridge name and durations aside), exit
// with the same code and leave the same table.
import { expect } from 'chai';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { BIN } from '../../testing/run-cli.js';

interface Result { code: number; stdout: string; stderr: string }

/** Exit code as a shell gives it: 128 + the signal for a process killed by one. */
function spawnRun(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code: code ?? 128 + constants.signals[signal!], stdout, stderr }));
    // A command that exits before reading its input (a refused line) closes the pipe: not an error.
    p.stdin.on('error', () => undefined);
    p.stdin.end(input);
  });
}

const FLOWS = [
  'table=0,priority=5,ip,nw_src=10.0.0.2,actions=drop',
  'table=0,priority=7,ip,nw_src=10.0.0.1,actions=output:1',
  'table=0,priority=6,tcp,tp_dst=80,actions=drop',
  'table=1,priority=1,in_port=2,actions=drop',
  'table=1,priority=9,actions=output:2',
  'table=2,priority=3,ip,nw_src=10.0.0.0/24,actions=drop',
];
const KEYWORDS = [
  'add priority=9,actions=drop',
  'mod table=1,actions=output:1',
  'modify_strict table=0,priority=5,ip,nw_src=10.0.0.2,actions=output:2',
  '',
  '# a comment',
  'delete_strict table=0,priority=6,tcp,tp_dst=80',
  '  d ,  table=2',
  'a table=3,priority=1,actions=drop',
  'delete table=1,in_port=2',
].join('\n');

describe('flow tool command line: ofctl-ts and ovs-ofctl -O OpenFlow13 side by side', function () {
  this.timeout(120_000);
  let box: OvsSandbox;
  let silent: Server;
  let silentPort = 0;
  const tmp = mkdtempSync(join(tmpdir(), 'ofctl-ts-args-'));
  const flowsFile = join(tmp, 'flows.txt');
  const kwFile = join(tmp, 'keywords.txt');
  const missing = join(tmp, 'nope.flows');

  before(async () => {
    box = await OvsSandbox.start({ bridges: ['ours', 'theirs'], dummy: true });
    writeFileSync(flowsFile, `${FLOWS.join('\n')}\n`);
    writeFileSync(kwFile, `${KEYWORDS}\n`);
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  after(async () => {
    silent?.close();
    await box?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Both bridges back to FLOWS. */
  async function reset(): Promise<void> {
    for (const br of ['ours', 'theirs']) {
      await box.ofctl('del-flows', box.mgmtTarget(br));
      await box.ofctl('add-flows', box.mgmtTarget(br), flowsFile);
    }
  }

  const normal = (r: Result, br: string, program: string): Result => ({
    code: r.code,
    stdout: r.stdout.replaceAll(br, '$BR').replace(/duration=[\d.]+s/g, 'duration=…'),
    stderr: r.stderr.replaceAll(`${program}: `, 'PROGRAM: ').replaceAll(br, '$BR').replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|'),
  });

  /** sameBridge: ovs-ofctl reads the bridge ofctl-ts read (ties of a sort keep the dump's order, which differs between bridges). */
  async function both(args: readonly string[], input?: string, sameBridge = false): Promise<{ ours: Result; theirs: Result; oursFlows: string[]; theirsFlows: string[] }> {
    await reset();
    const expand = (br: string): string[] => args.map((a) => a.replace('$BR', br).replace('$FILE', flowsFile).replace('$KW', kwFile)
      .replace('$SILENT', `tcp:127.0.0.1:${silentPort}`).replace('$MGMT', box.mgmt(br)).replace('$MISSING', missing));
    const env = { OVS_RUNDIR: box.dir };
    const theirs = sameBridge ? 'ours' : 'theirs';
    const [o, t] = await Promise.all([
      spawnRun(process.execPath, [BIN, ...expand('ours')], env, input),
      spawnRun('ovs-ofctl', ['-O', 'OpenFlow13', ...expand(theirs)], env, input),
    ]);
    return {
      ours: normal(o, 'ours', 'ofctl-ts'), theirs: normal(t, theirs, 'ovs-ofctl'),
      oursFlows: await box.dumpFlowsSorted('ours'), theirsFlows: await box.dumpFlowsSorted('theirs'),
    };
  }

  /**
   * sameBridge: see both(). column: ovs-ofctl refuses the flow too, and ofctl-ts names the column
   * (on purpose): exit codes and tables are compared, and ofctl-ts's message. named: ofctl-ts's
   * message names this command (`ofctl-ts: CMD: `, as its other errors), then says ovs-ofctl's words.
   */
  const cases: { args: string[]; input?: string; sameBridge?: boolean; column?: RegExp; named?: string }[] = [
    // Errors of the command line, one line each.
    { args: ['foo', '$BR'] },
    { args: ['--foo', 'dump-flows', '$BR'] },
    { args: ['--foo=bar'] },
    { args: ['dump-flows', '$BR', '-x'] },
    { args: [] },
    { args: ['dump-flows'] },
    { args: ['add-flow', '$BR'] },
    { args: ['dump-flows', '$BR', 'table=0', 'x'] },
    { args: ['del-flows', '$BR', '--strict=1'] },
    { args: ['dump-flows', '$BR', '--timeout'] },
    { args: ['dump-flows', '$BR', '-t'] },
    { args: ['-t', '0', 'dump-flows', '$BR'] },
    { args: ['--timeout=1x', 'dump-flows', '$BR'] },
    { args: ['-t', '4294967296', 'dump-flows', '$BR'] },
    { args: ['-O', 'bogus', 'dump-flows', '$BR'] },
    { args: ['--protocols=OpenFlow13,OF14', 'dump-flows', '$BR'] },
    { args: ['--sort=bogus', 'dump-flows', '$BR'] },
    { args: ['--sort=', 'dump-flows', '$BR'] },
    // -O with lists that include OpenFlow13 (any case, commas or spaces).
    { args: ['-O', 'OpenFlow10,OpenFlow13', 'dump-flows', '$BR', '--no-stats'] },
    { args: ['dump-flows', '--protocols=openflow13 OpenFlow14', '$BR', '--no-stats', 'table=1'] },
    // --read-only, as ovs-ofctl's command modes (diff-flows is read/write there).
    { args: ['--read-only', 'add-flow', '$BR', 'actions=drop'] },
    { args: ['--read-only', 'mod-flows', '$BR', 'actions=drop'] },
    { args: ['--read-only', 'del-flows', '$BR'] },
    { args: ['--read-only', 'add-flows', '$BR', '$KW'] },
    { args: ['--read-only', 'replace-flows', '$BR', '$FILE'] },
    { args: ['--read-only', 'diff-flows', '$BR', '$FILE'] },
    { args: ['--read-only', 'dump-flows', '$BR', '--no-stats'] },
    // Options anywhere, abbreviated, and what is only carried.
    { args: ['dump-flows', '--no-st', '$BR', '--timestamp', 'table=0'] },
    { args: ['--names', 'dump-flows', '$BR', '--no-stats'] },
    { args: ['--no-names', 'dump-flows', '$BR', '-t', '5'] },
    { args: ['dump-flows', '$BR', '--no-names', '--stats'] },
    { args: ['--bundle', 'add-flow', '$BR', 'table=4,priority=2,actions=drop'] },
    { args: ['--strict', 'del-flows', '$BR', 'table=1,priority=9'] },
    { args: ['del-flows', '--', '$BR', 'table=1'] },
    // --sort / --rsort, as ovs-ofctl sorts: no reply header, missing fields last.
    { args: ['dump-flows', '$BR', '--sort', '--no-names'], sameBridge: true },
    { args: ['dump-flows', '$BR', '--rsort', '--no-stats'], sameBridge: true },
    { args: ['--sort=nw_src', 'dump-flows', '$BR', '--no-stats'], sameBridge: true },
    { args: ['--rsort=nw_src', 'dump-flows', '$BR', '--no-stats'], sameBridge: true },
    { args: ['--sort=tcp_dst', 'dump-flows', '$BR', '--no-stats'], sameBridge: true },
    { args: ['--sort=in_port', '--rsort=priority', 'dump-flows', '$BR', '--no-stats'], sameBridge: true },
    { args: ['--rsort=tcp_dst', '--sort', 'dump-flows', '$BR', '--no-stats', 'table=0'], sameBridge: true },
    // mod-flows, and add-flows files with per-line keywords (ours in one bundle, the same table).
    { args: ['mod-flows', '$BR', 'table=1,actions=output:3'] },
    { args: ['--strict', 'mod-flows', '$BR', 'table=1,priority=9,actions=output:4'] },
    { args: ['mod-flows', '$BR', 'table=1,priority=9,actions=output:4', '--strict'] },
    { args: ['mod-flows', '$BR', 'table=1'], column: /^ofctl-ts: mod-flows: column 8: must specify an action\n$/ },
    { args: ['add-flows', '$BR', '$KW'] },
    { args: ['--bundle', 'add-flows', '$BR', '-'], input: `${KEYWORDS}\n` },
    // diff-flows exits 2 when the flows differ, 0 when not.
    { args: ['diff-flows', '$BR', '$FILE'] },
    // diff-flows files take no keywords (ovs-ofctl reads them as adds).
    { args: ['diff-flows', '$KW', '$BR'], column: /^ofctl-ts: diff-flows: .*keywords\.txt:1: column 1: field add missing value\n$/ },
    // -t on a silent peer: ovs-ofctl's alarm, its log line and death by SIGALRM.
    { args: ['-t', '1', 'dump-flows', '$SILENT'] },
    // Runbook lines (issue 15, tried as an operator would). A modify without a table is table 0's
    // (OVS sends it so in OpenFlow 1.1+; 255 is refused), on the command line and in a file.
    { args: ['mod-flows', '$BR', 'actions=output:5'] },
    { args: ['mod-flows', '$BR', 'table=255,actions=output:5'] },
    { args: ['add-flows', '$BR', '-'], input: 'modify actions=output:6\nmodify_strict priority=7,ip,nw_src=10.0.0.1,actions=output:7\n' },
    // FLOW `-`: flows from standard input (add-flow with line keywords, as ovs-ofctl's).
    { args: ['add-flow', '$BR', '-'], input: `${KEYWORDS}\n` },
    { args: ['del-flows', '$BR', '-'], input: 'table=1\nip,nw_src=10.0.0.1\n' },
    { args: ['--strict', 'del-flows', '$BR', '-'], input: 'table=0,priority=5,ip,nw_src=10.0.0.2\ntable=0,ip,nw_src=10.0.0.1\n' },
    { args: ['mod-flows', '$BR', '-'], input: 'table=1,actions=output:7\nactions=output:8\n' },
    { args: ['mod-flows', '$BR', '-', '--strict'], input: 'table=1,priority=9,actions=output:7\n' },
    // A socket's path is a target, as a bridge name is.
    { args: ['dump-flows', '$MGMT', '--no-stats'] },
    { args: ['add-flow', '$MGMT', 'table=5,actions=drop'] },
    // A missing file in ovs-ofctl's words (issue 15): "open failed" where it parses a file of
    // flow-mods or groups, "open" where it reads flows to compare (a path is a file in diff-flows).
    { args: ['add-flows', '$BR', '$MISSING'], named: 'add-flows' },
    { args: ['add-flows', '$BR', '$MISSING', '--bundle'], named: 'add-flows' },
    { args: ['replace-flows', '$BR', '$MISSING'], named: 'replace-flows' },
    { args: ['diff-flows', '$BR', '$MISSING'], named: 'diff-flows' },
    { args: ['diff-flows', '$MISSING', '$BR'], named: 'diff-flows' },
    { args: ['add-groups', '$BR', '$MISSING'], named: 'add-groups' },
    // -o/--option is ovs-ofctl's; --options (longer than the name) is no prefix of it; an option
    // met before -o is read first.
    { args: ['--options'] },
    { args: ['--foo', '-o'] },
    { args: ['-t', 'x', '--option', 'dump-flows', '$BR'] },
  ];

  for (const c of cases) {
    it(`ofctl-ts ${c.args.join(' ')}`, async () => {
      const r = await both(c.args, c.input, c.sameBridge);
      expect(r.ours.code, r.ours.stderr).to.equal(r.theirs.code);
      if (c.column) expect(r.ours.stderr.replace('PROGRAM: ', 'ofctl-ts: ')).to.match(c.column);
      else if (c.named) expect(r.ours.stderr).to.equal(r.theirs.stderr.replace('PROGRAM: ', `PROGRAM: ${c.named}: `));
      else expect(r.ours.stderr).to.equal(r.theirs.stderr);
      // diff-flows prints its lines in its own order (sorted): the same lines.
      const lines = (s: string): string[] => (c.args.includes('diff-flows') ? s.split('\n').sort() : s.split('\n'));
      expect(lines(r.ours.stdout)).to.deep.equal(lines(r.theirs.stdout));
      expect(r.oursFlows).to.deep.equal(r.theirsFlows);
    });
  }

  it('--help, help CMD and CMD --help: every command with an example and what differs on purpose', async () => {
    const env = { OVS_RUNDIR: box.dir };
    const full = await spawnRun(process.execPath, [BIN, '--help'], env);
    expect(full.code).to.equal(0);
    for (const c of ['dump-flows', 'add-flow', 'add-flows', 'mod-flows', 'del-flows', 'replace-flows', 'diff-flows']) {
      expect(full.stdout).to.match(new RegExp(`\\n {2}${c} .*\\n {6}e\\.g\\. ofctl-ts .*${c}`));
      for (const args of [['help', c], [c, '--help'], ['-h', c]]) {
        const one = await spawnRun(process.execPath, [BIN, ...args], env);
        expect(one.code).to.equal(0);
        expect(one.stdout).to.match(new RegExp(`^usage: ofctl-ts \\[OPTIONS\\] ${c} .*\\n.*\\nexample: ofctl-ts .*${c}`));
      }
    }
    for (const said of ['atomic', 'file:line:column', 'times out', 'equivalent']) expect(full.stdout).to.contain(said);
  });

  it('-o, --option and --op: every option a line in ovs-ofctl\'s format, the same lines where both tools have the option', async () => {
    const theirs = await spawnRun('ovs-ofctl', ['-o'], {});
    expect(theirs.code).to.equal(0);
    /** Each option's lines (`--long…` and its `-x …`), by long name. */
    const byName = (text: string): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      let last = '';
      for (const l of text.split('\n').filter(Boolean)) {
        if (l.startsWith('--')) m.set((last = l.replace(/=.*/, '').slice(2)), [l]);
        else m.get(last)!.push(l);
      }
      return m;
    };
    const them = byName(theirs.stdout);
    for (const args of [['-o'], ['--option', 'dump-flows', 'no-such-bridge'], ['--op', '--foo'], ['dump-flows', '-mo']]) {
      const r = await spawnRun(process.execPath, [BIN, ...args], { OVS_RUNDIR: box.dir });
      expect(r.code, args.join(' ')).to.equal(0);
      expect(r.stderr).to.equal('');
      for (const l of r.stdout.split('\n').filter(Boolean)) expect(l).to.match(/^(--[a-z-]+(=ARG|=\[ARG\])?|-[a-zA-Z] (ARG|\[ARG\])?)$/);
      const ours = byName(r.stdout);
      const shared = [...ours.keys()].filter((k) => them.has(k));
      expect(shared).to.include.members(['timeout', 'strict', 'sort', 'help', 'option', 'more', 'verbose', 'protocols', 'private-key', 'no-stats']);
      for (const k of shared) expect(ours.get(k), k).to.deep.equal(them.get(k));
      // Ours beyond ovs-ofctl's are listed too (the one OPTIONS table).
      expect([...ours.keys()]).to.include.members(['no-bundle', 'diff']);
    }
  });

  /** Runs a tool with OVS_RUNDIR set; `during` acts on the live process (closing its stdout, signalling it). */
  function live(cmd: string, args: readonly string[], during: (p: ChildProcessWithoutNullStreams) => void): Promise<Result> {
    return new Promise((resolve, reject) => {
      const p = spawn(cmd, args, { env: { ...process.env, OVS_RUNDIR: box.dir } });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code, signal) => resolve({ code: code ?? 128 + constants.signals[signal!], stdout: '', stderr }));
      during(p);
    });
  }

  it('a reader that stops early (| head): "write to stdout failed" and exit 1, as ovs-ofctl', async () => {
    // A dump several times a pipe's buffer: writes go on after the reader has gone.
    const many = join(tmp, 'many.txt');
    writeFileSync(many, Array.from({ length: 4000 }, (_, i) => `table=9,priority=${i + 1},actions=drop\n`).join(''));
    await reset();
    for (const br of ['ours', 'theirs']) await box.ofctl('add-flows', box.mgmtTarget(br), many);
    const closeEarly = (p: ChildProcessWithoutNullStreams): void => { p.stdout.once('data', () => p.stdout.destroy()); };
    const [o, t] = await Promise.all([
      live(process.execPath, [BIN, 'dump-flows', 'ours'], closeEarly),
      live('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', 'theirs'], closeEarly),
    ]);
    expect(normal(o, 'ours', 'ofctl-ts')).to.deep.equal(normal(t, 'theirs', 'ovs-ofctl'));
    expect(o.code).to.equal(1);
  });

  it('Ctrl-C while waiting on a switch: the fatal_signal log line and death by SIGINT, as ovs-ofctl', async () => {
    const hung = createServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const target = `tcp:127.0.0.1:${(hung.address() as { port: number }).port}`;
      // Signalled once it has connected (ofctl-ts has started and set its handlers by then).
      const interruptOnConnect = (p: ChildProcessWithoutNullStreams): void => { hung.once('connection', () => setTimeout(() => p.kill('SIGINT'), 100)); };
      const o = await live(process.execPath, [BIN, 'dump-flows', target], interruptOnConnect);
      const t = await live('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', target], interruptOnConnect);
      expect(normal(o, 'ours', 'ofctl-ts')).to.deep.equal(normal(t, 'theirs', 'ovs-ofctl'));
      expect(o.code).to.equal(130);
      expect(o.stderr).to.match(/^[\dT:-]+Z\|00001\|fatal_signal\|WARN\|terminating with signal 2 \(Interrupt\)\n$/);
    } finally {
      hung.close();
    }
  });

  it('-O without OpenFlow13 is refused before anything is sent', async () => {
    await reset();
    const r = await spawnRun(process.execPath, [BIN, '-O', 'OpenFlow10', 'del-flows', 'ours'], { OVS_RUNDIR: box.dir });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('ofctl-ts: -O OpenFlow10: ofctl-ts speaks OpenFlow13 only (a list must include it)\n');
    expect(await box.dumpFlowsSorted('ours')).to.have.length(FLOWS.length);
  });
});
