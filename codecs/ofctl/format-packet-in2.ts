// ofp-print's text for NXT_PACKET_IN2 and NXT_RESUME (ofputil_packet_in_private_format of OVS 3.1):
// the packet-in's line, the userdata, each continuation property OVS prints, then the packet's flow.
import { Action, formatAction } from '../actions/index.js';
import { OFP_NO_BUFFER } from '../openflow/messages.js';
import type { Continuation, PacketIn2 } from '../openflow/packet-in2.js';
import { packetInLine } from './format-async.js';
import { header } from './format-message.js';
import { formatPacket } from './format-packet.js';
import { hexOrZero } from './values.js';

const u64Max = 0xffffffffffffffffn;

/** format_hex_arg(): each byte in two hex digits, dot-separated. */
const hexArg = (b: Buffer): string => [...b].map((c) => c.toString(16).padStart(2, '0')).join('.');

/**
 * UUID_FMT of the bridge: OVS copies the 16 bytes into four 32-bit words of the host's order
 * (little-endian here, as on every machine OVS 3.1 runs on) and prints those words.
 */
function uuid(b: Buffer): string {
  const w = [0, 4, 8, 12].map((i) => b.readUInt32LE(i));
  const h = (v: number, n: number): string => v.toString(16).padStart(n, '0');
  return `${h(w[0]!, 8)}-${h(w[1]! >>> 16, 4)}-${h(w[1]! & 0xffff, 4)}-${h(w[2]! >>> 16, 4)}-${h(w[2]! & 0xffff, 4)}${h(w[3]!, 8)}`;
}

const actionList = (actions: readonly Action[]): string[] => actions.map(formatAction);

function continuationLines(c: Continuation): string {
  let s = '';
  if (c.bridge && c.bridge.some((x) => x !== 0)) s += ` continuation.bridge=${uuid(c.bridge)}\n`;
  if (c.stack.length) {
    // mf_subvalue_format(): each entry as a number, top first.
    const values = c.stack.map((e) => hexOrZero(e.length ? BigInt(`0x${e.toString('hex')}`) : 0n));
    s += ` continuation.stack=(top) ${values.join(' ')} (bottom)\n`;
  }
  if (c.mirrors) s += ` continuation.mirrors=0x${c.mirrors.toString(16)}\n`;
  if (c.conntracked) s += ' continuation.conntracked=true\n';
  if (c.actions.length) {
    // Each NXCPT_ACTIONS group starts with OVS's internal unroll_xlate action, printed as such.
    const parts = c.actions.flatMap((g) => [`unroll_xlate(table=${g.table}, cookie=${g.cookie})`, ...actionList(g.actions)]);
    s += ` continuation.actions=${parts.join(',')}\n`;
  }
  if (c.actionSet?.length) s += ` continuation.action_set=${actionList(c.actionSet).join(',')}\n`;
  if (c.odpPort) s += ` continuation.odp_port=${c.odpPort}\n`;
  return s;
}

export function formatPacketIn2(m: PacketIn2 & { readonly xid: number }): string | undefined {
  const packet = formatPacket(m.packet);
  if (packet === undefined) return undefined;
  let s = header(m.type === 'resume' ? 'NXT_RESUME' : 'NXT_PACKET_IN2', m.xid);
  s += packetInLine({
    table: m.table ?? 0, cookie: m.cookie ?? u64Max, totalLen: m.fullLen || m.packet.length, match: m.match,
    ...(m.unknownOxm ? { unknownOxm: m.unknownOxm } : {}), reason: m.reason ?? 0, data: m.packet, bufferId: m.bufferId ?? OFP_NO_BUFFER,
  });
  if (m.userdata?.length) s += ` userdata=${hexArg(m.userdata)}\n`;
  if (m.continuation) s += continuationLines(m.continuation);
  return s + packet;
}
