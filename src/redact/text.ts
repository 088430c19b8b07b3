/**
 * String redaction: the one entry point every carrier (JSON string, form value, header, path segment, XML
 * text, text body) ends in. Normalises first (NFKC for full-width forms, percent-decoding of `%XX` runs,
 * JSON-in-a-string, URLs and query strings), then runs the built-in detectors, the user patterns and the
 * `key=value` / `"key": value` heuristic for key rules, resolves overlaps and replaces.
 * Returns the input string itself (same reference) when nothing was found.
 */
import type { BuiltinDetector, KeyRule } from './config';
import type { Ctx } from './ctx';
import { redactJsonText } from './json';
import { isJwt, redactBasicB64, redactCredentials, redactJwt } from './jwt';
import {
  F_AT, F_AUTH, F_AWS, F_IBAN, F_IPV4, F_IPV6, F_JSON, F_JWT, F_KV, F_NUM, F_PCT, F_QMARK, F_WIDE, prescan,
} from './prescan';
import { Hit, isIpv6, isKeptIp, resolveHits, scanBuiltins } from './scan';
import {
  surrogateCard, surrogateEmail, surrogateIban, surrogateIpv4, surrogateIpv6, surrogatePhone, surrogateSsn,
} from './surrogates';
import { redactQuery, redactUrl } from './url';
import { isIpv4 } from './validators';

export interface TextHit extends Hit {
  /** Precomputed replacement (processed regions). */
  repl?: string;
  priority?: boolean;
  merged?: boolean;
}

/** Short strings of letters, spaces, `_` and `-` only: no built-in detector can match them (AWS keys are 20). */
const WORDY = /^[A-Za-z _-]*$/;
const FULLWIDTH = /[\uff01-\uff5e\u3000]/;
const PCT = /%[0-9A-Fa-f]{2}/;
const PCT_RUN = /(?<![^\s"'<>])[^\s"'<>]*%[0-9A-Fa-f]{2}[^\s"'<>]*/g;
const KV_RE = /(?<![\w-])([A-Za-z][\w.-]{0,40})(["']?[ \t]{0,3}[:=][ \t]{0,3}["']?)([^\s"'&,;<>]{1,512})/g;
const URL_LIKE = /^[a-zA-Z][a-zA-Z0-9+.-]{0,31}:\/\/[^\s]*$/;
const PATH_LIKE = /^\/[^\s]*$/;

/** Percent-decodes (optionally `+` → space) without ever throwing: invalid UTF-8 becomes U+FFFD. */
export function pctDecode(s: string, plus = false): string {
  if (plus && s.includes('+')) s = s.replace(/\+/g, ' ');
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    const bytes: number[] = [];
    const raw = Buffer.from(s, 'utf8');
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (c === 37 && i + 2 < raw.length + 0 && /^[0-9A-Fa-f]{2}$/.test(raw.toString('latin1', i + 1, i + 3))) {
        bytes.push(parseInt(raw.toString('latin1', i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(c);
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

const ENC_FORM = /[^A-Za-z0-9\-._~!$'()*,;:@/?]/gu;
const ENC_SEGMENT = /[^A-Za-z0-9\-._~!$'()*,;:@=&+]/gu;

/**
 * Percent-encodes a redacted component, leaving the characters that are literal-safe in it:
 * form/query values (`form` = true: space as `+`; `& = + # %` encoded) or path segments (`/ ? #` encoded).
 */
export function pctEncode(s: string, form = false): string {
  return s.replace(form ? ENC_FORM : ENC_SEGMENT, (c) => {
    if (form && c === ' ') return '+';
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD
    }
  });
}

function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) <= 32)) i++;
  return i;
}

/** A string that is a query / form body: no whitespace, `name=value` pairs joined by `&`. */
export function looksLikeQuery(s: string): boolean {
  if (s.length < 3 || s.length > 65536 || !s.includes('=') || /\s/.test(s)) return false;
  const parts = s.split('&');
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (p.length > 0 && eq <= 0) return false;
  }
  return true;
}

/**
 * Flags without which redactText returns its input unchanged when there are no user patterns (the JSON walker
 * tests spans of the body text with prescan(s, from, to) against it, without building the string).
 */
export const REDACT_TEXT_FLAGS = F_AT | F_PCT | F_KV | F_NUM | F_IPV4 | F_IBAN | F_IPV6 | F_JWT | F_AWS | F_AUTH | F_WIDE | F_JSON | F_QMARK;
/** Flags that matter to redactPlain: detectors, percent runs, key=value heuristics. */
const PLAIN_FLAGS = F_AT | F_PCT | F_KV | F_NUM | F_IPV4 | F_IBAN | F_IPV6 | F_JWT | F_AWS | F_AUTH;
/** Flags that send a string to the normalisation / JSON / URL / query dispatch of redactText. */
const DISPATCH_FLAGS = F_WIDE | F_JSON | F_AT | F_PCT | F_KV | F_QMARK;

/** Redacts a string in any value position. `numeric` = false under allow-listed keys. */
export function redactText(ctx: Ctx, s: string, numeric = true): string {
  if (s.length < 3) return s;
  if (ctx.patterns.length === 0) {
    // Pre-scan (prescan.ts): flags are necessary conditions of every path below, so a string without
    // them comes out unchanged; one without dispatch triggers goes straight to the detectors.
    const f = prescan(s);
    if ((f & (PLAIN_FLAGS | DISPATCH_FLAGS)) === 0) return s;
    if ((f & DISPATCH_FLAGS) === 0) return plainScan(ctx, s, numeric, f);
    // '@' alone among the dispatch triggers (an e-mail address in a value): no JSON (F_JSON), no URL (needs
    // ':' = F_KV), no query (needs '=' = F_KV), no normalisation (F_WIDE); only a path ('/…@…') is dispatched.
    if ((f & DISPATCH_FLAGS) === F_AT && s.charCodeAt(0) !== 47) return plainScan(ctx, s, numeric, f);
    if ((f & DISPATCH_FLAGS) === F_KV && plainUrl(s)) return s;
  }
  if (s.length < 20 && ctx.patterns.length === 0 && WORDY.test(s)) return s;
  const src = FULLWIDTH.test(s) ? s.normalize('NFKC') : s;
  const c0 = src.charCodeAt(firstNonSpace(src));
  if ((c0 === 123 || c0 === 91) && src.length >= 2) {
    const j = openJson(ctx, src);
    if (j !== undefined) return j === src ? s : j;
  }
  let out: string;
  if (URL_LIKE.test(src) || (PATH_LIKE.test(src) && (src.includes('?') || src.includes('%') || src.includes('@')))) {
    out = redactUrl(ctx, src, numeric);
  } else if (looksLikeQuery(src)) {
    out = redactQuery(ctx, src, numeric, false);
  } else {
    out = redactPlain(ctx, src, numeric);
  }
  return out === src ? s : out;
}

/**
 * `scheme://rest` where `rest` has no pre-scan flag at all (no '@', '%', '?', '=', ':', no detector trigger):
 * redactUrl would only run the detectors on the host, the path segments and the fragment, which are
 * pieces of `rest` split at '/' and '#' (boundaries for every flag), so none of them can change.
 */
function plainUrl(s: string): boolean {
  const k = s.indexOf('://');
  return k > 0 && k <= 32 && URL_LIKE.test(s) && prescan(s.slice(k + 3)) === 0;
}

/** JSON inside a string: redacted as JSON when it parses; undefined otherwise. */
function openJson(ctx: Ctx, s: string): string | undefined {
  if (ctx.depth >= ctx.cfg.bodies.maxDepth) return undefined;
  ctx.depth++;
  try {
    return redactJsonText(ctx, s, true);
  } finally {
    ctx.depth--;
  }
}

/** Detectors + patterns + key heuristics over free text (no URL / query dispatch at the top). */
export function redactPlain(ctx: Ctx, s: string, numeric = true): string {
  if (s.length < 3) return s;
  if (ctx.patterns.length === 0) {
    const f = prescan(s);
    return (f & PLAIN_FLAGS) === 0 ? s : plainScan(ctx, s, numeric, f);
  }
  return plainScan(ctx, s, numeric, -1);
}

/** redactPlain after the pre-scan: `flags` from prescan(s), or -1 (unknown: run every scanner). */
function plainScan(ctx: Ctx, s: string, numeric: boolean, flags: number): string {
  if (s.length < 20 && ctx.patterns.length === 0 && WORDY.test(s)) return s;
  const hits: TextHit[] = [];
  if ((flags & F_PCT) !== 0 && s.includes('%') && PCT.test(s)) percentRuns(ctx, s, numeric, hits);
  scanBuiltins(s, { numeric, enabled: ctx.enabled, keepIp: ctx.keepIp }, hits, flags);
  for (const p of ctx.patterns) {
    const re = p.re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      hits.push({ start: m.index, end: m.index + m[0].length, rule: `pattern:${p.rule.name}` });
    }
  }
  if ((flags & F_KV) !== 0 && s.length >= 5 && (s.includes('=') || s.includes(':'))) keyValueHits(ctx, s, hits);
  if (hits.length === 0) return s;
  return applyHits(ctx, s, resolveHits(hits));
}

function percentRuns(ctx: Ctx, s: string, numeric: boolean, hits: TextHit[]): void {
  PCT_RUN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PCT_RUN.exec(s)) !== null) {
    const run = m[0];
    let r: string;
    if (URL_LIKE.test(run) || PATH_LIKE.test(run)) r = redactUrl(ctx, run, numeric);
    else if (looksLikeQuery(run)) r = redactQuery(ctx, run, numeric, false);
    else {
      const d = pctDecode(run);
      const rd = d === run ? d : redactPlain(ctx, d, numeric);
      r = rd === d ? run : pctEncode(rd);
    }
    if (r !== run) hits.push({ start: m.index, end: m.index + run.length, rule: 'percent', repl: r, priority: true });
    // The calls above can re-enter percentRuns (a URL host or segment with its own %XX run), which resets
    // this shared global regex: continue after this run, or the same run would be found forever.
    PCT_RUN.lastIndex = m.index + run.length;
  }
}

function keyValueHits(ctx: Ctx, s: string, hits: TextHit[]): void {
  if (ctx.keyRules.size === 0) return;
  KV_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = KV_RE.exec(s)) !== null) {
    if (m[1].length < ctx.minKeyLen) continue;
    const rule = ctx.keyRule(m[1]);
    if (rule === undefined) continue;
    const start = m.index + m[1].length + m[2].length;
    const value = m[3];
    const next = KV_RE.lastIndex;
    hits.push({ start, end: start + value.length, rule: `key:${rule.name}`, repl: applyKeyRule(ctx, rule, value), priority: true });
    // applyKeyRule can re-enter keyValueHits (a JWT's claims, JSON in the value): restore the shared regex.
    KV_RE.lastIndex = next;
  }
}

function applyHits(ctx: Ctx, s: string, hits: TextHit[]): string {
  let out = '';
  let last = 0;
  for (const h of hits) {
    const text = s.slice(h.start, h.end);
    let r: string;
    if (h.repl !== undefined) r = h.repl; // counted where it was computed
    else {
      ctx.hit(h.rule);
      r = replaceHit(ctx, h, text);
    }
    out += s.slice(last, h.start) + r;
    last = h.end;
  }
  return out + s.slice(last);
}

function replaceHit(ctx: Ctx, h: TextHit, text: string): string {
  if (h.rule.startsWith('pattern:')) {
    const p = ctx.patterns.find((x) => `pattern:${x.rule.name}` === h.rule);
    const rule = p?.rule;
    if (rule === undefined) return ctx.secret(text);
    return ctx.byMode(rule.mode, rule.replacement, text) ?? (h.merged ? ctx.secret(text, h.rule) : ctx.shape(text, h.rule));
  }
  const det = h.rule as BuiltinDetector;
  const setting = ctx.cfg.detectors[det];
  const m = ctx.byMode(setting.mode, setting.replacement, text);
  if (m !== undefined) return m;
  if (h.merged) return ctx.secret(text, det);
  switch (det) {
    case 'jwt': return redactJwt(ctx, text);
    case 'bearer': {
      const inner = (h.innerStart ?? h.start) - h.start;
      const tok = text.slice(inner);
      return text.slice(0, inner) + (isJwt(tok) ? redactJwt(ctx, tok) : ctx.secret(tok, 'bearer'));
    }
    case 'basic_auth': {
      const inner = (h.innerStart ?? h.start) - h.start;
      return text.slice(0, inner) + redactBasicB64(ctx, text.slice(inner));
    }
    default: return ctx.detectorSurrogate(det, text);
  }
}

// --- key rules ---------------------------------------------------------------------------------------------

const EMAILISH = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function digitsOf(s: string): string {
  return s.replace(/[^0-9]/g, '');
}

/**
 * Every IPv4/IPv6 address inside `v` replaced (lists such as X-Forwarded-For, Forwarded `for=`), except the
 * exchange's server address (ctx.keepIp). `v` itself when its only addresses are kept; undefined when it
 * holds no address at all (callers then replace it by other means).
 */
export function replaceIps(ctx: Ctx, v: string): string | undefined {
  // The common case, one bare dotted quad, without the scan (the scan below takes it as one token too).
  if (isIpv4(v)) return isKeptIp(ctx.keepIp, 'ipv4', v) ? v : surrogateIpv4(ctx.keyed, v);
  let found = false;
  let kept = false;
  const out = v.replace(/[0-9A-Fa-f:.]{2,45}/g, (t) => {
    if (isKeptIp(ctx.keepIp, 'ipv4', t) || (t.includes(':') && isKeptIp(ctx.keepIp, 'ipv6', t))) {
      kept = true;
      return t;
    }
    if (isIpv4(t)) {
      found = true;
      return surrogateIpv4(ctx.keyed, t);
    }
    if (isIpv6(t)) {
      found = true;
      return surrogateIpv6(ctx.keyed, t);
    }
    // IPv6 with an embedded IPv4 tail, e.g. ::ffff:1.2.3.4
    const m = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(t);
    if (m !== null && isIpv4(m[2])) {
      found = true;
      return surrogateIpv6(ctx.keyed, t);
    }
    // IPv4 with a port, e.g. 192.0.2.1:8080
    const p = /^(\d{1,3}(?:\.\d{1,3}){3})(:\d{1,5})$/.exec(t);
    if (p !== null && isIpv4(p[1])) {
      if (isKeptIp(ctx.keepIp, 'ipv4', p[1])) {
        kept = true;
        return t;
      }
      found = true;
      return surrogateIpv4(ctx.keyed, p[1]) + p[2];
    }
    return t;
  });
  return found ? out : kept ? v : undefined;
}

/**
 * The replacement for a string value under a key rule (JSON member, form field, cookie, header, XML element).
 * Counted under `key:<rule>`. Mode `drop` yields '' here; callers that can remove the carrier
 * check `rule.mode === 'drop'` first.
 */
export function applyKeyRule(ctx: Ctx, rule: KeyRule | { name: string; kind: KeyRule['kind']; mode: KeyRule['mode']; replacement: string },
  v: string, prefix = 'key'): string {
  if (v.length > 0) ctx.ruleHit(prefix, rule);
  if (v.length === 0) return v;
  const m = ctx.byMode(rule.mode, rule.replacement, v);
  if (m !== undefined) return m;
  const k = ctx.keyed;
  switch (rule.kind) {
    case 'email': return EMAILISH.test(v.trim()) ? surrogateEmail(k, v.trim()) : ctx.shape(v, 'text');
    case 'phone': return digitsOf(v).length >= 4 ? surrogatePhone(k, v) : ctx.shape(v, 'text');
    case 'card': {
      const d = digitsOf(v);
      return d.length >= 12 && d.length <= 19 && /^[\d -]+$/.test(v) ? surrogateCard(k, v) : ctx.shape(v, 'text');
    }
    case 'iban': {
      const c = v.replace(/ /g, '').toUpperCase();
      return /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(c) ? surrogateIban(k, v) : ctx.shape(v, 'text');
    }
    case 'ssn': return digitsOf(v).length === 9 ? surrogateSsn(k, v) : ctx.shape(v, 'text');
    case 'ip': return replaceIps(ctx, v) ?? ctx.shape(v, 'text');
    case 'secret': return isJwt(v) ? redactJwt(ctx, v) : ctx.secret(v);
    case 'credentials': return redactCredentials(ctx, v);
    case 'cookie': return ctx.secret(v, 'cookie');
    default: return typedWhole(ctx, v) ?? ctx.shape(v, 'text');
  }
}

/** When the whole value is one detectable typed value (IBAN, SSN, card, e-mail, …), its typed surrogate. */
function typedWhole(ctx: Ctx, v: string): string | undefined {
  const t = v.trim();
  if (t.length < 6) return undefined;
  const hits: Hit[] = [];
  scanBuiltins(t, { numeric: true, enabled: ctx.enabled, keepIp: ctx.keepIp }, hits);
  for (const h of hits) {
    if (h.start === 0 && h.end === t.length && h.innerStart === undefined && h.rule !== 'jwt') {
      const lead = v.length - v.trimStart().length;
      return v.slice(0, lead) + ctx.detectorSurrogate(h.rule as BuiltinDetector, t) + v.slice(lead + t.length);
    }
  }
  return undefined;
}

/** A JSON number token under a key rule: digits replaced (same count), or a string for fixed/mask. */
export function applyKeyRuleNumber(ctx: Ctx, rule: KeyRule, num: string): string {
  ctx.ruleHit('key', rule);
  if (rule.mode === 'fixed') return JSON.stringify(ctx.fixed(rule.replacement));
  if (rule.mode === 'mask') return JSON.stringify(ctx.mask(num));
  if (rule.mode === 'drop') return 'null';
  const d = digitsOf(num);
  if (/^\d+$/.test(num)) {
    if (rule.kind === 'card' && d.length >= 12 && d.length <= 19) return surrogateCard(ctx.keyed, num);
    if (rule.kind === 'phone' && d.length >= 6) return surrogatePhone(ctx.keyed, num);
  }
  const repl = ctx.shape(d, 'text');
  let j = 0;
  let out = '';
  for (let i = 0; i < num.length; i++) {
    const c = num.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      let x = repl[j++];
      // keep JSON number syntax: no leading zero on an integer part that had none
      if (x === '0' && c !== 48 && (i === 0 || num[i - 1] === '-')) x = '1';
      out += x;
    } else out += num[i];
  }
  return out;
}
