/**
 * Body cache (body-cache.ts): a repeated body is served from the cache. Output, `ex.redactions` and the live
 * counters must be exactly what a redactor with the cache off produces, for every repetition; the same bytes
 * under another Content-Type are a different entry; the cache stays within its bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRedactor, defaultRedactConfig } from '../../../src/redact';
import { BodyCache } from '../../../src/redact/body-cache';
import { Counters } from '../../../src/observe/counters';
import { dump, exchange, hdrs, KEY } from './helpers';

const JSON_BODY = JSON.stringify({ user: { email: 'ann@corp.example', phone: '+14155552671' }, card: '4111 1111 1111 1111', n: 3 });

function make(ct: string, body: string | Buffer = JSON_BODY) {
  return exchange({ method: 'GET', url: '/v1/me', headers: hdrs(['Host', 'api.example']) },
    { headers: hdrs(['Content-Type', ct], ['Content-Length', String(Buffer.byteLength(body))]), body });
}

function configWith(cacheBytes: number) {
  const cfg = defaultRedactConfig();
  cfg.bodies.cacheBytes = cacheBytes;
  return cfg;
}

test('a repeated body: same output, redactions and counters as with the cache off, every time', () => {
  for (const [ct, body] of [
    ['application/json', JSON_BODY],
    ['text/plain', 'mail ann@corp.example or call +14155552671'],
    ['application/octet-stream', Buffer.from([0, 1, 2, 3, 255])], // withheld: counter redact_body_binary
    ['application/json', '{"ok":true}'], // unchanged: the caller's own bytes come back
  ] as Array<[string, string | Buffer]>) {
    const onCounters = new Counters();
    const offCounters = new Counters();
    const on = compileRedactor(configWith(1 << 20), KEY, onCounters);
    const off = compileRedactor(configWith(0), KEY, offCounters);
    for (let i = 0; i < 3; i++) {
      const a = make(ct, body);
      const b = make(ct, body);
      on.redact(a);
      off.redact(b);
      assert.equal(dump(a), dump(b), `${ct} repetition ${i}`);
      assert.deepEqual(a.redactions, b.redactions);
    }
    assert.deepEqual(onCounters.snapshot(), offCounters.snapshot(), ct);
  }
});

test('an unchanged body is returned as the same Buffer; a changed one never aliases the input', () => {
  const r = compileRedactor(configWith(1 << 20), KEY);
  for (let i = 0; i < 2; i++) {
    const ex = make('application/json', '{"ok":true}');
    const input = ex.response!.body;
    r.redact(ex);
    assert.equal(ex.response!.body, input);
    const ex2 = make('application/json');
    r.redact(ex2);
    assert.ok(!ex2.response!.body.toString().includes('ann@corp.example'));
  }
});

test('the same bytes under another Content-Type are redacted for that type', () => {
  const r = compileRedactor(configWith(1 << 20), KEY);
  const asJson = make('application/json');
  r.redact(asJson);
  const asBinary = make('application/octet-stream');
  r.redact(asBinary);
  assert.match(asBinary.response!.body.toString(), /^\[shadowtap: \d+ bytes of application\/octet-stream withheld/);
  assert.doesNotMatch(asJson.response!.body.toString(), /withheld/);
});

test('bounded: entries and bytes stay within the limits; oversized results are not kept', () => {
  const c = new BodyCache(64 * 1024);
  for (let i = 0; i < 10_000; i++) {
    const body = Buffer.from(`{"i":${i},"pad":"${'x'.repeat(100)}"}`);
    const key = c.keyFor('application/json', body)!;
    c.set(key, Buffer.from(body), [], []);
  }
  // 64 KiB / (≈ 120 B result + key + 64) → a few hundred entries, never all 10,000.
  const inner = c as unknown as { entries: Map<string, unknown>; bytes: number };
  assert.ok(inner.entries.size < 400 && inner.entries.size > 50, String(inner.entries.size));
  assert.ok(inner.bytes <= 64 * 1024);
  // The newest entry is kept, the oldest dropped.
  const newest = c.keyFor('application/json', Buffer.from(`{"i":9999,"pad":"${'x'.repeat(100)}"}`))!;
  const oldest = c.keyFor('application/json', Buffer.from(`{"i":0,"pad":"${'x'.repeat(100)}"}`))!;
  assert.ok(c.get(newest) !== undefined && c.get(oldest) === undefined);
  const off = new BodyCache(0);
  assert.equal(off.keyFor('application/json', Buffer.from('{}')), undefined);
  assert.equal(c.keyFor('application/json', Buffer.alloc(2 * 1024 * 1024)), undefined);
});
