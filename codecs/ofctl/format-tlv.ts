// NXT_TLV_TABLE_MOD / REQUEST / REPLY as ofp-print prints them (print_tlv_table and its callers).
import { encodeMessage, type OfMessage } from '../openflow/messages.js';
import {
  decodeTlvTable, NXT_TLV_TABLE_MOD, NXT_TLV_TABLE_REPLY, NXT_TLV_TABLE_REQUEST, NXTTMC_CLEAR, type TlvMap,
} from '../openflow/tlv-table.js';
import { header, hexDump } from './format-message.js';

const NAMES: Readonly<Record<number, string>> = {
  [NXT_TLV_TABLE_MOD]: 'NXT_TLV_TABLE_MOD', [NXT_TLV_TABLE_REQUEST]: 'NXT_TLV_TABLE_REQUEST', [NXT_TLV_TABLE_REPLY]: 'NXT_TLV_TABLE_REPLY',
};
const COMMANDS = ['ADD', 'DEL', 'CLEAR'] as const;
/** printf's %#x: no 0x for zero. */
const altHex = (v: number): string => (v ? `0x${v.toString(16)}` : '0');

function table(maps: readonly TlvMap[]): string {
  let s = ' mapping table:\n  class  type  length  match field\n ------  ----  ------  --------------';
  for (const m of maps) {
    s += `\n ${altHex(m.optionClass).padStart(6)}  ${altHex(m.optionType).padStart(4)}  ${String(m.optionLen).padStart(6)}  tun_metadata${m.index}`;
  }
  return s;
}

/** The message as ofp-print prints it; undefined for other experimenter messages. */
export function formatTlvTable(m: Extract<OfMessage, { type: 'experimenter' }>): string | undefined {
  const t = decodeTlvTable(m);
  if (t === undefined) return undefined;
  const head = header(NAMES[m.expType]!, m.xid);
  if ('error' in t) return `${head} ***decode error: ${t.error}***\n${hexDump(encodeMessage(m))}`;
  switch (t.kind) {
    case 'request': return `${head}\n`;
    case 'mod': return `${head}\n ${COMMANDS[t.command]}${t.command === NXTTMC_CLEAR ? '' : `${table(t.maps)}`}\n`;
    case 'reply': {
      const allocated = t.maps.reduce((n, x) => n + x.optionLen, 0);
      return `${head}\n max option space=${t.maxOptionSpace} max fields=${t.maxFields}\n allocated option space=${allocated}\n\n${table(t.maps)}\n`;
    }
  }
}
