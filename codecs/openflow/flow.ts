// A flow as data: what a flow table holds. Identity for diffs is (table, priority, match).
import type { Instructions } from './instructions.js';
import type { Match, UnknownOxm } from './match.js';

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

export const FLOW_MOD_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [OFPFF_SEND_FLOW_REM, 'send_flow_rem'],
  [OFPFF_CHECK_OVERLAP, 'check_overlap'],
  [OFPFF_RESET_COUNTS, 'reset_counts'],
  [OFPFF_NO_PKT_COUNTS, 'no_packet_counts'],
  [OFPFF_NO_BYT_COUNTS, 'no_byte_counts'],
];
