/**
 * HMAC-SHA256 for short inputs without node:crypto's per-call setup. node:crypto cannot export a hash
 * midstate, and `createHmac(...).update(...).digest()` costs ~2.5–4 µs per call however short the input (object
 * creation, key re-hash, C++ boundary). Here the key's inner (key ⊕ ipad) and outer (key ⊕ opad) states are
 * computed once at construction, then each message costs:
 * - with the optional addon native/keyed-hmac (native-hmac.ts): one native call (OpenSSL's SHA-256) on the
 *   message encoded into a scratch buffer, up to NATIVE_MAX_BYTES;
 * - without it: two SHA-256 compressions in JS for a value of up to 55 bytes, up to JS_MAX_CHARS code units.
 * Longer inputs go to node:crypto. Byte-identical to `createHmac('sha256', key).update(a).update(b).digest()`
 * on every path (strings as UTF-8, lone surrogates as U+FFFD, as node:crypto encodes them);
 * test/unit/redact/sha256.test.ts checks that on random inputs for both implementations.
 * Not reentrant across threads (shared scratch), which JS never is; the scratch is bounded.
 */
import { createHash, createHmac } from 'node:crypto';
import { loadNativeHmac, type NativeMac } from './native-hmac';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** Longest input (both parts, UTF-16 code units) hashed in JS; longer goes to node:crypto. */
export const JS_MAX_CHARS = 192;
/** Any UTF-8 encoding of JS_MAX_CHARS code units (≤ 3 bytes each) plus padding fits. */
const SCRATCH = JS_MAX_CHARS * 3 + 128;
/** Longest encoded input (bytes, worst case 3 per code unit) given to the native addon; the scratch grows to it. */
export const NATIVE_MAX_BYTES = 64 * 1024;

const W = new Int32Array(64);

/** One SHA-256 compression of the 64-byte block at `off` of `buf` into `st`. */
function compress(st: Int32Array, buf: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] = (buf[j] << 24) | (buf[j + 1] << 16) | (buf[j + 2] << 8) | buf[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = st[0];
  let b = st[1];
  let c = st[2];
  let d = st[3];
  let e = st[4];
  let f = st[5];
  let g = st[6];
  let h = st[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  st[0] = (st[0] + a) | 0;
  st[1] = (st[1] + b) | 0;
  st[2] = (st[2] + c) | 0;
  st[3] = (st[3] + d) | 0;
  st[4] = (st[4] + e) | 0;
  st[5] = (st[5] + f) | 0;
  st[6] = (st[6] + g) | 0;
  st[7] = (st[7] + h) | 0;
}

export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly st = new Int32Array(8);
  /** Message scratch (the part after the ipad block) and the outer block; owned, overwritten by every call. */
  private buf = Buffer.alloc(SCRATCH);
  private readonly ob = new Uint8Array(64);
  private readonly key: Buffer;
  private readonly native: NativeMac | undefined;
  /** Which path short inputs take. */
  readonly implementation: 'native' | 'js';

  /**
   * `key` is copied (as node:crypto does, a key longer than 64 bytes is hashed first). `implementation`
   * 'js' leaves the addon out (tests compare both paths); 'auto' uses it when it is built.
   */
  constructor(key: Uint8Array, implementation: 'auto' | 'js' = 'auto') {
    this.key = Buffer.from(key);
    const k = key.length > 64 ? createHash('sha256').update(key).digest() : key;
    const block = new Uint8Array(64);
    for (let i = 0; i < 64; i++) block[i] = (i < k.length ? k[i] : 0) ^ 0x36;
    this.inner.set(IV);
    compress(this.inner, block, 0);
    for (let i = 0; i < 64; i++) block[i] = (i < k.length ? k[i] : 0) ^ 0x5c;
    this.outer.set(IV);
    compress(this.outer, block, 0);
    block.fill(0);
    this.native = implementation === 'auto' ? loadNativeHmac().keyed?.(key) : undefined;
    this.implementation = this.native === undefined ? 'js' : 'native';
  }

  /**
   * HMAC-SHA256(key, a ‖ b): strings as UTF-8. Returns a new 32-byte Buffer (the caller owns it).
   * Never throws for string or byte inputs.
   */
  mac(a: string, b: string | Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(32);
    this.macInto(a, b, out, 0);
    return out;
  }

  /** HMAC-SHA256(key, a ‖ b) written to `out[off, off + 32)`. */
  macInto(a: string, b: string | Uint8Array, out: Uint8Array, off: number): void {
    const native = this.native;
    if (native !== undefined) {
      const most = 3 * a.length + (typeof b === 'string' ? 3 * b.length : b.length);
      if (most <= NATIVE_MAX_BYTES) {
        if (most > this.buf.length) this.buf = Buffer.alloc(Math.min(NATIVE_MAX_BYTES, Math.max(most, 2 * this.buf.length)));
        native(this.buf, this.encode(a, b), out, off);
        return;
      }
    } else if (a.length + b.length <= JS_MAX_CHARS) {
      this.jsMacInto(this.encode(a, b), out, off);
      return;
    }
    out.set(createHmac('sha256', this.key).update(a).update(b).digest(), off);
  }

  /** a ‖ b into the scratch (which has room for it); returns the byte length. */
  private encode(a: string, b: string | Uint8Array): number {
    const n = this.put(a, 0);
    if (typeof b === 'string') return this.put(b, n);
    this.buf.set(b, n);
    return n + b.length;
  }

  /** HMAC of the `n` message bytes at the start of the scratch, in JS (n + padding fits the scratch). */
  private jsMacInto(n: number, out: Uint8Array, off: number): void {
    const buf = this.buf;
    // Padding: 0x80, zeros, 64-bit big-endian bit length of ipad block + message.
    const total = n + 64;
    buf[n] = 0x80;
    const end = ((n + 9 + 63) >>> 6) * 64;
    buf.fill(0, n + 1, end - 4);
    buf.writeUInt32BE((total * 8) >>> 0, end - 4); // total < 2^29: the high word is 0
    const st = this.st;
    st.set(this.inner);
    for (let off = 0; off < end; off += 64) compress(st, buf, off);
    const ob = this.ob;
    for (let i = 0; i < 8; i++) {
      const w = st[i];
      ob[4 * i] = w >>> 24;
      ob[4 * i + 1] = (w >>> 16) & 255;
      ob[4 * i + 2] = (w >>> 8) & 255;
      ob[4 * i + 3] = w & 255;
    }
    ob[32] = 0x80;
    ob.fill(0, 33, 62);
    ob[62] = 0x03; // (64 + 32) * 8 = 768 bits = 0x0300
    ob[63] = 0x00;
    st.set(this.outer);
    compress(st, ob, 0);
    for (let i = 0; i < 8; i++) {
      const w = st[i];
      const o = off + 4 * i;
      out[o] = w >>> 24;
      out[o + 1] = (w >>> 16) & 255;
      out[o + 2] = (w >>> 8) & 255;
      out[o + 3] = w & 255;
    }
  }

  /** Writes `s` as UTF-8 at `off` of the scratch (ASCII by hand, else Buffer#write); returns the new end. */
  private put(s: string, off: number): number {
    const buf = this.buf;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return off + buf.write(s, off, 'utf8');
      buf[off + i] = c;
    }
    return off + n;
  }
}
