// The integer readers of OVS's ofp-parse.c that group and meter texts use (str_to_u32, str_to_u8,
// str_to_u16): C's strtoul/strtol with base 0, so 0x hex and 0-octal, and their exact messages.
import { parseU64, ValueError } from './values.js';

/** str_to_u32: strtoul into a uint32_t, so a number beyond 32 bits keeps its low 32 bits and -1 is 0xffffffff. */
export function strToU32(s: string): number {
  return Number(parseU64(s) & 0xffffffffn);
}

const C_INT = /^[+-]?(?:0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i;

/** str_to_u8 / str_to_u16 (strtol base 0 into an int, then 0..max): `invalid NAME "S"` otherwise. */
export function strToSmallUint(s: string, name: string, max: number): number {
  const bad = (): never => {
    throw new ValueError(`invalid ${name} "${s}"`);
  };
  if (!C_INT.test(s)) bad();
  const neg = s.startsWith('-');
  const digits = s.replace(/^[+-]/, '');
  const v = /^0x/i.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  if (neg && v !== 0) bad();
  if (v > max) bad();
  return v;
}
