// fast-check arbitraries for the messages of codecs/openflow/stats.ts, in the canonical forms the
// decoder gives back (valid group mods, 16-byte meter bands, strings without NULs). Built from the
// general arbitraries that testing/arbitraries.ts passes in (so neither file imports the other).
import fc from 'fast-check';
import { mfFields } from '../codecs/openflow/mf-fields.js';
import type { Action } from '../codecs/actions/index.js';
import type { FlowStatsRequest } from '../codecs/openflow/messages.js';
import {
  Bucket, MeterBand, MeterConfig, OFPG_ANY, OFPGT_ALL, OFPGT_FF, OFPGT_INDIRECT, OFPGT_SELECT, OFPMBT_DROP, OFPMBT_DSCP_REMARK,
  OFPP_ANY, OFPQT_MAX_RATE, OFPQT_MIN_RATE, StatsMessage, StatsMessageType,
} from '../codecs/openflow/stats.js';
import type { TableFeatureProperty } from '../codecs/openflow/table-features.js';

export interface StatsArbDeps {
  readonly xid: fc.Arbitrary<number>;
  readonly u8: fc.Arbitrary<number>;
  readonly u16: fc.Arbitrary<number>;
  readonly u32: fc.Arbitrary<number>;
  readonly u64: fc.Arbitrary<bigint>;
  readonly port: fc.Arbitrary<number>;
  readonly mac: fc.Arbitrary<bigint>;
  readonly actions: fc.Arbitrary<Action[]>;
  readonly flowStatsRequest: fc.Arbitrary<FlowStatsRequest>;
}

export type StatsMessageArbs = {
  readonly [T in StatsMessageType]: fc.Arbitrary<StatsMessage & { readonly type: T; readonly xid: number }>;
};

export function statsMessageArbs(d: StatsArbDeps): StatsMessageArbs {
  const { xid, u8, u16, u32, u64, port } = d;
  const flags = u16;
  const text = (max: number): fc.Arbitrary<string> =>
    fc.array(fc.integer({ min: 0x20, max: 0xff }), { maxLength: max }).map((cs) => String.fromCharCode(...cs).trimEnd() || 'x');
  const watchPort = fc.oneof(fc.constant(OFPP_ANY), port);
  const watchGroup = fc.oneof(fc.constant(OFPG_ANY), fc.integer({ min: 0, max: 0xffffff00 }));
  /** Buckets OVS accepts in a group of this type (ofputil_check_group_mod). */
  const buckets = (type: number, min: number, max: number): fc.Arbitrary<Bucket[]> => {
    const bucket: fc.Arbitrary<Bucket> = type === OFPGT_SELECT
      ? fc.record({ weight: u16, watchPort, watchGroup, actions: d.actions })
      : type === OFPGT_FF
        ? fc.record({ weight: fc.constant(0), watchPort: port, watchGroup, actions: d.actions })
        : fc.record({ weight: fc.constant(0), watchPort: fc.constant(OFPP_ANY), watchGroup: fc.constant(OFPG_ANY), actions: d.actions });
    return fc.array(bucket, { minLength: min, maxLength: max });
  };
  const groupMod = fc.tuple(fc.constantFrom(0, 1, 2, 0x8000), fc.constantFrom(OFPGT_ALL, OFPGT_SELECT, OFPGT_INDIRECT, OFPGT_FF))
    .chain(([command, groupType]) => fc.record({
      xid, groupId: u32,
      buckets: command === 2 ? fc.constant([]) : groupType === OFPGT_INDIRECT ? buckets(groupType, 1, 1) : buckets(groupType, 0, 3),
    }).map((r) => ({ type: 'group_mod' as const, command, groupType, ...r })));
  const band: fc.Arbitrary<MeterBand> = fc.oneof(
    fc.record({ type: fc.constant(OFPMBT_DROP), rate: u32, burstSize: u32 }),
    fc.record({ type: fc.constant(OFPMBT_DSCP_REMARK), rate: u32, burstSize: u32, precLevel: u8 }),
  );
  const meterFlags = u16.filter((f) => (f & 3) !== 3);
  const meterConfig: fc.Arbitrary<MeterConfig> = fc.record({ flags: meterFlags, meterId: u32, bands: fc.array(band, { maxLength: 3 }) });
  const counters = fc.record({ packetCount: u64, byteCount: u64 });
  const nsec = fc.integer({ min: 0, max: 999_999_999 });
  const pair = fc.tuple(u32, u32);
  // Rates in tenths of a percent, "disabled" above 1000, absent at 0xffff; other properties skipped by OVS.
  const rate = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1001, max: 0xffff }), fc.constant(0xffff));
  const queueProperty = fc.oneof(
    fc.record({ property: fc.constantFrom(OFPQT_MIN_RATE, OFPQT_MAX_RATE), rate }).map(({ property, rate: r }) => {
      const data = Buffer.alloc(8);
      data.writeUInt16BE(r);
      return { property, data };
    }),
    fc.record({ property: fc.constantFrom(3, 0xffff), data: fc.uint8Array({ maxLength: 2 }).map((a) => Buffer.alloc(a.length * 8, a[0] ?? 0)) }),
  );
  const packetQueue = fc.record({ queueId: u32, port: u32, properties: fc.array(queueProperty, { maxLength: 3 }) });
  const empty = <T extends 'desc_request' | 'table_stats_request' | 'group_desc_request' | 'group_features_request' | 'meter_features_request'>(
    type: T,
  ) => fc.record({ xid, flags }).map((r) => ({ type, ...r }));
  return {
    group_mod: groupMod,
    meter_mod: fc.record({ xid, command: fc.constantFrom(0, 1), config: meterConfig })
      .map(({ config, ...r }) => ({ type: 'meter_mod' as const, ...r, ...config })),
    table_mod: fc.record({ xid, table: u8, config: u32 }).map((r) => ({ type: 'table_mod' as const, ...r })),
    port_mod: fc.record({ xid, portNo: port, hwAddr: d.mac, config: u32, mask: u32, advertise: u32 })
      .map((r) => ({ type: 'port_mod' as const, ...r })),
    queue_get_config_request: fc.record({ xid, portNo: port }).map((r) => ({ type: 'queue_get_config_request' as const, ...r })),
    queue_get_config_reply: fc.record({ xid, portNo: port, queues: fc.array(packetQueue, { maxLength: 4 }) })
      .map((r) => ({ type: 'queue_get_config_reply' as const, ...r })),
    get_async_request: xid.map((x) => ({ type: 'get_async_request' as const, xid: x })),
    get_async_reply: fc.record({ xid, config: fc.record({ packetIn: pair, portStatus: pair, flowRemoved: pair }) })
      .map((r) => ({ type: 'get_async_reply' as const, ...r })),
    set_async: fc.record({ xid, config: fc.record({ packetIn: pair, portStatus: pair, flowRemoved: pair }) })
      .map((r) => ({ type: 'set_async' as const, ...r })),
    desc_request: empty('desc_request'),
    desc_reply: fc.record({ xid, flags, desc: fc.record({ mfr: text(40), hw: text(40), sw: text(40), serial: text(31), dp: text(40) }) })
      .map((r) => ({ type: 'desc_reply' as const, ...r })),
    aggregate_request: fc.record({ xid, flags, request: d.flowStatsRequest }).map((r) => ({ type: 'aggregate_request' as const, ...r })),
    aggregate_reply: fc.record({ xid, flags, packetCount: u64, byteCount: u64, flowCount: u32 })
      .map((r) => ({ type: 'aggregate_reply' as const, ...r })),
    table_stats_request: empty('table_stats_request'),
    table_stats_reply: fc.record({
      xid, flags, tables: fc.array(fc.record({ table: u8, activeCount: u32, lookupCount: u64, matchedCount: u64 }), { maxLength: 4 }),
    }).map((r) => ({ type: 'table_stats_reply' as const, ...r })),
    port_stats_request: fc.record({ xid, flags, portNo: port }).map((r) => ({ type: 'port_stats_request' as const, ...r })),
    port_stats_reply: fc.record({
      xid, flags,
      ports: fc.array(fc.record({
        portNo: port, rxPackets: u64, txPackets: u64, rxBytes: u64, txBytes: u64, rxDropped: u64, txDropped: u64, rxErrors: u64,
        txErrors: u64, rxFrameErr: u64, rxOverErr: u64, rxCrcErr: u64, collisions: u64, durationSec: u32, durationNsec: nsec,
      }), { maxLength: 3 }),
    }).map((r) => ({ type: 'port_stats_reply' as const, ...r })),
    queue_stats_request: fc.record({ xid, flags, portNo: port, queueId: u32 }).map((r) => ({ type: 'queue_stats_request' as const, ...r })),
    queue_stats_reply: fc.record({
      xid, flags,
      queues: fc.array(fc.record({
        portNo: port, queueId: u32, txBytes: u64, txPackets: u64, txErrors: u64, durationSec: u32, durationNsec: nsec,
      }), { maxLength: 3 }),
    }).map((r) => ({ type: 'queue_stats_reply' as const, ...r })),
    group_stats_request: fc.record({ xid, flags, groupId: u32 }).map((r) => ({ type: 'group_stats_request' as const, ...r })),
    group_stats_reply: fc.record({
      xid, flags,
      groups: fc.array(fc.record({
        groupId: u32, refCount: u32, packetCount: u64, byteCount: u64, durationSec: u32, durationNsec: nsec,
        buckets: fc.array(counters, { maxLength: 3 }),
      }), { maxLength: 3 }),
    }).map((r) => ({ type: 'group_stats_reply' as const, ...r })),
    group_desc_request: empty('group_desc_request'),
    group_desc_reply: fc.record({
      xid, flags,
      groups: fc.array(fc.constantFrom(OFPGT_ALL, OFPGT_SELECT, OFPGT_INDIRECT, OFPGT_FF)
        .chain((groupType) => fc.record({ groupId: u32, buckets: buckets(groupType, 0, 2) }).map((g) => ({ groupType, ...g }))), { maxLength: 3 }),
    }).map((r) => ({ type: 'group_desc_reply' as const, ...r })),
    group_features_request: empty('group_features_request'),
    group_features_reply: fc.record({
      xid, flags,
      features: fc.record({ types: u32, capabilities: u32, maxGroups: fc.array(u32, { minLength: 4, maxLength: 4 }), actions: fc.array(u32, { minLength: 4, maxLength: 4 }) }),
    }).map((r) => ({ type: 'group_features_reply' as const, ...r })),
    meter_stats_request: fc.record({ xid, flags, meterId: u32 }).map((r) => ({ type: 'meter_stats_request' as const, ...r })),
    meter_config_request: fc.record({ xid, flags, meterId: u32 }).map((r) => ({ type: 'meter_config_request' as const, ...r })),
    meter_stats_reply: fc.record({
      xid, flags,
      meters: fc.array(fc.record({
        meterId: u32, flowCount: u32, packetInCount: u64, byteInCount: u64, durationSec: u32, durationNsec: nsec,
        bands: fc.array(counters, { maxLength: 3 }),
      }), { maxLength: 3 }),
    }).map((r) => ({ type: 'meter_stats_reply' as const, ...r })),
    meter_config_reply: fc.record({ xid, flags, meters: fc.array(meterConfig, { maxLength: 3 }) })
      .map((r) => ({ type: 'meter_config_reply' as const, ...r })),
    meter_features_request: empty('meter_features_request'),
    meter_features_reply: fc.record({
      xid, flags, features: fc.record({ maxMeter: u32, bandTypes: u32, capabilities: u32, maxBands: u8, maxColor: u8 }),
    }).map((r) => ({ type: 'meter_features_reply' as const, ...r })),
    table_features_request: tableFeatures('table_features_request', d),
    table_features_reply: tableFeatures('table_features_reply', d),
  };
}

/** Headers of some known fields (mf-fields.ts), some masked, and an unknown one OVS skips. */
function oxmList(masks: boolean): fc.Arbitrary<Buffer> {
  const header = fc.record({ field: fc.constantFrom(...mfFields()), masked: fc.boolean() })
    .map(({ field, masked }) => {
      const b = Buffer.from(field.headers[field.headers.length - 1]!, 'hex');
      if (masks && masked) {
        const h = b.readUInt32BE(0);
        const exp = b.length > 4 ? 4 : 0;
        b.writeUInt32BE(((h & 0xffffff00) | 0x100 | (((h & 0xff) - exp) * 2 + exp)) >>> 0);
      }
      return b;
    });
  return fc.array(fc.oneof({ weight: 9, arbitrary: header }, { weight: 1, arbitrary: fc.constant(Buffer.from('0001fe04', 'hex')) }), { maxLength: 12 })
    .map((hs) => Buffer.concat(hs));
}

/** Packed 4-byte ids of these types (instruction or action ids). */
const ids = (types: readonly number[]): fc.Arbitrary<Buffer> => fc.subarray([...types])
  .map((ts) => Buffer.concat(ts.map((t) => Buffer.from([t >> 8, t & 0xff, 0, 4]))));

/** Entries OVS accepts: every required property, miss ones or not, next tables, ids and fields. */
function tableFeatures<T extends 'table_features_request' | 'table_features_reply'>(type: T, d: StatsArbDeps) {
  const next = fc.uniqueArray(fc.integer({ min: 0, max: 254 }), { maxLength: 8 }).map((ts) => Buffer.from(ts));
  const instructionSet = fc.tuple(ids([1, 2, 3, 4, 5, 6, 7, 0xffff]), next, ids([0, 11, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]),
    ids([0, 17, 18, 22, 25]), oxmList(false), oxmList(false));
  const toProps = (base: 0 | 1, [i, n, wa, aa, ws, as]: [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer]): TableFeatureProperty[] =>
    [[0, i], [2, n], [4, wa], [6, aa], [12, ws], [14, as]].map(([t, data]) => ({ type: (t as number) + base, data: data as Buffer }));
  const props = fc.tuple(instructionSet, fc.option(instructionSet), oxmList(true), oxmList(false))
    .map(([nonmiss, miss, match, wildcards]) => [...toProps(0, nonmiss), ...(miss ? toProps(1, miss) : []),
      { type: 8, data: match }, { type: 10, data: wildcards }]);
  const table = fc.record({
    name: fc.oneof(fc.constant(''), fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 31 }).map((cs) => String.fromCharCode(...cs))),
    metadataMatch: fc.oneof(fc.constant(0n), d.u64), metadataWrite: fc.oneof(fc.constant(0n), d.u64),
    maxEntries: fc.oneof(fc.constant(0), d.u32), config: d.u32, properties: props,
  });
  // Runs of the same features under consecutive table ids, as switches send them (OVS's "ditto").
  const run = fc.tuple(table, fc.integer({ min: 1, max: 3 }), fc.boolean());
  return fc.record({ xid: d.xid, flags: d.u16, runs: fc.array(run, { minLength: type === 'table_features_reply' ? 1 : 0, maxLength: 3 }), first: fc.integer({ min: 0, max: 200 }) })
    .map(({ xid, flags, runs, first }) => {
      let id = first;
      const tables = runs.flatMap(([t, n, named]) => Array.from({ length: n }, (_, i) => ({
        ...t, table: id++, name: i && !named ? '' : t.name,
      })));
      return { type, xid, flags, tables };
    });
}
