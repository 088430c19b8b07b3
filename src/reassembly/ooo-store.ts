import { seqAdd, seqDiff } from './seq';

/**
 * The out-of-order store of one TCP direction: segments that arrived ahead of the next expected
 * byte, kept sorted by sequence number and never overlapping each other.
 *
 * Ownership: `insert` COPIES the bytes it keeps (the capture buffer is borrowed); the store owns
 * those copies until `shift` hands a segment out, after which the caller owns it.
 * Overlap policy: first copy wins. Bytes of a new segment that are already held are dropped and
 * reported to the caller (return value of `insert`); only the uncovered pieces are copied.
 * Bounds: the store itself is unbounded; HalfStream enforces the byte and segment caps.
 * Allocation: one segment object and one exact-size Buffer (not pooled, so a small piece never pins
 * an 8 KiB slab) per stored piece; nothing on the in-order path.
 */
export interface OooSegment {
  /** Sequence number of the first byte. */
  start: number;
  /** Sequence space covered (bytes). */
  len: number;
  /** The bytes, or null for bytes the capture cut off (snaplen / mirror packet length). */
  data: Buffer | null;
  /** Capture time of the packet that carried the segment. */
  tsMicros: number;
}

export class OooStore {
  /** Sorted by start relative to the owner's next expected byte; pairwise disjoint. */
  private readonly segs: OooSegment[] = [];
  /** Bytes of data held (truncated markers hold none). */
  bytes = 0;

  get count(): number {
    return this.segs.length;
  }

  /** The segment with the lowest sequence number, or undefined. */
  first(): OooSegment | undefined {
    return this.segs[0];
  }

  /** Removes and returns the first segment; the caller owns it. */
  shift(): OooSegment | undefined {
    const s = this.segs.shift();
    if (s !== undefined && s.data !== null) this.bytes -= s.data.length;
    return s;
  }

  /** Drops everything; returns the number of data bytes dropped. */
  clear(): number {
    const n = this.bytes;
    this.segs.length = 0;
    this.bytes = 0;
    return n;
  }

  /**
   * Drops every byte at or after sequence `limit` (for data beyond a FIN). `base` is the owner's
   * next expected byte (all stored segments lie after it). Returns the sequence space dropped.
   */
  truncateAt(base: number, limit: number): number {
    const lim = seqDiff(limit, base);
    let dropped = 0;
    for (let i = this.segs.length - 1; i >= 0; i--) {
      const s = this.segs[i];
      const a = seqDiff(s.start, base);
      if (a + s.len <= lim) break;
      if (a >= lim) {
        dropped += s.len;
        if (s.data !== null) this.bytes -= s.data.length;
        this.segs.pop();
      } else {
        const keep = lim - a;
        dropped += s.len - keep;
        if (s.data !== null) {
          this.bytes -= s.data.length - keep;
          s.data = s.data.subarray(0, keep);
        }
        s.len = keep;
      }
    }
    return dropped;
  }

  /**
   * Stores the parts of [start, start+len) not already held. `base` is the owner's next expected
   * byte; `start` must lie after it (0 < start-base < 2^31 - len). `buf[off..off+len)` holds the
   * bytes, or `buf` is null for a truncated range. Returns the sequence space newly stored
   * (len minus the overlap with held segments).
   */
  insert(base: number, start: number, len: number, buf: Buffer | null, off: number, tsMicros: number): number {
    const segs = this.segs;
    const rs = seqDiff(start, base);
    const re = rs + len;
    // First segment whose end lies after rs (binary search over disjoint sorted segments).
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = segs[mid];
      if (seqDiff(s.start, base) + s.len <= rs) lo = mid + 1;
      else hi = mid;
    }
    let stored = 0;
    let cursor = rs;
    let i = lo;
    while (i < segs.length && cursor < re) {
      const s = segs[i];
      const a = seqDiff(s.start, base);
      if (a >= re) break;
      if (a > cursor) {
        segs.splice(i, 0, this.piece(start, rs, cursor, a, buf, off, tsMicros));
        stored += a - cursor;
        i++;
      }
      const b = a + s.len;
      if (b > cursor) cursor = b;
      i++;
    }
    if (cursor < re) {
      segs.splice(i, 0, this.piece(start, rs, cursor, re, buf, off, tsMicros));
      stored += re - cursor;
    }
    return stored;
  }

  private piece(start: number, rs: number, from: number, to: number, buf: Buffer | null, off: number, ts: number): OooSegment {
    const skip = from - rs;
    const n = to - from;
    let data: Buffer | null = null;
    if (buf !== null) {
      data = Buffer.allocUnsafeSlow(n);
      buf.copy(data, 0, off + skip, off + skip + n);
      this.bytes += n;
    }
    return { start: seqAdd(start, skip), len: n, data, tsMicros: ts };
  }
}
