// Big-endian byte reader and writer for the OpenFlow codec. The reader throws DecodeError (with the
// absolute offset) on any out-of-bounds read; message decoders catch it and return a typed error.

export class DecodeError extends Error {
  constructor(
    message: string,
    /** Byte offset into the buffer being decoded where the problem was found. */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'DecodeError';
  }
}

export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new DecodeError(`need ${n} bytes, ${this.end - this.pos} left`, this.pos);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    const v = (b[p]! * 0x1000000) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = readU64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  /** An unsigned big-endian integer of any byte width. */
  uint(bytes: number): bigint {
    this.need(bytes);
    const v = readUint(this.buf, this.pos, bytes);
    this.pos += bytes;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A sub-reader over the next n bytes; this reader moves past them. */
  sub(n: number): Reader {
    this.need(n);
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  fail(message: string, at = this.pos): never {
    throw new DecodeError(message, at);
  }
}

/**
 * A big-endian u64. Counters, cookies and tunnel ids are mostly below 2^53: one BigInt from an
 * exact double then, where Buffer.readBigUInt64BE builds three (this runs several times per flow).
 */
function readU64(buf: Buffer, pos: number): bigint {
  const hi = (buf[pos]! * 0x1000000) + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!);
  if (hi >= 0x200000) return buf.readBigUInt64BE(pos);
  const lo = (buf[pos + 4]! * 0x1000000) + ((buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!);
  const v = hi * 0x100000000 + lo;
  return v === 0 ? 0n : BigInt(v);
}

function readUint(buf: Buffer, pos: number, bytes: number): bigint {
  switch (bytes) {
    case 1:
      return BigInt(buf[pos]!);
    case 2:
      return BigInt(buf.readUInt16BE(pos));
    case 4:
      return BigInt(buf.readUInt32BE(pos));
    case 6:
      return BigInt(buf.readUIntBE(pos, 6));
    case 8:
      return readU64(buf, pos);
    default: {
      let v = 0n;
      for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(buf[pos + i]!);
      return v;
    }
  }
}

/** A growable big-endian writer. */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  // Byte stores beat Buffer's write*BE helpers here (no argument validation on the hot path).
  u16(v: number): this {
    this.room(2);
    const b = this.buf;
    b[this.pos] = (v >>> 8) & 0xff;
    b[this.pos + 1] = v & 0xff;
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    if (v === 0n) return this.zeros(8);
    if (v > 0n && v <= 0xffffffffn) return this.u32(0).u32(Number(v));
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
    return this;
  }

  uint(v: bigint, bytes: number): this {
    switch (bytes) {
      case 1:
        return this.u8(Number(v & 0xffn));
      case 2:
        return this.u16(Number(v & 0xffffn));
      case 4:
        return this.u32(Number(v & 0xffffffffn));
      case 8:
        return this.u64(v);
    }
    this.room(bytes);
    switch (bytes) {
      case 6: {
        const n = Number(v & 0xffffffffffffn);
        this.buf.writeUIntBE(n, this.pos, 6);
        break;
      }
      default:
        for (let i = bytes - 1; i >= 0; i--) {
          this.buf[this.pos + i] = Number(v & 0xffn);
          v >>= 8n;
        }
    }
    this.pos += bytes;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  zeros(n: number): this {
    this.room(n);
    const b = this.buf;
    const end = this.pos + n;
    if (n <= 16) for (let i = this.pos; i < end; i++) b[i] = 0;
    else b.fill(0, this.pos, end);
    this.pos = end;
    return this;
  }

  /** Zero-pads up to a multiple of `align` counted from `start`. */
  padTo(align: number, start = 0): this {
    const rem = (this.pos - start) % align;
    return rem === 0 ? this : this.zeros(align - rem);
  }

  /** Writes a u16 at an earlier position (lengths known only after the body). */
  patch16(at: number, v: number): this {
    this.buf.writeUInt16BE(v & 0xffff, at);
    return this;
  }

  patch32(at: number, v: number): this {
    this.buf.writeUInt32BE(v >>> 0, at);
    return this;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
