/**
 * The pre-scan (prescan.ts) only skips work: its flags must be necessary conditions of every detector and
 * dispatch they gate. Checked differentially on strings built from trigger-rich tokens (digits and
 * separators, '@', '.', ':', '%', '+', upper-case runs, 'eyJ', 'AKIA', 'Bearer ', full-width forms …):
 *  - scanBuiltins with the pre-scan flags finds exactly the hits of scanBuiltins with every scanner on;
 *  - redactText / redactUrl / a whole JSON exchange give byte-identical output and identical counts with
 *    the default rules and with the same rules plus a never-matching user pattern (which turns every
 *    pre-scan shortcut off, since the pre-scan cannot see user patterns).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { defaultRedactConfig, parseRedactRules } from '../../../src/redact';
import { Ctx } from '../../../src/redact/ctx';
import {
  F_AT, F_AUTH, F_AWS, F_IBAN, F_IPV4, F_IPV6, F_JSON, F_JWT, F_KV, F_NUM, F_PCT, F_QMARK, F_WIDE, prescan,
} from '../../../src/redact/prescan';
import { Hit, scanBuiltins } from '../../../src/redact/scan';
import { redactText } from '../../../src/redact/text';
import { redactUrl } from '../../../src/redact/url';
import { exchange, KEY, redactor } from './helpers';

const SEED = 20261124;

const TOKENS = [
  '1', '4', '7', '0', '12', '4111', '1111', '555', '2671', ' ', '-', '.', '+', '+1', '@', ':', '::', '=', '&', '%', '%40',
  '%4', '?', '#', '/', '_', 'a', 'x', 'ex', 'com', 'A', 'DE', 'GB', '89', 'AKIA', 'ASIA', 'QQ', 'eyJ', 'eyJhbGciOiJIUzI1NiJ9',
  'Bearer ', 'basic ', 'BASIC\t', 'bearer', '{', '[', '"', '\uff11', '\uff20', '\u3000', 'é', 'user', 'mail', 'email=',
  'phone:', 'password=', 'https://', 'http://', '192.168', '10.0.0.1', 'fe80', 'Z', 'T', '\t',
];
const text = fc.array(fc.constantFrom(...TOKENS), { minLength: 0, maxLength: 24 }).map((a) => a.join(''));

const plain = new Ctx(defaultRedactConfig(), KEY);
const NEVER = 'patterns:\n  - name: never\n    pattern: "QZXQ_never_[0-9]{40}"\n';
const full = new Ctx(parseRedactRules(NEVER), KEY);

function hitsOf(s: string, numeric: boolean, flags: number): string {
  const out: Hit[] = [];
  scanBuiltins(s, { numeric, enabled: plain.enabled }, out, flags);
  return JSON.stringify(out);
}

test('prescan: flags for typical values', () => {
  for (const s of ['alpha bravo charlie', '10000000-e29b-41d4-a716-446655440000', 'ord_651766737', '2.3.1', 'pending',
    '/products/3740', 'charlie delta note 12345', '1034 Oak Ave, Boston', '']) {
    assert.equal(prescan(s), 0, s);
  }
  const want: Array<[string, number]> = [
    ['mail me: a@b.io', F_AT | F_KV], ['call +1 415 555 2671', F_NUM], ['card 4111 1111 1111 1111', F_NUM],
    ['ts 2024-01-15T10', 0], ['DE89 3704 0044 0532 0130 00', F_IBAN | F_NUM], ['key AKIAIOSFODNN7EXAMPLE', F_AWS],
    ['Bearer x', F_AUTH], ['eyJhbGciOi', F_JWT], ['  {"a":1}', F_JSON | F_KV], ['10.1.2.3', F_IPV4],
    ['fe80::1', F_KV | F_IPV6], ['a%40b', F_PCT], ['/x?y', F_QMARK], ['\uff11\uff12', F_WIDE],
  ];
  for (const [s, f] of want) assert.equal(prescan(s), f, s);
});

test('prescan: a range of a string gives the flags of that slice, whatever surrounds it', () => {
  fc.assert(fc.property(text, text, text, (before, mid, after) => {
    const s = before + mid + after;
    assert.equal(prescan(s, before.length, before.length + mid.length), prescan(mid), JSON.stringify([before, mid, after]));
  }), { seed: SEED, numRuns: 3000 });
});

test('prescan: scanBuiltins with the pre-scan flags = with every scanner on', () => {
  fc.assert(fc.property(text, fc.boolean(), (s, numeric) => {
    assert.equal(hitsOf(s, numeric, prescan(s)), hitsOf(s, numeric, -1), JSON.stringify(s));
  }), { seed: SEED, numRuns: 3000 });
});

test('prescan: redactText / redactUrl identical with and without the shortcuts', () => {
  fc.assert(fc.property(text, fc.boolean(), (s, numeric) => {
    plain.counts = new Map();
    full.counts = new Map();
    assert.equal(redactText(plain, s, numeric), redactText(full, s, numeric), JSON.stringify(s));
    assert.equal(redactUrl(plain, s, numeric), redactUrl(full, s, numeric), JSON.stringify(s));
    assert.deepEqual([...plain.counts].sort(), [...full.counts].sort(), JSON.stringify(s));
  }), { seed: SEED + 1, numRuns: 3000 });
});

test('prescan: whole JSON exchanges identical with and without the shortcuts', () => {
  const a = redactor();
  const b = redactor(parseRedactRules(NEVER));
  const key = fc.constantFrom('id', 'note', 'first_name', 'email', 'tags', 'x1', 'a.b@c.de', 'url', '4111111111111111');
  const leaf: fc.Arbitrary<unknown> = fc.oneof(text, fc.integer(), fc.constantFrom(4111111111111111, 1700000000000, null, true));
  const json = fc.dictionary(key, fc.oneof(leaf, fc.array(leaf, { maxLength: 4 }), fc.dictionary(key, leaf, { maxKeys: 4 })), { maxKeys: 6 });
  fc.assert(fc.property(json, text, (obj, url) => {
    const body = JSON.stringify(obj);
    const mk = () => exchange({ url: '/' + url.replace(/[\s#]/g, ''), headers: [{ name: 'Content-Type', value: 'application/json' }], body });
    const x = a.redact(mk());
    const y = b.redact(mk());
    assert.equal(x.request!.url, y.request!.url);
    assert.equal(x.request!.body.toString('utf8'), y.request!.body.toString('utf8'), body);
    assert.deepEqual(x.redactions, y.redactions);
  }), { seed: SEED + 2, numRuns: 800 });
});
