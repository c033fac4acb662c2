// raw: an action this codec does not model, kept byte for byte: the OpenFlow 1.3 TTL-copy and PBB
// actions, and experimenter actions of other vendors or unknown Nicira subtypes (index.ts sends
// those here). A switch may hold them (another controller put them there), and one such flow must
// not make a whole dump or audit fail. ofctl-ts prints raw(HEX) and reads no text into this kind.
import type { Reader } from '../openflow/bytes.js';
import type { ActionRecord } from './record.js';

export interface Raw {
  readonly type: 'raw';
  readonly bytes: Buffer;
}

/** copy_ttl_out/in, push_pbb, pop_pbb. */
const OF13_UNMODELLED = [11, 12, 26, 27];

/** The whole action (len bytes from at) as it came. */
export function rawAction(r: Reader, at: number, len: number): Raw {
  return { type: 'raw', bytes: Buffer.from(r.buf.subarray(at, at + len)) };
}

export const raw: ActionRecord<Raw> = {
  wire: OF13_UNMODELLED.map((of) => ({ of })),
  encode: (w, a) => w.bytes(a.bytes),
  decode: (r, _id, len, at) => rawAction(r, at, len),
  print: (a) => `raw(${a.bytes.toString('hex')})`,
  parse: {}, // no text form: see above
};
