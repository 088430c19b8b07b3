import type { ByteOut } from './byte-writer';

/**
 * A ByteOut that keeps the bytes in memory, for a shard worker that encodes exchanges and hands the
 * bytes to the capture thread. Grows by doubling; bounded by what the caller writes between take()s.
 *
 * Ownership: data passed to write*() is copied. take() hands over the written bytes (a view of the
 * writer's own buffer, whole ArrayBuffer, fit to transfer) and the writer goes on in another buffer.
 */
export class MemoryByteWriter implements ByteOut {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly initialBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.pos;
  }

  write(data: Buffer | string): void {
    if (typeof data === 'string') this.writeUtf8(data);
    else this.writeBytes(data);
  }

  writeBytes(data: Uint8Array): void {
    this.room(data.length).set(data, this.pos);
    this.pos += data.length;
  }

  writeByte(b: number): void {
    this.room(1)[this.pos++] = b;
  }

  writeLatin1(s: string): void {
    this.pos += this.room(s.length).write(s, this.pos, 'latin1');
  }

  writeUtf8(s: string): void {
    this.pos += this.room(s.length * 3).write(s, this.pos, 'utf8');
  }

  /** Counts `n` bytes written directly into room()'s buffer at offset `length`. */
  advance(n: number): void {
    this.pos += n;
  }

  /** `next`: a buffer to go on in (one handed out by an earlier take() and given back: its pages are
   *  mapped already, where a new one costs a page fault per 4 KiB on first write). */
  take(next?: ArrayBuffer): Uint8Array {
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
    this.buf = next !== undefined && next.byteLength >= this.initialBytes ? Buffer.from(next) : Buffer.allocUnsafeSlow(Math.max(this.initialBytes, Math.min(this.buf.length, 4 * this.initialBytes)));
    this.pos = 0;
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The buffer, with room for `n` more bytes from offset `length`; a caller that writes there
   *  directly then calls advance(). */
  room(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    return this.buf;
  }
}
