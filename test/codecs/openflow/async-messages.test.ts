// The error names, HELLO/ERROR/PORT_STATUS/PACKET_OUT/async-config printing and the refusals of
// codecs/openflow/{errors,async}.ts, each checked against ovs-ofctl ofp-print 3.1 on this machine.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatMessage } from '../../../codecs/ofctl/format-message.js';
import { KNOWN_ERRORS } from '../../../codecs/openflow/errors.js';
import { decodeMessage, encodeMessage, OfMessage } from '../../../codecs/openflow/messages.js';
import type { Instructions } from '../../../codecs/openflow/instructions.js';
import fc from 'fast-check';
import { messageArbs } from '../../../testing/arbitraries.js';

const run = promisify(execFile);
const ofpPrint = async (hex: string): Promise<string> => (await run('ovs-ofctl', ['ofp-print', hex])).stdout;

describe('asynchronous and error messages against ovs-ofctl ofp-print', function () {
  this.timeout(120_000);

  it('every error OVS names prints with its name, as ofp-print prints it (empty request)', async () => {
    for (const e of KNOWN_ERRORS) {
      const m: OfMessage = { type: 'error', xid: 7, ...e, data: Buffer.alloc(0) };
      const hex = encodeMessage(m).toString('hex');
      expect(formatMessage(m), hex).to.equal(await ofpPrint(hex));
    }
  });

  it('Nicira and ONF experimenter errors (OFPET_EXPERIMENTER, id, code) print with OVS\'s names', async () => {
    // Bytes written here from OVS's numbers (ofp-errors.h's NX1.2+ / ONF1.3 codes), not by our encoder.
    const nx = [2, 6, 15, 21, 34, 36, 37, 38, 39, 40, 41, 42, 43, 44];
    const onf = [2300, 2315, 2600, 4250, 4443, 4448];
    const hexOf = (code: number, exp: string): string => `0401001000000007ffff${code.toString(16).padStart(4, '0')}${exp}`;
    for (const hex of [...nx.map((c) => hexOf(c, '00002320')), ...onf.map((c) => hexOf(c, '4f4e4600'))]) {
      const theirs = await ofpPrint(hex);
      expect(theirs, hex).to.not.include('decode error');
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok && formatMessage(r.msg), hex).to.equal(theirs);
    }
    expect(await ofpPrint(hexOf(37, '00002320'))).to.equal('OFPT_ERROR (OF1.3) (xid=0x7): NXFMFC_INVALID_TLV_FIELD\nOpenFlow message is empty\n');
    // Codes OVS maps only for other versions (NX1.2's 25-33, NX1.4's 22-23) or not at all: refused by both.
    for (const code of [14, 22, 23, 25, 33, 45]) {
      const hex = hexOf(code, '00002320');
      expect(await ofpPrint(hex), hex).to.include('***decode error: OFPBRC_BAD_LEN***');
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok ? 'accepted' : r.error.message, hex).to.match(/OFPBRC_BAD_LEN/);
    }
  });

  it('an error OVS has no name for is refused, as OVS refuses it', async () => {
    for (const hex of ['0401000c000000000001000e', '0401001000000000ffff000100002320', '0401001000000000ffff0a284f4e4601']) {
      expect(await ofpPrint(hex)).to.include('***decode error: OFPBRC_BAD_LEN***');
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok ? 'accepted' : r.error.message, hex).to.match(/OFPBRC_BAD_LEN/);
    }
  });

  it('messages built here print as ofp-print prints their bytes', async () => {
    const msgs: OfMessage[] = [
      { type: 'hello', xid: 1, versions: [1, 4] },
      { type: 'error', xid: 2, errType: 0, code: 1, data: Buffer.from('no "way"\n') },
      { type: 'error', xid: 3, errType: 1, code: 6, data: encodeMessage({ type: 'barrier_request', xid: 9 }) },
      {
        type: 'port_status', xid: 4, reason: 1, port: {
          portNo: 0xfffe, hwAddr: 0x0a0b0c0d0e0fn, name: 'br-int', config: 0xffffffff, state: 0x7, curr: 0xffffffff,
          advertised: 0, supported: 0x2840, peer: 0, currSpeed: 10_000_000, maxSpeed: 999,
        },
      },
      { type: 'role_status', xid: 5, role: 3, reason: 0, generationId: 7n },
      { type: 'set_async', xid: 6, config: { packetIn: [0xffffffff, 1], portStatus: [0, 0xffffffff], flowRemoved: [0x3f, 0xffffffff] } },
      { type: 'set_async_config2', xid: 7, props: [{ propType: 7, mask: 7 }, { propType: 8, mask: 0x18 }] },
      { type: 'set_controller_id', xid: 8, controllerId: 65535 },
      { type: 'flow_monitor_cancel', xid: 9, id: 4 },
      {
        // UDP to 10.0.0.2:53 from a VM, as a packet-out from the controller.
        type: 'packet_out', xid: 10, bufferId: 0xffffffff, inPort: 0xfffd, actions: [{ type: 'output', port: 3, maxLen: 0 }],
        data: Buffer.from('f20ba4d03f70f20ba47df8ea0800450000240001400040117ff70a0000010a000002d43100350010abcd61626364', 'hex'),
      },
    ];
    for (const m of msgs) {
      const hex = encodeMessage(m).toString('hex');
      expect(formatMessage(m), hex).to.equal(await ofpPrint(hex));
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok && encodeMessage(r.msg).toString('hex'), hex).to.equal(hex);
    }
  });

  it('an experimenter message of a vendor OVS does not know is refused with OFPBRC_BAD_VENDOR', async () => {
    const hex = '040400140000000000001234000000056e617a6f';
    expect(await ofpPrint(hex)).to.include('***decode error: OFPBRC_BAD_VENDOR***');
    const r = decodeMessage(Buffer.from(hex, 'hex'));
    expect(r.ok ? 'accepted' : r.error.message).to.match(/OFPBRC_BAD_VENDOR/);
  });

  // Random messages of each type: OVS's text for our bytes is ours, and the bytes decode back to them.
  for (const type of ['port_desc_reply', 'requestforward', 'flow_monitor_request', 'flow_monitor_reply'] as const) {
    it(`${type}: OVS prints our bytes as we print them`, async () => {
      // Actions OVS does not know, which this codec keeps raw, OVS refuses (as in a flow mod); so it does
      // conjunction beside anything but note (ofpacts_verify), which this decoder does not check yet.
      const lone = (ins: Instructions): boolean => !ins.apply.some((a) => a.type === 'conjunction')
        || (ins.apply.every((a) => a.type === 'conjunction' || a.type === 'note') && Object.keys(ins).length === 1);
      const known = (m: OfMessage): boolean => m.type !== 'flow_monitor_reply' || m.updates.every((u) => u.event === 3
        || (![...u.instructions.apply, ...u.instructions.write ?? []].some((a) => a.type === 'raw') && lone(u.instructions)));
      for (const m of fc.sample((messageArbs[type] as fc.Arbitrary<OfMessage>).filter(known), { seed: 11, numRuns: 12 })) {
        const hex = encodeMessage(m).toString('hex');
        expect(formatMessage(m), hex).to.equal(await ofpPrint(hex));
      }
    });
  }

  it('what OVS refuses in flow monitor and request forward messages is refused with its error', async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      // A monitor request watching no event, one with padding set, one with an out_port out of range.
      ['0412003000000006ffff0000000000004f4e46000000074e000010000001000400000002010000000001000400000000', 'OFPMOFC_BAD_FLAGS'],
      ['0412003000000006ffff0000000000004f4e46000000074e000010000002000400000002010000010001000400000000', 'NXBRC_MUST_BE_ZERO'],
      ['0412003000000006ffff0000000000004f4e46000000074e00001000000200040000fff0010000000001000400000000', 'OFPBAC_BAD_OUT_PORT'],
      // An update of event 4, and an abbreviated one of 16 bytes.
      ['0413003800000006ffff0000000000004f4e46000000074e0020000400008000000000000004000000000000000000000001000400000000', 'NXBRC_FM_BAD_EVENT'],
      ['0413002800000006ffff0000000000004f4e46000000074e00100003000000050000000000000000', 'OFPBRC_BAD_LEN'],
      // A forwarded message of another version, one that is not a group or meter mod, one longer than its container.
      ['04040020000000024f4e46000000092e030f0010000000070000000000000001', 'OFPBRC_BAD_VERSION'],
      ['04040018000000024f4e46000000092e0405000800000002', 'OFPBFC_MSG_UNSUP'],
      ['04040020000000024f4e46000000092e040f0018000000070000000000000001', 'OFPBFC_MSG_BAD_LEN'],
    ];
    for (const [hex, error] of cases) {
      expect(await ofpPrint(hex), hex).to.include(`***decode error: ${error}***`);
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok ? 'accepted' : r.error.message, hex).to.include(error);
    }
  });
});
