// OpenFlow fuzz inputs: valid messages of every type (the property tests' arbitraries, sampled with
// a fixed seed, plus OVS's own FLOW_MODs and a real 22 KB flow stats reply), then mutated: bit flips,
// interesting bytes, lies in the length fields at every nesting level (header, HELLO elements, match,
// OXM, instructions, actions, learn specs, flow stats entries, bundle_add's inner message), truncation,
// extension, splicing, nesting and random bodies.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { encodeMessage } from '../../codecs/openflow/messages.js';
import { messageArb } from '../arbitraries.js';
import { Rng, rngFor, Stream } from './rng.js';

export type LengthKind =
  | 'header' | 'hello_element' | 'match' | 'oxm' | 'instruction' | 'actions_len' | 'action' | 'set_field_oxm'
  | 'learn_spec' | 'flow_stats_entry';

/** A length (or length-bearing) field of a valid encoding: where it is and how wide. */
export interface LengthField {
  readonly at: number;
  readonly width: 1 | 2;
  readonly kind: LengthKind;
}

export interface OfSeed {
  readonly bytes: Buffer;
  readonly lengths: readonly LengthField[];
}

export type OfStrategy =
  | 'valid' | 'bitflip' | 'interesting' | 'length-lie' | 'truncate' | 'extend' | 'insdel' | 'splice' | 'stacked'
  | 'nest-bundle' | 'big-multipart' | 'random' | 'tlv-soup';

export interface OfInput {
  readonly strategy: OfStrategy;
  readonly bytes: Buffer;
}

const OFPT_HELLO = 0, OFPT_EXPERIMENTER = 4, OFPT_PACKET_IN = 10, OFPT_FLOW_REMOVED = 11, OFPT_PACKET_OUT = 13;
const OFPT_FLOW_MOD = 14, OFPT_MULTIPART_REQUEST = 18, OFPT_MULTIPART_REPLY = 19;
const ONF = 0x4f4e4600, ONFT_BUNDLE_ADD = 2301, NX_VENDOR = 0x2320, NXAST_LEARN = 16, NXAST_LEARN2 = 45;

const pad8 = (n: number): number => (n + 7) & ~7;

// ---------------------------------------------------------------------------------------------
// Where the lengths are: a walk over a valid encoding (bounds-checked, as it also meets OVS bytes).

/** Every length field of a valid OpenFlow 1.3 message starting at `off`. */
export function lengthFields(b: Buffer, off = 0, out: LengthField[] = []): LengthField[] {
  if (off + 8 > b.length) return out;
  const version = b[off]!;
  const type = b[off + 1]!;
  const len = b.readUInt16BE(off + 2);
  const end = Math.min(off + len, b.length);
  out.push({ at: off + 2, width: 2, kind: 'header' });
  if (type === OFPT_HELLO) {
    for (let e = off + 8; e + 4 <= end;) {
      const elLen = b.readUInt16BE(e + 2);
      out.push({ at: e + 2, width: 2, kind: 'hello_element' });
      if (elLen < 4) break;
      e += pad8(elLen);
    }
    return out;
  }
  if (version !== 4) return out;
  switch (type) {
    case OFPT_PACKET_IN:
      walkMatch(b, off + 24, end, out);
      break;
    case OFPT_FLOW_REMOVED:
      walkMatch(b, off + 48, end, out);
      break;
    case OFPT_PACKET_OUT:
      if (off + 24 <= end) {
        out.push({ at: off + 16, width: 2, kind: 'actions_len' });
        walkActions(b, off + 24, Math.min(end, off + 24 + b.readUInt16BE(off + 16)), out);
      }
      break;
    case OFPT_FLOW_MOD:
      walkInstructions(b, walkMatch(b, off + 48, end, out), end, out);
      break;
    case OFPT_MULTIPART_REQUEST:
      if (off + 16 <= end && b.readUInt16BE(off + 8) === 1) walkMatch(b, off + 48, end, out);
      break;
    case OFPT_MULTIPART_REPLY:
      if (off + 16 <= end && b.readUInt16BE(off + 8) === 1) {
        for (let e = off + 16; e + 2 <= end;) {
          const eLen = b.readUInt16BE(e);
          out.push({ at: e, width: 2, kind: 'flow_stats_entry' });
          if (eLen < 56) break;
          walkInstructions(b, walkMatch(b, e + 48, Math.min(end, e + eLen), out), Math.min(end, e + eLen), out);
          e += eLen;
        }
      }
      break;
    case OFPT_EXPERIMENTER:
      if (off + 24 <= end && b.readUInt32BE(off + 8) === ONF && b.readUInt32BE(off + 12) === ONFT_BUNDLE_ADD) {
        lengthFields(b.subarray(0, end), off + 16, out);
      }
      break;
  }
  return out;
}

/** Records the match's length and its OXM length bytes; returns the offset after the padded match. */
function walkMatch(b: Buffer, at: number, end: number, out: LengthField[]): number {
  if (at + 4 > end) return end;
  const mLen = b.readUInt16BE(at + 2);
  out.push({ at: at + 2, width: 2, kind: 'match' });
  const mEnd = Math.min(at + mLen, end);
  for (let t = at + 4; t + 4 <= mEnd;) {
    out.push({ at: t + 3, width: 1, kind: 'oxm' });
    t += 4 + b[t + 3]!;
  }
  return Math.min(at + pad8(mLen), end);
}

function walkInstructions(b: Buffer, at: number, end: number, out: LengthField[]): void {
  for (let i = at; i + 4 <= end;) {
    const type = b.readUInt16BE(i);
    const iLen = b.readUInt16BE(i + 2);
    out.push({ at: i + 2, width: 2, kind: 'instruction' });
    if (iLen < 8) return;
    if (type === 3 || type === 4) walkActions(b, i + 8, Math.min(i + iLen, end), out);
    i += iLen;
  }
}

function walkActions(b: Buffer, at: number, end: number, out: LengthField[]): void {
  for (let a = at; a + 4 <= end;) {
    const type = b.readUInt16BE(a);
    const aLen = b.readUInt16BE(a + 2);
    out.push({ at: a + 2, width: 2, kind: 'action' });
    if (aLen < 8) return;
    if (type === 25 && a + 8 <= end) out.push({ at: a + 7, width: 1, kind: 'set_field_oxm' });
    if (type === 0xffff && a + 10 <= end && b.readUInt32BE(a + 4) === NX_VENDOR) {
      const subtype = b.readUInt16BE(a + 8);
      if (subtype === NXAST_LEARN || subtype === NXAST_LEARN2) walkLearn(b, a, Math.min(a + aLen, end), subtype === NXAST_LEARN2, out);
    }
    a += aLen;
  }
}

/** Learn specs: the header's n_bits sets how many bytes each spec takes. */
function walkLearn(b: Buffer, a: number, end: number, v2: boolean, out: LengthField[]): void {
  if (a + 32 > end) return;
  let s = a + 32;
  if (v2) s += (b.readUInt16BE(a + 24) & 4) !== 0 ? 12 : 8;
  while (s + 2 <= end) {
    const h = b.readUInt16BE(s);
    if (h === 0) return;
    out.push({ at: s, width: 2, kind: 'learn_spec' });
    const nBits = h & 0x3ff;
    const srcImm = (h & 0x2000) !== 0;
    const dstType = (h >> 11) & 3;
    s += 2 + (srcImm ? 2 * Math.ceil(nBits / 16) : 6) + (dstType === 2 ? 0 : 6);
  }
}

// ---------------------------------------------------------------------------------------------
// Seeds

function fixtureLines(name: string): string[] {
  return readFileSync(new URL(`../../../fixtures/codec/${name}`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim());
}

/** OVS's own encodings: the codec corpus' FLOW_MODs and the recorded flow stats replies. */
export function ovsMessages(): Buffer[] {
  const flowMods = fixtureLines('corpus.jsonl').map((l) => Buffer.from((JSON.parse(l) as { flowMod: string }).flowMod, 'hex'));
  const replies = fixtureLines('stats-replies.jsonl').map((l) => Buffer.from((JSON.parse(l) as { reply: string }).reply, 'hex'));
  return [...flowMods, ...replies];
}

/** Valid messages to mutate: `generated` from the property-test arbitraries (fixed seed), then OVS's. */
export function openflowSeeds(seed: number, generated: number): OfSeed[] {
  const msgs = [...fc.sample(messageArb, { seed, numRuns: generated }).map(encodeMessage), ...ovsMessages()];
  return msgs.map((bytes) => ({ bytes, lengths: lengthFields(bytes) }));
}

// ---------------------------------------------------------------------------------------------
// Mutations

const INTERESTING8 = [0x00, 0x01, 0x04, 0x07, 0x08, 0x10, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING16 = [0, 1, 3, 4, 7, 8, 9, 12, 15, 16, 17, 24, 56, 0x7fff, 0x8000, 0xfff8, 0xffff];

/** Sets a length field to a telling value: the edges, off by one or eight, halved, doubled. */
function lie(b: Buffer, f: LengthField, rng: Rng): void {
  if (f.at + f.width > b.length) return;
  if (f.width === 1) {
    const cur = b[f.at]!;
    b[f.at] = rng.pick([...INTERESTING8, cur - 1, cur + 1, cur + 4, cur * 2, cur >> 1, rng.int(256)]) & 0xff;
    return;
  }
  const cur = b.readUInt16BE(f.at);
  const v = rng.pick([...INTERESTING16, cur - 8, cur - 4, cur - 1, cur + 1, cur + 4, cur + 8, cur * 2, cur >> 1, rng.int(0x10000)]);
  b.writeUInt16BE(v & 0xffff, f.at);
}

function setHeaderLength(b: Buffer, off = 0): void {
  if (b.length - off >= 4) b.writeUInt16BE(Math.min(b.length - off, 0xffff), off + 2);
}

type Mutator = (b: Buffer, seed: OfSeed, rng: Rng, pool: readonly OfSeed[]) => Buffer;

const bitflip: Mutator = (b, _s, rng) => {
  for (let n = rng.range(1, 8); n > 0 && b.length; n--) b[rng.int(b.length)]! ^= 1 << rng.int(8);
  return b;
};

const interesting: Mutator = (b, _s, rng) => {
  for (let n = rng.range(1, 4); n > 0 && b.length >= 2; n--) {
    if (rng.chance(0.5)) b[rng.int(b.length)] = rng.pick(INTERESTING8);
    else b.writeUInt16BE(rng.pick(INTERESTING16), rng.int(b.length - 1));
  }
  return b;
};

const lengthLie: Mutator = (b, s, rng) => {
  const inner = s.lengths.filter((f) => f.kind !== 'header');
  const fields = inner.length && rng.chance(0.85) ? inner : s.lengths;
  for (let n = rng.range(1, 3); n > 0 && fields.length; n--) lie(b, rng.pick(fields), rng);
  return b;
};

const truncate: Mutator = (b, _s, rng) => b.subarray(0, rng.int(b.length + 1));

const extend: Mutator = (b, _s, rng) => {
  const n = rng.pick([1, 4, 8, 16, rng.range(1, 256)]);
  const tail = rng.weighted<() => Buffer>([
    [() => Buffer.alloc(n), 2], [() => Buffer.alloc(n, 0xff), 1], [() => rng.bytes(n), 2],
    [() => Buffer.from(b.subarray(Math.max(0, b.length - n))), 2],
  ])();
  return Buffer.concat([b, tail]);
};

const insdel: Mutator = (b, _s, rng) => {
  const at = rng.int(b.length + 1);
  if (rng.chance(0.5)) return Buffer.concat([b.subarray(0, at), rng.bytes(rng.pick([1, 2, 4, 8, rng.range(1, 32)])), b.subarray(at)]);
  return Buffer.concat([b.subarray(0, at), b.subarray(at + rng.pick([1, 2, 4, 8, rng.range(1, 32)]))]);
};

/** A prefix of one message and a suffix of another, cut at random or at 8-byte boundaries. */
const splice: Mutator = (b, _s, rng, pool) => {
  const other = rng.pick(pool).bytes;
  const align = rng.chance(0.5) ? 8 : 1;
  const cutA = Math.floor(rng.int(b.length + 1) / align) * align;
  const cutB = Math.floor(rng.int(other.length + 1) / align) * align;
  return Buffer.concat([b.subarray(0, cutA), other.subarray(cutB)]);
};

const SIMPLE: ReadonlyArray<readonly [Mutator, number]> = [
  [bitflip, 3], [interesting, 3], [lengthLie, 5], [truncate, 1], [extend, 1], [insdel, 2], [splice, 2],
];

const stacked: Mutator = (b, s, rng, pool) => {
  for (let n = rng.range(2, 5); n > 0; n--) b = rng.weighted(SIMPLE)(b, s, rng, pool);
  return b;
};

/**
 * bundle_add around a (possibly mutated) message, nested 1..8 times or as deep as 64 KB allows.
 * Proper layers are 24 bytes (header, ONF id, type, bundle id, pad, flags); short ones stop after
 * the type, so every inner length disagrees with what the decoder expects there.
 */
function nestBundle(inner: Buffer, rng: Rng): Buffer {
  const layerBytes = rng.chance(0.8) ? 24 : 16;
  const depth = rng.chance(0.8) ? rng.range(1, 8) : rng.range(100, 4000);
  const layers = Math.min(depth, Math.floor((0xffff - inner.length) / layerBytes));
  const out = Buffer.alloc(layerBytes * layers + inner.length);
  const xid = rng.u32();
  for (let i = 0; i < layers; i++) {
    const o = layerBytes * i;
    out.writeUInt8(4, o);
    out.writeUInt8(OFPT_EXPERIMENTER, o + 1);
    out.writeUInt16BE(out.length - o, o + 2);
    out.writeUInt32BE(xid, o + 4);
    out.writeUInt32BE(ONF, o + 8);
    out.writeUInt32BE(ONFT_BUNDLE_ADD, o + 12);
    if (layerBytes === 24) {
      out.writeUInt32BE(rng.u32(), o + 16);
      out.writeUInt16BE(rng.int(4), o + 22);
    }
  }
  inner.copy(out, layerBytes * layers);
  return out;
}

/** A flow stats reply filled with copies of one entry up to ~64 KB, one entry then mutated. */
function bigMultipart(pool: readonly OfSeed[], rng: Rng): Buffer {
  const replies = pool.filter((s) => s.bytes[1] === OFPT_MULTIPART_REPLY && s.bytes.readUInt16BE(8) === 1 && s.bytes.length > 16 + 56);
  const src = rng.pick(replies);
  const entryLen = src.bytes.readUInt16BE(16);
  const entry = src.bytes.subarray(16, 16 + entryLen);
  const n = Math.max(1, Math.floor((0xffff - 16) / entry.length) - rng.int(3));
  const b = Buffer.concat([src.bytes.subarray(0, 16), ...Array.from({ length: n }, () => entry)]);
  setHeaderLength(b);
  const lengths = lengthFields(b).filter((f) => f.kind !== 'header');
  if (lengths.length) lie(b, rng.pick(lengths), rng);
  return b;
}

/** An OpenFlow 1.3 header of a random type around a body. */
function withHeader(body: Buffer, rng: Rng): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b[0] = rng.chance(0.9) ? 4 : rng.int(256);
  b[1] = rng.chance(0.9) ? rng.int(36) : rng.int(256);
  b.writeUInt32BE(rng.u32(), 4);
  body.copy(b, 8);
  setHeaderLength(b);
  return b;
}

const TLV_WORDS = ['00012320', '00002320', 'ffff0018', '80000004', '0001', '4f4e4600', '000008fd', 'ffff0010', '00190010'].map((h) => Buffer.from(h, 'hex'));

/** Bodies made of fragments that look like the codec's TLVs, so they get past the first checks. */
function tlvSoup(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let n = rng.range(1, 24); n > 0; n--) {
    parts.push(rng.weighted<() => Buffer>([
      [() => {
        const t = Buffer.alloc(4);
        t.writeUInt16BE(rng.chance(0.5) ? rng.int(32) : rng.pick([0xffff, 0x8000, 1]), 0);
        t.writeUInt16BE(rng.pick([0, 4, 8, 16, 24, 0xffff, rng.int(0x10000)]), 2);
        return t;
      }, 3],
      [() => rng.pick(TLV_WORDS), 2],
      [() => rng.bytes(rng.int(9)), 2],
    ])());
  }
  return withHeader(Buffer.concat(parts), rng);
}

const STRATEGIES: ReadonlyArray<readonly [OfStrategy, number]> = [
  ['valid', 5], ['bitflip', 10], ['interesting', 10], ['length-lie', 25], ['truncate', 6], ['extend', 5], ['insdel', 6],
  ['splice', 8], ['stacked', 12], ['nest-bundle', 4], ['big-multipart', 1], ['random', 4], ['tlv-soup', 4],
];

const MUTATORS: Partial<Record<OfStrategy, Mutator>> = {
  bitflip, interesting, 'length-lie': lengthLie, truncate, extend, insdel, splice, stacked,
};

/** Makes the fuzz inputs of one campaign: input(i) depends only on the seed and i. */
export class OpenFlowInputs {
  readonly seeds: readonly OfSeed[];

  constructor(
    readonly seed: number,
    /** Messages sampled from the arbitraries (the pool also holds OVS's own encodings). */
    generated = 3000,
  ) {
    this.seeds = openflowSeeds(seed, generated);
  }

  input(index: number): OfInput {
    const rng = rngFor(this.seed, Stream.OPENFLOW, index);
    const strategy = rng.weighted(STRATEGIES);
    const s = rng.pick(this.seeds);
    let bytes: Buffer;
    switch (strategy) {
      case 'valid':
        return { strategy, bytes: s.bytes };
      case 'nest-bundle': {
        const inner = rng.chance(0.5) ? s.bytes : stacked(Buffer.from(s.bytes), s, rng, this.seeds);
        bytes = nestBundle(inner.subarray(0, 0xffff - 24), rng);
        break;
      }
      case 'big-multipart':
        return { strategy, bytes: bigMultipart(this.seeds, rng) };
      case 'random':
        return { strategy, bytes: rng.chance(0.3) ? rng.bytes(rng.int(97)) : withHeader(rng.bytes(rng.int(161)), rng) };
      case 'tlv-soup':
        return { strategy, bytes: tlvSoup(rng) };
      default:
        bytes = MUTATORS[strategy]!(Buffer.from(s.bytes), s, rng, this.seeds);
    }
    // Most mutations would otherwise stop at the header's length check: usually make it agree.
    if (rng.chance(0.75)) setHeaderLength(bytes);
    return { strategy, bytes };
  }
}
