// OpenFlow 1.3 error codes as OVS 3.1 names them (include/openvswitch/ofp-errors.h: the standard
// (type, code) pairs of OF1.3, the Nicira (NX1.2+) and ONF (ONF1.3) experimenter codes), and the
// refusal of a message OVS refuses, which carries the error OVS answers with.
import { DecodeError, Reader } from './bytes.js';

export const NX_VENDOR = 0x00002320;
export const ONF_VENDOR = 0x4f4e4600;

const STANDARD: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['OFPHFC_', ['INCOMPATIBLE', 'EPERM']],
  ['OFPBRC_', ['BAD_VERSION', 'BAD_TYPE', 'BAD_STAT', 'BAD_VENDOR', 'BAD_SUBTYPE', 'EPERM', 'BAD_LEN', 'BUFFER_EMPTY',
    'BUFFER_UNKNOWN', 'BAD_TABLE_ID', 'IS_SECONDARY', 'BAD_PORT', 'BAD_PACKET', 'MULTIPART_BUFFER_OVERFLOW']],
  ['OFPBAC_', ['BAD_TYPE', 'BAD_LEN', 'BAD_VENDOR', 'BAD_VENDOR_TYPE', 'BAD_OUT_PORT', 'BAD_ARGUMENT', 'EPERM', 'TOO_MANY',
    'BAD_QUEUE', 'BAD_OUT_GROUP', 'MATCH_INCONSISTENT', 'UNSUPPORTED_ORDER', 'BAD_TAG', 'BAD_SET_TYPE', 'BAD_SET_LEN',
    'BAD_SET_ARGUMENT']],
  ['OFPBIC_', ['UNKNOWN_INST', 'UNSUP_INST', 'BAD_TABLE_ID', 'UNSUP_METADATA', 'UNSUP_METADATA_MASK', 'BAD_EXPERIMENTER',
    'BAD_EXP_TYPE', 'BAD_LEN', 'EPERM']],
  ['OFPBMC_', ['BAD_TYPE', 'BAD_LEN', 'BAD_TAG', 'BAD_DL_ADDR_MASK', 'BAD_NW_ADDR_MASK', 'BAD_WILDCARDS', 'BAD_FIELD',
    'BAD_VALUE', 'BAD_MASK', 'BAD_PREREQ', 'DUP_FIELD', 'EPERM']],
  ['OFPFMFC_', ['UNKNOWN', 'TABLE_FULL', 'BAD_TABLE_ID', 'OVERLAP', 'EPERM', 'BAD_TIMEOUT', 'BAD_COMMAND', 'BAD_FLAGS']],
  ['OFPGMFC_', ['GROUP_EXISTS', 'INVALID_GROUP', 'WEIGHT_UNSUPPORTED', 'OUT_OF_GROUPS', 'OUT_OF_BUCKETS',
    'CHAINING_UNSUPPORTED', 'WATCH_UNSUPPORTED', 'LOOP', 'UNKNOWN_GROUP', 'CHAINED_GROUP', 'BAD_TYPE', 'BAD_COMMAND',
    'BAD_BUCKET', 'BAD_WATCH', 'EPERM']],
  ['OFPPMFC_', ['BAD_PORT', 'BAD_HW_ADDR', 'BAD_CONFIG', 'BAD_ADVERTISE', 'EPERM']],
  ['OFPTMFC_', ['BAD_TABLE', 'BAD_CONFIG', 'EPERM']],
  ['OFPQOFC_', ['BAD_PORT', 'BAD_QUEUE', 'EPERM']],
  ['OFPSCFC_', ['BAD_FLAGS', 'BAD_LEN', 'EPERM']],
  ['OFPRRFC_', ['STALE', 'UNSUP', 'BAD_ROLE']],
  ['OFPMMFC_', ['UNKNOWN', 'METER_EXISTS', 'INVALID_METER', 'UNKNOWN_METER', 'BAD_COMMAND', 'BAD_FLAGS', 'BAD_RATE',
    'BAD_BURST', 'BAD_BAND', 'BAD_BAND_VALUE', 'OUT_OF_METERS', 'OUT_OF_BANDS']],
  // OF1.3's table-features codes 2..4 are OVS's generic property errors.
  ['', ['OFPTFFC_BAD_TABLE', 'OFPTFFC_BAD_METADATA', 'OFPBPC_BAD_TYPE', 'OFPBPC_BAD_LEN', 'OFPBPC_BAD_VALUE', 'OFPTFFC_EPERM']],
];

const NX_CODES: ReadonlyMap<number, string> = new Map([
  [2, 'NXBRC_NXM_INVALID'], [3, 'NXBRC_NXM_BAD_TYPE'], [4, 'NXBRC_MUST_BE_ZERO'], [5, 'NXBRC_BAD_REASON'],
  [6, 'OFPMOFC_MONITOR_EXISTS'], [7, 'OFPMOFC_BAD_FLAGS'], [8, 'OFPMOFC_UNKNOWN_MONITOR'], [9, 'NXBRC_FM_BAD_EVENT'],
  [10, 'NXBRC_UNENCODABLE_ERROR'], [11, 'NXBAC_MUST_BE_ZERO'], [12, 'NXFMFC_HARDWARE'], [13, 'NXFMFC_BAD_TABLE_ID'],
  [15, 'NXBAC_BAD_CONJUNCTION'], [16, 'NXTTMFC_BAD_COMMAND'], [17, 'NXTTMFC_BAD_OPT_LEN'], [18, 'NXTTMFC_BAD_FIELD_IDX'],
  [19, 'NXTTMFC_TABLE_FULL'], [20, 'NXTTMFC_ALREADY_MAPPED'], [21, 'NXTTMFC_DUP_ENTRY'], [34, 'NXR_NOT_SUPPORTED'],
  [35, 'NXR_STALE'], [36, 'NXST_NOT_CONFIGURED'], [37, 'NXFMFC_INVALID_TLV_FIELD'], [38, 'NXTTMFC_INVALID_TLV_DEL'],
  [39, 'NXBAC_BAD_HEADER_TYPE'], [40, 'NXBAC_UNKNOWN_ED_PROP'], [41, 'NXBAC_BAD_ED_PROP'], [42, 'NXBAC_CT_DATAPATH_SUPPORT'],
  [43, 'NXBMC_CT_DATAPATH_SUPPORT'], [44, 'NXTFFC_DUP_TABLE'],
]);

const BUNDLE_CODES = ['UNKNOWN', 'EPERM', 'BAD_ID', 'BUNDLE_EXIST', 'BUNDLE_CLOSED', 'OUT_OF_BUNDLES', 'BAD_TYPE',
  'BAD_FLAGS', 'MSG_BAD_LEN', 'MSG_BAD_XID', 'MSG_UNSUP', 'MSG_CONFLICT', 'MSG_TOO_MANY', 'MSG_FAILED', 'TIMEOUT',
  'BUNDLE_IN_PROGRESS'];
const ONF_CODES: ReadonlyMap<number, string> = new Map([
  [2600, 'OFPBIC_DUP_INST'], [4250, 'OFPBAC_BAD_SET_MASK'], [4443, 'OFPBPC_TOO_MANY'], [4444, 'OFPBPC_DUP_TYPE'],
  [4445, 'OFPBPC_BAD_EXPERIMENTER'], [4446, 'OFPBPC_BAD_EXP_TYPE'], [4447, 'OFPBPC_BAD_EXP_VALUE'], [4448, 'OFPBPC_EPERM'],
  ...BUNDLE_CODES.map((c, i): [number, string] => [2300 + i, `OFPBFC_${c}`]),
]);

/**
 * OVS's name for an OpenFlow 1.3 error (type 0xffff: the experimenter's code), or undefined for
 * one OVS does not know (it refuses such an OFPT_ERROR).
 */
export function errorName(errType: number, code: number, experimenter?: number): string | undefined {
  if (errType === 0xffff) {
    return experimenter === NX_VENDOR ? NX_CODES.get(code) : experimenter === ONF_VENDOR ? ONF_CODES.get(code) : undefined;
  }
  const t = STANDARD[errType];
  const c = t?.[1][code];
  return c === undefined ? undefined : t![0] + c;
}

/**
 * A well-framed message that OVS refuses, with the error OVS gives (ofp-print's `***decode error:
 * NAME***`): unlike a malformed one, a session can answer it and go on.
 */
export class RefusedMessage extends DecodeError {
  constructor(
    message: string,
    offset: number,
    /** OVS's error name, e.g. OFPBRC_BAD_VENDOR. */
    readonly ofpError: string,
    /** Its OpenFlow 1.3 type and code (standard errors only). */
    readonly errType?: number,
    readonly code?: number,
  ) {
    super(`${message}: ${ofpError}`, offset);
    this.name = 'RefusedMessage';
  }
}

/** Every error OVS names in OpenFlow 1.3, as (type, code[, experimenter]). */
export const KNOWN_ERRORS: ReadonlyArray<{ readonly errType: number; readonly code: number; readonly experimenter?: number }> = [
  ...STANDARD.flatMap(([, codes], errType) => codes.map((_, code) => ({ errType, code }))),
  ...[...NX_CODES.keys()].map((code) => ({ errType: 0xffff, code, experimenter: NX_VENDOR })),
  ...[...ONF_CODES.keys()].map((code) => ({ errType: 0xffff, code, experimenter: ONF_VENDOR })),
];

/** Throws the refusal OVS gives; a standard error's type and code are looked up. */
export function refuse(message: string, offset: number, ofpError: string): never {
  for (let t = 0; t < STANDARD.length; t++) {
    const [prefix, codes] = STANDARD[t]!;
    const c = codes.findIndex((n) => prefix + n === ofpError);
    if (c >= 0) throw new RefusedMessage(message, offset, ofpError, t, c);
  }
  throw new RefusedMessage(message, offset, ofpError);
}

/** A body of exactly n bytes left, as OVS requires of fixed-size messages (else OFPBRC_BAD_LEN). */
export function exactly(b: Reader, n: number, what: string): void {
  if (b.remaining !== n) refuse(`${what} body of ${b.remaining} bytes, not ${n}`, b.pos, 'OFPBRC_BAD_LEN');
}
