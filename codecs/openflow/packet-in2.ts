// Nicira's property-based packet-in (NXT_PACKET_IN2), which ovs-ofctl monitor asks OVS for with
// NXT_SET_PACKET_IN_FORMAT, and that request. OVS keeps both as plain experimenter messages in this
// codec (messages.ts); this reads a PACKET_IN2's properties as OVS's decode_nx_packet_in2 does.
import { DecodeError, Reader } from './bytes.js';
import { NX_VENDOR } from './errors.js';
import { decodeMatchTlvs, Match, UnknownOxm } from './match.js';
import type { MessageOf, OutgoingMessage } from './messages.js';
import { OFP_NO_BUFFER } from './messages.js';

const NXT_SET_PACKET_IN_FORMAT = 16;
const NXT_PACKET_IN2 = 30;

/** NXPIF_*: the packet-in formats a switch can be asked for. */
export const PACKET_IN_FORMATS = { standard: 0, nxt_packet_in: 1, nxt_packet_in2: 2 } as const;

export function setPacketInFormat(format: number): OutgoingMessage {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(format);
  return { type: 'experimenter', experimenter: NX_VENDOR, expType: NXT_SET_PACKET_IN_FORMAT, data };
}

/** A PACKET_IN2 read into the fields an OpenFlow 1.3 packet-in has, and what only PACKET_IN2 carries. */
export interface PacketIn2 {
  readonly xid: number;
  readonly bufferId: number;
  readonly totalLen: number;
  readonly reason: number;
  readonly table: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly unknownOxm?: readonly UnknownOxm[];
  readonly data: Buffer;
  readonly userdata?: Buffer;
  /** The continuation (NXPINT_CONTINUATION) is there: its contents are OVS's private business. */
  readonly continuation: boolean;
}

export function isPacketIn2(m: MessageOf<'experimenter'>): boolean {
  return m.experimenter === NX_VENDOR && m.expType === NXT_PACKET_IN2;
}

/** The message's properties as decode_nx_packet_in2 reads them; throws DecodeError where OVS refuses. */
export function decodePacketIn2(m: MessageOf<'experimenter'>): PacketIn2 {
  const r = new Reader(m.data);
  let data: Buffer | undefined;
  let fullLen = 0;
  let bufferId = OFP_NO_BUFFER;
  let table = 0;
  let cookie = 0xffffffffffffffffn;
  let reason = 0;
  let match: Match = new Map();
  let unknown: readonly UnknownOxm[] = [];
  let userdata: Buffer | undefined;
  let continuation = false;
  while (r.remaining > 0) {
    const at = r.pos;
    if (r.remaining < 4) r.fail('property header runs past the message', at);
    const type = r.u16();
    const len = r.u16();
    const padded = (len + 7) & ~7;
    if (len < 4 || padded - 4 > r.remaining) r.fail(`property ${type} of ${len} bytes`, at);
    const p = r.sub(len - 4);
    const exact = (n: number): void => {
      if (p.remaining !== n) r.fail(`property ${type} of ${len} bytes`, at);
    };
    switch (type) {
      case 0: data = Buffer.from(p.bytes(p.remaining)); break;
      case 1: exact(4); fullLen = p.u32(); break;
      case 2: exact(4); bufferId = p.u32(); break;
      case 3: exact(1); table = p.u8(); break;
      case 4: exact(12); p.skip(4); cookie = p.u64(); break;
      case 5: exact(1); reason = p.u8(); break;
      case 6: ({ match, unknown } = decodeMatchTlvs(p)); break;
      case 7: userdata = Buffer.from(p.bytes(p.remaining)); break;
      case 8: continuation = true; p.skip(p.remaining); break;
      default: r.fail(`unknown NX_PACKET_IN2 property ${type}`, at);
    }
    r.skip(padded - len);
  }
  if (!data?.length) throw new DecodeError('NXT_PACKET_IN2 lacks packet', 0);
  if (fullLen && fullLen < data.length) throw new DecodeError('NXT_PACKET_IN2 claimed full_len < len', 0);
  return {
    xid: m.xid, bufferId, totalLen: fullLen || data.length, reason, table, cookie, match, data, continuation,
    ...(unknown.length ? { unknownOxm: unknown } : {}), ...(userdata?.length ? { userdata } : {}),
  };
}
