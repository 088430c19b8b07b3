/**
 * Bounded cache of redacted bodies. Production traffic repeats bodies (the same config document, a cached
 * API response, static assets, the same error page), and walking one again costs a JSON/text scan and every
 * detector, where a lookup costs one native SHA-256 of the bytes.
 *
 * Contract: a body's redaction is a pure function of (compiled rules and key = this Ctx, the exchange's
 * server address = ctx.keepIp, Content-Type value, body bytes) at depth 0 — nothing else of the exchange
 * enters it. A cached result replays the rule hits
 * (`ex.redactions`) and the live counters the first run counted, so a hit is indistinguishable from a
 * redaction. Anything that makes body redaction depend on more (the connection, the other message) must
 * add it to the key or bypass the cache.
 *
 * Keys are the Content-Type value and a SHA-256 of the bytes (collisions are not a practical concern), held
 * in memory only, never output. Bounded: at most MAX_ENTRIES entries and `maxBytes` (rules: bodies.cacheBytes,
 * 0 = off) of stored results and keys (the oldest are dropped first); bodies over MAX_BODY bytes are not cached. The cache owns the stored result
 * Buffers; callers receive them shared and must not modify them (sinks only read bodies).
 */
import * as crypto from 'node:crypto';

const MAX_ENTRIES = 4096;
const MAX_BODY = 1024 * 1024;

export interface CachedBody {
  /** undefined when the body came back unchanged (the caller keeps its own bytes). */
  out: Buffer | undefined;
  /** rule, count, rule, count, … for ctx.hit */
  hits: Array<string | number>;
  /** counter names for ctx.count, in order */
  counted: string[];
  /** bytes charged against maxBytes */
  cost: number;
}

type HashFn = (data: Uint8Array) => string;

/** One-shot `crypto.hash` (Node ≥ 20.12) avoids a Hash object per call; createHash otherwise. */
const oneShot = (crypto as unknown as { hash?: (alg: string, data: Uint8Array, enc: string) => string }).hash;
const sha256: HashFn = oneShot !== undefined
  ? (d) => oneShot('sha256', d, 'base64')
  : (d) => crypto.createHash('sha256').update(d).digest('base64');

export class BodyCache {
  private readonly entries = new Map<string, CachedBody>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  /** The lookup key for a body, or undefined when the body is not cacheable (too large). */
  keyFor(contentType: string | undefined, body: Uint8Array, keepIp = ''): string | undefined {
    if (body.length > MAX_BODY || this.maxBytes === 0) return undefined;
    return `${keepIp}\u0000${contentType ?? ''}\u0000${sha256(body)}`;
  }

  get(key: string): CachedBody | undefined {
    const e = this.entries.get(key);
    if (e === undefined) this.misses++;
    else this.hits++;
    return e;
  }

  set(key: string, out: Buffer | undefined, hits: Array<string | number>, counted: string[]): void {
    const cost = key.length + (out?.length ?? 0) + 64;
    if (cost > this.maxBytes) return;
    while (this.entries.size >= MAX_ENTRIES || this.bytes + cost > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.bytes -= this.entries.get(oldest.value)!.cost;
      this.entries.delete(oldest.value);
    }
    // A result that is a small slice of Node's shared pool would pin the pool slab: keep a flat copy.
    let own = out;
    if (out !== undefined && out.byteLength !== out.buffer.byteLength) {
      own = Buffer.allocUnsafeSlow(out.length);
      out.copy(own);
    }
    this.entries.set(key, { out: own, hits, counted, cost });
    this.bytes += cost;
  }
}
