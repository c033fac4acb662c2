// ROLE_REQUEST/ROLE_REPLY, ONFT_ROLE_STATUS and the ROLE_REQUEST_FAILED errors: bytes written here
// from the OpenFlow 1.3 layouts (never by our encoder), printed by ovs-ofctl ofp-print 3.1; our
// decoder must read them, print what OVS prints, and encode them back to the same bytes.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatMessage } from '../../../codecs/ofctl/format-message.js';
import { decodeMessage, encodeMessage } from '../../../codecs/openflow/messages.js';
import { describeError } from '../../../lib/switch/errors.js';

const run = promisify(execFile);
const ofpPrint = async (hex: string): Promise<string> => (await run('ovs-ofctl', ['ofp-print', hex])).stdout;
const hexOf = (spaced: string): string => spaced.replace(/\s+/g, '');

describe('role messages against ovs-ofctl ofp-print', function () {
  this.timeout(60_000);

  // [bytes, what ofp-print 3.1 printed for them when this test was written]
  const CASES: ReadonlyArray<readonly [string, string]> = [
    ['04180018 00000005 00000002 00000000 000000000000000b', 'OFPT_ROLE_REQUEST (OF1.3) (xid=0x5): role=primary generation_id=11'],
    ['04180018 00000006 00000003 00000000 000000000000000a', 'OFPT_ROLE_REQUEST (OF1.3) (xid=0x6): role=secondary generation_id=10'],
    ['04180018 00000007 00000000 00000000 ffffffffffffffff', 'OFPT_ROLE_REQUEST (OF1.3) (xid=0x7): role=nochange'],
    ['04190018 00000005 00000002 00000000 000000000000000b', 'OFPT_ROLE_REPLY (OF1.3) (xid=0x5): role=primary generation_id=11'],
    ['04190018 00000008 00000003 00000000 ffffffffffffffff', 'OFPT_ROLE_REPLY (OF1.3) (xid=0x8): role=secondary'],
    ['04190018 00000009 00000001 00000000 ffffffffffffffff', 'OFPT_ROLE_REPLY (OF1.3) (xid=0x9): role=equal'],
    // ONF experimenter 0x4f4e4600, subtype 1911: role, reason, 3 pad, generation id.
    ['04040020 0000000a 4f4e4600 00000777 00000003 00000000 000000000000000c', 'ONFT_ROLE_STATUS (OF1.3) (xid=0xa): role=secondary generation_id=12 reason=primary_request'],
    ['04040020 0000000b 4f4e4600 00000777 00000002 01000000 000000000000000c', 'ONFT_ROLE_STATUS (OF1.3) (xid=0xb): role=primary generation_id=12 reason=configuration_changed'],
  ];

  for (const [spaced, text] of CASES) {
    it(text.replace(/ \(xid=0x[0-9a-f]+\)/, ''), async () => {
      const hex = hexOf(spaced);
      const theirs = await ofpPrint(hex);
      expect(theirs).to.equal(`${text}\n`);
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      if (!r.ok) throw r.error;
      expect(formatMessage(r.msg)).to.equal(theirs);
      expect(encodeMessage(r.msg).toString('hex')).to.equal(hex);
    });
  }

  it('the role request errors print with OVS\'s names, and the session names them too', async () => {
    for (const [code, name] of [[0, 'OFPRRFC_STALE'], [1, 'OFPRRFC_UNSUP'], [2, 'OFPRRFC_BAD_ROLE']] as const) {
      // OFPT_ERROR, type 11 (OFPET_ROLE_REQUEST_FAILED), the refused request as its data (as OVS sends it).
      const hex = hexOf(`04010024 00000007 000b000${code} 04180018 00000007 00000002 00000000 000000000000000a`);
      const theirs = await ofpPrint(hex);
      expect(theirs).to.match(new RegExp(`^OFPT_ERROR \\(OF1\\.3\\) \\(xid=0x7\\): ${name}\\n`));
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      if (!r.ok || r.msg.type !== 'error') throw new Error(`not decoded as an error: ${hex}`);
      expect(formatMessage(r.msg)).to.equal(theirs);
      expect(describeError(r.msg)).to.equal(`OFPET_ROLE_REQUEST_FAILED/${name}`);
    }
    // IS_SLAVE (OFPET_BAD_REQUEST, code 10), what OVS answers a slave's flow-mod.
    const hex = hexOf('04010014 00000007 0001000a 04140008 00000007');
    expect(await ofpPrint(hex)).to.match(/^OFPT_ERROR \(OF1\.3\) \(xid=0x7\): OFPBRC_IS_SECONDARY\n/);
    const r = decodeMessage(Buffer.from(hex, 'hex'));
    expect(r.ok && formatMessage(r.msg)).to.equal(await ofpPrint(hex));
  });

  it('a role OVS does not know (4) is refused with OFPRRFC_BAD_ROLE, as OVS refuses it', async () => {
    for (const spaced of [
      '04180018 00000005 00000004 00000000 000000000000000b', '04190018 00000005 00000004 00000000 000000000000000b',
      '04040020 0000000a 4f4e4600 00000777 00000004 00000000 000000000000000c',
    ]) {
      const hex = hexOf(spaced);
      expect(await ofpPrint(hex), hex).to.include('***decode error: OFPRRFC_BAD_ROLE***');
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok ? 'accepted' : r.error.message, hex).to.include('OFPRRFC_BAD_ROLE');
    }
  });
});
