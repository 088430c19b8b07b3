import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCode,
  FrameDecoder,
  batchPayloadOffset,
  encodeBatchFrame,
  encodeExchange,
  encodeFrame,
  peekBatchId,
  type DecodedFrame,
} from '../../../src/delivery/frame-codec';
import { backoffDelay } from '../../../src/delivery/transport';
import { exchangeFromProto } from '../../../src/collect/exchange-from-proto';
import { exchangeToProtoJson } from '../../../src/exchange/proto-json';
import { exchange } from './helpers';

function decodeAll(buf: Buffer, max = DEFAULT_MAX_FRAME_BYTES): { frames: DecodedFrame[]; status: string } {
  const frames: DecodedFrame[] = [];
  const d = new FrameDecoder(max, (f) => frames.push(f));
  return { frames, status: d.push(buf) };
}

describe('delivery frames', () => {
  it('decodes a hand-written Heartbeat frame', () => {
    // varint length 4 | Frame field 5 (heartbeat), LEN 2 | Heartbeat field 1 (micros) varint 1
    const { frames, status } = decodeAll(Buffer.from('04' + '2a02' + '0801', 'hex'));
    assert.equal(status, '');
    assert.deepEqual(frames, [{ kind: 'heartbeat', micros: 1 }]);
  });

  it('a batch built from pre-encoded exchanges decodes to the same exchanges', () => {
    const exs = [exchange(1), exchange(2, 'x'.repeat(300))];
    const frame = encodeBatchFrame(42, 'read:f:1:abc', 1_700_000_000_000_000, exs.map(encodeExchange));
    assert.deepEqual(peekBatchId(frame), { stream: 'read:f:1:abc', seq: 42 });
    assert.ok(batchPayloadOffset(frame) > 0);
    const { frames, status } = decodeAll(frame);
    assert.equal(status, '');
    assert.equal(frames.length, 1);
    const f = frames[0]!;
    assert.equal(f.kind, 'batch');
    if (f.kind !== 'batch') return;
    assert.equal(f.batch.seq, 42);
    assert.equal(f.batch.stream, 'read:f:1:abc');
    assert.deepEqual(
      f.batch.exchanges.map((m) => exchangeToProtoJson(exchangeFromProto(m))),
      exs.map((e) => exchangeToProtoJson(e)),
    );
  });

  it('control frames round-trip, also when the stream is cut into single bytes', () => {
    const bytes = Buffer.concat([
      encodeFrame({ hello: { agentId: 'a', node: 'n', mode: 'read', schemaVersion: 1, token: 't', protocolVersion: 1, agentVersion: '0' } }),
      encodeFrame({ ack: { seq: 7, stream: 's', duplicate: true } }),
      encodeFrame({ error: { code: ErrorCode.AUTH_FAILED, message: 'no' } }),
    ]);
    const frames: DecodedFrame[] = [];
    const d = new FrameDecoder(1024, (f) => frames.push(f));
    for (const b of bytes) assert.equal(d.push(Buffer.from([b])), '');
    assert.deepEqual(frames.map((f) => f.kind), ['hello', 'ack', 'error']);
    assert.deepEqual((frames[1] as { ack: unknown }).ack, { seq: 7, stream: 's', duplicate: true });
    assert.equal((frames[2] as { error: { code: number } }).error.code, ErrorCode.AUTH_FAILED);
  });

  it('a length over the cap is FRAME_TOO_LARGE before the bytes arrive; garbage is BAD_FRAME', () => {
    assert.equal(decodeAll(Buffer.from('8080800801', 'hex'), 1024).status, 'FRAME_TOO_LARGE');
    // 'G' reads as a length of 71: an HTTP request is judged once 71 bytes are in.
    assert.equal(decodeAll(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 1 << 20).status, '', 'waiting for the rest of the frame');
    assert.equal(decodeAll(Buffer.from('GET / HTTP/1.1\r\nHost: collector\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n' + 'x'.repeat(40)), 1 << 20).status, 'BAD_FRAME');
    assert.equal(decodeAll(Buffer.from('ffffffffffff', 'hex')).status, 'BAD_FRAME');
    assert.equal(decodeAll(Buffer.from('00', 'hex')).status, 'BAD_FRAME');
  });

  it('never throws on arbitrary or mutated bytes', () => {
    const good = Buffer.concat([encodeBatchFrame(3, 's', 0, [encodeExchange(exchange(3))]), encodeFrame({ heartbeat: { micros: 5 } })]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (junk, muts) => {
        const m = Buffer.from(good);
        for (const [i, v] of muts) m[i % m.length] = v;
        for (const input of [Buffer.from(junk), m]) {
          const r = decodeAll(input, 4096);
          assert.ok(['', 'BAD_FRAME', 'FRAME_TOO_LARGE'].includes(r.status));
          peekBatchId(input);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('backoff is capped exponential with jitter in [cap/2, cap]', () => {
    assert.equal(backoffDelay(0, 200, 30_000, () => 0), 100);
    assert.equal(backoffDelay(0, 200, 30_000, () => 1), 200);
    assert.equal(backoffDelay(3, 200, 30_000, () => 1), 1600);
    assert.equal(backoffDelay(40, 200, 30_000, () => 1), 30_000);
    assert.equal(backoffDelay(40, 200, 30_000, () => 0), 15_000);
  });
});
