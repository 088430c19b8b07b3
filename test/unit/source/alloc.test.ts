/**
 * The in-place path allocates nothing per record (gopacket's TestFullyOrderedAndCompleteStreamDoesNotAlloc idea).
 *
 * A child Node with a fixed 128 MB young generation (so no scavenge hides anything) feeds one reader an endless
 * stream of records in 1 MiB chunks (records split across chunks included), warms up on 1M records, then measures
 * the heap growth over 2M more. Timestamps and lengths above 2^31 are used on purpose: boxing any of them would
 * cost 16 bytes per record. The bound (4 bytes per record) leaves room for V8 re-optimising mid-run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const PROBE = `
const { createCaptureReader } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/source/capture-reader.js'))});
const fmt = process.argv[1];
const RECORDS = 100003, CHUNK = 1 << 20;
let head, b;
if (fmt === 'pcap') {
  // pcap LE µs, Ethernet; records of 1 captured byte, seconds past 2^31
  head = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
  b = Buffer.alloc(RECORDS * 17);
  for (let i = 0, o = 0; i < RECORDS; i++, o += 17) {
    b.writeUInt32LE(2200000000 + i, o); b.writeUInt32LE(i % 1000000, o + 4); b.writeUInt32LE(1, o + 8); b.writeUInt32LE(60, o + 12);
  }
} else {
  // pcapng LE: SHB, IDB with if_tsresol 9 (ns); EPBs with low timestamp words spread over 2^32
  head = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000010000001c000000010000000000000009000100090000001c000000', 'hex');
  b = Buffer.alloc(RECORDS * 36);
  for (let i = 0, o = 0; i < RECORDS; i++, o += 36) {
    b.writeUInt32LE(6, o); b.writeUInt32LE(36, o + 4); b.writeUInt32LE(395812500, o + 12);
    b.writeUInt32LE(Math.imul(i, 0x9e3779b1) >>> 0, o + 16); b.writeUInt32LE(4, o + 20); b.writeUInt32LE(60, o + 24); b.writeUInt32LE(36, o + 32);
  }
}
let frames = 0, badTs = 0;
const r = createCaptureReader({ onFrame(f) { frames++; if (!(f.tsMicros > 1e15)) badTs++; } });
r.push(head);
const twice = Buffer.concat([b, b]);
let pos = 0;
const feed = (n) => { for (let k = 0; k < n; k += CHUNK) { r.push(twice.subarray(pos, pos + CHUNK)); pos = (pos + CHUNK) % b.length; } };
feed(b.length * 10);
global.gc();
const h0 = process.memoryUsage().heapUsed;
frames = 0;
feed(b.length * 20);
const h1 = process.memoryUsage().heapUsed;
process.stdout.write(JSON.stringify({ frames, badTs, bytesPerRecord: (h1 - h0) / frames }));
`;

function probe(fmt: 'pcap' | 'pcapng'): { frames: number; badTs: number; bytesPerRecord: number } {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128', '-e', PROBE, fmt],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { frames: number; badTs: number; bytesPerRecord: number };
}

describe('allocation', () => {
  for (const fmt of ['pcap', 'pcapng'] as const) {
    it(`${fmt}: no allocation per in-place record`, () => {
      const got = probe(fmt);
      assert.ok(got.frames > 1_900_000, `only ${got.frames} frames`);
      assert.equal(got.badTs, 0);
      assert.ok(got.bytesPerRecord < 4, `${got.bytesPerRecord.toFixed(2)} bytes allocated per record`);
    });
  }
});
