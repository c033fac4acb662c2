// One ofp_table_features entry of a table features request or reply (OpenFlow 1.3, 7.3.5.5): the
// fixed part typed, each property kept as its type and payload (instructions, next tables, action
// ids, OXM headers, experimenter data), written back as it came.
import { Reader, Writer } from './bytes.js';
import { refuse } from './errors.js';
import { mfFieldByHeader } from './mf-fields.js';

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
  if (r.remaining < FIXED) refuse(`table features of ${r.remaining} bytes < ${FIXED}`, r.pos, 'OFPBPC_BAD_LEN');
  const len = r.u16();
  if (len < FIXED || len % 8 || len - 2 > r.remaining) refuse(`table features length ${len}`, at, 'OFPBPC_BAD_LEN');
  const e = r.sub(len - 2);
  const table = e.u8();
  if (table === 0xff) refuse('table features for table 255', at + 2, 'OFPTFFC_BAD_TABLE');
  e.skip(5);
  const name = e.bytes(32).toString('latin1').replace(/\0+$/, '');
  const metadataMatch = e.u64();
  const metadataWrite = e.u64();
  const config = e.u32();
  const maxEntries = e.u32();
  const properties: TableFeatureProperty[] = [];
  while (e.remaining > 0) {
    const pat = e.pos;
    if (e.remaining < 4) refuse(`table feature property of ${e.remaining} bytes`, e.pos, 'OFPBPC_BAD_LEN');
    const type = e.u16();
    const plen = e.u16();
    const padded = (plen + 7) & ~7;
    if (plen < 4 || padded - 4 > e.remaining) refuse(`table feature property length ${plen}`, pat, 'OFPBPC_BAD_LEN');
    const data = Buffer.from(e.bytes(plen - 4));
    const pad = e.bytes(padded - plen);
    // Padding is written back as zeros: other padding would not survive the round trip.
    if (pad.some((x) => x !== 0)) e.fail('table feature property padding is not zero', pat);
    properties.push({ type, data });
  }
  const t = { table, name, metadataMatch, metadataWrite, config, maxEntries, properties };
  try {
    featureSets(t);
  } catch (err) {
    if (err instanceof TableFeaturesError) refuse(err.message, at, err.ofpError);
    throw err;
  }
  return t;
}

/** What OVS reads from one instruction set's properties (struct ofputil_table_instruction_features). */
export interface InstructionFeatures {
  /** OVS instruction bits, in its order: meter, apply_actions, clear_actions, write_actions, write_metadata, goto_table. */
  readonly instructions: number;
  /** The tables goto_table may name (index: table id, 0-254). */
  readonly next: readonly boolean[];
  readonly write: ActionFeatures;
  readonly apply: ActionFeatures;
}

export interface ActionFeatures {
  /** OpenFlow 1.3 action types (bit = type) OVS knows; the others are dropped as OVS drops them. */
  readonly actions: number;
  /** Set-field fields, by mf id (mf-fields.ts). */
  readonly setFields: ReadonlySet<number>;
}

/** struct ofputil_table_features's sets, as ofputil_decode_table_features() reads them (loose). */
export interface FeatureSets {
  readonly nonmiss: InstructionFeatures;
  readonly miss: InstructionFeatures;
  readonly match: ReadonlySet<number>;
  readonly mask: ReadonlySet<number>;
  readonly wildcard: ReadonlySet<number>;
}

/** OpenFlow 1.3 instruction types in OVS's instruction order (ovs_instruction_type). */
export const OVS_INSTRUCTION_TYPES: readonly number[] = [6, 4, 5, 3, 2, 1];
/** OpenFlow 1.3 action types OVS maps to an ofpact (ofpact_bitmap_from_openflow). */
export const OF13_ACTION_TYPES: readonly number[] = [0, 22, 25, 18, 17, 23, 24, 15, 16, 19, 20, 21];
const OF13_ACTION_MASK = OF13_ACTION_TYPES.reduce((m, t) => (m | (1 << t)) >>> 0, 0);
/** The properties OpenFlow 1.3 requires in every entry (OFPTFPT13_REQUIRED): every non-miss one. */
const REQUIRED = [OFPTFPT_INSTRUCTIONS, OFPTFPT_NEXT_TABLES, OFPTFPT_WRITE_ACTIONS, OFPTFPT_APPLY_ACTIONS, OFPTFPT_MATCH,
  OFPTFPT_WILDCARDS, OFPTFPT_WRITE_SETFIELD, OFPTFPT_APPLY_SETFIELD];

class BadFeatures extends Error {}

/** An entry OVS refuses: the message names OVS's error. */
export class TableFeaturesError extends Error {
  constructor(message: string, readonly ofpError: string) {
    super(message);
  }
}

/** ofpprop_pull__ over ids packed on byte boundaries (action and instruction ids): their types. */
function idTypes(data: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i < data.length;) {
    if (data.length - i < 4) throw new BadFeatures('OFPBPC_BAD_LEN');
    const len = data.readUInt16BE(i + 2);
    if (len < 4 || len > data.length - i) throw new BadFeatures('OFPBPC_BAD_LEN');
    types.push(data.readUInt16BE(i));
    i += len;
  }
  return types;
}

/**
 * The oxms of property bodies seen lately, by their bytes: a switch repeats the same lists in each
 * of its 254 tables, and each is read twice (checked, then used). The sets are shared: not changed.
 */
const OXMS_SEEN = new Map<string, { readonly exact: ReadonlySet<number>; readonly masked: ReadonlySet<number> }>();

/** parse_oxms(): known fields by mf id, exact and masked apart (unknown headers skipped, as OVS does loosely). */
function oxms(data: Buffer): { readonly exact: ReadonlySet<number>; readonly masked: ReadonlySet<number> } {
  const key = data.toString('latin1');
  let r = OXMS_SEEN.get(key);
  if (!r) {
    r = readOxms(data);
    if (OXMS_SEEN.size >= 64) OXMS_SEEN.clear();
    OXMS_SEEN.set(key, r);
  }
  return r;
}

function readOxms(data: Buffer): { exact: Set<number>; masked: Set<number> } {
  const exact = new Set<number>();
  const masked = new Set<number>();
  for (let i = 0; i < data.length;) {
    if (data.length - i < 4) throw new BadFeatures('OFPBMC_BAD_LEN');
    const header = data.readUInt32BE(i);
    let experimenter: number | undefined;
    if (header >>> 16 === 0xffff) {
      if (data.length - i < 8) throw new BadFeatures('OFPBMC_BAD_LEN');
      if ((header & 0xff) < 4) throw new BadFeatures('OFPBMC_BAD_LEN');
      experimenter = data.readUInt32BE(i + 4);
      i += 8;
    } else {
      i += 4;
    }
    const id = mfFieldByHeader(header, experimenter);
    if (id !== undefined) (header & 0x100 ? masked : exact).add(id);
  }
  return { exact, masked };
}

function exactOnly(data: Buffer): ReadonlySet<number> {
  const { exact, masked } = oxms(data);
  if (masked.size) throw new BadFeatures('OFPBMC_BAD_MASK');
  return exact;
}

/**
 * The sets of one entry as OVS reads them (ofputil_decode_table_features, loose): throws a
 * TableFeaturesError naming OVS's error where OVS refuses the entry. Experimenter and unknown
 * properties are skipped as OVS skips them.
 */
export function featureSets(t: TableFeatures): FeatureSets {
  try {
    return readSets(t);
  } catch (e) {
    if (e instanceof BadFeatures) throw new TableFeaturesError(`table ${t.table} features: ${e.message === 'OFPTFFC_BAD_FEATURES' ? 'a property missing or repeated' : 'a bad property'}`, e.message);
    throw e;
  }
}

const CHECK: ReadonlyArray<(data: Buffer) => unknown> = [
  idTypes, (data) => { if (data.includes(255)) throw new BadFeatures('OFPBPC_BAD_VALUE'); }, idTypes, idTypes, oxms, exactOnly, exactOnly, exactOnly,
];

function readSets(t: TableFeatures): FeatureSets {
  let seen = 0;
  const byType = new Map<number, Buffer>();
  for (const p of t.properties) {
    if (p.type < 32) {
      if (seen & (1 << p.type)) throw new BadFeatures('OFPTFFC_BAD_FEATURES');
      seen |= 1 << p.type;
    }
    // OVS reads each property as it comes: the first bad one names the error.
    if (p.type <= OFPTFPT_APPLY_SETFIELD + 1 && p.type !== OFPTFPT_MATCH + 1 && p.type !== OFPTFPT_WILDCARDS + 1) CHECK[p.type >> 1]!(p.data);
    byType.set(p.type, p.data);
  }
  if (REQUIRED.some((type) => !(seen & (1 << type)))) throw new BadFeatures('OFPTFFC_BAD_FEATURES');
  const actions = (data: Buffer): number =>
    idTypes(data).reduce((m, type) => (type < 32 ? (m | (1 << type)) >>> 0 : m), 0) & OF13_ACTION_MASK;
  const instructionSet = (miss: 0 | 1): InstructionFeatures => {
    // A missing *_MISS property is the non-miss one (OVS copies it).
    const get = (type: number): Buffer => byType.get(type + miss) ?? byType.get(type)!;
    let instructions = 0;
    for (const type of idTypes(get(OFPTFPT_INSTRUCTIONS))) {
      const bit = OVS_INSTRUCTION_TYPES.indexOf(type);
      if (bit >= 0) instructions |= 1 << bit;
    }
    const next: boolean[] = new Array<boolean>(255).fill(false);
    for (const id of get(OFPTFPT_NEXT_TABLES)) {
      if (id === 255) throw new BadFeatures('OFPBPC_BAD_VALUE');
      next[id] = true;
    }
    return {
      instructions, next,
      write: { actions: actions(get(OFPTFPT_WRITE_ACTIONS)), setFields: exactOnly(get(OFPTFPT_WRITE_SETFIELD)) },
      apply: { actions: actions(get(OFPTFPT_APPLY_ACTIONS)), setFields: exactOnly(get(OFPTFPT_APPLY_SETFIELD)) },
    };
  };
  const nonmiss = instructionSet(0);
  const miss = instructionSet(1);
  const { exact, masked } = oxms(byType.get(OFPTFPT_MATCH)!);
  const wildcard = new Set(exactOnly(byType.get(OFPTFPT_WILDCARDS)!));
  // OVS's fix-ups: maskable fields are matchable and wildcardable; only matchable ones are wildcardable.
  const match = new Set([...exact, ...masked]);
  for (const id of masked) wildcard.add(id);
  for (const id of wildcard) if (!match.has(id)) wildcard.delete(id);
  return { nonmiss, miss, match, mask: masked, wildcard };
}
