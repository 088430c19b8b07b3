'use strict';
// Fixed content shared by the capture generators (server.js, client.js).
// Everything here is deterministic: the same bytes on every run, so regenerated
// captures differ only in timestamps, TCP initial sequence numbers and options
// (and, for the mirror lab, outer UDP source ports), never in HTTP content.
//
// The personal data below is fake on purpose (example.com/example.org addresses,
// the well-known Visa test card, a 555-01xx phone number) so that the redaction
// code has recognisable values to find.

const PII = Object.freeze({
  email: 'jane.doe@example.com',
  email2: 'john.roe@example.org',
  card: '4111 1111 1111 1111',
  phone: '+14155550123',
  ssn: '078-05-1120',
  bearer: 'Bearer sk_test_FAKE0000000000000000000000',
  session: 'session=s%3AFAKEcookie00000000.abcdef',
});

// The Date header every response carries (Node's automatic Date would change per run).
const FIXED_DATE = 'Tue, 01 Apr 2025 12:00:00 GMT';

/** mulberry32: tiny seeded PRNG, returns a function yielding uint32 values. */
function prng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';

/**
 * `size` bytes of printable text from a fixed seed: 64-byte lines
 * "NNNNNNNN " + 54 random characters + "\n"; the last line is cut to fit.
 */
function largeText(size, seed) {
  const rnd = prng(seed);
  const out = Buffer.alloc(size);
  let line = 0;
  for (let off = 0; off < size; off += 64) {
    const row = Buffer.alloc(64);
    row.write(String(line++).padStart(8, '0') + ' ', 0, 'latin1');
    for (let i = 9; i < 63; i++) row[i] = ALPHABET.charCodeAt(rnd() % ALPHABET.length);
    row[63] = 0x0a;
    row.copy(out, off, 0, Math.min(64, size - off));
  }
  return out;
}

const USERS = Object.freeze({
  1: { id: 1, name: 'Jane Doe', email: PII.email, phone: PII.phone, plan: 'pro' },
  2: { id: 2, name: 'John Roe', email: PII.email2, phone: '+14155550199', plan: 'free' },
});

// Served gzip/br/deflate-encoded by /api/report (about 1.3 KB before compression).
const REPORT = Object.freeze({
  report: 'monthly-usage',
  period: '2025-03',
  owner: { name: 'Jane Doe', email: PII.email, phone: PII.phone },
  billing: { card: PII.card, expiry: '12/30' },
  rows: Array.from({ length: 24 }, (_, i) => ({ day: i + 1, requests: 1000 + i * 37, errors: i % 5 })),
});

const APP_JS = '/* app.js v1 */\n' +
  'function greet(user) {\n  return "Hello, " + user.name + " <" + user.email + ">";\n}\n' +
  'document.addEventListener("DOMContentLoaded", function () {\n  console.log(greet({name: "Jane", email: "' +
  PII.email + '"}));\n});\n';

module.exports = { PII, FIXED_DATE, prng, largeText, USERS, REPORT, APP_JS };
