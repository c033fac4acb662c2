// The start-up path (bin/ofctl-ts.js → the bundle dist/lib/cli/ofctl-ts.cjs and its code cache →
// the flow tool, or yargs for the other commands) does what the compiled CLI does module by module
// (dist/lib/cli/entry.js): every command line below gives the same exit code, output and error
// text, and leaves the same flows in a real ovs-vswitchd (read with ovs-ofctl).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { YARGS_COMMANDS } from '../../lib/cli/commands.js';
import { flowLine } from '../../lib/cli/quick.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { BIN, CliResult, runCli, runNodeScript } from '../../testing/run-cli.js';

const CLI = fileURLToPath(new URL('../../lib/cli/', import.meta.url));
const MODULES = join(CLI, 'entry.js');
/** The flow commands' bundle, and the yargs CLI's. */
const QUICK = join(CLI, 'ofctl-ts-quick.cjs');
const FULL = join(CLI, 'ofctl-ts.cjs');
const FLOWS = fileURLToPath(new URL('../../../fixtures/seed-003/compute-br-tun.add-flows.txt', import.meta.url));
const BR = 'br-small';
const EXTRA = 'table=23,priority=5,dl_vlan=9 actions=drop';

/** Durations and idle ages change between two dumps; nothing else may. */
const steady = (r: CliResult): CliResult => ({ ...r, stdout: r.stdout.replace(/(duration|idle_age|hard_age)=[\d.]+s?/g, '$1=…') });

describe('start-up path: the bundled binary behaves as the compiled modules', function () {
  this.timeout(120_000);
  let box: OvsSandbox;
  let env: NodeJS.ProcessEnv;
  const tmp = mkdtempSync(join(tmpdir(), 'ofctl-ts-startup-'));
  const bad = join(tmp, 'bad.txt');

  before(async () => {
    // The bundle of the modules under test (as `npm run build` makes it after tsc), with a code cache.
    await promisify(execFile)(process.execPath, [fileURLToPath(new URL('../../scripts/bundle-cli.js', import.meta.url))]);
    box = await OvsSandbox.start({ bridges: [BR] });
    env = { OVS_RUNDIR: box.dir };
    writeFileSync(bad, 'table=0,priority=1 actions=output:1\ntable=0,priority=2,bogus=1 actions=drop\n');
  });
  after(async () => {
    await box?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the binary runs the bundles, fresher than the compiled modules, from code caches V8 accepts', async () => {
    for (const b of [QUICK, FULL]) {
      expect(statSync(b).mtimeMs).to.be.at.least(statSync(join(CLI, 'entry.js')).mtimeMs);
      expect(readdirSync(CLI)).to.include(`${b.slice(CLI.length)}.${process.version}-${process.arch}.cache`);
    }
    // An error from deep inside: its stack names the flow commands' bundle, not the modules.
    const r = await runCli(['add-flow', BR, 'actions=bogus'], { ...env, OFCTL_TS_DEBUG: '1' });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('ofctl-ts: add-flow: ').and.contain(QUICK).and.not.contain(FULL);
    // Not a flow command: the line goes on to the yargs CLI's bundle, which words the error.
    const y = await runCli(['render', '--topology', '-', '--host', 'x', '--bogus'], { ...env, OFCTL_TS_DEBUG: '1' });
    expect(y.code).to.equal(1);
    expect(y.stderr).to.equal('ofctl-ts: render: unknown option --bogus (see \'ofctl-ts render --help\')\n');
  });

  it('each flow command gets its own code cache from its first successful run, once', async () => {
    // The build ran --help and diff-flows to their end, but no dump (no switch there).
    const cacheOf = (command?: string): string => join(CLI, `ofctl-ts-quick.cjs.${process.version}-${process.arch}${command ? `.${command}` : ''}.cache`);
    const caches = (): string[] => readdirSync(CLI).filter((f) => f.startsWith('ofctl-ts-quick.cjs.') && f.endsWith('.cache')).sort();
    expect(caches()).to.deep.equal([cacheOf(), cacheOf('diff-flows')].map((f) => f.slice(CLI.length)));
    // A failed run writes nothing; a typo'd command neither.
    expect((await runCli(['dump-flows', 'br-none'], env)).code).to.equal(1);
    expect((await runCli(['dump-flow', BR], env)).code).to.equal(1);
    expect(caches()).to.have.length(2);
    // Options first, a value among them: the command is still found.
    expect((await runCli(['-O', 'OpenFlow13', '-t', '10', 'dump-flows', BR], env)).code).to.equal(0);
    const made = statSync(cacheOf('dump-flows'));
    // --help's cache holds no codec: less than half of the dump's.
    expect(statSync(cacheOf()).size).to.be.below(made.size / 2);
    expect((await runCli(['dump-flows', BR], env)).code).to.equal(0);
    expect(statSync(cacheOf('dump-flows')).mtimeMs).to.equal(made.mtimeMs);
    expect(caches()).to.have.length(3);
  });

  /** Placeholders: $FILE the 13 flows, $BAD a file with a bad line, $TMP a scratch directory, $RUNDIR the sandbox's. */
  const expand = (args: readonly string[]): string[] => args.map((a) => a.replace('$FILE', FLOWS).replace('$BAD', bad).replace('$TMP', tmp).replace('$RUNDIR', box.dir));
  const cases: { args: string[]; input?: string; before?: 'empty' }[] = [
    { args: ['dump-flows', BR] },
    { args: ['dump-flows', BR, '--no-stats'] },
    { args: ['dump-flows', '--no-stats', BR, 'table=0'] },
    { args: ['dump-flows', BR, '--no-names', '--stats'] },
    { args: ['dump-flows', `unix:$RUNDIR/${BR}.mgmt`, 'priority=1'] },
    { args: ['dump-flows', 'br-none'] },
    { args: ['dump-flows', BR, 'bogus_field=1'] },
    { args: ['dump-flows', BR, '--no-stats', '--diff', '$FILE'] },
    { args: ['add-flow', BR, EXTRA] },
    { args: ['add-flow', BR, 'table=0 actions=bogus'] },
    { args: ['add-flow', BR, `"${EXTRA}"`] },
    { args: ['del-flows', BR, '--strict', EXTRA.split(' ')[0]!] },
    { args: ['del-flows', BR, 'table=20'] },
    { args: ['del-flows', BR] },
    { args: ['add-flows', BR, '$FILE'], before: 'empty' },
    { args: ['add-flows', BR, '--no-bundle', '-'], input: `${EXTRA}\n`, before: 'empty' },
    { args: ['add-flows', BR, '$BAD'], before: 'empty' },
    { args: ['replace-flows', BR, '$FILE'], before: 'empty' },
    { args: ['replace-flows', BR, '$FILE'] },
    { args: ['diff-flows', BR, '$FILE'] },
    { args: ['diff-flows', '$FILE', '$FILE'] },
    { args: ['diff-flows', '$FILE', '$BAD'] },
    { args: ['diff-flows', '$FILE', '$TMP/missing.txt'] },
    // Lines the parser refuses, help, version, and a yargs command.
    { args: ['dump-flows'] },
    { args: ['dump-flows', BR, 'a', 'b'] },
    { args: ['dump-flows', BR, '--no-stats', '--stats'] },
    { args: ['dump-flows', BR, '--bogus'] },
    { args: ['dump-flows', BR, '-x'] },
    { args: ['dump-flows', ''] },
    { args: ['dump-flow', BR] },
    { args: ['add-flow', BR] },
    { args: ['del-flows', BR, '--strict=false'] },
    { args: ['dump-flows', 'ssl:127.0.0.1:1', '--private-key', '$BAD'] },
    { args: ['--help'] },
    { args: ['dump-flows', '--help'] },
    { args: ['--version'] },
    { args: [] },
    { args: ['render', '--host', 'x'] },
  ];

  for (const c of cases) {
    it(`same exit code, output and flows: ofctl-ts ${c.args.join(' ')}`, async () => {
      const results: { r: CliResult; flows: string[] }[] = [];
      for (const script of [undefined, MODULES]) {
        // Both start from the same bridge: empty, or the 13 flows.
        await box.ofctl('del-flows', box.mgmtTarget(BR));
        if (c.before !== 'empty') await box.ofctl('--bundle', 'add-flows', box.mgmtTarget(BR), FLOWS);
        const r = script ? await runNodeScript(script, expand(c.args), env, c.input) : await runCli(expand(c.args), env, c.input);
        results.push({ r: steady(r), flows: await box.dumpFlowsSorted(BR) });
      }
      const [bin, modules] = results;
      expect(bin!.r.code, bin!.r.stderr).to.equal(modules!.r.code);
      expect(bin!.r.stderr).to.equal(modules!.r.stderr);
      expect(bin!.r.stdout).to.equal(modules!.r.stdout);
      expect(bin!.flows).to.deep.equal(modules!.flows);
    });
  }

  it("the binary's list of the yargs CLI's commands (no --no-turbo-inlining for them) is the command table's", () => {
    const src = readFileSync(BIN, 'utf8');
    const list = /const YARGS_COMMANDS = (\[[^\]]*\]);/.exec(src)?.[1];
    expect(list, 'bin/ofctl-ts.js names the yargs commands').to.be.a('string');
    expect(JSON.parse(list!.replaceAll("'", '"'))).to.have.members([...YARGS_COMMANDS]).and.have.length(YARGS_COMMANDS.size);
  });

  it('the parser takes options anywhere, as getopt_long, and checks the command as ovs-ofctl', () => {
    const run = (argv: string[]): unknown => {
      const l = flowLine(argv);
      return l.kind === 'run' ? { command: l.command.name, args: l.args, stats: l.opts.stats, strict: l.opts.strict } : l.kind;
    };
    expect(run(['dump-flows', 'br0'])).to.deep.equal({ command: 'dump-flows', args: ['br0'], stats: true, strict: false });
    expect(run(['--no-stats', 'dump-flows', 'br0', '-O', 'OpenFlow13', 'table=0'])).to.deep.equal({ command: 'dump-flows', args: ['br0', 'table=0'], stats: false, strict: false });
    expect(run(['del-flows', 'br0', '--str', '--', '-x'])).to.deep.equal({ command: 'del-flows', args: ['br0', '-x'], stats: true, strict: true });
    expect(run(['dump-flows', 'br0', '--help'])).to.equal('help');
    expect(run(['-V', '--bogus'])).to.equal('version');
    for (const [argv, msg] of [[[], 'missing command name; use --help for help'], [['dump-flow', 'x'], "unknown command 'dump-flow'; use --help for help"],
      [['add-flow', 'br0', '-x'], "invalid option -- 'x'"], [['dump-flows', 'a', 'b', 'c'], "'dump-flows' command takes at most 2 arguments"],
      [['-Ox', 'dump-flows', 'a'], 'Unknown OpenFlow version: "x"'], [['--strict=1'], "option '--strict' doesn't allow an argument"],
      [['-t'], "option requires an argument -- 't'"], [['--no'], "option '--no' is ambiguous; possibilities: '--no-names' '--no-stats' '--no-bundle'"]] as const) {
      expect(() => flowLine(argv), JSON.stringify(argv)).to.throw(msg);
    }
  });

  it('run as a program, the binary starts Node without NODE_EXTRA_CA_CERTS (its shell line), as npm links it too', async () => {
    // Node reads the variable's file before any JavaScript runs, and warns when it cannot.
    const caEnv = { ...process.env, ...env, NODE_EXTRA_CA_CERTS: join(tmp, 'missing-ca.pem') };
    const viaNode = await runNodeScript(BIN, ['dump-flows', BR], caEnv);
    expect(viaNode.stderr).to.contain('Ignoring extra certs');
    // npm installs the binary as a symbolic link in node_modules/.bin.
    const link = join(tmp, 'ofctl-ts');
    symlinkSync(BIN, link);
    for (const program of [BIN, link]) {
      const r = await promisify(execFile)(program, ['dump-flows', BR], { env: caEnv });
      expect(r.stderr).to.equal('');
      expect(steady({ code: 0, ...r }).stdout).to.equal(steady(viaNode).stdout);
    }
  });

  it('with a bundle older than the compiled modules (tsc run since), the binary runs the modules', async () => {
    const entry = join(CLI, 'entry.js');
    const { atime, mtime } = statSync(entry);
    utimesSync(entry, atime, new Date(Date.now() + 60_000));
    try {
      const r = await runCli(['add-flow', BR, 'actions=bogus'], { ...env, OFCTL_TS_DEBUG: '1' });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('ofctl-ts: add-flow: ').and.contain(join('dist', 'codecs')).and.not.contain(QUICK);
    } finally {
      utimesSync(entry, atime, mtime);
    }
    expect((await runCli(['add-flow', BR, 'actions=bogus'], { ...env, OFCTL_TS_DEBUG: '1' })).stderr).to.contain(QUICK);
  });
});
