// OVSDB speaks JSON-RPC 1.0 with no delimiter between messages: JSON objects written back to back.
// This framer finds message boundaries in any chunking by tracking nesting depth and strings, and
// bounds the size of a message so a peer cannot make us buffer without limit.

export class FramingError extends Error {}

export class JsonFramer {
  private buf = '';
  /** Scan position in buf, with the state reached there (so each byte is scanned once). */
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(
    private readonly maxMessageBytes = 64 << 20,
    /**
     * Deepest nesting accepted: OVS's own JSON parser stops at 1000 (JSON_MAX_HEIGHT), so
     * ovsdb-server never sends deeper. Deeper input would take JSON.parse seconds per MB and
     * overflow the stack of JSON.stringify.
     */
    private readonly maxDepth = 1000,
  ) {}

  /** Feeds bytes; returns the complete JSON texts found (not yet parsed). */
  push(chunk: Uint8Array): string[] {
    this.buf += this.decoder.decode(chunk, { stream: true });
    const out: string[] = [];
    const s = this.buf;
    let i = this.pos;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true; // backslash
        else if (c === 0x22) this.inString = false; // quote
        continue;
      }
      if (c === 0x22) {
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        if (this.depth === 0) this.start = i;
        if (++this.depth > this.maxDepth) throw new FramingError(`nesting deeper than ${this.maxDepth} at offset ${i}`);
      } else if (c === 0x7d || c === 0x5d) {
        if (this.depth === 0) throw new FramingError(`unbalanced '${String.fromCharCode(c)}' at offset ${i}`);
        this.depth--;
        if (this.depth === 0) {
          out.push(s.slice(this.start, i + 1));
          this.start = -1;
        }
      } else if (this.depth === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        throw new FramingError(`unexpected '${String.fromCharCode(c)}' between messages at offset ${i}`);
      }
    }
    // Keep only the unfinished message.
    if (this.depth === 0) {
      this.buf = '';
      this.pos = 0;
    } else {
      this.buf = s.slice(this.start);
      this.pos = this.buf.length;
      this.start = 0;
      if (this.buf.length > this.maxMessageBytes) throw new FramingError(`message larger than ${this.maxMessageBytes} bytes`);
    }
    return out;
  }
}
