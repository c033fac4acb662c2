// Encoded flow sets (lib/flowset/encoded-flows.ts) against OVS: the bytes each flow is held as are
// the FLOW_MOD `ovs-ofctl -O OpenFlow13 parse-flow` produces (fixtures/codec/corpus.jsonl), its key
// is flowIdentity's (whose pairs flow-identity.test.ts checks on OVS), and a diff of two encoded
// files prints what the object path prints.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { flowIdentity } from '../../codecs/openflow/flow.js';
import { decodeMessage, OFPFC_ADD, OFPFC_DELETE_STRICT, writeMessage } from '../../codecs/openflow/messages.js';
import { Writer } from '../../codecs/openflow/bytes.js';
import { diffEncoded, EncodedFlows, formatEncodedDiff, isEmptyEncodedDiff } from '../../lib/flowset/encoded-flows.js';
import { readEncodedFlowFile, readFlowFile } from '../../lib/flowset/flow-file.js';
import { asSwitchHolds, diffFlows, formatDiff } from '../../lib/flowset/flowset.js';
import type { Flow } from '../../codecs/openflow/flow.js';

interface CorpusEntry {
  readonly input: string;
  readonly flowMod: string;
}

const corpus: CorpusEntry[] = readFileSync(new URL('../../../fixtures/codec/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as CorpusEntry);

describe('encoded flow sets', () => {
  it("hold every corpus flow as OVS's FLOW_MOD bytes, keyed by its flowIdentity", () => {
    const set = new EncodedFlows();
    for (const e of corpus) set.add(parseFlow(e.input));
    expect(set.size).to.equal(corpus.length);
    corpus.forEach((e, i) => {
      expect(set.bytes(i).toString('hex'), e.input).to.equal(e.flowMod);
      // The key of the flow whose bytes are OVS's (not of OVS's bytes decoded: one corpus match, an
      // ERSPAN version whose value OVS writes beyond its mask, does not survive decode + encode).
      expect(set.byIdentity.get(flowIdentity(parseFlow(e.input))), e.input).to.equal(i);
    });
  });

  it('send an ADD as its bytes and a DELETE_STRICT as the same match without instructions', () => {
    const set = new EncodedFlows();
    const fm = parseFlow('table=3,priority=7,tcp,tp_dst=80 actions=output:2');
    set.add(fm);
    const bytesOf = (m: Parameters<typeof writeMessage>[1]): Buffer => {
      const w = new Writer();
      writeMessage(w, m, 0);
      return w.finish();
    };
    expect(bytesOf(set.message(0, OFPFC_ADD)).toString('hex')).to.equal(set.bytes(0).toString('hex'));
    const del = decodeMessage(bytesOf(set.message(0, OFPFC_DELETE_STRICT)));
    if (!del.ok || del.msg.type !== 'flow_mod') throw new Error('DELETE_STRICT does not decode');
    expect(del.msg.command).to.equal(OFPFC_DELETE_STRICT);
    expect(flowIdentity(del.msg)).to.equal(flowIdentity(fm));
    expect(del.msg.instructions.apply).to.deep.equal([]);
  });

  it('diff as the object path does: the same lines in the same order, for changed, removed and added flows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-encoded-'));
    try {
      const flows = corpus.map((e) => e.input);
      // b: every third flow gets another cookie, every fifth is gone, and one is new.
      const b = flows.flatMap((f, i) => (i % 5 === 0 ? [] : [i % 3 === 0 ? `cookie=0x${(i + 1).toString(16)},${f}` : f]));
      b.push('table=9,priority=99,udp,tp_src=53 actions=drop');
      writeFileSync(join(dir, 'a'), `${flows.join('\n')}\n`);
      writeFileSync(join(dir, 'b'), `${b.join('\n')}\n`);
      const sa = readEncodedFlowFile(join(dir, 'a'));
      const sb = readEncodedFlowFile(join(dir, 'b'));
      const d = diffEncoded(sa, sb);
      expect(isEmptyEncodedDiff(d)).to.equal(false);
      expect(isEmptyEncodedDiff(diffEncoded(sa, readEncodedFlowFile(join(dir, 'a'))))).to.equal(true);
      const ours = formatEncodedDiff(sa, sb, d);
      // The object path (each flow decoded as the switch holds it), which test/cli/flow-tool.test.ts
      // holds to ovs-ofctl: the same lines in the same order.
      const objects = (f: string): Flow[] => readFlowFile(join(dir, f)).map((x) => asSwitchHolds(x.flow));
      expect(ours).to.deep.equal(formatDiff(diffFlows(objects('a'), objects('b'))));
      expect(d.changed.length).to.be.greaterThan(0);
      expect(d.onlyA.length).to.be.greaterThan(0);
      expect(d.onlyB.length).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('diff as the object path does over many chunks of text: every flow of ten corpus copies changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-encoded-'));
    try {
      // Ten copies, each in a table of its own (the last table= of a match wins), b with other
      // cookies and timeouts: ~1 MB of diff, printed in several chunks and sorted across them.
      const copies = (f: (line: string, k: number) => string): string => Array.from({ length: 10 }, (_, k) => corpus.map((e) => f(e.input, k)).join('\n')).join('\n');
      const inTable = (line: string, k: number): string => {
        const at = line.indexOf('actions=');
        const match = line.slice(0, at).replace(/[\s,]*$/, '');
        return `${match}${match ? ',' : ''}table=${k * 20 + 1} ${line.slice(at)}`;
      };
      writeFileSync(join(dir, 'a'), `${copies((l, k) => inTable(l, k))}\n`);
      writeFileSync(join(dir, 'b'), `${copies((l, k) => `cookie=0x${(k + 7).toString(16)},idle_timeout=${k + 1},${inTable(l, k)}`)}\n`);
      const sa = readEncodedFlowFile(join(dir, 'a'));
      const sb = readEncodedFlowFile(join(dir, 'b'));
      const d = diffEncoded(sa, sb);
      const ours = formatEncodedDiff(sa, sb, d);
      const objects = (f: string): Flow[] => readFlowFile(join(dir, f)).map((x) => asSwitchHolds(x.flow));
      expect(ours).to.deep.equal(formatDiff(diffFlows(objects('a'), objects('b'))));
      expect(ours.join('\n').length).to.be.greaterThan(1 << 19);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
