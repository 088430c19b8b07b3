import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DecodedPacket } from '../../../src/decode/decoded-packet';
import { ShadowtapError } from '../../../src/errors';
import { packageRoot } from '../../../src/package-root';
import { KIND_EXPIRE, KIND_SEGMENT, MAX_STRINGS, SegmentBatchReader, SegmentBatchWriter } from '../../../src/shard/segment-batch';
import { ShardedRead } from '../../../src/shard/sharded-read';
import { readCaptureInput } from '../../../src/source/file-source';

function packet(v: 4 | 6, payload: string, tunnelSource: string): DecodedPacket {
  const p = new DecodedPacket();
  const alen = v === 4 ? 4 : 16;
  // Addresses and payload somewhere inside a larger buffer, as the decoder leaves them.
  const buf = Buffer.alloc(100 + payload.length, 0xee);
  for (let i = 0; i < alen; i++) {
    buf[10 + i] = i + 1;
    buf[40 + i] = 200 - i;
  }
  buf.write(payload, 80, 'latin1');
  Object.assign(p, {
    buf, ipVersion: v, srcAddrOff: 10, dstAddrOff: 40, ipProto: 6, srcPort: 40001, dstPort: 8080,
    seq: 0xfffffff0, ack: 7, tcpFlags: 0x18, payloadOff: 80, payloadLen: payload.length, payloadMissing: 3,
    vni: 7001, tunnel: 'vxlan', tunnelSource, vlan: 42, depth: 1,
  });
  return p;
}

describe('segment batches', () => {
  it('carry every field the flow table reads, addresses and payload byte for byte, expiry records between', () => {
    const w = new SegmentBatchWriter();
    const a = packet(4, 'GET / HTTP/1.1\r\n\r\n', '10.201.0.1');
    const b = packet(6, 'x'.repeat(300_000), '10.201.0.9'); // larger than the writer's first buffer
    w.segment(a, 1, 1_000_000);
    w.expire(1, 1_000_000);
    w.segment(b, 2, 2_500_000);
    const batch = w.take();
    assert.equal(w.size, 0);
    const got = new DecodedPacket();
    const r = new SegmentBatchReader(batch, got);
    const expect = (want: DecodedPacket, alen: number): void => {
      for (const k of ['ipVersion', 'ipProto', 'srcPort', 'dstPort', 'seq', 'ack', 'tcpFlags', 'payloadLen', 'payloadMissing', 'vni', 'tunnel', 'tunnelSource', 'vlan', 'depth'] as const) {
        assert.equal(got[k], want[k], k);
      }
      assert.deepEqual(got.buf.subarray(got.srcAddrOff, got.srcAddrOff + alen), want.buf.subarray(10, 10 + alen));
      assert.deepEqual(got.buf.subarray(got.dstAddrOff, got.dstAddrOff + alen), want.buf.subarray(40, 40 + alen));
      assert.ok(got.buf.subarray(got.payloadOff, got.payloadOff + got.payloadLen).equals(want.buf.subarray(80, 80 + want.payloadLen)));
    };
    assert.equal(r.next(), KIND_SEGMENT);
    assert.deepEqual([r.frameNumber, r.nowMicros], [1, 1_000_000]);
    expect(a, 4);
    assert.equal(r.next(), KIND_EXPIRE);
    assert.deepEqual([r.frameNumber, r.nowMicros], [1, 1_000_000]);
    assert.equal(r.next(), KIND_SEGMENT);
    assert.deepEqual([r.frameNumber, r.nowMicros], [2, 2_500_000]);
    expect(b, 16);
    assert.equal(r.next(), 0);
  });

  it('carry more distinct tunnel sources than fit in a byte, and refuse more strings than the table holds', () => {
    const w = new SegmentBatchWriter();
    for (let i = 0; i < 300; i++) w.segment(packet(4, 'x', `172.16.${i >> 8}.${i & 255}`), i + 1, 1);
    const geneve = packet(6, 'y', '10.0.0.1');
    geneve.tunnel = 'geneve';
    w.segment(geneve, 301, 1);
    const pkt = new DecodedPacket();
    const r = new SegmentBatchReader(w.take(), pkt);
    const got: string[] = [];
    while (r.next() === KIND_SEGMENT) got.push(`${pkt.tunnel} ${pkt.tunnelSource}`);
    assert.equal(got.length, 301);
    assert.equal(got[299], 'vxlan 172.16.1.43');
    assert.equal(got[300], 'geneve 10.0.0.1');
    const full = new SegmentBatchWriter();
    assert.throws(() => {
      for (let i = 0; i < MAX_STRINGS; i++) full.segment(packet(4, '', `s${i}`), i + 1, 1);
    }, /more than 65535 distinct strings/);
    assert.equal(full.stringCount, MAX_STRINGS);
    assert.ok(full.full, "a full table says so");
  });

  it('a writer going on in a given-back buffer starts empty', () => {
    const w = new SegmentBatchWriter();
    w.segment(packet(4, 'abc', ''), 1, 1);
    const first = w.take();
    const again = w.take(first.bytes.buffer as ArrayBuffer);
    assert.equal(again.bytes.length, 0);
    w.segment(packet(4, 'defg', ''), 2, 2);
    const r = new SegmentBatchReader(w.take(), new DecodedPacket());
    assert.equal(r.next(), KIND_SEGMENT);
    assert.equal(r.frameNumber, 2);
    assert.equal(r.next(), 0);
  });
});

describe('sharded read: a failing thread ends the run with a clear error, never a hang', () => {
  const MIX = path.join(packageRoot(), 'pcaps', 'http', 'mix.pcap');
  const script = path.join(packageRoot(), 'dist', 'test', 'helpers', 'failing-shard-worker.js');
  for (const mode of ['exit', 'throw', 'error']) {
    it(`a worker that fails (${mode}) on its first round`, { timeout: 20_000 }, async () => {
      process.env.FAIL_SHARD_WORKER_AT = '1';
      process.env.FAIL_SHARD_WORKER_MODE = mode;
      const written: number[] = [];
      const output = { writeExchange: (b: Uint8Array) => void written.push(b.length), close: async () => undefined };
      const s = new ShardedRead({ shards: 2, source: 'file:t', outputs: [{ encoding: 'jsonl', output }], redact: null, workerScript: script });
      try {
        await assert.rejects(
          async () => {
            try {
              await readCaptureInput(MIX, { onFrame: (f) => s.onFrame(f), onWeird: () => undefined }, undefined, () => s.pace());
            } catch (err) {
              await s.abort();
              throw err;
            }
            await s.finish();
          },
          (err: unknown) => err instanceof ShadowtapError && err.code === 'CAP_ERR_INTERNAL' && err.exitCode === 5 && /parse thread [12] (failed|exited)/.test(err.message),
        );
      } finally {
        delete process.env.FAIL_SHARD_WORKER_AT;
        delete process.env.FAIL_SHARD_WORKER_MODE;
      }
      assert.deepEqual(written, [], 'nothing of the failed round is written');
    });
  }
});
