/** Rules parsing/validation (bad rules fail at start, naming key and line) and key loading. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileRedactor, defaultRedactConfig, loadOrCreateKey, parseRedactRules, RedactConfigError,
} from '../../../src/redact';
import { nonLinearReason } from '../../../src/redact/patterns';
import { exchange, hdrs, KEY, redactor } from './helpers';

const EXAMPLE = join(__dirname, '..', '..', '..', '..', 'src', 'redact', 'default-rules.yaml');

test('the example rules file parses and compiles', () => {
  const cfg = parseRedactRules(readFileSync(EXAMPLE, 'utf8'));
  assert.ok(cfg.patterns.some((p) => p.name === 'employee_id'));
  assert.ok(cfg.headers.some((h) => h.name === 'authorization'), 'defaults kept');
  const r = compileRedactor(cfg, KEY);
  const ex = exchange({ headers: hdrs(['Content-Type', 'text/plain'], ['X-Debug-Dump', 'x']), body: 'by EMP-123456 re TICKET#12345' });
  r.redact(ex);
  const out = ex.request!.body.toString();
  assert.match(out, /^by [A-Z]{3}-\d{6} re \*{6}#\*{5}$/);
  assert.ok(!ex.request!.headers.some((h) => h.name === 'X-Debug-Dump'), 'drop header');
});

const BAD: Array<[string, RegExp]> = [
  ['detectors:\n  emial: true\n', /detectors\.emial \(line 2\).*unknown key/],
  ['keys:\n  - name: a\n    keys: [x]\n    mode: scramble\n', /keys\.0\.mode \(line 4\).*unknown mode/],
  ['keys:\n  - name: a\n', /keys\.0 \(line 2\).*needs "keys" or "paths"/],
  ['keys:\n  - name: a\n    paths: ["$.a[?(@.x)]"]\n', /keys\.0\.paths\.0 \(line 3\).*unsupported selector/],
  ['headers:\n  - name: h\n    headers: ["bad header"]\n', /headers\.0\.headers\.0 \(line 3\).*not a header name/],
  ['patterns:\n  - name: p\n    pattern: "(a)\\\\1"\n', /patterns\.0.*backreference|patterns\.0.*RE2 cannot compile/],
  ['patterns:\n  - name: p\n    pattern: "foo(?=bar)"\n', /patterns\.0.*(look-around|RE2 cannot compile)/],
  ['patterns:\n  - name: p\n    pattern: "x*"\n', /matches the empty string/],
  ['patterns:\n  - name: p\n    pattern: "([a-z"\n', /patterns\.0/],
  ['bodies:\n  maxBytes: -1\n', /bodies\.maxBytes \(line 2\)/],
  ['jwt:\n  stagingKey: short\n', /jwt\.stagingKey.*at least 16/],
  ['version: 2\n', /version.*only version 1/],
  ['detectors: [\n', /YAML error at line/],
  ['a: 1\na: 2\n', /YAML error|unknown key/],
];

for (const [text, re] of BAD) {
  test(`bad rules rejected: ${JSON.stringify(text)}`, () => {
    assert.throws(() => compileRedactor(parseRedactRules(text), KEY), (e: unknown) => {
      assert.ok(e instanceof RedactConfigError);
      assert.equal((e as RedactConfigError).code, 'CAP_ERR_REDACT_RULES');
      assert.match((e as Error).message, re);
      return true;
    });
  });
}

test('linearity filter (used when re2 is unavailable) rejects super-linear constructs', () => {
  assert.equal(nonLinearReason('EMP-[0-9]{6}'), undefined);
  assert.equal(nonLinearReason('(?:ab|cd)-[a-z]+'), undefined);
  assert.match(nonLinearReason('(a+)+$') ?? '', /repeated group/);
  assert.match(nonLinearReason('(a|aa)*b') ?? '', /repeated group/);
  assert.match(nonLinearReason('(\\w+\\s?)*$') ?? '', /repeated group/);
  assert.match(nonLinearReason('(x)\\1') ?? '', /backreference/);
  assert.match(nonLinearReason('a(?<=b)') ?? '', /look-around/);
});

test('compileRedactor rejects a short key', () => {
  assert.throws(() => compileRedactor(defaultRedactConfig(), Buffer.alloc(16)), RedactConfigError);
});

test('defaults: false starts from an empty rule set', () => {
  const cfg = parseRedactRules('defaults: false\ndetectors: { email: true }\n');
  const ex = exchange({ headers: hdrs(['Content-Type', 'text/plain'], ['Authorization', 'Basic abc']), body: 'a@b.co 203.0.113.1' });
  redactor(cfg).redact(ex);
  assert.match(ex.request!.body.toString(), /^user_[a-z2-7]{12}@example\.invalid 203\.0\.113\.1$/);
  assert.equal(ex.request!.headers[1].value, 'Basic abc');
});

test('loadOrCreateKey: generates 32 bytes with mode 0600, then reads them back; env wins; short keys fail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shadowtap-key-'));
  const file = join(dir, 'sub', 'redact.key');
  const saved = process.env.SHADOWTAP_REDACT_KEY;
  delete process.env.SHADOWTAP_REDACT_KEY;
  try {
    const k1 = loadOrCreateKey(file);
    assert.equal(k1.length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateKey(file), k1);
    const hex = 'ab'.repeat(32);
    process.env.SHADOWTAP_REDACT_KEY = hex;
    assert.deepEqual(loadOrCreateKey(file), Buffer.from(hex, 'hex'));
    process.env.SHADOWTAP_REDACT_KEY = Buffer.alloc(40, 5).toString('base64');
    assert.deepEqual(loadOrCreateKey(file), Buffer.alloc(40, 5));
    process.env.SHADOWTAP_REDACT_KEY = 'abcd';
    assert.throws(() => loadOrCreateKey(file), RedactConfigError);
    delete process.env.SHADOWTAP_REDACT_KEY;
    const short = join(dir, 'short.key');
    writeFileSync(short, Buffer.alloc(10, 1));
    assert.throws(() => loadOrCreateKey(short), /at least 32/);
    const textKey = join(dir, 'text.key');
    writeFileSync(textKey, 'cd'.repeat(32) + '\n');
    assert.deepEqual(loadOrCreateKey(textKey), Buffer.from('cd'.repeat(32), 'hex'));
    process.env.SHADOWTAP_STATE_DIR = dir;
  } finally {
    if (saved === undefined) delete process.env.SHADOWTAP_REDACT_KEY;
    else process.env.SHADOWTAP_REDACT_KEY = saved;
    delete process.env.SHADOWTAP_STATE_DIR;
  }
});
