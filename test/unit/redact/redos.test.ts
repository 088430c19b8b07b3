/**
 * ReDoS: every built-in detector and a hostile user pattern must stay linear on adversarial input. Speed itself
 * is measured by `node dist/bench/redact.bench.js --redos` (the 50 ms per 1 MiB budget), not asserted here:
 * timed assertions flake on the shared machine. What is asserted cannot depend on load:
 *  - scaling measured in this run: CPU time on 1 MiB vs the same case at 64 KiB (16× the input), best of 5,
 *    must be <= 64× (linear gives ~16×, up to ~42× seen where 1 MiB of working set leaves the CPU caches
 *    that 64 KiB fits in; quadratic gives ~256×, exponential never finishes);
 *  - a generous ceiling: 1 MiB in < 1.5 s CPU, which only catastrophic behaviour reaches (budget is 50 ms).
 * CPU time (process.cpuUsage) does not count time spent waiting for a core. A self-check shows the same
 * measurement flags a known quadratic regex.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { parseRedactRules } from '../../../src/redact';
import { redactPlain } from '../../../src/redact/text';
import { Ctx } from '../../../src/redact/ctx';
import { re2Available } from '../../../src/redact/patterns';
import { defaultRedactConfig } from '../../../src/redact';
import { KEY } from './helpers';
import { measureScaling, MiB, REDOS_CASES, Scaling } from './redos-inputs';

const SMALL = 64 * 1024;
const MAX_RATIO = 64;
const CEILING_S = 1.5;
const RUNS = 5;

function check(name: string, m: Scaling): void {
  const msg = `${name}: 64 KiB ${(m.small * 1e3).toFixed(2)} ms, 1 MiB ${(m.big * 1e3).toFixed(1)} ms CPU, ratio ${m.ratio.toFixed(1)}`;
  assert.ok(m.big < CEILING_S, `over the ${CEILING_S} s ceiling: ${msg}`);
  assert.ok(m.ratio <= MAX_RATIO, `super-linear (> ${MAX_RATIO}× for 16× the input): ${msg}`);
}

test('self-check: the scaling measurement flags a quadratic regex (/\\d+x/ on digits) and passes a linear one', () => {
  // V8 retries \d+ from every start position: O(n²). Sizes kept small so that the quadratic run stays short.
  const quad = measureScaling((s) => { /\d+x/.test(s); }, (n) => '1'.repeat(n), 512, 8 * 1024, 3);
  assert.ok(quad.ratio > MAX_RATIO, `quadratic ratio ${quad.ratio.toFixed(1)}`);
  const lin = measureScaling((s) => { /\d+x/.test(s); }, (n) => '1 '.repeat(n / 2), 512, 8 * 1024, 3);
  assert.ok(lin.ratio <= MAX_RATIO, `linear ratio ${lin.ratio.toFixed(1)}`);
});

const ctx = new Ctx(defaultRedactConfig(), KEY);
const plain = (s: string): void => {
  ctx.counts = new Map();
  redactPlain(ctx, s);
};

for (const [name, make] of Object.entries(REDOS_CASES)) {
  test(`ReDoS ${name}: linear from 64 KiB to 1 MiB`, () => {
    check(name, measureScaling(plain, make, SMALL, MiB, RUNS));
  });
}

test('hostile user pattern: (a+)+$ / (x|xx)*y are linear under RE2, or rejected without it', () => {
  const text = 'patterns:\n  - name: evil\n    pattern: "(a+)+$"\n  - name: evil2\n    pattern: "(x|xx)*y"\n';
  if (!re2Available()) {
    assert.throws(() => new Ctx(parseRedactRules(text), KEY), /repeated group/);
    return;
  }
  const hostile = new Ctx(parseRedactRules(text), KEY);
  const run = (s: string): void => {
    hostile.counts = new Map();
    redactPlain(hostile, s);
  };
  check('evil (a+)+$', measureScaling(run, (n) => 'a'.repeat(n) + '!', SMALL, MiB, RUNS));
  check('evil2 (x|xx)*y', measureScaling(run, (n) => 'x'.repeat(n) + '!', SMALL, MiB, RUNS));
});

/** Runs `body` (CommonJS source, `text` = dist/src/redact/text.js) in a worker; rejects if it runs past `ms`. */
function inWorker(body: string, ms: number): Promise<unknown> {
  const src = `const { parentPort } = require('node:worker_threads');
const { Ctx } = require(${JSON.stringify(require.resolve('../../../src/redact/ctx'))});
const { defaultRedactConfig } = require(${JSON.stringify(require.resolve('../../../src/redact'))});
const text = require(${JSON.stringify(require.resolve('../../../src/redact/text'))});
const KEY = Buffer.from(${JSON.stringify(KEY.toString('hex'))}, 'hex');
parentPort.postMessage((() => { ${body} })());`;
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true });
    const timer = setTimeout(() => {
      void w.terminate();
      reject(new Error(`did not finish within ${ms} ms (endless loop?)`));
    }, ms);
    w.once('message', (m) => {
      clearTimeout(timer);
      void w.terminate();
      resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('re-entrant scans terminate: %XX run inside a URL host, key=value whose JWT claims hold key=value', async () => {
  // Both used to loop forever: the nested call reset the shared global regex of the outer scan. They run in a
  // worker that is terminated after 20 s (a generous bound: each takes well under a millisecond).
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'x', note: 'password=hunter22 more' })}.c2lnbmF0dXJlc2ln`;
  const [host, out] = await inWorker(`const c = new Ctx(defaultRedactConfig(), KEY);
    return [text.redactPlain(c, 'see p://%ac now'), text.redactPlain(c, ${JSON.stringify(`password=${jwt} end`)})];`, 20_000) as [string, string];
  assert.equal(host, 'see p://%ac now');
  assert.ok(out.startsWith('password=eyJ') && out.endsWith(' end') && !out.includes('hunter22'), out);
  const claims = JSON.parse(Buffer.from(out.split('=')[1].split('.')[1], 'base64url').toString('utf8')) as { note: string };
  assert.ok(claims.note.startsWith('password=') && !claims.note.includes('hunter22'), claims.note);
});
