// The OpenFlow errors the simulated switch sends, with the type/code pairs OVS 3.1 uses for them
// (each seen from a real ovs-vswitchd in test/sim/sim-vs-ovs.test.ts or read in ofproto.c).
import { ONF_EXPERIMENTER, OfMessage } from '../../codecs/openflow/messages.js';

export interface OfErrorCode {
  readonly errType: number;
  /** Set for experimenter errors (type 0xffff): the ONF bundle errors in OpenFlow 1.3. */
  readonly experimenter?: number;
  readonly code: number;
}

const err = (errType: number, code: number): OfErrorCode => ({ errType, code });
const bundleErr = (code: number): OfErrorCode => ({ errType: 0xffff, experimenter: ONF_EXPERIMENTER, code });

export const OFPET_HELLO_FAILED_INCOMPATIBLE = err(0, 0);
export const OFPBRC_BAD_VERSION = err(1, 0);
export const OFPBRC_BAD_TYPE = err(1, 1);
export const OFPBRC_BAD_MULTIPART = err(1, 2);
export const OFPBRC_BAD_EXPERIMENTER = err(1, 3);
export const OFPBRC_EPERM = err(1, 5);
export const OFPBRC_BAD_LEN = err(1, 6);
export const OFPBRC_BUFFER_UNKNOWN = err(1, 8);
export const OFPBRC_IS_SLAVE = err(1, 10);
export const OFPBRC_MULTIPART_BUFFER_OVERFLOW = err(1, 13);
export const OFPBAC_BAD_OUT_GROUP = err(2, 9);
export const OFPBIC_BAD_TABLE_ID = err(3, 2);
export const OFPBMC_BAD_PREREQ = err(4, 9);
export const OFPFMFC_BAD_TABLE_ID = err(5, 2);
export const OFPFMFC_OVERLAP = err(5, 3);
export const OFPFMFC_BAD_COMMAND = err(5, 6);
export const OFPRRFC_STALE = err(11, 0);
export const OFPMMFC_INVALID_METER = err(12, 2);

export const OFPBFC_BAD_ID = bundleErr(2302);
export const OFPBFC_BUNDLE_CLOSED = bundleErr(2304);
export const OFPBFC_BAD_TYPE = bundleErr(2306);
export const OFPBFC_BAD_FLAGS = bundleErr(2307);
export const OFPBFC_MSG_BAD_XID = bundleErr(2309);
export const OFPBFC_MSG_UNSUP = bundleErr(2310);
export const OFPBFC_MSG_FAILED = bundleErr(2313);
export const OFPBFC_TIMEOUT = bundleErr(2314);

/** OFPT_ERROR's data may not push the message past 65535 bytes (12-byte header, 16 with experimenter). */
const MAX_ERROR_DATA = 0xffff - 16;

/** An OFPT_ERROR about `request` (its xid; its bytes as data, whole, as OVS 3.1 echoes them). */
export function errorMessage(e: OfErrorCode, xid: number, request: Buffer): OfMessage {
  const data = request.length > MAX_ERROR_DATA ? request.subarray(0, MAX_ERROR_DATA) : request;
  return e.experimenter === undefined
    ? { type: 'error', xid, errType: e.errType, code: e.code, data }
    : { type: 'error', xid, errType: e.errType, code: e.code, experimenter: e.experimenter, data };
}
