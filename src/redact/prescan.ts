/**
 * One pass over a string's code units that says which detectors, heuristics and dispatches of the text
 * redactor (text.ts / scan.ts) could possibly fire on it. Each flag is a NECESSARY condition of what it
 * gates, never a sufficient one: a set flag only means "run the real scanner", a clear flag means "that
 * scanner cannot find anything here". Strings with no flag set (most JSON values: words, ids, UUIDs, short
 * paths, small numbers) are returned unchanged without running any regex.
 * Linear, allocation-free: every position is visited once with a constant look-back.
 */

/** '@': e-mail, URL userinfo, PATH_LIKE dispatch. */
export const F_AT = 1;
/** '%': percent-encoded runs, PATH_LIKE dispatch. */
export const F_PCT = 2;
/** '=' or ':': key=value heuristics, query/URL dispatch, IPv6 (two colons). */
export const F_KV = 4;
/** '?': PATH_LIKE dispatch. */
export const F_QMARK = 8;
/** A digit chain of NUM_RE (scan.ts): >= 7 digits from a token start, ending where NUM_RE may end. */
export const F_NUM = 16;
/** >= 3 dots and >= 4 digits: a dotted quad is possible. */
export const F_IPV4 = 32;
/** `[A-Z]{2}\d{2}` not preceded by a letter/digit: an IBAN start. */
export const F_IBAN = 64;
/** >= 2 colons: IPv6. */
export const F_IPV6 = 128;
/** 'eyJ': JWT. */
export const F_JWT = 256;
/** `A?? A` with an upper-case letter run: an AWS key prefix (AKIA, ASIA, …). */
export const F_AWS = 512;
/** 'bearer' / 'basic' (any case) right before a space or tab. */
export const F_AUTH = 1024;
/** Full-width forms (NFKC normalisation). */
export const F_WIDE = 2048;
/** First non-space character is '{' or '[': JSON inside a string. */
export const F_JSON = 4096;

function isWordish(c: number): boolean {
  // [\w.+-]: the characters NUM_RE's look-behind rejects before a candidate start.
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 43 || c === 45;
}

function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * `s.slice(end - word.length, end)` equals the lower-case ASCII `word`, ignoring the case of ASCII letters;
 * not before `from`. Builds no string.
 */
export function endsWithCi(s: string, from: number, end: number, word: string): boolean {
  const n = word.length;
  if (end - from < n) return false;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(end - n + k);
    if ((c >= 65 && c <= 90 ? c | 32 : c) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * ASCII classes: 0 = ends a digit chain and needs nothing else (lower-case letters, most punctuation),
 * 1 = digit, 2 = looked at (upper-case letters, '@', '%', '=', ':', '?', '.', '+', '-', space, tab).
 */
const CLS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLS[c] = 1;
for (let c = 65; c <= 90; c++) CLS[c] = 2;
for (const ch of '@%=:?.+- \t') CLS[ch.charCodeAt(0)] = 2;

/**
 * Bit set of F_* flags for `s`, or for `s.slice(from, to)` without building it (0: no built-in detector,
 * heuristic or dispatch can fire). Characters outside [from, to) are never looked at.
 */
export function prescan(s: string, from = 0, to = s.length): number {
  const n = to;
  let flags = 0;
  let digits = 0;
  let dots = 0;
  let colons = 0;
  // NUM chain: digits counted since a valid start (-1: no chain); sep: the previous char was a single [ -];
  // run: length of the run of digits ending at the previous char.
  let chain = -1;
  let sep = false;
  let run = 0;
  let i = from;
  while (i < n && s.charCodeAt(i) <= 32) i++;
  if (i < n && (s.charCodeAt(i) === 123 || s.charCodeAt(i) === 91)) flags |= F_JSON;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    const t = c < 128 ? CLS[c] : 3;
    if (t === 0) {
      chain = -1;
      run = 0;
      continue;
    }
    if (t === 1) {
      digits++;
      if (chain >= 0 && (sep || run > 0)) chain++;
      else if (run > 0) chain = -1;
      else {
        // a chain starts where NUM_RE's look-behind allows: after a char not in [\w.+-], or after such a '+'
        const p = i > from ? s.charCodeAt(i - 1) : 0;
        chain = !isWordish(p) || (p === 43 && (i - from < 2 || !isWordish(s.charCodeAt(i - 2)))) ? 1 : -1;
      }
      sep = false;
      if (chain >= 7 && (flags & F_NUM) === 0) {
        // NUM_RE's look-ahead: not followed by [\w+], nor by '.' then a digit, nor by '-' then \w
        // (a digit next: the chain goes on; '.txt' after the number does not stop a match).
        const nx = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        const nx2 = i + 2 < n ? s.charCodeAt(i + 2) : 0;
        if ((nx < 48 || nx > 57) && !(isWord(nx) || nx === 43)
          && !(nx === 46 && nx2 >= 48 && nx2 <= 57) && !(nx === 45 && i + 2 < n && isWord(nx2))) flags |= F_NUM;
      }
      // IBAN start: [A-Z]{2}\d{2} not preceded by [A-Za-z0-9].
      if (++run === 2 && i - from >= 3 && isUpper(s.charCodeAt(i - 2)) && isUpper(s.charCodeAt(i - 3))
        && (i - from < 4 || !isAlnum(s.charCodeAt(i - 4)))) flags |= F_IBAN;
      continue;
    }
    if (chain >= 0) {
      if ((c === 32 || c === 45) && !sep && run > 0) sep = true;
      else {
        chain = -1;
        sep = false;
      }
    }
    run = 0;
    if (t === 3) {
      if ((c >= 0xff01 && c <= 0xff5e) || c === 0x3000) flags |= F_WIDE;
      continue;
    }
    switch (c) {
      case 64: flags |= F_AT; break;
      case 37: flags |= F_PCT; break;
      case 61: flags |= F_KV; break;
      case 58:
        flags |= F_KV;
        if (++colons >= 2) flags |= F_IPV6;
        break;
      case 63: flags |= F_QMARK; break;
      case 46: dots++; break;
      case 74: // 'J' of 'eyJ'
        if (i - from >= 2 && s.charCodeAt(i - 1) === 121 && s.charCodeAt(i - 2) === 101) flags |= F_JWT;
        break;
      case 65: // the second 'A' of AKIA / ASIA / …: A[KSRIGNBC][A-Z]A
        if (i - from >= 3 && s.charCodeAt(i - 3) === 65 && isUpper(s.charCodeAt(i - 1)) && isUpper(s.charCodeAt(i - 2))) flags |= F_AWS;
        break;
      case 32:
      case 9:
        if (endsWithCi(s, from, i, 'bearer') || endsWithCi(s, from, i, 'basic')) flags |= F_AUTH;
        break;
      default: break;
    }
  }
  if (dots >= 3 && digits >= 4) flags |= F_IPV4;
  return flags;
}
