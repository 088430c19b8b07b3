/**
 * Bounded cache of whole redacted values (header values, JWTs) with the hits they counted. Header values and
 * tokens repeat across a session's requests (the same Cookie, Authorization: Bearer <JWT>, User-Agent), and
 * opening them again (cookie splitting, base64url + JSON walk + re-signing) costs far more than a lookup.
 * A cached result is only valid for a top-level call (ctx.depth 0: no depth-limited opening), which is the
 * only case in which the caller uses it. The hits and counters are recorded (ctx.record) and replayed on
 * every cache hit, so `ex.redactions` and the counters are the same as without the cache.
 * Bounded: at most MAX_ENTRIES results (all namespaces together; cleared when full), inputs longer than
 * MAX_INPUT code units are not cached. Keys are flat copies, never slices of a larger string.
 * Adaptive: a namespace whose values never repeat (per-request tokens: AWS SigV4 Authorization, a JWT with a
 * fresh `jti`, nonce cookies) only pays for the cache — a recording, a key copy and an insert per value. When
 * fewer than 1 in 64 of a namespace's last PROBE_CALLS lookups hit, it skips the cache for its next
 * BYPASS_CALLS values, then probes again. Results are the same either way (the cache is transparent).
 */
import { BoundedMap } from '../util/bounded-map';
import type { Ctx } from './ctx';
import { flatString } from '../util/flat-string';

const MAX_ENTRIES = 8192;
const MAX_INPUT = 4096;
const PROBE_CALLS = 1024;
const BYPASS_CALLS = 16384;

/** Per namespace: lookups and hits in the current probe window, or the values left to bypass. */
interface Usage {
  calls: number;
  hits: number;
  bypass: number;
}

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
  /** Namespaces are header names and token kinds: few; bounded all the same (cleared when full). */
  private readonly usage = new BoundedMap<string, Usage>(256);

  /** `fn(input)` for namespace `ns` (e.g. a header name), from the cache when seen before. */
  run(ctx: Ctx, ns: string, input: string, fn: (input: string) => string): string {
    if (input.length > MAX_INPUT || ctx.depth !== 0) return fn(input);
    const u = this.usageOf(ns);
    if (u.bypass > 0) {
      u.bypass--;
      return fn(input);
    }
    if (++u.calls === PROBE_CALLS) {
      if (u.hits * 64 < PROBE_CALLS) u.bypass = BYPASS_CALLS;
      u.calls = 0;
      u.hits = 0;
    }
    let spaces = this.servers.get(ctx.keepIp);
    let space = spaces?.get(ns);
    const e = space?.get(input);
    if (e !== undefined) {
      u.hits++;
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
    space.set(flatString(input), { out, hits, counted });
    this.size++;
    return out;
  }

  private usageOf(ns: string): Usage {
    let u = this.usage.get(ns);
    if (u === undefined) {
      u = { calls: 0, hits: 0, bypass: 0 };
      this.usage.set(ns, u);
    }
    return u;
  }
}
