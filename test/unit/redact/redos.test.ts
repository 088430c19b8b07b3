/**
 * ReDoS: every built-in detector and a hostile user pattern must finish 1 MiB of adversarial input in
 * < 50 ms. Each input targets one detector's worst case (long runs of its own token class, near misses
 * that force backtracking, many anchors). The budget is checked on the best of 3 runs to ignore GC noise
 * on the shared 2-core machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedactRules } from '../../../src/redact';
import { redactPlain } from '../../../src/redact/text';
import { Ctx } from '../../../src/redact/ctx';
import { re2Available } from '../../../src/redact/patterns';
import { defaultRedactConfig } from '../../../src/redact';
import { KEY } from './helpers';

const MiB = 1 << 20;
const fill = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);

const INPUTS: Record<string, string> = {
  email_local_run: fill('a') + '@',
  email_many_at: fill('a@'),
  email_domain_run: '@' + fill('a'),
  email_dots: fill('a.'),
  digits_run: fill('1'),
  digits_spaced: fill('1 '),
  digits_dashed: fill('12-'),
  plus_digits: fill('+1'),
  ipv4_dots: fill('1.'),
  ipv6_hex_colon: fill('a:'),
  ipv6_hex_run: fill('abcdef0123'),
  iban_like: fill('DE12'),
  iban_spaced: 'DE12 ' + fill('A '),
  jwt_prefix: fill('eyJ'),
  jwt_near: 'eyJ' + fill('a') + '.',
  jwt_dots: fill('eyJa.'),
  bearer_many: fill('Bearer '),
  bearer_long: 'Bearer ' + fill('x'),
  basic_many: fill('Basic QUFBQUFB '), // decodes, no ':' (near miss)
  basic_short: fill('Basic QQ== '),
  aws_like: fill('AKIA'),
  kv_pairs: fill('a=b:'),
  kv_keys: fill('password='),
  percent: '%41 ' + fill('b'),
  percent_many: fill('%4'),
  url_like: 'https://' + fill('a/'),
  query_like: fill('a=1&'),
  json_open: fill('{"a":'),
};

function bestOf3(f: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return best;
}

const ctx = new Ctx(defaultRedactConfig(), KEY);

for (const [name, input] of Object.entries(INPUTS)) {
  test(`ReDoS ${name}: 1 MiB in < 50 ms`, () => {
    const ms = bestOf3(() => {
      ctx.counts = new Map();
      redactPlain(ctx, input);
    });
    assert.ok(ms < 50, `${name}: ${ms.toFixed(1)} ms`);
  });
}

test('hostile user pattern: (a+)+$ is linear under RE2, or rejected without it', () => {
  const text = 'patterns:\n  - name: evil\n    pattern: "(a+)+$"\n  - name: evil2\n    pattern: "(x|xx)*y"\n';
  if (!re2Available()) {
    assert.throws(() => new Ctx(parseRedactRules(text), KEY), /repeated group/);
    return;
  }
  const hostile = new Ctx(parseRedactRules(text), KEY);
  for (const input of [fill('a') + '!', fill('x') + '!']) {
    const ms = bestOf3(() => {
      hostile.counts = new Map();
      redactPlain(hostile, input);
    });
    assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
  }
});

test('re-entrant scans terminate: %XX run inside a URL host, key=value whose JWT claims hold key=value', () => {
  // Both used to loop forever: the nested call reset the shared global regex of the outer scan.
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'x', note: 'password=hunter22 more' })}.c2lnbmF0dXJlc2ln`;
  const c = new Ctx(defaultRedactConfig(), KEY);
  const t0 = process.hrtime.bigint();
  assert.equal(redactPlain(c, 'see p://%ac now'), 'see p://%ac now');
  const out = redactPlain(c, `password=${jwt} end`);
  assert.ok(out.startsWith('password=eyJ') && out.endsWith(' end') && !out.includes('hunter22'), out);
  const claims = JSON.parse(Buffer.from(out.split('=')[1].split('.')[1], 'base64url').toString('utf8')) as { note: string };
  assert.ok(claims.note.startsWith('password=') && !claims.note.includes('hunter22'), claims.note);
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 1000);
});
