/**
 * Keyed pseudonyms: HMAC-SHA256(key, kind ‖ 0x00 ‖ canonical value) → a deterministic byte stream from
 * which surrogates are drawn. Same key + kind + value → same bytes, across requests and restarts.
 * A fixed-size cache keeps repeated values cheap (values are held in memory only while in the cache).
 * HMAC-SHA256 runs in JS from precomputed key midstates (sha256.ts), node:crypto for long inputs.
 */
import { createHmac } from 'node:crypto';
import { HmacSha256 } from './sha256';
import { flatString } from '../util/flat-string';

/** Cache slots (a power of two). */
const CACHE_SLOTS = 1 << 16;
const CACHE_MAX_VALUE = 256;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Keyed {
  /**
   * Direct-mapped cache of (kind, value) → digest: slot = FNV-1a of kind and value. A miss overwrites the slot,
   * so memory is fixed (CACHE_SLOTS entries) and there is no map growth, rehash or generation copy per miss; a
   * recurring value is evicted only when a one-off value (a random client IP) lands in its very slot
   * (1 / CACHE_SLOTS per one-off), so hot values stay hits. Values longer than CACHE_MAX_VALUE are not kept.
   */
  private readonly kinds: Array<string | undefined> = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
  private readonly values: Array<string | undefined> = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
  /**
   * The cached digests, 32 bytes per slot, in one allocation. Keeping each digest as its own Buffer pinned
   * the 8 KiB pool slab it was cut from (measured: ~140 MB of slabs held by 64k cached digests).
   */
  private readonly table = Buffer.alloc(CACHE_SLOTS * 32);
  private readonly tableWords = new Int32Array(this.table.buffer, this.table.byteOffset, CACHE_SLOTS * 8);
  /** What digest() returns (borrowed by the caller until the next call). */
  private readonly scratch = Buffer.alloc(32);
  private readonly scratchWords = new Int32Array(this.scratch.buffer, this.scratch.byteOffset, 8);
  private readonly hmac: HmacSha256;
  /** `kind ‖ 0x00` per kind (kinds are a small fixed set: detector, rule and token names). */
  private readonly prefixes = new Map<string, string>();

  constructor(private readonly key: Buffer) {
    this.hmac = new HmacSha256(key);
  }

  /**
   * 32 bytes for (kind, value): HMAC-SHA256(key, kind ‖ 0x00 ‖ value). Borrowed: the same scratch Buffer on
   * every call, valid until the next digest()/stream() call; read it at once and do not modify it.
   */
  digest(kind: string, value: string): Buffer {
    const n = value.length;
    const out = this.scratch;
    if (n + kind.length >= CACHE_MAX_VALUE) {
      this.hmac.macInto(this.prefix(kind), value, out, 0);
      return out;
    }
    let h = 0x811c9dc5;
    for (let i = 0; i < kind.length; i++) h = Math.imul(h ^ kind.charCodeAt(i), 0x01000193);
    for (let i = 0; i < n; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
    const slot = (h ^ (h >>> 16)) & (CACHE_SLOTS - 1);
    const words = this.tableWords;
    const sw = this.scratchWords;
    if (this.values[slot] !== value || this.kinds[slot] !== kind) {
      this.hmac.macInto(this.prefix(kind), value, this.table, slot * 32);
      this.kinds[slot] = kind;
      // A slice of a large body would keep the whole body alive while cached: keep a flat copy instead.
      this.values[slot] = flatString(value);
    }
    for (let i = 0, w = slot * 8; i < 8; i++) sw[i] = words[w + i];
    return out;
  }

  private prefix(kind: string): string {
    let p = this.prefixes.get(kind);
    if (p === undefined) {
      p = kind + '\u0000';
      if (this.prefixes.size < 1024) this.prefixes.set(kind, p);
    }
    return p;
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
    return this.hmac.mac(label, bytes);
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
