/**
 * Table-driven tests per built-in detector: each row is a text carrying a value (or a decoy), run through
 * a text/plain body; positives must be replaced by a format-valid surrogate, negatives left byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIpv4, isIban, isSsn, luhnValid, cardBrand } from '../../../src/redact/validators';
import { defaultRedactConfig, parseRedactRules } from '../../../src/redact';
import { exchange, hdrs, KEY, OTHER_KEY, redactor, rules } from './helpers';

function redactPlain(text: string, key = KEY, cfg = defaultRedactConfig()): { out: string; hits: Record<string, number> } {
  const ex = exchange({ headers: hdrs(['Content-Type', 'text/plain; charset=utf-8']), body: text });
  redactor(cfg, key).redact(ex);
  return { out: ex.request!.body.toString('utf8'), hits: rules(ex) };
}

interface Row { rule: string; text: string; value: string; check: (surrogate: string) => boolean }

const POSITIVE: Row[] = [
  { rule: 'email', text: 'contact: Alice.Smith+tag@mail.example.com.', value: 'Alice.Smith+tag@mail.example.com', check: (s) => /^user_[a-z2-7]{12}@example\.invalid$/.test(s) },
  { rule: 'phone', text: 'call +14155552671 today', value: '+14155552671', check: (s) => /^\+999\d{8}$/.test(s) },
  { rule: 'phone', text: 'tel +44 20 7946 0958', value: '+44 20 7946 0958', check: (s) => /^\+99 9\d \d{4} \d{4}$/.test(s) },
  { rule: 'card', text: 'visa 4111111111111111 ok', value: '4111111111111111', check: (s) => s.length === 16 && s.startsWith('400000') && luhnValid(s) },
  { rule: 'card', text: 'mc 5555-5555-5555-4444', value: '5555-5555-5555-4444', check: (s) => /^\d{4}-\d{4}-\d{4}-\d{4}$/.test(s) && luhnValid(s.replace(/-/g, '')) },
  { rule: 'card', text: 'mc2 2223003122003222 x', value: '2223003122003222', check: (s) => luhnValid(s) && cardBrand(s) === 'mastercard' },
  { rule: 'card', text: 'amex 3782 822463 10005', value: '3782 822463 10005', check: (s) => /^\d{4} \d{6} \d{5}$/.test(s) && luhnValid(s.replace(/ /g, '')) },
  { rule: 'card', text: 'visa19 4000000000000000006.', value: '4000000000000000006', check: (s) => s.length === 19 && luhnValid(s) },
  { rule: 'card', text: 'year 2024 4111 1111 1111 1111 end', value: '4111 1111 1111 1111', check: (s) => luhnValid(s.replace(/ /g, '')) },
  { rule: 'iban', text: 'IBAN DE89 3704 0044 0532 0130 00 thanks', value: 'DE89 3704 0044 0532 0130 00', check: (s) => s.startsWith('DE') && isIban(s.replace(/ /g, '')) },
  { rule: 'iban', text: 'pay GB82WEST12345698765432', value: 'GB82WEST12345698765432', check: (s) => s.startsWith('GB') && isIban(s) && /^GB\d\d[A-Z]{4}\d{14}$/.test(s) },
  { rule: 'ssn', text: 'ssn 078-05-1120 on file', value: '078-05-1120', check: (s) => /^666-\d\d-\d{4}$/.test(s) },
  { rule: 'ipv4', text: 'from 203.0.113.195:443', value: '203.0.113.195', check: (s) => /^198\.1[89]\.\d+\.\d+$/.test(s) && isIpv4(s) },
  { rule: 'ipv6', text: 'client 2a00:1450:4001:82b::200e connected', value: '2a00:1450:4001:82b::200e', check: (s) => s.startsWith('2001:db8:') },
  { rule: 'aws_access_key', text: 'key=AKIAIOSFODNN7EXAMPLE;', value: 'AKIAIOSFODNN7EXAMPLE', check: (s) => /^AKIA[A-Z2-7]{16}$/.test(s) },
  { rule: 'bearer', text: 'Authorization: Bearer abc123DEF456ghi789', value: 'abc123DEF456ghi789', check: (s) => /^[A-Za-z0-9]{18}$/.test(s) },
];

for (const row of POSITIVE) {
  test(`detector ${row.rule}: ${row.text}`, () => {
    const { out, hits } = redactPlain(row.text);
    assert.ok(!out.includes(row.value), `value survived: ${out}`);
    assert.equal(hits[row.rule] ?? hits[`key:${row.rule}`] ?? 0, 1, JSON.stringify(hits));
    const i = row.text.indexOf(row.value);
    const prefix = row.text.slice(0, i);
    const suffix = row.text.slice(i + row.value.length);
    assert.ok(out.startsWith(prefix) && out.endsWith(suffix), `context changed: ${out}`);
    const sur = out.slice(prefix.length, out.length - suffix.length);
    assert.ok(row.check(sur), `bad surrogate ${sur}`);
  });
}

const NEGATIVE: string[] = [
  'ts 1700000000000 and 1699999999999',
  'order 9000000000000001 luhn-valid without card prefix', // 9… is no issuer
  'id 550e8400-e29b-41d4-a716-446655440000',
  'pi 3.141592653589793 e 2.718281828459045',
  'version 1.2.3 and v10.4.22.1 and 2.0.0-beta.3',
  'sha d41d8cd98f00b204e9800998ecf8427e 4111111111111111abc',
  'time 12:30:45 and mac 00:1a:2b:3c:4d:5e',
  'not-ssn 000-12-3456 666-12-3456 900-12-3456',
  'invalid iban DE00 3704 0044 0532 0130 00',
  'bad luhn 4111111111111112',
  'loopback 127.0.0.1 and ::1',
  'Bearer short',
];

for (const text of NEGATIVE) {
  test(`decoy untouched: ${text}`, () => {
    const { out, hits } = redactPlain(text);
    assert.equal(out, text, JSON.stringify(hits));
  });
}

test('validators', () => {
  assert.ok(luhnValid('79927398713'));
  assert.ok(!luhnValid('79927398710'));
  assert.equal(cardBrand('378282246310005'), 'amex');
  assert.equal(cardBrand('1700000000000'), undefined);
  assert.ok(isIban('GB82WEST12345698765432'));
  assert.ok(!isIban('GB82WEST12345698765433'));
  assert.ok(isSsn('078051120'));
  assert.ok(!isSsn('666051120'));
  assert.ok(isIpv4('0.0.0.0') && !isIpv4('256.1.1.1') && !isIpv4('01.1.1.1'));
});

test('determinism: same value → same surrogate across calls and formats; different key → different', () => {
  const a = redactPlain('mail Bob@Example.com').out;
  const b = redactPlain('mail bob@example.com').out;
  assert.equal(a, b);
  const c1 = redactPlain('card 4111111111111111').out.slice(5);
  const c2 = redactPlain('card 4111 1111 1111 1111').out.slice(5).replace(/ /g, '');
  assert.equal(c1, c2);
  const other = redactPlain('mail bob@example.com', OTHER_KEY).out;
  assert.notEqual(a, other);
  // a fresh redactor (restart) with the same key gives the same surrogate
  assert.equal(redactPlain('ip 203.0.113.7').out, redactPlain('ip 203.0.113.7').out);
});

test('idempotent on surrogates of e-mail, IP and phone', () => {
  const once = redactPlain('x a@b.co 203.0.113.9 +14155550100').out;
  assert.equal(redactPlain(once).out, once);
});

test('modes per detector: mask, fixed, drop', () => {
  const cfg = parseRedactRules(`
detectors:
  email: { mode: fixed, replacement: "<EMAIL>" }
  card: { mode: mask }
  ipv4: { mode: drop }
mask: { char: "#", keepLast: 4 }
`);
  const { out } = redactPlain('a@b.co 4111 1111 1111 1111 [203.0.113.9]', KEY, cfg);
  assert.equal(out, '<EMAIL> #### #### #### 1111 []');
});

test('fullwidth digits and JSON/percent escapes are normalised before matching', () => {
  const fw = redactPlain('card ４１１１１１１１１１１１１１１１').out;
  assert.ok(!fw.includes('４１１１') && !fw.includes('4111111111111111'), fw);
  const pct = redactPlain('see https://x.io/u?e=carol%40corp.com&x=1').out;
  assert.ok(!pct.toLowerCase().includes('carol'), pct);
});
