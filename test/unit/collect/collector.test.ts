import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { walkStore } from '../../../src/collect/read-store';
import { ErrorCode, FrameDecoder, encodeFrame, type DecodedFrame } from '../../../src/delivery/frame-codec';
import { SCHEMA_VERSION } from '../../../src/exchange/record';
import { deliver, hello, runCollector, type Running } from './helpers';

/** Raw client: writes bytes, collects frames until the server closes. */
function rawSession(port: number, bytes: Buffer[], gapMs = 0): Promise<{ frames: DecodedFrame[]; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const frames: DecodedFrame[] = [];
    const d = new FrameDecoder(1 << 20, (f) => frames.push(f));
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const b of bytes) {
        if (s.destroyed) break;
        s.write(b);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    s.on('data', (c: Buffer) => d.push(c));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ frames, ms: Date.now() - t0 }));
  });
}

function errorCode(frames: DecodedFrame[]): number | undefined {
  const e = frames.find((f) => f.kind === 'error');
  return e && e.kind === 'error' ? e.error.code : undefined;
}

describe('collector: misbehaving connections are cut, one log line each, others keep being served', () => {
  let r: Running;
  before(async () => {
    r = await runCollector({ token: 's3cret', maxFrameBytes: 64 * 1024 });
  });
  after(async () => {
    await r.collector.close();
    await r.store.close();
  });

  it('garbage, oversized frames, no hello, slow senders, bad token, newer schema — while an agent delivers', async () => {
    const good = deliver({ host: '127.0.0.1', port: r.port }, 200, hello({ token: 's3cret' }));
    const http = Buffer.from('GET / HTTP/1.1\r\nHost: collector\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n' + 'x'.repeat(40));
    const [garbage, oversized, silent, badToken, newer, older, beforeHello] = await Promise.all([
      rawSession(r.port, [http]),
      rawSession(r.port, [Buffer.from([0x80, 0x80, 0x80, 0x01])]), // length 2 MiB > 64 KiB
      rawSession(r.port, []),
      rawSession(r.port, [encodeFrame({ hello: hello({ token: 'wrong' }) })]),
      rawSession(r.port, [encodeFrame({ hello: hello({ token: 's3cret', schemaVersion: SCHEMA_VERSION + 1 }) })]),
      rawSession(r.port, [encodeFrame({ hello: hello({ token: 's3cret', schemaVersion: 0, agentId: 'old' }) })]),
      rawSession(r.port, [encodeFrame({ heartbeat: { micros: 1 } })]),
    ]);
    assert.equal(errorCode(garbage.frames), ErrorCode.BAD_FRAME);
    assert.equal(errorCode(oversized.frames), ErrorCode.FRAME_TOO_LARGE);
    assert.equal(errorCode(silent.frames), ErrorCode.IDLE_TIMEOUT);
    assert.equal(errorCode(badToken.frames), ErrorCode.AUTH_FAILED);
    assert.equal(errorCode(newer.frames), ErrorCode.UNSUPPORTED_VERSION);
    assert.equal(older.frames[0]?.kind, 'helloAck', 'an older agent is accepted');
    assert.equal(errorCode(older.frames), ErrorCode.IDLE_TIMEOUT, '…and later cut when it stays silent (half-open)');
    assert.equal(errorCode(beforeHello.frames), ErrorCode.PROTOCOL_VIOLATION);
    const c = await good;
    assert.equal(c.get('sink_exchanges_acked'), 200);
    const warns = r.logs.filter((l) => l.level === 40);
    assert.equal(warns.length, 7, JSON.stringify(warns));
    assert.ok(!JSON.stringify(r.logs).includes('s3cret') && !JSON.stringify(r.logs).includes('wrong'), 'tokens never logged');
    assert.equal([...walkStore(r.store.dir)].reduce((n, x) => n + x.exchanges.length, 0), 200);
  });

  it('a frame trickling in slower than the frame deadline is cut', async () => {
    const slow = await runCollector({ frameDeadlineMs: 300, idleTimeoutMs: 5000 });
    const f = encodeFrame({ hello: hello() });
    const res = await rawSession(slow.port, [...f].map((b) => Buffer.from([b])), 100);
    assert.equal(errorCode(res.frames), ErrorCode.IDLE_TIMEOUT);
    assert.ok(res.ms < 3000);
    await slow.collector.close();
    await slow.store.close();
  });
});
