/**
 * HMAC-SHA256 from precomputed key states, in JS and through the native/keyed-hmac addon, must be
 * byte-identical to node:crypto for every input shape the redactor feeds it: ASCII and non-ASCII strings (lone surrogates encode as U+FFFD in both), raw
 * bytes, every length around the one/two-block boundaries and across the node:crypto fallback, and keys
 * shorter/longer than the 64-byte block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256, JS_MAX_CHARS, NATIVE_MAX_BYTES } from '../../../src/redact/sha256';
import { loadNativeHmac } from '../../../src/redact/native-hmac';
import { Keyed } from '../../../src/redact/keyed';
import { KEY } from './helpers';

const ref = (key: Uint8Array, a: string, b: string | Uint8Array): string =>
  createHmac('sha256', key).update(a).update(b).digest('hex');

const nativeLoad = loadNativeHmac();
/** Both paths, always: the JS one, and the addon's where it is built (CI builds it; say so where it is not). */
const implementations: Array<{ name: string; make: (key: Uint8Array) => HmacSha256; skip: string | false }> = [
  { name: 'JS', make: (key) => new HmacSha256(key, 'js'), skip: false },
  { name: 'native (keyed-hmac)', make: (key) => new HmacSha256(key), skip: nativeLoad.keyed === undefined ? `native HMAC not available: ${nativeLoad.reason ?? ''}` : false },
];

for (const { name, make, skip } of implementations) {
  test(`${name}: RFC 4231 test case 2 (key "Jefe")`, { skip }, () => {
    const h = make(Buffer.from('Jefe'));
    assert.equal(h.implementation, name === 'JS' ? 'js' : 'native');
    assert.equal(h.mac('what do ya want ', 'for nothing?').toString('hex'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  test(`${name}: every length 0..2×JS_MAX_CHARS, ASCII and 2-/3-/4-byte UTF-8, equals node:crypto`, { skip }, () => {
    const h = make(KEY);
    for (const unit of ['a', 'é', '€', '😀', '\ud800', '\udc00x']) {
      for (let n = 0; n <= 2 * JS_MAX_CHARS; n += unit.length === 1 && n < 140 ? 1 : 7) {
        const v = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
        assert.equal(h.mac('email\u0000', v).toString('hex'), ref(KEY, 'email\u0000', v), `${JSON.stringify(unit)} × ${n}`);
      }
    }
  });

  test(`${name}: random keys, labels, strings (any code units) and bytes equal node:crypto`, { skip }, () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 150 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 80 }), fc.uint8Array({ maxLength: 400 })),
      (key, a, b) => {
        const h = make(key);
        assert.equal(h.mac(a, b).toString('hex'), ref(key, a, b));
        assert.equal(h.mac(a, b).toString('hex'), ref(key, a, b)); // scratch reuse leaves no state behind
      },
    ), { numRuns: 400 });
  });

  test(`${name}: long inputs (scratch growth, the node:crypto path past NATIVE_MAX_BYTES) and short ones after them`, { skip }, () => {
    const h = make(KEY);
    for (const v of ['x'.repeat(5000), '€'.repeat(9000), 'y'.repeat(NATIVE_MAX_BYTES), 'z'.repeat(NATIVE_MAX_BYTES + 1), 'é'.repeat(30_000), 'short']) {
      assert.equal(h.mac('jwt\u0000', v).toString('hex'), ref(KEY, 'jwt\u0000', v), `${v[0]} × ${v.length}`);
      const bytes = Buffer.from(v, 'utf8');
      assert.equal(h.mac('raw', bytes).toString('hex'), ref(KEY, 'raw', bytes), `bytes of ${v[0]} × ${v.length}`);
    }
  });

  test(`${name}: macInto writes exactly 32 bytes at the offset`, { skip }, () => {
    const h = make(KEY);
    const out = Buffer.alloc(100, 0xee);
    h.macInto('email\u0000', 'a@b.example', out, 33);
    assert.equal(out.subarray(33, 65).toString('hex'), ref(KEY, 'email\u0000', 'a@b.example'));
    assert.ok(out.subarray(0, 33).every((x) => x === 0xee) && out.subarray(65).every((x) => x === 0xee));
  });
}

test('keyed-hmac addon: bad arguments throw TypeError/RangeError, never write out of bounds', { skip: nativeLoad.keyed === undefined ? `native HMAC not available: ${nativeLoad.reason ?? ''}` : false }, () => {
  const mac = nativeLoad.keyed!(KEY);
  const input = Buffer.from('abc');
  const out = Buffer.alloc(40, 1);
  assert.throws(() => mac('abc' as unknown as Uint8Array, 3, out, 0), TypeError);
  assert.throws(() => mac(input, 3, new Uint16Array(32) as unknown as Uint8Array, 0), TypeError);
  assert.throws(() => mac(input, 4, out, 0), RangeError);
  assert.throws(() => mac(input, -1, out, 0), RangeError);
  assert.throws(() => mac(input, 1.5, out, 0), RangeError);
  assert.throws(() => mac(input, 3, out, 9), RangeError);
  assert.throws(() => mac(input, 3, out, Number.NaN), RangeError);
  assert.ok(out.every((x) => x === 1), 'nothing written by a refused call');
  mac(input.subarray(1), 2, out.subarray(8), 0); // views: their own offsets count
  assert.equal(out.subarray(8, 40).toString('hex'), ref(KEY, '', Buffer.from('bc')));
});

test('Keyed.digest is HMAC(key, kind ‖ 0x00 ‖ value), cached or not', () => {
  const k = new Keyed(KEY);
  for (const [kind, v] of [['ipv4', '203.0.113.7'], ['email', 'a@b.example'], ['text', 'x'.repeat(300)], ['secret', 'ü\ud83d']]) {
    const want = createHmac('sha256', KEY).update(`${kind}\u0000${v}`, 'utf8').digest('hex');
    assert.equal(k.digest(kind, v).toString('hex'), want);
    assert.equal(k.digest(kind, v).toString('hex'), want);
  }
  assert.notEqual(k.digest('ipv4', '1.2.3.4').toString('hex'), k.digest('ipv6', '1.2.3.4').toString('hex'));
});

test('Keyed cache: across generations and ring wrap-around every digest is the HMAC, hot values and one-offs alike', () => {
  const k = new Keyed(KEY);
  const want = (kind: string, v: string): string => createHmac('sha256', KEY).update(`${kind}\u0000${v}`, 'utf8').digest('hex');
  const hot = ['ann@corp.example', '10.1.2.3', 'bob@corp.example'];
  // 200,000 one-off values (three times the 65,536-slot ring) interleaved with recurring ones, two kinds.
  for (let i = 0; i < 200_000; i++) {
    const kind = i % 2 === 0 ? 'email' : 'ipv4';
    const v = `one-off-${i}`;
    const got = k.digest(kind, v).toString('hex');
    if (i % 997 === 0) assert.equal(got, want(kind, v), `one-off ${i}`);
    // A value from 100,000 insertions ago: its ring slot has been reused since, so it must not be served
    // from the cache (a cache that kept entries longer than the ring would return another value's digest).
    if (i % 499 === 0 && i >= 100_000) {
      const j = i - 100_000;
      const kj = j % 2 === 0 ? 'email' : 'ipv4';
      assert.equal(k.digest(kj, `one-off-${j}`).toString('hex'), want(kj, `one-off-${j}`), `aged ${j}`);
    }
    if (i % 101 === 0) {
      const h = hot[(i / 101) % hot.length];
      assert.equal(k.digest('email', h).toString('hex'), want('email', h), `hot ${h} at ${i}`);
    }
  }
  // Values seen long ago (slots reused many times since) come out right, not from a stale slot.
  for (const i of [0, 1, 2, 65_535, 65_536, 131_072]) {
    const kind = i % 2 === 0 ? 'email' : 'ipv4';
    assert.equal(k.digest(kind, `one-off-${i}`).toString('hex'), want(kind, `one-off-${i}`), `old ${i}`);
  }
});
