/**
 * Bounded cache of whole redacted values (header values, JWTs) with the hits they counted. Header values and
 * tokens repeat across a session's requests (the same Cookie, Authorization: Bearer <JWT>, User-Agent), and
 * opening them again (cookie splitting, base64url + JSON walk + re-signing) costs far more than a lookup.
 * A cached result is only valid for a top-level call (ctx.depth 0: no depth-limited opening), which is the
 * only case in which the caller uses it. The hits and counters are recorded (ctx.record) and replayed on
 * every cache hit, so `ex.redactions` and the counters are the same as without the cache.
 * Bounded: at most MAX_ENTRIES results (all namespaces together; cleared when full), inputs longer than
 * MAX_INPUT code units are not cached. Keys are flat copies, never slices of a larger string.
 */
import type { Ctx } from './ctx';

const MAX_ENTRIES = 8192;
const MAX_INPUT = 4096;

interface Entry {
  out: string;
  /** rule, count, rule, count, … */
  hits: Array<string | number>;
  /** counter names, in order */
  counted: string[];
}

export class ResultCache {
  /** server address (ctx.keepIp: results depend on it) → namespace → input → entry */
  private readonly servers = new Map<string, Map<string, Map<string, Entry>>>();
  private size = 0;

  /** `fn(input)` for namespace `ns` (e.g. a header name), from the cache when seen before. */
  run(ctx: Ctx, ns: string, input: string, fn: (input: string) => string): string {
    if (input.length > MAX_INPUT || ctx.depth !== 0) return fn(input);
    let spaces = this.servers.get(ctx.keepIp);
    let space = spaces?.get(ns);
    const e = space?.get(input);
    if (e !== undefined) {
      ctx.replay(e.hits, e.counted);
      return e.out;
    }
    const { out, hits, counted } = ctx.record(() => fn(input));
    if (this.size >= MAX_ENTRIES) {
      this.servers.clear();
      this.size = 0;
      spaces = undefined;
      space = undefined;
    }
    if (spaces === undefined) {
      spaces = new Map();
      this.servers.set(ctx.keepIp, spaces);
    }
    if (space === undefined) {
      space = new Map();
      spaces.set(ns, space);
    }
    space.set(input.length >= 13 ? (' ' + input).slice(1) : input, { out, hits, counted });
    this.size++;
    return out;
  }
}
