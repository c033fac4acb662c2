// OpenFlow framing over a byte stream: messages are length-prefixed (bytes 2..3 of the header), and
// a stream may cut them anywhere. A length below the 8-byte header (or above the caller's limit)
// cannot be resynchronised: the stream is broken and its session must end. Bytes in, whole
// messages out, no I/O: the controller's session and the simulated switch both frame with it.

const HEADER = 8;

export class OfFramer {
  private rest: Buffer = Buffer.alloc(0);

  /** `maxMessageBytes`: the largest message accepted; a longer one breaks the stream. */
  constructor(private readonly maxMessageBytes = 0xffff) {}

  /** Bytes held back waiting for the rest of a message. */
  get pending(): number {
    return this.rest.length;
  }

  /**
   * Feeds a chunk; `onMessage` gets each complete message (a view into the chunk, valid for as long
   * as the caller keeps it) and returns false to stop. Returns an error text if the stream is broken.
   */
  push(chunk: Buffer, onMessage: (raw: Buffer) => boolean): string | undefined {
    let buf = chunk;
    let off = 0;
    if (this.rest.length) {
      // The message held back is completed from the chunk's head (a copy of that message only,
      // not of the whole chunk: a dump's replies straddle most chunks); the rest is read in place.
      const rest = this.rest;
      const len = rest.length >= HEADER ? rest.readUInt16BE(2) : 0;
      const need = len - rest.length;
      if (len < HEADER || len > this.maxMessageBytes || need <= 0 || need > chunk.length) {
        buf = Buffer.concat([rest, chunk]);
      } else {
        this.rest = Buffer.alloc(0);
        if (!onMessage(Buffer.concat([rest, chunk.subarray(0, need)]))) {
          this.rest = need >= chunk.length ? Buffer.alloc(0) : Buffer.from(chunk.subarray(need));
          return undefined;
        }
        off = need;
      }
    }
    while (buf.length - off >= HEADER) {
      const len = buf.readUInt16BE(off + 2);
      if (len < HEADER || len > this.maxMessageBytes) {
        this.rest = Buffer.alloc(0);
        return `length ${len} ${len < HEADER ? `< ${HEADER}` : `> ${this.maxMessageBytes}`} at stream offset ${off}`;
      }
      if (buf.length - off < len) break;
      const raw = buf.subarray(off, off + len);
      off += len;
      if (!onMessage(raw)) break;
    }
    // Copy the tail: a view would pin the whole chunk while waiting for the rest of one message.
    this.rest = off >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return undefined;
  }
}
