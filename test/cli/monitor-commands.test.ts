// monitor, snoop and packet-out beside `ovs-ofctl -O OpenFlow13` on the same real bridge: both
// monitors (and both snoops) watch the same live events at once and must print the same text (xids
// and the fatal_signal line's time masked) and end with the same exit code; packet-out must reach
// the same port (dump-ports counters) or fail with the same message and exit code.
import { expect } from 'chai';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { monitorCommand } from '../../lib/cli/cmd-monitor.js';
import { packetOutCommand } from '../../lib/cli/cmd-packet-out.js';
import { snoopCommand } from '../../lib/cli/cmd-snoop.js';
import type { MonitorOptions } from '../../lib/cli/monitor.js';
import { listen, OfListener } from '../../lib/switch/listener.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

/** A TCP/IPv4 packet from 50:54:00:00:00:02 to 50:54:00:00:00:01. */
const PACKET = '505400000001505400000002080045000028000000004006f97cc0a80001c0a800020000000000000000000000005000000000000000';

const mask = (s: string): string => s.replace(/xid=0x[0-9a-f]+/g, 'xid=X').replace(/^\d{4}-\d\d-\d\dT[\d:]+Z\|/gm, 'TIME|')
  .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}: /gm, 'STAMP: ');

/** ovs-ofctl as a child: its stdout and stderr as they come, and its end as a shell sees it. */
class Theirs {
  stdout = '';
  stderr = '';
  readonly code: Promise<number>;
  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.code = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code ?? 128 + (sig === 'SIGINT' ? 2 : 15))));
  }

  static start(dir: string, args: readonly string[]): Theirs {
    return new Theirs(spawn('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { env: { ...process.env, OVS_RUNDIR: dir } }));
  }
}

/** Ours in this process, stopped through its AbortSignal as a signal would stop it. */
class Ours {
  stdout = '';
  stderr = '';
  readonly ac = new AbortController();
  readonly code: Promise<number>;
  constructor(run: (args: readonly string[], o: MonitorOptions, out: (s: string | Buffer) => void) => Promise<number>, args: readonly string[],
    timestamp = false) {
    const opts: MonitorOptions = { stop: this.ac.signal, err: (s) => (this.stderr += s), timestamp };
    this.code = run(args, opts, (s) => (this.stdout += s.toString())).catch((err: unknown) => {
      this.stderr += `ovs-ofctl: ${err instanceof Error ? err.message : String(err)}\n`;
      return 1;
    });
  }
}

interface Outcome {
  readonly code: number;
  readonly error: string;
}

describe('monitor, snoop and packet-out: the same text and exit code as ovs-ofctl -O OpenFlow13', function () {
  this.timeout(180_000);
  let ovs: OvsSandbox;
  const savedRundir = process.env.OVS_RUNDIR;

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0'], dummy: true });
    process.env.OVS_RUNDIR = ovs.dir;
    await ovs.vsctl('add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=dummy', 'ofport_request=1',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'type=dummy', 'ofport_request=2');
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=0,priority=10,in_port=1,actions=controller');
  });
  after(async () => {
    if (savedRundir === undefined) delete process.env.OVS_RUNDIR;
    else process.env.OVS_RUNDIR = savedRundir;
    await ovs?.stop();
  });

  const ofctl = (...args: string[]): Promise<string> => ovs.ofctl(...args);

  async function bothWatching(args: readonly string[], started: (s: string) => boolean, timestamp = false): Promise<[Ours, Theirs]> {
    const theirs = Theirs.start(ovs.dir, [...(timestamp ? ['--timestamp'] : []), 'monitor', 'br0', ...args]);
    const ours = new Ours(monitorCommand, ['br0', ...args], timestamp);
    await eventually(() => started(ours.stdout) && started(theirs.stdout), 'both monitors to start');
    // Both have asked for NXT_PACKET_IN2 once their barrier is answered: a moment after the reply.
    await new Promise((r) => setTimeout(r, 500));
    return [ours, theirs];
  }

  async function stopBoth(ours: Ours, theirs: Theirs, sig: 'SIGINT' | 'SIGTERM'): Promise<void> {
    ours.ac.abort(sig);
    theirs.proc.kill(sig);
    expect(await ours.code, `exit on ${sig}`).to.equal(await theirs.code);
    expect(mask(ours.stdout), 'stdout').to.equal(mask(theirs.stdout));
    expect(mask(ours.stderr), 'stderr').to.equal(mask(theirs.stderr));
  }

  it('monitor 65535 watch:: the flows already there, then adds, modifies, packet-ins and deletes as they happen; SIGTERM ends both alike', async () => {
    const [ours, theirs] = await bothWatching(['65535', 'watch:'], (s) => s.includes('event=ADDED'));
    await ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=1,cookie=0x5,priority=7,ip,actions=drop');
    await ofctl('mod-flows', ovs.mgmtTarget('br0'), 'table=1,ip,actions=output:2');
    await ofctl('packet-out', ovs.mgmtTarget('br0'), `in_port=1,packet=${PACKET},actions=controller`);
    await ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=2,idle_timeout=50,hard_timeout=60,tcp,tp_dst=80,actions=output:1,output:2');
    await ofctl('del-flows', ovs.mgmtTarget('br0'), 'table=1');
    await ofctl('del-flows', ovs.mgmtTarget('br0'), 'table=2');
    const done = (s: string): boolean => (s.match(/event=DELETED/g) ?? []).length === 2;
    await eventually(() => done(ours.stderr) && done(theirs.stderr), 'both to see every event');
    expect(theirs.stderr).to.include('NXT_PACKET_IN2');
    expect(theirs.stderr).to.include('event=MODIFIED');
    await stopBoth(ours, theirs, 'SIGTERM');
  });

  it('--timestamp monitor watch:!initial,table=3,tcp: only the matching table and protocol, each after its time; SIGINT ends both alike', async () => {
    const [ours, theirs] = await bothWatching(['watch:!initial,table=3,tcp'], (s) => s.includes('FLOW_MONITOR reply'), true);
    await ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=3,udp,actions=drop');
    await ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=4,tcp,actions=drop');
    await ofctl('add-flow', ovs.mgmtTarget('br0'), 'table=3,tcp,nw_dst=10.0.0.0/8,actions=output:2');
    await ofctl('del-flows', ovs.mgmtTarget('br0'), 'table=3');
    await ofctl('del-flows', ovs.mgmtTarget('br0'), 'table=4');
    const done = (s: string): boolean => s.includes('event=DELETED');
    await eventually(() => done(ours.stderr) && done(theirs.stderr), 'both to see the delete');
    expect(theirs.stderr).to.not.include('udp');
    expect(theirs.stderr).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}: ONFST_FLOW_MONITOR reply/m);
    await stopBoth(ours, theirs, 'SIGINT');
  });

  it('monitor: the switch going away ends both with vconn_recv (End of file), exit 1', async () => {
    await ovs.addBridge('br9');
    const theirs = Theirs.start(ovs.dir, ['monitor', 'br9', 'watch:']);
    const ours = new Ours(monitorCommand, ['br9', 'watch:']);
    await eventually(() => ours.stdout.includes('reply') && theirs.stdout.includes('reply'), 'both monitors to start');
    await ovs.vsctl('del-br', 'br9');
    expect(await ours.code).to.equal(await theirs.code).and.equal(1);
    expect(mask(ours.stdout)).to.equal(mask(theirs.stdout));
    expect(ours.stderr).to.equal(theirs.stderr);
  });

  for (const args of [['bogus'], ['invalid_ttl'], ['watch:cookie=5'], ['watch:table=300'], ['watch:table='], ['1', '2', '3', '4']]) {
    it(`monitor br0 ${args.join(' ')}: refused with ovs-ofctl's message and exit code`, async () => {
      const theirs = Theirs.start(ovs.dir, ['monitor', 'br0', ...args]);
      const ours = new Ours(monitorCommand, ['br0', ...args]);
      expect(await ours.code).to.equal(await theirs.code).and.equal(1);
      // ovs-ofctl also logs a warning for an out-of-range table; the fatal line is what both say.
      expect(ours.stderr).to.equal(theirs.stderr.split('\n').filter((l) => l.startsWith('ovs-ofctl:')).join('\n') + '\n');
      expect(ours.stdout).to.equal('');
    });
  }

  it('snoop: both see the same exchange between the switch and its controller (its packet-ins), and end alike', async () => {
    const port = await freePort();
    const controller: OfListener = await listen({ kind: 'tcp', host: '127.0.0.1', port });
    try {
      const session = new Promise((resolve) => controller.sessions$.subscribe(resolve));
      await ovs.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${port}`);
      await session;
      const theirs = Theirs.start(ovs.dir, ['snoop', 'br0']);
      const ours = new Ours(snoopCommand, ['br0']);
      await new Promise((r) => setTimeout(r, 1000));
      await ofctl('packet-out', ovs.mgmtTarget('br0'), `in_port=1,packet=${PACKET},actions=controller`);
      await ofctl('packet-out', ovs.mgmtTarget('br0'), `in_port=2,packet=${PACKET},actions=controller:100`);
      const done = (s: string): boolean => (s.match(/PACKET_IN/g) ?? []).length === 2;
      await eventually(() => done(ours.stderr) && done(theirs.stderr), 'both snoops to see both packet-ins');
      await stopBoth(ours, theirs, 'SIGTERM');
    } finally {
      await ovs.vsctl('del-controller', 'br0');
      await controller.close();
    }
  });

  async function txPackets(): Promise<number> {
    const text = await ofctl('dump-ports', ovs.mgmtTarget('br0'), '2');
    return Number(/tx pkts=(\d+)/.exec(text)![1]);
  }

  async function theirsOnce(args: readonly string[]): Promise<Outcome> {
    return new Promise((resolve) => {
      execFile('ovs-ofctl', ['-O', 'OpenFlow13', 'packet-out', 'br0', ...args], { env: { ...process.env, OVS_RUNDIR: ovs.dir } },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, error: stderr }));
    });
  }

  async function oursOnce(args: readonly string[]): Promise<Outcome> {
    let error = '';
    try {
      return { code: await packetOutCommand(['br0', ...args], { err: (s) => (error += s) }, () => undefined), error };
    } catch (err) {
      return { code: 1, error: `${error}ovs-ofctl: ${err instanceof Error ? err.message : String(err)}\n` };
    }
  }

  const PACKET_OUTS: ReadonlyArray<readonly string[]> = [
    [`in_port=1,packet=${PACKET},actions=output:2`],
    [`packet=${PACKET},actions=output:2`],
    [`in_port=p1,packet=${PACKET},actions=output:2`],
    [`in_port=LOCAL,packet=${PACKET},actions=output:2,output:2`],
    [`in_port=1,packet=${PACKET}`],
    ['1', 'output:2', PACKET, PACKET],
    ['p1', 'output:2', PACKET],
    [`in_port=1,actions=output:2`],
    [`in_port=nope,packet=${PACKET},actions=output:2`],
    [`in_port=65300,packet=${PACKET},actions=output:2`],
    [`bogus=1,packet=${PACKET},actions=output:2`],
    [`in_port=1,packet=${PACKET},actions=goto_table:1`],
    [`in_port=1,packet=${PACKET},actions=foo`],
    [`in_port=1,packet=${PACKET}0,actions=output:2`],
    [`in_port=1,packet=5054,actions=output:2`],
    [`in_port=1,packet=,actions=drop`],
    [`in_port=1,packet=${PACKET},actions=group:77`],
    ['nope', 'output:2', PACKET],
    ['1', 'output:2', '12'],
    ['a', 'b'],
    [],
  ];

  for (const args of PACKET_OUTS) {
    it(`packet-out br0 ${args.map((a) => a.replace(PACKET, 'PKT')).join(' ')}: the same packets out of p2, message and exit code`, async () => {
      const t0 = await txPackets();
      const theirs = await theirsOnce(args);
      const t1 = await txPackets();
      const ours = await oursOnce(args);
      const t2 = await txPackets();
      expect(ours.code, `exit code (ours: ${ours.error})`).to.equal(theirs.code);
      expect(t2 - t1, 'packets sent out of p2').to.equal(t1 - t0);
      // ovs-ofctl also logs warnings (an OF1.0 port number): the message that ends it is compared.
      const fatal = (s: string): string => mask(s.split('\n').filter((l) => !/^\d{4}-/.test(l)).join('\n'));
      expect(fatal(ours.error)).to.equal(fatal(theirs.error));
    });
  }
});
