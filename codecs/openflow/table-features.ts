// One ofp_table_features entry of a table features request or reply (OpenFlow 1.3, 7.3.5.5): the
// fixed part typed, each property kept as its type and payload (instructions, next tables, action
// ids, OXM headers, experimenter data), written back as it came.
import { Reader, Writer } from './bytes.js';

export const OFPTFPT_INSTRUCTIONS = 0;
export const OFPTFPT_NEXT_TABLES = 2;
export const OFPTFPT_WRITE_ACTIONS = 4;
export const OFPTFPT_APPLY_ACTIONS = 6;
export const OFPTFPT_MATCH = 8;
export const OFPTFPT_WILDCARDS = 10;
export const OFPTFPT_WRITE_SETFIELD = 12;
export const OFPTFPT_APPLY_SETFIELD = 14;
export const OFPTFPT_EXPERIMENTER = 0xfffe;

export interface TableFeatureProperty {
  /** OFPTFPT_*; a *_MISS type is the non-miss type + 1. */
  readonly type: number;
  /** The payload after the 4-byte property header, without the padding to 8 bytes. */
  readonly data: Buffer;
}

export interface TableFeatures {
  readonly table: number;
  readonly name: string;
  readonly metadataMatch: bigint;
  readonly metadataWrite: bigint;
  readonly config: number;
  readonly maxEntries: number;
  readonly properties: readonly TableFeatureProperty[];
}

const FIXED = 64;

export function encodeTableFeatures(w: Writer, t: TableFeatures): void {
  const start = w.pos;
  w.u16(0).u8(t.table).zeros(5);
  const name = Buffer.alloc(32);
  name.write(t.name, 'latin1');
  w.bytes(name).u64(t.metadataMatch).u64(t.metadataWrite).u32(t.config).u32(t.maxEntries);
  for (const p of t.properties) {
    const at = w.pos;
    w.u16(p.type).u16(4 + p.data.length).bytes(p.data).padTo(8, at);
  }
  w.patch16(start, w.pos - start);
}

/** One entry; r moves past it. Throws DecodeError where OVS refuses it (OFPBPC_BAD_LEN, OFPTFFC_BAD_TABLE). */
export function decodeTableFeatures(r: Reader): TableFeatures {
  const at = r.pos;
  if (r.remaining < FIXED) r.fail(`table features of ${r.remaining} bytes < ${FIXED} (OVS: OFPBPC_BAD_LEN)`);
  const len = r.u16();
  if (len < FIXED || len % 8 || len - 2 > r.remaining) r.fail(`table features length ${len} (OVS: OFPBPC_BAD_LEN)`, at);
  const e = r.sub(len - 2);
  const table = e.u8();
  if (table === 0xff) e.fail('table features for table 255 (OVS: OFPTFFC_BAD_TABLE)', at + 2);
  e.skip(5);
  const name = e.bytes(32).toString('latin1').replace(/\0+$/, '');
  const metadataMatch = e.u64();
  const metadataWrite = e.u64();
  const config = e.u32();
  const maxEntries = e.u32();
  const properties: TableFeatureProperty[] = [];
  while (e.remaining > 0) {
    const pat = e.pos;
    if (e.remaining < 4) e.fail(`table feature property of ${e.remaining} bytes (OVS: OFPBPC_BAD_LEN)`);
    const type = e.u16();
    const plen = e.u16();
    const padded = (plen + 7) & ~7;
    if (plen < 4 || padded - 4 > e.remaining) e.fail(`table feature property length ${plen} (OVS: OFPBPC_BAD_LEN)`, pat);
    const data = Buffer.from(e.bytes(plen - 4));
    const pad = e.bytes(padded - plen);
    // Padding is written back as zeros: other padding would not survive the round trip.
    if (pad.some((x) => x !== 0)) e.fail('table feature property padding is not zero', pat);
    properties.push({ type, data });
  }
  return { table, name, metadataMatch, metadataWrite, config, maxEntries, properties };
}
