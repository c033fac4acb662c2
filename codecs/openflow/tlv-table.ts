// Nicira's Geneve TLV map messages (NXT_TLV_TABLE_MOD / REQUEST / REPLY): which option
// {class,type,len} each tun_metadataN field matches. Sent as plain experimenter messages; decoded
// as OVS's decode_tlv_table_mappings checks them (its errors and warnings, word for word).
import type { OfMessage, OutgoingMessage } from './messages.js';
import { Reader, Writer } from './bytes.js';

export const NX_VENDOR_ID = 0x2320;
export const NXT_TLV_TABLE_MOD = 24;
export const NXT_TLV_TABLE_REQUEST = 25;
export const NXT_TLV_TABLE_REPLY = 26;
/** nx_tlv_table_mod's command. */
export const NXTTMC_ADD = 0;
export const NXTTMC_DELETE = 1;
export const NXTTMC_CLEAR = 2;
/** TUN_METADATA_NUM_OPTS and TLV_MAX_OPT_SIZE. */
const MOD_MAX_FIELDS = 64;
const TLV_MAX_OPT_SIZE = 124;
const MAP_LEN = 8;

export interface TlvMap {
  readonly optionClass: number;
  readonly optionType: number;
  readonly optionLen: number;
  readonly index: number;
}

export type TlvTableMessage =
  | { readonly kind: 'mod'; readonly command: number; readonly maps: readonly TlvMap[] }
  | { readonly kind: 'request' }
  | { readonly kind: 'reply'; readonly maxOptionSpace: number; readonly maxFields: number; readonly maps: readonly TlvMap[] };

/** A body OVS refuses: its error name and the warning ovs-ofctl logs on decoding it. */
export interface TlvDecodeError { readonly error: string; readonly warning: string }

export function tlvTableMod(command: number, maps: readonly TlvMap[]): OutgoingMessage {
  const w = new Writer();
  w.u16(command).zeros(6);
  for (const m of maps) w.u16(m.optionClass).u8(m.optionType).u8(m.optionLen).u16(m.index).zeros(2);
  return { type: 'experimenter', experimenter: NX_VENDOR_ID, expType: NXT_TLV_TABLE_MOD, data: w.finish() };
}

export const TLV_TABLE_REQUEST: OutgoingMessage = { type: 'experimenter', experimenter: NX_VENDOR_ID, expType: NXT_TLV_TABLE_REQUEST, data: Buffer.alloc(0) };

function mappings(b: Reader, maxFields: number): TlvMap[] | TlvDecodeError {
  const maps: TlvMap[] = [];
  while (b.remaining) {
    const optionClass = b.u16();
    const optionType = b.u8();
    const optionLen = b.u8();
    const index = b.u16();
    b.skip(2);
    if (optionLen % 4 || optionLen > TLV_MAX_OPT_SIZE) {
      return { error: 'NXTTMFC_BAD_OPT_LEN', warning: `tlv table option length (${optionLen}) is not a valid option size` };
    }
    if (index >= maxFields) return { error: 'NXTTMFC_BAD_FIELD_IDX', warning: `tlv table field index (${index}) is too large (max ${maxFields - 1})` };
    maps.push({ optionClass, optionType, optionLen, index });
  }
  return maps;
}

/**
 * One of these messages from its experimenter body; undefined for other messages and for bodies
 * whose length OVS refuses (not modelled: never a guess).
 */
export function decodeTlvTable(m: Extract<OfMessage, { type: 'experimenter' }>): TlvTableMessage | TlvDecodeError | undefined {
  if (m.experimenter !== NX_VENDOR_ID) return undefined;
  const d = m.data;
  const b = new Reader(d);
  switch (m.expType) {
    case NXT_TLV_TABLE_REQUEST: return d.length === 0 ? { kind: 'request' } : undefined;
    case NXT_TLV_TABLE_MOD: {
      if (d.length < 8 || (d.length - 8) % MAP_LEN) return undefined;
      const command = b.u16();
      b.skip(6);
      if (command > NXTTMC_CLEAR) return { error: 'NXTTMFC_BAD_COMMAND', warning: `tlv table mod command (${command}) is out of range` };
      const maps = mappings(b, MOD_MAX_FIELDS);
      return Array.isArray(maps) ? { kind: 'mod', command, maps } : maps;
    }
    case NXT_TLV_TABLE_REPLY: {
      if (d.length < 16 || (d.length - 16) % MAP_LEN) return undefined;
      const maxOptionSpace = b.u32();
      const maxFields = b.u16();
      b.skip(10);
      const maps = mappings(b, maxFields);
      return Array.isArray(maps) ? { kind: 'reply', maxOptionSpace, maxFields, maps } : maps;
    }
    default: return undefined;
  }
}
