/**
 * Redaction on real worker threads (WorkerRedactSink): the inner sink receives every exchange once, in
 * write order, redacted exactly as on the main thread; live counters arrive; a worker that dies or fails a
 * batch costs nothing but a counter and a warning (its batches are redacted on the main thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Exchange } from '../../../src/exchange/record';
import { Counters } from '../../../src/observe/counters';
import { packageRoot } from '../../../src/package-root';
import { compileRedactor, defaultRedactConfig } from '../../../src/redact';
import type { ExchangeSink } from '../../../src/sink/exchange-sink';
import { WorkerRedactSink, type WorkerRedactOptions } from '../../../src/redact/workers/worker-redact-sink';
import { KEY } from './helpers';
import { exchangeText, exchangesFromPcap } from '../../helpers/captured-exchanges';

/** The same exchanges a few times over, each numbered (index) so that order is checkable. */
async function workload(times: number): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for (let t = 0; t < times; t++) for (const ex of await exchangesFromPcap('http/mix.pcap')) out.push({ ...ex, index: out.length });
  return out;
}

class Collect implements ExchangeSink {
  readonly got: string[] = [];
  closed = false;
  write(ex: Exchange): boolean {
    assert.equal(this.closed, false, 'written after close');
    this.got.push(exchangeText(ex));
    return true;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function expected(times: number): Promise<{ lines: string[]; counters: Counters }> {
  const counters = new Counters();
  const r = compileRedactor(defaultRedactConfig(), KEY, counters);
  return { lines: (await workload(times)).map((ex) => exchangeText(r.redact(ex))), counters };
}

async function run(times: number, opts: Partial<WorkerRedactOptions>, writeAll?: (sink: ExchangeSink, exs: Exchange[]) => Promise<void>) {
  const counters = new Counters();
  const warnings: string[] = [];
  const inner = new Collect();
  const sink = new WorkerRedactSink(inner, {
    workers: 2, config: defaultRedactConfig(), key: KEY, counters,
    inline: compileRedactor(defaultRedactConfig(), KEY, counters), warn: (m) => warnings.push(m), ...opts,
  });
  const exs = await workload(times);
  if (writeAll) await writeAll(sink, exs);
  else for (const ex of exs) sink.write(ex);
  await sink.close();
  assert.equal(inner.closed, true);
  return { got: inner.got, counters, warnings };
}

/** Writes in bursts with the event loop turning in between, as a live source does. */
async function bursts(sink: ExchangeSink, exs: Exchange[]): Promise<void> {
  for (let i = 0; i < exs.length; i += 7) {
    for (const ex of exs.slice(i, i + 7)) sink.write(ex);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const TIMES = 4;

test('two workers, small batches: every exchange once, in order, byte-identical to main-thread redaction, counters merged', async () => {
  const want = await expected(TIMES);
  const { got, counters, warnings } = await run(TIMES, { batchSize: 3, maxInFlightPerWorker: 2 }, bursts);
  assert.equal(got.length, want.lines.length);
  assert.deepEqual(got, want.lines);
  assert.deepEqual(warnings, []);
  for (const [k, v] of Object.entries(want.counters.snapshot())) assert.equal(counters.get(k), v, k);
  assert.equal(counters.get('redact_worker_failed'), 0);
});

test('everything written at once (more than the workers take): the main thread redacts the overflow, same output', async () => {
  const want = await expected(TIMES);
  const { got, counters } = await run(TIMES, { workers: 1, batchSize: 2, maxInFlightPerWorker: 1 });
  assert.deepEqual(got, want.lines);
  assert.ok(counters.get('redact_batches_main_thread') > 0, 'some batches were redacted on the main thread');
});

for (const mode of ['exit', 'throw', 'error'] as const) {
  test(`a worker that fails (${mode}) on its second batch: nothing lost, nothing unredacted, counted and warned`, async () => {
    const want = await expected(TIMES);
    process.env.FAIL_REDACT_WORKER_AT = '2';
    process.env.FAIL_REDACT_WORKER_MODE = mode;
    try {
      const script = path.join(packageRoot(), 'dist', 'test', 'helpers', 'failing-redact-worker.js');
      const { got, counters, warnings } = await run(TIMES, { workers: 2, batchSize: 3, workerScript: script }, bursts);
      assert.deepEqual(got, want.lines);
      if (mode === 'error') {
        assert.equal(counters.get('redact_worker_batch_failed'), 2, 'one refused batch per worker');
        assert.equal(counters.get('redact_worker_failed'), 0);
      } else {
        assert.equal(counters.get('redact_worker_failed'), 2, 'both workers died');
        assert.equal(warnings.length, 2);
        assert.match(warnings[0], /redaction worker \d failed \(.*\); its exchanges are redacted on the main thread/);
      }
    } finally {
      delete process.env.FAIL_REDACT_WORKER_AT;
      delete process.env.FAIL_REDACT_WORKER_MODE;
    }
  });
}

test('a worker script that cannot load: counted, warned, everything redacted on the main thread', async () => {
  const want = await expected(1);
  const { got, counters, warnings } = await run(1, { workers: 1, workerScript: path.join(packageRoot(), 'no-such-worker.js') }, bursts);
  assert.deepEqual(got, want.lines);
  assert.equal(counters.get('redact_worker_failed'), 1);
  assert.equal(warnings.length, 1);
});

test('close() with nothing written ends at once and closes the inner sink', async () => {
  const { got } = await run(0, {});
  assert.deepEqual(got, []);
});
