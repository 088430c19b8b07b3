/**
 * ResultCache (memo.ts): whole header values and JWTs are served from a cache after the first time. The output
 * and `ex.redactions` (hit counts replayed) must be exactly what a redactor without a warm cache produces, for
 * every repetition, and the cache must not leak hits of one exchange into another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRedactConfig, parseRedactRules } from '../../../src/redact';
import { Ctx } from '../../../src/redact/ctx';
import { redactJwt } from '../../../src/redact/jwt';
import { ResultCache } from '../../../src/redact/memo';
import { dump, exchange, hdrs, KEY, redactor } from './helpers';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'u-1', email: 'ann@corp.example', phone_number: '+14155552671' })}.c2lnbmF0dXJlc2lnbmF0dXJl`;

function make() {
  return exchange({
    url: '/v1/me?email=bob@corp.example',
    headers: hdrs(
      ['Authorization', `Bearer ${JWT}`],
      ['Cookie', `sid=abc123def456; theme=dark; tok=${JWT}`],
      ['X-Forwarded-For', '198.51.100.7, 203.0.113.9'],
      ['User-Agent', 'curl/8.5 contact ann@corp.example'],
      ['Content-Type', 'application/json'],
    ),
    body: JSON.stringify({ token: JWT, note: 'call +14155552671' }),
  }, { headers: hdrs(['Set-Cookie', `sid=zzz999; Path=/; HttpOnly`], ['Content-Type', 'text/plain']), body: 'ok' });
}

test('repeated exchanges: same output and same redaction counts as a cold redactor, every time', () => {
  const warm = redactor();
  const runs = [0, 1, 2].map(() => {
    const ex = make();
    warm.redact(ex);
    return { dump: dump(ex), redactions: JSON.stringify(ex.redactions) };
  });
  const coldEx = make();
  redactor().redact(coldEx);
  for (const r of runs) {
    assert.equal(r.dump, dump(coldEx));
    assert.equal(r.redactions, JSON.stringify(coldEx.redactions));
  }
  assert.ok(!runs[2].dump.includes('ann@corp.example') && !runs[2].dump.includes('abc123def456'));
  const counts = Object.fromEntries(coldEx.redactions.map((r) => [r.rule, r.count]));
  assert.ok((counts['header:cookie'] ?? 0) >= 3 && (counts.email ?? 0) >= 1, JSON.stringify(counts));
});

test('a cached JWT replays its claim hits into the current counts; nested (depth > 0) calls bypass the cache', () => {
  const ctx = new Ctx(defaultRedactConfig(), KEY);
  ctx.counts = new Map([['email', 5]]);
  const first = redactJwt(ctx, JWT);
  const afterFirst = new Map(ctx.counts);
  ctx.counts = new Map([['email', 5]]);
  assert.equal(redactJwt(ctx, JWT), first);
  assert.deepEqual(ctx.counts, afterFirst);
  assert.equal(afterFirst.get('email'), 5);
  assert.equal(afterFirst.get('key:jwt_claim'), 3, JSON.stringify([...afterFirst]));
  // At the depth limit the token is replaced whole: a cached top-level result must not be returned there.
  const limited = new Ctx(parseRedactRules('bodies:\n  maxDepth: 1\n'), KEY);
  const top = redactJwt(limited, JWT);
  limited.depth = 1;
  const nested = redactJwt(limited, JWT);
  limited.depth = 0;
  assert.notEqual(nested, top);
  assert.ok(!nested.includes('.'), nested);
});

test('a namespace whose values never repeat skips the cache after a probe window, then probes again; others stay cached', () => {
  const ctx = new Ctx(defaultRedactConfig(), KEY);
  const cache = new ResultCache();
  let calls = 0;
  const fn = (v: string): string => {
    calls++;
    return v.toUpperCase();
  };
  // 1024 distinct values: no hit in the probe window.
  for (let i = 0; i < 1024; i++) cache.run(ctx, 'authorization', `token-${i}`, fn);
  calls = 0;
  assert.equal(cache.run(ctx, 'authorization', 'token-5', fn), 'TOKEN-5');
  assert.equal(calls, 1, 'bypassed: a value seen in the window is computed again');
  // Another namespace with repeats is unaffected.
  for (let i = 0; i < 2000; i++) cache.run(ctx, 'cookie', `sid=${i % 10}`, fn);
  calls = 0;
  cache.run(ctx, 'cookie', 'sid=3', fn);
  assert.equal(calls, 0, 'repeating namespace served from the cache');
  // After the bypass (16384 values, the call above included) the namespace probes again: a repeat hits.
  for (let i = 1; i < 16384; i++) cache.run(ctx, 'authorization', `other-${i}`, fn);
  cache.run(ctx, 'authorization', 'again', fn);
  calls = 0;
  assert.equal(cache.run(ctx, 'authorization', 'again', fn), 'AGAIN');
  assert.equal(calls, 0, 'cached again after the bypass');
});
