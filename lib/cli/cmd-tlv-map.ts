// The Geneve TLV map commands (add-tlv-map, del-tlv-map, dump-tlv-map), as ovs-ofctl 3.1 runs them:
// MAP read as parse_ofp_tlv_table_mod_str reads it, the mod confirmed by a barrier, the switch's
// error printed to stderr as ovs-ofctl prints it (with the warning it logs decoding the echoed mod).
import {
  decodeTlvTable, NXTTMC_ADD, NXTTMC_CLEAR, NXTTMC_DELETE, TLV_TABLE_REQUEST, tlvTableMod, type TlvMap,
} from '../../codecs/openflow/tlv-table.js';
import { withTimeout } from './common.js';
import { transactEach } from './ofctl-transact.js';
import { dumpTransaction, onSwitch } from './query.js';

export interface TlvMapOptions {
  /** -t/--timeout SECS. */
  readonly timeoutS?: number;
}

const INT64_MAX = (1n << 63n) - 1n;
const SPACES = ' \t\n\v\f\r';

/**
 * strtoimax(s, &tail, 0) at `at`, after ovs_scan's skip of white space: the value and where it
 * ends, or undefined without digits. Out of intmax_t's range it is clamped, as strtoimax does (and
 * OVS then accepts it: measured, class=99999999999999999999 is class 0xffff).
 */
function scanInt(s: string, at: number): { value: bigint; end: number } | undefined {
  let i = at;
  while (i < s.length && SPACES.includes(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  let digits = /^[0-9]+/;
  let prefix = '';
  if (/^0[xX][0-9a-fA-F]/.test(s.slice(i, i + 3))) {
    digits = /^[0-9a-fA-F]+/;
    prefix = '0x';
    i += 2;
  } else if (s[i] === '0') {
    digits = /^[0-7]+/;
    prefix = '0o';
  }
  const m = digits.exec(s.slice(i));
  if (!m) return undefined;
  const magnitude = BigInt(prefix + m[0]);
  const value = neg ? -magnitude : magnitude;
  return { value: value > INT64_MAX ? INT64_MAX : value < -INT64_MAX - 1n ? -INT64_MAX - 1n : value, end: i + m[0].length };
}

/** The literal text around each %i of OVS's format "{class=%hi,type=%hhi,len=%hhi}->tun_metadata%hi". */
const PIECES = ['{class=', ',type=', ',len=', '}->tun_metadata'] as const;

/**
 * MAP as parse_ofp_tlv_table_mod_str reads it: `{class=C,type=T,len=L}->tun_metadataN[,...]`, each
 * number as C's %i reads it (decimal, 0x hex or 0 octal, signed) and cut to its field's width as
 * OVS stores it (class and N 16 bits, type and len 8). Any other text: OVS's one error.
 */
export function parseTlvMap(s: string): TlvMap[] {
  const maps: TlvMap[] = [];
  let at = 0;
  while (at < s.length) {
    if (s[at] === ',') at++;
    const values: number[] = [];
    for (const [k, piece] of PIECES.entries()) {
      if (!s.startsWith(piece, at)) throw new Error('invalid tlv mapping');
      const n = scanInt(s, at + piece.length);
      if (!n) throw new Error('invalid tlv mapping');
      values.push(Number(BigInt.asUintN(k === 1 || k === 2 ? 8 : 16, n.value)));
      at = n.end;
    }
    const [optionClass, optionType, optionLen, index] = values as [number, number, number, number];
    maps.push({ optionClass, optionType, optionLen, index });
  }
  return maps;
}

const stderr = (s: string): void => void process.stderr.write(s);

/** ovs-ofctl's vlog line for a warning it logs (the first of its run). */
const vlogWarn = (module: string, text: string): string => `${new Date().toISOString().slice(0, 19)}Z|00001|${module}|WARN|${text}\n`;

async function tlvMod(args: readonly string[], command: number, opts: TlvMapOptions, err: (s: string) => void): Promise<number> {
  const [sw, map] = args;
  const mod = tlvTableMod(command, parseTlvMap(map ?? ''));
  // The switch echoes a mod it refuses; ovs-ofctl logs why it cannot decode that echo, then prints it.
  const bad = mod.type === 'experimenter' ? decodeTlvTable({ ...mod, xid: 0 }) : undefined;
  const warning = bad && 'warning' in bad ? vlogWarn('ofp_match', bad.warning) : '';
  return withTimeout(command === NXTTMC_ADD ? 'add-tlv-map' : 'del-tlv-map', opts.timeoutS, () => transactEach(sw!, [mod], (s) => err(warning + s)));
}

/**
 * add-tlv-map SWITCH MAP: add each {class,type,len}->tun_metadataN mapping of MAP.
 * e.g. ofctl-ts add-tlv-map br-tun '{class=0xffff,type=0,len=4}->tun_metadata0'
 */
export async function addTlvMapCommand(args: readonly string[], opts: TlvMapOptions, _out?: unknown, err = stderr): Promise<number> {
  return tlvMod(args, NXTTMC_ADD, opts, err);
}

/**
 * del-tlv-map SWITCH [MAP]: delete MAP's mappings, or all of them without MAP.
 * e.g. ofctl-ts del-tlv-map br-tun '{class=0xffff,type=0,len=4}->tun_metadata0'
 */
export async function delTlvMapCommand(args: readonly string[], opts: TlvMapOptions, _out?: unknown, err = stderr): Promise<number> {
  return tlvMod(args, args.length > 1 ? NXTTMC_DELETE : NXTTMC_CLEAR, opts, err);
}

/**
 * dump-tlv-map SWITCH: print the switch's TLV map (NXT_TLV_TABLE_REPLY as ofp-print prints it).
 * e.g. ofctl-ts dump-tlv-map br-tun
 */
export async function dumpTlvMapCommand(args: readonly string[], opts: TlvMapOptions, out: (s: string) => void): Promise<number> {
  return onSwitch(args, 'dump-tlv-map', 1, { ...opts, names: false }, (conn) => dumpTransaction(conn, TLV_TABLE_REQUEST, 'experimenter', out));
}
