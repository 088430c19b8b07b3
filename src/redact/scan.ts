/**
 * Built-in value detectors: find candidate spans in a string, then validate them in code.
 * Linear time by construction: every regex here starts with a look-behind that rejects starts inside a
 * run of the same token class, and every repetition is over a single character class (no nested
 * ambiguous quantifiers), so a 1 MiB adversarial string costs O(n) (tested in scan-redos.test.ts).
 * E-mail is a hand-written scan around each '@'.
 */
import type { BuiltinDetector } from './config';
import {
  endsWithCi, F_AT, F_AUTH, F_AWS, F_IBAN, F_IPV4, F_IPV6, F_JWT, F_NUM, prescan,
} from './prescan';
import { canonicalIpv6 } from './surrogates';
import { isCard, isIban, isIpv4, isSsn, IBAN_LENGTHS } from './validators';

export interface Hit {
  start: number;
  end: number;
  /** A built-in detector name, or a user pattern index as `pattern:<name>`. */
  rule: BuiltinDetector | string;
  /** For detectors that open the value (bearer / basic): the span of the credential inside the hit. */
  innerStart?: number;
}

export interface ScanOptions {
  /** false under allow-listed keys: the numeric detectors (card, phone, ssn, ipv4) are skipped. */
  numeric: boolean;
  enabled: Readonly<Record<BuiltinDetector, boolean>>;
  /** The exchange's server address (dotted quad or RFC 5952), not reported; '' or absent: none. */
  keepIp?: string;
}

/**
 * True when address text found by the `rule` detector is `keepIp` (the exchange's server address, the
 * replay target): the detectors skip it like loopback. `text` is an address match, never a wider span.
 */
export function isKeptIp(keepIp: string | undefined, rule: 'ipv4' | 'ipv6', text: string): boolean {
  if (keepIp === undefined || keepIp === '') return false;
  if (rule === 'ipv4') return text === keepIp;
  return keepIp.includes(':') && canonicalIpv6(text) === keepIp;
}

// --- e-mail ------------------------------------------------------------------------------------------------

function isLocalChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}

/**
 * `d.slice(from, to)` is a domain: labels of 1-63 characters, none starting or ending with '-', at least two,
 * the last 2-63 ASCII letters. Reads only [from, to), builds no string.
 */
export function validDomain(d: string, from = 0, to = d.length): boolean {
  const n = to;
  let start = from;
  let labels = 0;
  for (let i = from; i <= n; i++) {
    if (i < n && d.charCodeAt(i) !== 46) continue;
    const len = i - start;
    if (len === 0 || len > 63 || d.charCodeAt(start) === 45 || d.charCodeAt(i - 1) === 45) return false;
    labels++;
    if (i === n) {
      if (labels < 2 || len < 2) return false;
      for (let k = start; k < n; k++) {
        const c = d.charCodeAt(k) | 32;
        if (c < 97 || c > 122) return false;
      }
      return true;
    }
    start = i + 1;
  }
  return false;
}

/** Our own e-mail surrogates' domain (surrogates.ts): never reported again. */
const SURROGATE_DOMAIN = 'example.invalid';

function scanEmail(s: string, out: Hit[]): void {
  let at = s.indexOf('@');
  while (at >= 0) {
    // Domain first (cheap rejects): needs a dot and must end in a letter.
    let b = at + 1;
    let dots = 0;
    while (b < s.length && b - at <= 253) {
      const c = s.charCodeAt(b);
      if (!isDomainChar(c)) break;
      if (c === 46) dots++;
      b++;
    }
    while (b > at + 1 && (s.charCodeAt(b - 1) === 46 || s.charCodeAt(b - 1) === 45)) b--;
    const last = s.charCodeAt(b - 1) | 32;
    let a = at;
    if (dots > 0 && last >= 97 && last <= 122 && at > 0 && isLocalChar(s.charCodeAt(at - 1))) {
      while (a > 0 && at - a < 64 && isLocalChar(s.charCodeAt(a - 1))) a--;
      while (a < at && s.charCodeAt(a) === 46) a++; // no leading dot
    }
    if (a < at && b > at + 1 && validDomain(s, at + 1, b)) {
      if (!endsWithCi(s, at + 1, b, SURROGATE_DOMAIN)) out.push({ start: a, end: b, rule: 'email' });
      at = s.indexOf('@', b);
    } else {
      at = s.indexOf('@', at + 1);
    }
  }
}

// --- digit sequences: card, phone, ssn ---------------------------------------------------------------------

const NUM_RE = /(?<![\w.+-])\+?\d(?:[ -]?\d){6,22}(?![\w+]|\.\d|-\w)/g;
const CARD_GROUPS = new Set(['4-4-4-4', '4-6-5', '4-6-4', '4-4-4-4-3', '4-4-4-2', '4-4-4-3', '4-4-4-1', '4-4-5', '4-4-4-4-2', '4-4-4-4-1']);

function digitsOnly(s: string): string {
  return s.replace(/[^0-9]/g, '');
}

/** Classifies one digit candidate; returns the rule or undefined. */
function classifyDigits(c: string, numeric: boolean, en: ScanOptions['enabled']): BuiltinDetector | undefined {
  // Digit count first, without building the digit string: most candidates (long runs of digit groups,
  // timestamps, ids) have a count no detector accepts.
  let nd = 0;
  for (let k = 0; k < c.length; k++) {
    const ch = c.charCodeAt(k);
    if (ch >= 48 && ch <= 57) nd++;
  }
  if (c.charCodeAt(0) === 43 ? nd < 8 || nd > 15 : !numeric || (nd !== 9 && (nd < 12 || nd > 19))) return undefined;
  const d = digitsOnly(c);
  if (c.charCodeAt(0) === 43) {
    // E.164: '+', 8..15 digits; '+999' is the surrogate range.
    if (en.phone && d.length >= 8 && d.length <= 15 && d[0] !== '0' && !d.startsWith('999')) return 'phone';
    return undefined;
  }
  if (!numeric) return undefined;
  if (en.ssn && d.length === 9 && /^\d{3}([ -])\d{2}\1\d{4}$/.test(c) && isSsn(d)) return 'ssn';
  if (en.card && d.length >= 12 && d.length <= 19) {
    const groups = c.split(/[ -]/);
    const shape = groups.map((g) => g.length).join('-');
    if ((groups.length === 1 || CARD_GROUPS.has(shape)) && isCard(d)) return 'card';
  }
  return undefined;
}

function scanDigits(s: string, out: Hit[], o: ScanOptions): void {
  NUM_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NUM_RE.exec(s)) !== null) {
    const c = m[0];
    const rule = classifyDigits(c, o.numeric, o.enabled);
    if (rule !== undefined) {
      out.push({ start: m.index, end: m.index + c.length, rule });
      continue;
    }
    if (!o.numeric || c.charCodeAt(0) === 43) continue;
    // A card or SSN next to other digit groups ("2024 4111 1111 1111 1111"): try the few group windows
    // that can be one (a 12-19 digit group, card group shapes starting with a 4-digit group, 3-2-4 SSN).
    // Longest group first, without allocating: runs of 1- and 2-digit groups ("1 2 3 4 …") hold no window.
    let maxLen = 0;
    let nGroups = 0;
    for (let k = 0, st = 0; k <= c.length; k++) {
      const ch = c.charCodeAt(k);
      if (k === c.length || ch === 32 || ch === 45) {
        if (k - st > maxLen) maxLen = k - st;
        nGroups++;
        st = k + 1;
      }
    }
    if (maxLen < 3 || nGroups < 2) continue;
    const groups: Array<{ off: number; len: number }> = [];
    for (let k = 0, st = 0; k <= c.length; k++) {
      const ch = c.charCodeAt(k);
      if (k === c.length || ch === 32 || ch === 45) {
        groups.push({ off: st, len: k - st });
        st = k + 1;
      }
    }
    const tryWindow = (i: number, j: number): boolean => {
      if (i === 0 && j === groups.length - 1) return false;
      const a = groups[i].off;
      const b = groups[j].off + groups[j].len;
      const r = classifyDigits(c.slice(a, b), true, o.enabled);
      if (r !== undefined) out.push({ start: m!.index + a, end: m!.index + b, rule: r });
      return r !== undefined;
    };
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (g.len >= 12 && tryWindow(i, i)) break;
      if (g.len === 3 && i + 2 < groups.length && groups[i + 1].len === 2 && groups[i + 2].len === 4 && tryWindow(i, i + 2)) break;
      if (g.len !== 4) continue;
      let found = false;
      let digits = 0;
      for (let j = i; j < groups.length && !found; j++) {
        digits += groups[j].len;
        if (digits > 19) break;
        if (digits >= 12) found = tryWindow(i, j);
      }
      if (found) break;
    }
  }
}

// --- IP addresses ------------------------------------------------------------------------------------------

const IPV4_RE = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g;
const IPV6_RE = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]|\.\d)/g;

function ipv4Skipped(ip: string): boolean {
  if (ip === '0.0.0.0' || ip === '255.255.255.255' || ip.startsWith('127.')) return true;
  return ip.startsWith('198.18.') || ip.startsWith('198.19.'); // surrogate range
}

function scanIpv4(s: string, out: Hit[], keepIp: string | undefined): void {
  IPV4_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IPV4_RE.exec(s)) !== null) {
    if (isIpv4(m[0]) && !ipv4Skipped(m[0]) && !isKeptIp(keepIp, 'ipv4', m[0])) out.push({ start: m.index, end: m.index + m[0].length, rule: 'ipv4' });
  }
}

export function isIpv6(c: string): boolean {
  if (c.length < 3 || c.indexOf(':') === c.lastIndexOf(':')) return false;
  const dbl = c.indexOf('::');
  if (dbl >= 0 && c.indexOf('::', dbl + 1) >= 0) return false;
  const groups = c.split(':');
  if (dbl < 0 && groups.length !== 8) return false;
  if (dbl >= 0 && groups.length > 9) return false;
  let nonEmpty = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (g.length > 4) return false;
    if (g.length === 0) {
      // empty groups only as part of '::' (two at the start/end, one in the middle)
      if (dbl < 0) return false;
      continue;
    }
    nonEmpty++;
  }
  if (c.startsWith(':') && !c.startsWith('::')) return false;
  if (c.endsWith(':') && !c.endsWith('::')) return false;
  return nonEmpty > 0;
}

function scanIpv6(s: string, out: Hit[], keepIp: string | undefined): void {
  IPV6_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IPV6_RE.exec(s)) !== null) {
    const c = m[0];
    if (!isIpv6(c)) continue;
    const low = c.toLowerCase();
    if (low === '::1' || low.startsWith('2001:db8:') || isKeptIp(keepIp, 'ipv6', c)) continue;
    out.push({ start: m.index, end: m.index + c.length, rule: 'ipv6' });
  }
}

// --- IBAN --------------------------------------------------------------------------------------------------

const IBAN_RE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

function scanIban(s: string, out: Hit[]): void {
  IBAN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IBAN_RE.exec(s)) !== null) {
    const c = m[0];
    const want = IBAN_LENGTHS[c.slice(0, 2)];
    let end = -1;
    if (want !== undefined) {
      let n = 0;
      for (let i = 0; i < c.length; i++) {
        if (c[i] !== ' ' && ++n === want) {
          end = i + 1;
          break;
        }
      }
    }
    const next = m.index + end;
    if (end > 0 && !/[A-Za-z0-9]/.test(s[next] ?? ' ') && isIban(c.slice(0, end).replace(/ /g, ''))) {
      out.push({ start: m.index, end: next, rule: 'iban' });
      IBAN_RE.lastIndex = next;
    } else {
      IBAN_RE.lastIndex = m.index + 1;
    }
  }
}

// --- tokens ------------------------------------------------------------------------------------------------

const BEARER_RE = /(?<![\w-])bearer[ \t]+([A-Za-z0-9._~+/-]{12,}=*)/gi;
const BASIC_RE = /(?<![\w-])basic[ \t]+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/gi;
const AWS_RE = /(?<![A-Za-z0-9])(?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;

function scanRe(re: RegExp, rule: BuiltinDetector, s: string, out: Hit[], group = false): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const h: Hit = { start: m.index, end: m.index + m[0].length, rule };
    if (group) h.innerStart = m.index + m[0].length - m[1].length;
    out.push(h);
  }
}

function isB64u(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95;
}

function runEnd(s: string, i: number): number {
  while (i < s.length && isB64u(s.charCodeAt(i))) i++;
  return i;
}

/** JWS compact tokens `eyJ….eyJ….sig`: hand-written, each character visited a bounded number of times. */
function scanJwt(s: string, out: Hit[]): void {
  let p = s.indexOf('eyJ');
  while (p >= 0) {
    const e1 = runEnd(s, p);
    if (p > 0 && isB64u(s.charCodeAt(p - 1))) {
      p = s.indexOf('eyJ', e1);
      continue;
    }
    if (e1 - p >= 7 && s.charCodeAt(e1) === 46 && s.startsWith('eyJ', e1 + 1)) {
      const e2 = runEnd(s, e1 + 1);
      if (e2 - e1 - 1 >= 5 && s.charCodeAt(e2) === 46) {
        const e3 = runEnd(s, e2 + 1);
        out.push({ start: p, end: e3, rule: 'jwt' });
        p = s.indexOf('eyJ', e3);
        continue;
      }
      p = s.indexOf('eyJ', e2);
      continue;
    }
    p = s.indexOf('eyJ', e1);
  }
}

/** True if `d` is a printable "user:password" (the decoded form of a Basic credential). */
export function looksLikeBasicPair(d: string): boolean {
  return d.indexOf(':') > 0 && /^[\x20-\x7e\u00a0-\uffff]+$/.test(d) && !d.includes('\ufffd');
}

function scanBasic(s: string, out: Hit[]): void {
  BASIC_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BASIC_RE.exec(s)) !== null) {
    const raw = Buffer.from(m[1], 'base64');
    if (raw.indexOf(0x3a) <= 0) continue;
    if (!looksLikeBasicPair(raw.toString('utf8'))) continue;
    out.push({ start: m.index, end: m.index + m[0].length, rule: 'basic_auth', innerStart: m.index + m[0].length - m[1].length });
  }
}

// --- all ---------------------------------------------------------------------------------------------------

const DIGIT = /\d/;

/**
 * All built-in hits in `s`, unresolved (may overlap). Cheap pre-checks skip detectors that cannot match:
 * `flags` is prescan(s) when the caller has it (computed here when omitted; -1 = run every scanner).
 */
export function scanBuiltins(s: string, o: ScanOptions, out: Hit[], flags = prescan(s)): void {
  const en = o.enabled;
  if (en.email && (flags & F_AT) !== 0 && s.includes('@')) scanEmail(s, out);
  if ((flags & (F_NUM | F_IPV4 | F_IBAN)) !== 0 && DIGIT.test(s)) {
    if ((en.card || en.phone || en.ssn) && (flags & F_NUM) !== 0) scanDigits(s, out, o);
    if (en.ipv4 && o.numeric && (flags & F_IPV4) !== 0 && s.includes('.')) scanIpv4(s, out, o.keepIp);
    if (en.iban && (flags & F_IBAN) !== 0) scanIban(s, out);
  }
  if (en.ipv6 && (flags & F_IPV6) !== 0 && s.includes(':')) scanIpv6(s, out, o.keepIp);
  if (s.length >= 20) {
    if (en.jwt && (flags & F_JWT) !== 0 && s.includes('eyJ')) scanJwt(s, out);
    if (en.aws_access_key && (flags & F_AWS) !== 0 && /A[KSRIGNBC][A-Z]A/.test(s)) scanRe(AWS_RE, 'aws_access_key', s, out);
  }
  if (s.length >= 10 && (flags & F_AUTH) !== 0) {
    const low = s.includes('earer') || s.includes('EARER');
    if (en.bearer && low) scanRe(BEARER_RE, 'bearer', s, out, true);
    if (en.basic_auth && (s.includes('asic') || s.includes('ASIC'))) scanBasic(s, out);
  }
}

/**
 * Resolves overlaps in one sweep (sorted by start): within a cluster of overlapping spans a `priority`
 * span (an already-processed region) wins; contained spans are dropped; partially overlapping spans are
 * merged into one `merged` span (replaced by an opaque surrogate, so neither side leaks). Returns non-overlapping hits sorted by start.
 */
export function resolveHits<T extends { start: number; end: number; priority?: boolean; merged?: boolean }>(hits: T[]): T[] {
  if (hits.length <= 1) return hits;
  hits.sort((a, b) => a.start - b.start || (b.end - b.start) - (a.end - a.start));
  const kept: T[] = [];
  let cur = hits[0];
  for (let i = 1; i < hits.length; i++) {
    const h = hits[i];
    if (h.start >= cur.end) {
      kept.push(cur);
      cur = h;
      continue;
    }
    if (cur.priority || h.end <= cur.end) continue; // contained, or a processed region wins
    if (h.priority) {
      // Trim the raw hit back to the processed region's start (its own text before it is still replaced).
      kept.push(Object.assign({}, cur, { end: h.start, merged: true }));
      cur = h;
      continue;
    }
    // Partial overlap: replace the union so that no part of either span survives.
    const longer = h.end - h.start > cur.end - cur.start ? h : cur;
    cur = Object.assign({}, longer, { start: cur.start, end: h.end, merged: true });
  }
  kept.push(cur);
  return kept.filter((h) => h.end > h.start);
}
