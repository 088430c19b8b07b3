/**
 * The hand-written validators and encoders (one pass, no allocation) against plain reference definitions, on generated
 * strings drawn from the characters that matter to them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isIpv4 } from '../../../src/redact/validators';
import { validDomain } from '../../../src/redact/scan';
import { jsonString } from '../../../src/redact/json';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

function referenceDomain(d: string): boolean {
  const labels = d.split('.');
  if (labels.length < 2) return false;
  for (const l of labels) if (l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-')) return false;
  return /^[A-Za-z]{2,63}$/.test(labels[labels.length - 1]);
}

const chars = (alphabet: string, maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet.split('')), { maxLength }).map((a) => a.join(''));

test('isIpv4 = the dotted-quad grammar (decimal octets 0-255, no leading zeros)', () => {
  const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), chars('0123456789abcdef ', 4));
  const quadish = fc.array(octet, { minLength: 1, maxLength: 6 }).map((p) => p.join('.'));
  fc.assert(fc.property(fc.oneof(quadish, chars('0123456789.:aef ', 18)), (s) => {
    assert.equal(isIpv4(s), IPV4.test(s), JSON.stringify(s));
  }), { numRuns: 20000 });
  // Hex letters and exponents once passed through Number(): not addresses.
  for (const s of ['abc.def.add.bad', '1e2.1.1.1', ' 1.1.1.1', '1.1.1.1 ', '1.1.1.', '.1.1.1.1', '1..1.1']) assert.equal(isIpv4(s), false, s);
  for (const s of ['0.0.0.0', '255.255.255.255', '10.99.0.2']) assert.equal(isIpv4(s), true, s);
});

test('validDomain = split into labels and checked one by one', () => {
  fc.assert(fc.property(chars('ab-.9Z', 20), (s) => {
    assert.equal(validDomain(s), referenceDomain(s), JSON.stringify(s));
  }), { numRuns: 20000 });
  fc.assert(fc.property(fc.array(fc.oneof(chars('a-', 4), fc.constant('x'.repeat(64))), { maxLength: 4 }).map((p) => p.join('.')), (s) => {
    assert.equal(validDomain(s), referenceDomain(s), JSON.stringify(s));
  }));
  // A span of a longer string: only [from, to) is read.
  fc.assert(fc.property(chars('ab-.9Z@ ', 6), chars('ab-.9Z', 20), chars('ab-.9Z@ ', 6), (pre, d, post) => {
    assert.equal(validDomain(pre + d + post, pre.length, pre.length + d.length), referenceDomain(d), JSON.stringify([pre, d, post]));
  }), { numRuns: 20000 });
});

test('jsonString = JSON.stringify for every string (quotes, backslashes, controls, lone and paired surrogates)', () => {
  const unit = fc.oneof(
    fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udfff', '\ud83d\ude00', 'é', 'a', '/', '\u2028'),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  );
  fc.assert(fc.property(fc.array(unit, { maxLength: 12 }).map((a) => a.join('')), (v) => {
    assert.equal(jsonString(v), JSON.stringify(v));
  }), { numRuns: 20000 });
});
