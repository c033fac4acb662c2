// Property tests for the OpenFlow 1.3 codec:
//   1. decode(encode(m)) deep-equals m for generated, canonical messages of every type;
//   2. decodeMessage is total: on random bytes and on mutated valid messages it returns
//      {ok:true} or {ok:false, error: DecodeError} and never throws anything else;
//   3. a few hand-written malformed inputs.
// All runs use fixed seeds so CI is deterministic.
import { expect } from 'chai';
import fc from 'fast-check';
import { Action, decodeActions, encodeActions } from '../../../codecs/actions/index.js';
import { DecodeError, Reader, Writer } from '../../../codecs/openflow/bytes.js';
import { fieldByName } from '../../../codecs/openflow/fields.js';
import { decodeInstructions, encodeInstructions } from '../../../codecs/openflow/instructions.js';
import { formatInstructions } from '../../../codecs/ofctl/format-actions.js';
import { decodeMatch, encodeMatch, Match } from '../../../codecs/openflow/match.js';
import { decodeMessage, encodeMessage, MessageOf, OfMessage } from '../../../codecs/openflow/messages.js';
import {
  actionArb, flowModArb, instructionsArb, learnArb, matchArb, messageArb, messageArbs, u16, u32, unknownOxmArb,
} from '../../../testing/arbitraries.js';

const SEED = 42;

function roundTrip(m: OfMessage): void {
  const wire = encodeMessage(m);
  expect(wire.readUInt16BE(2), 'header length').to.equal(wire.length);
  const r = decodeMessage(wire);
  if (!r.ok) expect.fail(`decode failed: ${r.error.message}\n  wire: ${wire.toString('hex')}`);
  expect(r.msg).to.deep.equal(m);
}

/** decodeMessage must return a result, and a failure must be a DecodeError pointing into the buffer. */
function checkTotal(buf: Buffer): void {
  const r = decodeMessage(buf);
  if (r.ok) {
    expect(r.msg.type).to.be.a('string');
  } else {
    expect(r.error).to.be.instanceOf(DecodeError);
    expect(r.error.offset).to.be.within(0, buf.length);
  }
}

describe('OpenFlow codec properties', function () {
  this.timeout(60_000);

  describe('round trip: decode(encode(m)) deep-equals m', () => {
    it('matches (encodeMatch/decodeMatch)', () => {
      fc.assert(fc.property(matchArb, (m: Match) => {
        const w = new Writer();
        encodeMatch(w, m);
        const wire = w.finish();
        expect(wire.length % 8).to.equal(0);
        const r = new Reader(wire);
        const d = decodeMatch(r);
        expect(r.remaining).to.equal(0);
        expect(d.unknown).to.deep.equal([]);
        expect(d.match).to.deep.equal(m);
      }), { seed: SEED, numRuns: 3000 });
    });

    it('action lists (encodeActions/decodeActions)', () => {
      fc.assert(fc.property(fc.array(actionArb, { maxLength: 6 }), (actions: Action[]) => {
        const w = new Writer();
        encodeActions(w, actions);
        const wire = w.finish();
        expect(wire.length % 8).to.equal(0);
        expect(decodeActions(new Reader(wire))).to.deep.equal(actions);
      }), { seed: SEED, numRuns: 3000 });
    });

    it('learn actions with random specs', () => {
      fc.assert(fc.property(learnArb, (learn) => {
        const w = new Writer();
        encodeActions(w, [{ type: 'learn', learn }]);
        expect(decodeActions(new Reader(w.finish()))).to.deep.equal([{ type: 'learn', learn }]);
      }), { seed: SEED, numRuns: 1000 });
    });

    it('instructions', () => {
      fc.assert(fc.property(instructionsArb, (ins) => {
        const w = new Writer();
        encodeInstructions(w, ins);
        expect(decodeInstructions(new Reader(w.finish()))).to.deep.equal(ins);
      }), { seed: SEED, numRuns: 1000 });
    });

    const RUNS: Partial<Record<OfMessage['type'], number>> = {
      flow_mod: 1500, flow_stats_reply: 300, flow_stats_request: 500, bundle_add: 300, packet_out: 500,
      packet_in: 300, flow_removed: 300, port_status: 300, port_desc_reply: 200,
    };
    for (const type of Object.keys(messageArbs) as Array<OfMessage['type']>) {
      it(`${type} messages`, () => {
        fc.assert(fc.property(messageArbs[type] as fc.Arbitrary<OfMessage>, roundTrip), {
          seed: SEED, numRuns: RUNS[type] ?? 200,
        });
      });
    }

    for (const command of [0, 1, 2, 3, 4] as const) {
      it(`flow_mod command ${command}`, () => {
        const arb = flowModArb.map((m): MessageOf<'flow_mod'> => ({ ...m, command }));
        fc.assert(fc.property(arb, roundTrip), { seed: SEED + command, numRuns: 100 });
      });
    }

    it('flow_mod with experimenter OXMs the codec keeps raw', () => {
      const arb = fc.tuple(flowModArb, fc.array(unknownOxmArb, { minLength: 1, maxLength: 3 }))
        .map(([m, unknownOxm]): MessageOf<'flow_mod'> => ({ ...m, unknownOxm }));
      fc.assert(fc.property(arb, roundTrip), { seed: SEED, numRuns: 200 });
    });

    it('a mix of all message types', () => {
      fc.assert(fc.property(messageArb, roundTrip), { seed: SEED + 1, numRuns: 2000 });
    });
  });

  describe('robustness: decodeMessage never throws', () => {
    it('on random bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (a) => checkTotal(Buffer.from(a))), {
        seed: SEED, numRuns: 20_000,
      });
    });

    it('on random bodies behind a valid OpenFlow 1.3 header (length = buffer length, type 0..35)', () => {
      const arb = fc.tuple(fc.integer({ min: 0, max: 35 }), u32, fc.uint8Array({ maxLength: 160 }));
      fc.assert(fc.property(arb, ([type, x, body]) => {
        const b = Buffer.alloc(8 + body.length);
        b.writeUInt8(4, 0);
        b.writeUInt8(type, 1);
        b.writeUInt16BE(b.length, 2);
        b.writeUInt32BE(x, 4);
        b.set(body, 8);
        checkTotal(b);
      }), { seed: SEED, numRuns: 20_000 });
    });

    // Structured bodies: random bytes rarely get past the first length check, so also build bodies
    // from fragments that look like the codec's TLVs (lengths that are 0, small, multiples of 8, huge).
    it('on random TLV-ish bodies behind a valid header', () => {
      const lenish = fc.oneof(fc.constantFrom(0, 4, 8, 16, 24, 0xffff), u16);
      const chunk = fc.oneof(
        fc.tuple(u16, lenish).map(([t, l]) => Buffer.from([t >> 8, t & 0xff, l >> 8, l & 0xff])),
        fc.constantFrom(
          Buffer.from('00012320', 'hex'), Buffer.from('00002320', 'hex'), Buffer.from('ffff0018', 'hex'),
          Buffer.from('80000004', 'hex'), Buffer.from('0001', 'hex'), Buffer.from('4f4e4600', 'hex'),
        ),
        fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      );
      const arb = fc.tuple(fc.integer({ min: 0, max: 35 }), fc.array(chunk, { maxLength: 24 }));
      fc.assert(fc.property(arb, ([type, chunks]) => {
        const body = Buffer.concat(chunks);
        const b = Buffer.alloc(8 + body.length);
        b.writeUInt8(4, 0);
        b.writeUInt8(type, 1);
        b.writeUInt16BE(Math.min(b.length, 0xffff), 2);
        body.copy(b, 8);
        checkTotal(b);
      }), { seed: SEED, numRuns: 5_000 });
    });

    type Mutation =
      | { readonly kind: 'flip'; readonly pos: number; readonly bit: number }
      | { readonly kind: 'set'; readonly pos: number; readonly byte: number }
      | { readonly kind: 'insert'; readonly pos: number; readonly bytes: Uint8Array }
      | { readonly kind: 'delete'; readonly pos: number; readonly n: number }
      | { readonly kind: 'truncate'; readonly pos: number }
      | { readonly kind: 'u16'; readonly pos: number; readonly value: number }
      | { readonly kind: 'delta16'; readonly pos: number; readonly delta: number };

    const pos = fc.nat();
    const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), pos, bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), pos, byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), pos, n: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('truncate' as const), pos }),
      // Length fields: overwrite a 16-bit word (the header's or any inner one) with a telling value...
      fc.record({
        kind: fc.constant('u16' as const), pos: fc.oneof(fc.constant(2), pos),
        value: fc.oneof(fc.constantFrom(0, 1, 3, 4, 7, 8, 9, 12, 15, 16, 17, 24, 0x7fff, 0xfff8, 0xffff), u16),
      }),
      // ...or nudge it.
      fc.record({ kind: fc.constant('delta16' as const), pos, delta: fc.integer({ min: -16, max: 16 }) }),
    );

    function mutate(src: Buffer, ms: readonly Mutation[], fixLength: boolean): Buffer {
      let b = Buffer.from(src);
      for (const m of ms) {
        const at = b.length === 0 ? 0 : m.pos % b.length;
        switch (m.kind) {
          case 'flip':
            if (b.length) b[at]! ^= 1 << m.bit;
            break;
          case 'set':
            if (b.length) b[at] = m.byte;
            break;
          case 'insert':
            b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
            break;
          case 'delete':
            b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
            break;
          case 'truncate':
            b = b.subarray(0, at);
            break;
          case 'u16':
            if (b.length >= 2) b.writeUInt16BE(m.value, Math.min(at, b.length - 2));
            break;
          case 'delta16':
            if (b.length >= 2) {
              const p = Math.min(at, b.length - 2);
              b.writeUInt16BE((b.readUInt16BE(p) + m.delta) & 0xffff, p);
            }
            break;
        }
      }
      // Most mutations would otherwise stop at the header's length check; make the header agree.
      if (fixLength && b.length >= 4 && b.length <= 0xffff) b.writeUInt16BE(b.length, 2);
      return b;
    }

    // A fixed pool of valid encodings (deterministic: same seed), mutated 20,000 times.
    const pool: Buffer[] = fc.sample(messageArb, { seed: SEED, numRuns: 400 }).map(encodeMessage);

    it('on 20,000 mutations of valid encoded messages', () => {
      const arb = fc.tuple(
        fc.integer({ min: 0, max: pool.length - 1 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
      );
      fc.assert(fc.property(arb, ([i, ms, fix]) => checkTotal(mutate(pool[i]!, ms, fix))), {
        seed: SEED, numRuns: 20_000,
      });
    });

    it('on every truncation of valid encoded messages (header length kept or fixed up)', () => {
      for (const wire of pool.slice(0, 150)) {
        for (let n = 0; n < wire.length; n++) {
          const cut = Buffer.from(wire.subarray(0, n));
          checkTotal(cut);
          if (n >= 4) {
            cut.writeUInt16BE(n, 2);
            checkTotal(cut);
          }
        }
      }
    });
  });

  // Round-trip failures found while writing these properties, for inputs OVS itself sends.
  describe('regressions', () => {
    // OVS can send `write_actions()` as an 8-byte instruction; it must survive a round trip.
    it('an empty WRITE_ACTIONS instruction prints as write_actions(drop) and is not written back, as OVS does', () => {
      // FLOW_MOD add, table 0, priority 0x8000, empty match, instructions: WRITE_ACTIONS (len 8, no actions).
      const wire = Buffer.from(
        '040e0040' + '00000001' + '0000000000000000' + '0000000000000000' + '0000' + '0000' + '0000' + '8000' +
        'ffffffff' + 'ffffffff' + 'ffffffff' + '0000' + '0000' + '00010004' + '00000000' + '00030008' + '00000000', 'hex');
      const r = decodeMessage(wire);
      if (!r.ok) expect.fail(r.error.message);
      if (r.msg.type !== 'flow_mod') expect.fail(r.msg.type);
      expect(r.msg.instructions).to.deep.equal({ apply: [], write: [] });
      expect(formatInstructions(r.msg.instructions)).to.equal('write_actions(drop)');
      // ovs-ofctl parse-instructions OpenFlow13 00030008…: re-encoded as nothing (peer vector
      // instructions-0ad45a51d5): the FLOW_MOD without its 8-byte instruction.
      const without = Buffer.concat([wire.subarray(0, 2), Buffer.from('0038', 'hex'), wire.subarray(4, 56)]);
      expect(encodeMessage(r.msg).toString('hex')).to.equal(without.toString('hex'));
    });
  });

  describe('edge cases', () => {
    it('HELLO with header version 6 and bitmap 0x72 decodes to versions [1,4,5,6], keeping the version it came in', () => {
      const wire = Buffer.from('06000010' + '0000002a' + '00010008' + '00000072', 'hex');
      const r = decodeMessage(wire);
      expect(r).to.deep.equal({ ok: true, msg: { type: 'hello', xid: 42, versions: [1, 4, 5, 6], version: 6 } });
      if (r.ok) expect(encodeMessage(r.msg).toString('hex')).to.equal(wire.toString('hex'));
    });

    it('an action whose length runs past the action list (packet_out) is a DecodeError at the action', () => {
      const out = encodeMessage({
        type: 'packet_out', xid: 7, bufferId: 0xffffffff, inPort: 0xfffd,
        actions: [{ type: 'output', port: 1, maxLen: 0 }], data: Buffer.alloc(0),
      });
      expect(out.readUInt16BE(16), 'actions_len').to.equal(16);
      expect(out.readUInt16BE(26), 'action length').to.equal(16);
      const bad = Buffer.from(out);
      bad.writeUInt16BE(24, 26); // the OUTPUT action claims 24 bytes; the list holds 16
      const r = decodeMessage(bad);
      if (r.ok) expect.fail('expected a DecodeError');
      expect(r.error).to.be.instanceOf(DecodeError);
      expect(r.error.message).to.match(/runs past/);
      expect(r.error.offset).to.equal(24);
    });

    it('an action whose length runs past its APPLY_ACTIONS instruction is a DecodeError at the action', () => {
      const fm = encodeMessage({
        type: 'flow_mod', xid: 1, command: 0, cookie: 0n, cookieMask: 0n, table: 0, idleTimeout: 0, hardTimeout: 0,
        priority: 0x8000, bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, flags: 0, importance: 0,
        match: new Map(), instructions: { apply: [{ type: 'output', port: 2, maxLen: 0 }] },
      });
      // header 8 + fixed 40, empty match padded to 8 (48..55), APPLY_ACTIONS at 56, its action at 64.
      expect(fm.readUInt16BE(56)).to.equal(4);
      expect(fm.readUInt16BE(66)).to.equal(16);
      const bad = Buffer.from(fm);
      bad.writeUInt16BE(32, 66);
      const r = decodeMessage(bad);
      if (r.ok) expect.fail('expected a DecodeError');
      expect(r.error).to.be.instanceOf(DecodeError);
      expect(r.error.message).to.match(/runs past/);
      expect(r.error.offset).to.equal(64);
    });

    it('a FLOW_MOD truncated in the middle of its match is a DecodeError, not a throw', () => {
      const F = (n: string) => fieldByName(n)!;
      const match: Match = new Map([
        ['in_port', { value: 3n, mask: 0xffffn }],
        ['dl_type', { value: 0x0800n, mask: 0xffffn }],
        ['nw_src', { value: 0x0a000000n, mask: 0xff000000n }],
        ['nw_proto', { value: 6n, mask: 0xffn }],
        ['tp_dst', { value: 22n, mask: 0xffffn }],
      ]);
      const wire = encodeMessage({
        type: 'flow_mod', xid: 9, command: 0, cookie: 1n, cookieMask: 0n, table: 0, idleTimeout: 0, hardTimeout: 0,
        priority: 100, bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, flags: 0, importance: 0, match,
        instructions: { apply: [{ type: 'set_field', field: F('eth_dst'), value: 0x0200000000aan }, { type: 'output', port: 1, maxLen: 0 }] },
      });
      const matchLen = wire.readUInt16BE(50);
      expect(matchLen).to.be.greaterThan(8);
      for (let cut = 49; cut < 48 + matchLen; cut++) {
        for (const fix of [false, true]) {
          const b = Buffer.from(wire.subarray(0, cut));
          if (fix) b.writeUInt16BE(cut, 2);
          const r = decodeMessage(b);
          if (r.ok) expect.fail(`truncation at ${cut} decoded`);
          expect(r.error).to.be.instanceOf(DecodeError);
          // Without the fix-up the header's length is what is wrong; with it, the match is.
          if (fix) expect(r.error.offset, r.error.message).to.be.within(48, cut);
          else expect(r.error.offset).to.equal(2);
        }
      }
    });
  });
});
