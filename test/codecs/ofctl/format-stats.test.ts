// The group, meter, table, port, async and multipart messages of codecs/openflow/stats.ts against
// ovs-ofctl 3.1 itself: random messages of every such type (testing/stats-arbitraries.ts) are
// encoded, and `ovs-ofctl ofp-print` of those bytes must print what formatMessage prints (or, for
// the few we leave unprinted, at least accept them: no decode error). Then hand-made bytes OVS
// refuses must be refused here too.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { formatMessage } from '../../../codecs/ofctl/format-message.js';
import { decodeMessage, encodeMessage, OfMessage } from '../../../codecs/openflow/messages.js';
import { isStatsMessage } from '../../../codecs/openflow/stats.js';
import { RefusedMessage } from '../../../codecs/openflow/errors.js';
import { messageArbs } from '../../../testing/arbitraries.js';

const run = promisify(execFile);
const PER_TYPE = 6;

async function ofpPrint(hex: string): Promise<string> {
  const { stdout, stderr } = await run('ovs-ofctl', ['ofp-print', hex]);
  return stdout + stderr;
}

describe('stats messages against ovs-ofctl ofp-print', function () {
  this.timeout(120_000);

  // Flow and aggregate requests are compared without unknown match fields, which OVS refuses in a
  // request (OFPBMC_BAD_FIELD) and this decoder keeps.
  const types = (Object.keys(messageArbs) as Array<OfMessage['type']>)
    .filter((t) => isStatsMessage({ type: t }) || t === 'flow_stats_request' || t === 'port_desc_request');
  const knownFields = (m: OfMessage): boolean => !('request' in m && m.request.unknownOxm);

  for (const type of types) {
    it(`${type}: OVS prints our bytes as we print them`, async () => {
      const samples = fc.sample((messageArbs[type] as fc.Arbitrary<OfMessage>).filter(knownFields), { seed: 7, numRuns: type.startsWith('table_features') || type === 'queue_get_config_reply' ? 40 : PER_TYPE });
      for (const m of samples) {
        const wire = encodeMessage(m);
        // OVS logs each queue property it skips (INFO), beside what it prints.
        const ovs = (await ofpPrint(wire.toString('hex'))).replace(/^.*\|ofp_queue\|INFO\|unknown queue property \d+\n/gm, '');
        const ours = formatMessage(m);
        if (ours === undefined) expect(ovs, wire.toString('hex')).not.to.match(/decode error|parse error/);
        else expect(ours, wire.toString('hex')).to.equal(ovs);
      }
    });
  }

  // One table features entry with every required property, empty.
  const TF = '0413009000000001000c0000000000000080' + '00'.repeat(62) + '00000004000000000002000400000000000400040000000000060004000000000008000400000000'
    + '000a000400000000000c000400000000000e000400000000';
  // Bytes OVS refuses (checked here against ovs-ofctl too), each with the error OVS names.
  const REFUSED: ReadonlyArray<readonly [string, string]> = [
    // group mod: a select-only weight in an all group; an indirect group of two buckets; delete with a bucket
    ['040f0020000000010000000000000001' + '0010000100000000ffffffff00000000'.replace('00000000ffffffff', 'ffffffffffffffff'), 'OFPGMFC_INVALID_GROUP'],
    ['040f0030000000010000020000000001' + '0010000000000000ffffffffffffffff00000000'.slice(0, 32) + '0010000000000000ffffffffffffffff00000000'.slice(0, 32), 'OFPGMFC_INVALID_GROUP'],
    ['040f0020000000010002000000000001' + '0010000000000000ffffffffffffffff00000000'.slice(0, 32), 'OFPGMFC_INVALID_GROUP'],
    // group mod: type 7; a watched bucket in an all group
    ['040f0010000000010000070000000001', 'OFPGMFC_BAD_TYPE'],
    ['040f0020000000010000000000000001' + '00100000000000010000000000000000', 'OFPGMFC_WATCH_UNSUPPORTED'],
    // meter mod: kbps and pktps; an experimenter band; command 3
    ['041d0020000000010000000300000001000100100000000a0000000000000000', 'OFPMMFC_BAD_FLAGS'],
    ['041d0020000000010000000100000001ffff00100000000a0000000000000000', 'OFPMMFC_BAD_BAND'],
    ['041d0010000000010003000000000001', 'OFPMMFC_BAD_COMMAND'],
    // multiparts: an unknown experimenter; an OpenFlow 1.4 type; a desc request with a body
    ['0412001800000001ffff000000000000deadbeef00000001', 'OFPBRC_BAD_VENDOR'],
    ['04120010000000010010000000000000', 'OFPBRC_BAD_STAT'],
    ['041200180000000100000000000000000000000000000000', 'OFPBRC_BAD_LEN'],
    // queue get config reply: a min rate property of 8 bytes; a queue of 20 bytes
    ['04170028000000010000000100000000000000010000000000180000000000000001000800000000', 'OFPBRC_BAD_LEN'],
    ['04170028000000010000000100000000000000010000000000140000000000000003000800000000', 'OFPBRC_BAD_LEN'],
    // table features: a reply without an entry;
    ['04130010000000010000000c00000000'.replace('0000000c', '000c0000'), 'OFPBRC_BAD_LEN'],
    // table features: no wildcards property; instructions twice; next table 255; a 2-byte OXM; a 3-byte action id
    ['0413008800000001000c0000000000000078' + '00'.repeat(62) + '0000000400000000000200040000000000040004000000000006000400000000'
      + '0008000400000000000c000400000000000e000400000000', 'OFPTFFC_BAD_FEATURES'],
    [`04130098${TF.slice(8, 32)}0088${TF.slice(36)}0000000400000000`, 'OFPTFFC_BAD_FEATURES'],
    [TF.replace('0002000400000000', '0002000601ff0000'), 'OFPBPC_BAD_VALUE'],
    [TF.replace('0008000400000000', '0008000680000000'), 'OFPBMC_BAD_LEN'],
    [TF.replace('0004000400000000', '0004000700000000'), 'OFPBPC_BAD_LEN'],
  ];
  for (const [hex, error] of REFUSED) {
    it(`refuses ${hex.slice(0, 24)}… as OVS does (${error})`, async () => {
      expect(await ofpPrint(hex)).to.contain(`decode error: ${error}`);
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      expect(r.ok ? `decoded as ${r.msg.type}` : r.error instanceof RefusedMessage ? r.error.ofpError : r.error.message).to.equal(error);
    });
  }
});
