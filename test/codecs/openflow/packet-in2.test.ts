// NXT_PACKET_IN2 and NXT_RESUME against ovs-ofctl ofp-print 3.1: messages written here byte by byte
// (not by our encoder) with every continuation property, tagged packets (one, two and three VLAN
// tags: flow_extract reads two, and prints the inner one as vlan_tci1) and the properties OVS skips
// or refuses; each prints as ofp-print prints it and re-encodes to its own bytes.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatMessage } from '../../../codecs/ofctl/format-message.js';
import { decodeMessage, encodeMessage } from '../../../codecs/openflow/messages.js';

const run = promisify(execFile);
const ofpPrint = async (hex: string): Promise<string> => (await run('ovs-ofctl', ['ofp-print', hex])).stdout;

/** A property: type, length, (4 zero bytes when 8-byte aligned,) payload, zero padding to 8 bytes. */
function prop(type: number, payload: string, aligned = false): string {
  const body = (aligned ? '00000000' : '') + payload;
  const len = 4 + body.length / 2;
  const hex = type.toString(16).padStart(4, '0') + len.toString(16).padStart(4, '0') + body;
  return hex + '00'.repeat((8 - ((hex.length / 2) % 8)) % 8);
}

/** The message: OF1.3 header, Nicira experimenter, subtype (30: PACKET_IN2, 28: RESUME). */
function msg(props: readonly string[], subtype = 30): string {
  const body = props.join('');
  const len = 16 + body.length / 2;
  return `0404${len.toString(16).padStart(4, '0')}00000009` + `00002320${subtype.toString(16).padStart(8, '0')}${body}`;
}

const MACS = '828282828282808181818181';
const IP_TCP = '0800' + '45000028000000004006f9e10a0000010a000002' + '00500051000000000000000050020000d1d90000';
const IP_UDP = '0800' + '4500001c000000004011f9de0a0000010a000002' + '003500350008abcd';
const OUT1 = '00000010000000010000000000000000';
const OUT2 = '00000010000000020000000000000000';
const METADATA = prop(6, '8000000400000003');

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['every continuation property', msg([
    prop(0, MACS + IP_TCP), prop(3, '07'), prop(4, '0000000000001234', true), prop(5, '01'), METADATA,
    prop(8, [
      prop(0x8000, '000102030405060708090a0b0c0d0e0f'), prop(0x8001, '1234'), prop(0x8001, '00ab'), prop(0x8001, ''),
      prop(0x8002, '00000005'), prop(0x8003, ''), prop(0x8006, OUT1, true), prop(0x8004, '05'),
      prop(0x8005, '0000000000000abc', true), prop(0x8006, OUT2 + OUT1, true), prop(0x8007, OUT1, true), prop(0x8008, '00000009'),
    ].join(''), true),
    prop(7, '68656c6c6f'),
  ])],
  ['an empty action group, zero mirrors and bridge, unknown properties skipped', msg([
    prop(0, MACS + IP_TCP), prop(6, ''), prop(8, [
      prop(0x8000, '00'.repeat(16)), prop(0x8002, '00000000'), prop(0x8006, '', true), prop(0x8007, '', true), prop(0x8099, 'aa'),
    ].join(''), true), prop(0x55, '01'),
  ])],
  ['a buffered, truncated packet', msg([prop(0, MACS + IP_TCP), prop(1, '00000100'), prop(2, '00000114'), METADATA])],
  ['NXT_RESUME with OVS\'s internal miss reason', msg([prop(0, MACS + IP_TCP), prop(5, '06'), METADATA], 28)],
  ['NXT_RESUME with a reason OVS has no name for', msg([prop(0, MACS + IP_TCP), prop(5, '09'), prop(4, 'ffffffffffffffff', true), METADATA], 28)],
  ['a single-tagged packet', msg([prop(0, `${MACS}8100a07b${IP_UDP}`), METADATA])],
  ['a double-tagged packet', msg([prop(0, `${MACS}88a8000a8100e014${IP_UDP}`), METADATA])],
  ['a double-tagged packet, inner CFI and PCP clear', msg([prop(0, `${MACS}810000058100000c${IP_UDP}`), METADATA])],
  ['a triple-tagged packet (two tags read)', msg([prop(0, `${MACS}88a8000a810000148100001e${IP_UDP}`), METADATA])],
  ['a tag without room for the Ethertype after it', msg([prop(0, `${MACS}81000005`), METADATA])],
  ['a tagged 802.3 SNAP frame', msg([prop(0, `${MACS}810000050020aaaa03000000080045000000`), METADATA])],
  ['an 802.3 SNAP frame carrying TCP', msg([prop(0, `${MACS}0020aaaa0300000008004500001400000000400600000a0000010a000002`), METADATA])],
  ['a padded table id', msg([prop(0, MACS + IP_TCP), prop(3, '07000000'), METADATA])],
];

describe('NXT_PACKET_IN2 and NXT_RESUME against ovs-ofctl ofp-print', function () {
  this.timeout(60_000);

  for (const [what, hex] of CASES) {
    it(`${what}: printed as ofp-print prints it, re-encoded byte-exact`, async () => {
      const theirs = await ofpPrint(hex);
      expect(theirs, hex).to.not.include('decode error');
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok ? formatMessage(r.msg) : r.error.message, hex).to.equal(theirs);
      expect(r.ok && encodeMessage(r.msg).toString('hex')).to.equal(hex);
    });
  }

  it('what OVS refuses is refused: no packet, a full length below the packet\'s, a bad property length', async () => {
    for (const hex of [
      msg([METADATA]),
      msg([prop(0, MACS + IP_TCP), prop(1, '00000010'), METADATA]),
      msg([prop(0, MACS + IP_TCP), prop(3, ''), METADATA]),
      msg([prop(0, MACS + IP_TCP), METADATA, prop(8, prop(0x8002, '0005'), true)]),
    ]) {
      expect(await ofpPrint(hex), hex).to.include('decode error');
      expect(decodeMessage(Buffer.from(hex, 'hex')).ok, hex).to.equal(false);
    }
  });
});
