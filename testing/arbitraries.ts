// fast-check generators for the OpenFlow 1.3 codec's types. Every generator produces values in the
// *canonical* form decodeMessage() itself returns, so that decode(encode(x)) can be compared to x with
// a plain deep equality:
//   - match entries have value & mask == value and a non-zero mask; non-maskable fields use the full
//     slot mask; VLAN fields live in the vlan_tci slot the way the decoder merges vlan_vid/vlan_pcp;
//   - a match only holds L3/L4 fields that the encoder (OVS's nx_put_raw order) writes for the
//     chosen eth_type/ip_proto, so generation starts from a protocol and adds fields valid for it;
//   - ports use OVS's 16-bit form (0..0xfeff or the reserved 0xfff8..0xffff);
//   - optional properties are absent rather than `undefined`, exactly as the decoder builds them.
import fc from 'fast-check';
import { Action, Learn, LearnSpec, NX_LEARN_F_DELETE_LEARNED, NX_LEARN_F_SEND_FLOW_REM, NX_LEARN_F_WRITE_RESULT } from '../codecs/actions/index.js';
import { allOnes, FieldDef, fieldByHeader, FIELDS, fieldByName, Slot, SLOT_BITS } from '../codecs/openflow/fields.js';
import { FlowStats } from '../codecs/openflow/flow.js';
import { checkFlowActions } from '../codecs/actions/check.js';
import { Instructions } from '../codecs/openflow/instructions.js';
import type { FlowMonitorRequest, FlowUpdate } from '../codecs/openflow/vendor-messages.js';
import type { Continuation, PacketIn2 } from '../codecs/openflow/packet-in2.js';
import { Match, MatchEntry, UnknownOxm } from '../codecs/openflow/match.js';
import {
  decodeMessage, encodeMessage, FlowModCommand, FlowStatsRequest, MessageOf, OfMessage, ONF_EXPERIMENTER, ONFT_BUNDLE_ADD_MESSAGE,
  ONFT_BUNDLE_CONTROL, PortDesc,
} from '../codecs/openflow/messages.js';
import { Subfield } from '../codecs/openflow/subfield.js';
import { KNOWN_ERRORS } from '../codecs/openflow/errors.js';
import { statsMessageArbs } from './stats-arbitraries.js';

// ---------------------------------------------------------------------------------------------
// Scalars

export const u8: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xff });
export const u16: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffff });
export const u32: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffffffff });
export const u64: fc.Arbitrary<bigint> = fc.bigInt({ min: 0n, max: allOnes(64) });
export const xid: fc.Arbitrary<number> = u32;

/** A value of `bits` bits, biased towards the edges (0, all-ones). */
function uintBits(bits: number): fc.Arbitrary<bigint> {
  return fc.oneof(
    { arbitrary: fc.bigInt({ min: 0n, max: allOnes(bits) }), weight: 6 },
    { arbitrary: fc.constantFrom(0n, allOnes(bits), 1n), weight: 1 },
  );
}

export function bytes(maxLength: number, minLength = 0): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a));
}

/** Ports in OVS's 16-bit form that survive the OF1.1+ 32-bit mapping: 0..0xfeff and 0xfff8..0xffff. */
export const port: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 0xfeff }), weight: 4 },
  { arbitrary: fc.integer({ min: 0xfff8, max: 0xffff }), weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// Matches

/** A non-zero mask of `bits` bits: full, a CIDR-style prefix, or arbitrary. */
function maskArb(bits: number): fc.Arbitrary<bigint> {
  const full = allOnes(bits);
  return fc.oneof(
    { arbitrary: fc.constant(full), weight: 3 },
    { arbitrary: fc.integer({ min: 1, max: bits }).map((n) => allOnes(n) << BigInt(bits - n)), weight: 1 },
    { arbitrary: fc.bigInt({ min: 1n, max: full }), weight: 1 },
  );
}

/** A canonical slot entry: value already ANDed with a non-zero mask (full mask if not maskable). */
function entryArb(bits: number, maskable = true): fc.Arbitrary<MatchEntry> {
  if (!maskable) return uintBits(bits).map((value) => ({ value, mask: allOnes(bits) }));
  return fc.tuple(uintBits(bits), maskArb(bits)).map(([v, mask]) => ({ value: v & mask, mask }));
}

const exact = (bits: number, value: bigint): MatchEntry => ({ value, mask: allOnes(bits) });

/** Present with probability 1/(1+absentWeight). */
function maybe<T>(arb: fc.Arbitrary<T>, absentWeight = 2): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: absentWeight }, { arbitrary: arb, weight: 1 });
}

/**
 * vlan_tci as the decoder builds it from OXM vlan_vid (maskable over VID|CFI = 0x1fff) and vlan_pcp
 * (sets CFI and the PCP bits). The encoder only writes vlan_pcp when the VID part is non-zero, so PCP
 * always comes with CFI set.
 */
const vlanTciArb: fc.Arbitrary<MatchEntry> = fc
  .tuple(
    fc.oneof(fc.constant(0x1fffn), fc.bigInt({ min: 0n, max: 0x1fffn })),
    fc.bigInt({ min: 0n, max: 0x1fffn }),
    maybe(fc.bigInt({ min: 0n, max: 7n }), 1),
  )
  .filter(([vidMask, , pcp]) => vidMask !== 0n || pcp !== undefined)
  .map(([vidMask, vid, pcp]) => {
    let value = vid & vidMask;
    let mask = vidMask;
    if (pcp !== undefined) {
      value |= 0x1000n | (pcp << 13n);
      mask |= 0xf000n;
    }
    return { value, mask };
  });

/** nw_tos as dscp and/or ecn: the mask is 0xfc, 0x03 or 0xff. */
const nwTosArb: fc.Arbitrary<MatchEntry> = fc
  .tuple(fc.constantFrom(0xfcn, 0x03n, 0xffn), fc.bigInt({ min: 0n, max: 0xffn }))
  .map(([mask, v]) => ({ value: v & mask, mask }));

/**
 * ipv6_label (20 bits in a 32-bit slot): like OVS, an exact label is kept with an all-ones 32-bit mask;
 * a partial mask stays as it is.
 */
const ipv6LabelArb: fc.Arbitrary<MatchEntry> = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xfffffn }).map((value) => ({ value, mask: 0xffffffffn })),
  fc.tuple(fc.bigInt({ min: 0n, max: 0xfffffn }), fc.bigInt({ min: 1n, max: 0xffffen }))
    .map(([v, mask]) => ({ value: v & mask, mask })),
);

/** ICMP type/code: an 8-bit value in the 16-bit tp_src/tp_dst slot with the slot's full mask. */
const icmpArb: fc.Arbitrary<MatchEntry> = fc.bigInt({ min: 0n, max: 0xffn }).map((value) => ({ value, mask: 0xffffn }));

export type L3 = 'none' | 'ipv4' | 'ipv6' | 'arp' | 'rarp';
export type L4 = 'none' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'other';

type Entries = ReadonlyArray<readonly [Slot, MatchEntry | undefined]>;

const commonEntries: fc.Arbitrary<Entries> = fc
  .record({
    in_port: maybe(port.map((p) => ({ value: BigInt(p), mask: 0xffffn }))),
    conj_id: maybe(entryArb(32, false), 4),
    dl_src: maybe(entryArb(48)),
    dl_dst: maybe(entryArb(48)),
    vlan_tci: maybe(vlanTciArb),
    tun_id: maybe(entryArb(64)),
    tun_src: maybe(entryArb(32), 4),
    tun_dst: maybe(entryArb(32), 4),
    pkt_mark: maybe(entryArb(32), 4),
    metadata: maybe(entryArb(64)),
    regs: fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), entryArb(32)), { maxLength: 3 }),
    // Conntrack: ct_state lives in 8 bits (always written masked), ct_zone takes no mask. Rare, so
    // that most flows stay within the byte printer's direct path (format-flow-stats-bytes.test.ts).
    ct_state: maybe(entryArb(8), 20),
    ct_zone: maybe(entryArb(16, false), 20),
    ct_mark: maybe(entryArb(32), 20),
    ct_label: maybe(entryArb(128), 20),
  })
  .map((r) => [
    ['in_port', r.in_port], ['conj_id', r.conj_id], ['dl_src', r.dl_src], ['dl_dst', r.dl_dst],
    ['vlan_tci', r.vlan_tci], ['tun_id', r.tun_id], ['tun_src', r.tun_src], ['tun_dst', r.tun_dst],
    ['pkt_mark', r.pkt_mark], ['metadata', r.metadata],
    ['ct_state', r.ct_state], ['ct_zone', r.ct_zone], ['ct_mark', r.ct_mark], ['ct_label', r.ct_label],
    ...r.regs.map(([i, e]) => [`reg${i}` as Slot, e] as const),
  ] as const);

/** Fields after eth_type: a protocol stack and only the fields the encoder writes for it. */
const l3Entries: fc.Arbitrary<Entries> = fc
  .constantFrom<L3>('none', 'ipv4', 'ipv6', 'arp', 'rarp')
  .chain((l3): fc.Arbitrary<Entries> => {
    switch (l3) {
      case 'none':
        // Any eth_type (or none): with no L3 fields it is canonical whatever its value.
        return maybe(uintBits(16)).map((t) => [['dl_type', t === undefined ? undefined : exact(16, t)]]);
      case 'arp':
      case 'rarp':
        return fc
          .record({
            op: maybe(fc.bigInt({ min: 0n, max: 0xffn }), 1), // arp_op is kept in the 8-bit nw_proto slot
            spa: maybe(entryArb(32), 1),
            tpa: maybe(entryArb(32), 1),
            sha: maybe(entryArb(48), 1),
            tha: maybe(entryArb(48), 1),
          })
          .map((r) => [
            ['dl_type', exact(16, l3 === 'arp' ? 0x0806n : 0x8035n)],
            ['nw_proto', r.op === undefined ? undefined : exact(8, r.op)],
            ['nw_src', r.spa], ['nw_dst', r.tpa], ['arp_sha', r.sha], ['arp_tha', r.tha],
          ]);
      case 'ipv4':
      case 'ipv6':
        return fc
          .record({
            src: maybe(entryArb(l3 === 'ipv4' ? 32 : 128), 1),
            dst: maybe(entryArb(l3 === 'ipv4' ? 32 : 128), 1),
            label: maybe(ipv6LabelArb),
            tos: maybe(nwTosArb),
            ttl: maybe(entryArb(8, false)),
            l4: fc.constantFrom<L4>('none', 'tcp', 'udp', 'sctp', 'icmp', 'other'),
          })
          .chain((r) => l4Entries(l3, r.l4).map((l4): Entries => [
            ['dl_type', exact(16, l3 === 'ipv4' ? 0x0800n : 0x86ddn)],
            [l3 === 'ipv4' ? 'nw_src' : 'ipv6_src', r.src],
            [l3 === 'ipv4' ? 'nw_dst' : 'ipv6_dst', r.dst],
            ['ipv6_label', l3 === 'ipv6' ? r.label : undefined],
            ['nw_tos', r.tos], ['nw_ttl', r.ttl],
            ...l4,
          ]));
    }
  });

const KNOWN_PROTOS = new Set([1n, 6n, 17n, 58n, 132n]);

function l4Entries(l3: 'ipv4' | 'ipv6', l4: L4): fc.Arbitrary<Entries> {
  const proto = (p: bigint): readonly [Slot, MatchEntry] => ['nw_proto', exact(8, p)];
  switch (l4) {
    case 'none':
      return fc.constant([]);
    case 'other':
      return fc.bigInt({ min: 0n, max: 0xffn }).filter((p) => !KNOWN_PROTOS.has(p)).map((p) => [proto(p)]);
    case 'tcp':
    case 'udp':
    case 'sctp':
      // tcp_flags: 12 flag bits in a 16-bit slot (an exact match keeps the whole slot's mask); OVS
      // refuses a value beyond the 12 bits (OFPBMC_BAD_VALUE).
      return fc.tuple(maybe(entryArb(16), 1), maybe(entryArb(16), 1), maybe(entryArb(16), 6).map((e) => e && { value: e.value & 0xfffn, mask: e.mask }))
        .map(([s, d, flags]) => [
        proto(l4 === 'tcp' ? 6n : l4 === 'udp' ? 17n : 132n), ['tp_src', s], ['tp_dst', d], ['tcp_flags', l4 === 'tcp' ? flags : undefined],
      ]);
    case 'icmp':
      if (l3 === 'ipv4') return fc.tuple(maybe(icmpArb, 1), maybe(icmpArb, 1)).map(([t, c]) => [proto(1n), ['tp_src', t], ['tp_dst', c]]);
      // ICMPv6, sometimes a neighbour solicitation/advertisement with nd_target (code absent or 0).
      return fc.oneof(
        fc.tuple(maybe(icmpArb, 1), maybe(icmpArb, 1)).map(([t, c]): Entries => [proto(58n), ['tp_src', t], ['tp_dst', c]]),
        fc.tuple(fc.constantFrom(135n, 136n), fc.boolean(), maybe(entryArb(128), 1)).map(([t, withCode, target]): Entries => [
          proto(58n), ['tp_src', exact(16, t)], ['tp_dst', withCode ? exact(16, 0n) : undefined], ['nd_target', target],
        ]),
      );
  }
}

function toMatch(entries: Entries): Match {
  const m: Match = new Map();
  for (const [slot, e] of entries) {
    if (e === undefined) continue;
    if (e.mask === 0n || (e.value & e.mask) !== e.value || e.mask > allOnes(SLOT_BITS[slot])) {
      throw new Error(`arbitraries: non-canonical entry for ${slot}`);
    }
    m.set(slot, e);
  }
  return m;
}

/** A canonical Match (see the header comment). */
export const matchArb: fc.Arbitrary<Match> = fc
  .tuple(commonEntries, l3Entries)
  .map(([a, b]) => toMatch([...a, ...b]));

/** Experimenter-class OXM TLVs (class 0xffff) that no field row claims (ONF's tcp_flags is one), which the decoder keeps raw. */
export const unknownOxmArb: fc.Arbitrary<UnknownOxm> = fc
  .tuple(fc.integer({ min: 0, max: 127 }), fc.boolean(), u32, bytes(12, 1))
  .filter(([field, hasMask, experimenter, body]) =>
    fieldByHeader(((0xffff << 16) | (field << 9) | (hasMask ? 0x100 : 0) | body.length) >>> 0, experimenter) === undefined)
  .map(([field, hasMask, experimenter, body]) => {
    const len = 4 + body.length;
    const header = ((0xffff << 16) | (field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0;
    const b = Buffer.alloc(4 + len);
    b.writeUInt32BE(header, 0);
    b.writeUInt32BE(experimenter, 4);
    body.copy(b, 8);
    return { header, bytes: b };
  });

// ---------------------------------------------------------------------------------------------
// Subfields and actions

const withHeader = (f: FieldDef): boolean => (f.nxm ?? f.oxm) !== undefined;
/** A subfield's NX actions carry a 32-bit header: experimenter OXMs (ERSPAN, actset_output…) are for set_field only. */
const withSubfieldHeader = (f: FieldDef): boolean => withHeader(f) && (f.nxm ?? f.oxm)!.experimenter === undefined;
/** Every field a subfield can name (has a 32-bit NXM or OXM header). */
const READABLE_FIELDS: readonly FieldDef[] = FIELDS.filter(withSubfieldHeader);
/** The conntrack fields are written only inside ct(exec(...)) (the decoder refuses them elsewhere, as OVS does). */
const isCtField = (f: FieldDef): boolean => f.slot === 'ct_mark' || f.slot === 'ct_label';
const WRITABLE_FIELDS: readonly FieldDef[] = FIELDS.filter((f) => withSubfieldHeader(f) && f.writable && !isCtField(f));
/** What set_field can write: also the experimenter OXMs. */
const SET_FIELDS: readonly FieldDef[] = FIELDS.filter((f) => withHeader(f) && f.writable && !isCtField(f));
const CT_WRITABLE_FIELDS: readonly FieldDef[] = FIELDS.filter((f) => withHeader(f) && isCtField(f));

function subfieldArb(fields: readonly FieldDef[], maxBits = 64): fc.Arbitrary<Subfield> {
  return fc.constantFrom(...fields).chain((field) =>
    fc.integer({ min: 1, max: Math.min(field.bits, maxBits) }).chain((nBits) =>
      fc.integer({ min: 0, max: field.bits - nBits }).map((ofs): Subfield => ({ field, ofs, nBits }))));
}

/** Two subfields of the same width (reg_move, learn match_field/load_field). */
function subfieldPairArb(srcFields: readonly FieldDef[], dstFields: readonly FieldDef[]): fc.Arbitrary<readonly [Subfield, Subfield]> {
  return fc.tuple(fc.constantFrom(...srcFields), fc.constantFrom(...dstFields)).chain(([sf, df]) =>
    fc.integer({ min: 1, max: Math.min(sf.bits, df.bits) }).chain((nBits) =>
      fc.tuple(fc.integer({ min: 0, max: sf.bits - nBits }), fc.integer({ min: 0, max: df.bits - nBits }))
        .map(([so, dO]) => [{ field: sf, ofs: so, nBits }, { field: df, ofs: dO, nBits }] as const)));
}

const IN_PORT_OXM = fieldByName('in_port_oxm')!;

const VLAN_VID = fieldByName('vlan_vid')!;

// A VID is set with its present bit (OFPVID_PRESENT), which OVS requires.
const setFieldArb: fc.Arbitrary<Action> = fc.constantFrom(...SET_FIELDS).chain((field) =>
  (field === IN_PORT_OXM ? port.map(BigInt) : uintBits(field.bits).map((v) => (field === VLAN_VID ? v | 0x1000n : v)))
    .map((value): Action => ({ type: 'set_field', field, value })));

const learnSpecArb: fc.Arbitrary<LearnSpec> = fc.oneof(
  subfieldPairArb(READABLE_FIELDS, READABLE_FIELDS).map(([src, dst]): LearnSpec => ({ kind: 'match_field', src, dst })),
  subfieldArb(READABLE_FIELDS, 128).chain((dst) => uintBits(dst.nBits).map((value): LearnSpec => ({ kind: 'match_imm', value, dst }))),
  subfieldPairArb(READABLE_FIELDS, WRITABLE_FIELDS).map(([src, dst]): LearnSpec => ({ kind: 'load_field', src, dst })),
  subfieldArb(WRITABLE_FIELDS, 128).chain((dst) => uintBits(dst.nBits).map((value): LearnSpec => ({ kind: 'load_imm', value, dst }))),
  subfieldArb(READABLE_FIELDS, 32).map((src): LearnSpec => ({ kind: 'output', src })),
);

export const learnArb: fc.Arbitrary<Learn> = fc
  .record({
    table: fc.integer({ min: 0, max: 254 }),
    idleTimeout: u16, hardTimeout: u16, priority: u16, cookie: u64,
    flags: fc.constantFrom(0, NX_LEARN_F_SEND_FLOW_REM, NX_LEARN_F_DELETE_LEARNED, NX_LEARN_F_SEND_FLOW_REM | NX_LEARN_F_DELETE_LEARNED),
    writeResult: fc.boolean(),
    finIdleTimeout: u16, finHardTimeout: u16,
    limit: fc.oneof(fc.constant(0), u32),
    resultDst: subfieldArb(WRITABLE_FIELDS, 1),
    specs: fc.array(learnSpecArb, { maxLength: 5 }),
  })
  .map(({ writeResult, resultDst, flags, ...l }): Learn => (writeResult
    ? { ...l, flags: flags | NX_LEARN_F_WRITE_RESULT, resultDst }
    : { ...l, flags }));

/** An experimenter action from a vendor the codec does not know: kept raw. */
const rawActionArb: fc.Arbitrary<Action> = fc
  .tuple(u32.filter((v) => v !== 0x00002320), fc.integer({ min: 0, max: 3 }).chain((n) => bytes(8 * n, 8 * n)))
  .map(([vendor, body]): Action => {
    const b = Buffer.alloc(8 + body.length);
    b.writeUInt16BE(0xffff, 0);
    b.writeUInt16BE(b.length, 2);
    b.writeUInt32BE(vendor, 4);
    body.copy(b, 8);
    return { type: 'raw', bytes: b };
  });

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ port, maxLen: u16 }).map((a): Action => ({ type: 'output', ...a })), weight: 4 },
  fc.record({ groupId: u32 }).map((a): Action => ({ type: 'group', ...a })),
  { arbitrary: setFieldArb, weight: 4 },
  fc.constantFrom(0x8100, 0x88a8).map((ethertype): Action => ({ type: 'push_vlan', ethertype })),
  fc.constant<Action>({ type: 'pop_vlan' }),
  u32.map((queueId): Action => ({ type: 'set_queue', queueId })),
  fc.constant<Action>({ type: 'pop_queue' }),
  fc.constant<Action>({ type: 'dec_ttl' }),
  u8.map((ttl): Action => ({ type: 'set_nw_ttl', ttl })),
  { arbitrary: fc.oneof(
    u16.map((inPort): Action => ({ type: 'resubmit', inPort, table: 255, form: 'port' })),
    fc.tuple(u16, u8, fc.constantFrom('table' as const, 'table_ct' as const))
      .map(([inPort, table, form]): Action => ({ type: 'resubmit', inPort, table, form })),
  ), weight: 2 },
  // No set_tunnel: in OpenFlow 1.3 it is written as set_field tun_id (as OVS does), so it does not
  // come back as itself (test/codecs/action-walk.test.ts holds it to OVS's bytes instead).
  { arbitrary: subfieldArb(WRITABLE_FIELDS, 64).chain((dst) => uintBits(dst.nBits).map((value): Action => ({ type: 'reg_load', dst, value }))), weight: 3 },
  { arbitrary: subfieldPairArb(READABLE_FIELDS, WRITABLE_FIELDS).map(([src, dst]): Action => ({ type: 'reg_move', src, dst })), weight: 2 },
  fc.tuple(subfieldArb(READABLE_FIELDS, 32), u16).map(([src, maxLen]): Action => ({ type: 'output_reg', src, maxLen })),
  { arbitrary: learnArb.map((learn): Action => ({ type: 'learn', learn })), weight: 2 },
  // The note action keeps its padding as data, so only lengths with 10 + len ≡ 0 (mod 8), len ≥ 6, round-trip.
  fc.integer({ min: 0, max: 4 }).chain((k) => bytes(6 + 8 * k, 6 + 8 * k)).map((data): Action => ({ type: 'note', data })),
  fc.integer({ min: 2, max: 64 }).chain((nClauses) => fc.tuple(fc.integer({ min: 0, max: nClauses - 1 }), u32)
    .map(([clause, id]): Action => ({ type: 'conjunction', id, clause, nClauses }))),
  rawActionArb,
  { arbitrary: ctArb(), weight: 2 },
  fc.constant<Action>({ type: 'ct_clear' }),
);

/** A nat as OVS keeps it: a range only with src or dst, bounds 0 (absent) or ordered, ports only with an address. */
function natArb(): fc.Arbitrary<Action> {
  const range = fc.oneof(
    fc.constant({ af: 'none' as const, addrMin: 0n, addrMax: 0n, portMin: 0, portMax: 0 }),
    fc.tuple(fc.constantFrom('ipv4' as const, 'ipv6' as const), fc.bigInt({ min: 1n, max: (1n << 32n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 20n }),
      fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.boolean())
      .map(([af, lo, span, p1, p2, withMax]) => {
        const addrMin = af === 'ipv6' ? lo << 96n : lo;
        const max = af === 'ipv6' ? addrMin + span : lo + span > 0xffffffffn ? 0xffffffffn : lo + span;
        // A port range needs a first port; both ports absent (0) are fine.
        const [portMin, portMax] = p1 === 0 ? [0, 0] : [Math.min(p1, p2 || p1), p2 === 0 ? 0 : Math.max(p1, p2)];
        return { af, addrMin, addrMax: withMax ? max : 0n, portMin, portMax };
      }),
  );
  return fc.tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 4), fc.constantFrom(0, 8, 16), range)
    .map(([dir, persistent, proto, r]): Action => (dir === 0
      ? { type: 'nat', flags: 0, af: 'none', addrMin: 0n, addrMax: 0n, portMin: 0, portMax: 0 }
      : { type: 'nat', flags: dir | persistent | proto, ...r }));
}

/** A ct action: without commit only a bare nat may be nested (as OVS's decoder requires); with it, a nat and ct field writes. */
function ctArb(): fc.Arbitrary<Action> {
  const ctWrite: fc.Arbitrary<Action> = fc.oneof(
    fc.constantFrom(...CT_WRITABLE_FIELDS).chain((field) => uintBits(field.bits).map((value): Action => ({ type: 'set_field', field, value }))),
    subfieldArb(CT_WRITABLE_FIELDS, 64).chain((dst) => uintBits(dst.nBits).map((value): Action => ({ type: 'reg_load', dst, value }))),
    subfieldPairArb(READABLE_FIELDS, CT_WRITABLE_FIELDS).map(([src, dst]): Action => ({ type: 'reg_move', src, dst })),
  );
  const zone = fc.oneof(
    u16.map((zoneImm) => ({ zoneImm })),
    fc.constantFrom(...READABLE_FIELDS.filter((f) => f.bits >= 16)).chain((field) =>
      fc.integer({ min: 0, max: field.bits - 16 }).map((ofs) => ({ zoneImm: 0, zoneSrc: { field, ofs, nBits: 16 } }))),
  );
  return fc.tuple(fc.constantFrom(0, 1, 3), zone, u8, fc.constantFrom(0, 21, 69, 1234), natArb(), fc.array(ctWrite, { maxLength: 3 }), fc.boolean())
    .map(([flags, z, table, alg, nat, writes, withNat]): Action => {
      const bareNat = nat.type === 'nat' && nat.flags === 0;
      const actions = flags & 1 ? [...(withNat ? [nat] : []), ...writes] : withNat && bareNat ? [nat] : [];
      return { type: 'ct', flags, ...z, table, alg, actions };
    });
}

const actionsArb = (maxLength = 4): fc.Arbitrary<Action[]> => fc.array(actionArb, { maxLength });

export const instructionsArb: fc.Arbitrary<Instructions> = fc
  .record({
    meter: maybe(u32),
    apply: actionsArb(4),
    clear: fc.boolean(),
    // An empty write_actions is not written back, as OVS does not (tested on its own).
    write: maybe(fc.array(actionArb, { minLength: 1, maxLength: 3 })),
    writeMetadata: maybe(fc.record({ value: u64, mask: u64 })),
    gotoTable: maybe(fc.integer({ min: 0, max: 254 })),
  })
  .map((r): Instructions => ({
    apply: r.apply,
    ...(r.meter !== undefined ? { meter: r.meter } : {}),
    ...(r.clear ? { clear: true } : {}),
    ...(r.write !== undefined ? { write: r.write } : {}),
    ...(r.writeMetadata !== undefined ? { writeMetadata: r.writeMetadata } : {}),
    ...(r.gotoTable !== undefined ? { gotoTable: r.gotoTable } : {}),
  }));

// ---------------------------------------------------------------------------------------------
// Messages

const unknownOxmsArb: fc.Arbitrary<readonly UnknownOxm[] | undefined> = maybe(fc.array(unknownOxmArb, { minLength: 1, maxLength: 2 }), 4);

export const flowModArb: fc.Arbitrary<MessageOf<'flow_mod'>> = fc
  .record({
    xid, command: fc.constantFrom<FlowModCommand>(0, 1, 2, 3, 4), cookie: u64, cookieMask: u64,
    table: u8, idleTimeout: u16, hardTimeout: u16, priority: u16, bufferId: fc.oneof(fc.constant(0xffffffff), u32),
    outPort: port, outGroup: fc.oneof(fc.constant(0xffffffff), u32), flags: fc.integer({ min: 0, max: 31 }),
    importance: u16, match: matchArb, unknownOxm: unknownOxmsArb, instructions: instructionsArb,
  })
  .map(({ unknownOxm, ...r }): MessageOf<'flow_mod'> => ({
    type: 'flow_mod', ...r, instructions: allowedBy(r.match, r.instructions), ...(unknownOxm ? { unknownOxm } : {}),
  }));

/** Whether OVS accepts these instructions with this match (checkFlowActions(), held to ofp-print by flow-mod-check.test.ts). */
function accepted(match: Match, ins: Instructions): boolean {
  try {
    checkFlowActions(match, ins, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The instructions less what OVS would refuse beside this match (a FLOW_MOD OVS refuses at decode
 * is no round trip): actions whose prerequisites the match lacks, conjunctions beside other
 * actions or instructions; the whole list when what is left still does not pass.
 */
function allowedBy(match: Match, ins: Instructions): Instructions {
  if (accepted(match, ins)) return ins;
  const keep = (list: readonly Action[], write: boolean): Action[] =>
    list.filter((a) => a.type !== 'conjunction' && accepted(match, write ? { apply: [], write: [a] } : { apply: [a] }));
  const { write, ...rest } = ins;
  const kept = write ? keep(write, true) : [];
  const fewer: Instructions = { ...rest, apply: keep(ins.apply, false), ...(kept.length ? { write: kept } : {}) };
  return accepted(match, fewer) ? fewer : { ...rest, apply: [] };
}

const flowStatsArb: fc.Arbitrary<FlowStats> = fc
  .record({
    table: u8, durationSec: u32, durationNsec: fc.integer({ min: 0, max: 999_999_999 }), priority: u16,
    idleTimeout: u16, hardTimeout: u16, flags: fc.integer({ min: 0, max: 31 }), cookie: u64,
    packetCount: u64, byteCount: u64, match: matchArb, unknownOxm: unknownOxmsArb, instructions: instructionsArb,
  })
  // OpenFlow 1.3's ofp_flow_stats has no importance field (it is padding): always 0 after decoding.
  .map(({ unknownOxm, ...r }): FlowStats => ({ ...r, importance: 0, ...(unknownOxm ? { unknownOxm } : {}) }));

const portNameChar = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 9 },
  { arbitrary: fc.integer({ min: 0xa0, max: 0xff }), weight: 1 },
);

const portDescArb: fc.Arbitrary<PortDesc> = fc.record({
  portNo: port,
  hwAddr: uintBits(48),
  name: fc.array(portNameChar, { maxLength: 15 }).map((cs) => String.fromCharCode(...cs)),
  config: u32, state: u32, curr: u32, advertised: u32, supported: u32, peer: u32, currSpeed: u32, maxSpeed: u32,
});

const flowStatsRequestArb: fc.Arbitrary<FlowStatsRequest> = fc.record({
  table: u8, outPort: port, outGroup: u32, cookie: u64, cookieMask: u64, match: matchArb, unknownOxm: unknownOxmsArb,
}).map(({ unknownOxm, ...r }): FlowStatsRequest => ({ ...r, ...(unknownOxm ? { unknownOxm } : {}) }));

// OpenFlow 1.3 message types the decoder gives a typed form (others decode as 'unknown').
const HANDLED_OF13_TYPES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);

/** The only multiparts kept raw: the experimenter ones OVS reads in OpenFlow 1.3 (NXST_IPFIX_BRIDGE/FLOW). */
const experimenterMultipartBody: fc.Arbitrary<Buffer> = fc.tuple(fc.constantFrom(3, 4), bytes(24)).map(([subtype, rest]) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(0x2320, 0);
  head.writeUInt32BE(subtype, 4);
  return Buffer.concat([head, rest]);
});

const flowMonitorRequestArb: fc.Arbitrary<FlowMonitorRequest> = fc.record({
  id: u32,
  // At least one of add/delete/modify, and no bit beyond own: OVS refuses the others.
  flags: fc.integer({ min: 0, max: 0x3f }).filter((f) => (f & 0xe) !== 0),
  outPort: port, table: u8, match: matchArb,
});

const flowUpdateArb: fc.Arbitrary<FlowUpdate> = fc.oneof(
  fc.record({
    event: fc.constantFrom<0 | 1 | 2>(0, 1, 2), reason: u16, priority: u16, idleTimeout: u16, hardTimeout: u16, table: u8,
    cookie: u64, match: matchArb, instructions: instructionsArb,
  }),
  fc.record({ event: fc.constant<3>(3), xid: u32 }),
);

const statsArbs = statsMessageArbs({
  xid, u8, u16, u32, u64, port, mac: uintBits(48), actions: actionsArb(3), flowStatsRequest: flowStatsRequestArb,
});

/** An experimenter message the codec keeps raw (it decodes the subtypes it knows to their own types). */
const keptRaw = (m: OfMessage): boolean => {
  const r = decodeMessage(encodeMessage(m));
  return r.ok && r.msg.type === 'experimenter';
};

const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
/** Drops the members left undefined (the decoder leaves an absent property out). */
const defined = <T extends object>(r: T): T => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as T;

const continuationArb: fc.Arbitrary<Continuation> = fc.record({
  bridge: opt(bytes(16, 16)), stack: fc.array(bytes(16), { maxLength: 3 }), mirrors: opt(u32), conntracked: fc.boolean(),
  actions: fc.array(fc.record({ table: u8, cookie: u64, actions: actionsArb(2) }), { maxLength: 3 }),
  actionSet: opt(actionsArb(2)), odpPort: opt(u32),
}).map(defined);

/** NXT_PACKET_IN2 / NXT_RESUME: a packet, the properties OVS reads (a full length not below the packet's). */
const packetIn2Arb = <T extends 'packet_in2' | 'resume'>(type: T): fc.Arbitrary<PacketIn2 & { readonly type: T; readonly xid: number }> => fc.record({
  xid, packet: bytes(64, 1), fullLen: opt(fc.integer({ min: 64, max: 0xffffffff })), bufferId: opt(u32), table: opt(u8), cookie: opt(u64),
  reason: opt(u8), match: matchArb, unknownOxm: unknownOxmsArb, userdata: opt(bytes(16)), continuation: opt(continuationArb),
}).map((r) => ({ ...defined(r), type }));

/** The message of one type (role_request/role_reply share a union member, so not MessageOf). */
export type MessageFor<T extends OfMessage['type']> = OfMessage & { readonly type: T };
export type MessageArbs = { readonly [T in OfMessage['type']]: fc.Arbitrary<MessageFor<T>> };

export const messageArbs: MessageArbs = {
  hello: fc.record({
    xid,
    // The encoder writes a single 32-bit bitmap word, so versions stay below 32 (OVS knows 1..6).
    versions: fc.uniqueArray(fc.integer({ min: 1, max: 31 }), { maxLength: 6 }).map((v) => [...v].sort((a, b) => a - b)),
  }).map((r) => ({ type: 'hello' as const, ...r })),
  // Errors OVS names (it refuses the others).
  error: fc.record({ xid, e: fc.constantFrom(...KNOWN_ERRORS), data: bytes(64) })
    .map(({ e, ...r }) => ({ type: 'error' as const, ...e, ...r })),
  echo_request: fc.record({ xid, data: bytes(64) }).map((r) => ({ type: 'echo_request' as const, ...r })),
  echo_reply: fc.record({ xid, data: bytes(64) }).map((r) => ({ type: 'echo_reply' as const, ...r })),
  // OVS's vendors (it refuses the others), subtypes the codec keeps raw.
  experimenter: fc.record({ xid, experimenter: fc.constantFrom(0x2320, ONF_EXPERIMENTER), expType: u32, data: bytes(32) })
    .filter((r) => r.experimenter !== ONF_EXPERIMENTER || (r.expType !== ONFT_BUNDLE_CONTROL && r.expType !== ONFT_BUNDLE_ADD_MESSAGE))
    .filter((r) => keptRaw({ type: 'experimenter', ...r }))
    .map((r) => ({ type: 'experimenter' as const, ...r })),
  features_request: xid.map((x) => ({ type: 'features_request' as const, xid: x })),
  features_reply: fc.record({ xid, datapathId: u64, nBuffers: u32, nTables: u8, auxiliaryId: u8, capabilities: u32 })
    .map((r) => ({ type: 'features_reply' as const, ...r })),
  get_config_request: xid.map((x) => ({ type: 'get_config_request' as const, xid: x })),
  get_config_reply: fc.record({ xid, flags: u16, missSendLen: u16 }).map((r) => ({ type: 'get_config_reply' as const, ...r })),
  set_config: fc.record({ xid, flags: u16, missSendLen: u16 }).map((r) => ({ type: 'set_config' as const, ...r })),
  packet_in2: packetIn2Arb('packet_in2'),
  resume: packetIn2Arb('resume'),
  packet_in: fc.record({
    xid, bufferId: u32, totalLen: u16, reason: u8, table: u8, cookie: u64, match: matchArb, unknownOxm: unknownOxmsArb, data: bytes(64),
  }).map(({ unknownOxm, ...r }) => ({ type: 'packet_in' as const, ...r, ...(unknownOxm ? { unknownOxm } : {}) })),
  flow_removed: fc.record({
    xid, cookie: u64, priority: u16, reason: u8, table: u8, durationSec: u32, durationNsec: u32, idleTimeout: u16,
    hardTimeout: u16, packetCount: u64, byteCount: u64, match: matchArb, unknownOxm: unknownOxmsArb,
  }).map(({ unknownOxm, ...r }) => ({ type: 'flow_removed' as const, ...r, ...(unknownOxm ? { unknownOxm } : {}) })),
  port_status: fc.record({ xid, reason: fc.integer({ min: 0, max: 2 }), port: portDescArb })
    .map((r) => ({ type: 'port_status' as const, ...r })),
  packet_out: fc.record({ xid, bufferId: fc.oneof(fc.constant(0xffffffff), u32), inPort: port, actions: actionsArb(4), data: bytes(64) })
    .map((r) => ({ type: 'packet_out' as const, ...r })),
  flow_mod: flowModArb,
  flow_stats_request: fc.record({ xid, flags: u16, request: flowStatsRequestArb })
    .map((r) => ({ type: 'flow_stats_request' as const, ...r })),
  flow_stats_reply: fc.record({ xid, flags: fc.constantFrom(0, 1), flows: fc.array(flowStatsArb, { maxLength: 4 }) })
    .map((r) => ({ type: 'flow_stats_reply' as const, ...r })),
  port_desc_request: fc.record({ xid, flags: u16 }).map((r) => ({ type: 'port_desc_request' as const, ...r })),
  port_desc_reply: fc.record({ xid, flags: fc.constantFrom(0, 1), ports: fc.array(portDescArb, { maxLength: 4 }) })
    .map((r) => ({ type: 'port_desc_reply' as const, ...r })),
  multipart_request: fc.record({ xid, flags: u16, body: experimenterMultipartBody })
    .map((r) => ({ type: 'multipart_request' as const, mpType: 0xffff, ...r })),
  multipart_reply: fc.record({ xid, flags: u16, body: experimenterMultipartBody })
    .map((r) => ({ type: 'multipart_reply' as const, mpType: 0xffff, ...r })),
  barrier_request: xid.map((x) => ({ type: 'barrier_request' as const, xid: x })),
  barrier_reply: xid.map((x) => ({ type: 'barrier_reply' as const, xid: x })),
  role_request: fc.record({ xid, role: fc.integer({ min: 0, max: 3 }), generationId: u64 })
    .map((r) => ({ type: 'role_request' as const, ...r })),
  role_reply: fc.record({ xid, role: fc.integer({ min: 0, max: 3 }), generationId: u64 })
    .map((r) => ({ type: 'role_reply' as const, ...r })),
  bundle_control: fc.record({ xid, bundleId: u32, ctrlType: fc.integer({ min: 0, max: 7 }), flags: fc.integer({ min: 0, max: 3 }), properties: bytes(16) })
    .map((r) => ({ type: 'bundle_control' as const, ...r })),
  // The encoder gives the inner message the outer xid, as OVS requires.
  bundle_add: fc.record({ xid, bundleId: u32, flags: fc.integer({ min: 0, max: 3 }), message: flowModArb })
    .map((r) => ({ type: 'bundle_add' as const, ...r, message: { ...r.message, xid: r.xid } })),
  role_status: fc.record({ xid, role: fc.integer({ min: 0, max: 3 }), reason: u8, generationId: u64 })
    .map((r) => ({ type: 'role_status' as const, ...r })),
  set_controller_id: fc.record({ xid, controllerId: u16 }).map((r) => ({ type: 'set_controller_id' as const, ...r })),
  flow_monitor_cancel: fc.record({ xid, id: u32 }).map((r) => ({ type: 'flow_monitor_cancel' as const, ...r })),
  flow_monitor_paused: xid.map((x) => ({ type: 'flow_monitor_paused' as const, xid: x })),
  flow_monitor_resumed: xid.map((x) => ({ type: 'flow_monitor_resumed' as const, xid: x })),
  set_async_config2: fc.record({
    xid, props: fc.array(fc.record({ propType: fc.integer({ min: 0, max: 11 }), mask: u32 }), { maxLength: 12 }),
  }).map((r) => ({ type: 'set_async_config2' as const, ...r })),
  unknown: fc.oneof(
    fc.record({ version: u8.filter((v) => v !== 4), ofType: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ version: fc.constant(4), ofType: fc.integer({ min: 1, max: 255 }).filter((t) => !HANDLED_OF13_TYPES.has(t)) }),
  ).chain((vt) => fc.record({ xid, body: bytes(32) }).map((r) => ({ type: 'unknown' as const, ...vt, ...r }))),
  // Mods OVS accepts on their own (it checks a forwarded one the same way).
  requestforward: fc.record({
    xid, forwarded: fc.oneof(statsArbs.group_mod, statsArbs.meter_mod).filter((f) => decodeMessage(encodeMessage(f)).ok),
  })
    .map((r) => ({ type: 'requestforward' as const, ...r })),
  flow_monitor_request: fc.record({ xid, flags: fc.constantFrom(0, 1), monitors: fc.array(flowMonitorRequestArb, { maxLength: 3 }) })
    .map((r) => ({ type: 'flow_monitor_request' as const, ...r })),
  flow_monitor_reply: fc.record({ xid, flags: fc.constantFrom(0, 1), updates: fc.array(flowUpdateArb, { maxLength: 3 }) })
    .map((r) => ({ type: 'flow_monitor_reply' as const, ...r })),
  ...statsArbs,
};

/** Any message, weighted towards the structurally rich ones. */
export const messageArb: fc.Arbitrary<OfMessage> = fc.oneof(
  ...(Object.keys(messageArbs) as Array<OfMessage['type']>).map((t): fc.WeightedArbitrary<OfMessage> => ({
    arbitrary: messageArbs[t] as fc.Arbitrary<OfMessage>,
    weight: t === 'flow_mod' ? 8 : t === 'flow_stats_reply' || t === 'packet_out' || t === 'bundle_add' ? 3 : 1,
  })),
);
