/**
 * compileRedactor: rules → Ctx once at start (bad rules throw RedactConfigError here), then `redact(ex)`
 * applied to every exchange before any output sees it. Pure apart from the in-place update of the record.
 * Never throws: an internal error in a body withholds that body (placeholder), in headers/URL replaces the
 * affected values by the fixed token; each is counted (`redact_internal_error`).
 */
import type { Exchange, Header, HttpMessageCommon } from '../exchange/record';
import type { Counters } from '../observe/counters';
import { MediaType, parseMediaType, redactTyped, withhold } from './body';
import type { RedactConfig } from './config';
import { Ctx } from './ctx';
import { redactHeaders } from './headers';
import { redactText, replaceIps } from './text';
import { redactUrl } from './url';

export interface Redactor {
  /** Redacts in place and returns the same record: headers, url, bodies, trailers; fills ex.redactions (rule -> count).
   *  Never throws: on an internal error the affected body is replaced by the fail-closed placeholder. */
  redact(ex: Exchange): Exchange;
}

/** Headers whose values carry framing/representation metadata and no user data. */
const SAFE_ON_ERROR = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'connection']);

function headerValue(headers: Header[], name: string): string | undefined {
  for (const h of headers) if (h.name.toLowerCase() === name) return h.value;
  return undefined;
}

class RedactorImpl implements Redactor {
  constructor(private readonly ctx: Ctx) {}

  private failHeaders(headers: Header[]): Header[] {
    this.ctx.hit('internal_error');
    this.ctx.count('redact_internal_error');
    return headers.map((h) => (SAFE_ON_ERROR.has(h.name.toLowerCase()) ? h : { name: h.name, value: this.ctx.cfg.fixedToken }));
  }

  /** redactTyped at depth 0 through the body cache; a hit replays the hits and counters of the first run. */
  private cachedBody(contentType: string | undefined, mt: MediaType, body: Buffer): Buffer {
    const ctx = this.ctx;
    const cache = ctx.bodies;
    const key = cache.keyFor(contentType, body, ctx.keepIp);
    if (key === undefined) return redactTyped(ctx, mt, body);
    const e = cache.get(key);
    if (e !== undefined) {
      ctx.replay(e.hits, e.counted);
      return e.out ?? body;
    }
    const { out, hits, counted } = ctx.record(() => redactTyped(ctx, mt, body));
    cache.set(key, out === body ? undefined : out, hits, counted);
    return out;
  }

  private message(m: HttpMessageCommon, decodeFailed: boolean): void {
    const ctx = this.ctx;
    const originalHeaders = m.headers;
    try {
      m.headers = redactHeaders(ctx, m.headers);
    } catch {
      m.headers = this.failHeaders(m.headers);
    }
    try {
      m.trailers = redactHeaders(ctx, m.trailers);
    } catch {
      m.trailers = this.failHeaders(m.trailers);
    }
    const body = m.body;
    const hadBody = body.length > 0 || m.wireBodySize > 0;
    if (body.length > 0) {
      const mt = parseMediaType(headerValue(originalHeaders, 'content-type'));
      const encoded = m.contentEncodings.some((e) => e.toLowerCase() !== 'identity');
      try {
        ctx.depth = 0;
        m.body = decodeFailed && encoded
          ? withhold(ctx, body, mt.type, 'decode_error')
          : this.cachedBody(headerValue(originalHeaders, 'content-type'), mt, body);
      } catch {
        ctx.count('redact_internal_error');
        m.body = withhold(ctx, body, mt.type, 'internal_error');
      }
    }
    // Stored bodies are decoded + redacted: Content-Length states the stored length (README.md).
    if (hadBody) {
      const len = String(m.body.length);
      for (let i = 0; i < m.headers.length; i++) {
        const h = m.headers[i];
        if (h.name.toLowerCase() === 'content-length' && h.value !== len) m.headers[i] = { name: h.name, value: len };
      }
    }
  }

  redact(ex: Exchange): Exchange {
    const ctx = this.ctx;
    ctx.counts = new Map();
    ctx.depth = 0;
    const server = ex.connection?.server?.ip;
    ctx.keepIp = typeof server === 'string' ? server : '';
    const decodeFailed = ex.completeness.decodeError.length > 0;
    if (ex.request !== undefined) {
      const req = ex.request;
      try {
        req.url = redactUrl(ctx, req.url);
      } catch {
        ctx.hit('internal_error');
        ctx.count('redact_internal_error');
        const q = req.url.search(/[?#]/);
        req.url = (q >= 0 ? req.url.slice(0, q) : req.url).split('/').map((s) => (s.length > 0 ? ctx.cfg.fixedToken : s)).join('/');
      }
      this.message(req, decodeFailed);
    }
    if (ex.response !== undefined) {
      const res = ex.response;
      this.message(res, decodeFailed);
      try {
        res.reason = redactText(ctx, res.reason);
      } catch {
        res.reason = '';
      }
    }
    // The client address is personal data; the server address is the replay target and is kept. The
    // tunnel's outer source (a mirror session's source: the mirrored instance, which may be the client) is
    // treated as the client address is, unless it is the server's: the same surrogate for the same address.
    ctx.keepIp = '';
    try {
      const conn = ex.connection;
      if (conn !== undefined && (ctx.enabled.ipv4 || ctx.enabled.ipv6)) {
        const c = conn.client;
        if (c !== undefined && typeof c.ip === 'string') {
          const r = replaceIps(ctx, c.ip);
          if (r !== undefined) {
            c.ip = r;
            ctx.hit('client_ip');
          }
        }
        const t = conn.tunnelSource;
        if (typeof t === 'string' && t !== '' && t !== server) {
          const r = replaceIps(ctx, t);
          if (r !== undefined) {
            conn.tunnelSource = r;
            ctx.hit('tunnel_source_ip');
          }
        }
      }
    } catch {
      ctx.count('redact_internal_error');
    }
    ex.redactions = [...ctx.counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([rule, count]) => ({ rule, count }));
    ctx.counts = new Map();
    return ex;
  }
}

/** Compiles the rules once (throws RedactConfigError at start for bad rules). `counters` is optional. */
export function compileRedactor(config: RedactConfig, key: Buffer, counters?: Counters): Redactor {
  return new RedactorImpl(new Ctx(config, key, counters));
}
