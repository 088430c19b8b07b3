/**
 * Deterministic format-preserving surrogates drawn from keyed digests (keyed.ts). Each takes the matched
 * text and returns its replacement; the canonical form fed to the HMAC makes formatting variants of one
 * value ("4111 1111 1111 1111" / "4111111111111111", "A@B.com" / "a@b.com") share one surrogate.
 * Surrogates come from reserved / test ranges so they are never somebody's real value:
 * cards on published test prefixes (Luhn valid), IBANs with correct mod 97, e-mail at example.invalid,
 * phones in the spare country code +999, IPv4 in 198.18.0.0/15 (RFC 2544), IPv6 in 2001:db8::/32 (RFC 3849),
 * SSNs in the never-issued area 666.
 */
import { Draw, Keyed } from './keyed';
import { cardBrand, ibanCheckDigits, luhnCheckDigit, TEST_PREFIX } from './validators';

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function base32(bytes: Buffer, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += B32[bytes[i] & 31];
  return out;
}

function digitsOf(s: string): string {
  let d = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) d += s[i];
  }
  return d;
}

/** Writes `digits` into the digit positions of `template`, keeping every other character. */
function refillDigits(template: string, digits: string): string {
  let out = '';
  let j = 0;
  for (let i = 0; i < template.length; i++) {
    const c = template.charCodeAt(i);
    out += c >= 48 && c <= 57 ? digits[j++] : template[i];
  }
  return out;
}

export function surrogateEmail(k: Keyed, s: string): string {
  return `user_${base32(k.digest('email', s.toLowerCase()), 12)}@example.invalid`;
}

/** Same digit count and separators; leading `999` (spare E.164 country code). */
export function surrogatePhone(k: Keyed, s: string): string {
  const d = digitsOf(s);
  const draw = new Draw(k.digest('phone', d));
  let out = d.length >= 6 ? '999' : '';
  while (out.length < d.length) out += draw.digit();
  return refillDigits(s, out);
}

/** Same length, brand and separators; test prefix of the brand; Luhn valid. */
export function surrogateCard(k: Keyed, s: string): string {
  const d = digitsOf(s);
  const brand = cardBrand(d) ?? 'visa';
  const draw = new Draw(k.digest('card', d));
  let body = TEST_PREFIX[brand].slice(0, Math.max(1, d.length - 7));
  while (body.length < d.length - 1) body += draw.digit();
  return refillDigits(s, body + luhnCheckDigit(body));
}

/** Same country, length and letter/digit layout; valid check digits. Spacing kept. */
export function surrogateIban(k: Keyed, s: string): string {
  const compact = s.replace(/ /g, '').toUpperCase();
  const draw = new Draw(k.digest('iban', compact));
  const country = compact.slice(0, 2);
  let bban = '';
  for (let i = 4; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    bban += c >= 48 && c <= 57 ? draw.digit() : draw.upper();
  }
  const full = country + ibanCheckDigits(country, bban) + bban;
  let out = '';
  let j = 0;
  for (let i = 0; i < s.length; i++) out += s[i] === ' ' ? ' ' : full[j++];
  return out;
}

/** 666-GG-SSSS (area 666 is never issued), separators kept. */
export function surrogateSsn(k: Keyed, s: string): string {
  const d = digitsOf(s);
  const draw = new Draw(k.digest('ssn', d));
  const group = String(1 + ((draw.int(256) * 256 + draw.int(256)) % 99)).padStart(2, '0');
  const serial = String(1 + ((draw.int(256) * 256 + draw.int(256)) % 9999)).padStart(4, '0');
  return refillDigits(s, '666' + group + serial);
}

/** An address in 198.18.0.0/15. */
export function surrogateIpv4(k: Keyed, s: string): string {
  const b = k.digest('ipv4', s);
  const n = ((b[0] << 9) | (b[1] << 1) | (b[2] & 1)) & 0x1ffff;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text of an IPv6 address, undefined when it does not parse. */
export function canonicalIpv6(s: string): string | undefined {
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** An address in 2001:db8::/32, canonical compressed form of the input as the HMAC input. */
export function surrogateIpv6(k: Keyed, s: string): string {
  const c = canonicalIpv6(s);
  const canon = c === undefined ? s.toLowerCase() : `[${c}]`; // the bracketed form: surrogates stay as before
  const b = k.digest('ipv6', canon);
  const g: string[] = ['2001', 'db8'];
  for (let i = 0; i < 6; i++) g.push(((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
  return g.join(':');
}

/** AKIA… keys: the 4-letter prefix kept, 16 characters of [A-Z2-7]. */
export function surrogateAwsKey(k: Keyed, s: string): string {
  const b = k.digest('aws', s);
  let out = s.slice(0, 4);
  for (let i = 0; i < 16; i++) out += B32[b[i] & 31].toUpperCase();
  return out;
}

/** Opaque token of the same length over [A-Za-z0-9] (length at least 8). */
export function surrogateSecret(k: Keyed, s: string, kind = 'secret'): string {
  const n = Math.max(8, s.length);
  const b = k.stream(kind, s, n);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = ALNUM.charCodeAt(b[i] % 62);
  return out.toString('latin1');
}

/** Token-shaped: letters → letters (same case), digits → digits, every other character kept. */
export function surrogateShape(k: Keyed, s: string, kind = 'text'): string {
  const b = k.stream(kind, s, s.length);
  const parts: string[] = [];
  let ascii = true;
  const out = Buffer.allocUnsafe(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const r = b[i];
    if (c >= 48 && c <= 57) out[i] = 48 + (r % 10);
    else if (c >= 65 && c <= 90) out[i] = 65 + (r % 26);
    else if (c >= 97 && c <= 122) out[i] = 97 + (r % 26);
    else if (c < 128) out[i] = c;
    else {
      ascii = false;
      break;
    }
  }
  if (ascii) return out.toString('latin1');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const r = b[i];
    if (c >= 48 && c <= 57) parts.push(String.fromCharCode(48 + (r % 10)));
    else if (c >= 65 && c <= 90) parts.push(String.fromCharCode(65 + (r % 26)));
    else if (c >= 97 && c <= 122) parts.push(String.fromCharCode(97 + (r % 26)));
    else if (c < 128) parts.push(s[i]);
    else if (c >= 0xd800 && c <= 0xdfff) parts.push(c <= 0xdbff ? 'x' : '');
    else parts.push(/[\p{L}\p{N}]/u.test(s[i]) ? String.fromCharCode(97 + (r % 26)) : s[i]);
  }
  return parts.join('');
}

/** Same-length digit string (no leading zero unless the input had one); for numbers under key rules. */
export function surrogateDigits(k: Keyed, d: string, kind = 'digits'): string {
  const draw = new Draw(k.stream(kind, d, d.length));
  let out = '';
  for (let i = 0; i < d.length; i++) {
    const x = draw.digit();
    out += i === 0 && d[0] !== '0' && x === '0' ? '1' : x;
  }
  return out;
}

/** Letters and digits replaced by `ch`, the last `keepLast` of them kept; separators kept. */
export function maskText(s: string, ch: string, keepLast: number): string {
  let keepFrom = s.length;
  let seen = 0;
  for (let i = s.length - 1; i >= 0 && seen < keepLast; i--) {
    if (/[A-Za-z0-9]/.test(s[i])) {
      seen++;
      keepFrom = i;
    }
  }
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (i >= keepFrom) out += c;
    else if (/[\p{L}\p{N}]/u.test(c)) out += ch;
    else out += c;
  }
  return out;
}
