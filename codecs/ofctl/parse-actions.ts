// Parses the text after `actions=` into OpenFlow 1.3 instructions, applying the same conversions
// ovs-ofctl 3.1 makes for OpenFlow 1.3 (mod_vlan_vid -> push_vlan + set_field, set_tunnel ->
// set_field tun_id, strip_vlan -> pop_vlan, masked set_field -> load, …).
import type { Action, Subfield } from '../openflow/actions.js';
import { allOnes, FieldDef, fieldByName, fieldBySubfieldName } from '../openflow/fields.js';
import type { Instructions } from '../openflow/instructions.js';
import {
  Learn, LearnSpec, NX_LEARN_F_DELETE_LEARNED, NX_LEARN_F_SEND_FLOW_REM, NX_LEARN_F_WRITE_RESULT,
} from '../openflow/learn.js';
import { ETH_TYPE_IP, ETH_TYPE_IPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, Match, slotValue } from '../openflow/match.js';
import { OFPP_CONTROLLER, OFPP_IN_PORT, OFPP_MAX, portByName } from '../openflow/ports.js';
import { KeyValue, splitKeyValues } from './lexer.js';
import { parseFieldValue, parseUint, ValueError } from './values.js';

/** A syntax error with the 0-based offset in the flow text where it was found. */
export class FlowSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`column ${offset + 1}: ${reason}`);
    this.name = 'FlowSyntaxError';
  }
}

const fail = (reason: string, at: number): never => {
  throw new FlowSyntaxError(reason, at);
};

/** Wraps value-parsing errors with a column. */
function at<T>(offset: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValueError) throw new FlowSyntaxError(err.message, offset);
    throw err;
  }
}

function intArg(s: string, offset: number, max: number, what: string): number {
  const v = at(offset, () => parseUint(s));
  if (v > BigInt(max)) fail(`invalid ${what} "${s}"`, offset);
  return Number(v);
}

// ---------------------------------------------------------------------------------------------
// Subfields

/** Resolves a field name as subfield syntax allows: NXM/OXM names or OVS field names. */
function subfieldField(name: string): FieldDef | undefined {
  return fieldBySubfieldName(name) ?? fieldByName(name);
}

function parseSubfield(text: string, offset: number): Subfield {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(text.trim());
  if (!m) return fail(`${text}: invalid subfield syntax`, offset);
  const field = subfieldField(m[1]!);
  if (!field || (!field.nxm && !field.oxm)) return fail(`${text}: unknown field \`${m[1]}'`, offset);
  if (m[2] === undefined) return { field, ofs: 0, nBits: field.bits };
  const start = Number(m[2]);
  const end = m[3] === undefined ? start : Number(m[3]);
  if (start >= field.bits) fail(`${text}: starting bit ${start} is not valid because field is only ${field.bits} bits wide`, offset);
  if (end >= field.bits) fail(`${text}: ending bit ${end} is not valid because field is only ${field.bits} bits wide`, offset);
  if (end < start) fail(`${text}: ending bit ${end} is less than starting bit ${start}`, offset);
  return { field, ofs: start, nBits: end - start + 1 };
}

function looksLikeSubfield(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\[[0-9.]*\])?$/.test(s) && subfieldField(s.replace(/\[.*$/, '')) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Parse context: what the match says, for OVS's OF1.3 conversions.

interface Context {
  readonly match: Match;
  /** Inside write_actions(): OVS checks no VLAN prerequisite there. */
  readonly inWriteActions: boolean;
  /** A VLAN header is known to be present at this point of the action list. */
  vlan: boolean;
}

/** The match says a VLAN header is present (the tag-present bit is matched, and set). */
export function matchHasVlan(m: Match): boolean {
  const tci = m.get('vlan_tci');
  return !!tci && (tci.mask & 0x1000n) !== 0n && (tci.value & 0x1000n) !== 0n;
}

function isIp(m: Match): boolean {
  const t = slotValue(m, 'dl_type');
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

/** Loads covering each contiguous run of ones in mask (how OVS writes a masked set_field in 1.3). */
function maskedLoads(field: FieldDef, value: bigint, mask: bigint): Action[] {
  const out: Action[] = [];
  let ofs = 0;
  while (ofs < field.bits) {
    if (((mask >> BigInt(ofs)) & 1n) === 0n) {
      ofs++;
      continue;
    }
    let end = ofs;
    while (end < field.bits && ((mask >> BigInt(end)) & 1n) === 1n && end - ofs < 64) end++;
    const nBits = end - ofs;
    out.push({ type: 'reg_load', dst: { field, ofs, nBits }, value: (value >> BigInt(ofs)) & allOnes(nBits) });
    ofs = end;
  }
  return out;
}

function setField(field: FieldDef, valueText: string, offset: number): Action[] {
  if (!field.writable) fail(`${field.name} is read-only`, offset);
  if (!field.nxm && !field.oxm) fail(`${field.name} is not a valid OXM field name`, offset);
  const { value, mask } = at(offset, () => parseFieldValue(field, valueText));
  if (mask !== undefined && mask !== allOnes(field.bits)) return maskedLoads(field, value & mask, mask);
  // vlan_vid values carry the present bit (4096 + VID), one bit more than the field's 12.
  const width = field.name === 'vlan_vid' ? 13 : field.bits;
  return [{ type: 'set_field', field, value: value & allOnes(width) }];
}

/** `VALUE->FIELD` as in set_field (a masked value becomes loads, as OVS writes it in 1.3). */
function parseSetField(text: string, offset = 0): Action[] {
  const [v, f] = splitArrow(text, offset, '');
  const field = fieldByName(f);
  if (!field || field.name === 'dl_vlan' || field.name === 'dl_vlan_pcp') fail(`${f} is not a valid OXM field name`, offset + v.length + 2);
  return setField(field!, v, offset);
}

/** `SRC->DST` as in move. */
export function parseMove(text: string, offset = 0): Action {
  const [s, d] = splitArrow(text, offset, ' following source');
  const src = parseSubfield(s, offset);
  const dst = parseSubfield(d, offset + s.length + 2);
  if (src.nBits !== dst.nBits) fail(`${text}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`, offset);
  return { type: 'reg_move', src, dst };
}

function splitArrow(text: string, offset: number, what: string): [string, string] {
  const i = text.indexOf('->');
  if (i < 0) fail(`${text}: missing \`->'${what}`, offset);
  return [text.slice(0, i), text.slice(i + 2)];
}

// ---------------------------------------------------------------------------------------------
// learn(...)

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
      case 'cookie': cookie = at(valueAt, () => parseUint(value)); continue;
      case 'limit': limit = intArg(value, valueAt, 0xffffffff, 'limit'); continue;
      case 'send_flow_rem': flags |= NX_LEARN_F_SEND_FLOW_REM; continue;
      case 'delete_learned': flags |= NX_LEARN_F_DELETE_LEARNED; continue;
      case 'result_dst': {
        resultDst = parseSubfield(value, valueAt);
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
          const v = at(valueAt, () => parseUint(src));
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
      const { value: v, mask } = at(valueAt, () => parseFieldValue(dst.field, value));
      if (mask !== undefined) fail(`${value}: wildcards not allowed here`, valueAt);
      specs.push({ kind: 'match_imm', value: v, dst });
    } else {
      const v = at(valueAt, () => parseUint(value));
      if (v >> BigInt(dst.nBits) !== 0n) fail(`${key}=${value}: value does not fit into ${dst.nBits} bits`, valueAt);
      specs.push({ kind: 'match_imm', value: v, dst });
    }
  }
  return {
    table, idleTimeout, hardTimeout, priority, cookie, flags, finIdleTimeout, finHardTimeout, limit,
    ...(resultDst ? { resultDst } : {}), specs,
  };
}

// ---------------------------------------------------------------------------------------------
// One action

const OUTPUT_WORDS = new Set(['in_port', 'table', 'normal', 'flood', 'all', 'local', 'any', 'none']);

function parseOutput(ctx: Context, value: string, valueAt: number): Action {
  if (looksLikeSubfield(value) && portByName(value) === undefined) {
    return { type: 'output_reg', src: parseSubfield(value, valueAt), maxLen: 0xffff };
  }
  return outputTo(value, valueAt, ctx);
}

function outputTo(portText: string, offset: number, _ctx: Context): Action {
  const named = portByName(portText);
  if (named !== undefined) {
    if (named === 0xffff) fail(`${portText}: output to unknown port`, offset);
    return { type: 'output', port: named, maxLen: named === OFPP_CONTROLLER ? 0xffff : 0 };
  }
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(portText)) fail(`${portText}: output to unknown port`, offset);
  const p = Number(portText);
  if (p >= OFPP_MAX && p < 0xfff8) fail(`${portText}: output to unknown port`, offset);
  if (p > 0xffff) fail(`${portText}: output to unknown port`, offset);
  return { type: 'output', port: p, maxLen: p === OFPP_CONTROLLER ? 0xffff : 0 };
}

function parseController(value: string, valueAt: number, delim: string): Action {
  if (value === '') return { type: 'output', port: OFPP_CONTROLLER, maxLen: 0xffff };
  if (delim === ':') return { type: 'output', port: OFPP_CONTROLLER, maxLen: intArg(value, valueAt, 0xffff, 'max_len') };
  let maxLen = 0xffff;
  for (const kv of splitKeyValues(value, valueAt)) {
    if (kv.key === 'max_len') maxLen = intArg(kv.value, kv.valueAt, 0xffff, 'max_len');
    else if (kv.key === 'reason' && kv.value === 'action') continue;
    else if (kv.key === 'id' && Number(kv.value) === 0) continue;
    else fail(`controller option ${kv.key}${kv.value ? `=${kv.value}` : ''} is not supported`, kv.keyAt);
  }
  return { type: 'output', port: OFPP_CONTROLLER, maxLen };
}

function parseResubmit(value: string, valueAt: number, delim: string): Action {
  if (delim !== '(') {
    const p = portByName(value) ?? (/^\d+$/.test(value) ? Number(value) : undefined);
    if (p === undefined) fail(`${value}: resubmit to unknown port`, valueAt);
    if (p === OFPP_IN_PORT) fail(`at least one "in_port" or "table" must be specified on resubmit`, valueAt);
    return { type: 'resubmit', inPort: p!, table: 255, form: 'table' };
  }
  const [portText = '', tableText = '', extra] = value.split(',');
  if (extra !== undefined) fail(`${value}: resubmit takes at most port and table`, valueAt);
  const inPort = portText === '' ? OFPP_IN_PORT : portByName(portText) ?? (/^\d+$/.test(portText) ? Number(portText) : -1);
  if (inPort < 0) fail(`${portText}: resubmit to unknown port`, valueAt);
  let table = 255;
  if (tableText !== '') {
    if (!/^\d+$/.test(tableText) || Number(tableText) > 255) fail(`${tableText}: resubmit to unknown table`, valueAt);
    table = Number(tableText);
  }
  if (inPort === OFPP_IN_PORT && table === 255) fail(`at least one "in_port" or "table" must be specified on resubmit`, valueAt);
  // OVS 3.1 encodes every parsed resubmit as NXAST_RESUBMIT_TABLE (table 255 = none).
  return { type: 'resubmit', inPort, table, form: 'table' };
}

function parseNote(value: string, offset: number): Buffer {
  const hex = value.replace(/\./g, '');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) fail(`${value}: bad hex digit in \`note' argument`, offset);
  const data = Buffer.from(hex, 'hex');
  // The wire form pads the note so that the 10-byte header plus data is a multiple of 8 (min 16).
  const total = Math.max(16, Math.ceil((10 + data.length) / 8) * 8);
  return Buffer.concat([data, Buffer.alloc(total - 10 - data.length)]);
}

function parseOne(ctx: Context, kv: KeyValue, out: Action[]): void {
  const { key, value, valueAt, keyAt, delim } = kv;
  const k = key.toLowerCase();
  if (/^\d+$/.test(key) || /^0x[0-9a-f]+$/i.test(key)) {
    out.push(outputTo(key, keyAt, ctx));
    return;
  }
  if (OUTPUT_WORDS.has(k) && delim === '') {
    out.push(outputTo(key, keyAt, ctx));
    return;
  }
  switch (k) {
    case 'output':
      out.push(parseOutput(ctx, value, valueAt));
      return;
    case 'controller':
      out.push(parseController(value, valueAt, delim));
      return;
    case 'group':
      out.push({ type: 'group', groupId: intArg(value, valueAt, 0xffffffff, 'group') });
      return;
    case 'pop_queue':
      out.push({ type: 'pop_queue' });
      return;
    case 'enqueue': {
      // OpenFlow 1.0's enqueue has no 1.3 form: OVS writes set_queue, output, pop_queue.
      const [port = '', queue = ''] = value.split(/[:,]/);
      out.push({ type: 'set_queue', queueId: intArg(queue, valueAt, 0xffffffff, 'queue') });
      const output = outputTo(port, valueAt, ctx);
      out.push(output.type === 'output' ? { ...output, maxLen: 0xffff } : output);
      out.push({ type: 'pop_queue' });
      return;
    }
    case 'set_queue':
      out.push({ type: 'set_queue', queueId: intArg(value, valueAt, 0xffffffff, 'queue') });
      return;
    case 'push_vlan': {
      const et = intArg(value, valueAt, 0xffff, 'ethertype');
      if (et !== 0x8100 && et !== 0x88a8) fail(`${value}: not a valid VLAN ethertype`, valueAt);
      out.push({ type: 'push_vlan', ethertype: et });
      ctx.vlan = true;
      return;
    }
    case 'pop_vlan':
    case 'strip_vlan':
      if (!ctx.vlan && !ctx.inWriteActions) fail('no usable protocol (pop_vlan needs a VLAN in the match)', keyAt);
      out.push({ type: 'pop_vlan' });
      ctx.vlan = false;
      return;
    case 'mod_vlan_vid': {
      const vid = intArg(value, valueAt, 0xffff, 'VLAN VID');
      if (vid > 4095) fail(`${value}: not a valid VLAN VID`, valueAt);
      if (!ctx.vlan) out.push({ type: 'push_vlan', ethertype: 0x8100 });
      ctx.vlan = true;
      out.push({ type: 'set_field', field: fieldByName('vlan_vid')!, value: BigInt(vid | 0x1000) });
      return;
    }
    case 'mod_vlan_pcp': {
      const pcp = intArg(value, valueAt, 0xff, 'VLAN PCP');
      if (pcp > 7) fail(`${value}: not a valid VLAN PCP`, valueAt);
      if (!ctx.vlan) out.push({ type: 'push_vlan', ethertype: 0x8100 });
      ctx.vlan = true;
      out.push({ type: 'set_field', field: fieldByName('vlan_pcp')!, value: BigInt(pcp) });
      return;
    }
    case 'dec_ttl':
      if (!isIp(ctx.match)) fail('no usable protocol (dec_ttl needs an ip or ipv6 match)', keyAt);
      out.push({ type: 'dec_ttl' });
      return;
    case 'mod_nw_ttl': {
      const ttl = intArg(value, valueAt, 0xffffffff, 'TTL');
      if (ttl > 255) fail(`invalid TTL "${value}"`, valueAt);
      if (!isIp(ctx.match)) fail('no usable protocol (mod_nw_ttl needs an ip or ipv6 match)', keyAt);
      out.push({ type: 'set_nw_ttl', ttl });
      return;
    }
    case 'resubmit':
      out.push(parseResubmit(value, valueAt, delim));
      return;
    case 'set_tunnel':
    case 'set_tunnel64': {
      const v = at(valueAt, () => parseUint(value));
      if (v > allOnes(k === 'set_tunnel' ? 32 : 64) && k === 'set_tunnel') fail(`${value}: tunnel ID too large for set_tunnel`, valueAt);
      out.push({ type: 'set_field', field: fieldByName('tun_id')!, value: v });
      return;
    }
    case 'set_field':
      out.push(...parseSetField(value, valueAt));
      return;
    case 'mod_dl_src':
    case 'mod_dl_dst':
      out.push(...setField(fieldByName(k === 'mod_dl_src' ? 'eth_src' : 'eth_dst')!, value, valueAt));
      return;
    case 'mod_nw_src':
    case 'mod_nw_dst':
      if (!isIp(ctx.match)) fail(`no usable protocol (${k} needs an ip match)`, keyAt);
      out.push(...setField(fieldByName(k === 'mod_nw_src' ? 'ip_src' : 'ip_dst')!, value, valueAt));
      return;
    case 'mod_nw_tos': {
      const tos = intArg(value, valueAt, 0xff, 'TOS');
      if (tos & 3) fail(`${value}: not a valid TOS`, valueAt);
      out.push({ type: 'set_field', field: fieldByName('ip_dscp')!, value: BigInt(tos >> 2) });
      return;
    }
    case 'mod_nw_ecn': {
      const ecn = intArg(value, valueAt, 3, 'ECN');
      out.push({ type: 'set_field', field: fieldByName('nw_ecn')!, value: BigInt(ecn) });
      return;
    }
    case 'mod_tp_src':
    case 'mod_tp_dst': {
      const proto = slotValue(ctx.match, 'nw_proto');
      const prefix = proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_UDP ? 'udp' : proto === IPPROTO_SCTP ? 'sctp' : undefined;
      if (!prefix || !isIp(ctx.match)) fail(`no usable protocol (${k} needs a tcp, udp or sctp match)`, keyAt);
      out.push(...setField(fieldByName(`${prefix}_${k.slice(7)}`)!, value, valueAt));
      return;
    }
    case 'load': {
      const [v, d] = splitArrow(value, valueAt, '');
      const dst = parseSubfield(d, valueAt + v.length + 2);
      if (!dst.field.writable) fail(`${dst.field.name} is read-only`, valueAt);
      const n = at(valueAt, () => parseUint(v));
      if (dst.nBits < 64 && n >> BigInt(dst.nBits) !== 0n) fail(`${value}: value does not fit into ${dst.nBits} bits`, valueAt);
      out.push({ type: 'reg_load', dst, value: n });
      return;
    }
    case 'move':
      out.push(parseMove(value, valueAt));
      return;
    case 'learn':
      out.push({ type: 'learn', learn: parseLearn(value, valueAt) });
      return;
    case 'note':
      out.push({ type: 'note', data: parseNote(value, valueAt) });
      return;
    case 'conjunction': {
      const m = /^\s*(0x[0-9a-f]+|\d+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/i.exec(value);
      if (!m) return fail(`"conjunction" syntax is "conjunction(id,i/n)"`, valueAt);
      const id = Number(BigInt(m[1]!));
      const clause = Number(m[2]);
      const n = Number(m[3]);
      if (n < 2) fail('conjunction must have at least 2 clauses', valueAt);
      if (n > 64) fail('conjunction must have at most 64 clauses', valueAt);
      if (clause < 1) fail('clause index must be positive', valueAt);
      if (clause > n) fail('clause index must be less than or equal to number of clauses', valueAt);
      out.push({ type: 'conjunction', id, clause: clause - 1, nClauses: n });
      return;
    }
    default:
      fail(`unknown action ${key}`, keyAt);
  }
}

// ---------------------------------------------------------------------------------------------
// Instructions

const INSTRUCTION_ORDER = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];

export function parseActions(text: string, offset: number, match: Match, inWriteActions = false): Instructions {
  const ctx: Context = { match, vlan: matchHasVlan(match), inWriteActions };
  const apply: Action[] = [];
  let meter: number | undefined, clear = false, write: Action[] | undefined, gotoTable: number | undefined;
  let writeMetadata: { value: bigint; mask: bigint } | undefined;
  let last = -1;
  let sawDrop = -1;
  const kvs = splitKeyValues(text, offset);
  const order = (name: string, keyAt: number): void => {
    const i = INSTRUCTION_ORDER.indexOf(name);
    if (i < last) {
      fail(`invalid instruction ordering: ${name} must appear before ${INSTRUCTION_ORDER[last]}, for OpenFlow 1.1+ compatibility`, keyAt);
    }
    if (i === last && name !== 'apply_actions') fail(`duplicate ${name} instruction`, keyAt);
    last = i;
  };
  for (const kv of kvs) {
    const k = kv.key.toLowerCase();
    // Refused before any recursion, as ovs-ofctl does: write_actions nested deep cost O(n²) and the stack.
    if (inWriteActions && k === 'meter') fail(`write_actions action doesn't support nested action meter`, kv.keyAt);
    if (inWriteActions && k !== 'apply_actions' && INSTRUCTION_ORDER.includes(k)) fail(`${k} instruction not allowed here`, kv.keyAt);
    switch (k) {
      case 'drop':
        sawDrop = kv.keyAt;
        continue;
      case 'meter':
        order('meter', kv.keyAt);
        meter = intArg(kv.value, kv.valueAt, 0xffffffff, 'meter');
        continue;
      case 'clear_actions':
        order('clear_actions', kv.keyAt);
        clear = true;
        continue;
      case 'write_actions': {
        order('write_actions', kv.keyAt);
        write = [...parseActions(kv.value, kv.valueAt, match, true).apply];
        continue;
      }
      case 'write_metadata': {
        order('write_metadata', kv.keyAt);
        const [v, m] = kv.value.split('/');
        writeMetadata = {
          value: at(kv.valueAt, () => parseUint(v!)),
          mask: m === undefined ? allOnes(64) : at(kv.valueAt, () => parseUint(m)),
        };
        continue;
      }
      case 'goto_table': {
        order('goto_table', kv.keyAt);
        const t = Number(kv.value);
        if (!/^\d+$/.test(kv.value) || t > 254) fail(`unknown table "${kv.value}"`, kv.valueAt);
        gotoTable = t;
        continue;
      }
      case 'apply_actions':
        fail('apply_actions is the default instruction', kv.keyAt);
        continue;
      default:
        order('apply_actions', kv.keyAt);
        parseOne(ctx, kv, apply);
    }
  }
  const hasAny = apply.length > 0 || meter !== undefined || clear || write !== undefined || writeMetadata || gotoTable !== undefined;
  if (sawDrop >= 0 && hasAny) fail('"drop" must not be accompanied by any other action or instruction', sawDrop);
  const conj = apply.findIndex((a) => a.type === 'conjunction');
  if (conj >= 0) {
    const other = apply.find((a) => a.type !== 'conjunction' && a.type !== 'note');
    if (other) {
      fail(`"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.type}" action used here)`, offset);
    }
  }
  return {
    apply,
    ...(meter !== undefined ? { meter } : {}),
    ...(clear ? { clear } : {}),
    ...(write && write.length ? { write } : {}),
    ...(writeMetadata ? { writeMetadata } : {}),
    ...(gotoTable !== undefined ? { gotoTable } : {}),
  };
}
