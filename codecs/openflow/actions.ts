// OpenFlow 1.3 actions and the Nicira extension actions OVS uses, as data. One table (ACTION_CODECS)
// maps each action kind to its wire encoder; one decoder dispatches on type/subtype. The text form
// lives in codecs/ofctl/format-actions.ts and parse-actions.ts, keyed by the same kinds.
import { Reader, Writer } from './bytes.js';
import { allOnes, FieldDef, fieldByHeader, headerValueBytes, of13Header } from './fields.js';
import { decodeLearn, encodeLearn, Learn } from './learn.js';
import { portFromOf11, portToOf11 } from './ports.js';
import { checkSubfield, encodeOfsNbits, readSubfieldHeader, Subfield, subfieldHeader } from './subfield.js';

export type { Subfield };

export const NX_VENDOR = 0x00002320;

export type Action =
  | { readonly type: 'output'; readonly port: number; readonly maxLen: number }
  | { readonly type: 'group'; readonly groupId: number }
  | { readonly type: 'set_field'; readonly field: FieldDef; readonly value: bigint }
  | { readonly type: 'push_vlan'; readonly ethertype: number }
  | { readonly type: 'pop_vlan' }
  | { readonly type: 'set_queue'; readonly queueId: number }
  | { readonly type: 'pop_queue' }
  | { readonly type: 'dec_ttl' }
  | { readonly type: 'set_nw_ttl'; readonly ttl: number }
  | { readonly type: 'resubmit'; readonly inPort: number; readonly table: number; readonly form: 'port' | 'table' }
  | { readonly type: 'set_tunnel'; readonly tunId: bigint; readonly wide: boolean }
  | { readonly type: 'reg_load'; readonly dst: Subfield; readonly value: bigint }
  | { readonly type: 'reg_move'; readonly src: Subfield; readonly dst: Subfield }
  | { readonly type: 'output_reg'; readonly src: Subfield; readonly maxLen: number }
  | { readonly type: 'learn'; readonly learn: Learn }
  | { readonly type: 'note'; readonly data: Buffer }
  | { readonly type: 'conjunction'; readonly id: number; readonly clause: number; readonly nClauses: number }
  /** An action this codec does not understand: kept byte for byte. */
  | { readonly type: 'raw'; readonly bytes: Buffer };

export type ActionType = Action['type'];
type ActionOf<T extends ActionType> = Extract<Action, { type: T }>;

// OpenFlow 1.3 action types.
const OFPAT_OUTPUT = 0, OFPAT_PUSH_VLAN = 17, OFPAT_POP_VLAN = 18, OFPAT_SET_QUEUE = 21, OFPAT_GROUP = 22;
const OFPAT_SET_NW_TTL = 23, OFPAT_DEC_NW_TTL = 24, OFPAT_SET_FIELD = 25, OFPAT_EXPERIMENTER = 0xffff;
// Nicira subtypes (lib/ofp-actions.c).
const NXAST_RESUBMIT = 1, NXAST_SET_TUNNEL = 2, NXAST_POP_QUEUE = 5, NXAST_REG_MOVE = 6, NXAST_REG_LOAD = 7, NXAST_NOTE = 8;
const NXAST_SET_TUNNEL64 = 9, NXAST_RESUBMIT_TABLE = 14, NXAST_OUTPUT_REG = 15, NXAST_LEARN = 16;
const NXAST_OUTPUT_REG2 = 32, NXAST_CONJUNCTION = 34, NXAST_LEARN2 = 45;

// ---------------------------------------------------------------------------------------------
// Encoding

function nxHeader(w: Writer, len: number, subtype: number): void {
  w.u16(OFPAT_EXPERIMENTER).u16(len).u32(NX_VENDOR).u16(subtype);
}

type Encoder<T extends ActionType> = (w: Writer, a: ActionOf<T>) => void;

const ACTION_CODECS: { readonly [T in ActionType]: Encoder<T> } = {
  output: (w, a) => w.u16(OFPAT_OUTPUT).u16(16).u32(portToOf11(a.port)).u16(a.maxLen).zeros(6),
  group: (w, a) => w.u16(OFPAT_GROUP).u16(8).u32(a.groupId),
  set_field: (w, a) => {
    const start = w.pos;
    const h = of13Header(a.field)!;
    w.u16(OFPAT_SET_FIELD).u16(0).u32(h.header);
    w.uint(setFieldWireValue(a.field, a.value), h.header & 0xff);
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  push_vlan: (w, a) => w.u16(OFPAT_PUSH_VLAN).u16(8).u16(a.ethertype).zeros(2),
  pop_vlan: (w) => w.u16(OFPAT_POP_VLAN).u16(8).zeros(4),
  set_queue: (w, a) => w.u16(OFPAT_SET_QUEUE).u16(8).u32(a.queueId),
  pop_queue: (w) => {
    nxHeader(w, 16, NXAST_POP_QUEUE);
    w.zeros(6);
  },
  dec_ttl: (w) => w.u16(OFPAT_DEC_NW_TTL).u16(8).zeros(4),
  set_nw_ttl: (w, a) => w.u16(OFPAT_SET_NW_TTL).u16(8).u8(a.ttl).zeros(3),
  resubmit: (w, a) => {
    nxHeader(w, 16, a.form === 'table' ? NXAST_RESUBMIT_TABLE : NXAST_RESUBMIT);
    w.u16(a.inPort);
    if (a.form === 'table') w.u8(a.table).zeros(3);
    else w.zeros(4);
  },
  // OVS 3.1 sends set_tunnel as OXM set_field tun_id in OpenFlow 1.3; the parser produces set_field,
  // so this only re-encodes what was decoded from a peer.
  set_tunnel: (w, a) => {
    if (a.wide) {
      nxHeader(w, 24, NXAST_SET_TUNNEL64);
      w.zeros(6).u64(a.tunId);
    } else {
      nxHeader(w, 16, NXAST_SET_TUNNEL);
      w.zeros(2).u32(Number(a.tunId));
    }
  },
  reg_load: (w, a) => {
    nxHeader(w, 24, NXAST_REG_LOAD);
    w.u16(encodeOfsNbits(a.dst.ofs, a.dst.nBits)).u32(subfieldHeader(a.dst.field)).u64(a.value);
  },
  reg_move: (w, a) => {
    nxHeader(w, 24, NXAST_REG_MOVE);
    w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).u32(subfieldHeader(a.src.field)).u32(subfieldHeader(a.dst.field));
  },
  output_reg: (w, a) => {
    nxHeader(w, 24, NXAST_OUTPUT_REG);
    w.u16(encodeOfsNbits(a.src.ofs, a.src.nBits)).u32(subfieldHeader(a.src.field)).u16(a.maxLen).zeros(6);
  },
  learn: (w, a) => encodeLearn(w, a.learn),
  note: (w, a) => {
    const start = w.pos;
    nxHeader(w, 0, NXAST_NOTE);
    w.bytes(a.data);
    // OVS pads the note to at least 16 bytes (6 bytes of note space in the minimal action).
    if (w.pos - start < 16) w.zeros(16 - (w.pos - start));
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  conjunction: (w, a) => {
    nxHeader(w, 16, NXAST_CONJUNCTION);
    w.u8(a.clause).u8(a.nClauses).u32(a.id);
  },
  raw: (w, a) => w.bytes(a.bytes),
};

/** Value on the wire for set_field: VLAN VIDs carry the present bit (OFPVID_PRESENT). */
function setFieldWireValue(f: FieldDef, v: bigint): bigint {
  if (f.name === 'in_port_oxm') return BigInt(portToOf11(Number(v)));
  return v;
}

function encodeAction(w: Writer, a: Action): void {
  (ACTION_CODECS[a.type] as Encoder<ActionType>)(w, a);
}

export function encodeActions(w: Writer, actions: readonly Action[]): void {
  for (const a of actions) encodeAction(w, a);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes one action list (the whole of r). Unknown experimenter actions are kept raw. */
export function decodeActions(r: Reader): Action[] {
  const out: Action[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) r.fail(`action length ${len} is not a positive multiple of 8`, at);
    if (len - 4 > r.remaining) r.fail(`action length ${len} runs past the action list`, at);
    const body = r.sub(len - 4);
    out.push(decodeOne(body, type, len, at));
  }
  return out;
}

/** copy_ttl_out/in, set_mpls_ttl, dec_mpls_ttl, push_mpls, pop_mpls, push_pbb, pop_pbb. */
const OF13_UNMODELLED: ReadonlySet<number> = new Set([11, 12, 15, 16, 19, 20, 26, 27]);

function raw(r: Reader, at: number, len: number): Action {
  return { type: 'raw', bytes: Buffer.from(r.buf.subarray(at, at + len)) };
}

function decodeOne(r: Reader, type: number, len: number, at: number): Action {
  switch (type) {
    case OFPAT_OUTPUT: {
      if (len !== 16) r.fail(`OUTPUT action length ${len} != 16`, at);
      const port = r.u32();
      const maxLen = r.u16();
      return { type: 'output', port: portFromOf11(port), maxLen };
    }
    case OFPAT_GROUP:
      return { type: 'group', groupId: r.u32() };
    case OFPAT_PUSH_VLAN:
      return { type: 'push_vlan', ethertype: r.u16() };
    case OFPAT_POP_VLAN:
      return { type: 'pop_vlan' };
    case OFPAT_SET_QUEUE:
      return { type: 'set_queue', queueId: r.u32() };
    case OFPAT_DEC_NW_TTL:
      return { type: 'dec_ttl' };
    case OFPAT_SET_NW_TTL:
      return { type: 'set_nw_ttl', ttl: r.u8() };
    case OFPAT_SET_FIELD: {
      const hAt = r.pos;
      const header = r.u32();
      const f = fieldByHeader(header);
      if (!f || !f.writable) {
        if (!f && header >>> 16 === 0xffff) return raw(r, at, len);
        return r.fail(`set_field of ${f ? `read-only field ${f.name}` : `unknown field 0x${header.toString(16)}`}`, hAt);
      }
      if (header & 0x100) r.fail(`masked set_field is not OpenFlow 1.3`, hAt);
      const bytes = header & 0xff;
      if (bytes !== headerValueBytes(f, header)) {
        r.fail(`set_field ${f.name} has length ${bytes}`, hAt);
      }
      let value = r.uint(bytes);
      if (f.name === 'in_port_oxm') value = BigInt(portFromOf11(Number(value)));
      if (value > allOnes(f.bits) && f.name !== 'in_port_oxm' && f.name !== 'vlan_vid') r.fail(`set_field ${f.name} value out of range`, hAt);
      return { type: 'set_field', field: f, value };
    }
    case OFPAT_EXPERIMENTER:
      return decodeExperimenter(r, len, at);
    default:
      // OpenFlow 1.3 actions this codec does not model yet (MPLS, TTL copies, PBB) are kept as
      // bytes, printed raw and re-encoded as they came: a switch may hold them (another controller
      // put them there), and one such flow must not make a whole dump or audit fail.
      if (OF13_UNMODELLED.has(type)) return raw(r, at, len);
      return r.fail(`unknown OpenFlow 1.3 action type ${type}`, at);
  }
}

function decodeExperimenter(r: Reader, len: number, at: number): Action {
  const vendor = r.u32();
  if (vendor !== NX_VENDOR || len < 16) return raw(r, at, len);
  const subtype = r.u16();
  switch (subtype) {
    case NXAST_RESUBMIT:
      return { type: 'resubmit', inPort: r.u16(), table: 255, form: 'port' };
    case NXAST_RESUBMIT_TABLE: {
      const inPort = r.u16();
      const table = r.u8();
      if (r.bytes(3).some((b) => b !== 0)) r.fail('resubmit pad bytes must be zero', at);
      return { type: 'resubmit', inPort, table, form: 'table' };
    }
    case NXAST_POP_QUEUE:
      return { type: 'pop_queue' };
    case NXAST_SET_TUNNEL:
      r.skip(2);
      return { type: 'set_tunnel', tunId: BigInt(r.u32()), wide: false };
    case NXAST_SET_TUNNEL64:
      r.skip(6);
      return { type: 'set_tunnel', tunId: r.u64(), wide: true };
    case NXAST_REG_LOAD: {
      const ofsNbits = r.u16();
      const hAt = r.pos;
      const field = readSubfieldHeader(r);
      const value = r.u64();
      const dst = checkSubfield(r, { field, ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt);
      if (!field.writable) r.fail(`load into read-only field ${field.name}`, hAt);
      if (dst.nBits < 64 && value >> BigInt(dst.nBits) !== 0n) r.fail('load value wider than its destination', hAt);
      return { type: 'reg_load', dst, value };
    }
    case NXAST_REG_MOVE: {
      const nBits = r.u16();
      const srcOfs = r.u16();
      const dstOfs = r.u16();
      const hAt = r.pos;
      const src = checkSubfield(r, { field: readSubfieldHeader(r), ofs: srcOfs, nBits }, hAt);
      const dst = checkSubfield(r, { field: readSubfieldHeader(r), ofs: dstOfs, nBits }, hAt);
      return { type: 'reg_move', src, dst };
    }
    case NXAST_OUTPUT_REG: {
      const ofsNbits = r.u16();
      const hAt = r.pos;
      const field = readSubfieldHeader(r);
      const maxLen = r.u16();
      return { type: 'output_reg', src: checkSubfield(r, { field, ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt), maxLen };
    }
    case NXAST_OUTPUT_REG2: {
      const ofsNbits = r.u16();
      const maxLen = r.u16();
      const hAt = r.pos;
      const field = readSubfieldHeader(r);
      return { type: 'output_reg', src: checkSubfield(r, { field, ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, hAt), maxLen };
    }
    case NXAST_LEARN:
    case NXAST_LEARN2:
      return { type: 'learn', learn: decodeLearn(r, subtype === NXAST_LEARN2, at) };
    case NXAST_NOTE:
      return { type: 'note', data: Buffer.from(r.bytes(r.remaining)) };
    case NXAST_CONJUNCTION: {
      const clause = r.u8();
      const nClauses = r.u8();
      const id = r.u32();
      if (nClauses < 2 || nClauses > 64 || clause >= nClauses) r.fail(`conjunction clause ${clause + 1}/${nClauses} is invalid`, at);
      return { type: 'conjunction', id, clause, nClauses };
    }
    default:
      return raw(r, at, len);
  }
}

