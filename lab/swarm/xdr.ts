// XDR (RFC 4506), the few shapes NFSv4.1 needs: 32-bit integers, 64-bit hypers as bigint, booleans, fixed and
// variable opaques padded to four bytes, and strings. Written by hand: the NFSv4.1 subset the swarm speaks is
// small, and a generated codec for the whole of RFC 8881's XDR would be far larger than what it uses.

export class XdrWriter {
  private buf = Buffer.alloc(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  u64(v: bigint): this {
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.len);
    this.len += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** Fixed-length opaque: the bytes, padded to a multiple of four; no length word. */
  fixed(bytes: Uint8Array, size: number): this {
    if (bytes.length !== size) throw new Error(`fixed opaque of ${size} bytes given ${bytes.length}`);
    this.room(size + 3);
    Buffer.from(bytes).copy(this.buf, this.len);
    this.len += size;
    this.pad(size);
    return this;
  }

  /** Variable-length opaque: a length word, the bytes, padding. */
  opaque(bytes: Uint8Array): this {
    this.u32(bytes.length);
    this.room(bytes.length + 3);
    Buffer.from(bytes).copy(this.buf, this.len);
    this.len += bytes.length;
    this.pad(bytes.length);
    return this;
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  /** Raw bytes already in XDR (a nested encoding): no length word, no padding. */
  raw(bytes: Uint8Array): this {
    if (bytes.length % 4 !== 0) throw new Error(`raw XDR of ${bytes.length} bytes is not word-aligned`);
    this.room(bytes.length);
    Buffer.from(bytes).copy(this.buf, this.len);
    this.len += bytes.length;
    return this;
  }

  private pad(n: number): void {
    const pad = (4 - (n % 4)) % 4;
    this.room(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class XdrError extends Error {}

export class XdrReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new XdrError(`XDR truncated: need ${n} bytes at ${this.pos} of ${this.buf.length}`);
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    const v = this.u32();
    if (v > 1) throw new XdrError(`XDR bool ${v}`);
    return v === 1;
  }

  fixed(size: number): Buffer {
    const padded = size + ((4 - (size % 4)) % 4);
    this.need(padded);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + size));
    this.pos += padded;
    return v;
  }

  opaque(max = 1 << 20): Buffer {
    const len = this.u32();
    if (len > max) throw new XdrError(`XDR opaque of ${len} bytes exceeds ${max}`);
    return this.fixed(len);
  }

  string(max?: number): string {
    return this.opaque(max).toString('utf8');
  }

  /** A counted array, each element read by `one`. */
  array<T>(one: (r: XdrReader) => T, max = 1 << 16): T[] {
    const n = this.u32();
    if (n > max) throw new XdrError(`XDR array of ${n} elements exceeds ${max}`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(one(this));
    return out;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}
