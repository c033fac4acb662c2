// Every row of the field table, walked against OVS: for each field, the codec corpus
// (fixtures/codec/corpus.jsonl, OVS's own FLOW_MOD bytes and dump-flows text for the flows of
// flows.txt) must hold a flow that matches on it and, when the field is writable and has a header,
// one that writes it; each such flow must parse and encode to OVS's bytes, and OVS's bytes must
// decode and print as OVS prints them. A row added without a corpus example fails here: append a
// flow using it to fixtures/codec/flows.txt and run scripts/gen-codec-corpus.sh.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { formatFlowMod } from '../../codecs/ofctl/format-flow.js';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { splitKeyValues } from '../../codecs/ofctl/lexer.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { FieldDef, FIELDS, of13Header } from '../../codecs/openflow/fields.js';
import { decodeMessage, encodeMessage } from '../../codecs/openflow/messages.js';

interface CorpusEntry {
  readonly input: string;
  readonly flowMod: string;
  readonly dump: string;
}

const corpus: CorpusEntry[] = readFileSync(new URL('../../../fixtures/codec/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as CorpusEntry);

/** The match keywords of a flow line (what comes before `actions=`). */
function matchKeys(input: string): Set<string> {
  const a = input.indexOf('action');
  return new Set(splitKeyValues(a < 0 ? input : input.slice(0, a)).map((kv) => kv.key));
}

/** The OXM/NXM headers (has-mask bit cleared) OVS wrote in the match of its FLOW_MOD, read here by hand. */
function ovsMatchHeaders(flowMod: string): Set<number> {
  const b = Buffer.from(flowMod, 'hex');
  const end = 48 + b.readUInt16BE(50);
  const out = new Set<number>();
  for (let p = 52; p + 4 <= end; p += 4 + b[p + 3]!) out.add((b.readUInt32BE(p) & 0xfffffe00) >>> 0);
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const headerNames = (f: FieldDef): string[] => [f.nxm?.name, f.oxm?.name].filter((n): n is string => n !== undefined);

/** A flow that matches on the field: it names it (when it is a keyword), and OVS wrote it (when OVS writes it as itself). */
function matchesOn(e: CorpusEntry, f: FieldDef): boolean {
  if (f.matchKeyword && ![f.name, ...f.aliases].some((n) => matchKeys(e.input).has(n))) return false;
  if (f.oxmRank !== undefined) return ovsMatchHeaders(e.flowMod).has((of13Header(f)!.header & 0xfffffe00) >>> 0);
  return f.matchKeyword;
}

/** A flow whose actions, as OVS prints them, write the field (set_field:…->name, load/move:…->HEADER[…]). */
function writes(e: CorpusEntry, f: FieldDef): boolean {
  const names = [f.name, ...headerNames(f)].map(escape).join('|');
  return new RegExp(`->(${names})(\\[|,|\\)|$)`).test(e.dump.slice(e.dump.indexOf('actions=')));
}

/** A flow that names the field anywhere (for views neither a match keyword nor written by OVS as themselves). */
function mentions(e: CorpusEntry, f: FieldDef): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])(${[f.name, ...headerNames(f)].map(escape).join('|')})([^A-Za-z0-9_]|$)`).test(e.input);
}

function roundTrips(e: CorpusEntry): void {
  expect(encodeMessage({ ...parseFlow(e.input), xid: 0 }).toString('hex'), `${e.input}: parse → encode`).to.equal(e.flowMod);
  const res = decodeMessage(Buffer.from(e.flowMod, 'hex'));
  if (!res.ok) throw res.error;
  if (res.msg.type !== 'flow_mod') throw new Error(`${e.input}: decoded a ${res.msg.type}`);
  expect(` ${formatFlow(res.msg)}`, `${e.input}: decode → print`).to.equal(e.dump);
}

/**
 * Hidden fields: ovs-ofctl takes them, but the switch refuses OpenFlow flows that match them ("only
 * internal flows can set non-default values to hidden fields"), so the corpus, which installs every
 * flow, cannot hold them. Their flows are checked against ovs-ofctl parse-flow itself.
 */
const HIDDEN: Readonly<Record<string, readonly string[]>> = {
  dp_hash: ['dp_hash=0x1234567/0xfffffff,recirc_id=5 actions=drop', 'tcp,dp_hash=7 actions=drop'],
  recirc_id: ['recirc_id=1,mpls actions=drop', 'recirc_id=2,packet_type=(1,0x800),ct_state=+trk actions=drop'],
};

/** OVS's FLOW_MOD bytes (xid 0) and its text for a flow, from `ovs-ofctl -mmmmm parse-flow`. */
function ovsParseFlow(flow: string): { flowMod: string; text: string } {
  const out = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', '-mmmmm', 'parse-flow', flow], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = out.split('\n');
  const hex = lines.filter((l) => /^[0-9a-f]{8} {2}/.test(l)).map((l) => l.slice(10, 58).replace(/[ -]/g, '')).join('');
  return { flowMod: `${hex.slice(0, 8)}00000000${hex.slice(16)}`, text: lines.find((l) => l.startsWith('OFPT_FLOW_MOD'))!.replace('xid=0x1', 'xid=0x0') };
}

/** Each flow matches on f (OVS writes it) and parses, encodes, decodes and prints as ovs-ofctl parse-flow does. */
function asOvsParseFlow(f: FieldDef, flows: readonly string[]): void {
  for (const flow of flows) {
    expect(matchKeys(flow).has(f.name), flow).to.equal(true);
    const ovs = ovsParseFlow(flow);
    expect(ovsMatchHeaders(ovs.flowMod).has((of13Header(f)!.header & 0xfffffe00) >>> 0), `${flow}: OVS wrote ${f.name}`).to.equal(true);
    expect(encodeMessage({ ...parseFlow(flow), xid: 0 }).toString('hex'), `${flow}: parse → encode`).to.equal(ovs.flowMod);
    const res = decodeMessage(Buffer.from(ovs.flowMod, 'hex'));
    if (!res.ok) throw res.error;
    if (res.msg.type !== 'flow_mod') throw new Error(`${flow}: decoded a ${res.msg.type}`);
    expect(formatFlowMod(res.msg, 0).trimEnd(), `${flow}: decode → print`).to.equal(ovs.text);
  }
}

describe('field walk: every field row against OVS (codec corpus)', () => {
  for (const f of FIELDS) {
    // The corpus's switch maps only some tun_metadata fields (its TLV map cannot hold all 64 at useful
    // lengths); the others are held to ovs-ofctl parse-flow, which needs no map.
    if (f.variableLen && !corpus.some((e) => matchesOn(e, f))) {
      describe(`${f.name} (not in the corpus switch's TLV map)`, () => {
        it('flows matching on it and writing it parse, encode, decode and print as ovs-ofctl parse-flow does', () => asOvsParseFlow(f, [
          `${f.name}=0x1234/0xff0f,actions=set_field:0xabcdef->${f.name},load:0x3->${f.name}[4..5],move:${f.name}[0..7]->reg0[0..7]`,
          `${f.name},reg1=5,actions=set_field:0->${f.name},delete_field:${f.name}`,
        ]));
      });
      continue;
    }
    const hidden = HIDDEN[f.name];
    if (hidden) {
      describe(`${f.name} (hidden: the switch refuses it)`, () => {
        it('flows matching on it parse, encode, decode and print as ovs-ofctl parse-flow does', () => asOvsParseFlow(f, hidden));
      });
      continue;
    }
    describe(f.name, () => {
      const writable = f.writable && headerNames(f).length > 0;
      if (f.matchKeyword || f.oxmRank !== undefined) {
        it('a corpus flow matches on it; it round-trips through parse → encode → decode → print as OVS', () => {
          const examples = corpus.filter((e) => matchesOn(e, f));
          expect(examples, `no flow of fixtures/codec/flows.txt matches on ${f.name}`).to.have.length.above(0);
          examples.forEach(roundTrips);
        });
      }
      if (writable) {
        it('a corpus flow writes it; it round-trips as OVS', () => {
          const examples = corpus.filter((e) => writes(e, f));
          expect(examples, `no flow of fixtures/codec/flows.txt writes ${f.name}`).to.have.length.above(0);
          examples.forEach(roundTrips);
        });
      }
      if (!f.matchKeyword && f.oxmRank === undefined && !writable) {
        it('a corpus flow names it; it round-trips as OVS', () => {
          const examples = corpus.filter((e) => mentions(e, f));
          expect(examples, `no flow of fixtures/codec/flows.txt names ${f.name}`).to.have.length.above(0);
          examples.forEach(roundTrips);
        });
      }
    });
  }
});
