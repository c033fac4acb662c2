// The read commands (show, dump-desc, dump-ports, dump-ports-desc, dump-tables, dump-table-features,
// dump-aggregate, queue-stats) against `ovs-ofctl -O OpenFlow13` on the same real bridges: the same
// text (xids and durations masked) and the same exit code, argument variant by variant, error by error.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { OvsSandbox } from '../../testing/sandbox.js';
import { defaultOptions } from '../../lib/cli/args.js';
import { findCommand } from '../../lib/cli/commands.js';
import type { QueryOptions } from '../../lib/cli/query.js';

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  /** The failure's message (ours) or stderr (ovs-ofctl's). */
  readonly error: string;
}

/** xids and durations differ from run to run; nothing else may. */
/** The read commands of issue 15. */
const QUERY_COMMANDS = ['show', 'dump-desc', 'dump-ports', 'dump-ports-desc', 'dump-tables', 'dump-table-features', 'dump-aggregate', 'queue-stats'];

const mask = (s: string): string => s.replace(/xid=0x[0-9a-f]+/g, 'xid=X').replace(/duration=[0-9.]+s/g, 'duration=Ds');

describe('read commands: the same text and exit code as ovs-ofctl -O OpenFlow13', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  const savedRundir = process.env.OVS_RUNDIR;

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0', 'br1'] });
    // Bridge names resolve through OVS_RUNDIR, for ovs-ofctl and for ours (called in this process).
    process.env.OVS_RUNDIR = ovs.dir;
    await ovs.vsctl('add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'ofport_request=1',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'ofport_request=2',
      '--', 'add-port', 'br0', 'vm-eth0', '--', 'set', 'Interface', 'vm-eth0', 'ofport_request=12',
      '--', 'add-port', 'br1', 'patch-a', '--', 'set', 'Interface', 'patch-a', 'type=patch', 'options:peer=patch-b', 'ofport_request=7',
      '--', 'add-port', 'br1', 'patch-b', '--', 'set', 'Interface', 'patch-b', 'type=patch', 'options:peer=patch-a', 'ofport_request=8',
      '--', 'add-port', 'br1', 'q1', '--', 'set', 'Interface', 'q1', 'ofport_request=3', '--', 'set', 'Port', 'q1', 'qos=@q',
      // The userspace (dummy) datapath takes the QoS row but supports no QoS type: OVS then reports
      // each port's default queue 0 only, which is what queue-stats can be compared on here.
      '--', '--id=@q', 'create', 'QoS', 'type=linux-htb', 'queues:0=@q0', 'queues:5=@q5',
      '--', '--id=@q0', 'create', 'Queue', 'other-config:max-rate=1000000',
      '--', '--id=@q5', 'create', 'Queue', 'other-config:max-rate=2000000');
    await ovs.ofctl('mod-port', ovs.mgmtTarget('br0'), 'p2', 'down');
    for (const flow of ['table=0,priority=5,in_port=1,actions=output:2', 'table=0,priority=6,ip,actions=goto_table:3',
      'table=3,cookie=0x10,tcp,tp_dst=80,actions=drop', 'table=3,cookie=0x11,tcp,tp_dst=443,actions=drop',
      'table=7,priority=1,actions=output:12', 'table=200,arp,actions=drop']) {
      await ovs.ofctl('add-flow', ovs.mgmtTarget('br0'), flow);
    }
    for (const flow of ['table=0,priority=1,in_port=7,actions=output:8', 'table=1,udp,actions=drop']) {
      await ovs.ofctl('add-flow', ovs.mgmtTarget('br1'), flow);
    }
  });
  after(async () => {
    if (savedRundir === undefined) delete process.env.OVS_RUNDIR;
    else process.env.OVS_RUNDIR = savedRundir;
    await ovs?.stop();
  });

  async function ours(cmd: string, args: readonly string[], opts: QueryOptions = {}): Promise<Outcome> {
    const command = findCommand(cmd);
    if (!command) throw new Error(`no command ${cmd}`);
    let stdout = '';
    try {
      // As the command line runs it: its record in the command table, ovs-ofctl's default options.
      const code = await command.run(args, { ...defaultOptions(), ...opts }, (s) => (stdout += s.toString()));
      return { code, stdout, error: '' };
    } catch (err) {
      return { code: 1, stdout, error: err instanceof Error ? err.message : String(err) };
    }
  }

  function theirs(cmd: string, args: readonly string[], extra: readonly string[] = []): Promise<Outcome> {
    return new Promise((resolve) => {
      execFile('ovs-ofctl', ['-O', 'OpenFlow13', ...extra, cmd, ...args], { env: { ...process.env, OVS_RUNDIR: ovs.dir }, maxBuffer: 1 << 26 },
        // Killed by a signal (-t's SIGALRM): the status a shell reports, 128 + the signal.
        (err, stdout, stderr) => resolve({ code: !err ? 0 : err.signal ? 128 + osConstants.signals[err.signal] : Number(err.code ?? -1), stdout, error: stderr }));
    });
  }

  /** Ours and ovs-ofctl's on the same words: same masked text, same exit code; returns both. */
  async function same(cmd: string, args: readonly string[], opts: QueryOptions = {}, extra: readonly string[] = []): Promise<[Outcome, Outcome]> {
    const [a, b] = [await ours(cmd, args, opts), await theirs(cmd, args, extra)];
    const what = `${cmd} ${args.join(' ')}`;
    expect(mask(a.stdout), what).to.equal(mask(b.stdout));
    expect(a.code, `${what}: exit code (ours failed with: ${a.error})`).to.equal(b.code);
    return [a, b];
  }

  /** Both fail with exit 1 and ovs-ofctl's one line is `ovs-ofctl: ` and our message. */
  async function sameFailure(cmd: string, args: readonly string[], opts: QueryOptions = {}, extra: readonly string[] = []): Promise<void> {
    const [a, b] = await same(cmd, args, opts, extra);
    expect(a.code).to.equal(1);
    expect(b.error.split('\n').filter((l) => !l.includes('|WARN|'))).to.deep.equal([`ovs-ofctl: ${a.error}`, '']);
  }

  for (const br of ['br0', 'br1']) {
    it(`${br}: every read command with only SWITCH prints what ovs-ofctl prints`, async () => {
      for (const cmd of ['show', 'dump-desc', 'dump-tables', 'dump-table-features', 'dump-ports', 'dump-ports-desc', 'queue-stats', 'dump-aggregate']) {
        const [a] = await same(cmd, [br]);
        expect(a.code, cmd).to.equal(0);
        expect(a.stdout, cmd).to.not.equal('');
      }
    });
  }

  it('show: the features, every port (sorted, with its name and state) and the switch config', async () => {
    const [a] = await same('show', ['br0']);
    expect(a.stdout).to.match(/^OFPT_FEATURES_REPLY .*\nn_tables:254, .*\ncapabilities: .*\nOFPST_PORT_DESC reply .*\n 1\(p1\)/);
    expect(a.stdout).to.include(' 12(vm-eth0): ').and.include('     config:     PORT_DOWN\n');
    expect(a.stdout).to.match(/OFPT_GET_CONFIG_REPLY \(OF1\.3\) \(xid=0x[0-9a-f]+\): frags=normal miss_send_len=0\n$/);
  });

  it('dump-tables: the table counters with runs of equal tables as ditto', async () => {
    const [a] = await same('dump-tables', ['br0']);
    expect(a.stdout).to.include('  table 3:\n    active=2, lookup=0, matched=0\n');
    expect(a.stdout).to.include('  table 200:\n    active=1, lookup=0, matched=0\n').and.include('  tables 202...253: ditto\n');
  });

  it('dump-table-features: one list across all reply parts, no header, dittos across parts', async () => {
    const [a] = await same('dump-table-features', ['br0']);
    expect(a.stdout).to.match(/^ {2}table 0:\n/).and.include('  tables 1...252: ditto\n').and.match(/\(same matching\)\n\n$/);
  });

  it('dump-ports and dump-ports-desc: PORT as a number, reserved name, port name, quoted name; unknown ports', async () => {
    for (const port of ['1', '12', 'p2', '"vm-eth0"', 'LOCAL', 'local', 'ANY', 'none', '65535', '4294967295', '9', '0', 'all', 'controller', ' 1', '+2']) {
      await same('dump-ports', ['br0', port]);
      await same('dump-ports-desc', ['br0', port]);
    }
    await same('dump-ports', ['br1', 'patch-b']);
    for (const port of ['nosuch', '1x', '0x5', '4294967040x', 'P1']) {
      await sameFailure('dump-ports', ['br0', port]);
      await sameFailure('dump-ports-desc', ['br0', port]);
    }
    // --no-names: a port's name is no longer accepted, numbers still are.
    await sameFailure('dump-ports', ['br0', 'p1'], { names: false }, ['--no-names']);
    await same('dump-ports', ['br0', '1'], { names: false }, ['--no-names']);
  });

  it('queue-stats: every port, one port (by number or name), one queue, "all", atoi queue ids; a missing queue is the switch\'s error, exit 0', async () => {
    for (const args of [[], ['3'], ['q1'], ['3', '0'], ['q1', 'all'], ['all', '0'], ['ALL'], ['', '0'], ['3', ''], ['3', 'abc'], ['3', '0x5'],
      ['3', '4294967295'], ['1'], ['LOCAL', '0']]) {
      const [a] = await same('queue-stats', ['br1', ...args]);
      expect(a.code).to.equal(0);
    }
    const [a] = await same('queue-stats', ['br1', '3', '5']);
    expect(a.stdout).to.match(/^OFPT_ERROR \(OF1\.3\) \(xid=0x[0-9a-f]+\): OFPQOFC_BAD_QUEUE\nOFPST_QUEUE request .* port=3 queue=5\n$/);
    await sameFailure('queue-stats', ['br1', 'nosuch']);
  });

  it('dump-aggregate: filters by table, match, cookie, out_port; a bad filter fails before anything is sent', async () => {
    for (const flow of ['table=3', 'ip', 'in_port=1', 'tcp,tp_dst=80', 'tcp,tp_dst=80/0xfff0', 'cookie=0x10/-1', 'cookie=0x10/0xfe',
      'out_port=2', 'out_port=12', 'table=200,arp', 'nw_src=10.0.0.1', 'table=9', 'dl_type=0x0800,nw_proto=6']) {
      const [a] = await same('dump-aggregate', ['br0', flow]);
      expect(a.code).to.equal(0);
    }
    const [all] = await same('dump-aggregate', ['br0']);
    expect(all.stdout).to.match(/packet_count=0 byte_count=0 flow_count=6\n$/);
    for (const flow of ['foo=bar', 'table=300', 'priority=5', 'actions=drop']) {
      const [a] = await same('dump-aggregate', ['br0', flow]);
      expect(a.code, flow).to.equal(1);
    }
  });

  it('a switch that is not there fails every command with exit 1, as ovs-ofctl does', async () => {
    for (const cmd of QUERY_COMMANDS) {
      const [a] = await same(cmd, ['br9']);
      expect(a.error).to.include('br9 is not a bridge or a socket');
    }
  });

  it('--names prints port names where ovs-ofctl does (dump-ports, queue-stats), --no-names numbers; show and dump-ports-desc alike either way', async () => {
    for (const [names, extra] of [[true, ['--names']], [false, ['--no-names']]] as const) {
      for (const [cmd, args] of [['dump-ports', ['br0']], ['dump-ports', ['br0', '12']], ['dump-ports', ['br0', 'p1']], ['queue-stats', ['br1']],
        ['queue-stats', ['br1', 'q1']], ['queue-stats', ['br1', '3', '0']], ['show', ['br1']], ['dump-ports-desc', ['br0']],
        ['dump-aggregate', ['br0', 'in_port=p1']], ['dump-aggregate', ['br0', 'out_port="vm-eth0"']]] as const) {
        await same(cmd, args, { names }, extra);
      }
    }
    const [a] = await same('dump-ports', ['br0'], { names: true }, ['--names']);
    expect(a.stdout).to.include('  port  p1: rx pkts=').and.include('  port "vm-eth0": rx pkts=');
    const [q] = await same('queue-stats', ['br1'], { names: true }, ['--names']);
    expect(q.stdout).to.include('  port q1 queue 0: ');
    // Neither option, not on a terminal: names accepted, numbers printed.
    const [d] = await same('dump-aggregate', ['br0', 'in_port=p1']);
    expect(d.code).to.equal(0);
  });

  it('-t/--timeout: a silent switch ends every read command as ovs-ofctl\'s alarm does (its message, exit 142)', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => void held.push(s.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const target = `tcp:127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      for (const cmd of QUERY_COMMANDS) {
        let stderr = '';
        const write = process.stderr.write.bind(process.stderr);
        process.stderr.write = ((s: string | Uint8Array): boolean => (stderr += String(s), true)) as typeof process.stderr.write;
        let a: Outcome;
        try {
          a = await ours(cmd, [target], { timeoutS: 1 });
        } finally {
          process.stderr.write = write;
        }
        const b = await theirs(cmd, ['-t', '1', target].slice(2), ['-t', '1']);
        expect([a.code, b.code], cmd).to.deep.equal([142, 142]);
        expect(stderr, cmd).to.equal(`ofctl-ts: ${cmd}: terminating with signal 14 (Alarm clock)\n`);
        expect(b.error, cmd).to.match(/\|fatal_signal\|WARN\|terminating with signal 14 \(Alarm clock\)\n$/);
      }
      // In time, nothing changes.
      await same('dump-ports', ['br0'], { timeoutS: 10 }, ['-t', '10']);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});

