/**
 * Property tests: arbitrary bytes and mutated real captures never make the reader throw anything but CaptureError,
 * never hang, and give the same result however the input is cut into chunks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { collect, comparable, corpusFile, HAVE_CORPUS } from './helpers';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Seeds used when the corpus is absent: a pcap and a pcapng with two sections (see pcap/pcapng tests for layouts).
const SEED_PCAP = hex(`
  a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000001
  6553f280 0001e240 00000004 0000003c deadbeef 6553f281 00000000 00000002 00000002 cafe`);
const SEED_PCAPNG = hex(`
  0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
  01000000 2c000000 0100 0000 ffff0000 0900 0100 09000000 0e00 0800 6400000000000000 0000 0000 2c000000
  06000000 24000000 00000000 fe9c9717 15cd853d 04000000 3c000000 deadbeef 24000000
  03000000 14000000 04000000 cafebabe 14000000
  0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffffffffffff 0000001c
  00000001 00000014 0065 0000 00000000 00000014
  00000002 00000024 0000 0000 00060a24 1846c071 00000004 00000004 c0ffee00 00000024`);

const seeds: Buffer[] = [SEED_PCAP, SEED_PCAPNG];
if (HAVE_CORPUS) {
  for (const f of [
    'tcpdump/tcp-handshake-nano.pcap',
    'lab/vxlan-http-lab-nanosec-bigendian.pcap',
    'gopacket/bigendian-test202.pcapng',
    'zeek/pcapng-multi-interface.pcapng',
    'zeek/tcp_http-on-irc-port-missing-syn.pcapng',
    'suricata-verify/http-chunked.pcap',
  ]) {
    seeds.push(corpusFile(f));
  }
}

/** Chunk sizes drawn from a list, cycled. */
function sizes(list: number[]): () => number {
  let i = 0;
  return () => list[i++ % list.length];
}

/** Whole-input result; also checks that two other chunkings agree with it. Throws only if a non-CaptureError escaped. */
function checkChunkingInvariant(input: Buffer, chunkSizes: number[]): void {
  const whole = comparable(collect(input));
  assert.deepEqual(comparable(collect(input, sizes(chunkSizes))), whole);
  assert.deepEqual(comparable(collect(input, () => 1)), whole);
}

const MAGICS = ['a1b2c3d4', 'd4c3b2a1', 'a1b23c4d', '4d3cb2a1', '0a0d0d0a1c0000004d3c2b1a0100', '0a0d0d0a0000001c1a2b3c4d0001'];

describe('fuzz', { timeout: 60_000 }, () => {
  it('arbitrary bytes, with and without a valid magic in front', () => {
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom(...MAGICS), { nil: undefined }),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        (magic, body, chunkSizes) => {
          const input = Buffer.concat([magic === undefined ? Buffer.alloc(0) : hex(magic), Buffer.from(body)]);
          checkChunkingInvariant(input, chunkSizes);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('mutated real captures: byte flips, 32-bit overwrites, cuts and insertions', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        kind: fc.constant('u32' as const),
        at: fc.nat(),
        value: fc.constantFrom(0, 1, 3, 11, 12, 0x7fffffff, 0xffffffff, 0x10000000, 0x1a2b3c4d, 0x0a0d0d0a),
      }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.nat(64) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 6 }),
        (seedIdx, mutations, chunkSizes) => {
          let b = Buffer.from(seeds[seedIdx]);
          for (const m of mutations) {
            if (b.length === 0) break;
            const at = m.at % b.length;
            if (m.kind === 'flip') b[at] = m.value;
            else if (m.kind === 'u32' && at + 4 <= b.length) b.writeUInt32LE(m.value >>> 0, at);
            else if (m.kind === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.value)]);
            else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.value]), b.subarray(at)]);
          }
          const whole = comparable(collect(b));
          assert.deepEqual(comparable(collect(b, sizes(chunkSizes))), whole);
        },
      ),
      { numRuns: 600 },
    );
  });
});
