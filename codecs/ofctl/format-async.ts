// ofp-print's text for HELLO, ERROR, PORT_STATUS, PACKET_IN, PACKET_OUT, role status, the
// asynchronous-message configuration and the Nicira/ONF messages of codecs/openflow/async.ts.
// undefined where a part is not modelled (never a guess).
import { helloElements } from '../openflow/async.js';
import { decodePacketIn2, PacketIn2 } from '../openflow/packet-in2.js';
import { errorName } from '../openflow/errors.js';
import { decodeMessage, MessageOf, OFP_NO_BUFFER, PortDesc } from '../openflow/messages.js';
import { formatPort } from '../openflow/ports.js';
import { formatInstructions } from './format-actions.js';
import { formatMatch } from './format-match.js';
import { formatMessage, header, hexDump } from './format-message.js';
import { formatPacket } from './format-packet.js';
import { AsyncConfig } from '../openflow/stats.js';
import { bitNames, OFPPC11_ALL, PORT_CONFIG, PORT_FEATURES, PORT_STATE } from './format-stats.js';

const u64Max = 0xffffffffffffffffn;

export function formatHello(m: MessageOf<'hello'>): string {
  const version = m.version ?? 4;
  const body = m.elements ?? Buffer.alloc(0);
  const { ok } = helloElements(body);
  // No (valid) bitmap: every version up to the header's.
  const versions = m.versions.length ? m.versions : Array.from({ length: version }, (_, i) => i + 1);
  let s = `${header('OFPT_HELLO', m.xid, version)}\n version bitmap: ${versions.map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ')}\n`;
  if (!ok) {
    const head = Buffer.alloc(8);
    head.writeUInt8(version, 0);
    head.writeUInt16BE(8 + body.length, 2);
    head.writeUInt32BE(m.xid, 4);
    s += ` unknown data in hello:\n${hexDump(Buffer.concat([head, body]))}`;
  }
  return s;
}

/** ds_put_printable: printable ASCII as is, other bytes (and \ ") as octal escapes. */
function printable(b: Buffer): string {
  let s = '';
  for (const c of b) s += c < 0x20 || c > 0x7e || c === 0x5c || c === 0x22 ? `\\${c.toString(8).padStart(3, '0')}` : String.fromCharCode(c);
  return s;
}

/** OpenFlow 1.3 message types OVS accepts with a fixed length (ofp-msgs), for a refused embedded request. */
const FIXED_LEN: ReadonlyMap<number, readonly [min: number, exact: boolean]> = new Map([
  [5, [8, true]], [6, [32, true]], [7, [8, true]], [8, [12, true]], [9, [12, true]], [10, [34, false]], [11, [56, false]],
  [12, [80, true]], [13, [24, false]], [14, [56, false]], [20, [8, true]], [21, [8, true]], [24, [24, true]], [25, [24, true]],
]);

/** ofp_to_string of an error's embedded request (verbosity 1). */
function embedded(data: Buffer): string | undefined {
  if (data.length === 0) return 'OpenFlow message is empty\n';
  if (data.length < 8) return `OpenFlow packet too short (only ${data.length} bytes):\n${hexDump(data)}`;
  const length = data.readUInt16BE(2);
  if (length > data.length) {
    // A version/type OVS does not know gets no header line; others are not modelled.
    if (data[0]! >= 1 && data[0]! <= 6) return undefined;
    return `(***truncated to ${data.length} bytes from ${length}***)\n${hexDump(data)}`;
  }
  if (length < data.length) return `(***only uses ${length} bytes out of ${data.length}***)\n${hexDump(data)}`;
  const fixed = data[0] === 4 ? FIXED_LEN.get(data[1]!) : undefined;
  if (fixed && (length < fixed[0] || (fixed[1] && length !== fixed[0]))) return `***decode error: OFPBRC_BAD_LEN***\n${hexDump(data)}`;
  const res = decodeMessage(data);
  if (!res.ok) return undefined;
  const s = formatMessage(res.msg);
  return s === undefined ? undefined : s.endsWith('\n') ? s : `${s}\n`;
}

export function formatError(m: MessageOf<'error'>): string | undefined {
  const name = errorName(m.errType, m.code, m.experimenter);
  if (name === undefined) return undefined;
  const head = `${header('OFPT_ERROR', m.xid)} ${name}\n`;
  if (name === 'OFPHFC_INCOMPATIBLE' || name === 'OFPHFC_EPERM') return m.data.length ? `${head}${printable(m.data)}\n` : head;
  const inner = embedded(m.data);
  return inner === undefined ? undefined : head + inner;
}

/** ofp_print_phy_port: the port's lines, each ending in a newline. */
export function formatPhyPort(p: PortDesc): string {
  let name = '';
  for (const c of p.name) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e || name.length === 15) break;
    name += c;
  }
  const mac = p.hwAddr.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
  let s = ` ${formatPort(p.portNo)}(${name}): addr:${mac}\n`;
  // Only the bits OVS keeps of an OF1.3 port (others are dropped on decoding).
  s += `     config:     ${bitNames(p.config & OFPPC11_ALL, PORT_CONFIG)}\n`;
  s += `     state:      ${bitNames(p.state & 0x7, PORT_STATE)}\n`;
  const lines: ReadonlyArray<readonly [string, number]> = [
    ['current:    ', p.curr], ['advertised: ', p.advertised], ['supported:  ', p.supported], ['peer:       ', p.peer],
  ];
  for (const [label, bits] of lines) if (bits & 0xffff) s += `     ${label}${bitNames(bits & 0xffff, PORT_FEATURES)}\n`;
  return `${s}     speed: ${Math.floor(p.currSpeed / 1000)} Mbps now, ${Math.floor(p.maxSpeed / 1000)} Mbps max\n`;
}

const PORT_REASONS = ['ADD', 'DEL', 'MOD'];

export function formatPortStatus(m: MessageOf<'port_status'>): string {
  return `${header('OFPT_PORT_STATUS', m.xid)} ${PORT_REASONS[m.reason]!}:${formatPhyPort(m.port)}`;
}

const PACKET_IN_REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];

/** The fields a packet-in of either format (OFPT_PACKET_IN, NXT_PACKET_IN2) prints. */
type PacketInFields = Pick<MessageOf<'packet_in'>, 'xid' | 'bufferId' | 'totalLen' | 'reason' | 'table' | 'cookie' | 'match' | 'unknownOxm' | 'data'>;

export function formatPacketIn(m: PacketInFields, title = 'OFPT_PACKET_IN', userdata?: Buffer): string | undefined {
  const packet = formatPacket(m.data);
  if (packet === undefined) return undefined;
  let s = header(title, m.xid);
  if (m.table) s += ` table_id=${m.table}`;
  if (m.cookie !== u64Max) s += ` cookie=0x${m.cookie.toString(16)}`;
  s += ` total_len=${m.totalLen} ${formatMatch(m.match, 0x8000, m.unknownOxm)}`;
  s += ` (via ${PACKET_IN_REASONS[m.reason] ?? m.reason}) data_len=${m.data.length}`;
  if (m.bufferId === OFP_NO_BUFFER) s += ` (unbuffered)${m.totalLen !== m.data.length ? ' (***total_len != data_len***)' : ''}`;
  else s += ` buffer=0x${m.bufferId.toString(16).padStart(8, '0')}${m.totalLen < m.data.length ? ' (***total_len < data_len***)' : ''}`;
  // PACKET_IN2's userdata (a controller action's userdata=): its bytes in hex, dot-separated.
  if (userdata) s += `\n userdata=${[...userdata].map((b) => b.toString(16).padStart(2, '0')).join('.')}`;
  return `${s}\n${packet}`;
}

/** NXT_PACKET_IN2 (a continuation, printed by OVS from its private layout, is not modelled). */
export function formatPacketIn2(m: MessageOf<'experimenter'>): string | undefined {
  let p: PacketIn2;
  try {
    p = decodePacketIn2(m);
  } catch {
    return undefined;
  }
  return p.continuation ? undefined : formatPacketIn(p, 'NXT_PACKET_IN2', p.userdata);
}

export function formatPacketOut(m: MessageOf<'packet_out'>): string | undefined {
  let s = `${header('OFPT_PACKET_OUT', m.xid)} in_port=${formatPort(m.inPort)} actions=${formatInstructions({ apply: [...m.actions] })}`;
  if (m.bufferId !== OFP_NO_BUFFER) return `${s} buffer=0x${m.bufferId.toString(16).padStart(8, '0')}\n`;
  s += ` data_len=${m.data.length}`;
  if (m.data.length === 0) return `${s}\n`;
  const packet = formatPacket(m.data);
  return packet === undefined ? undefined : `${s}\n${packet}`;
}

export const ROLES = ['nochange', 'equal', 'primary', 'secondary'] as const;
const ROLE_REASONS = ['primary_request', 'configuration_changed', 'experimenter_data_changed'];

export function formatRoleStatus(m: MessageOf<'role_status'>): string | undefined {
  const role = ROLES[m.role];
  if (role === undefined) return undefined;
  const gen = m.generationId !== u64Max ? ` generation_id=${m.generationId}` : '';
  return `${header('ONFT_ROLE_STATUS', m.xid)} role=${role}${gen} reason=${ROLE_REASONS[m.reason] ?? '(unknown)'}\n`;
}

/** Each asynchronous message kind, the bits OVS keeps of its OF1.3 mask, and its reasons' names. */
const ASYNC_KINDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['PACKET_IN', ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out']],
  ['PORT_STATUS', ['add', 'delete', 'modify']],
  ['FLOW_REMOVED', ['idle', 'hard', 'delete', 'group_delete', 'meter_delete', 'eviction']],
  ['ROLE_STATUS', ['primary_request', 'configuration_changed', 'experimenter_data_changed']],
  ['TABLE_STATUS', ['', '', '', 'vacancy_down', 'vacancy_up']],
  ['REQUESTFORWARD', ['group_mod_request', 'meter_mod_request']],
];

/** masks[kind][0 = primary, 1 = secondary]; undefined when a mask holds a bit OVS has no name for. */
function formatAsyncConfig(title: string, masks: ReadonlyArray<readonly [number, number]>): string | undefined {
  let s = `${title}\n`;
  for (const [role, i] of [['primary', 0], ['secondary', 1]] as const) {
    if (i) s += '\n';
    s += ` ${role}:\n`;
    for (let k = 0; k < ASYNC_KINDS.length; k++) {
      const [kind, names] = ASYNC_KINDS[k]!;
      const mask = masks[k]![i];
      const set = names.filter((n, b) => n && mask & (1 << b));
      const known = names.reduce((acc, n, b) => (n ? acc | (1 << b) : acc), 0);
      if (mask & ~known) return undefined;
      s += `${kind.padStart(16)}: ${set.length ? set.join(' ') : '(off)'}\n`;
    }
  }
  return s;
}

/** NXT_SET_ASYNC_CONFIG2: its properties as the masks of each kind and role. */
export function formatAsyncMessage(m: MessageOf<'set_async_config2'>): string | undefined {
  const masks: Array<[number, number]> = ASYNC_KINDS.map(() => [0, 0]);
  for (const p of m.props) masks[p.propType >> 1]![p.propType & 1 ? 0 : 1] = p.mask;
  return formatAsyncConfig(header('NXT_SET_ASYNC_CONFIG2', m.xid), masks);
}

/** OFPT_SET_ASYNC / GET_ASYNC_REPLY: OF1.3 keeps only the reasons it defines (packet-in's first three). */
export function formatAsyncMasks(title: string, c: AsyncConfig): string | undefined {
  const masks: Array<[number, number]> = ASYNC_KINDS.map(() => [0, 0]);
  masks[0] = [c.packetIn[0] & 7, c.packetIn[1] & 7];
  masks[1] = [c.portStatus[0] & 7, c.portStatus[1] & 7];
  masks[2] = [c.flowRemoved[0] & 0x3f, c.flowRemoved[1] & 0x3f];
  return formatAsyncConfig(title, masks);
}
