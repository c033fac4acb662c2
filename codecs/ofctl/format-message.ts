// A message as `ovs-ofctl ofp-print` prints it (ofp_to_string), for the messages this codec models
// and prints; undefined for the others (never a guess). Checked against OVS's own answers by
// test/codecs/peer-vectors.test.ts.
import type { OfMessage } from '../openflow/messages.js';
import { formatFlowMod, formatFlowStatsReply } from './format-flow.js';

const header = (name: string, xid: number): string => `${name} (OF1.3) (xid=0x${xid.toString(16)}):`;

/** ovs_hex_dump with offsets and ASCII: 16 bytes a line, a '-' between the 8th and 9th. */
export function hexDump(b: Buffer): string {
  let s = '';
  for (let ofs = 0; ofs < b.length; ofs += 16) {
    const line = b.subarray(ofs, ofs + 16);
    s += `${ofs.toString(16).padStart(8, '0')}  `;
    for (let i = 0; i < 16; i++) s += i < line.length ? `${line[i]!.toString(16).padStart(2, '0')}${i === 7 && line.length > 8 ? '-' : ' '}` : '   ';
    s += `|${[...line].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('').padEnd(16)}|\n`;
  }
  return s;
}

const FRAGS = ['normal', 'drop', 'reassemble', 'nx-match'] as const;
const ROLES = ['nochange', 'equal', 'primary', 'secondary'] as const;
const BUNDLE_CONTROL_TYPES = [
  'OPEN_REQUEST', 'OPEN_REPLY', 'CLOSE_REQUEST', 'CLOSE_REPLY', 'COMMIT_REQUEST', 'COMMIT_REPLY', 'DISCARD_REQUEST', 'DISCARD_REPLY',
] as const;

function bundleFlags(flags: number): string | undefined {
  if (flags & ~3) return undefined;
  return [flags & 1 ? 'atomic' : '', flags & 2 ? 'ordered' : ''].filter((x) => x).join(' ');
}

export function formatMessage(m: OfMessage): string | undefined {
  switch (m.type) {
    case 'flow_mod': return formatFlowMod(m, m.xid);
    case 'flow_stats_reply': return formatFlowStatsReply(m.xid, m.flags, m.flows);
    case 'features_request': return `${header('OFPT_FEATURES_REQUEST', m.xid)}\n`;
    case 'get_config_request': return `${header('OFPT_GET_CONFIG_REQUEST', m.xid)}\n`;
    case 'barrier_request': return `${header('OFPT_BARRIER_REQUEST', m.xid)}\n`;
    case 'barrier_reply': return `${header('OFPT_BARRIER_REPLY', m.xid)}\n`;
    case 'echo_request': case 'echo_reply':
      return `${header(m.type === 'echo_request' ? 'OFPT_ECHO_REQUEST' : 'OFPT_ECHO_REPLY', m.xid)} ${m.data.length} bytes of payload\n${hexDump(m.data)}`;
    case 'set_config': case 'get_config_reply': {
      // Other flag bits (invalid_ttl_to_controller…) are printed by OVS in ways not modelled here.
      if (m.flags & ~3) return undefined;
      return `${header(m.type === 'set_config' ? 'OFPT_SET_CONFIG' : 'OFPT_GET_CONFIG_REPLY', m.xid)} frags=${FRAGS[m.flags & 3]} miss_send_len=${m.missSendLen}\n`;
    }
    case 'role_request': case 'role_reply': {
      const role = ROLES[m.role];
      // OVS names a generation id for the roles that carry one; "equal" is left to OVS's own printer.
      if (role === undefined || role === 'equal') return undefined;
      const name = header(m.type === 'role_request' ? 'OFPT_ROLE_REQUEST' : 'OFPT_ROLE_REPLY', m.xid);
      return `${name} role=${role}${role === 'nochange' ? '' : ` generation_id=${m.generationId}`}\n`;
    }
    case 'bundle_control': {
      const type = BUNDLE_CONTROL_TYPES[m.ctrlType];
      const flags = bundleFlags(m.flags);
      if (type === undefined || flags === undefined || m.properties.length) return undefined;
      return `${header('ONFT_BUNDLE_CONTROL', m.xid)}\n bundle_id=0x${m.bundleId.toString(16)} type=${type} flags=${flags}\n`;
    }
    case 'bundle_add': {
      const flags = bundleFlags(m.flags);
      const inner = formatMessage(m.message);
      if (flags === undefined || inner === undefined) return undefined;
      return `${header('ONFT_BUNDLE_ADD_MESSAGE', m.xid)}\n bundle_id=0x${m.bundleId.toString(16)} flags=${flags}\n${inner}`;
    }
    default: return undefined;
  }
}
