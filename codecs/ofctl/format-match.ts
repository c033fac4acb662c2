// match_format() of OVS 3.1 (lib/match.c): the canonical text of a match. Which view of a slot
// prints, under which name, where and how, is each field row's `print` (fields.ts); what is left
// here is the protocol keyword (ip, tcp6, arp…) that stands for dl_type and nw_proto. This runs
// once per flow of every dump (100k flows), so it appends to one string and allocates little.
import {
  allOnes, FieldDef, FIELDS, FIELDS_OF_SLOT, PROTOCOL_KEYWORDS, PrintCondition, prereqHolds, ProtocolContext, Slot, SLOT_BITS,
} from '../openflow/fields.js';
import { ETH_TYPE_IP, ETH_TYPE_IPV6, Match, MatchEntry, UnknownOxm } from '../openflow/match.js';
import { formatFieldValue, formatPacketType } from './values.js';

/** The keyword match_format() prints for a dl_type (and IP protocol), keyed `${dlType}/${nwProto ?? ''}`. */
const KEYWORD_OF: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const k of PROTOCOL_KEYWORDS) {
    const key = `${k.dlType}/${k.nwProto ?? ''}`;
    if (!m.has(key)) m.set(key, k.name);
  }
  return m;
})();

/** The printing views of each slot (rows with a `print`). */
const PRINTED_OF_SLOT: ReadonlyMap<Slot, readonly FieldDef[]> = new Map(
  [...FIELDS_OF_SLOT].map(([slot, fs]) => [slot, fs.filter((f) => f.print !== undefined)]),
);
/** Scratch: the views to print for one match and their entries, sorted by rank (matches are printed one at a time). */
const views: FieldDef[] = new Array<FieldDef>(FIELDS.length);
const entries: MatchEntry[] = new Array<MatchEntry>(FIELDS.length);

function holdsAny(cs: readonly PrintCondition[], ctx: ProtocolContext): boolean {
  for (const c of cs) if (holds(c, ctx)) return true;
  return false;
}

/** format_be16_masked: decimal when exact, `0x%x/0x%x` otherwise. */
function be16Masked(name: string, e: MatchEntry): string {
  return e.mask === 0xffffn ? `${name}=${e.value}` : `${name}=0x${e.value.toString(16)}/0x${e.mask.toString(16)}`;
}

/** The VLAN TCI under its mask as OVS prints it: dl_vlan/dl_vlan_pcp when they say it all, else vlan_tci. */
export function formatVlanTci(value: number, mask: number): string {
  const vidMask = mask & 0x0fff;
  const pcpMask = mask & 0xe000;
  if (mask & 0x1000 && value & 0x1000 && (vidMask === 0 || vidMask === 0xfff)
    && (pcpMask === 0 || pcpMask === 0xe000) && (vidMask || pcpMask)) {
    const vid = vidMask ? `dl_vlan=${value & 0xfff}` : '';
    const pcp = pcpMask ? `dl_vlan_pcp=${value >> 13}` : '';
    return vid && pcp ? `${vid},${pcp}` : vid || pcp;
  }
  const v = `0x${value.toString(16).padStart(4, '0')}`;
  return mask === 0xffff ? `vlan_tci=${v}` : `vlan_tci=${v}/0x${mask.toString(16).padStart(4, '0')}`;
}

function holds(c: PrintCondition, ctx: ProtocolContext): boolean {
  return c === 'igmp' ? ctx.dlType === ETH_TYPE_IP && ctx.nwProto === 2n : prereqHolds(c, ctx);
}

/** One view's text ('' when it prints nothing). */
function viewText(f: FieldDef, e: MatchEntry, ctx: ProtocolContext): string {
  const p = f.print!;
  const name = p.asWhen && holds(p.asWhen[0], ctx) ? p.asWhen[1] : p.as ?? f.name;
  switch (p.style) {
    case 'field':
      return `${name}=${formatFieldValue(f, e.value, e.mask === allOnes(SLOT_BITS[f.slot]) ? undefined : e.mask)}`;
    case 'value': {
      const bits = e.value & f.slotMask;
      return `${name}=${f.slotShift ? bits >> BigInt(f.slotShift) : bits}`;
    }
    case 'be16':
      return be16Masked(name, e);
    case 'dl_type':
      return `${name}=0x${e.value.toString(16).padStart(4, '0')}`;
    case 'label': {
      const v = `0x${e.value.toString(16).padStart(5, '0')}`;
      return e.mask === 0xfffffn || e.mask === 0xffffffffn ? `${name}=${v}` : `${name}=${v}/0x${e.mask.toString(16).padStart(5, '0')}`;
    }
    case 'vlan_tci':
      return formatVlanTci(Number(e.value), Number(e.mask));
    case 'packet_type':
      // The default (Ethernet) is not printed, as OVS does not.
      return e.value === 0n ? '' : `${name}=${formatPacketType(e.value)}`;
  }
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
  const ctx: ProtocolContext = {
    dlType, nwProto, vlan: ((m.get('vlan_tci')?.value ?? 0n) & 0x1fffn) !== 0n, icmpType: m.get('tp_src')?.value, ndCode: true,
  };
  // The protocol keyword stands for dl_type, and for nw_proto when one names it (tcp, icmp6…).
  let keyword: string | undefined;
  let skipProto = false;
  if (dlType !== undefined) {
    const ip = dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6;
    const withProto = ip && nwProto !== undefined ? KEYWORD_OF.get(`${dlType}/${nwProto}`) : undefined;
    skipProto = withProto !== undefined;
    keyword = withProto ?? KEYWORD_OF.get(`${dlType}/`);
  }

  let n = 0;
  for (const [slot, e] of m) {
    if ((slot === 'dl_type' && keyword !== undefined) || (slot === 'nw_proto' && skipProto)) continue;
    for (const f of PRINTED_OF_SLOT.get(slot)!) {
      const p = f.print!;
      // A view prints when the slot holds some of its bits (nw_tos and nw_ecn share one).
      if ((e.mask & (f.slotMask | f.exactMask)) === 0n) continue;
      if (p.when !== undefined && !holds(p.when, ctx)) continue;
      if (p.unless !== undefined && holdsAny(p.unless, ctx)) continue;
      let k = n++;
      for (; k > 0 && views[k - 1]!.print!.rank > p.rank; k--) {
        views[k] = views[k - 1]!;
        entries[k] = entries[k - 1]!;
      }
      views[k] = f;
      entries[k] = e;
    }
  }
  // The keyword prints after packet_type, pkt_mark and conj_id, before the registers.
  let k = 0;
  for (; k < n && views[k]!.print!.rank < 35; k++) add(viewText(views[k]!, entries[k]!, ctx));
  if (keyword !== undefined) add(keyword);
  for (; k < n; k++) add(viewText(views[k]!, entries[k]!, ctx));
  for (const u of unknown) add(`unknown_oxm=${u.bytes.toString('hex')}`);
  return s;
}
