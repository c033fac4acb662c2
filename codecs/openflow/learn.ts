// NXAST_LEARN / NXAST_LEARN2: the action that installs flows from packets. Layout and spec bits from
// OVS's lib/learn.c and ofp-actions.c (struct nx_action_learn, struct nx_action_learn2).
import { Reader, Writer } from './bytes.js';
import { checkSubfield, readSubfieldHeader, Subfield, subfieldHeader } from './subfield.js';

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
}

const SRC_IMM = 1 << 13;
const DST_LOAD = 1 << 11;
const DST_OUTPUT = 2 << 11;

const NXAST_LEARN = 16;
const NXAST_LEARN2 = 45;

function immBytes(nBits: number): number {
  return 2 * Math.ceil(nBits / 16);
}

export function encodeLearn(w: Writer, l: Learn): void {
  const start = w.pos;
  const v2 = l.limit !== 0 || (l.flags & NX_LEARN_F_WRITE_RESULT) !== 0;
  w.u16(0xffff).u16(0).u32(0x00002320).u16(v2 ? NXAST_LEARN2 : NXAST_LEARN);
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
export function decodeLearn(r: Reader, v2: boolean, at: number): Learn {
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
  };
}
