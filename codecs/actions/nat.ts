// nat: the address/port translation of a ct action (NXAST_NAT), only ever inside ct (ct.ts prints
// a leading one outside exec(), as OVS does). Text: nat, nat(src|dst[=IP[-IP][:PORT[-PORT]]],
// persistent,hash,random); IPv6 addresses in brackets when a port follows.
import { fail, inColumn } from '../ofctl/syntax.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, ValueError } from '../ofctl/values.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Nat {
  readonly type: 'nat';
  /** NX_NAT_F_*: src 1, dst 2, persistent 4, hash 8, random 16. */
  readonly flags: number;
  /** The address family of the range ('none': no range). */
  readonly af: 'none' | 'ipv4' | 'ipv6';
  /** Range bounds; 0 means absent, as OVS keeps them. */
  readonly addrMin: bigint;
  readonly addrMax: bigint;
  readonly portMin: number;
  readonly portMax: number;
}

const NXAST_NAT = 36;
const F_SRC = 1, F_DST = 2, F_PERSISTENT = 4, F_HASH = 8, F_RANDOM = 16, F_MASK = 31;
const R_IPV4_MIN = 1, R_IPV4_MAX = 2, R_IPV6_MIN = 4, R_IPV6_MAX = 8, R_PROTO_MIN = 16, R_PROTO_MAX = 32;

/** encode_NAT(): each nonzero bound, in this order. */
function ranges(a: Nat): number {
  let p = 0;
  if (a.af === 'ipv4') p |= (a.addrMin ? R_IPV4_MIN : 0) | (a.addrMax ? R_IPV4_MAX : 0);
  if (a.af === 'ipv6') p |= (a.addrMin ? R_IPV6_MIN : 0) | (a.addrMax ? R_IPV6_MAX : 0);
  if (a.af !== 'none') p |= (a.portMin ? R_PROTO_MIN : 0) | (a.portMax ? R_PROTO_MAX : 0);
  return p;
}

const rangeBytes = (p: number): number =>
  (p & R_IPV4_MIN ? 4 : 0) + (p & R_IPV4_MAX ? 4 : 0) + (p & R_IPV6_MIN ? 16 : 0) + (p & R_IPV6_MAX ? 16 : 0)
  + (p & R_PROTO_MIN ? 2 : 0) + (p & R_PROTO_MAX ? 2 : 0);

/** str_to_nat_range(): IP[-IP][:PORT[-PORT]], IPv6 optionally in brackets. */
function parseRange(s: string, at: number): Pick<Nat, 'af' | 'addrMin' | 'addrMax' | 'portMin' | 'portMax'> {
  const bad = (): never => fail(`invalid nat range "${s}"`, at);
  let n = 0;
  let af: Nat['af'] = 'none';
  let addrMin = 0n, addrMax = 0n, portMin = 0, portMax = 0;
  const v4 = (): bigint | undefined => {
    const m = /^\d+\.\d+\.\d+\.\d+/.exec(s.slice(n));
    if (!m) return undefined;
    n += m[0].length;
    // A bad address (10.0.0.24001) is a syntax error at the range, not a crash.
    return inColumn(at, () => parseIpv4(m[0]));
  };
  const v6 = (): bigint | undefined => {
    const m = /^(?:\[([0-9a-fA-F:.]{1,46})\]|([0-9a-fA-F:.]{1,46}))/.exec(s.slice(n));
    if (!m) return undefined;
    try {
      const v = parseIpv6(m[1] ?? m[2]!);
      n += m[0].length;
      return v;
    } catch (err) {
      if (err instanceof ValueError) return undefined;
      throw err;
    }
  };
  const port = (): number => {
    const m = /^\d+/.exec(s.slice(n));
    if (!m || Number(m[0]) > 0xffff) return bad();
    n += m[0].length;
    return Number(m[0]);
  };
  const min4 = v4();
  const min = min4 ?? v6();
  if (min !== undefined) {
    af = min4 !== undefined ? 'ipv4' : 'ipv6';
    addrMin = min;
    if (s[n] === '-') {
      n++;
      const max = af === 'ipv4' ? v4() : v6();
      if (max === undefined || max < min) bad();
      addrMax = max!;
    }
    if (s[n] === ':') {
      n++;
      portMin = port();
      if (s[n] === '-') {
        n++;
        portMax = port();
        if (portMax < portMin) bad();
      }
    }
  }
  if (n !== s.length) fail(`garbage (${s.slice(n)}) after nat range "${s}" (pos: ${n})`, at);
  return { af, addrMin, addrMax, portMin, portMax };
}

/** parse_NAT(): the argument of `nat(...)` ('' for a bare nat). */
export function parseNat(text: string, at: number): Nat {
  let flags = 0;
  let range: Pick<Nat, 'af' | 'addrMin' | 'addrMax' | 'portMin' | 'portMax'> = { af: 'none', addrMin: 0n, addrMax: 0n, portMin: 0, portMax: 0 };
  for (const kv of splitKeyValues(text, at)) {
    const k = kv.key;
    if (k === 'src' || k === 'dst') {
      flags |= k === 'src' ? F_SRC : F_DST;
      range = parseRange(kv.value, kv.valueAt);
    } else if (k === 'persistent') flags |= F_PERSISTENT;
    else if (k === 'hash') flags |= F_HASH;
    else if (k === 'random') flags |= F_RANDOM;
    else fail(`invalid key "${k}" in "nat" argument`, kv.keyAt);
  }
  if (flags & F_SRC && flags & F_DST) fail('May only specify one of "src" or "dst".', at);
  if (!(flags & (F_SRC | F_DST))) {
    if (flags) fail('Flags allowed only with "src" or "dst".', at);
    if (range.af !== 'none') fail('Range allowed only with "src" or "dst".', at);
  }
  if (flags & F_HASH && flags & F_RANDOM) fail('Both "hash" and "random" are not allowed.', at);
  return { type: 'nat', flags, ...range };
}

export const nat: ActionRecord<Nat> = {
  wire: [{ nx: NXAST_NAT }],
  encode: (w, a) => {
    const p = ranges(a);
    const len = (16 + rangeBytes(p) + 7) & ~7;
    const start = w.pos;
    nxHeader(w, len, NXAST_NAT);
    w.zeros(2).u16(a.flags).u16(p);
    const addr = a.af === 'ipv4' ? 4 : 16;
    if (a.addrMin) w.uint(a.addrMin, addr);
    if (a.addrMax) w.uint(a.addrMax, addr);
    if (p & R_PROTO_MIN) w.u16(a.portMin);
    if (p & R_PROTO_MAX) w.u16(a.portMax);
    w.padTo(8, start);
  },
  decode: (r, _id, len, at) => {
    // decode_NXAST_RAW_NAT(): what OVS refuses is refused here too.
    r.skip(2);
    const flags = r.u16();
    const p = r.u16();
    const bad = (): never => r.fail('nat action has invalid flags or ranges', at);
    if (flags & ~F_MASK || (flags & F_SRC && flags & F_DST)) bad();
    if (len - 16 < rangeBytes(p)) r.fail('nat action shorter than its ranges', at);
    let af: Nat['af'] = 'none';
    let addrMin = 0n, addrMax = 0n, portMin = 0, portMax = 0;
    if (p & R_IPV4_MIN) {
      if (p & (R_IPV6_MIN | R_IPV6_MAX)) bad();
      af = 'ipv4';
      addrMin = r.uint(4);
      if (p & R_IPV4_MAX) {
        addrMax = r.uint(4);
        if (addrMax < addrMin) bad();
      }
    } else if (p & R_IPV4_MAX) {
      bad();
    } else if (p & R_IPV6_MIN) {
      af = 'ipv6';
      addrMin = r.uint(16);
      if (p & R_IPV6_MAX) {
        addrMax = r.uint(16);
        if (addrMax < addrMin) bad();
      }
    } else if (p & R_IPV6_MAX) {
      bad();
    }
    if (p & R_PROTO_MIN) {
      if (af === 'none') bad();
      portMin = r.u16();
      if (p & R_PROTO_MAX) {
        portMax = r.u16();
        if (portMax < portMin) bad();
      }
    } else if (p & R_PROTO_MAX) {
      bad();
    }
    return { type: 'nat', flags, af, addrMin, addrMax, portMin, portMax };
  },
  print: (a) => {
    // format_NAT()
    if (!(a.flags & (F_SRC | F_DST))) return 'nat';
    let s = `nat(${a.flags & F_SRC ? 'src' : 'dst'}`;
    if (a.af !== 'none') {
      s += '=';
      if (a.af === 'ipv4') {
        s += formatIpv4(a.addrMin);
        if (a.addrMax && a.addrMax !== a.addrMin) s += `-${formatIpv4(a.addrMax)}`;
      } else {
        const v6 = (v: bigint): string => (a.portMin ? `[${formatIpv6(v)}]` : formatIpv6(v));
        s += v6(a.addrMin);
        if (a.addrMax && a.addrMax !== a.addrMin) s += `-${v6(a.addrMax)}`;
      }
      if (a.portMin) {
        s += `:${a.portMin}`;
        if (a.portMax && a.portMax !== a.portMin) s += `-${a.portMax}`;
      }
    }
    if (a.flags & F_PERSISTENT) s += ',persistent';
    if (a.flags & F_HASH) s += ',hash';
    if (a.flags & F_RANDOM) s += ',random';
    return `${s})`;
  },
  parse: {
    // Refused outside ct by the nesting check (index.ts); ct reads its own nat key.
    nat: ({ value, valueAt }, _ctx, out) => {
      out.push(parseNat(value, valueAt));
    },
  },
};
