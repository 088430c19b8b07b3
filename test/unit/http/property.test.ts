/**
 * Property tests (fast-check): HttpStream never throws on arbitrary or mutated HTTP/1.x bytes, with
 * arbitrary segmentation and gaps, and every request and response lands in exactly one exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { harness, meta, req, res } from './helpers';

const REQS = Buffer.from(
  req('GET', '/a') + req('POST', '/b', ['Content-Length: 3'], 'xyz') + req('HEAD', '/c') +
    req('PUT', '/d', ['Transfer-Encoding: chunked'], '2\r\nab\r\n0\r\n\r\n'),
);
const RESS = Buffer.concat([
  res(200, 'OK', ['Content-Length: 2'], 'ok'),
  res(100, 'Continue'),
  res(201, 'Created', ['Transfer-Encoding: chunked'], '1\r\nz\r\n0\r\nT: x\r\n\r\n'),
  res(200, 'OK', ['Content-Length: 50']),
  res(204, 'No Content'),
]);

type Op = { kind: 'data'; dir: 0 | 1; cut: number } | { kind: 'gap'; dir: 0 | 1; n: number } | { kind: 'end'; dir: 0 | 1 };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('data' as const), dir: fc.constantFrom(0 as const, 1 as const), cut: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), dir: fc.constantFrom(0 as const, 1 as const), n: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('end' as const), dir: fc.constantFrom(0 as const, 1 as const) }) },
);

function mutate(b: Buffer, flips: [number, number][]): Buffer {
  const out = Buffer.from(b);
  for (const [i, v] of flips) out[i % out.length] = v;
  return out;
}

test('never throws; emitted exchanges have consecutive indexes; counters stay finite', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 40 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.boolean(),
      fc.constantFrom('fin', 'rst', 'idle_timeout', 'evicted', 'end_of_input'),
      (ops, flips, known, reason) => {
        const h = harness(meta({ initiatorKnown: known, midStream: !known }), { maxBodyBytes: 16, maxHeaderBytes: 120 });
        const streams = [mutate(REQS, flips), mutate(RESS, flips)];
        const pos = [0, 0];
        for (const op of ops) {
          if (op.kind === 'data') {
            const s = streams[op.dir];
            const p = pos[op.dir];
            if (p >= s.length) continue;
            h.send(op.dir, s.subarray(p, p + op.cut));
            pos[op.dir] = p + op.cut;
          } else if (op.kind === 'gap') {
            pos[op.dir] += op.n;
            h.sink.onGap(op.dir, op.n, 5, false);
          } else h.sink.onEnd(op.dir, 'fin', 6);
        }
        h.sink.onClose(reason as 'fin', 7);
        assert.deepEqual(
          h.out.map((e) => e.index),
          h.out.map((_e, i) => i),
        );
        for (const ex of h.out) assert.ok(ex.request !== undefined || ex.response !== undefined);
        for (const v of Object.values(h.counters.snapshot())) assert.ok(Number.isFinite(v) && v >= 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('clean streams: every request and every final response appear exactly once', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (cuts) => {
      // The request stream stays ahead of the response stream (as on the wire: a response follows its request).
      const h = harness();
      const p = [0, 0];
      let i = 0;
      while (p[0] < REQS.length || p[1] < RESS.length) {
        const c = cuts[i++ % cuts.length];
        if (p[0] < REQS.length) {
          h.send(0, REQS.subarray(p[0], p[0] + c));
          p[0] += c;
        } else {
          h.send(1, RESS.subarray(p[1], p[1] + c));
          p[1] += c;
        }
      }
      h.sink.onClose('fin', 9);
      // Responses: 200, (100 skipped), 201, 200 (to HEAD, no body), 204 → 4 final; requests: 4.
      assert.deepEqual(
        h.out.map((e) => [e.request?.url, e.response?.status]),
        [
          ['/a', 200],
          ['/b', 201],
          ['/c', 200],
          ['/d', 204],
        ],
      );
      assert.equal(h.out[1].response?.body.toString(), 'z');
      assert.equal(h.out[3].request?.body.toString(), 'ab');
    }),
    { numRuns: 200 },
  );
});
