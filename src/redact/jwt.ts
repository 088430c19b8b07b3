/**
 * Credentials that are opened rather than replaced whole:
 * - JWT (JWS compact): header and claims are base64url JSON, redacted with the JSON walker (plus the
 *   configured claim names); re-signed HS256 with the staging key when one is configured, otherwise the
 *   signature is replaced by a keyed digest of the same length (the token is then deliberately invalid).
 * - Basic credentials: base64 `user:password`, user → surrogate, password → opaque token.
 * - Authorization header values: scheme kept, Basic/Bearer opened, parameterised schemes (Digest, AWS4…)
 *   keep parameter names and lose their values.
 */
import { createHmac } from 'node:crypto';
import type { KeyRule } from './config';
import type { Ctx } from './ctx';
import { redactJsonText } from './json';
import { looksLikeBasicPair } from './scan';
import { redactUrl } from './url';

const JWT_FULL = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function isJwt(s: string): boolean {
  return s.length >= 16 && s.length <= 65536 && JWT_FULL.test(s);
}

function b64urlJson(part: string): string | undefined {
  const text = Buffer.from(part, 'base64url').toString('utf8');
  if (text.includes('\ufffd')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? text : undefined;
  } catch {
    return undefined;
  }
}

const claimRuleOf = (kind: KeyRule['kind']): KeyRule => ({ name: 'jwt_claim', keys: [], paths: [], kind, mode: 'surrogate', replacement: '' });
/** One rule object per kind, shared (rules are compared and cached by identity: ctx.ruleHit). */
const CLAIM_EMAIL = claimRuleOf('email');
const CLAIM_PHONE = claimRuleOf('phone');
const CLAIM_TEXT = claimRuleOf('text');

/** Claim rules: configured claim names → shape/email/phone surrogates. */
function claimRule(ctx: Ctx, key: string): KeyRule | undefined {
  if (!ctx.jwtClaims.has(key)) return undefined;
  return key === 'email' ? CLAIM_EMAIL : key === 'phone_number' ? CLAIM_PHONE : CLAIM_TEXT;
}

/** Redacts one JWT; the caller has counted it. Never throws. Top-level tokens come from ctx.results when seen before. */
export function redactJwt(ctx: Ctx, token: string): string {
  return ctx.depth === 0 ? ctx.results.run(ctx, ' jwt', token, (t) => openJwt(ctx, t)) : openJwt(ctx, token);
}

function openJwt(ctx: Ctx, token: string): string {
  const parts = token.split('.');
  if (parts.length !== 3 || ctx.depth >= ctx.cfg.bodies.maxDepth) return ctx.secret(token, 'jwt');
  const header = b64urlJson(parts[0]);
  const payload = b64urlJson(parts[1]);
  if (header === undefined || payload === undefined) return ctx.secret(token, 'jwt');
  ctx.depth++;
  let h64 = parts[0];
  let p64 = parts[1];
  try {
    const p2 = redactJsonText(ctx, payload, false, (k) => claimRule(ctx, k));
    if (p2 === undefined) return ctx.secret(token, 'jwt');
    if (p2 !== payload) p64 = Buffer.from(p2, 'utf8').toString('base64url');
    let h2 = redactJsonText(ctx, header, false);
    if (h2 === undefined) return ctx.secret(token, 'jwt');
    if (ctx.stagingKey !== undefined) {
      const ho = JSON.parse(h2) as Record<string, unknown>;
      if (ho.alg !== 'HS256') {
        ho.alg = 'HS256';
        h2 = JSON.stringify(ho);
      }
    }
    if (h2 !== header) h64 = Buffer.from(h2, 'utf8').toString('base64url');
  } finally {
    ctx.depth--;
  }
  let sig: string;
  if (ctx.stagingKey !== undefined) {
    sig = createHmac('sha256', ctx.stagingKey).update(`${h64}.${p64}`).digest('base64url');
  } else if (parts[2].length === 0) {
    sig = '';
  } else {
    let mac = ctx.keyed.mac('jwt-signature\u0000', parts[2]).toString('base64url');
    while (mac.length < parts[2].length) mac += ctx.keyed.mac('jwt-signature\u0000' + mac.length, parts[2]).toString('base64url');
    sig = mac.slice(0, parts[2].length);
  }
  return `${h64}.${p64}.${sig}`;
}

/** base64 `user:password` → base64 of surrogate user and opaque password; opaque token if not a pair. */
export function redactBasicB64(ctx: Ctx, b64: string): string {
  const dec = Buffer.from(b64, 'base64').toString('utf8');
  if (!looksLikeBasicPair(dec)) return ctx.secret(b64, 'basic');
  const colon = dec.indexOf(':');
  const user = dec.slice(0, colon);
  const pass = dec.slice(colon + 1);
  const u2 = user.includes('@') ? ctx.detectorSurrogate('email', user) : ctx.shape(user, 'text');
  const p2 = pass.length === 0 ? '' : ctx.secret(pass);
  return Buffer.from(`${u2}:${p2}`, 'utf8').toString('base64');
}

const SAFE_PARAMS = new Set(['algorithm', 'qop', 'nc', 'realm', 'charset', 'stale', 'signedheaders', 'userhash']);
const PARAM_RE = /([A-Za-z][\w-]*)(\s*=\s*)("(?:[^"\\]|\\.)*"|[^,\s]*)/g;

/** An Authorization / Proxy-Authorization value. */
export function redactCredentials(ctx: Ctx, v: string): string {
  const m = /^(\s*)([A-Za-z][\w.-]*)([ \t]+)([\s\S]*)$/.exec(v);
  if (m === null) return isJwt(v.trim()) ? redactJwt(ctx, v.trim()) : ctx.secret(v, 'credentials');
  const scheme = m[2].toLowerCase();
  const cred = m[4].trim();
  let out: string;
  if (scheme === 'basic') out = redactBasicB64(ctx, cred);
  else if (scheme === 'bearer' || !cred.includes('=') || /^[A-Za-z0-9+/_-]+={0,2}$/.test(cred)) {
    out = isJwt(cred) ? redactJwt(ctx, cred) : ctx.secret(cred, 'credentials');
  } else {
    out = cred.replace(PARAM_RE, (_all, name: string, eq: string, val: string) => {
      const n = name.toLowerCase();
      if (SAFE_PARAMS.has(n)) return name + eq + val;
      const quoted = val.startsWith('"');
      const inner = quoted ? val.slice(1, -1) : val;
      const r = n === 'uri' ? redactUrl(ctx, inner) : ctx.secret(inner, 'credentials');
      return name + eq + (quoted ? `"${r}"` : r);
    });
  }
  return m[1] + m[2] + m[3] + out;
}
