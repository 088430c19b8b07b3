/**
 * URLs and query strings: request targets (origin-form and absolute-form), URL-bearing headers (Referer,
 * Location, …), URLs inside strings and form-urlencoded bodies. Userinfo is replaced, IP-literal hosts get
 * IP surrogates, every path segment and the fragment are percent-decoded and scanned, query/form parameters
 * get key rules by name and detectors on their decoded value. Unchanged components keep their exact bytes;
 * a changed component is re-encoded strictly.
 */
import type { Ctx } from './ctx';
import { prescan } from './prescan';
import { applyKeyRule, pctDecode, pctEncode, redactPlain, redactText } from './text';

const URL_HEAD = /^([a-zA-Z][a-zA-Z0-9+.-]{0,31}:\/\/)([^/]*)/;

/** A path segment / fragment: decoded, scanned, re-encoded only when it changed. */
function redactComponent(ctx: Ctx, seg: string, numeric: boolean): string {
  if (seg.length < 3) return seg;
  if (!seg.includes('%')) return redactPlain(ctx, seg, numeric);
  const d = pctDecode(seg);
  const r = redactText(ctx, d, numeric);
  return r === d ? seg : pctEncode(r);
}

function redactHost(ctx: Ctx, hostport: string): string {
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return ctx.secret(hostport, 'host');
    const h = hostport.slice(1, end);
    const r = redactPlain(ctx, h);
    return r === h ? hostport : `[${r}]${hostport.slice(end + 1)}`;
  }
  return redactPlain(ctx, hostport);
}

/** Redacts a URL or request target. */
export function redactUrl(ctx: Ctx, u: string, numeric = true): string {
  let rest = u;
  let frag: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    frag = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let query: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let head = '';
  let path = rest;
  const m = URL_HEAD.exec(rest);
  // Pre-scan (prescan.ts) of everything after the scheme: without any flag there is no userinfo and no
  // '%', and the host, each segment (pieces split at '/', a boundary for every flag) cannot change.
  const quiet = ctx.patterns.length === 0 && prescan(m !== null ? rest.slice(m[1].length) : rest) === 0;
  if (quiet) {
    head = '';
  } else if (m !== null) {
    let authority = m[2];
    path = rest.slice(m[0].length);
    const at = authority.lastIndexOf('@');
    let userinfo = '';
    if (at >= 0) {
      const ui = authority.slice(0, at);
      authority = authority.slice(at + 1);
      const colon = ui.indexOf(':');
      const user = colon >= 0 ? ui.slice(0, colon) : ui;
      const pass = colon >= 0 ? ui.slice(colon + 1) : undefined;
      ctx.hit('url_userinfo');
      const du = pctDecode(user);
      userinfo = pctEncode(du.includes('@') ? ctx.detectorSurrogate('email', du) : ctx.shape(du, 'text'));
      if (pass !== undefined) userinfo += ':' + pctEncode(ctx.secret(pctDecode(pass)));
      userinfo += '@';
    }
    head = m[1] + userinfo + redactHost(ctx, authority);
  }
  let outPath = path;
  if (quiet) {
    outPath = rest;
  } else if (path.length >= 3) {
    const segs = path.split('/');
    let changed = false;
    for (let i = 0; i < segs.length; i++) {
      const r = redactComponent(ctx, segs[i], numeric);
      if (r !== segs[i]) {
        segs[i] = r;
        changed = true;
      }
    }
    if (changed) outPath = segs.join('/');
  }
  let out = head + outPath;
  if (query !== undefined) out += '?' + redactQuery(ctx, query, numeric, false);
  if (frag !== undefined) {
    out += '#' + (frag.includes('=') ? redactQuery(ctx, frag, numeric, false) : redactComponent(ctx, frag, numeric));
  }
  return out === u ? u : out;
}

/**
 * A form/query value: decoded with `+` as space and scanned; then, if a literal `+` survives (an unencoded
 * E.164 number such as `phone=+14155552671`), decoded again with `+` kept and scanned once more.
 */
function redactFormValue(ctx: Ctx, raw: string, numeric: boolean): string {
  let out = raw;
  const v = pctDecode(raw, true);
  const r = redactText(ctx, v, numeric);
  if (r !== v) out = pctEncode(r, true);
  if (out.includes('+')) {
    const v2 = pctDecode(out, false);
    const r2 = redactPlain(ctx, v2, numeric);
    if (r2 !== v2) out = pctEncode(r2, true);
  }
  return out;
}

/**
 * Redacts `a=1&b=2` (query string or form body). `form` only affects nothing but naming; both decode `+`.
 * Parameters under a key rule with mode `drop` are removed.
 */
export function redactQuery(ctx: Ctx, q: string, numeric = true, _form = false): string {
  if (q.length === 0) return q;
  const parts = q.split('&');
  let changed = false;
  const out: string[] = [];
  for (const p of parts) {
    const eq = p.indexOf('=');
    const rawName = eq >= 0 ? p.slice(0, eq) : p;
    const rawValue = eq >= 0 ? p.slice(eq + 1) : undefined;
    const name = pctDecode(rawName, true);
    const rule = ctx.keyRule(name);
    let newName = rawName;
    const rn = redactPlain(ctx, name);
    if (rn !== name) newName = pctEncode(rn, true);
    if (rawValue === undefined) {
      if (newName !== rawName) changed = true;
      out.push(newName);
      continue;
    }
    let newValue = rawValue;
    if (rule !== undefined) {
      if (rule.mode === 'drop') {
        ctx.ruleHit('key', rule);
        changed = true;
        continue;
      }
      const dv = pctDecode(rawValue, true);
      const r = applyKeyRule(ctx, rule, dv);
      if (r !== dv) newValue = pctEncode(r, true);
    } else {
      newValue = redactFormValue(ctx, rawValue, numeric && !ctx.isAllowKey(name));
    }
    if (newName !== rawName || newValue !== rawValue) changed = true;
    out.push(newName + '=' + newValue);
  }
  return changed ? out.join('&') : q;
}
