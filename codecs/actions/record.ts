// What one action record holds: the TypeScript form of an OVS OFPACTS row plus its section of
// lib/ofp-actions.c (struct, decode_, encode_, parse_, format_ side by side). index.ts collects the
// records in a table typed by the Action union, so a kind without all four faces does not compile.
import type { Reader, Writer } from '../openflow/bytes.js';
import { FieldDef, prereqHolds } from '../openflow/fields.js';
import type { Usable } from '../openflow/protocols.js';
import { ETH_TYPE_IP, ETH_TYPE_IPV6, Match, protocolContext, slotValue } from '../openflow/match.js';
import type { KeyValue } from '../ofctl/lexer.js';
import { fail } from '../ofctl/syntax.js';
import type { Action } from './index.js';
import type { Raw } from './raw.js';

/**
 * Where a kind sits on the wire: an OpenFlow 1.3 action type, a Nicira extension subtype, or an ONF
 * extension type (ONF's copy_field, the one OVS reads).
 */
export type WireId = { readonly of: number } | { readonly nx: number } | { readonly onf: number };

/** What the text parser knows while it reads one action list, for OVS's OpenFlow 1.3 conversions. */
export interface ParseContext {
  /**
   * The match as the actions so far leave it: push_mpls and pop_mpls change its dl_type, as OVS's
   * ofpacts_check() does, so later actions are checked against the packet they will see.
   */
  match: Match;
  /** Inside write_actions(): OVS checks no VLAN prerequisite there. */
  readonly inWriteActions: boolean;
  /** A VLAN header is known to be present at this point of the action list. */
  vlan: boolean;
  /** Inside ct(exec(...)): only writes to the conntrack fields are allowed there, and only there. */
  readonly inCt: boolean;
  /** What the keywords narrow, as OVS's ofpact parsers narrow pp->usable_protocols (when asked for). */
  readonly usable: Usable | undefined;
  /**
   * A group bucket's actions: OVS's parse_bucket_str runs no ofpacts_check(), so no prerequisite
   * of the packet is checked (ct without ip, set_field:5->vlan_vid without a VLAN: sent as written).
   */
  readonly unchecked?: boolean;
}

/** Narrows the protocols the flow can be sent in (a keyword OVS's parser restricts). */
export function restrictUsable(ctx: ParseContext, protocols: number): void {
  if (ctx.usable) ctx.usable.protocols &= protocols;
}

/** Parses one `keyword[:=(]value` of the action text and appends what it writes (one or more actions). */
export type KeywordParser = (kv: KeyValue, ctx: ParseContext, out: Action[]) => void;

export interface ActionRecord<A extends { readonly type: string }> {
  /** The wire ids decoded into this kind (several when OVS has variants: resubmit, learn2, …). */
  readonly wire: readonly WireId[];
  readonly encode: (w: Writer, a: A) => void;
  /**
   * r holds the rest of the action after its header (type and length; for Nicira actions also
   * vendor and subtype). id is the OF type or NX subtype, len the whole action's length, at its
   * offset. A body the codec cannot represent exactly may come back as raw bytes.
   */
  readonly decode: (r: Reader, id: number, len: number, at: number) => A | Raw;
  /** The text ovs-ofctl 3.1 prints for it (lib/ofp-actions.c format_*). */
  readonly print: (a: A) => string;
  /**
   * The ovs-ofctl keywords this record reads (lower case). A keyword may write other kinds, as
   * OVS converts for OpenFlow 1.3 (mod_vlan_vid writes push_vlan and set_field); a kind that only
   * comes out of another record's keyword says which in a comment.
   */
  readonly parse: { readonly [keyword: string]: KeywordParser };
}

export const OFPAT_EXPERIMENTER = 0xffff;
export const NX_VENDOR = 0x00002320;
export const ONF_VENDOR = 0x4f4e4600;

/** The 10-byte header of a Nicira action. */
export function nxHeader(w: Writer, len: number, subtype: number): void {
  w.u16(OFPAT_EXPERIMENTER).u16(len).u32(NX_VENDOR).u16(subtype);
}

/** The match says MPLS (unicast or multicast): the prerequisite of the MPLS rewrites and pop_mpls. */
export function isMpls(m: Match): boolean {
  const t = slotValue(m, 'dl_type');
  return t === ETH_TYPE_MPLS || t === ETH_TYPE_MPLS_MC;
}

export const ETH_TYPE_MPLS = 0x8847n, ETH_TYPE_MPLS_MC = 0x8848n;

/** OVS's "no usable protocol" for an action its match does not allow (ofpacts_check()'s OFPBAC_MATCH_INCONSISTENT). */
export function inconsistent(why: string, at: number): never {
  return fail(`no usable protocol (${why})`, at);
}

/** The match as the packet will be after an action that sets its Ethernet type (push_mpls, pop_mpls). */
export function withDlType(m: Match, dlType: number): Match {
  return new Map(m).set('dl_type', { value: BigInt(dlType), mask: 0xffffn });
}

/**
 * OVS's mf_are_prereqs_ok() for a field an action reads or writes, on the packet at this point of
 * the actions (the match as the actions leave it, and a VLAN they pushed or popped); vlan_vid is
 * written only over a VLAN header (check_SET_FIELD()). `what` begins OVS's warning ("set_field",
 * "source field", "destination field").
 */
export function checkFieldPrereq(f: FieldDef, ctx: ParseContext, what: string, at: number): void {
  if (ctx.unchecked) return;
  const why = fieldPrereqWhy(f, ctx, what);
  if (why) fail(`actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): ${why}`, at);
}

/** checkFieldPrereq()'s test alone: OVS's warning when f's prerequisites do not hold, else undefined. */
export function fieldPrereqWhy(f: FieldDef, ctx: Pick<ParseContext, 'match' | 'vlan'>, what: string): string | undefined {
  // A field that needs no protocol (eth_src, tun_id, the registers) holds without a context.
  const free = f.prereq === 'none' || f.prereq === 'ethernet';
  if ((free || prereqHolds(f.prereq, { ...protocolContext(ctx.match, true), vlan: ctx.vlan })) && (f.name !== 'vlan_vid' || what === 'source field' || ctx.vlan)) return undefined;
  return `${what} ${f.name} lacks correct prerequisites`;
}

/** The match says a VLAN header is present (the tag-present bit is matched, and set). */
export function matchHasVlan(m: Match): boolean {
  const tci = m.get('vlan_tci');
  return !!tci && (tci.mask & 0x1000n) !== 0n && (tci.value & 0x1000n) !== 0n;
}

/** The match says IPv4 or IPv6: the prerequisite of the TTL and IP rewrites. */
export function isIp(m: Match): boolean {
  const t = slotValue(m, 'dl_type');
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}
