/**
 * Seeded property tests: generated PII values × carriers → no seeded value recoverable from the record
 * (raw, lower-cased, percent-, JSON- or base64-encoded, digits-only); decoys altered at most 0.1%;
 * arbitrary bytes under any content type never make redact() throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { luhnCheckDigit, ibanCheckDigits } from '../../../src/redact/validators';
import { parseRedactRules } from '../../../src/redact';
import { dump, exchange, hdrs, leakForms, redactor } from './helpers';

const SEED = 20240611;
const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));
const lower = (min: number, max: number) => fc.array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), { minLength: min, maxLength: max }).map((a) => a.join(''));

const email = fc.tuple(lower(3, 10), fc.constantFrom('.', '_', ''), lower(2, 8), lower(3, 9), fc.constantFrom('com', 'org', 'de', 'io'))
  .map(([a, s, b, d, t]) => `${a}${s}${b}@${d}.${t}`);
const phone = fc.oneof(
  digits(10).filter((d) => d[0] !== '0' && d[0] !== '1').map((d) => `+1${d}`),
  digits(9).filter((d) => d[0] === '7').map((d) => `+44 ${d.slice(0, 4)} ${d.slice(4)}`),
  digits(9).filter((d) => d[0] !== '0').map((d) => `+33${d}`),
);
function card(prefix: string, len: number) {
  return digits(len - prefix.length - 1).map((d) => prefix + d + luhnCheckDigit(prefix + d));
}
const cardNum = fc.oneof(card('4', 16), card('51', 16), card('2221', 16), card('37', 15), card('6011', 16), card('35', 16).filter((c) => Number(c.slice(0, 4)) >= 3528 && Number(c.slice(0, 4)) <= 3589));
const cardFmt = cardNum.chain((c) => fc.constantFrom(c, c.length === 16 ? c.replace(/(\d{4})(?=\d)/g, '$1 ') : c));
const iban = fc.oneof(
  digits(18).map((b) => `DE${ibanCheckDigits('DE', b)}${b}`),
  fc.tuple(fc.constantFrom('WEST', 'NWBK', 'BARC'), digits(14)).map(([bk, d]) => `GB${ibanCheckDigits('GB', bk + d)}${bk}${d}`),
  digits(23).map((b) => `FR${ibanCheckDigits('FR', b)}${b}`),
);
const ssn = fc.tuple(fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
  .map(([a, g, s]) => `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`);
const ipv4 = fc.tuple(fc.integer({ min: 11, max: 223 }).filter((a) => a !== 127 && a !== 198), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .map((o) => o.join('.'));
const aws = fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), { minLength: 16, maxLength: 16 }).map((a) => 'AKIA' + a.join(''));

const seedValue = fc.oneof(email, phone, cardFmt, iban, ssn, ipv4, aws);

type Carrier = (v: string) => ReturnType<typeof exchange>;
const J: [string, string] = ['Content-Type', 'application/json'];
const CARRIERS: Record<string, Carrier> = {
  json_value: (v) => exchange({ headers: hdrs(J), body: JSON.stringify({ data: { comment: `see ${v} thanks` } }) }),
  json_nested_string: (v) => exchange({ headers: hdrs(J), body: JSON.stringify({ payload: JSON.stringify({ note: v }) }) }),
  json_unicode_escaped: (v) => exchange({ headers: hdrs(J), body: `{"x":"${[...v].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}` }),
  json_key: (v) => exchange({ headers: hdrs(J), body: JSON.stringify({ [v]: 1 }) }),
  form: (v) => exchange({ headers: hdrs(['Content-Type', 'application/x-www-form-urlencoded']), body: `a=1&note=${encodeURIComponent(v)}&b=2` }),
  query: (v) => exchange({ method: 'GET', url: `/search?q=${encodeURIComponent(v)}&page=1` }),
  path: (v) => exchange({ method: 'GET', url: `/users/${encodeURIComponent(v)}/orders` }),
  header: (v) => exchange({ headers: hdrs(['X-Note', `value ${v}`]) }),
  referer: (v) => exchange({ headers: hdrs(['Referer', `https://a.example/p?x=${encodeURIComponent(v)}`]) }),
  text: (v) => exchange({ headers: hdrs(['Content-Type', 'text/plain']), body: `line one\nthe value is ${v}.\n` }),
  xml: (v) => exchange({ headers: hdrs(['Content-Type', 'application/xml']), body: `<a><b>${v}</b><c d="${v}"/></a>` }),
  multipart: (v) => exchange({ headers: hdrs(['Content-Type', 'multipart/form-data; boundary=BB']), body: `--BB\r\nContent-Disposition: form-data; name="c"\r\n\r\n${v}\r\n--BB--\r\n` }),
  response_json: (v) => exchange({ method: 'GET', url: '/' }, { headers: hdrs(J), body: JSON.stringify([{ id: 1, info: v }]) }),
  basic_user: (v) => exchange({ headers: hdrs(['Authorization', 'Basic ' + Buffer.from(`${v}:pw`).toString('base64')]) }),
};

test('no seeded value is recoverable from the redacted record, in any carrier', () => {
  const r = redactor();
  const names = Object.keys(CARRIERS);
  fc.assert(fc.property(seedValue, fc.constantFrom(...names), (v, carrier) => {
    const ex = CARRIERS[carrier](v);
    r.redact(ex);
    const out = dump(ex);
    for (const f of leakForms(v)) {
      if (out.includes(f)) throw new Error(`${carrier}: ${JSON.stringify(f)} of ${JSON.stringify(v)} leaked in ${out}`);
    }
  }), { seed: SEED, numRuns: 600 });
});

test('the leak check itself fails when redaction is off (guards against a vacuous property)', () => {
  const off = redactor(parseRedactRules('defaults: false\n'));
  const res = fc.check(fc.property(seedValue, (v) => {
    const ex = CARRIERS.json_value(v);
    off.redact(ex);
    const out = dump(ex);
    return leakForms(v).every((f) => !out.includes(f));
  }), { seed: SEED, numRuns: 20 });
  assert.equal(res.failed, true);
});

test('JWT claims are not recoverable (base64url JSON)', () => {
  const r = redactor();
  fc.assert(fc.property(email, fc.constantFrom('header', 'json'), (mail, where) => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${enc({ alg: 'HS256' })}.${enc({ sub: 'x', contact: mail })}.abcdefghijklmnopqrstuvwxyz012345678901234567`;
    const ex = where === 'header' ? exchange({ headers: hdrs(['Authorization', `Bearer ${jwt}`]) })
      : exchange({ headers: hdrs(J), body: JSON.stringify({ t: jwt }) });
    r.redact(ex);
    const out = dump(ex);
    const claims = out.match(/eyJ[\w-]+\.(eyJ[\w-]+)\./)?.[1];
    assert.ok(claims !== undefined);
    assert.ok(!Buffer.from(claims, 'base64url').toString().includes(mail));
    assert.ok(!out.includes(jwt));
  }), { seed: SEED, numRuns: 50 });
});

test('determinism across requests and responses: one value → one surrogate', () => {
  const r = redactor();
  fc.assert(fc.property(email, (mail) => {
    const a = exchange({ headers: hdrs(['Content-Type', 'text/plain']), body: mail }, { headers: hdrs(J), body: JSON.stringify({ e: mail }) });
    r.redact(a);
    const s1 = a.request!.body.toString();
    assert.equal(JSON.parse(a.response!.body.toString()).e, s1);
  }), { seed: SEED, numRuns: 50 });
});

test('decoys are altered at most 0.1%', () => {
  const r = redactor();
  const rnd = fc.sample(fc.oneof(
    fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }).map(String), // ms timestamps
    fc.tuple(fc.constantFrom('7', '8', '9', '1', '0'), digits(14)).map(([p, d]) => p + d + luhnCheckDigit(p + d)), // Luhn ids, no IIN
    fc.uuid(),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String),
    fc.tuple(fc.nat(30), fc.nat(30), fc.nat(300)).map(([a, b, c]) => `${a}.${b}.${c}`),
    fc.tuple(fc.constantFrom('v', ''), fc.nat(9), fc.nat(40), fc.nat(9)).map(([v, a, b, c]) => `${v}${a}.${b}.${c}-rc.1`),
    fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 40, maxLength: 64 }).map((a) => a.join('')),
  ), { seed: SEED, numRuns: 20000 });
  const body = JSON.stringify({ values: rnd, texts: rnd.map((d) => `item ${d} ok`) });
  const ex = exchange({ headers: hdrs(J), body });
  r.redact(ex);
  const out = JSON.parse(ex.request!.body.toString()) as { values: string[]; texts: string[] };
  let altered = 0;
  for (let i = 0; i < rnd.length; i++) {
    if (out.values[i] !== rnd[i]) altered++;
    if (out.texts[i] !== `item ${rnd[i]} ok`) altered++;
  }
  assert.ok(altered <= rnd.length * 2 * 0.001, `${altered} of ${rnd.length * 2} decoys altered`);
  // numbers: 13-digit timestamps and Luhn-valid ids as JSON numbers
  const nums = fc.sample(fc.tuple(fc.constantFrom('7', '8', '9', '1'), digits(14)).map(([p, d]) => p + d + luhnCheckDigit(p + d)), { seed: SEED, numRuns: 2000 });
  const ex2 = exchange({ headers: hdrs(J), body: `[${nums.join(',')},1700000000000,1.5e10]` });
  r.redact(ex2);
  assert.equal(ex2.request!.body.toString(), `[${nums.join(',')},1700000000000,1.5e10]`);
});

test('never throws on arbitrary bytes under any content type, encoding flags or headers', () => {
  const r = redactor();
  const ct = fc.constantFrom('application/json', 'text/plain', 'application/xml', 'text/html', 'multipart/form-data; boundary=b',
    'application/x-www-form-urlencoded', 'application/x-ndjson', 'image/png', '', 'text/plain; charset=utf-16be', 'text/plain; charset=latin1');
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }).map((s) => new Uint8Array(Buffer.from(s))),
    fc.json().map((s) => new Uint8Array(Buffer.from(s))));
  fc.assert(fc.property(ct, bytes, fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), fc.boolean(), (t, b, hv, url, dec) => {
    const ex = exchange({ headers: hdrs(['Content-Type', t], ['Cookie', hv], ['Authorization', hv], ['Referer', hv]), body: Buffer.from(b), url, contentEncodings: dec ? ['gzip'] : [] },
      { headers: hdrs(['Content-Type', t], ['Set-Cookie', hv]), body: Buffer.from(b) });
    if (dec) ex.completeness.decodeError = 'x';
    r.redact(ex);
    assert.ok(Buffer.isBuffer(ex.request!.body));
  }), { seed: SEED, numRuns: 400 });
});
