/**
 * Keyed pseudonyms: HMAC-SHA256(key, kind ‖ 0x00 ‖ canonical value) → a deterministic byte stream from
 * which surrogates are drawn. Same key + kind + value → same bytes, across requests and restarts.
 * A bounded two-generation cache keeps repeated values cheap; it holds digests, never values as keys
 * beyond the cache's lifetime in memory.
 */
import { createHmac } from 'node:crypto';

const CACHE_MAX = 32768;
const CACHE_MAX_VALUE = 256;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Keyed {
  /**
   * Two generations: hits are looked up in both; when the current one is full it becomes the old one (the
   * previous old one is dropped). Bounded at 2 × CACHE_MAX entries, and values that recur keep being hits
   * instead of being flushed by a stream of one-off values (random client IPs) as a clear-when-full cache is.
   */
  private cur = new Map<string, Buffer>();
  private old = new Map<string, Buffer>();

  constructor(private readonly key: Buffer) {}

  /** 32 bytes for (kind, value). */
  digest(kind: string, value: string): Buffer {
    const ck = kind + '\u0000' + value;
    const hit = this.cur.get(ck);
    if (hit !== undefined) return hit;
    const d = this.old.get(ck) ?? createHmac('sha256', this.key).update(ck, 'utf8').digest();
    if (ck.length > CACHE_MAX_VALUE) return d; // long values are not retained in memory
    if (this.cur.size >= CACHE_MAX) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(ck, d);
    return d;
  }

  /**
   * `n` bytes for (kind, value): the digest itself when n <= 32, else the digest expanded by xoshiro128**
   * seeded from it. The expansion needs no secrecy of its own: its seed is already a keyed PRF output, and
   * surrogate bytes only ever reveal that pseudonym, never the key or the value. Linear in n, no per-call setup.
   */
  stream(kind: string, value: string, n: number): Buffer {
    const first = this.digest(kind, value);
    if (n <= first.length) return first;
    const out = Buffer.allocUnsafe(n);
    first.copy(out, 0);
    let a = first.readUInt32LE(0) | 1;
    let b = first.readUInt32LE(4);
    let c = first.readUInt32LE(8);
    let d = first.readUInt32LE(12);
    for (let i = 32; i < n; i += 4) {
      const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      out[i] = r & 255;
      if (i + 1 < n) out[i + 1] = (r >>> 8) & 255;
      if (i + 2 < n) out[i + 2] = (r >>> 16) & 255;
      if (i + 3 < n) out[i + 3] = r >>> 24;
    }
    return out;
  }

  /** Keyed digest of raw bytes, hex, `hexChars` long: used in placeholders. Not cached. */
  bytesDigest(label: string, bytes: Uint8Array, hexChars = 16): string {
    return createHmac('sha256', this.key).update(label).update(bytes).digest('hex').slice(0, hexChars);
  }

  /** HMAC over raw bytes with a label (for JWT signature replacement). */
  mac(label: string, bytes: Uint8Array | string): Buffer {
    return createHmac('sha256', this.key).update(label).update(bytes).digest();
  }
}

/** Draws digits/letters from a byte stream; wraps around with a counter if it runs out. */
export class Draw {
  private i = 0;
  constructor(private readonly bytes: Buffer) {}

  private next(): number {
    const b = this.bytes[this.i % this.bytes.length] ^ (Math.floor(this.i / this.bytes.length) * 151 & 0xff);
    this.i++;
    return b;
  }

  /** 0..n-1 (n <= 256; the modulo bias is irrelevant for surrogates). */
  int(n: number): number {
    return this.next() % n;
  }

  digit(): string {
    return String.fromCharCode(48 + this.int(10));
  }

  lower(): string {
    return String.fromCharCode(97 + this.int(26));
  }

  upper(): string {
    return String.fromCharCode(65 + this.int(26));
  }
}
