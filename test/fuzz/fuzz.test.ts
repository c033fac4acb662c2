// The fuzz campaign, short (bench/fuzz.ts runs it at scale): the same generators and seed, asserting
// that no decoder crashes; the stream paths (OfConnection sessions fed garbage, JsonFramer fed
// mutated streams at any chunking); and the exact inputs of what fuzzing found, as regressions.
// Hangs: a watchdog thread kills the run, naming the input, if one input does not return in 20 s.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FlowSyntaxError, parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { decodeMessage } from '../../codecs/openflow/messages.js';
import { FramingError, JsonFramer } from '../../codecs/ovsdb/framer.js';
import { decodeRpc, fromMap, fromSet, Json, optionalInt, ProtocolError, uuidOf } from '../../codecs/ovsdb/protocol.js';
import { assertOvsInstalled } from '../../testing/sandbox.js';
import { Finding, hexOf, runInputs, Tally, textOf } from '../../testing/fuzz/campaign.js';
import { FlowTextInputs, FUZZ_SEED, OpenFlowInputs, OvsdbInput, OvsdbInputs } from '../../testing/fuzz/generators.js';
import { endMatches, SessionFuzzer } from '../../testing/fuzz/of-sessions.js';
import { OvsdbClientUnderFuzz } from '../../testing/fuzz/ovsdb-peer.js';
import { fuzzFlowText, fuzzOpenFlow, fuzzOvsdb } from '../../testing/fuzz/targets.js';
import { Watchdog } from '../../testing/fuzz/watchdog.js';

const run = promisify(execFile);

/** The failures of a campaign, readable (the input of each, to reproduce it). */
function failures(t: Tally): string[] {
  return t.crashes.map((f: Finding) => `#${f.index} (${f.strategy}): ${f.detail}\n  input: ${f.input}`);
}

/** A budget no input comes near (the bench holds them to 100 ms): only the watchdog judges time here. */
const NO_BUDGET = Number.POSITIVE_INFINITY;

describe('fuzzing (short run of bench/fuzz.ts, seed FUZZ_SEED)', function () {
  this.timeout(120_000);
  let watchdog: Watchdog;
  let ofInputs: OpenFlowInputs;
  before(() => {
    watchdog = new Watchdog(20_000, FUZZ_SEED);
    ofInputs = new OpenFlowInputs(FUZZ_SEED, 1000);
  });
  after(async () => {
    await watchdog.stop();
  });

  it('20,000 generated and mutated OpenFlow messages: decodeMessage never throws, decoded ones print and re-encode', () => {
    const t = new Tally('openflow', NO_BUDGET);
    runInputs(t, 0, 20_000, (i) => ofInputs.input(i), (x) => fuzzOpenFlow(x.bytes),
      (x) => ({ strategy: x.strategy, size: x.bytes.length, show: () => hexOf(x.bytes) }), { beat: (i) => watchdog.tick('openflow', i) });
    expect(failures(t)).to.deep.equal([]);
    // The campaign reaches deep: both verdicts are common and many kinds of refusal show up.
    expect(t.verdicts.ok).to.be.above(5000);
    expect(t.verdicts.rejected).to.be.above(5000);
    expect(t.refusals.size).to.be.above(40);
    expect([...t.accepted.keys()]).to.include.members(['flow_mod', 'flow_stats_reply', 'packet_out', 'bundle_add', 'packet_in']);
  });

  it('5,000 mutated flow texts: parseFlow refuses only with FlowSyntaxError; parsed flows encode, print and decode', () => {
    const inputs = new FlowTextInputs(FUZZ_SEED);
    const t = new Tally('flow text', NO_BUDGET);
    runInputs(t, 0, 5000, (i) => inputs.input(i), fuzzFlowText,
      (x) => ({ strategy: x.strategy, size: x.text.length, show: () => textOf(x.text) }), { beat: (i) => watchdog.tick('flow text', i) });
    expect(failures(t)).to.deep.equal([]);
    expect(t.verdicts.ok).to.be.above(300);
  });

  it('5,000 OVSDB streams at random chunking: JsonFramer throws only FramingError, decodeRpc only ProtocolError, datum readers keep their types', () => {
    const inputs = new OvsdbInputs(FUZZ_SEED);
    const t = new Tally('ovsdb', NO_BUDGET);
    runInputs(t, 0, 5000, (i) => inputs.input(i), (x) => fuzzOvsdb(x),
      (x: OvsdbInput) => ({ strategy: x.strategy, size: 0, show: () => textOf(Buffer.concat(x.chunks as Buffer[]).toString('latin1')) }),
      { beat: (i) => watchdog.tick('ovsdb', i) });
    expect(failures(t)).to.deep.equal([]);
    expect([...t.refusals.keys()].some((k) => k.startsWith('framing: nesting deeper'))).to.equal(true);
    expect([...t.refusals.keys()].some((k) => k.startsWith('protocol: '))).to.equal(true);
    expect(t.verdicts.ok).to.be.above(1000);
  });

  it('60 OpenFlow sessions fed fuzzed streams end as their first violation says; a bystander session carries on', async () => {
    const fuzzer = new SessionFuzzer(ofInputs, FUZZ_SEED);
    await fuzzer.start();
    const wrong: string[] = [];
    const ends = new Set<string>();
    try {
      for (let i = 0; i < 60; i++) {
        watchdog.tick('openflow sessions', i);
        const r = await fuzzer.run(i);
        ends.add(r.expected);
        if (r.crashes.length || !endMatches(r.expected, r.got)) {
          wrong.push(`session ${i}: expected ${r.expected}, got ${r.got}; uncaught: ${r.crashes.map(String).join('; ')}`);
        }
      }
      expect(wrong).to.deep.equal([]);
      expect(await fuzzer.bystanderAlive()).to.equal(true);
    } finally {
      await fuzzer.stop();
    }
    expect([...ends]).to.include.members(['open', 'malformed']);
  });

  // Found by bench/fuzz.ts (ovsdb client): a malformed update killed the process (an uncaught
  // TypeError rethrown by rxjs on a timer), and so did a Bridge.datapath_id that is not hex. Now the
  // client refuses the update whole and resyncs on a new session; the view reads rows defensively.
  it('the OVSDB client survives generated and mutated update notifications over a socket', async () => {
    const inputs = new OvsdbInputs(FUZZ_SEED);
    const harness = await OvsdbClientUnderFuzz.start();
    const crashes: string[] = [];
    try {
      for (const text of [...CLIENT_CRASHES, ...VIEW_CRASHES]) {
        const d = await harness.deliver([text]);
        if (d.crashes.length || !d.answered || d.viewError) crashes.push(`${text}: ${[...d.crashes, d.viewError].map(String).join('; ')}`);
        if (d.viewError) await harness.reset();
      }
      for (let i = 0; i < 2000; i++) {
        watchdog.tick('ovsdb client', i);
        const texts = fuzzOvsdb(inputs.input(i)).notifications;
        if (!texts.length) continue;
        const d = await harness.deliver(texts);
        if (d.crashes.length || !d.answered || d.viewError) crashes.push(`input #${i}: ${[...d.crashes, d.viewError].map(String).join('; ')}`);
        if (d.viewError) await harness.reset();
      }
    } finally {
      await harness.close();
    }
    expect(crashes).to.deep.equal([]);
  });
});

/** Notifications that crashed lib/ovsdb/client.ts (the fuzzer's findings, reduced by hand). */
const CLIENT_CRASHES = [
  // update2, a row change that is not an object: TypeError: Cannot use 'in' operator to search for 'delete' in 5
  '{"id":null,"method":"update2","params":["ofctl-ts",{"Bridge":{"8d8ce8b6-9de3-9562-14af-7900a981a072":5}}]}',
  // update, a row change that is null: TypeError: Cannot read properties of null (reading 'new')
  '{"id":null,"method":"update","params":["ofctl-ts",{"Bridge":{"8d8ce8b6-9de3-9562-14af-7900a981a072":null}}]}',
  // update2 modify of a map column whose pairs are not an array: TypeError: mapPairs(...) is not iterable
  '{"id":null,"method":"update2","params":["ofctl-ts",{"Bridge":{"8d8ce8b6-9de3-9562-14af-7900a981a072":{"modify":{"external_ids":["map",5]}}}}]}',
  // update2 modify of a set column whose atoms are not an array: TypeError: setAtoms(...) is not iterable
  '{"id":null,"method":"update2","params":["ofctl-ts",{"Bridge":{"8d8ce8b6-9de3-9562-14af-7900a981a072":{"modify":{"ports":["set",5]}}}}]}',
  // update2 modify of a map column with a pair that is not a pair: TypeError: .for is not iterable
  '{"id":null,"method":"update2","params":["ofctl-ts",{"Bridge":{"8d8ce8b6-9de3-9562-14af-7900a981a072":{"modify":{"external_ids":["map",[5]]}}}}]}',
];

/** Notifications after which vswitchView (the controller's reading of the replica) threw. */
const VIEW_CRASHES = [
  // A datapath_id that is not hex: SyntaxError: Cannot convert 0xbr-int to a BigInt
  '{"id":null,"method":"update2","params":["ofctl-ts",{"Bridge":{"eadb0335-26d0-01f1-5e0e-61d521c68c59":{"insert":{"name":"br-int","datapath_id":"br-int"}}}}]}',
  // A name whose toString is not a function: TypeError: Cannot convert object to primitive value
  '{"id":null,"method":"update2","params":["ofctl-ts",{"Bridge":{"eadb0335-26d0-01f1-5e0e-61d521c68c59":{"insert":{"name":{"toString":1}}}}}]}',
];

describe('fuzzing regressions (exact inputs of what the fuzzer found)', () => {
  before(() => assertOvsInstalled());

  /** bundle_add (ONF 2301) with bundle id 1, flags atomic, around `inner`, xid 7. */
  function bundleAdd(inner: Buffer): Buffer {
    const b = Buffer.from('04040000000000074f4e4600000008fd0000000100000001', 'hex');
    const out = Buffer.concat([b, inner]);
    out.writeUInt16BE(out.length, 2);
    return out;
  }

  it('bundle_add nested 2,729 deep (64 KB) is refused, as OVS refuses a bundle message in a bundle, not a stack overflow', async () => {
    // A bundle_add carrying a bundle_control: ovs-ofctl refuses it with OFPBFC_MSG_UNSUP.
    const two = bundleAdd(Buffer.from('04040018000000074f4e4600000008fc0000000100010001', 'hex'));
    const { stdout, stderr } = await run('ovs-ofctl', ['ofp-print', two.toString('hex')]);
    expect(stdout + stderr).to.match(/decode error: OFPBFC_MSG_UNSUP/);
    const r2 = decodeMessage(two);
    expect(r2.ok ? r2.msg.type : r2.error.message).to.equal('bundle_add carries a bundle message (at byte 24)');

    // Found by fuzzing: nested deep enough, the recursive decoder overflowed the stack.
    let deep: Buffer = Buffer.from('0414000800000007', 'hex'); // BARRIER_REQUEST, xid 7
    for (let i = 0; i < 2729; i++) deep = bundleAdd(deep);
    expect(deep.length).to.equal(65504);
    const r = decodeMessage(deep);
    expect(r.ok ? r.msg.type : r.error.message).to.equal('bundle_add carries a bundle message (at byte 24)');
    // One level is still fine.
    const one = decodeMessage(bundleAdd(Buffer.from('0414000800000007', 'hex')));
    expect(one.ok && one.msg.type === 'bundle_add' && one.msg.message.type).to.equal('barrier_request');
  });

  it('a 64 KB HELLO bitmap of ones gives the versions OVS reads (first word, 1..31), not half a million', async () => {
    const hello = Buffer.alloc(65528, 0xff);
    hello.writeUInt16BE(0x0400, 0); // version 4, HELLO
    hello.writeUInt16BE(hello.length, 2);
    hello.writeUInt32BE(1, 4);
    hello.writeUInt16BE(1, 8); // OFPHET_VERSIONBITMAP
    hello.writeUInt16BE(hello.length - 8, 10);
    const { stdout } = await run('ovs-ofctl', ['ofp-print', hello.toString('hex')]);
    const ovsVersions = /version bitmap: (.*)/.exec(stdout)![1]!.split(', ').map((v) => Number(v));
    expect(ovsVersions).to.have.length(31);
    const r = decodeMessage(hello);
    // Before: 524,128 versions (every bit of every word), ~10 MB of heap for one message.
    expect(r.ok && r.msg.type === 'hello' && r.msg.versions).to.deep.equal(ovsVersions);
  });

  it('write_actions nested 10,000 deep is refused like ovs-ofctl refuses two levels, not a stack overflow', async () => {
    const two = 'actions=write_actions(write_actions(output:1))';
    const ovs = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flow', two]).then(() => 'accepted', (e: { stderr: string }) => e.stderr.trim());
    expect(ovs).to.equal('ovs-ofctl: write_actions instruction not allowed here');
    const refusal = (text: string): string => {
      try {
        parseFlow(text);
        return 'accepted';
      } catch (err) {
        if (err instanceof FlowSyntaxError) return err.reason;
        throw err;
      }
    };
    expect(refusal(two)).to.equal('write_actions instruction not allowed here');
    for (const [text, reason] of [
      ['actions=write_actions(goto_table:3)', 'goto_table instruction not allowed here'],
      ['actions=write_actions(clear_actions)', 'clear_actions instruction not allowed here'],
      ['actions=write_actions(write_metadata:1)', 'write_metadata instruction not allowed here'],
      ['actions=write_actions(meter:1)', "write_actions action doesn't support nested action meter"],
    ] as const) {
      const o = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flow', text]).then(() => 'accepted', (e: { stderr: string }) => e.stderr.trim());
      expect(o, text).to.equal(`ovs-ofctl: ${reason}`);
      expect(refusal(text), text).to.equal(reason);
    }
    // Found by fuzzing (flow text input #1070 before the fix): a RangeError after ~1.5 s of O(n²) work.
    const deep = `table=0,priority=1,in_port=1 actions=${'write_actions('.repeat(10_000)}resubmit(,2)`;
    expect(refusal(deep)).to.equal('write_actions instruction not allowed here');
  });

  it('JsonFramer refuses nesting deeper than OVS parses (1000), so JSON.parse and JSON.stringify never see it', () => {
    // `depth` levels in all, the message object and its params array included.
    const nested = (depth: number): string => `{"id":null,"method":"update2","params":["m",${'['.repeat(depth - 2)}${']'.repeat(depth - 2)}]}`;
    const ok = new JsonFramer().push(Buffer.from(nested(1000)));
    expect(ok).to.have.length(1);
    expect(decodeRpc(ok[0]!)).to.have.property('method', 'update2');
    // Found by fuzzing: 1,000,000 levels took JSON.parse ~0.9 s, and a deep value reaching
    // JSON.stringify (the client's diff logic, echo answers) overflowed its stack.
    for (const depth of [1001, 1_000_000]) {
      const f = new JsonFramer();
      expect(() => f.push(Buffer.from(nested(depth)))).to.throw(FramingError, /^nesting deeper than 1000 at offset \d+$/);
    }
    // Split anywhere, the same limit holds.
    const f = new JsonFramer();
    const text = Buffer.from(nested(1001));
    expect(() => {
      for (let at = 0; at < text.length; at += 7) f.push(text.subarray(at, at + 7));
    }).to.throw(FramingError, /nesting deeper than 1000/);
  });

  it('the datum readers return what they declare, whatever a row holds (fuzzed rows: ovsdb #522, #3249, #89507)', () => {
    expect(fromSet(['set', {}])).to.deep.equal([]);
    expect(fromSet(['set', 5])).to.deep.equal([]);
    expect(fromSet(['set', [1, 2]])).to.deep.equal([1, 2]);
    expect(fromSet('x')).to.deep.equal(['x']);
    expect([...fromMap(['map', 5])]).to.deep.equal([]);
    expect([...fromMap(['map', [5, null, ['a'], ['k', 'v']]])]).to.deep.equal([['k', 'v']]);
    // String() of an object whose toString is not a function throws; the reader writes JSON instead.
    expect([...fromMap(JSON.parse('["map",[["k",{"toString":1}],[1,true]]]') as Json)]).to.deep.equal([['k', '{"toString":1}'], ['1', 'true']]);
    expect(optionalInt(['set', 5])).to.equal(undefined);
    expect(uuidOf(['uuid', 5])).to.equal(undefined);
    expect(uuidOf(['uuid', 'a5cdf57a-78d8-4096-27f7-f928fc5757e8'])).to.equal('a5cdf57a-78d8-4096-27f7-f928fc5757e8');
    // The campaign inputs that found them (seed FUZZ_SEED): their rows now read cleanly.
    const inputs = new OvsdbInputs(FUZZ_SEED);
    for (const i of [522, 3249, 89507]) expect(fuzzOvsdb(inputs.input(i), { applyDiffs: false }).verdict, `ovsdb #${i}`).to.not.equal('crash');
  });

  it('decodeRpc turns any JSON it is given into a message or a ProtocolError', () => {
    for (const t of ['[]', '1', '"x"', 'null', '{"method":1,"params":[]}', '{"id":{},"result":1}', '{"__proto__":{"method":"x"}}']) {
      expect(() => decodeRpc(t), t).to.throw(ProtocolError);
    }
  });
});
