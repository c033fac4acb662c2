// ct: send the packet through the connection tracker (NXAST_CT), optionally committing it, in a
// zone given as a number or a 16-bit subfield, then resubmitting to a table; nested actions (a nat,
// and exec(...): writes to ct_mark and ct_label) apply to the connection. Text as OVS's format_CT():
// ct(commit,force,table=N,zone=Z,nat(...),exec(...),alg=ftp).
//
// The nested list is read, written and printed by the action codec itself (index.ts), which
// imports this record: the two modules refer to each other only inside functions, at run time.
import type { Reader, Writer } from '../openflow/bytes.js';
import { refuse } from '../openflow/errors.js';
import { fieldByName } from '../openflow/fields.js';
import { ETH_TYPE_IP, ETH_TYPE_IPV6, IPPROTO_TCP, IPPROTO_UDP, slotValue } from '../openflow/match.js';
import { checkSubfield, encodeOfsNbits, readSubfieldHeader, Subfield, subfieldHeader } from '../openflow/subfield.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { formatSubfield, parseSubfield } from '../ofctl/subfield.js';
import { fail } from '../ofctl/syntax.js';
import { parseUint } from '../ofctl/values.js';
import { Action, decodeActions, encodeActions, formatAction, parseAction } from './index.js';
import { parseNat } from './nat.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Ct {
  readonly type: 'ct';
  /** NX_CT_F_*: commit 1, force 2. */
  readonly flags: number;
  /** The zone: a subfield (16 bits), else the immediate. */
  readonly zoneSrc?: Subfield;
  readonly zoneImm: number;
  /** The table to resubmit to; 255: none. */
  readonly table: number;
  /** The ALG's well-known port (21 ftp, 69 tftp; 0 none). */
  readonly alg: number;
  /** Nested actions, in order (a nat, set_field/load/move to ct_mark or ct_label). */
  readonly actions: readonly Action[];
}

const NXAST_CT = 35;
const F_COMMIT = 1, F_FORCE = 2;
const NO_TABLE = 255;
const ALGS: ReadonlyMap<string, number> = new Map([['ftp', 21], ['tftp', 69]]);
const ALG_NAMES: ReadonlyMap<number, string> = new Map([...ALGS].map(([k, v]) => [v, k]));
const CT_STATE = fieldByName('ct_state')!;
const CS_INVALID = 0x10n;

/** OVS's check_CT(): what the match must say for a ct action (else the flow is inconsistent). */
function checkMatch(a: Ct, match: Parameters<typeof slotValue>[0], at: number): void {
  const why = ctMatchWhy(a, match);
  if (why) fail(`actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): ${why}`, at);
}

/** checkMatch()'s test alone: why the match does not allow this ct action, else undefined. */
export function ctMatchWhy(a: Ct, match: Parameters<typeof slotValue>[0]): string | undefined {
  const dlType = slotValue(match, 'dl_type');
  const nwProto = match.get('nw_proto')?.value;
  const invalid = ((match.get(CT_STATE.slot)?.value ?? 0n) & CS_INVALID) !== 0n;
  const why = dlType !== ETH_TYPE_IP && dlType !== ETH_TYPE_IPV6 ? 'ct needs an ip or ipv6 match'
    : invalid && a.flags & F_COMMIT ? 'ct cannot commit a +inv connection'
      : a.alg === 21 && nwProto !== IPPROTO_TCP ? 'alg=ftp needs a tcp match'
        : a.alg === 69 && nwProto !== IPPROTO_UDP ? 'alg=tftp needs a udp match' : undefined;
  // check_NAT(): the nat's address family must be the match's.
  const nat = a.actions.find((n) => n.type === 'nat');
  const natWhy = nat?.af === 'ipv4' && dlType !== ETH_TYPE_IP ? 'an IPv4 nat range needs an ip match'
    : nat?.af === 'ipv6' && dlType !== ETH_TYPE_IPV6 ? 'an IPv6 nat range needs an ipv6 match' : undefined;
  return why ?? natWhy;
}

export const ct: ActionRecord<Ct> = {
  wire: [{ nx: NXAST_CT }],
  encode: (w: Writer, a) => {
    const start = w.pos;
    nxHeader(w, 0, NXAST_CT);
    w.u16(a.flags);
    if (a.zoneSrc) w.u32(subfieldHeader(a.zoneSrc.field)).u16(encodeOfsNbits(a.zoneSrc.ofs, a.zoneSrc.nBits));
    else w.u32(0).u16(a.zoneImm);
    w.u8(a.table).zeros(3).u16(a.alg);
    encodeActions(w, a.actions);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r: Reader, _id, _len, at) => {
    const flags = r.u16();
    if (flags & F_FORCE && !(flags & F_COMMIT)) r.fail('ct force flag without commit', at);
    const zAt = r.pos;
    const zoneHeader = r.buf.readUInt32BE(r.pos);
    let zoneSrc: Subfield | undefined;
    let zoneImm = 0;
    if (zoneHeader !== 0) {
      const field = readSubfieldHeader(r);
      const ofsNbits = r.u16();
      zoneSrc = checkSubfield(r, { field, ofs: ofsNbits >> 6, nBits: (ofsNbits & 63) + 1 }, zAt);
      // ovs-ofctl writes a zone subfield of any width; its decoder and ovs-vswitchd refuse it so.
      if (zoneSrc.nBits !== 16) refuse(`ct zone subfield of ${zoneSrc.nBits} bits (16 needed)`, zAt, 'OFPBAC_BAD_SET_LEN');
    } else {
      r.skip(4);
      zoneImm = r.u16();
    }
    const table = r.u8();
    r.skip(3);
    const alg = r.u16();
    const actions = decodeActions(r.sub(r.remaining), true);
    // As OVS's decoder: without commit, only a nat without arguments may be nested.
    if (!(flags & F_COMMIT) && actions.some((n) => n.type !== 'nat' || n.flags !== 0 || n.af !== 'none')) {
      r.fail('ct action without commit may only nest a nat without arguments', at);
    }
    return { type: 'ct', flags, ...(zoneSrc ? { zoneSrc } : {}), zoneImm, table, alg, actions };
  },
  print: (a) => {
    const parts: string[] = [];
    if (a.flags & F_COMMIT) parts.push('commit');
    if (a.flags & F_FORCE) parts.push('force');
    if (a.table !== NO_TABLE) parts.push(`table=${a.table}`);
    if (a.zoneSrc) parts.push(`zone=${formatSubfield(a.zoneSrc)}`);
    else if (a.zoneImm) parts.push(`zone=${a.zoneImm}`);
    let rest = a.actions;
    // A leading nat prints outside exec().
    if (rest[0]?.type === 'nat') {
      parts.push(formatAction(rest[0]));
      rest = rest.slice(1);
    }
    if (rest.length) parts.push(`exec(${rest.map(formatAction).join(',')})`);
    if (a.alg) parts.push(`alg=${ALG_NAMES.get(a.alg) ?? a.alg}`);
    return `ct(${parts.join(',')})`;
  },
  parse: {
    ct: ({ value, valueAt, keyAt }, ctx, out) => {
      let flags = 0, zoneImm = 0, table = NO_TABLE, alg = 0;
      let zoneSrc: Subfield | undefined;
      const actions: Action[] = [];
      for (const kv of splitKeyValues(value, valueAt)) {
        switch (kv.key) {
          case 'commit':
            flags |= F_COMMIT;
            break;
          case 'force':
            flags |= F_FORCE;
            break;
          case 'table': {
            if (!/^\d+$/.test(kv.value) || Number(kv.value) > 255) fail(`unknown table ${kv.value}`, kv.valueAt);
            table = Number(kv.value);
            if (table === NO_TABLE) fail('invalid table 0xff', kv.valueAt);
            break;
          }
          case 'zone': {
            // A number up to 65535, else a subfield (str_to_u16, then mf_parse_subfield).
            let n: bigint | undefined;
            try {
              n = parseUint(kv.value);
            } catch {
              n = undefined;
            }
            if (n !== undefined && n <= 0xffffn) {
              zoneImm = Number(n);
              zoneSrc = undefined;
            } else {
              if (n !== undefined) fail(`${kv.value}: unknown field \`${kv.value}'`, kv.valueAt);
              zoneSrc = parseSubfield(kv.value, kv.valueAt);
            }
            break;
          }
          case 'alg': {
            const port = ALGS.get(kv.value);
            if (port === undefined) fail(`invalid conntrack helper "${kv.value}"`, kv.valueAt);
            alg = port!;
            break;
          }
          case 'nat':
            actions.push(parseNat(kv.value, kv.valueAt));
            break;
          case 'exec': {
            const inner = { match: ctx.match, inWriteActions: ctx.inWriteActions, vlan: ctx.vlan, inCt: true, usable: ctx.usable, unchecked: ctx.unchecked };
            for (const a of splitKeyValues(kv.value, kv.valueAt)) parseAction(a, inner, actions);
            break;
          }
          default:
            fail(`invalid argument to "ct" action: \`${kv.key}'`, kv.keyAt);
        }
      }
      if (flags & F_FORCE && !(flags & F_COMMIT)) fail('"force" flag requires "commit" flag.', keyAt);
      const a: Ct = { type: 'ct', flags, ...(zoneSrc ? { zoneSrc } : {}), zoneImm, table, alg, actions };
      if (!ctx.unchecked) checkMatch(a, ctx.match, keyAt);
      out.push(a);
    },
  },
};
