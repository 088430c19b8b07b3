/**
 * Checksum and structure validators for the fixed-shape detectors: payment cards (Luhn + issuer prefix +
 * length), IBAN (country length + ISO 7064 mod 97-10), US SSN (SSA area/group/serial rules), IPv4 octets.
 * All take ASCII strings already stripped of separators and run in time linear in their input.
 */

/** Luhn check over a digit string. */
export function luhnValid(d: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let v = d.charCodeAt(i) - 48;
    if (v < 0 || v > 9) return false;
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that makes `body + digit` valid. */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  let dbl = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let v = body.charCodeAt(i) - 48;
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return String((10 - (sum % 10)) % 10);
}

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb' | 'unionpay' | 'maestro' | 'mir';

interface Iin { lo: number; hi: number; digits: number; brand: CardBrand; lengths: readonly number[] }

const L16_19 = [16, 17, 18, 19] as const;
/** Issuer identification ranges (prefix of `digits` digits in [lo, hi]) and the PAN lengths they issue. */
const IINS: readonly Iin[] = [
  { lo: 4, hi: 4, digits: 1, brand: 'visa', lengths: [13, 16, 19] },
  { lo: 51, hi: 55, digits: 2, brand: 'mastercard', lengths: [16] },
  { lo: 2221, hi: 2720, digits: 4, brand: 'mastercard', lengths: [16] },
  { lo: 34, hi: 34, digits: 2, brand: 'amex', lengths: [15] },
  { lo: 37, hi: 37, digits: 2, brand: 'amex', lengths: [15] },
  { lo: 6011, hi: 6011, digits: 4, brand: 'discover', lengths: L16_19 },
  { lo: 644, hi: 649, digits: 3, brand: 'discover', lengths: L16_19 },
  { lo: 65, hi: 65, digits: 2, brand: 'discover', lengths: L16_19 },
  { lo: 300, hi: 305, digits: 3, brand: 'diners', lengths: [14, 15, 16, 17, 18, 19] },
  { lo: 36, hi: 36, digits: 2, brand: 'diners', lengths: [14, 15, 16, 17, 18, 19] },
  { lo: 38, hi: 39, digits: 2, brand: 'diners', lengths: [14, 15, 16, 17, 18, 19] },
  { lo: 3528, hi: 3589, digits: 4, brand: 'jcb', lengths: L16_19 },
  { lo: 62, hi: 62, digits: 2, brand: 'unionpay', lengths: L16_19 },
  { lo: 2200, hi: 2204, digits: 4, brand: 'mir', lengths: L16_19 },
  { lo: 50, hi: 50, digits: 2, brand: 'maestro', lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { lo: 56, hi: 58, digits: 2, brand: 'maestro', lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { lo: 6304, hi: 6304, digits: 4, brand: 'maestro', lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { lo: 6759, hi: 6763, digits: 4, brand: 'maestro', lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
];

/** Per range: bit L set when length L is issued (lengths are <= 19). */
const IIN_LENGTH_BITS: readonly number[] = IINS.map((r) => r.lengths.reduce((m, l) => m | (1 << l), 0));

/** Brand of a digit string whose prefix and length match an issuer range, else undefined. */
export function cardBrand(d: string): CardBrand | undefined {
  const len = d.length;
  // The first four characters as prefixes of 1..4 digits (NaN when a character is not a digit, as Number() gives).
  const pre = [NaN, NaN, NaN, NaN, NaN];
  let acc = 0;
  for (let k = 0; k < 4 && k < len; k++) {
    const v = d.charCodeAt(k) - 48;
    acc = v >= 0 && v <= 9 ? acc * 10 + v : NaN;
    pre[k + 1] = acc;
  }
  const lenBit = len <= 30 ? 1 << len : 0;
  for (let i = 0; i < IINS.length; i++) {
    const r = IINS[i];
    if (len < r.digits) continue;
    const p = pre[r.digits];
    if (p >= r.lo && p <= r.hi && (IIN_LENGTH_BITS[i] & lenBit) !== 0) return r.brand;
  }
  return undefined;
}

/** A payment card: 12–19 digits, issuer prefix and length consistent, Luhn valid. */
export function isCard(d: string): boolean {
  return d.length >= 12 && d.length <= 19 && cardBrand(d) !== undefined && luhnValid(d);
}

/** Test-card prefixes per brand (published test ranges); surrogates are drawn under these. */
export const TEST_PREFIX: Record<CardBrand, string> = {
  visa: '400000', mastercard: '555555', amex: '378282', discover: '601111', diners: '305693',
  jcb: '353011', unionpay: '620000', maestro: '675900', mir: '220000',
};

/** IBAN total lengths per country (ISO 13616 registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22,
  GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27,
  MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24,
  XK: 20,
};

/** ISO 7064 mod 97 of an IBAN (country+check moved to the end, letters as 10..35). */
export function ibanMod97(iban: string): number {
  const s = iban.slice(4) + iban.slice(0, 4);
  let r = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97;
    else return -1;
  }
  return r;
}

/** Upper-case IBAN without spaces: registered country, its length, mod 97 = 1. */
export function isIban(s: string): boolean {
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  return len !== undefined && s.length === len && /^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s) && ibanMod97(s) === 1;
}

/** Check digits ("02".."98") for an IBAN whose check digits are given as "00". */
export function ibanCheckDigits(country: string, bban: string): string {
  const r = ibanMod97(country + '00' + bban);
  return String(98 - r).padStart(2, '0');
}

/** US SSN digits (9): area not 000/666/900-999, group not 00, serial not 0000. */
export function isSsn(d: string): boolean {
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  const group = Number(d.slice(3, 5));
  const serial = Number(d.slice(5));
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

/** Dotted quad of decimal octets 0-255, no leading zeros beyond "0", nothing else. One pass, no allocation. */
export function isIpv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  for (;;) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || (len > 1 && s.charCodeAt(start) === 48) || v > 255) return false;
    parts++;
    if (i === n) return parts === 4;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
  }
}
