// match_format() of OVS 3.1 (lib/match.c): the canonical text of a match. Which view of a slot
// prints, under which name, where and how, is each field row's `print` (fields.ts); what is left
// here is the protocol keyword (ip, tcp6, arp…) that stands for dl_type and nw_proto. This runs
// once per flow of every dump (100k flows), so it appends to one string and allocates little.
import {
  allOnes, FieldDef, FIELDS, FIELDS_OF_SLOT, MatchPrint, PROTOCOL_KEYWORDS, PrintCondition, prereqHolds, ProtocolContext, Slot, SLOT_BITS,
} from '../openflow/fields.js';
import {
  byteLength, entryImpliesEthernet, ETH_TYPE_IP, ETH_TYPE_IPV6, Match, MatchEntry, packetDlType, UnknownOxm, variableMasked,
} from '../openflow/match.js';
import {
  formatFieldValue, formatFlags, formatIpv4Masked, formatIpv6Masked, formatMacMasked, formatPacketType, hexOrZero,
} from './values.js';

/** The keyword match_format() prints for a dl_type: its own, and by IP protocol (the first entry of each wins). */
const KEYWORD_OF: ReadonlyMap<bigint, { readonly plain?: string; readonly byProto: ReadonlyMap<bigint, string> }> = (() => {
  const m = new Map<bigint, { plain?: string; byProto: Map<bigint, string> }>();
  for (const k of PROTOCOL_KEYWORDS) {
    let e = m.get(k.dlType);
    if (!e) m.set(k.dlType, (e = { byProto: new Map() }));
    if (k.nwProto === undefined) e.plain ??= k.name;
    else if (!e.byProto.has(k.nwProto)) e.byProto.set(k.nwProto, k.name);
  }
  return m;
})();

/** format_be16_masked: decimal when exact, `0x%x/0x%x` otherwise. */
function be16Masked(name: string, e: MatchEntry): string {
  return e.mask === 0xffffn ? `${name}=${e.value}` : `${name}=0x${e.value.toString(16)}/0x${e.mask.toString(16)}`;
}

/**
 * The VLAN TCI under its mask as OVS prints it: dl_vlan/dl_vlan_pcp when they say it all, else
 * vlan_tci; `tag` 1 for the inner tag of a packet's flow (dl_vlan1, vlan_tci1…).
 */
export function formatVlanTci(value: number, mask: number, tag = 0): string {
  const i = tag ? `${tag}` : '';
  const vidMask = mask & 0x0fff;
  const pcpMask = mask & 0xe000;
  if (mask & 0x1000 && value & 0x1000 && (vidMask === 0 || vidMask === 0xfff)
    && (pcpMask === 0 || pcpMask === 0xe000) && (vidMask || pcpMask)) {
    const vid = vidMask ? `dl_vlan${i}=${value & 0xfff}` : '';
    const pcp = pcpMask ? `dl_vlan_pcp${i}=${value >> 13}` : '';
    return vid && pcp ? `${vid},${pcp}` : vid || pcp;
  }
  const v = `0x${value.toString(16).padStart(4, '0')}`;
  return mask === 0xffff ? `vlan_tci${i}=${v}` : `vlan_tci${i}=${v}/0x${mask.toString(16).padStart(4, '0')}`;
}

export type Test = (c: ProtocolContext) => boolean;

/** Whether a print condition holds in a context (the byte printer's views test the same). */
export function test(c: PrintCondition): Test {
  switch (c) {
    case 'igmp':
      return (ctx) => ctx.dlType === ETH_TYPE_IP && ctx.nwProto === 2n;
    case 'erspan_v1':
      return (ctx) => ctx.erspanVer === 1n;
    case 'erspan_v2':
      return (ctx) => ctx.erspanVer === 2n;
    case 'nsh_md1':
      return (ctx) => ctx.nshMdType === 1n;
    default:
      return (ctx) => prereqHolds(c, ctx);
  }
}

/** A view's text ('' when it prints nothing), its style resolved once. */
export type Text = (e: MatchEntry, ctx: ProtocolContext) => string;

export function textOf(f: FieldDef, p: MatchPrint): Text {
  const as = p.as ?? f.name;
  const renamed = p.asWhen && test(p.asWhen[0]);
  const nameOf = renamed ? (ctx: ProtocolContext): string => (renamed(ctx) ? p.asWhen![1] : as) : (): string => as;
  const full = allOnes(SLOT_BITS[f.slot]);
  const shift = BigInt(f.slotShift ?? 0);
  if (f.variableLen) return variableText(f, as);
  const hex: Text = (e, ctx) => (e.mask === full ? `${nameOf(ctx)}=${hexOrZero(e.value)}` : `${nameOf(ctx)}=${hexOrZero(e.value)}/${hexOrZero(e.mask)}`);
  switch (p.style) {
    case 'field':
      switch (f.format) {
        case 'ethernet':
          return (e, ctx) => `${nameOf(ctx)}=${formatMacMasked(e.value, e.mask)}`;
        case 'ipv4':
          return (e, ctx) => `${nameOf(ctx)}=${formatIpv4Masked(e.value, e.mask)}`;
        case 'ipv6':
          return (e, ctx) => `${nameOf(ctx)}=${formatIpv6Masked(e.value, e.mask)}`;
        case 'hex':
          return hex;
        default:
          return (e, ctx) => `${nameOf(ctx)}=${formatFieldValue(f, e.value, e.mask === full ? undefined : e.mask)}`;
      }
    case 'value':
      return f.format === 'hex'
        ? (e, ctx) => `${nameOf(ctx)}=${hexOrZero((e.value & f.slotMask) >> shift)}`
        : (e, ctx) => `${nameOf(ctx)}=${(e.value & f.slotMask) >> shift}`;
    case 'hex':
      return hex;
    case 'u8': {
      const x2 = (v: bigint): string => `0x${v.toString(16).padStart(2, '0')}`;
      return (e, ctx) => (e.mask === 0xffn ? `${nameOf(ctx)}=${e.value}` : `${nameOf(ctx)}=${x2(e.value)}/${x2(e.mask)}`);
    }
    case 'be16':
      return (e, ctx) => be16Masked(nameOf(ctx), e);
    case 'dl_type':
      return (e, ctx) => `${nameOf(ctx)}=0x${e.value.toString(16).padStart(4, '0')}`;
    case 'label':
      return (e, ctx) => {
        const v = `0x${e.value.toString(16).padStart(5, '0')}`;
        return e.mask === 0xfffffn || e.mask === 0xffffffffn ? `${nameOf(ctx)}=${v}` : `${nameOf(ctx)}=${v}/0x${e.mask.toString(16).padStart(5, '0')}`;
      };
    case 'vlan_tci':
      return (e) => formatVlanTci(Number(e.value), Number(e.mask));
    case 'packet_type':
      // The default (Ethernet) is not printed, as OVS does not.
      return (e, ctx) => (e.value === 0n ? '' : `${nameOf(ctx)}=${formatPacketType(e.value)}`);
    case 'flags': {
      // The flag bits OVS keeps (ct_state: 8 of 32; tcp_flags: 12 of its 16-bit slot).
      const all = allOnes(Math.min(f.bits, SLOT_BITS[f.slot]));
      return (e, ctx) => `${nameOf(ctx)}=${formatFlags(f, e.value & all, e.mask & all, all)}`;
    }
  }
}

/**
 * tun_metadata_match_format() without a TLV map: the value at the shortest length that holds it
 * (and the mask, when masked), the mask only when not all ones over that length, and the name
 * alone when masked with nothing of it matched.
 */
function variableText(f: FieldDef, name: string): Text {
  return (e) => {
    const masked = variableMasked(f, e);
    const len = masked ? Math.max(byteLength(e.value), byteLength(e.mask)) : byteLength(e.value);
    const m = e.mask & allOnes(len * 8);
    if (masked && m === 0n) return name;
    return m === allOnes(len * 8) ? `${name}=${hexOrZero(e.value)}` : `${name}=${hexOrZero(e.value)}/${hexOrZero(m)}`;
  };
}

/** A printing view of a slot, with what printing it needs worked out once. */
export interface View {
  readonly rank: number;
  /** The slot's bits this view prints (nw_tos and nw_ecn share one slot). */
  readonly bits: bigint;
  /** Its when/unless conditions; undefined: always. */
  readonly ok: Test | undefined;
  readonly text: Text;
}

export function viewOf(f: FieldDef, p: MatchPrint): View {
  const tests = [...(p.when ? [test(p.when)] : []), ...(p.unless ?? []).map((c): Test => {
    const t = test(c);
    return (ctx) => !t(ctx);
  })];
  const ok = tests.length === 0 ? undefined : tests.length === 1 ? tests[0] : (ctx: ProtocolContext): boolean => tests.every((t) => t(ctx));
  return { rank: p.rank, bits: f.slotMask | f.exactMask, ok, text: textOf(f, p) };
}

/** Each slot's views, built on its first print (a dump prints a few of the ~120 slots). */
const VIEWS_OF_SLOT = new Map<Slot, readonly View[]>();
function viewsOfSlot(slot: Slot): readonly View[] {
  let vs = VIEWS_OF_SLOT.get(slot);
  if (!vs) VIEWS_OF_SLOT.set(slot, (vs = FIELDS_OF_SLOT.get(slot)!.flatMap((f): View[] => (f.print ? [viewOf(f, f.print)] : []))));
  return vs;
}
/** Scratch: the views to print for one match and their entries, sorted by rank (matches are printed one at a time). */
const views: View[] = new Array<View>(FIELDS.length);
const entries: MatchEntry[] = new Array<MatchEntry>(FIELDS.length);

const NO_KEYWORD: { readonly keyword?: string; readonly skipProto: boolean } = { skipProto: false };

/** The protocol keyword for a dl_type and IP protocol, and whether it also stands for nw_proto (tcp, icmp6…). */
export function protocolKeyword(dlType: bigint, nwProto: bigint | undefined): { readonly keyword?: string; readonly skipProto: boolean } {
  const k = KEYWORD_OF.get(dlType);
  const ip = dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6;
  const withProto = ip && nwProto !== undefined ? k?.byProto.get(nwProto) : undefined;
  return withProto !== undefined ? { keyword: withProto, skipProto: true } : { ...(k?.plain !== undefined ? { keyword: k.plain } : {}), skipProto: false };
}

/** The packet type is Ethernet: said (packet_type=(0,0)) or implied by an Ethernet-level field (settleEthernet()). */
function isEthernet(m: Match): boolean {
  const pt = m.get('packet_type');
  if (pt) return pt.value === 0n;
  for (const [slot, e] of m) if (entryImpliesEthernet(slot, e)) return true;
  return false;
}

/** The match text, starting with `priority=N` unless N is the default; '' for a catch-all. */
export function formatMatch(m: Match, priority: number, unknown: readonly UnknownOxm[] = []): string {
  let s = priority !== 0x8000 ? `priority=${priority}` : '';
  const add = (part: string): void => {
    if (part) s = s ? `${s},${part}` : part;
  };
  if (m.size === 0 && unknown.length === 0) return s;

  // Values whatever their mask, as match_format() reads match->flow.
  const dlType = m.get('dl_type')?.value;
  const nwProto = m.get('nw_proto')?.value;
  const tci = m.get('vlan_tci');
  const md = m.get('nsh_mdtype');
  const ctx: ProtocolContext = {
    // As match_format(): a packet type of namespace 1 stands for its Ethertype.
    dlType: packetDlType(m), nwProto, vlan: tci !== undefined && (tci.value & 0x1fffn) !== 0n, icmpType: m.get('tp_src')?.value, ndCode: true,
    ctNwProto: m.get('ct_nw_proto')?.value, erspanVer: m.get('tun_erspan_ver')?.value,
    nshMdType: md && md.mask === 0xffn ? md.value : undefined,
  };
  // The protocol keyword stands for dl_type, and for nw_proto when one names it (tcp, icmp6…).
  const { keyword, skipProto } = dlType !== undefined ? protocolKeyword(dlType, nwProto) : NO_KEYWORD;

  let n = 0;
  for (const [slot, e] of m) {
    if ((slot === 'dl_type' && keyword !== undefined) || (slot === 'nw_proto' && skipProto)) continue;
    for (const v of viewsOfSlot(slot)) {
      if (((e.mask & v.bits) === 0n && e.len === undefined) || (v.ok !== undefined && !v.ok(ctx))) continue;
      let k = n++;
      for (; k > 0 && views[k - 1]!.rank > v.rank; k--) {
        views[k] = views[k - 1]!;
        entries[k] = entries[k - 1]!;
      }
      views[k] = v;
      entries[k] = e;
    }
  }
  // The keyword prints after pkt_mark, conj_id, conntrack and packet_type, before the registers.
  let k = 0;
  for (; k < n && views[k]!.rank < 35; k++) add(views[k]!.text(entries[k]!, ctx));
  // With recirc_id (a datapath flow's field), OVS also prints the Ethernet packet type, said or implied.
  if (m.has('recirc_id') && isEthernet(m)) add('eth');
  if (keyword !== undefined) add(keyword);
  for (; k < n; k++) add(views[k]!.text(entries[k]!, ctx));
  for (const u of unknown) add(`unknown_oxm=${u.bytes.toString('hex')}`);
  return s;
}
