/**
 * XML / HTML as text with tags. Never a DTD parser: entity declarations are scanned as text and never
 * expanded; only the five predefined entities and numeric character references are decoded, for matching.
 * Text nodes get the key rule of their element's local name (`<email>`, `<ns:password>`), attribute values
 * the rule of the attribute name; everything else goes through the value detectors. CDATA is scanned raw.
 * Linear: every construct is found with indexOf or a single forward scan. Works on non-well-formed HTML.
 */
import type { Ctx } from './ctx';
import { applyKeyRule, redactPlain, redactText } from './text';

const MAX_STACK = 256;

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot|apos);/g, (m, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: {
        const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
      }
    }
  });
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

function localName(tag: string): string {
  const c = tag.indexOf(':');
  return c >= 0 ? tag.slice(c + 1) : tag;
}

const UNKNOWN_REF = /&(?!(?:#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot|apos);)[A-Za-z_][\w.-]{0,63};/g;
const HOLE = '\ue000';

/**
 * Entity-aware decode → redact → re-escape. References to declared (unknown) entities are never expanded:
 * they are held out as a private-use placeholder during matching and put back verbatim.
 */
function withEntities(text: string, f: (decoded: string) => string): string {
  if (!text.includes('&')) {
    const r = f(text);
    return r === text ? text : escapeXml(r);
  }
  const held: string[] = [];
  const masked = text.replace(UNKNOWN_REF, (m) => {
    held.push(m);
    return HOLE;
  });
  const dec = decodeEntities(masked);
  const r = f(dec);
  if (r === dec) return text;
  let k = 0;
  return escapeXml(r).replace(/\ue000/g, () => held[k++] ?? '');
}

/** Text with the rule of `element` (may be undefined): entities decoded for matching, re-escaped if changed. */
function textNode(ctx: Ctx, text: string, element: string | undefined, raw: boolean): string {
  if (text.trim().length === 0) return text;
  const rule = element !== undefined ? ctx.keyRule(localName(element)) : undefined;
  const numeric = !(element !== undefined && ctx.isAllowKey(localName(element)));
  const f = (dec: string): string => {
    if (rule === undefined) return redactText(ctx, dec, numeric);
    const lead = dec.length - dec.trimStart().length;
    const trail = dec.length - dec.trimEnd().length;
    return dec.slice(0, lead) + applyKeyRule(ctx, rule, dec.trim()) + dec.slice(dec.length - trail);
  };
  return raw ? f(text) : withEntities(text, f);
}

const ATTR_RE = /(?<![^\s=/<>"'])([^\s=/<>"']+)(\s*=\s*)("[^"]*"|'[^']*')/g;

function tag(ctx: Ctx, t: string): string {
  let out = '';
  let last = 0;
  let changed = false;
  ATTR_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ATTR_RE.exec(t)) !== null) {
    const gap = t.slice(last, m.index);
    const rg = redactPlain(ctx, gap);
    const q = m[3][0];
    const val = m[3].slice(1, -1);
    const rule = ctx.keyRule(localName(m[1]));
    const rv = withEntities(val, (dec) => (rule !== undefined ? applyKeyRule(ctx, rule, dec) : redactText(ctx, dec, !ctx.isAllowKey(m![1]))));
    if (rg !== gap || rv !== val) changed = true;
    out += rg + m[1] + m[2] + q + rv + q;
    last = m.index + m[0].length;
  }
  const tail = t.slice(last);
  const rt = redactPlain(ctx, tail);
  if (rt !== tail) changed = true;
  return changed ? out + rt : t;
}

/** Finds the `>` closing a tag that starts at `i` (quotes respected); -1 if none. */
function tagEnd(s: string, i: number): number {
  let q = 0;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (q !== 0) {
      if (c === q) q = 0;
    } else if (c === 34 || c === 39) q = c;
    else if (c === 62) return j;
  }
  return -1;
}

/** Redacts an XML or HTML document. Returns the same string when nothing changed. */
export function redactXml(ctx: Ctx, s: string): string {
  const parts: string[] = [];
  const stack: string[] = [];
  let i = 0;
  let changed = false;
  const push = (orig: string, red: string): void => {
    if (orig !== red) changed = true;
    parts.push(red);
  };
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const textEnd = lt < 0 ? s.length : lt;
    if (textEnd > i) {
      const text = s.slice(i, textEnd);
      push(text, textNode(ctx, text, stack[stack.length - 1], false));
    }
    if (lt < 0) break;
    let end: number;
    if (s.startsWith('<!--', lt)) {
      const e = s.indexOf('-->', lt + 4);
      end = e < 0 ? s.length : e + 3;
      const body = s.slice(lt, end);
      push(body, redactPlain(ctx, body));
    } else if (s.startsWith('<![CDATA[', lt)) {
      const e = s.indexOf(']]>', lt + 9);
      const contentEnd = e < 0 ? s.length : e;
      end = e < 0 ? s.length : e + 3;
      const content = s.slice(lt + 9, contentEnd);
      const r = textNode(ctx, content, stack[stack.length - 1], true);
      push(content, r.includes(']]>') ? ctx.secret(r) : r);
      parts[parts.length - 1] = '<![CDATA[' + parts[parts.length - 1] + s.slice(contentEnd, end);
    } else if (s.startsWith('<!', lt) || s.startsWith('<?', lt)) {
      // DOCTYPE (with an internal subset in [...]) or a processing instruction: scanned, never expanded.
      const br = s.indexOf('[', lt);
      const gt = s.indexOf('>', lt);
      if (s.startsWith('<!DOCTYPE', lt) && br >= 0 && (gt < 0 || br < gt)) {
        const close = s.indexOf(']', br);
        const e2 = close < 0 ? -1 : s.indexOf('>', close);
        end = e2 < 0 ? s.length : e2 + 1;
      } else end = gt < 0 ? s.length : gt + 1;
      const body = s.slice(lt, end);
      push(body, redactPlain(ctx, body));
    } else {
      const e = tagEnd(s, lt);
      end = e < 0 ? s.length : e + 1;
      const t = s.slice(lt, end);
      const m = /^<\/?([^\s/>]+)/.exec(t);
      if (m !== null) {
        if (t[1] === '/') {
          const idx = stack.lastIndexOf(m[1]);
          if (idx >= 0) stack.length = idx;
        } else if (!t.endsWith('/>') && stack.length < MAX_STACK) stack.push(m[1]);
      }
      push(t, tag(ctx, t));
    }
    i = end;
  }
  return changed ? parts.join('') : s;
}
