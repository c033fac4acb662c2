// ovs-ofctl's key/value splitter (ofputil_parse_key_value): `key=value`, `key:value`, `key(value)`
// or a bare `key`, separated by commas or white space, parentheses nesting. Offsets are kept so
// errors can name the column.

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Offset of the key in the original text (0-based). */
  readonly keyAt: number;
  /** Offset of the value in the original text. */
  readonly valueAt: number;
  /** How the key ended: '=', ':', '(' or '' for a bare key. */
  readonly delim: string;
}

// Character classes as lookup tables: this runs over every character of every flow of a file.
const SEPARATOR = new Uint8Array(128);
for (const c of ', \t\r\n') SEPARATOR[c.charCodeAt(0)] = 1;
const KEY_END = new Uint8Array(128);
for (const c of ':=(, \t\r\n') KEY_END[c.charCodeAt(0)] = 1;
const CLOSE_PAREN = new Uint8Array(128);
CLOSE_PAREN[41] = 1;

const isIn = (table: Uint8Array, code: number): boolean => code < 128 && table[code] === 1;

function valueLength(s: string, from: number, delims: Uint8Array): number {
  let n = from;
  while (n < s.length && !isIn(delims, s.charCodeAt(n))) {
    if (s[n] === '(') {
      let level = 0;
      do {
        if (n >= s.length) return n - from;
        if (s[n] === '(') level++;
        else if (s[n] === ')') level--;
        n++;
      } while (level > 0);
    } else {
      n++;
    }
  }
  return n - from;
}

/** Splits `text` (which starts at `base` in the original string) into key/value pairs. */
export function splitKeyValues(text: string, base = 0): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && isIn(SEPARATOR, text.charCodeAt(i))) i++;
    if (i >= text.length) return out;
    const keyAt = i;
    while (i < text.length && !isIn(KEY_END, text.charCodeAt(i))) i++;
    const key = text.slice(keyAt, i);
    const delim = i < text.length ? text[i]! : '';
    if (delim) i++;
    if (delim !== ':' && delim !== '=' && delim !== '(') {
      out.push({ key, value: '', keyAt: base + keyAt, valueAt: base + i, delim: '' });
      continue;
    }
    const valueAt = i;
    let len = valueLength(text, i, delim === '(' ? CLOSE_PAREN : SEPARATOR);
    // "(x)->y": a parenthesised value followed by an arrow, as in move or set_field.
    if (delim === '(' && text[i + len] === ')' && text[i + len + 1] === '-' && text[i + len + 2] === '>') {
      len += valueLength(text, i + len, SEPARATOR);
    }
    const value = text.slice(i, i + len);
    i += len;
    if (i < text.length) i++;
    out.push({ key, value, keyAt: base + keyAt, valueAt: base + valueAt, delim });
  }
}
