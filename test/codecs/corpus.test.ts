// The codec against OVS itself: fixtures/codec/corpus.jsonl holds, for each flow of flows.txt, the
// FLOW_MOD bytes `ovs-ofctl -O OpenFlow13 -mmmmm parse-flow` produced and the line `dump-flows
// --no-stats` printed after a real ovs-vswitchd installed it (scripts/gen-codec-corpus.sh).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { formatFlow, formatFlowMod, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { decodeMessage, encodeMessage } from '../../codecs/openflow/messages.js';

interface CorpusEntry {
  readonly input: string;
  readonly flowMod: string;
  readonly parsePrint: string;
  readonly dump: string;
}

const corpus: CorpusEntry[] = readFileSync(new URL('../../../fixtures/codec/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as CorpusEntry);

describe('codec corpus (references from OVS 3.1)', () => {
  it('holds at least 80 flows', () => {
    expect(corpus.length).to.be.at.least(80);
  });

  for (const e of corpus) {
    describe(e.input, () => {
      it('encodes to the bytes ovs-ofctl produces', () => {
        const fm = parseFlow(e.input);
        expect(encodeMessage({ ...fm, xid: 0 }).toString('hex')).to.equal(e.flowMod);
      });
      it("decodes OVS's bytes and prints what dump-flows prints", () => {
        const res = decodeMessage(Buffer.from(e.flowMod, 'hex'));
        if (!res.ok) throw res.error;
        expect(res.msg.type).to.equal('flow_mod');
        if (res.msg.type === 'flow_mod') expect(` ${formatFlow(res.msg)}`).to.equal(e.dump);
      });
      it('prints the FLOW_MOD as ofp-print does', () => {
        const res = decodeMessage(Buffer.from(e.flowMod, 'hex'));
        if (!res.ok) throw res.error;
        if (res.msg.type !== 'flow_mod') throw new Error(`decoded ${res.msg.type}`);
        expect(formatFlowMod(res.msg, res.msg.xid)).to.equal(`OFPT_FLOW_MOD (OF1.3) (xid=0x0): ${e.parsePrint}\n`);
      });
    });
  }
});

interface StatsReply {
  readonly reply: string;
  readonly print: string;
}

describe('flow stats replies captured from OVS 3.1', () => {
  const replies: StatsReply[] = readFileSync(new URL('../../../fixtures/codec/stats-replies.jsonl', import.meta.url), 'utf8')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as StatsReply);

  it('decode to the text ovs-ofctl prints for the same bytes, stats included', () => {
    expect(replies.length).to.be.above(0);
    for (const r of replies) {
      const res = decodeMessage(Buffer.from(r.reply, 'hex'));
      if (!res.ok) throw res.error;
      if (res.msg.type !== 'flow_stats_reply') throw new Error(`decoded ${res.msg.type}`);
      expect(res.msg.flows.length).to.be.at.least(200);
      expect(formatFlowStatsReply(res.msg.xid, res.msg.flags, res.msg.flows)).to.equal(r.print);
    }
  });

  it('re-encode byte for byte', () => {
    for (const r of replies) {
      const res = decodeMessage(Buffer.from(r.reply, 'hex'));
      if (!res.ok) throw res.error;
      expect(encodeMessage(res.msg).toString('hex')).to.equal(r.reply);
    }
  });
});
