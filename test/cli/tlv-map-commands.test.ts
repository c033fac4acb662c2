// add-tlv-map, del-tlv-map and dump-tlv-map beside ovs-ofctl -O OpenFlow13. The TLV map is per
// bridge (measured: a map added on one bridge is not in its twin's dump), so each step runs
// ovs-ofctl on br-a and ours on br-b: the same stdout, stderr (xids, log timestamps and who speaks
// aside) and exit code, and the same dump-tlv-map afterwards.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { addTlvMapCommand, delTlvMapCommand, dumpTlvMapCommand } from '../../lib/cli/cmd-tlv-map.js';
import { OvsSandbox } from '../../testing/sandbox.js';

interface Result { stdout: string; stderr: string; code: number }

const normalize = (s: string): string => s
  .replace(/xid=0x[0-9a-f]+/g, 'xid=X')
  .replace(/^(00000000 {2}(?:[0-9a-f]{2}[ -]){4})(?:[0-9a-f]{2} ){3}[0-9a-f]{2}-/m, '$1xx xx xx xx-')
  .replace(/\|\.\.\.(.)\.\.\.\./, '|...$1xxxx')
  .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|')
  .replace(/^ovs-ofctl: /gm, 'ERROR: ').replace(/^ofctl-ts: [a-z-]+: /gm, 'ERROR: ');

// Each step: the command and its arguments after SWITCH (a refused map, a switch's refusal, a map
// OVS reads loosely: numbers cut to their field's width, octal, spaces before a number).
const STEPS: ReadonlyArray<readonly [string, ...string[]]> = [
  ['dump-tlv-map'],
  ['add-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata0'],
  ['add-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata0'],
  ['add-tlv-map', '{class=0xffff,type=1,len=8}->tun_metadata1,{class=0x0102,type=0x80,len=124}->tun_metadata63'],
  ['dump-tlv-map'],
  ['del-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata0'],
  ['del-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata0'],
  ['dump-tlv-map'],
  ['del-tlv-map'],
  ['add-tlv-map', '{class=0xffff,type=0,len=5}->tun_metadata0'],
  ['add-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata64'],
  ['add-tlv-map', '{class=0xffff,type=0,len=128}->tun_metadata1'],
  ['add-tlv-map', 'junk'],
  ['add-tlv-map', ''],
  ['add-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata0,'],
  ['add-tlv-map', '{ class=1,type=2,len=4}->tun_metadata3'],
  ['add-tlv-map', '{class= 1,type= 2,len= 8}->tun_metadata 4 ,'],
  ['add-tlv-map', '{class=010,type=+2,len=12}->tun_metadata5,,{class=2,type=2,len=4}->tun_metadata6'],
  ['add-tlv-map', '{class=0xffff,type=0,len=4}->tun_metadata0x'],
  ['add-tlv-map', '{class=99999999999999999999,type=0,len=4}->tun_metadata0'],
  ['add-tlv-map', ',{class=0x1ffff,type=-1,len=0x104}->tun_metadata0x10'],
  ['add-tlv-map', '{class=1,type=2,len=4}->tun_metadata 3,{class=010,type=0X7,len=0}->tun_metadata65538'],
  ['dump-tlv-map'],
  ['add-tlv-map', '{class=0x5,type=0,len=4}->tun_metadata7,{class=0x6,type=1,len=4}->tun_metadata7'],
  ['dump-tlv-map'],
  ['del-tlv-map'],
  ['dump-tlv-map'],
];

describe('TLV map commands: ofctl-ts beside ovs-ofctl on twin bridges', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;

  const theirs = (cmd: string, args: readonly string[]): Promise<Result> => new Promise((resolve) => {
    execFile('ovs-ofctl', ['-O', 'OpenFlow13', cmd, 'br-a', ...args], { env: { ...process.env, OVS_RUNDIR: ovs.dir } },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number(err.code ?? 1) : 0 }));
  });

  const ours = async (cmd: string, args: readonly string[]): Promise<Result> => {
    let stdout = '';
    let stderr = '';
    const out = (s: string | Buffer): void => void (stdout += s.toString());
    const err = (s: string): void => void (stderr += s);
    const target = ovs.mgmtTarget('br-b');
    try {
      const code = cmd === 'dump-tlv-map' ? await dumpTlvMapCommand([target, ...args], {}, out)
        : cmd === 'add-tlv-map' ? await addTlvMapCommand([target, ...args], {}, out, err)
          : await delTlvMapCommand([target, ...args], {}, out, err);
      return { stdout, stderr, code };
    } catch (e) {
      return { stdout, stderr: `${stderr}ofctl-ts: ${cmd}: ${(e as Error).message}\n`, code: 1 };
    }
  };

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-a', 'br-b'] });
  });
  after(async () => ovs?.stop());

  it('a map added on one bridge is not in its twin (the map is per bridge)', async () => {
    await ovs.ofctl('add-tlv-map', 'br-a', '{class=0xffff,type=0,len=4}->tun_metadata0');
    expect(await ovs.ofctl('-O', 'OpenFlow13', 'dump-tlv-map', 'br-b')).not.to.contain('tun_metadata0');
    await ovs.ofctl('del-tlv-map', 'br-a');
  });

  for (const [cmd, ...args] of STEPS) {
    it(`${cmd} ${args.map((a) => `'${a}'`).join(' ')}`, async () => {
      const a = await theirs(cmd, args);
      const b = await ours(cmd, args);
      expect({ ...b, stdout: normalize(b.stdout), stderr: normalize(b.stderr) })
        .to.deep.equal({ ...a, stdout: normalize(a.stdout), stderr: normalize(a.stderr) });
      const after = await Promise.all([theirs('dump-tlv-map', []), ours('dump-tlv-map', [])]);
      expect(normalize(after[1].stdout)).to.equal(normalize(after[0].stdout));
    });
  }
});
