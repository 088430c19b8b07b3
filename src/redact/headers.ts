/**
 * Header and trailer redaction. Header names are kept; values go through, in order: a header rule
 * (deny-list: credentials, cookies cookie-by-cookie with names kept, API keys, client-IP headers),
 * URL handling for URL-bearing headers (Referer, Location, Link, …), and otherwise the value detectors.
 * A rule with mode `drop` removes the header. Returns a new array; the input is not modified.
 */
import type { Header } from '../exchange/record';
import type { HeaderRule } from './config';
import type { Ctx } from './ctx';
import { isJwt, redactJwt } from './jwt';
import { applyKeyRule, redactText } from './text';
import { redactUrl } from './url';

function cookieValue(ctx: Ctx, rule: HeaderRule, v: string): string {
  if (v.length === 0) return v;
  ctx.ruleHit('header', rule);
  const quoted = v.length >= 2 && v.startsWith('"') && v.endsWith('"');
  const inner = quoted ? v.slice(1, -1) : v;
  let r = ctx.byMode(rule.mode, rule.replacement, inner);
  if (r === undefined) r = isJwt(inner) ? redactJwt(ctx, inner) : ctx.secret(inner, 'cookie');
  return quoted ? `"${r}"` : r;
}

/** `Cookie: a=1; b=2` → names kept, every value replaced. */
export function redactCookieHeader(ctx: Ctx, rule: HeaderRule, v: string): string {
  return v.split(';').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair.trim().length === 0 ? pair : pair.slice(0, 0) + cookieValue(ctx, rule, pair);
    return pair.slice(0, eq + 1) + cookieValue(ctx, rule, pair.slice(eq + 1).trim());
  }).join(';');
}

/** `Set-Cookie: name=value; Path=/; HttpOnly` → only the value replaced; attributes scanned by detectors. */
export function redactSetCookie(ctx: Ctx, rule: HeaderRule, v: string): string {
  const semi = v.indexOf(';');
  const first = semi >= 0 ? v.slice(0, semi) : v;
  const attrs = semi >= 0 ? v.slice(semi) : '';
  const eq = first.indexOf('=');
  const pair = eq < 0 ? cookieValue(ctx, rule, first) : first.slice(0, eq + 1) + cookieValue(ctx, rule, first.slice(eq + 1).trim());
  return pair + (attrs.length > 0 ? redactText(ctx, attrs) : '');
}

function urlHeader(ctx: Ctx, name: string, v: string): string {
  const t = v.trim();
  if (name === 'link') return v.replace(/<([^<>]*)>/g, (_m, u: string) => `<${redactUrl(ctx, u)}>`).replace(/^/, '');
  if (name === 'refresh') {
    const m = /^(\s*\d+\s*;\s*url\s*=\s*)(.*)$/i.exec(v);
    if (m !== null) return m[1] + redactUrl(ctx, m[2]);
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(t) || t.startsWith('/')) return redactUrl(ctx, v);
  return redactText(ctx, v);
}

/** Redacts one header value (no drop). */
export function redactHeaderValue(ctx: Ctx, name: string, value: string): string {
  const rule = ctx.headerRules.get(name);
  if (rule !== undefined) {
    if (rule.kind === 'cookie') {
      return name.startsWith('set-cookie') ? redactSetCookie(ctx, rule, value) : redactCookieHeader(ctx, rule, value);
    }
    return applyKeyRule(ctx, rule, value, 'header');
  }
  if (ctx.urlHeaders.has(name)) return urlHeader(ctx, name, value);
  return redactText(ctx, value);
}

export function redactHeaders(ctx: Ctx, headers: Header[]): Header[] {
  const out: Header[] = [];
  for (const h of headers) {
    const name = h.name.toLowerCase();
    const rule = ctx.headerRules.get(name);
    if (rule !== undefined && rule.mode === 'drop') {
      ctx.ruleHit('header', rule);
      continue;
    }
    // Cookies and credentials repeat per session and are expensive to open: whole results are cached. Other
    // values are cheap (pre-scan) or mostly unique (client IP lists, ids), where a cache only costs.
    const v = rule !== undefined && (rule.kind === 'cookie' || rule.kind === 'credentials')
      ? ctx.results.run(ctx, name, h.value, (value) => redactHeaderValue(ctx, name, value))
      : redactHeaderValue(ctx, name, h.value);
    out.push(v === h.value ? h : { name: h.name, value: v });
  }
  return out;
}
