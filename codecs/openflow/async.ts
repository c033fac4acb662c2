// The asynchronous-message configuration and the Nicira / ONF experimenter messages OVS 3.1 speaks
// in OpenFlow 1.3 beyond bundles: role status, controller id, flow monitor cancel/pause/resume and
// NXT_SET_ASYNC_CONFIG2 (OFPT_SET_ASYNC / GET_ASYNC: stats.ts). Each decodes to a typed value that
// re-encodes to the same bytes; an experimenter OVS does not know is refused as OVS refuses it.
import { Reader, Writer } from './bytes.js';
import { exactly, NX_VENDOR, ONF_VENDOR, refuse } from './errors.js';
import { NXT_PACKET_IN2, NXT_RESUME, PacketIn2, readPacketIn2, writePacketIn2Body } from './packet-in2.js';
import { readVendorMessage2, VendorMessage, writeVendorBody } from './vendor-messages.js';

const NXT_SET_CONTROLLER_ID = 20;
const NXT_SET_ASYNC_CONFIG2 = 27;
const ONFT_ROLE_STATUS = 1911;
/** The highest role (OFPCR_ROLE_SLAVE); OVS refuses any above with OFPRRFC_BAD_ROLE. */
export const OFPCR_ROLE_SLAVE = 3;
const ONFT_FLOW_MONITOR_CANCEL = 1870;
const ONFT_FLOW_MONITOR_PAUSED = 1871;
const ONFT_FLOW_MONITOR_RESUMED = 1872;

/** One NXT_SET_ASYNC_CONFIG2 property: its type (2 × message kind, +1 for the primary role) and mask. */
export interface AsyncConfigProp {
  readonly propType: number;
  readonly mask: number;
}

export type AsyncMessage =
  | { readonly type: 'role_status'; readonly role: number; readonly reason: number; readonly generationId: bigint }
  | { readonly type: 'set_controller_id'; readonly controllerId: number }
  | { readonly type: 'flow_monitor_cancel'; readonly id: number }
  | { readonly type: 'flow_monitor_paused' | 'flow_monitor_resumed' }
  | { readonly type: 'set_async_config2'; readonly props: readonly AsyncConfigProp[] }
  /** Request forward, flow monitor requests and replies (vendor-messages.ts). */
  | VendorMessage
  /** NXT_PACKET_IN2 and NXT_RESUME (packet-in2.ts). */
  | PacketIn2;

export type AsyncMessageType = AsyncMessage['type'];

const ASYNC_TYPES: ReadonlySet<string> = new Set<AsyncMessageType>([
  'role_status', 'set_controller_id', 'flow_monitor_cancel', 'flow_monitor_paused', 'flow_monitor_resumed', 'set_async_config2',
  'requestforward', 'flow_monitor_request', 'flow_monitor_reply', 'packet_in2', 'resume',
]);

export function isAsyncMessage(m: { readonly type: string }): m is AsyncMessage {
  return ASYNC_TYPES.has(m.type);
}

function vendorHeader(w: Writer, vendor: number, subtype: number): void {
  w.u32(vendor).u32(subtype);
}

/** Writes the body (after the 8-byte header) of m; returns the OpenFlow message type. */
export function writeAsyncBody(w: Writer, m: AsyncMessage): number {
  switch (m.type) {
    case 'role_status':
      vendorHeader(w, ONF_VENDOR, ONFT_ROLE_STATUS);
      w.u32(m.role).u8(m.reason).zeros(3).u64(m.generationId);
      return 4;
    case 'set_controller_id':
      vendorHeader(w, NX_VENDOR, NXT_SET_CONTROLLER_ID);
      w.zeros(6).u16(m.controllerId);
      return 4;
    case 'flow_monitor_cancel':
      vendorHeader(w, ONF_VENDOR, ONFT_FLOW_MONITOR_CANCEL);
      w.u32(m.id);
      return 4;
    case 'flow_monitor_paused': case 'flow_monitor_resumed':
      vendorHeader(w, ONF_VENDOR, m.type === 'flow_monitor_paused' ? ONFT_FLOW_MONITOR_PAUSED : ONFT_FLOW_MONITOR_RESUMED);
      return 4;
    case 'set_async_config2':
      vendorHeader(w, NX_VENDOR, NXT_SET_ASYNC_CONFIG2);
      for (const p of m.props) w.u16(p.propType).u16(8).u32(p.mask);
      return 4;
    case 'packet_in2': case 'resume':
      vendorHeader(w, NX_VENDOR, m.type === 'resume' ? NXT_RESUME : NXT_PACKET_IN2);
      writePacketIn2Body(w, m);
      return 4;
    default:
      return writeVendorBody(w, m);
  }
}

/**
 * An experimenter message's body after its vendor and subtype: the typed message, undefined for
 * one of OVS's vendors this codec does not model (kept raw by the caller); a vendor OVS does not
 * know is refused (OFPBRC_BAD_VENDOR).
 */
export function readVendorMessage(vendor: number, subtype: number, b: Reader): AsyncMessage | undefined {
  if (vendor !== NX_VENDOR && vendor !== ONF_VENDOR) refuse(`experimenter 0x${vendor.toString(16)}`, 8, 'OFPBRC_BAD_VENDOR');
  if (vendor === ONF_VENDOR) {
    switch (subtype) {
      case ONFT_ROLE_STATUS: {
        exactly(b, 16, 'ONFT_ROLE_STATUS');
        const role = b.u32();
        if (role > OFPCR_ROLE_SLAVE) refuse(`role ${role}`, 16, 'OFPRRFC_BAD_ROLE');
        const reason = b.u8();
        b.skip(3);
        return { type: 'role_status', role, reason, generationId: b.u64() };
      }
      case ONFT_FLOW_MONITOR_CANCEL:
        exactly(b, 4, 'ONFT_FLOW_MONITOR_CANCEL');
        return { type: 'flow_monitor_cancel', id: b.u32() };
      case ONFT_FLOW_MONITOR_PAUSED: case ONFT_FLOW_MONITOR_RESUMED:
        exactly(b, 0, 'ONFT_FLOW_MONITOR_PAUSED/RESUMED');
        return { type: subtype === ONFT_FLOW_MONITOR_PAUSED ? 'flow_monitor_paused' : 'flow_monitor_resumed' };
      default:
        return readVendorMessage2(subtype, b);
    }
  }
  switch (subtype) {
    case NXT_SET_CONTROLLER_ID: {
      exactly(b, 8, 'NXT_SET_CONTROLLER_ID');
      b.skip(6);
      return { type: 'set_controller_id', controllerId: b.u16() };
    }
    case NXT_SET_ASYNC_CONFIG2: {
      const props: AsyncConfigProp[] = [];
      while (b.remaining > 0) {
        const at = b.pos;
        const propType = b.u16();
        const len = b.u16();
        // Only the 8-byte mask properties are modelled; others are refused rather than guessed at.
        if (len !== 8 || propType > 11) refuse(`async config property ${propType} of ${len} bytes`, at, 'OFPBPC_BAD_TYPE');
        props.push({ propType, mask: b.u32() });
      }
      return { type: 'set_async_config2', props };
    }
    case NXT_PACKET_IN2: case NXT_RESUME:
      return readPacketIn2(subtype, b);
    default:
      return undefined;
  }
}

/**
 * A HELLO's elements read as OVS reads them (ofputil_decode_hello): the versions of the last valid
 * version bitmap (its first word only; [] when there is none: the header's version rules) and
 * whether every element made sense (ofp-print shows the others as "unknown data in hello").
 * Never throws: OVS goes on with a HELLO it cannot fully read.
 */
export function helloElements(body: Buffer): { versions: number[]; ok: boolean } {
  let versions: number[] = [];
  let ok = true;
  let pos = 0;
  while (pos < body.length) {
    if (body.length - pos < 4) return { versions, ok: false };
    const elType = body.readUInt16BE(pos);
    const elLen = body.readUInt16BE(pos + 2);
    const padded = (elLen + 7) & ~7;
    if (elLen < 4 || padded > body.length - pos) return { versions, ok: false };
    const bitmapLen = elLen - 4;
    // There is no version 0 (OVS drops that bit), and only the first word counts.
    const bits = elType === 1 && bitmapLen > 0 && bitmapLen % 4 === 0 ? body.readUInt32BE(pos + 4) & ~1 : 0;
    if (bits === 0) ok = false;
    else {
      versions = [];
      for (let i = 1; i < 32; i++) if (bits & (1 << i)) versions.push(i);
    }
    pos += padded;
  }
  return { versions, ok };
}
