// Other projects' OpenFlow 1.3 test vectors, answered by ovs-ofctl 3.1 (fixtures/peer-vectors/: from
// OVS's own testsuite, Ryu and loxigen; see its README). Each vector gets a verdict:
// - flow: our parse encodes OVS's FLOW_MOD bytes, and decoding OVS's bytes prints what ofp-print printed;
// - flow_bad: we refuse the text, as OVS does;
// - actions / instructions: OVS's bytes decode to its text and re-encode to its re-encoding;
// - msg: the message decodes (or is refused where OVS refuses it), re-encodes to the same bytes and,
//   for the messages we print, prints as ofp-print does.
// A vector that does not pass is `unsupported` when what it needs is missing here (an unknown action,
// field or message: the codec says so, or keeps it raw) and `fail` otherwise (a wrong answer).
// fixtures/peer-vectors/not-passing.json lists every vector that does not pass, with its verdict: the
// test fails when a vector's verdict differs from the list either way (a regression, or progress to
// record with PEER_VECTORS_WRITE=1), so the list only ever shrinks, and it is the to-do of the codec.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { formatInstructions } from '../../codecs/ofctl/format-actions.js';
import { formatFlowMod } from '../../codecs/ofctl/format-flow.js';
import { formatMessage } from '../../codecs/ofctl/format-message.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { decodeActions, encodeActions } from '../../codecs/actions/index.js';
import { Reader, Writer } from '../../codecs/openflow/bytes.js';
import { decodeInstructions, encodeInstructions, Instructions } from '../../codecs/openflow/instructions.js';
import { decodeMessage, encodeMessage } from '../../codecs/openflow/messages.js';

interface Vector {
  readonly id: string;
  readonly kind: 'msg' | 'flow' | 'flow_bad' | 'actions' | 'instructions';
  readonly name: string;
  readonly hex?: string;
  readonly text?: string;
  readonly expect: {
    readonly flowmod?: string; readonly print?: string; readonly rc?: number;
    readonly text?: string; readonly reencode?: string; readonly error?: string;
  };
}

type Verdict = 'pass' | 'fail' | 'unsupported';
interface Outcome { readonly verdict: Verdict; readonly why?: string }

const FIXTURES = new URL('../../../fixtures/peer-vectors/', import.meta.url);
const vectors: Vector[] = readFileSync(new URL('vectors.jsonl', FIXTURES), 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Vector);
const NOT_PASSING = new URL('not-passing.json', FIXTURES);
const notPassing = JSON.parse(readFileSync(NOT_PASSING, 'utf8')) as Record<string, Verdict>;

const PASS: Outcome = { verdict: 'pass' };
/** What our codec says when something is missing, not wrong. */
const MISSING = /unknown|not supported|unsupported|raw\(|unknown_oxm|no printer/i;
const miss = (why: string): Outcome => ({ verdict: MISSING.test(why) ? 'unsupported' : 'fail', why });
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function differs(what: string, got: string, want: string): Outcome {
  return miss(`${what}: got ${JSON.stringify(got)}, OVS ${JSON.stringify(want)}`);
}

function checkFlow(v: Vector): Outcome {
  let encoded: string;
  try {
    encoded = encodeMessage({ ...parseFlow(v.text!), xid: 1 }).toString('hex');
  } catch (err) {
    return miss(`parse: ${errorText(err)}`);
  }
  if (encoded !== v.expect.flowmod) return differs('encode', encoded, v.expect.flowmod!);
  const res = decodeMessage(Buffer.from(v.expect.flowmod, 'hex'));
  if (!res.ok) return miss(`decode: ${res.error.message}`);
  if (res.msg.type !== 'flow_mod') return miss(`decoded as ${res.msg.type}`);
  const printed = formatFlowMod(res.msg, res.msg.xid);
  return printed === v.expect.print ? PASS : differs('print', printed, v.expect.print!);
}

function checkFlowBad(v: Vector): Outcome {
  try {
    parseFlow(v.text!);
  } catch {
    return PASS;
  }
  return { verdict: 'fail', why: `accepted; OVS: ${v.expect.error}` };
}

/**
 * An action or instruction list: OVS's bytes print as its text, and re-encode as it re-encodes them
 * (ovs-ofctl parse-actions re-encodes what it decoded, not its text: hidden members such as an
 * output's max_len survive).
 */
function checkList(v: Vector): Outcome {
  const instructions = v.kind === 'instructions';
  const bytes = Buffer.from(v.hex!, 'hex');
  // ovs-ofctl parse-actions prints `bad OpenFlow13 actions: ERROR` for a list it refuses.
  const ovsRefuses = v.expect.text === undefined || v.expect.text.startsWith('bad ');
  let decoded: Instructions;
  try {
    const r = new Reader(bytes);
    decoded = instructions ? decodeInstructions(r) : { apply: decodeActions(r) };
  } catch (err) {
    return ovsRefuses ? PASS : miss(`decode: ${errorText(err)}`);
  }
  const printed = `actions=${formatInstructions(decoded)}`;
  if (printed !== v.expect.text) return differs('print', printed, v.expect.text ?? '(OVS refuses it)');
  const w = new Writer();
  if (instructions) encodeInstructions(w, decoded);
  else encodeActions(w, decoded.apply);
  const reencoded = w.finish().toString('hex');
  return reencoded === v.expect.reencode ? PASS : differs('re-encode', reencoded, v.expect.reencode!);
}

function checkMsg(v: Vector): Outcome {
  const res = decodeMessage(Buffer.from(v.hex!, 'hex'));
  // OVS refuses it: exit code, or ofp-print's `***decode error` in place of the message (an
  // OFPT_ERROR's embedded request is a message of its own: its decode error is not the error's).
  const print = v.expect.print ?? '';
  if (v.expect.rc || (print.startsWith('OFPT_ERROR') ? print.split('\n')[0]! : print).includes('***decode error')) {
    if (!res.ok) return PASS;
    // Kept as a generic container, the message is not known here well enough to be refused.
    const generic = ['unknown', 'experimenter', 'multipart_request', 'multipart_reply'].includes(res.msg.type);
    return { verdict: generic ? 'unsupported' : 'fail', why: `decoded as ${res.msg.type}; OVS refuses it: ${v.expect.print ?? ''}` };
  }
  if (!res.ok) return miss(`decode: ${res.error.message}`);
  const m = res.msg;
  if (m.type === 'unknown') return { verdict: 'unsupported', why: `message type ${m.ofType}` };
  const reencoded = encodeMessage(m).toString('hex');
  if (reencoded !== v.hex) return differs(`re-encode ${m.type}`, reencoded, v.hex!);
  const printed = formatMessage(m);
  if (printed === undefined) return { verdict: 'unsupported', why: `no printer for ${m.type}` };
  return printed === v.expect.print ? PASS : differs('print', printed, v.expect.print!);
}

function check(v: Vector): Outcome {
  try {
    switch (v.kind) {
      case 'flow': return checkFlow(v);
      case 'flow_bad': return checkFlowBad(v);
      case 'actions': case 'instructions': return checkList(v);
      case 'msg': return checkMsg(v);
    }
  } catch (err) {
    // A throw where an error value is due is a defect in itself.
    return { verdict: 'fail', why: `threw: ${errorText(err)}` };
  }
}

describe('peer vectors (OVS, Ryu and loxigen, answered by OVS 3.1)', () => {
  const outcomes = new Map(vectors.map((v) => [v.id, check(v)] as const));

  after(() => {
    const counts = { pass: 0, fail: 0, unsupported: 0 };
    for (const o of outcomes.values()) counts[o.verdict]++;
    console.log(`      (${vectors.length} vectors: ${counts.pass} pass, ${counts.fail} fail, ${counts.unsupported} unsupported)`);
    // PEER_VECTORS_SHOW=fail (or unsupported): each such vector and why, for working through the list.
    const show = process.env.PEER_VECTORS_SHOW;
    if (show) for (const v of vectors) if (outcomes.get(v.id)!.verdict === show) console.log(`${v.id} ${v.text ?? v.hex}\n  ${outcomes.get(v.id)!.why}`);
    if (process.env.PEER_VECTORS_WRITE) {
      const list = Object.fromEntries([...outcomes].filter(([, o]) => o.verdict !== 'pass').map(([id, o]) => [id, o.verdict]).sort());
      writeFileSync(NOT_PASSING, `${JSON.stringify(list, null, 1)}\n`);
    }
  });

  it('holds the whole set', () => {
    expect(vectors.length).to.equal(1219);
    expect(new Set(vectors.map((v) => v.id)).size).to.equal(vectors.length);
  });

  for (const kind of ['flow', 'flow_bad', 'actions', 'instructions', 'msg'] as const) {
    it(`${kind}: every vector as the not-passing list records it (progress recorded, no regression)`, () => {
      const wrong: string[] = [];
      for (const v of vectors.filter((x) => x.kind === kind)) {
        const o = outcomes.get(v.id)!;
        const recorded = notPassing[v.id] ?? 'pass';
        if (o.verdict !== recorded) {
          wrong.push(`${v.id} (${v.name}: ${v.text ?? v.hex}): recorded ${recorded}, now ${o.verdict}${o.why ? `: ${o.why}` : ''}`);
        }
      }
      expect(wrong, wrong.join('\n')).to.deep.equal([]);
    });
  }
});
