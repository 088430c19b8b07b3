/**
 * The thread-boundary codec (src/redact/workers/transfer.ts): an exchange sent to a worker, redacted there
 * and applied back must equal the same exchange redacted in place, for real captured exchanges and
 * arbitrary ones. The transfer itself is a real structured clone (what postMessage does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Exchange, HttpMessageCommon } from '../../../src/exchange/record';
import { applyResults, decodeBatch, encodeBatch, encodeResults, type Packed } from '../../../src/redact/workers/transfer';
import { exchange, hdrs, redactor } from './helpers';
import { exchangeText, exchangesFromPcap } from '../../helpers/captured-exchanges';

/** A deep copy with Buffers kept Buffers (and on their own memory). */
function copy(ex: Exchange): Exchange {
  const msg = <T extends HttpMessageCommon>(m: T): T => ({
    ...m,
    headers: m.headers.map((h) => ({ ...h })),
    trailers: m.trailers.map((h) => ({ ...h })),
    contentEncodings: [...m.contentEncodings],
    body: Buffer.from(m.body),
  });
  return {
    ...ex,
    connection: { ...ex.connection, client: { ...ex.connection.client }, server: { ...ex.connection.server } },
    completeness: { ...ex.completeness },
    redactions: ex.redactions.map((r) => ({ ...r })),
    interimStatuses: [...ex.interimStatuses],
    ...(ex.request ? { request: msg(ex.request) } : {}),
    ...(ex.response ? { response: msg(ex.response) } : {}),
  };
}

/** postMessage's structured clone, with the byte buffer transferred. */
function cross(p: Packed): Packed {
  return structuredClone(p, { transfer: [p.bytes.buffer as ArrayBuffer] });
}

/** The worker path without the thread: encode, clone, decode, redact, encode, clone, apply. */
function viaTransfer(exs: Exchange[]): Exchange[] {
  const worker = redactor();
  const inWorker = decodeBatch(cross(encodeBatch(exs)));
  const inputBodies: Array<Buffer | undefined> = [];
  for (const ex of inWorker) {
    inputBodies.push(ex.request?.body, ex.response?.body);
    worker.redact(ex);
  }
  applyResults(exs, cross(encodeResults(inWorker, inputBodies)));
  return exs;
}

test('captured exchanges (mix.pcap): redacted across the codec = redacted in place, and redaction happened', async () => {
  const exs = await exchangesFromPcap('http/mix.pcap');
  assert.ok(exs.length >= 10);
  const inline = redactor();
  const want = exs.map((ex) => exchangeText(inline.redact(copy(ex))));
  const got = viaTransfer(exs.map(copy)).map(exchangeText);
  assert.deepEqual(got, want);
  const hits = exs.map(copy).map((ex) => inline.redact(ex).redactions.length).reduce((a, b) => a + b, 0);
  assert.ok(hits > 10, `mix.pcap has personal data to redact (${hits} rule hits)`);
});

test('a body the redactor leaves alone is not sent back: the original body object stays', () => {
  const ex = exchange({ headers: hdrs(['Content-Type', 'text/plain']), body: 'nothing personal in here' }, { body: 'mail ann.smith@corp.example' });
  const body = ex.request!.body;
  viaTransfer([ex]);
  assert.equal(ex.request!.body, body);
  assert.doesNotMatch(ex.response!.body.toString(), /ann\.smith/);
});

test('a result that does not belong to the batch is refused before anything is changed', () => {
  const a = exchange({ url: '/a?email=ann@corp.example' });
  const res = encodeResults([copy(a), copy(a)], []);
  const url = a.request!.url;
  assert.throws(() => applyResults([a], res), /2 exchanges, 1 sent/);
  assert.equal(a.request!.url, url);
});

const text = fc.string({ unit: 'binary', maxLength: 40 });
const header = fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), value: text });
const seeds = fc.constantFrom('', 'ann.smith@corp.example', '4111 1111 1111 1111', '+1 415 555 0101', '203.0.113.77', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln');
const message = fc.record({
  headers: fc.array(fc.oneof(header, fc.record({ name: fc.constantFrom('Content-Type', 'Cookie', 'Authorization', 'X-Forwarded-For'), value: fc.oneof(text, seeds) })), { maxLength: 8 }),
  trailers: fc.array(header, { maxLength: 2 }),
  body: fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.tuple(seeds, text).map(([s, t]) => Buffer.from(JSON.stringify({ email: s, note: t, n: 1 })))),
  contentEncodings: fc.array(fc.constantFrom('gzip', 'br', 'identity'), { maxLength: 2 }),
});

test('arbitrary exchanges (missing halves, binary headers and bodies, decode errors): codec = in place', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ req: fc.option(message), res: fc.option(message), url: fc.oneof(text, seeds.map((s) => `/u?q=${s}`)), reason: fc.oneof(text, seeds), client: fc.constantFrom('198.51.100.9', '2001:db8::5', ''), decodeError: fc.constantFrom('', 'gzip: bad header') }), { maxLength: 6 }),
    (specs) => {
      const exs = specs.map((s) => {
        const ex = exchange({ ...(s.req ?? {}), url: s.url }, s.res === null ? undefined : s.res);
        if (s.req === null) delete ex.request;
        if (ex.response) ex.response.reason = s.reason;
        ex.connection.client.ip = s.client;
        ex.completeness.decodeError = s.decodeError;
        return ex;
      });
      const inline = redactor();
      const want = exs.map((ex) => exchangeText(inline.redact(copy(ex))));
      assert.deepEqual(viaTransfer(exs.map(copy)).map(exchangeText), want);
    },
  ), { numRuns: 300, seed: 20261124 });
});
