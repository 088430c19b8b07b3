/**
 * ExchangeSink.healthy through the wrapping sinks: the tee is healthy only while both sides are, the
 * redacting wrappers (inline and worker threads) report their inner sink's health, and undefined (no
 * opinion) counts as healthy. Also a real chain: redaction → tee → delivery to a port nobody listens on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Exchange } from '../../../src/exchange/record';
import { Counters } from '../../../src/observe/counters';
import { compileRedactor, defaultRedactConfig } from '../../../src/redact';
import { sinkHealthy, type ExchangeSink } from '../../../src/sink/exchange-sink';
import { attachLiveSink, TeeSink } from '../../../src/cli/attach-sink';
import { redactingSink, type Redaction } from '../../../src/cli/redaction-options';
import { openOutput } from '../../../src/cli/output-options';
import { freePort } from '../../helpers/async-utils';
import { KEY } from '../redact/helpers';

/** A sink whose health the test sets; `undefined` = no opinion. */
class Switch implements ExchangeSink {
  healthy: boolean | undefined = true;
  write(_ex: Exchange): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

const redaction = (): Redaction => ({ redactor: compileRedactor(defaultRedactConfig(), KEY), config: defaultRedactConfig(), key: KEY });

test('tee: healthy only while both sides are; no opinion counts as healthy', () => {
  const a = new Switch();
  const b = new Switch();
  const tee = new TeeSink(a, b);
  assert.equal(tee.healthy, true);
  b.healthy = false;
  assert.equal(tee.healthy, false);
  b.healthy = undefined;
  assert.equal(tee.healthy, true);
  a.healthy = false;
  assert.equal(tee.healthy, false);
  const plain: ExchangeSink = { write: () => true, close: async () => undefined };
  assert.equal(sinkHealthy(plain), true, 'a sink without the member');
});

test('redacting wrappers report the inner sink\'s health (inline, worker threads, --no-redact)', async () => {
  for (const workers of [0, 1]) {
    const inner = new Switch();
    const sink = redactingSink(inner, redaction(), workers, new Counters(), () => undefined);
    assert.notEqual(sink, inner, `workers ${workers}: a wrapper`);
    assert.equal(sink.healthy, true, `workers ${workers}`);
    inner.healthy = false;
    assert.equal(sink.healthy, false, `workers ${workers}`);
    inner.healthy = undefined;
    assert.equal(sinkHealthy(sink), true, `workers ${workers}`);
    await sink.close();
  }
  const inner = new Switch();
  assert.equal(redactingSink(inner, null, 1, new Counters(), () => undefined), inner, '--no-redact: the inner sink itself');
});

test('a real chain: worker redaction → tee (jsonl file, --sink to a closed port) is not healthy', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-health-'));
  try {
    const port = await freePort(); // closed again: nothing listens there
    const values = { sink: `tcp://127.0.0.1:${port}`, spool: 'none', output: path.join(dir, 'out.jsonl') };
    const counters = new Counters();
    const tee = attachLiveSink(values, () => openOutput('jsonl', values.output), counters, () => undefined, 'mirror');
    assert.ok(tee instanceof TeeSink);
    const sink = redactingSink(tee, redaction(), 1, counters, () => undefined);
    await new Promise((r) => setTimeout(r, 300)); // the first connection attempt is refused by then
    assert.equal(sink.healthy, false);
    await sink.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
