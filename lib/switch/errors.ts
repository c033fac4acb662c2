// OpenFlow error replies as readable text (type and code names from the OF1.3 spec and OVS).
import { errorName } from '../../codecs/openflow/errors.js';
import type { OfMessage } from '../../codecs/openflow/messages.js';

const TYPES: readonly string[] = [
  'OFPET_HELLO_FAILED', 'OFPET_BAD_REQUEST', 'OFPET_BAD_ACTION', 'OFPET_BAD_INSTRUCTION', 'OFPET_BAD_MATCH',
  'OFPET_FLOW_MOD_FAILED', 'OFPET_GROUP_MOD_FAILED', 'OFPET_PORT_MOD_FAILED', 'OFPET_TABLE_MOD_FAILED',
  'OFPET_QUEUE_OP_FAILED', 'OFPET_SWITCH_CONFIG_FAILED', 'OFPET_ROLE_REQUEST_FAILED', 'OFPET_METER_MOD_FAILED',
  'OFPET_TABLE_FEATURES_FAILED',
];

const CODES: Readonly<Record<number, readonly string[]>> = {
  1: ['OFPBRC_BAD_VERSION', 'OFPBRC_BAD_TYPE', 'OFPBRC_BAD_MULTIPART', 'OFPBRC_BAD_EXPERIMENTER', 'OFPBRC_BAD_EXP_TYPE',
    'OFPBRC_EPERM', 'OFPBRC_BAD_LEN', 'OFPBRC_BUFFER_EMPTY', 'OFPBRC_BUFFER_UNKNOWN', 'OFPBRC_BAD_TABLE_ID',
    'OFPBRC_IS_SLAVE', 'OFPBRC_BAD_PORT', 'OFPBRC_BAD_PACKET', 'OFPBRC_MULTIPART_BUFFER_OVERFLOW'],
  2: ['OFPBAC_BAD_TYPE', 'OFPBAC_BAD_LEN', 'OFPBAC_BAD_EXPERIMENTER', 'OFPBAC_BAD_EXP_TYPE', 'OFPBAC_BAD_OUT_PORT',
    'OFPBAC_BAD_ARGUMENT', 'OFPBAC_EPERM', 'OFPBAC_TOO_MANY', 'OFPBAC_BAD_QUEUE', 'OFPBAC_BAD_OUT_GROUP',
    'OFPBAC_MATCH_INCONSISTENT', 'OFPBAC_UNSUPPORTED_ORDER', 'OFPBAC_BAD_TAG', 'OFPBAC_BAD_SET_TYPE',
    'OFPBAC_BAD_SET_LEN', 'OFPBAC_BAD_SET_ARGUMENT'],
  3: ['OFPBIC_UNKNOWN_INST', 'OFPBIC_UNSUP_INST', 'OFPBIC_BAD_TABLE_ID', 'OFPBIC_UNSUP_METADATA',
    'OFPBIC_UNSUP_METADATA_MASK', 'OFPBIC_BAD_EXPERIMENTER', 'OFPBIC_BAD_EXP_TYPE', 'OFPBIC_BAD_LEN', 'OFPBIC_EPERM'],
  4: ['OFPBMC_BAD_TYPE', 'OFPBMC_BAD_LEN', 'OFPBMC_BAD_TAG', 'OFPBMC_BAD_DL_ADDR_MASK', 'OFPBMC_BAD_NW_ADDR_MASK',
    'OFPBMC_BAD_WILDCARDS', 'OFPBMC_BAD_FIELD', 'OFPBMC_BAD_VALUE', 'OFPBMC_BAD_MASK', 'OFPBMC_BAD_PREREQ',
    'OFPBMC_DUP_FIELD', 'OFPBMC_EPERM'],
  5: ['OFPFMFC_UNKNOWN', 'OFPFMFC_TABLE_FULL', 'OFPFMFC_BAD_TABLE_ID', 'OFPFMFC_OVERLAP', 'OFPFMFC_EPERM',
    'OFPFMFC_BAD_TIMEOUT', 'OFPFMFC_BAD_COMMAND', 'OFPFMFC_BAD_FLAGS'],
  11: ['OFPRRFC_STALE', 'OFPRRFC_UNSUP', 'OFPRRFC_BAD_ROLE'],
};

export function describeError(m: Extract<OfMessage, { type: 'error' }>): string {
  if (m.experimenter !== undefined) {
    // Nicira and ONF codes by OVS's names (the codec's one table), as ovs-ofctl prints them.
    return errorName(0xffff, m.code, m.experimenter) ?? `experimenter error 0x${m.experimenter.toString(16)} code ${m.code}`;
  }
  const type = TYPES[m.errType] ?? `type ${m.errType}`;
  const code = CODES[m.errType]?.[m.code] ?? `code ${m.code}`;
  return `${type}/${code}`;
}

/** A request the switch answered with OFPT_ERROR. */
export class OpenFlowError extends Error {
  constructor(
    message: string,
    readonly reply?: Extract<OfMessage, { type: 'error' }>,
  ) {
    super(message);
    this.name = 'OpenFlowError';
  }
}

/** A bundle the switch refused: which messages (0-based positions) failed and why. Nothing was applied. */
export class BundleError extends OpenFlowError {
  constructor(readonly failures: ReadonlyArray<{ readonly index: number; readonly reason: string }>, other: readonly string[] = []) {
    super(`bundle rejected: ${[...failures.map((f) => `message ${f.index + 1}: ${f.reason}`), ...other].join('; ')}`);
    this.name = 'BundleError';
  }
}

/** A write (flow-mod, bundle, packet-out…) not sent: the session is not master (see OfConnection.writable). */
export class NotMasterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotMasterError';
  }
}
