// A flow as data: what a flow table holds, and its identity inside the switch.
import { Reader, Writer } from './bytes.js';
import type { Instructions } from './instructions.js';
import { decodeMatchTlvs, encodeMatchTlvs, Match, shortestLengths, UnknownOxm } from './match.js';
import { P_ANY, P_OF12_UP, P_OF13_UP } from './protocols.js';

export interface Flow {
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  /** OFPFF_* flags. */
  readonly flags: number;
  readonly importance: number;
  readonly match: Match;
  /** OXM TLVs the codec does not know, kept for printing and re-encoding. */
  readonly unknownOxm?: readonly UnknownOxm[];
  readonly instructions: Instructions;
}

export interface FlowStats extends Flow {
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
}

export const OFP_DEFAULT_PRIORITY = 0x8000;

export const OFPFF_SEND_FLOW_REM = 1;
export const OFPFF_CHECK_OVERLAP = 2;
const OFPFF_RESET_COUNTS = 4;
const OFPFF_NO_PKT_COUNTS = 8;
const OFPFF_NO_BYT_COUNTS = 16;

/** Each flag's bit, its ovs-ofctl keyword, and the protocols that can carry it (parse_ofp_str__()). */
export const FLOW_MOD_FLAG_NAMES: ReadonlyArray<readonly [number, string, number]> = [
  [OFPFF_SEND_FLOW_REM, 'send_flow_rem', P_ANY],
  [OFPFF_CHECK_OVERLAP, 'check_overlap', P_ANY],
  [OFPFF_RESET_COUNTS, 'reset_counts', P_OF12_UP],
  [OFPFF_NO_PKT_COUNTS, 'no_packet_counts', P_OF13_UP],
  [OFPFF_NO_BYT_COUNTS, 'no_byte_counts', P_OF13_UP],
];

// ---------------------------------------------------------------------------------------------
// Identity: OpenFlow's (table, priority, match). An ADD with the identity of a flow the table holds
// replaces it; anything else is another flow. Every flow set, diff, reconcile, audit and the
// simulated switch key flows by this, and by nothing else.
//
// The key is the match as the OXM TLVs we send (OVS 3.1's nx_put_raw order), not the printed text:
// - correct: the printer leaves out what OVS leaves out, so two flows OVS holds apart print the same
//   (`priority=5,tp_dst=80` keeps packet_type=Ethernet and `priority=5` matches every packet type:
//   two flows, both printed `priority=5`); the TLVs carry exactly what the switch compares, in one
//   order whatever order the fields were written in, masks reduced as OVS reduces them (an all-ones
//   mask is an exact field, value bits outside the mask dropped), fields without their
//   prerequisites dropped as OVS drops them (test/codecs/openflow/flow-identity.test.ts checks pairs on OVS);
// - fast and small: one encode into a scratch buffer, no printing; the latin1 string is flat (no
//   rope to flatten) and a third of the text's length.

/** One scratch writer: synchronous, so every call can reuse it. */
const scratch = new Writer(1024);

function identity(table: number | undefined, priority: number, match: Match, unknown: readonly UnknownOxm[] | undefined): string {
  scratch.pos = 0;
  if (table !== undefined) scratch.u8(table);
  scratch.u16(priority);
  // A value's length (a switch's TLV map) is no part of a flow's identity, as in OVS.
  encodeMatchTlvs(scratch, shortestLengths(match), unknown);
  return scratch.buf.toString('latin1', 0, scratch.pos);
}

/** A flow's identity inside its table (priority and match), for a switch that keeps one map per table. */
export function identityInTable(priority: number, match: Match, unknown?: readonly UnknownOxm[]): string {
  return identity(undefined, priority, match, unknown);
}

/** The match a flowIdentity() key stands for, read back (its table and priority are the key's first bytes). */
export function matchOfIdentity(key: string): Match {
  return decodeMatchTlvs(new Reader(Buffer.from(key, 'latin1'), 3)).match;
}

/** The match an identityInTable() key stands for, read back: what of a match OpenFlow 1.3 carries. */
export function matchOfIdentityInTable(key: string): Match {
  return decodeMatchTlvs(new Reader(Buffer.from(key, 'latin1'), 2)).match;
}

// Flows are immutable: a flow's identity is computed once per object.
const identities = new WeakMap<Flow, string>();

/** A flow's identity among all tables: (table, priority, match). */
export function flowIdentity(f: Flow): string {
  let k = identities.get(f);
  if (k === undefined) identities.set(f, (k = identity(f.table, f.priority, f.match, f.unknownOxm)));
  return k;
}

/**
 * The same, not remembered: for flows generated to be sent or compared once (a flow family's), which
 * a cache would only keep alive.
 */
export function flowIdentityUncached(f: Pick<Flow, 'table' | 'priority' | 'match' | 'unknownOxm'>): string {
  return identities.get(f as Flow) ?? identity(f.table, f.priority, f.match, f.unknownOxm);
}
