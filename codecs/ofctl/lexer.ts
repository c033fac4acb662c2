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

const PAIR_SEPARATORS = ', \t\r\n';
const KEY_END = ':=(, \t\r\n';

function valueLength(s: string, from: number, delims: string): number {
  let n = from;
  while (n < s.length && !delims.includes(s[n]!)) {
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
    while (i < text.length && PAIR_SEPARATORS.includes(text[i]!)) i++;
    if (i >= text.length) return out;
    const keyAt = i;
    while (i < text.length && !KEY_END.includes(text[i]!)) i++;
    const key = text.slice(keyAt, i);
    const delim = i < text.length ? text[i]! : '';
    if (delim) i++;
    if (delim !== ':' && delim !== '=' && delim !== '(') {
      out.push({ key, value: '', keyAt: base + keyAt, valueAt: base + i, delim: '' });
      continue;
    }
    const valueAt = i;
    let len = valueLength(text, i, delim === '(' ? ')' : PAIR_SEPARATORS);
    // "(x)->y": a parenthesised value followed by an arrow, as in move or set_field.
    if (delim === '(' && text[i + len] === ')' && text[i + len + 1] === '-' && text[i + len + 2] === '>') {
      len += valueLength(text, i + len, PAIR_SEPARATORS);
    }
    const value = text.slice(i, i + len);
    i += len;
    if (i < text.length) i++;
    out.push({ key, value, keyAt: base + keyAt, valueAt: base + valueAt, delim });
  }
}
