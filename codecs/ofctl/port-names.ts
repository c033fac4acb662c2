// A switch's port names as ovs-ofctl reads and writes them in flow text (lib/namemap.c and
// ofputil_port_from_string/ofputil_format_port in lib/ofp-port.c): a name that is not a letter
// followed by letters and digits is written as a JSON string ("vm-tap.1", "7"); a name or number
// the switch reports twice is ambiguous and used for neither.
import type { PortNames } from '../openflow/ports.js';

/** namemap_put_name(): the name as is when it is [A-Za-z][A-Za-z0-9]*, else JSON-quoted. */
export function quotePortName(name: string): string {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(name) ? name : jsonString(name);
}

/** json_string_escape(): `"` and `\` escaped, control characters as \b \f \n \r \t or \u00XX, the rest as is. */
function jsonString(s: string): string {
  const ESC: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\\x00-\x1f]/g, (c) => ESC[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** The name a word written in flow text stands for: a JSON string unquoted, any other word as is; undefined: a broken string. */
function unquote(text: string): string | undefined {
  if (!text.startsWith('"')) return text;
  if (text.length < 2 || !text.endsWith('"')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the names of a switch's ports from (16-bit port number, name) pairs, as its port descriptions list them. */
export function portNamesOf(ports: Iterable<readonly [number, string]>): PortNames {
  const byName = new Map<string, number>();
  const byNumber = new Map<number, string>();
  const ambiguous = new Set<string>();
  for (const [port, name] of ports) {
    // namemap_put(): a name seen with another number, or a number with another name, is ambiguous.
    const had = byName.get(name);
    if (had !== undefined) {
      if (had !== port) ambiguous.add(name);
      continue;
    }
    const hadName = byNumber.get(port);
    if (hadName !== undefined) {
      ambiguous.add(hadName);
      continue;
    }
    byName.set(name, port);
    byNumber.set(port, name);
  }
  const texts = new Map<number, string>();
  for (const [port, name] of byNumber) if (!ambiguous.has(name)) texts.set(port, quotePortName(name));
  return {
    number(text) {
      const name = unquote(text);
      return name === undefined || ambiguous.has(name) ? undefined : byName.get(name);
    },
    text: (port) => texts.get(port),
    shown: true,
  };
}
