// The group and meter commands beside ovs-ofctl -O OpenFlow13: one sandbox, two bridges; each
// step runs ovs-ofctl on br-a and ours on br-b, and both must print the same text (xids and
// durations aside; a refusal's place named our way), exit alike and leave the same groups and meters.
import { expect } from 'chai';
import { execFile, type ExecFileException } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import * as group from '../../lib/cli/cmd-group.js';
import * as meter from '../../lib/cli/cmd-meter.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { tempDir } from '../../testing/temp-dir.js';

interface Opts { mayCreate?: boolean; names?: boolean; timeoutS?: number }
type Cmd = (args: readonly string[], opts: Opts, out: (s: string | Buffer) => void) => Promise<number>;
const COMMANDS: Readonly<Record<string, Cmd>> = {
  'add-group': group.addGroupCommand, 'add-groups': group.addGroupsCommand, 'mod-group': group.modGroupCommand,
  'del-groups': group.delGroupsCommand, 'dump-groups': group.dumpGroupsCommand, 'dump-group-stats': group.dumpGroupStatsCommand,
  'dump-group-features': group.dumpGroupFeaturesCommand, 'add-meter': meter.addMeterCommand, 'mod-meter': meter.modMeterCommand,
  'del-meters': meter.delMetersCommand, 'del-meter': meter.delMetersCommand, 'dump-meters': meter.dumpMetersCommand,
  'meter-stats': meter.meterStatsCommand, 'meter-features': meter.meterFeaturesCommand,
};

interface Result { stdout: string; stderr: string; code: number }

/** The exit status a shell reports: the code, or 128 + the signal that killed the process. */
const shellStatus = (err: ExecFileException | null): number =>
  !err ? 0 : err.signal ? 128 + osConstants.signals[err.signal] : Number(err.code ?? 1);

/**
 * Port names differ between the twin bridges (OVS names are unique per switch daemon): a text names
 * br-a's port and `ours` runs it with br-b's; br-b's names in our output are read as br-a's.
 */
const NAMES: ReadonlyArray<readonly [a: string, b: string]> = [['pa', 'pb'], ['a-v', 'b-v'], ['br-a-p1', 'br-b-p1']];
const toB = (s: string): string => NAMES.reduce((t, [a, b]) => t.replace(new RegExp(`\\b${a}\\b`, 'g'), b), s);
const fromB = (s: string): string => NAMES.reduce((t, [a, b]) => t.replace(new RegExp(`\\b${b}\\b`, 'g'), a), s);

/** Text with what may differ masked: xids (also in a hex dump's first line), durations, and who speaks. */
function normalize(s: string): string {
  return s.split('\n').map((l) => l
    .replace(/xid=0x[0-9a-f]+/g, 'xid=X')
    .replace(/duration[=:][0-9.]+s/g, 'duration=X')
    .replace(/^(00000000 {2}(?:[0-9a-f]{2}[ -]){4})(?:[0-9a-f]{2}[ -]){4}([^|]*\|.{4}).{4}(.{8}\|)$/, '$1xx xx xx xx-$2xxxx$3')
    // A refusal before anything is sent: ovs-ofctl's `ovs-ofctl: REASON`, ours `ofctl-ts: CMD: [column N: ]REASON`.
    .replace(/^ovs-ofctl: /, 'ERROR: ').replace(/^ofctl-ts: [a-z-]+: /, 'ERROR: ').replace(/column \d+: /, '')
    // A file's place: ovs-ofctl names standard input `-` and has no column.
    .replace(/^ERROR: (?:-|<stdin>|[^:]+):(\d+): /, 'ERROR: FILE:$1: ')).join('\n');
}

/** Lines in order but for those that are sorted (groups and meters come in hash order, per bridge). */
const sortedBody = (s: string): string[] => normalize(s).split('\n').filter((l) => l).sort();

describe('group and meter commands: ofctl-ts beside ovs-ofctl on twin bridges', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  const tmp = tempDir('ofctl-ts-gm-');

  const theirs = (cmd: string, args: readonly string[], options: readonly string[], stdin?: string, target = ovs.mgmtTarget('br-a')): Promise<Result> => new Promise((resolve) => {
    const argv = ['-O', 'OpenFlow13', ...options, cmd, target, ...args];
    const child = execFile('ovs-ofctl', argv, { env: { ...process.env, OVS_RUNDIR: ovs.dir } },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: shellStatus(err) }));
    // The child may be gone before its input is written (EPIPE).
    child.stdin?.on('error', () => undefined).end(stdin ?? '');
  });

  async function ours(cmd: string, args: readonly string[], opts: Opts = {}, target = ovs.mgmtTarget('br-b')): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string | Uint8Array): boolean => {
      stderr += String(s);
      return true;
    }) as typeof process.stderr.write;
    try {
      const code = await COMMANDS[cmd]!([target, ...args], opts, (s) => void (stdout += String(s)));
      return { stdout: fromB(stdout), stderr: fromB(stderr), code };
    } catch (err) {
      return { stdout: fromB(stdout), stderr: fromB(`${stderr}ofctl-ts: ${cmd}: ${(err as Error).message}\n`), code: 1 };
    } finally {
      process.stderr.write = write;
    }
  }

  async function state(bridge: string): Promise<string[]> {
    const t = ovs.mgmtTarget(bridge);
    return [...sortedBody(await ovs.ofctl('dump-groups', t)), '--', ...sortedBody(await ovs.ofctl('dump-meters', t))];
  }

  /**
   * Runs one step on both bridges and checks text, exit code and the state they leave. Names are
   * refused (--no-names) unless `names` says: true --names, 'default' neither option.
   */
  async function twin(cmd: string, args: readonly string[], o: { sort?: boolean; mayCreate?: boolean; names?: true | 'default' } = {}): Promise<Result> {
    const names = o.names === true ? ['--names'] : o.names === 'default' ? [] : ['--no-names'];
    const a = await theirs(cmd, args, [...names, ...(o.mayCreate ? ['--may-create'] : [])]);
    const b = await ours(cmd, args.map(toB), { ...(o.mayCreate ? { mayCreate: true } : {}), ...(o.names === 'default' ? {} : { names: o.names === true }) });
    const what = `${cmd} ${args.join(' ')}`;
    expect(b.code, `${what}: exit (ovs-ofctl stderr: ${a.stderr}; ours: ${b.stderr})`).to.equal(a.code);
    if (o.sort) expect(sortedBody(b.stdout), `${what}: stdout`).to.deep.equal(sortedBody(a.stdout));
    else expect(normalize(b.stdout), `${what}: stdout`).to.equal(normalize(a.stdout));
    // ovs-ofctl's warnings are log lines with a timestamp: only their presence is compared.
    const logLine = /^\d{4}-\d\d-\d\dT[^|]*\|\d+\|[a-z_]+\|WARN\|(.*)$/;
    const theirErr = normalize(a.stderr).split('\n').map((l) => l.replace(logLine, 'ERROR: $1')).join('\n');
    expect(normalize(b.stderr), `${what}: stderr`).to.equal(theirErr);
    expect(await state('br-b'), `${what}: groups and meters afterwards`).to.deep.equal(await state('br-a'));
    return a;
  }

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-a', 'br-b'] });
    for (const br of ['br-a', 'br-b']) {
      await ovs.vsctl('add-port', br, `${br}-p1`, '--', 'set', 'Interface', `${br}-p1`, 'type=dummy', 'ofport_request=1');
    }
    for (const [i, br] of ['br-a', 'br-b'].entries()) {
      for (const [n, [name]] of NAMES.slice(0, 2).map((pair) => [pair[i]!]).entries()) {
        await ovs.vsctl('add-port', br, name!, '--', 'set', 'Interface', name!, 'type=dummy', `ofport_request=${n + 2}`);
      }
    }
  });
  after(async () => {
    await ovs?.stop();
  });

  it('adds, modifies, dumps and deletes groups as ovs-ofctl does, refusals included', async () => {
    const accepted = [
      'group_id=1,type=all,bucket=output:1',
      'group_id=2,type=select,bucket=weight:5,actions=output:1,bucket=output:2',
      'group_id=3,type=ff,bucket=watch_port:1,output:1',
      'group_id=4,type=fast_failover,bucket=watch_port:1,watch_group:5,output:1',
      'group_id=5,type=all,bucket=bucket_id:3,output:1',
      'group_id=6,type=select,selection_method=hash,fields=ip_src,bucket=output:1',
      'group_id=0x10,type=select,bucket=weight:0x10,output:1',
      'group_id=010,type=indirect,bucket=actions=mod_vlan_vid:5,output:1',
      'group_id=9,type=all',
      'group_id=4294967306,type=all,bucket=output:1,bucket=output:2,mod_vlan_vid:5,output:3',
      'group_id=20 type=all bucket=output:1,,bucket=actions=drop',
      'group_id=21,type=all,bucket=actions=output(port=1,max_len=100),bucket=set_field:1->reg0',
      'group_id=22,type=all,bucket=weight:0,group:99',
      // Bucket actions are not checked against any packet, as OVS does not check them.
      'group_id=23,type=all,bucket=ct(commit),bucket=dec_ttl,bucket=mod_nw_src:1.2.3.4',
      'group_id=24,type=select,bucket=pop_mpls:0x800,bucket=fin_timeout(idle_timeout=5),bucket=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]',
      'group_id=25,type=all,bucket=ct(commit,nat(src=1.2.3.4)),bucket=mod_vlan_vid:5,mod_vlan_pcp:3,output:1',
    ];
    for (const g of accepted) expect((await twin('add-group', [g])).code, g).to.equal(0);
    const refused = [
      'group_id=1,type=all,bucket=output:1', // exists: the switch's OFPT_ERROR
      'group_id=30,type=all,bucket=watch_port:1,output:1', // the switch refuses, ofp-print cannot decode it
      'group_id=31,type=indirect', // an indirect group with no bucket
      'group_id=32,type=indirect,bucket=output:1,bucket=output:2',
      'group_id=33,type=bogus,bucket=output:1',
      'type=all,bucket=output:1',
      'group_id=34,bucket=output:1',
      'group_id=35,type=all,bucket=weight:2,output:1',
      'group_id=36,type=all,foo=1',
      'group_id=37,type=all,bucket=',
      'group_id=38,type=all,bucket=weight:1',
      '',
      'group_id=-1,type=all,bucket=output:1',
      'group_id=4294967041,type=all,bucket=output:1',
      'group_id=ALL,type=all,bucket=output:1',
      'GROUP_ID=39,type=all,bucket=output:1',
      'group_id=40,type=select,bucket=weight:70000,output:1',
      'group_id=41,type=select,bucket=weight:x,output:1',
      'group_id=42,type=ff,bucket=watch_port:foo,output:1',
      'group_id=43,type=ff,bucket=watch_group:4294967041,output:1',
      'group_id=44,type=ff,bucket=output:1,bucket=bogus',
      'group_id=45,type=ff,bucket=weight:x,output:1',
      'group_id=46,type=all,bucket=actions=output:1,bucket=actions=bogus',
      'group_id=47,type=all,bucket=output:1,Bucket=output:2',
      'group_id=48,type=all,bucket:output:1',
      'group_id=49,type=all,mybucket=output:1',
      'group_id=50,type=all,bucket=output:1,selection_method_param=5',
      'group_id=51,type=all,bucket=meter:1',
      'group_id=52,type=all,bucket=goto_table:1',
      'group_id=53,type=all,bucket=apply_actions(output:1)',
      'group_id=54,type=all,bucket=output:1,drop',
      'group_id=55,type=all,bucket=bucket=output:1',
      'group_id=,type=all',
      'group_id=56,type=,bucket=output:1',
    ];
    for (const g of refused) expect((await twin('add-group', [g])).code, g).to.equal(1);
    // Sent as ovs-ofctl sends it (vlan_vid 5 without its present bit: the bytes are in
    // test/codecs/group-meter-mods.test.ts) and refused by the switch alike. ovs-ofctl cannot decode
    // the refused mod it gets back and warns so; we print the switch's error by name.
    for (const g of ['group_id=57,type=all,bucket=set_field:5->vlan_vid', 'group_id=58,type=all,bucket=push_vlan:0x8100,set_field:5->vlan_vid,output:1']) {
      const [a, b] = [await theirs('add-group', [g], ['--no-names']), await ours('add-group', [g])];
      expect([b.code, a.code], g).to.deep.equal([1, 1]);
      expect(a.stderr, g).to.contain('OFPT_ERROR (OF1.3)').and.contain('OFPBAC_BAD_SET_ARGUMENT');
      expect(b.stderr, g).to.contain('OFPBAC_BAD_SET_ARGUMENT');
      expect(await state('br-b'), g).to.deep.equal(await state('br-a'));
    }
    await twin('add-group', []);
    await twin('mod-group', ['group_id=1,type=select,bucket=output:1,bucket=weight:3,output:2']);
    await twin('mod-group', ['group_id=99,type=all,bucket=output:1']);
    await twin('mod-group', ['group_id=98,type=all,bucket=output:1'], { mayCreate: true });
    await twin('mod-group', ['group_id=72,type=ff,bucket=output:1']);
    for (const arg of [[], ['1'], ['all'], ['junk'], ['group_id=1']]) await twin('dump-groups', arg, { sort: true });
    for (const arg of [[], ['group_id=1'], ['group_id=99'], ['group_id=all'], ['1'], ['junk']]) {
      await twin('dump-group-stats', arg, { sort: true });
    }
    await twin('dump-group-features', []);
    await twin('del-groups', ['group_id=1,type=all']);
    await twin('del-groups', ['group_id=1,bucket=output:1']);
    await twin('del-groups', ['1']);
    await twin('del-groups', ['group_id=1']);
    await twin('del-groups', ['group_id=1']);
    await twin('del-groups', ['']);
    await twin('del-groups', []);
  });

  it('add-groups reads a file as ovs-ofctl does: commands per line, comments, the failing line named', async () => {
    const file = (name: string, text: string): string => {
      const p = join(tmp, name);
      writeFileSync(p, text);
      return p;
    };
    await twin('add-groups', [file('ok.txt', 'group_id=81,type=all,bucket=output:1\n\n# a comment\nadd group_id=82,type=all,bucket=output:1\n'
      + '  modify group_id=81,type=all,bucket=output:2 # trailing\ndelete group_id=82\nadd_or_mod group_id=83,type=all,bucket=output:3\n'
      + 'a group_id=84 type=all bucket=output:4\nmod group_id=84,type=select,bucket=output:1\n')]);
    await twin('add-groups', [file('bad.txt', 'group_id=85,type=all,bucket=output:1\ngroup_id=86,type=all,bucket=output:1,bucket=bogus\n')]);
    await twin('add-groups', [file('exists.txt', 'group_id=87,type=all,bucket=output:1\ngroup_id=81,type=all,bucket=output:1\ngroup_id=88,type=all,bucket=output:1\n')]);
    await twin('add-groups', [file('cont.txt', 'group_id=89,type=all \\\n ,bucket=output:1\n')]);
    await twin('add-groups', [file('word.txt', 'addx group_id=81\n')]);
    await twin('add-groups', [file('insert.txt', 'insert_bucket group_id=81,command_bucket_id=first,bucket=output:1\n')]);
    await twin('add-groups', [file('remove.txt', 'remove_bucket group_id=81\n')]);
    await twin('add-groups', [file('delete-all.txt', 'delete\n')]);
    await twin('add-groups', [file('empty.txt', '')]);
  });

  it('adds, modifies, dumps and deletes meters as ovs-ofctl does, refusals included', async () => {
    const accepted = [
      'meter=1,kbps,band=type=drop,rate=1000',
      'meter=2,pktps,burst,stats,bands=type=drop,rate=10,burst_size=20',
      'meter=4,kbps,kbps,band=type=drop,rate=1',
      'meter=11,kbps,band=type=drop,rate=1,type=drop,rate=2',
      'meter=controller,kbps,band=type=drop,rate=1',
      'meter=slowpath,kbps,band=type=drop,rate=1',
      'meter=70000,kbps,band=type=drop,rate=1',
      'meter=12 kbps bands=type=drop rate=7',
      'meter=13,kbps,stats,band=type=drop,rate=0x10',
    ];
    for (const m of accepted) expect((await twin('add-meter', [m])).code, m).to.equal(0);
    const refused = [
      'meter=1,kbps,band=type=drop,rate=1000',
      'meter=3,kbps,band=type=dscp_remark,rate=100,prec_level=1',
      'meter=5,kbps,pktps,band=type=drop,rate=1',
      'meter=6,band=type=drop,rate=1', 'meter=7,kbps', 'meter=8,kbps,band=type=foo,rate=1', 'meter=9,kbps,band=rate=1',
      'meter=10,kbps,band=type=drop', 'meter=12,kbps,foo,band=type=drop,rate=1', 'kbps,band=type=drop,rate=1',
      'meter=all,kbps,band=type=drop,rate=1', 'meter=0,kbps,band=type=drop,rate=1', '',
      'meter=3,kbps,burst,band=type=drop,rate=1', 'meter=3,kbps,band=type=drop,rate=1,burst_size=3',
      'meter=3,kbps,band=type=drop,rate=1,prec_level=3', 'meter=3,kbps,band=type=dscp_remark,rate=1',
      'meter=3,kbps,band=type=drop,rate=x', 'meter=3,kbps,band=type=drop,rate=1,foo=2', 'meter=3,kbps,band=type=drop,rate',
      'meter=3,kbps,band=type=drop,rate=0', 'meter=3,kbps,band=type=dscp_remark,rate=1,prec_level=300',
      'meter=4294901761,kbps,band=type=drop,rate=1', 'meter=x,kbps,band=type=drop,rate=1', 'meter=3,kbps,band',
      'meter=3,kbps,band=', 'meter:3,kbps,band=type=drop,rate=1', 'meter=5,KBPS,band=type=drop,rate=1',
    ];
    for (const m of refused) expect((await twin('add-meter', [m])).code, m).to.equal(1);
    await twin('mod-meter', ['meter=1,pktps,band=type=drop,rate=5']);
    await twin('mod-meter', ['meter=99,pktps,band=type=drop,rate=5']);
    for (const arg of [[], ['meter=1'], ['1'], ['meter=99'], ['meter=1,kbps'], ['meter=all'], ['']]) {
      await twin('dump-meters', arg, { sort: true });
      await twin('meter-stats', arg, { sort: true });
    }
    await twin('meter-features', []);
    await twin('del-meters', ['meter=1,kbps']);
    await twin('del-meters', ['meter=99']);
    await twin('del-meter', ['meter=1']);
    await twin('del-meters', ['foo']);
    await twin('del-meters', ['']);
    await twin('del-meters', ['meter=all']);
    await twin('add-meter', ['meter=1,kbps,band=type=drop,rate=1000']);
    await twin('del-meters', []);
  });

  it('takes port names in watch_port and bucket actions unless --no-names, and prints them with --names', async () => {
    for (const names of ['default', true] as const) {
      await twin('add-group', ['group_id=200,type=ff,bucket=watch_port:pa,output:pa,bucket=watch_port:"a-v",output:"a-v"'], { names });
      await twin('add-group', ['group_id=201,type=all,bucket=output:pa,bucket=enqueue:pa:3,bucket=move:NXM_NX_REG0[]->NXM_NX_REG1[],output:LOCAL'], { names });
      await twin('add-group', ['group_id=202,type=ff,bucket=watch_port:nosuch,output:1'], { names });
      await twin('add-group', ['group_id=203,type=all,bucket=output:nosuch'], { names });
      await twin('mod-group', ['group_id=201,type=ff,bucket=watch_port:a-v,output:1'], { names });
      await twin('dump-groups', [], { sort: true, names });
      await twin('del-groups', [], { names });
    }
    // --no-names: a name is no port.
    await twin('add-group', ['group_id=204,type=ff,bucket=watch_port:pa,output:1']);
    await twin('add-group', ['group_id=205,type=all,bucket=output:pa']);
    // One file per bridge, each naming its own ports: ours reads names-pb.txt (the path's name mapped too).
    const text = 'group_id=206,type=all,bucket=output:pa\nadd group_id=207,type=ff,bucket=watch_port:pa,output:pa\n';
    writeFileSync(join(tmp, 'names-pa.txt'), text);
    writeFileSync(join(tmp, 'names-pb.txt'), toB(text));
    await twin('add-groups', [join(tmp, 'names-pa.txt')], { names: 'default' });
    await twin('dump-groups', [], { sort: true, names: true });
    await twin('dump-groups', [], { sort: true });
  });

  it('-t/--timeout: a silent switch ends the command as ovs-ofctl\'s alarm does (its message, exit 142)', async () => {
    // Accepts connections and never answers, not even HELLO.
    const held: Socket[] = [];
    const silent: Server = createServer((s) => void held.push(s.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const target = `tcp:127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const logLine = /^\d{4}-\d\d-\d\dT[^|]*\|\d+\|[a-z_]+\|WARN\|(.*)$/;
      for (const [cmd, args] of [['add-group', ['group_id=1,type=all,bucket=output:1']], ['dump-groups', []], ['add-meter', ['meter=1,kbps,band=type=drop,rate=1']],
        ['meter-stats', []], ['del-groups', []]] as const) {
        const started = Date.now();
        const a = await theirs(cmd, args, ['--no-names', '-t', '1'], undefined, target);
        const b = await ours(cmd, args, { names: false, timeoutS: 1 }, target);
        expect(Date.now() - started, cmd).to.be.below(4000);
        expect(b.code, `${cmd}: exit`).to.equal(a.code).and.equal(142);
        expect(normalize(b.stderr), `${cmd}: stderr`).to.equal(normalize(a.stderr).split('\n').map((l) => l.replace(logLine, 'ERROR: $1')).join('\n'));
      }
      // A switch that answers in time is not cut short.
      await twin('add-meter', ['meter=90,kbps,band=type=drop,rate=1']);
      const ok = await ours('dump-meters', [], { timeoutS: 5 });
      expect(ok.code).to.equal(0);
      expect(ok.stdout).to.contain('meter=90');
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});

