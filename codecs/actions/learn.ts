// learn: install or change a flow from the packet (NXAST_LEARN; NXAST_LEARN2 when a limit or a
// result_dst is given). Wire layout from OVS's lib/learn.c and ofp-actions.c (struct nx_action_learn,
// struct nx_action_learn2); text as learn_parse() / learn_format() read and write it:
// learn(table=N,idle_timeout=…,…,SPEC,…), the options in OVS's fixed order.
import { Reader, Writer } from '../openflow/bytes.js';
import { checkSubfield, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { formatSubfield, looksLikeSubfield, parseSubfield, subfieldField } from '../ofctl/subfield.js';
import { fail, inColumn, intArg, splitArrow } from '../ofctl/syntax.js';
import { formatFieldValue, hexOrZero, parseFieldValue, parseUint } from '../ofctl/values.js';
import { ActionRecord, nxHeader } from './record.js';

export interface LearnAction {
  readonly type: 'learn';
  readonly learn: Learn;
}

export const NX_LEARN_F_SEND_FLOW_REM = 1;
export const NX_LEARN_F_DELETE_LEARNED = 2;
export const NX_LEARN_F_WRITE_RESULT = 4;

export type LearnSpec =
  /** Match the learned flow on dst, with the value taken from src in the packet. */
  | { readonly kind: 'match_field'; readonly src: Subfield; readonly dst: Subfield }
  /** Match the learned flow on dst = an immediate value. */
  | { readonly kind: 'match_imm'; readonly value: bigint; readonly dst: Subfield }
  /** The learned flow loads dst from the packet's src. */
  | { readonly kind: 'load_field'; readonly src: Subfield; readonly dst: Subfield }
  /** The learned flow loads an immediate into dst. */
  | { readonly kind: 'load_imm'; readonly value: bigint; readonly dst: Subfield }
  /** The learned flow outputs to the port held in src. */
  | { readonly kind: 'output'; readonly src: Subfield };

export interface Learn {
  readonly table: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly flags: number;
  readonly finIdleTimeout: number;
  readonly finHardTimeout: number;
  /** NXAST_LEARN2 only (0 = no limit). */
  readonly limit: number;
  readonly resultDst?: Subfield;
  readonly specs: readonly LearnSpec[];
  /** Came as NXAST_LEARN2 without needing it: OVS writes it back in the form it came in. */
  readonly v2?: true;
}

const SRC_IMM = 1 << 13;
const DST_LOAD = 1 << 11;
const DST_OUTPUT = 2 << 11;

const NXAST_LEARN = 16;
const NXAST_LEARN2 = 45;

function immBytes(nBits: number): number {
  return 2 * Math.ceil(nBits / 16);
}

function encodeLearn(w: Writer, l: Learn): void {
  const start = w.pos;
  const v2 = l.v2 === true || l.limit !== 0 || (l.flags & NX_LEARN_F_WRITE_RESULT) !== 0;
  nxHeader(w, 0, v2 ? NXAST_LEARN2 : NXAST_LEARN);
  w.u16(l.idleTimeout).u16(l.hardTimeout).u16(l.priority).u64(l.cookie).u16(l.flags).u8(l.table).u8(0);
  w.u16(l.finIdleTimeout).u16(l.finHardTimeout);
  if (v2) {
    w.u32(l.limit).u16(l.resultDst?.ofs ?? 0).u16(0);
    if (l.flags & NX_LEARN_F_WRITE_RESULT) w.u32(subfieldHeader(l.resultDst!.field));
  }
  for (const s of l.specs) {
    switch (s.kind) {
      case 'match_field':
        w.u16(s.dst.nBits).u32(subfieldHeader(s.src.field)).u16(s.src.ofs).u32(subfieldHeader(s.dst.field)).u16(s.dst.ofs);
        break;
      case 'match_imm':
        w.u16(SRC_IMM | s.dst.nBits).uint(s.value, immBytes(s.dst.nBits)).u32(subfieldHeader(s.dst.field)).u16(s.dst.ofs);
        break;
      case 'load_field':
        w.u16(DST_LOAD | s.dst.nBits).u32(subfieldHeader(s.src.field)).u16(s.src.ofs).u32(subfieldHeader(s.dst.field)).u16(s.dst.ofs);
        break;
      case 'load_imm':
        w.u16(SRC_IMM | DST_LOAD | s.dst.nBits).uint(s.value, immBytes(s.dst.nBits)).u32(subfieldHeader(s.dst.field)).u16(s.dst.ofs);
        break;
      case 'output':
        w.u16(DST_OUTPUT | s.src.nBits).u32(subfieldHeader(s.src.field)).u16(s.src.ofs);
        break;
    }
  }
  w.padTo(8, start);
  w.patch16(start + 2, w.pos - start);
}

/** Decodes the body of a learn action; r is positioned just after the NX subtype. */
function decodeLearn(r: Reader, v2: boolean, at: number): Learn {
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const priority = r.u16();
  const cookie = r.u64();
  const flags = r.u16();
  const table = r.u8();
  r.skip(1);
  const finIdleTimeout = r.u16();
  const finHardTimeout = r.u16();
  let limit = 0;
  let resultDst: Subfield | undefined;
  if (v2) {
    limit = r.u32();
    const resultOfs = r.u16();
    r.skip(2);
    if (flags & NX_LEARN_F_WRITE_RESULT) {
      const hAt = r.pos;
      resultDst = checkSubfield(r, { field: readSubfieldHeader(r), ofs: resultOfs, nBits: 1 }, hAt);
    }
  }
  if (flags & ~(NX_LEARN_F_SEND_FLOW_REM | NX_LEARN_F_DELETE_LEARNED | (v2 ? NX_LEARN_F_WRITE_RESULT : 0))) {
    r.fail(`learn has unknown flags 0x${flags.toString(16)}`, at);
  }
  if (table === 0xff) r.fail('learn into table 255', at);
  const specs: LearnSpec[] = [];
  while (r.remaining >= 2) {
    const sAt = r.pos;
    const header = r.u16();
    if (header === 0) break;
    if (header & 0xc000) r.fail(`learn spec header 0x${header.toString(16)} has reserved bits set`, sAt);
    const srcImm = (header & SRC_IMM) !== 0;
    const dstType = (header >> 11) & 3;
    const nBits = header & 0x3ff;
    if (nBits === 0) r.fail('learn spec with zero bits', sAt);
    if (dstType === 3 || (srcImm && dstType === 2)) r.fail(`learn spec header 0x${header.toString(16)} is invalid`, sAt);
    let src: Subfield | undefined;
    let value = 0n;
    if (srcImm) {
      // OVS keeps immediates as written, even wider than n_bits (vlan_vid=0x1005 in 12 bits).
      value = r.uint(immBytes(nBits));
    } else {
      const hAt = r.pos;
      const field = readSubfieldHeader(r);
      src = checkSubfield(r, { field, ofs: r.u16(), nBits }, hAt);
    }
    if (dstType === 2) {
      specs.push({ kind: 'output', src: src! });
      continue;
    }
    const hAt = r.pos;
    const field = readSubfieldHeader(r);
    const dst = checkSubfield(r, { field, ofs: r.u16(), nBits }, hAt);
    if (dstType === 0) specs.push(src ? { kind: 'match_field', src, dst } : { kind: 'match_imm', value, dst });
    else specs.push(src ? { kind: 'load_field', src, dst } : { kind: 'load_imm', value, dst });
  }
  // Whatever follows the specs is padding and must be zero.
  while (r.remaining > 0) if (r.u8() !== 0) r.fail('learn action has non-zero padding', r.pos - 1);
  return {
    table, idleTimeout, hardTimeout, priority, cookie, flags, finIdleTimeout, finHardTimeout, limit,
    ...(resultDst ? { resultDst } : {}), specs,
    ...(v2 && limit === 0 && !(flags & NX_LEARN_F_WRITE_RESULT) ? { v2: true as const } : {}),
  };
}

function formatLearn(l: Learn): string {
  const parts = [`table=${l.table}`];
  if (l.idleTimeout) parts.push(`idle_timeout=${l.idleTimeout}`);
  if (l.hardTimeout) parts.push(`hard_timeout=${l.hardTimeout}`);
  if (l.finIdleTimeout) parts.push(`fin_idle_timeout=${l.finIdleTimeout}`);
  if (l.finHardTimeout) parts.push(`fin_hard_timeout=${l.finHardTimeout}`);
  if (l.priority !== 0x8000) parts.push(`priority=${l.priority}`);
  if (l.flags & NX_LEARN_F_SEND_FLOW_REM) parts.push('send_flow_rem');
  if (l.flags & NX_LEARN_F_DELETE_LEARNED) parts.push('delete_learned');
  if (l.cookie !== 0n) parts.push(`cookie=${hexOrZero(l.cookie)}`);
  if (l.limit) parts.push(`limit=${l.limit}`);
  if (l.flags & NX_LEARN_F_WRITE_RESULT && l.resultDst) parts.push(`result_dst=${formatSubfield(l.resultDst)}`);
  for (const s of l.specs) {
    switch (s.kind) {
      case 'match_imm':
        if (s.dst.ofs === 0 && s.dst.nBits === s.dst.field.bits) {
          parts.push(`${s.dst.field.name}=${formatFieldValue(s.dst.field, s.value)}`);
        } else {
          parts.push(`${formatSubfield(s.dst)}=${hexOrZero(s.value)}`);
        }
        break;
      case 'match_field':
        parts.push(s.src.field === s.dst.field && s.src.ofs === s.dst.ofs
          ? formatSubfield(s.dst)
          : `${formatSubfield(s.dst)}=${formatSubfield(s.src)}`);
        break;
      case 'load_imm':
        parts.push(`load:${hexOrZero(s.value)}->${formatSubfield(s.dst)}`);
        break;
      case 'load_field':
        parts.push(`load:${formatSubfield(s.src)}->${formatSubfield(s.dst)}`);
        break;
      case 'output':
        parts.push(`output:${formatSubfield(s.src)}`);
        break;
    }
  }
  return `learn(${parts.join(',')})`;
}

export function parseLearn(text: string, offset = 0): Learn {
  let table = 1, idleTimeout = 0, hardTimeout = 0, finIdleTimeout = 0, finHardTimeout = 0, priority = 0x8000;
  let cookie = 0n, flags = 0, limit = 0;
  let resultDst: Subfield | undefined;
  const specs: LearnSpec[] = [];
  for (const kv of splitKeyValues(text, offset)) {
    const { key, value, valueAt, keyAt } = kv;
    switch (key) {
      case 'table': {
        const t = intArg(value, valueAt, 255, 'table');
        if (t === 255) fail(`table id 255 not valid for \`learn' action`, valueAt);
        table = t;
        continue;
      }
      case 'priority': priority = intArg(value, valueAt, 0xffff, 'priority'); continue;
      case 'idle_timeout': idleTimeout = intArg(value, valueAt, 0xffff, 'idle_timeout'); continue;
      case 'hard_timeout': hardTimeout = intArg(value, valueAt, 0xffff, 'hard_timeout'); continue;
      case 'fin_idle_timeout': finIdleTimeout = intArg(value, valueAt, 0xffff, 'fin_idle_timeout'); continue;
      case 'fin_hard_timeout': finHardTimeout = intArg(value, valueAt, 0xffff, 'fin_hard_timeout'); continue;
      case 'cookie': cookie = inColumn(valueAt, () => parseUint(value)); continue;
      case 'limit': limit = intArg(value, valueAt, 0xffffffff, 'limit'); continue;
      case 'send_flow_rem': flags |= NX_LEARN_F_SEND_FLOW_REM; continue;
      case 'delete_learned': flags |= NX_LEARN_F_DELETE_LEARNED; continue;
      case 'result_dst': {
        resultDst = parseSubfield(value, valueAt);
        // As OVS's learn_parse__: a writable single bit.
        if (!resultDst.field.writable) fail(`${resultDst.field.name} is read-only`, valueAt);
        if (resultDst.nBits !== 1) fail(`result_dst in 'learn' action must be a single bit`, valueAt);
        flags |= NX_LEARN_F_WRITE_RESULT;
        continue;
      }
      case 'load': {
        const [src, dst] = splitArrow(value, valueAt, ' following source');
        const d = parseSubfield(dst, valueAt + src.length + 2);
        if (looksLikeSubfield(src)) {
          const s = parseSubfield(src, valueAt);
          if (s.nBits !== d.nBits) fail(`${value}: source field is ${s.nBits} bits wide but destination is ${d.nBits} bits wide`, valueAt);
          specs.push({ kind: 'load_field', src: s, dst: d });
        } else {
          const v = inColumn(valueAt, () => parseUint(src));
          if (d.nBits < 64 && v >> BigInt(d.nBits) !== 0n) fail(`${value}: value does not fit into ${d.nBits} bits`, valueAt);
          specs.push({ kind: 'load_imm', value: v, dst: d });
        }
        continue;
      }
      case 'output':
        specs.push({ kind: 'output', src: parseSubfield(value, valueAt) });
        continue;
      default:
        break;
    }
    // A match spec: DST, DST=SRC (field) or DST=VALUE (immediate).
    if (!subfieldField(key.replace(/\[.*$/, ''))) fail(`unknown keyword ${key}`, keyAt);
    const dst = parseSubfield(key, keyAt);
    if (kv.delim === '') {
      specs.push({ kind: 'match_field', src: dst, dst });
    } else if (looksLikeSubfield(value)) {
      const src = parseSubfield(value, valueAt);
      if (src.nBits !== dst.nBits) fail(`${value}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`, valueAt);
      specs.push({ kind: 'match_field', src, dst });
    } else if (!key.includes('[')) {
      const { value: v, mask } = inColumn(valueAt, () => parseFieldValue(dst.field, value));
      if (mask !== undefined) fail(`${value}: wildcards not allowed here`, valueAt);
      specs.push({ kind: 'match_imm', value: v, dst });
    } else {
      const v = inColumn(valueAt, () => parseUint(value));
      if (v >> BigInt(dst.nBits) !== 0n) fail(`${key}=${value}: value does not fit into ${dst.nBits} bits`, valueAt);
      specs.push({ kind: 'match_imm', value: v, dst });
    }
  }
  return {
    table, idleTimeout, hardTimeout, priority, cookie, flags, finIdleTimeout, finHardTimeout, limit,
    ...(resultDst ? { resultDst } : {}), specs,
  };
}

export const learn: ActionRecord<LearnAction> = {
  wire: [{ nx: NXAST_LEARN }, { nx: NXAST_LEARN2 }],
  encode: (w, a) => encodeLearn(w, a.learn),
  decode: (r, id, _len, at) => ({ type: 'learn', learn: decodeLearn(r, id === NXAST_LEARN2, at) }),
  print: (a) => formatLearn(a.learn),
  parse: {
    learn: ({ value, valueAt }, _ctx, out) => {
      out.push({ type: 'learn', learn: parseLearn(value, valueAt) });
    },
  },
};
