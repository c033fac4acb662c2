// raw: an action this codec does not model, kept byte for byte: experimenter actions of other
// vendors, and the Nicira subtypes OVS reads that no record models yet (index.ts sends those here;
// the OpenFlow 1.3 TTL-copy and PBB actions OVS refuses, and so does the decoder). A switch may
// hold them (another controller put them there), and one such flow must not make a whole dump or
// audit fail. ofctl-ts prints raw(HEX) and reads no text into this kind.
import type { Reader } from '../openflow/bytes.js';
import type { ActionRecord } from './record.js';

export interface Raw {
  readonly type: 'raw';
  readonly bytes: Buffer;
}

/** The whole action (len bytes from at) as it came. */
export function rawAction(r: Reader, at: number, len: number): Raw {
  return { type: 'raw', bytes: Buffer.from(r.buf.subarray(at, at + len)) };
}

export const raw: ActionRecord<Raw> = {
  wire: [], // reached through index.ts only
  encode: (w, a) => w.bytes(a.bytes),
  decode: (r, _id, len, at) => rawAction(r, at, len),
  print: (a) => `raw(${a.bytes.toString('hex')})`,
  parse: {}, // no text form: see above
};
