// The dump printer that works on reply bytes (format-flow-stats-bytes.ts) against OVS's own text
// and against the general decoder + printer, which it must equal on every reply it accepts.
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { bytePrinterCounts, formatFlowStatsReplyBytes } from '../../../codecs/ofctl/format-flow-stats-bytes.js';
import { formatFlow, formatFlowStatsReply } from '../../../codecs/ofctl/format-flow.js';
import { decodeMessage, encodeMessage } from '../../../codecs/openflow/messages.js';
import { hasVariableLengthField } from '../../../codecs/openflow/match.js';
import { lengthFields } from '../../../testing/fuzz/gen-openflow.js';
import { FUZZ_SEED, Rng } from '../../../testing/fuzz/rng.js';
import { messageArbs } from '../../../testing/arbitraries.js';

const fixture = (name: string): string[] => readFileSync(new URL(`../../../../fixtures/codec/${name}`, import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim());
const ovsReplies = fixture('stats-replies.jsonl').map((l) => JSON.parse(l) as { reply: string; print: string });
const ovsDumpLines = fixture('corpus.jsonl').map((l) => (JSON.parse(l) as { dump: string }).dump);

/** What dump-flows prints for a reply through the general decoder, or undefined when it refuses it. */
function generalText(bytes: Buffer, stats: boolean): string | undefined {
  const res = decodeMessage(bytes);
  if (!res.ok || res.msg.type !== 'flow_stats_reply') return undefined;
  const { xid, flags, flows } = res.msg;
  return stats ? formatFlowStatsReply(xid, flags, flows) : flows.map((f) => ` ${formatFlow(f)}\n`).join('');
}

/** Each flow of a reply as a reply of its own (header copied, length fixed). */
function singleFlowReplies(reply: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 16; p < reply.length; p += reply.readUInt16BE(p)) {
    const one = Buffer.concat([reply.subarray(0, 16), reply.subarray(p, p + reply.readUInt16BE(p))]);
    one.writeUInt16BE(one.length, 2);
    out.push(one);
  }
  return out;
}

/** How many flows of a reply have a match with a variable-length field (the decoder prints those). */
function variableMatches(reply: Buffer): number {
  const res = decodeMessage(reply);
  return res.ok && res.msg.type === 'flow_stats_reply' ? res.msg.flows.filter((f) => hasVariableLengthField(f.match)).length : 0;
}

function resetCounts(): void {
  bytePrinterCounts.direct = 0;
  bytePrinterCounts.decodedMatch = 0;
  bytePrinterCounts.general = 0;
}

describe('dump-flows text from reply bytes', () => {
  it("prints OVS's own reply as ovs-ofctl prints it, most flows without decoding them", () => {
    resetCounts();
    for (const r of ovsReplies) expect(formatFlowStatsReplyBytes(Buffer.from(r.reply, 'hex'), true)).to.equal(r.print);
    // Flows of every field and action: all print from their bytes, matches included.
    const flows = ovsReplies.reduce((n, r) => {
      const res = decodeMessage(Buffer.from(r.reply, 'hex'));
      return n + (res.ok && res.msg.type === 'flow_stats_reply' ? res.msg.flows.length : 0);
    }, 0);
    expect(flows).to.be.above(200);
    expect(bytePrinterCounts.direct).to.equal(flows);
    // Only the matches with a tun_metadataN field (variable length) are decoded.
    expect(bytePrinterCounts.decodedMatch).to.equal(ovsReplies.reduce((n, r) => n + variableMatches(Buffer.from(r.reply, 'hex')), 0));
    expect(bytePrinterCounts.general).to.equal(0);
  });

  it('without stats prints the lines dump-flows --no-stats printed for each flow', () => {
    const lines = ovsReplies.flatMap((r) => formatFlowStatsReplyBytes(Buffer.from(r.reply, 'hex'), false)!.split('\n').filter((l) => l));
    expect([...lines].sort()).to.deep.equal([...ovsDumpLines].sort());
  });

  it('declines what is not a well-formed flow stats reply', () => {
    const reply = Buffer.from(ovsReplies[0]!.reply, 'hex');
    const wrongType = Buffer.from(reply);
    wrongType.writeUInt16BE(13, 8); // OFPMP_PORT_DESC
    expect(formatFlowStatsReplyBytes(wrongType, true)).to.equal(undefined);
    const short = Buffer.from(reply.subarray(0, reply.length - 8));
    expect(formatFlowStatsReplyBytes(short, true)).to.equal(undefined); // header length lies
    short.writeUInt16BE(short.length, 2);
    expect(formatFlowStatsReplyBytes(short, true)).to.equal(undefined); // last entry cut
    expect(decodeMessage(short).ok).to.equal(false);
  });

  it('equals the general decoder and printer on 20,000 generated and mutated replies', () => {
    const seeds = [
      ...ovsReplies.flatMap((r) => singleFlowReplies(Buffer.from(r.reply, 'hex'))),
      ...fc.sample(messageArbs.flow_stats_reply, { seed: FUZZ_SEED, numRuns: 1500 }).map(encodeMessage),
    ];
    const rng = new Rng(FUZZ_SEED);
    let accepted = 0;
    let acceptedMutants = 0;
    let variable = 0;
    let decodedInAccepted = 0;
    resetCounts();
    for (let i = 0; i < 20_000; i++) {
      const seed = rng.pick(seeds);
      const b = Buffer.from(seed);
      const mutate = rng.int(4);
      if (mutate === 1) for (let n = rng.range(1, 4); n > 0; n--) b[rng.range(16, b.length - 1)]! ^= 1 << rng.int(8);
      if (mutate === 2) {
        // A lie in a length field below the header: flow entry, match, OXM, instruction, action.
        const inner = lengthFields(b).filter((f) => f.kind !== 'header');
        if (inner.length) {
          const f = rng.pick(inner);
          if (f.width === 2) b.writeUInt16BE(rng.pick([0, 4, 8, 16, 56, b.readUInt16BE(f.at) + rng.range(-8, 8) & 0xffff]), f.at);
          else b[f.at] = rng.int(256);
        }
      }
      if (mutate === 3) b[rng.range(16, b.length - 1)] = rng.pick([0, 1, 0x80, 0xff]);
      const stats = rng.chance(0.5);
      const decodedBefore = bytePrinterCounts.decodedMatch;
      const fast = formatFlowStatsReplyBytes(b, stats);
      if (fast === undefined) continue;
      accepted++;
      variable += variableMatches(b);
      decodedInAccepted += bytePrinterCounts.decodedMatch - decodedBefore;
      if (mutate !== 0 && !b.equals(seed)) acceptedMutants++;
      expect(fast, `input ${i}: ${b.toString('hex')}`).to.equal(generalText(b, stats));
    }
    // The comparison means something only if both paths really ran, on valid and on mutated input.
    expect(accepted).to.be.at.least(10_000);
    expect(acceptedMutants).to.be.at.least(3000);
    // No flow that the general decoder takes was left to it (a reply the byte path declines is
    // one the decoder refuses), nor any match.
    expect(bytePrinterCounts.direct).to.be.at.least(10_000);
    // Matches are decoded only where the byte reader does not follow the decoder: every one with a
    // tun_metadataN field (variable length), and the few odd OXMs mutation makes (zero-length ones).
    expect(decodedInAccepted).to.be.at.least(variable);
    expect(decodedInAccepted).to.be.below(accepted / 100);
    expect(bytePrinterCounts.general).to.equal(0);
  });

  it('decodes the match it does not read itself (a wide field given twice, merged by the decoder) and prints it the same', () => {
    // eth_dst as NXM 01:00:00:00:00:00/01:00:00:00:00:00 and as OXM 00:00:00:00:00:02/00:00:00:00:00:ff.
    const tlvs = Buffer.from('0000030c' + '010000000000' + '010000000000' + '8000070c' + '000000000002' + '0000000000ff', 'hex');
    const replies = ovsReplies.flatMap((r) => singleFlowReplies(Buffer.from(r.reply, 'hex')))
      .filter((one) => !generalText(one, false)!.includes('dl_dst=')).slice(0, 40).map((one) => withTlvs(one, tlvs));
    expect(replies).to.have.length(40);
    resetCounts();
    for (const b of replies) {
      for (const stats of [true, false]) {
        const text = formatFlowStatsReplyBytes(b, stats);
        expect(text).to.equal(generalText(b, stats));
        expect(text).to.match(/dl_dst=01:00:00:00:00:02\/01:00:00:00:00:ff/);
      }
    }
    expect(bytePrinterCounts.decodedMatch).to.equal(2 * replies.length);
  });
});

/** A one-flow reply with TLVs added at the end of its match (lengths fixed). */
function withTlvs(reply: Buffer, tlvs: Buffer): Buffer {
  const entry = 16;
  const matchLen = reply.readUInt16BE(entry + 50);
  const padded = (matchLen + 7) & ~7;
  const newLen = matchLen + tlvs.length;
  const match = Buffer.concat([reply.subarray(entry + 48, entry + 48 + matchLen), tlvs, Buffer.alloc(((newLen + 7) & ~7) - newLen)]);
  match.writeUInt16BE(newLen, 2);
  const out = Buffer.concat([reply.subarray(0, entry + 48), match, reply.subarray(entry + 48 + padded)]);
  out.writeUInt16BE(out.length, 2);
  out.writeUInt16BE(out.length - entry, entry);
  return out;
}
