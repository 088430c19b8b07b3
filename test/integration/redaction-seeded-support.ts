/**
 * The seeded redaction suite's data: a deterministic PRNG, generators of fresh PII values (e-mail,
 * E.164 phone, card, IBAN, SSN, IPv4, IPv6, JWT, bearer token, AWS access key, Basic credentials),
 * HTTP/1.1 exchanges that place every value type in every carrier under every framing, decoys that
 * must survive redaction, and a needle index that finds every encoding of every seeded secret in an
 * output (raw, lower-cased, percent-, form-, JSON-, XML-, base64-encoded, digits only, digits in
 * groups of 4), plus the derived haystacks an attacker would try (base64 of Basic credentials and
 * JWT segments decoded, %XX and \uXXXX undone, bodies left Content-Encoded decoded).
 *
 * Nothing here knows what the redactor does: expectations are about the input only.
 */
import * as zlib from 'node:zlib';
import { HttpPcapBuilder, type Turn } from '../helpers/http-pcap-builder';

// ------------------------------------------------------------------------------------------- PRNG

/** sfc32: small, fast, deterministic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.u32() / 2 ** 32) * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(0, a.length - 1)];
  }
  str(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
  digits(n: number): string {
    return this.str('0123456789', n);
  }
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const WORDS = ['alpha', 'bravo', 'delta', 'orbit', 'velvet', 'harbor', 'maple', 'quartz', 'ember', 'lumen', 'cobalt',
  'meadow', 'signal', 'tundra', 'willow', 'zephyr', 'canyon', 'prairie', 'lantern', 'summit', 'glacier', 'river'];

// ------------------------------------------------------------------------------------ seeded values

export const PII_TYPES = ['email', 'phone', 'card', 'iban', 'ssn', 'ipv4', 'ipv6', 'jwt', 'bearer', 'aws_key', 'basic'] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface Secret {
  /** What this is, for reports ("email", "jwt payload claim email", "basic password", ...). */
  what: string;
  text: string;
  /** Also search its digits alone and in groups of 4 (card, phone, IBAN). */
  digits?: boolean;
}

export interface Seeded {
  type: PiiType;
  /** The text placed in a carrier. */
  carried: string;
  /** How it is written in prose (cards and IBANs in groups, phones with spaces); default `carried`. */
  prose: string;
  /** Used as a Basic user name (identity-like values) or password (secrets). */
  core: string;
  /** Everything that must not be recoverable from any output. */
  secrets: Secret[];
}

function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function mod97(s: string): number {
  let r = 0;
  for (const ch of s) {
    const v = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) r = (r * 10 + Number(d)) % 97;
  }
  return r;
}

function group4(s: string): string {
  return s.replace(/(.{4})(?=.)/g, '$1 ');
}

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

export function genEmail(r: Rng): string {
  const first = r.str(LOWER, r.int(4, 7));
  const last = r.str(LOWER, r.int(5, 8));
  const local = r.pick([`${first}.${last}`, `${first}${r.digits(3)}`, `${first}_${last}${r.digits(2)}`]);
  const dom = `${r.str(LOWER, r.int(5, 9))}.${r.pick(['com', 'net', 'org', 'io', 'de', 'co.uk'])}`;
  // Sometimes mixed case: the redactor must match case-insensitively, the search is lower-cased.
  return r.int(0, 3) === 0 ? `${local[0].toUpperCase()}${local.slice(1)}@${dom[0].toUpperCase()}${dom.slice(1)}` : `${local}@${dom}`;
}

export function genPhone(r: Rng): { e164: string; prose: string } {
  const plans: Array<[string, () => string, (n: string) => string]> = [
    ['1', () => `${r.int(2, 9)}${r.digits(2)}${r.int(2, 9)}${r.digits(6)}`, (n) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`],
    ['44', () => `7${r.digits(9)}`, (n) => `${n.slice(0, 4)} ${n.slice(4)}`],
    ['49', () => `1${r.pick(['5', '6', '7'])}${r.digits(r.int(8, 9))}`, (n) => `${n.slice(0, 3)} ${n.slice(3)}`],
    ['33', () => `${r.pick(['6', '7'])}${r.digits(8)}`, (n) => `${n[0]} ${n.slice(1, 3)} ${n.slice(3, 5)} ${n.slice(5, 7)} ${n.slice(7)}`],
    ['61', () => `4${r.digits(8)}`, (n) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`],
    ['81', () => `90${r.digits(8)}`, (n) => `${n.slice(0, 2)}-${n.slice(2, 6)}-${n.slice(6)}`],
  ];
  const [cc, nat, fmt] = r.pick(plans);
  const n = nat();
  return { e164: `+${cc}${n}`, prose: `+${cc} ${fmt(n)}` };
}

export function genCard(r: Rng): { pan: string; prose: string } {
  const kind = r.int(0, 2);
  let body: string;
  if (kind === 0) body = `4${r.digits(14)}`;
  else if (kind === 1) body = `5${r.int(1, 5)}${r.digits(13)}`;
  else body = `3${r.pick(['4', '7'])}${r.digits(12)}`;
  const pan = body + luhnDigit(body);
  const prose = pan.length === 15 ? `${pan.slice(0, 4)} ${pan.slice(4, 10)} ${pan.slice(10)}` : group4(pan);
  return { pan, prose };
}

export function genIban(r: Rng): string {
  const country = r.pick(['DE', 'GB', 'FR', 'NL', 'ES', 'IT']);
  let bban: string;
  switch (country) {
    case 'DE': bban = r.digits(18); break;
    case 'GB': bban = r.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + r.digits(14); break;
    case 'FR': bban = r.digits(23); break;
    case 'NL': bban = r.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + r.digits(10); break;
    case 'ES': bban = r.digits(20); break;
    default: bban = r.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1) + r.digits(22); break; // IT: 27 chars
  }
  const check = 98 - mod97(`${bban}${country}00`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

export function genSsn(r: Rng): string {
  let area = r.int(1, 899);
  if (area === 666) area = 667;
  return `${String(area).padStart(3, '0')}-${String(r.int(1, 99)).padStart(2, '0')}-${String(r.int(1, 9999)).padStart(4, '0')}`;
}

export function genIpv4(r: Rng): string {
  let a = r.int(11, 223);
  if (a === 127 || a === 198 || a === 100) a = 45;
  return `${a}.${r.int(10, 254)}.${r.int(10, 254)}.${r.int(10, 254)}`;
}

export function genIpv6(r: Rng): string {
  const g = (): string => r.str('0123456789abcdef', 4).replace(/^0+(?=.)/, '') || '1';
  return `2a0${r.int(1, 9)}:${[1, 2, 3, 4, 5, 6, 7].map(() => g()).join(':')}`;
}

function genName(r: Rng): string {
  const w = (): string => r.str('BCDFGHKLMNPRSTVZ', 1) + r.str('aeiou', 1) + r.str('lmnrstvz', 1) + r.str('aeiou', 1) + r.str('bdklmnrstvz', r.int(2, 3));
  return `${w()} ${w()}`;
}

export function genJwt(r: Rng, claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.${b64url(Buffer.from(Array.from({ length: 32 }, () => r.int(0, 255))))}`;
}

/** A fresh value of `type`, with everything about it that must disappear. */
export function genSeeded(r: Rng, type: PiiType): Seeded {
  switch (type) {
    case 'email': {
      const e = genEmail(r);
      return { type, carried: e, prose: e, core: e, secrets: [{ what: 'email', text: e }] };
    }
    case 'phone': {
      const p = genPhone(r);
      return { type, carried: p.e164, prose: p.prose, core: p.e164, secrets: [{ what: 'phone', text: p.e164, digits: true }, { what: 'phone as written', text: p.prose }] };
    }
    case 'card': {
      const c = genCard(r);
      return { type, carried: c.pan, prose: c.prose, core: c.pan, secrets: [{ what: 'card', text: c.pan, digits: true }, { what: 'card as written', text: c.prose }] };
    }
    case 'iban': {
      const i = genIban(r);
      return { type, carried: i, prose: group4(i), core: i, secrets: [{ what: 'iban', text: i, digits: true }, { what: 'iban printed', text: group4(i) }] };
    }
    case 'ssn': {
      const s = genSsn(r);
      return { type, carried: s, prose: s, core: s, secrets: [{ what: 'ssn', text: s }] };
    }
    case 'ipv4': {
      const ip = genIpv4(r);
      return { type, carried: ip, prose: ip, core: ip, secrets: [{ what: 'ipv4', text: ip }] };
    }
    case 'ipv6': {
      const ip = genIpv6(r);
      return { type, carried: ip, prose: ip, core: ip, secrets: [{ what: 'ipv6', text: ip }] };
    }
    case 'jwt': {
      const sub = `usr_${r.str(ALNUM, 12)}`;
      const email = genEmail(r);
      const name = genName(r);
      const phone = genPhone(r).e164;
      const iat = 1_700_000_000 + r.int(0, 50_000_000);
      const tok = genJwt(r, { sub, email, name, phone_number: phone, iat, exp: iat + 3600, scope: 'orders:read' });
      const [, payload, sig] = tok.split('.');
      return {
        type, carried: tok, prose: tok, core: tok,
        secrets: [
          { what: 'jwt', text: tok }, { what: 'jwt payload segment', text: payload }, { what: 'jwt signature', text: sig },
          { what: 'jwt claim sub', text: sub }, { what: 'jwt claim email', text: email }, { what: 'jwt claim name', text: name },
          { what: 'jwt claim phone_number', text: phone, digits: true },
        ],
      };
    }
    case 'bearer': {
      const tok = r.str(`${ALNUM}-_~`, 40);
      return { type, carried: `Bearer ${tok}`, prose: `Bearer ${tok}`, core: tok, secrets: [{ what: 'bearer token', text: tok }] };
    }
    case 'aws_key': {
      const k = `${r.pick(['AKIA', 'ASIA'])}${r.str(B32, 16)}`;
      return { type, carried: k, prose: k, core: k, secrets: [{ what: 'aws access key', text: k }] };
    }
    case 'basic': {
      const user = `${r.str(LOWER, 1)}${r.str(`${LOWER}0123456789`, 8)}`;
      const pass = `${r.str(ALNUM, 9)}${r.pick(['!', '*', '-', '_', '.'])}${r.str(ALNUM, 4)}`;
      const blob = Buffer.from(`${user}:${pass}`).toString('base64');
      return {
        type, carried: `Basic ${blob}`, prose: `Basic ${blob}`, core: pass,
        secrets: [{ what: 'basic blob', text: blob }, { what: 'basic user', text: user }, { what: 'basic password', text: pass }, { what: 'basic user:password', text: `${user}:${pass}` }],
      };
    }
  }
}

// ------------------------------------------------------------------------------ carriers, framings

export const CARRIERS = ['header', 'cookie', 'query', 'path', 'path-file', 'json-key', 'json-value', 'json-number', 'form',
  'multipart-part', 'multipart-filename', 'xml', 'text', 'jwt-claim', 'basic'] as const;
export type Carrier = (typeof CARRIERS)[number];
const BODY_CARRIERS: ReadonlySet<Carrier> = new Set(['json-key', 'json-value', 'json-number', 'form', 'multipart-part', 'multipart-filename', 'xml', 'text']);

export const FRAMINGS = ['identity', 'gzip', 'deflate', 'deflate-raw', 'br', 'chunked', 'chunked-gzip', 'no-content-type',
  'wrong-content-type', 'octet-stream', 'unknown-type', 'request-gzip', 'close-delimited', 'large', 'bomb'] as const;
export type Framing = (typeof FRAMINGS)[number];

/** Value types each carrier can hold (a JSON number can only be a card; a JWT is not nested in a JWT claim). */
export function typesFor(c: Carrier): readonly PiiType[] {
  if (c === 'json-number') return ['card'];
  if (c === 'jwt-claim') return PII_TYPES.filter((t) => t !== 'jwt');
  return PII_TYPES;
}

export interface Cell {
  id: number;
  type: PiiType;
  carrier: Carrier;
  framing: Framing;
  value: Seeded;
}

/** What the redacted output must show for a body. */
export type BodyExpect = 'redacted' | 'neutral' | 'none' | 'any' | `placeholder:${string}`;

export interface PlannedExchange {
  /** `/api/v1/<carrier>/<framing>` or `/api/v1/decoy-*\/<n>`: PII-free and unique, the match key. */
  key: string;
  carrier: Carrier | 'decoy';
  framing: Framing;
  method: string;
  /** Request target as sent. */
  url: string;
  status: number;
  cells: Cell[];
  requestBody: BodyExpect;
  responseBody: BodyExpect;
}

export interface Decoy {
  exchangeKey: string;
  key: string;
  kind: 'timestamp' | 'order-id' | 'uuid' | 'float' | 'version' | 'sha1' | 'sha256';
  /** The exact spelling written (for JSON: the JSON token, quoted when a string). */
  text: string;
  where: 'json' | 'text';
}

function formEncode(s: string): string {
  return new URLSearchParams([['v', s]]).toString().slice(2);
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function cookieSafe(s: string): string {
  return /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/.test(s) ? s : encodeURIComponent(s);
}

function filler(r: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(r.pick(WORDS));
  return out.join(' ');
}

interface BodyOut {
  type: string;
  bytes: Buffer;
}

/**
 * The body of a body carrier holding `vals`; with `padTo`, neutral records are added around the
 * values until the body is at least that many bytes (values at the start, middle and end).
 */
function carrierBody(r: Rng, c: Carrier, vals: Seeded[], padTo = 0): BodyOut {
  const fill = (n: number): string[] => {
    const out: string[] = [];
    let size = 0;
    while (size < n) {
      const f = filler(r, 40);
      out.push(f);
      size += f.length + 40;
    }
    return out;
  };
  const pads = padTo ? fill(padTo) : [];
  // Interleave values among pads: 1/3 at the start, 1/3 in the middle, the rest at the end.
  const seq: Array<{ v: Seeded; i: number } | string> = [];
  const third = Math.ceil(vals.length / 3);
  vals.slice(0, third).forEach((v, i) => seq.push({ v, i }));
  pads.slice(0, pads.length >> 1).forEach((p) => seq.push(p));
  vals.slice(third, 2 * third).forEach((v, i) => seq.push({ v, i: i + third }));
  pads.slice(pads.length >> 1).forEach((p) => seq.push(p));
  vals.slice(2 * third).forEach((v, i) => seq.push({ v, i: i + 2 * third }));
  switch (c) {
    case 'json-key': {
      const parts = seq.map((e, k) => (typeof e === 'string' ? `"pad${k}":{"text":${JSON.stringify(e)}}` : `${JSON.stringify(e.v.carried)}:{"score":${e.i + 1},"label":"entry ${e.i}"}`));
      return { type: 'application/json', bytes: Buffer.from(`{"index":{${parts.join(',')}},"page":1}`) };
    }
    case 'json-value':
      return {
        type: 'application/json',
        bytes: Buffer.from(JSON.stringify({ data: seq.map((e, k) => (typeof e === 'string' ? { label: `pad ${k}`, text: e } : { label: `entry ${e.i}`, ref: e.v.carried, note: `see ${e.v.carried} for details` })), page: 1 })),
      };
    case 'json-number': {
      const parts = seq.map((e, k) => (typeof e === 'string' ? `{"label":"pad ${k}","text":${JSON.stringify(e)}}` : `{"label":"entry ${e.i}","ref":${e.v.carried}}`));
      return { type: 'application/json', bytes: Buffer.from(`{"data":[${parts.join(',')}]}`) };
    }
    case 'form':
      return {
        type: 'application/x-www-form-urlencoded',
        bytes: Buffer.from(seq.map((e, k) => (typeof e === 'string' ? `pad${k}=${formEncode(e)}` : `label${e.i}=entry+${e.i}&ref${e.i}=${e.i % 2 ? formEncode(e.v.carried) : encodeURIComponent(e.v.carried)}`)).join('&')),
      };
    case 'multipart-part':
    case 'multipart-filename': {
      const boundary = `----seeded${r.str(ALNUM, 16)}`;
      const parts = seq.map((e, k) => {
        if (typeof e === 'string') return `Content-Disposition: form-data; name="pad${k}"\r\n\r\n${e}`;
        if (c === 'multipart-part') {
          return `Content-Disposition: form-data; name="ref${e.i}"\r\n${e.i % 2 ? 'Content-Type: text/plain; charset=utf-8\r\n' : ''}\r\n${e.v.carried}`;
        }
        return `Content-Disposition: form-data; name="file${e.i}"; filename="${e.v.carried}.txt"\r\nContent-Type: text/plain\r\n\r\nupload ${e.i}`;
      });
      const body = parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + `--${boundary}--\r\n`;
      return { type: `multipart/form-data; boundary=${boundary}`, bytes: Buffer.from(body) };
    }
    case 'xml': {
      const parts = seq.map((e, k) => {
        if (typeof e === 'string') return `<pad n="${k}">${e}</pad>`;
        return e.i % 2 ? `<record n="${e.i}" ref="${xmlEscape(e.v.carried)}"/>` : `<record n="${e.i}"><ref>${xmlEscape(e.v.carried)}</ref></record>`;
      });
      return { type: 'application/xml', bytes: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<records>${parts.join('\n')}</records>\n`) };
    }
    case 'text':
      return {
        type: 'text/plain; charset=utf-8',
        bytes: Buffer.from(seq.map((e) => (typeof e === 'string' ? e : `Ticket ${e.i}: the customer wrote that ${e.v.prose} should be checked today. Contact: ${e.v.carried}.`)).join('\n') + '\n'),
      };
    default:
      throw new Error(`not a body carrier: ${c}`);
  }
}

function neutralJson(r: Rng, padTo = 0): BodyOut {
  const items: Array<{ label: string; text: string }> = [];
  let size = 0;
  do {
    const t = filler(r, 30);
    items.push({ label: `item ${items.length}`, text: t });
    size += t.length + 30;
  } while (size < padTo || items.length < 3);
  return { type: 'application/json', bytes: Buffer.from(JSON.stringify({ ok: true, items })) };
}

function noTypeExpect(b: BodyOut): BodyExpect {
  return b.type === 'application/json' ? 'redacted' : 'placeholder:unknown_type';
}

/** Wrong Content-Type per body kind (a parser of the stated type would see something else). */
function wrongType(type: string): string {
  if (type.startsWith('application/json')) return 'text/html; charset=utf-8';
  if (type.startsWith('application/xml')) return 'application/json';
  if (type.startsWith('text/plain')) return 'application/xml';
  if (type.startsWith('multipart/')) return 'application/x-www-form-urlencoded';
  return 'text/plain';
}

function chunk(r: Rng, body: Buffer, trailer: boolean): Buffer {
  const out: Buffer[] = [];
  let o = 0;
  while (o < body.length) {
    const n = Math.min(body.length - o, r.int(1, 900));
    const hex = n.toString(16);
    out.push(Buffer.from(`${r.int(0, 1) ? hex.toUpperCase() : hex}${r.int(0, 5) === 0 ? ';ext=1' : ''}\r\n`), body.subarray(o, o + n), Buffer.from('\r\n'));
    o += n;
  }
  out.push(Buffer.from(trailer ? '0\r\nX-Trace-Checksum: 9f2c\r\n\r\n' : '0\r\n\r\n'));
  return Buffer.concat(out);
}

interface Framed {
  headers: Array<[string, string]>;
  bytes: Buffer;
}

type Enc = 'identity' | 'gzip' | 'deflate' | 'deflate-raw' | 'br';

/** Frames one body: Content-Type (maybe absent/wrong), Content-Encoding, length or chunked or none. */
function frame(r: Rng, body: BodyOut, opts: { type: string | null; enc: Enc; chunked: boolean; length: boolean; raw?: Buffer }): Framed {
  const headers: Array<[string, string]> = [];
  if (opts.type !== null) headers.push(['Content-Type', opts.type]);
  let bytes = opts.raw ?? body.bytes;
  if (opts.raw === undefined) {
    switch (opts.enc) {
      case 'gzip': bytes = zlib.gzipSync(bytes); break;
      case 'deflate': bytes = zlib.deflateSync(bytes); break;
      case 'deflate-raw': bytes = zlib.deflateRawSync(bytes); break;
      case 'br': bytes = zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }); break;
      default: break;
    }
  }
  if (opts.enc !== 'identity') headers.push(['Content-Encoding', opts.enc === 'deflate-raw' ? 'deflate' : opts.enc]);
  if (opts.chunked) {
    headers.push(['Transfer-Encoding', 'chunked']);
    bytes = chunk(r, bytes, r.int(0, 1) === 1);
  } else if (opts.length) {
    headers.push(['Content-Length', String(bytes.length)]);
  }
  return { headers, bytes };
}

function message(startLine: string, headers: Array<[string, string]>, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${startLine}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`), body]);
}

const STATUSES = [200, 200, 200, 201, 202, 400, 403, 404, 409, 422, 500];
const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Content', 500: 'Internal Server Error' };

// ----------------------------------------------------------------------------------------- decoys

function genDecoy(r: Rng, kind: Decoy['kind']): string {
  switch (kind) {
    case 'timestamp': return String(r.int(1_000_000_000, 1_999_999_999)) + r.digits(3);
    case 'order-id': {
      const body = `${r.pick(['1', '7', '8', '9'])}${r.digits(r.int(11, 17))}`;
      return body + luhnDigit(body);
    }
    case 'uuid': {
      const h = (n: number): string => r.str('0123456789abcdef', n);
      const u = `${h(8)}-${h(4)}-4${h(3)}-${r.pick(['8', '9', 'a', 'b'])}${h(3)}-${h(12)}`;
      return r.int(0, 4) === 0 ? u.toUpperCase() : u;
    }
    case 'float': return `${r.int(0, 1) ? '-' : ''}${r.int(0, 99999)}.${r.digits(r.int(1, 8))}`;
    case 'version': return r.pick([`${r.int(0, 20)}.${r.int(0, 40)}.${r.int(0, 99)}`, `10.0.${r.int(10000, 22999)}`, `${r.int(1, 9)}.${r.int(0, 9)}.${r.int(0, 9)}-beta.${r.int(1, 9)}`]);
    case 'sha1': return r.str('0123456789abcdef', 40);
    case 'sha256': return r.str('0123456789abcdef', 64);
  }
}

const DECOY_KINDS: Decoy['kind'][] = ['timestamp', 'order-id', 'uuid', 'float', 'version', 'sha1', 'sha256'];

// ------------------------------------------------------------------------------------------- plan

export interface SeededCapture {
  exchanges: PlannedExchange[];
  cells: Cell[];
  decoys: Decoy[];
  packets: number;
  bytes: number;
}

/**
 * Writes the whole seeded capture to `file`: one keep-alive connection per framing (every carrier in
 * it), close-delimited exchanges each on their own connection, and the decoy exchanges.
 */
export function writeSeededCapture(file: string, seed: number, decoysPerExchange = 250, decoyExchanges = 20): SeededCapture {
  const r = new Rng(seed);
  const out = new HttpPcapBuilder(file);
  const cells: Cell[] = [];
  const exchanges: PlannedExchange[] = [];
  // Bomb bodies: 50 MiB of zeros, gzip (multi-member: the carrier body, then twice the zeros) and br.
  const zeros = Buffer.alloc(50 << 20);
  const gzZeros = zlib.gzipSync(zeros, { level: 1 });
  const brZeros = zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 2 } });
  let port = 20000;

  for (const framing of FRAMINGS) {
    const turns: Turn[] = [];
    for (const carrier of CARRIERS) {
      const key = `/api/v1/${carrier}/${framing}`;
      const vals = typesFor(carrier).map((type) => {
        const value = genSeeded(r, type);
        const cell: Cell = { id: cells.length, type, carrier, framing, value };
        cells.push(cell);
        return cell;
      });
      const isBody = BODY_CARRIERS.has(carrier);
      const status = r.pick(STATUSES);
      const reqHeaders: Array<[string, string]> = [['Host', 'api.shop.example'], ['User-Agent', 'seeded-client/1.0'], ['Accept', '*/*']];
      const resHeaders: Array<[string, string]> = [['Server', 'seeded-server'], ['Date', 'Tue, 14 Nov 2023 22:13:20 GMT']];
      let url = key;
      const values = vals.map((c) => c.value);
      switch (carrier) {
        case 'header':
          values.forEach((v, i) => {
            reqHeaders.push([`X-Note-${i}`, `ref ${v.carried}`]);
            resHeaders.push([`X-Note-${i}`, v.carried]);
          });
          break;
        case 'cookie':
          reqHeaders.push(['Cookie', ['theme=dark', ...values.map((v, i) => `pref${i}=${cookieSafe(v.carried)}`)].join('; ')]);
          values.forEach((v, i) => resHeaders.push(['Set-Cookie', `pref${i}=${cookieSafe(v.carried)}; Path=/; HttpOnly`]));
          break;
        case 'query':
          url = `${key}?page=2&${values.map((v, i) => `ref${i}=${i % 2 ? formEncode(v.carried) : encodeURIComponent(v.carried)}`).join('&')}`;
          resHeaders.push(['Content-Location', url]);
          break;
        case 'path-file':
          // A download route: each value is a file name with an extension.
          url = `${key}/${values.map((v) => `${encodeURIComponent(v.carried)}.pdf`).join('/')}`;
          break;
        case 'path':
          url = `${key}/${values.map((v, i) => (i % 2 ? encodeURIComponent(v.carried) : encodeURI(v.carried).replace(/[/?#]/g, encodeURIComponent))).join('/')}/details`;
          resHeaders.push(['Location', `http://api.shop.example${url}`]);
          break;
        case 'jwt-claim':
          values.forEach((v, i) => {
            const tok = genJwt(r, { iss: 'https://auth.shop.example', aud: 'orders', ctx: v.carried, iat: 1_700_000_000 + i });
            reqHeaders.push(i === 0 ? ['Authorization', `Bearer ${tok}`] : [`X-Ctx-${i}`, tok]);
          });
          break;
        case 'basic':
          values.forEach((v, i) => {
            let cred: string;
            if (v.type === 'basic') cred = v.carried;
            else {
              const secretLike = v.type === 'jwt' || v.type === 'bearer' || v.type === 'aws_key';
              const pair = secretLike ? `svc${r.str(LOWER, 6)}:${v.core}` : `${v.core}:${r.str(ALNUM, 12)}`;
              cred = `Basic ${Buffer.from(pair).toString('base64')}`;
            }
            reqHeaders.push(i === 0 ? ['Authorization', cred] : [`X-Upstream-Authorization-${i}`, cred]);
          });
          break;
        default:
          break;
      }

      const large = framing === 'large' ? 1100 * 1024 : 0;
      const reqBodyRaw = isBody ? carrierBody(r, carrier, values) : null;
      const resBodyRaw = isBody ? carrierBody(r, carrier, values, large) : neutralJson(r, large);
      const method = isBody ? r.pick(['POST', 'PUT', 'PATCH']) : r.pick(['GET', 'GET', 'DELETE']);
      const reqType = (b: BodyOut): string | null => (framing === 'no-content-type' ? null : framing === 'wrong-content-type' ? wrongType(b.type)
        : framing === 'octet-stream' ? 'application/octet-stream' : framing === 'unknown-type' ? 'application/x-acme-record' : b.type);
      let reqExpect: BodyExpect = 'none';
      if (reqBodyRaw) {
        const f = frame(r, reqBodyRaw, {
          type: reqType(reqBodyRaw),
          enc: framing === 'request-gzip' || framing === 'chunked-gzip' ? 'gzip' : 'identity',
          chunked: framing === 'chunked' || framing === 'chunked-gzip',
          length: true,
        });
        reqHeaders.push(...f.headers);
        turns.push({ from: 'client', bytes: message(`${method} ${url} HTTP/1.1`, reqHeaders, f.bytes) });
        reqExpect = framing === 'octet-stream' || framing === 'unknown-type' ? 'placeholder:binary'
          : framing === 'no-content-type' ? noTypeExpect(reqBodyRaw) : framing === 'wrong-content-type' ? 'any' : 'redacted';
      } else {
        turns.push({ from: 'client', bytes: message(`${method} ${url} HTTP/1.1`, reqHeaders, Buffer.alloc(0)) });
      }

      let raw: Buffer | undefined;
      let enc: Enc = 'identity';
      if (framing === 'bomb') {
        if (carrier === 'text' || carrier === 'json-value') {
          enc = 'gzip';
          raw = Buffer.concat([zlib.gzipSync(resBodyRaw.bytes), gzZeros, gzZeros]);
        } else if (isBody) {
          enc = 'br';
          raw = zlib.brotliCompressSync(Buffer.concat([resBodyRaw.bytes, zeros.subarray(0, 8 << 20)]), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 2 } });
        } else {
          enc = 'br';
          raw = brZeros;
        }
      } else if (framing === 'gzip' || framing === 'deflate' || framing === 'deflate-raw' || framing === 'br') {
        enc = framing;
      } else if (framing === 'chunked-gzip') {
        enc = 'gzip';
      }
      const closeDelimited = framing === 'close-delimited';
      const f = frame(r, resBodyRaw, {
        type: reqType(resBodyRaw),
        enc,
        chunked: framing === 'chunked' || framing === 'chunked-gzip',
        length: !closeDelimited,
        ...(raw ? { raw } : {}),
      });
      resHeaders.push(...f.headers);
      if (closeDelimited) resHeaders.push(['Connection', 'close']);
      const res = message(`HTTP/1.1 ${status} ${REASONS[status]}`, resHeaders, f.bytes);
      let resExpect: BodyExpect = isBody ? 'redacted' : 'neutral';
      // An unrecognised media type is treated as binary; no Content-Type at all is JSON if it parses, else unknown_type.
      if (framing === 'octet-stream' || framing === 'unknown-type') resExpect = 'placeholder:binary';
      else if (framing === 'bomb') resExpect = 'placeholder:decode_error';
      else if (framing === 'no-content-type') resExpect = isBody ? noTypeExpect(resBodyRaw) : 'neutral';
      else if (framing === 'wrong-content-type') resExpect = 'any';
      exchanges.push({ key, carrier, framing, method, url, status, cells: vals, requestBody: reqExpect, responseBody: resExpect });
      if (closeDelimited) {
        out.addConnection({ clientPort: port++, turns: [turns.pop()!, { from: 'server', bytes: res }], closeBy: 'server' });
      } else {
        turns.push({ from: 'server', bytes: res });
      }
    }
    if (turns.length) out.addConnection({ clientPort: port++, turns });
  }

  // Decoys: JSON members and text lines under neutral keys, in plain, gzip, chunked and br bodies.
  const decoys: Decoy[] = [];
  const turns: Turn[] = [];
  for (let n = 0; n < decoyExchanges; n++) {
    const asJson = n % 2 === 0;
    const key = `/api/v1/decoy-${asJson ? 'json' : 'text'}/${n}`;
    const parts: string[] = [];
    for (let i = 0; i < decoysPerExchange; i++) {
      const kind = DECOY_KINDS[i % DECOY_KINDS.length];
      const v = genDecoy(r, kind);
      const name = `m${i}`;
      let text = v;
      if (asJson) {
        const numeric = (kind === 'timestamp' || kind === 'order-id' || kind === 'float') && r.int(0, 1) === 1;
        text = numeric ? v : JSON.stringify(v);
        parts.push(`"${name}":${text}`);
      } else {
        parts.push(`${name}: ${v}`);
      }
      decoys.push({ exchangeKey: key, key: name, kind, text, where: asJson ? 'json' : 'text' });
    }
    const body: BodyOut = asJson
      ? { type: 'application/json', bytes: Buffer.from(`{"metrics":{${parts.join(',')}}}`) }
      : { type: 'text/plain; charset=utf-8', bytes: Buffer.from(parts.join('\n') + '\n') };
    const fr = (['identity', 'gzip', 'chunked', 'br'] as const)[n % 4];
    const f = frame(r, body, { type: body.type, enc: fr === 'gzip' || fr === 'br' ? fr : 'identity', chunked: fr === 'chunked', length: true });
    turns.push({ from: 'client', bytes: message(`GET ${key} HTTP/1.1`, [['Host', 'api.shop.example'], ['Accept', '*/*']], Buffer.alloc(0)) });
    turns.push({ from: 'server', bytes: message('HTTP/1.1 200 OK', f.headers, f.bytes) });
    exchanges.push({ key, carrier: 'decoy', framing: fr, method: 'GET', url: key, status: 200, cells: [], requestBody: 'none', responseBody: 'neutral' });
  }
  out.addConnection({ clientPort: port++, turns });
  const done = out.close();
  return { exchanges, cells, decoys, packets: done.packets, bytes: done.bytes };
}

// -------------------------------------------------------------------------------------- needles

export interface Needle {
  /** Lower-cased search text. */
  text: string;
  cell: Cell;
  secret: string;
  encoding: string;
}

/** Every encoding of a secret that counts as "recoverable". */
export function encodingsOf(s: Secret): Array<[string, string]> {
  const t = s.text;
  const out: Array<[string, string]> = [
    ['raw', t],
    ['percent', encodeURIComponent(t)],
    ['form', formEncode(t)],
    ['json', JSON.stringify(t).slice(1, -1)],
    ['json-slash', JSON.stringify(t).slice(1, -1).replace(/\//g, '\\/')],
    ['xml', xmlEscape(t)],
    ['base64', Buffer.from(t).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(t).toString('base64url')],
  ];
  if (s.digits) {
    const d = t.replace(/\D/g, '');
    out.push(['digits', d], ['digits-4', group4(d)]);
    if (/[A-Z]/.test(t)) out.push(['grouped-4', group4(t)]);
  }
  return out;
}

const K = 8;
const B = 0x01000193;
const B_K1 = (() => {
  let p = 1;
  for (let i = 0; i < K - 1; i++) p = Math.imul(p, B);
  return p;
})();

const FILTER_MASK = (1 << 22) - 1;

function hashAt(s: string, from: number): number {
  let h = 0;
  for (let i = from; i < from + K; i++) h = (Math.imul(h, B) + s.charCodeAt(i)) | 0;
  return h;
}

export interface Hit {
  needle: Needle;
  where: string;
  context: string;
}

/** Rabin–Karp over 8-character windows (a needle's last 8): all needles found in one pass over a haystack. */
export class NeedleIndex {
  private readonly byHash = new Map<number, Needle[]>();
  /** One bit per (hash & FILTER_MASK): most windows are rejected without a Map lookup. */
  private readonly filter = new Uint8Array((FILTER_MASK + 1) >>> 3);
  readonly needles: Needle[] = [];

  addCell(cell: Cell): void {
    const seen = new Set<string>();
    for (const s of cell.value.secrets) {
      for (const [encoding, text] of encodingsOf(s)) {
        const lower = text.toLowerCase();
        if (seen.has(lower)) continue;
        seen.add(lower);
        if (lower.length < K) throw new Error(`needle shorter than ${K}: ${text}`);
        const n: Needle = { text: lower, cell, secret: s.what, encoding };
        this.needles.push(n);
        // Keyed on the last K characters: needles share prefixes (every JWT starts with the same header).
        const h = hashAt(lower, lower.length - K);
        this.filter[(h & FILTER_MASK) >>> 3] |= 1 << (h & 7);
        const l = this.byHash.get(h);
        if (l) l.push(n);
        else this.byHash.set(h, [n]);
      }
    }
  }

  scan(haystack: string, where: string, hits: Hit[]): void {
    if (haystack.length < K) return;
    // Bytes (latin1; the needles are ASCII), lower-cased in place: indexing a Uint8Array is the fast path.
    const s = Buffer.from(haystack.toLowerCase(), 'latin1');
    let h = 0;
    for (let i = 0; i < K; i++) h = (Math.imul(h, B) + s[i]) | 0;
    const filter = this.filter;
    for (let i = 0; ; i++) {
      if ((filter[(h & FILTER_MASK) >>> 3] & (1 << (h & 7))) !== 0) {
        const l = this.byHash.get(h);
        if (l) {
          for (const n of l) {
            const at = i + K - n.text.length;
            if (at >= 0 && s.toString('latin1', at, at + n.text.length) === n.text) {
              hits.push({ needle: n, where, context: haystack.slice(Math.max(0, at - 40), at + n.text.length + 40) });
            }
          }
        }
      }
      if (i + K >= s.length) break;
      h = (Math.imul(h - Math.imul(s[i], B_K1), B) + s[i + K]) | 0;
    }
  }
}

// ----------------------------------------------------------------------------- derived haystacks

const BASIC_RE = /basic(?:\s|\+|%20)+([A-Za-z0-9+/]{6,}={0,2})/gi;
const B64URL_RUN = /[A-Za-z0-9_-]*/y;
const PCT_MARK = /%[0-9a-fA-F]{2}/g;
const JSON_ESC_MARK = /\\u[0-9a-fA-F]{4}|\\\//g;

/** The runs (at most 400 characters each side, up to a stop character) around every match of `mark`. */
function runsAround(text: string, mark: RegExp, stop: string): string[] {
  const out: string[] = [];
  let covered = -1;
  for (const m of text.matchAll(mark)) {
    const at = m.index ?? 0;
    if (at < covered) continue;
    let from = at;
    while (from > 0 && at - from < 400 && !stop.includes(text[from - 1])) from--;
    let to = at + m[0].length;
    while (to < text.length && to - at < 400 && !stop.includes(text[to])) to++;
    out.push(text.slice(from, to));
    covered = to;
  }
  return out;
}

/**
 * JWT-like tokens (`eyJ…` then one or two `.segment`s). Hand-scanned: a regex would backtrack over
 * every `eyJ` inside a long base64 run (each JSON body's base64 starts with one), quadratic on MiBs.
 * A run that is not followed by '.' is skipped whole.
 */
function jwtLike(text: string): string[] {
  const out: string[] = [];
  let i = text.indexOf('eyJ');
  while (i >= 0) {
    B64URL_RUN.lastIndex = i;
    B64URL_RUN.exec(text);
    let end = B64URL_RUN.lastIndex;
    let segs = 1;
    while (segs < 3 && text.charCodeAt(end) === 0x2e) {
      B64URL_RUN.lastIndex = end + 1;
      B64URL_RUN.exec(text);
      end = B64URL_RUN.lastIndex;
      segs++;
    }
    if (segs > 1 && end - i >= 8) out.push(text.slice(i, end));
    i = text.indexOf('eyJ', Math.max(end, i + 3));
  }
  return out;
}

/**
 * What else an attacker would read out of `text`: Basic credentials and JWT segments decoded, %XX
 * and \uXXXX escapes undone (then the same again, once).
 */
export function derived(text: string, depth = 2): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(BASIC_RE)) out.push(Buffer.from(m[1], 'base64').toString('latin1'));
  for (const t of jwtLike(text)) {
    for (const seg of t.split('.')) if (seg.length >= 4) out.push(Buffer.from(seg, 'base64url').toString('latin1'));
  }
  // Only the runs that hold escapes are decoded (whole MiB outputs are mostly base64 without any).
  for (const t of runsAround(text, PCT_MARK, ' \t\r\n"\'<>,;')) out.push(t.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
  for (const t of runsAround(text, JSON_ESC_MARK, '"')) {
    out.push(t.replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\\//g, '/'));
  }
  if (depth > 1) {
    const more: string[] = [];
    for (const d of out) more.push(...derived(d, depth - 1));
    out.push(...more);
  }
  return out;
}

/**
 * A body still Content-Encoded (decodeError): decoded by the test as far as it goes (at most 64 MiB,
 * trailing zeros dropped), '' when nothing comes out.
 */
export function decodeLeftover(body: Buffer, encodings: readonly string[]): string {
  let cur = body;
  for (let i = encodings.length - 1; i >= 0; i--) {
    const e = encodings[i].toLowerCase();
    const opts = { maxOutputLength: 64 << 20 };
    try {
      if (e === 'gzip' || e === 'x-gzip') cur = zlib.gunzipSync(cur.subarray(0, Math.min(cur.length, 40_000)), { ...opts, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      else if (e === 'br') cur = zlib.brotliDecompressSync(cur, opts);
      else if (e === 'deflate') cur = zlib.inflateSync(cur, opts);
    } catch {
      return '';
    }
  }
  let end = cur.length;
  while (end > 0 && cur[end - 1] === 0) end--;
  return cur.subarray(0, end).toString('latin1');
}
