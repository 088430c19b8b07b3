/**
 * Property tests for the flow table + reassembler, from bytes: IPv4[TCP] packets built by
 * tcp-packet.ts from a known byte stream, segmented, reordered, duplicated, dropped and truncated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodedPacket, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../../src/decode/decoded-packet';
import { FlowTable } from '../../../src/flow/flow-table';
import { Counters } from '../../../src/observe/counters';
import { tcpPacket, type SegSpec } from '../flow/tcp-packet';
import { RecordingSink } from './recording-sink';

const streamByte = (i: number): number => (i * 131 + 17) & 0xff;

interface Pkt {
  spec: SegSpec;
  key: number;
}

const scenario = fc.record({
  len: fc.integer({ min: 1, max: 2000 }),
  isn: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xfffff000, max: 0xffffffff })),
  sizes: fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
  // Per segment: [drop?, copies (1..3), bytes cut off at the end, sort key per copy]
  fates: fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 50 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 })), { minLength: 40, maxLength: 40 }),
  extraRetrans: fc.array(fc.tuple(fc.integer({ min: 0, max: 1999 }), fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 6 }),
  acks: fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 5 }),
  finKey: fc.double({ min: 0, max: 1, noNaN: true }),
  lossy: fc.boolean(),
  caps: fc.oneof(fc.constant({ bytes: 1 << 20, segs: 4096 }), fc.record({ bytes: fc.integer({ min: 1, max: 600 }), segs: fc.integer({ min: 1, max: 8 }) })),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function run(sc: Scenario): { sink: RecordingSink; counters: Counters; table: FlowTable; data: Buffer; len: number } {
  const data = Buffer.alloc(sc.len);
  for (let i = 0; i < sc.len; i++) data[i] = streamByte(i);
  const base = { src: '10.1.1.1', dst: '10.2.2.2', sport: 5555, dport: 80 };
  const rev = { src: '10.2.2.2', dst: '10.1.1.1', sport: 80, dport: 5555 };
  const first = (sc.isn + 1) >>> 0;
  const pkts: Pkt[] = [];
  let off = 0;
  for (let i = 0; off < sc.len; i++) {
    const size = Math.min(sc.sizes[i % sc.sizes.length], sc.len - off);
    const [dropRoll, copies, cut, keys] = sc.fates[i % sc.fates.length];
    const dropped = sc.lossy && dropRoll < 2;
    const missing = sc.lossy ? Math.min(cut, size) : 0;
    if (!dropped) {
      for (let c = 0; c < copies; c++) {
        pkts.push({
          spec: { ...base, seq: (first + off) >>> 0, ack: 1, flags: TCP_ACK | TCP_PSH, payload: data.subarray(off, off + size - missing), missing },
          key: keys[c] + i * (sc.lossy ? 0 : 0.02),
        });
      }
    }
    off += size;
  }
  for (const [at, n, key] of sc.extraRetrans) {
    const a = at % sc.len;
    const b = Math.min(sc.len, a + n);
    pkts.push({ spec: { ...base, seq: (first + a) >>> 0, ack: 1, flags: TCP_ACK, payload: data.subarray(a, b) }, key });
  }
  if (sc.lossy) {
    for (const [k, key] of sc.acks) pkts.push({ spec: { ...rev, seq: 1, ack: (first + Math.min(k, sc.len)) >>> 0, flags: TCP_ACK }, key });
  }
  pkts.push({ spec: { ...base, seq: (first + sc.len) >>> 0, ack: 1, flags: TCP_ACK | TCP_FIN }, key: sc.finKey });
  pkts.sort((x, y) => x.key - y.key);

  const counters = new Counters();
  let sink = new RecordingSink();
  const table = new FlowTable(
    { source: 'test', maxBufferedBytesPerDirection: sc.caps.bytes, maxSegmentsPerDirection: sc.caps.segs },
    counters,
    () => (sink = new RecordingSink()),
  );
  const pkt = new DecodedPacket();
  let ts = 1;
  table.handle(tcpPacket({ ...base, seq: sc.isn, flags: TCP_SYN }, pkt), ts, ts);
  for (const p of pkts) {
    table.handle(tcpPacket(p.spec, pkt), ++ts, ts);
    assert.ok(table.bufferedBytes <= sc.caps.bytes, 'per-direction cap holds');
  }
  table.closeAll('end_of_input', ++ts);
  return { sink, counters, table, data, len: sc.len };
}

test('delivered data + gaps cover exactly the stream, and delivered bytes are the original ones', () => {
  fc.assert(
    fc.property(scenario, (sc) => {
      const { sink, counters, table, data, len } = run(sc);
      assert.deepEqual(sink.violations, []);
      let pos = 0;
      let gapSum = 0;
      for (const e of sink.events) {
        if (e.t === 'data') {
          assert.equal(e.dir, 0);
          assert.ok(e.data.equals(data.subarray(pos, pos + e.data.length)), `bytes at ${pos}`);
          pos += e.data.length;
        } else if (e.t === 'gap') {
          assert.equal(e.dir, 0);
          pos += e.n;
          gapSum += e.n;
        }
      }
      assert.equal(pos, len);
      assert.equal(counters.get('gap_bytes') + counters.get('truncated_bytes'), gapSum);
      assert.deepEqual(sink.trace(0).slice(-1), ['end:fin']);
      assert.equal(sink.closeReason() !== undefined, true);
      assert.equal(table.bufferedBytes, 0);
      if (!sc.lossy && sc.caps.bytes >= 1 << 20) assert.equal(gapSum, 0, 'nothing lost: no gaps');
    }),
    { numRuns: 300 },
  );
});

test('arbitrary segments, flags and timestamps never throw and keep the sink contract', () => {
  const seg = fc.record({
    fromClient: fc.boolean(),
    port: fc.integer({ min: 1, max: 3 }),
    vni: fc.constantFrom(-1, 7),
    seq: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 3000 })),
    ack: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 3000 })),
    flags: fc.oneof(fc.constantFrom(TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK, TCP_RST), fc.integer({ min: 0, max: 255 })),
    len: fc.integer({ min: 0, max: 300 }),
    missing: fc.integer({ min: 0, max: 100 }),
    dt: fc.integer({ min: -1000, max: 3_000_000 }),
    expire: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(seg, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), (segs, maxFlows) => {
      const counters = new Counters();
      const sinks: RecordingSink[] = [];
      const table = new FlowTable(
        { source: 't', maxFlows, idleTimeoutMicros: 5_000_000, closedLingerMicros: 1_000_000, maxBufferedBytesPerDirection: 500, maxBufferedBytesTotal: 800, maxSegmentsPerDirection: 5 },
        counters,
        () => {
          const s = new RecordingSink();
          sinks.push(s);
          return s;
        },
      );
      const pkt = new DecodedPacket();
      let ts = 0;
      let frame = 0;
      for (const s of segs) {
        ts += s.dt;
        const ends = s.fromClient
          ? { src: '10.0.0.1', dst: '10.0.0.2', sport: 1000 + s.port, dport: 80 }
          : { src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 1000 + s.port };
        const out = table.handle(tcpPacket({ ...ends, seq: s.seq, ack: s.ack, flags: s.flags, payload: Buffer.alloc(s.len, 0x41), missing: s.missing, vni: s.vni === -1 ? undefined : s.vni } as SegSpec, pkt), ts, ++frame);
        assert.ok(out === 'tcp_to_flow' || out === 'tcp_no_flow');
        assert.ok(table.size + table.lingeringCount <= maxFlows);
        assert.ok(table.bufferedBytes <= 800);
        if (s.expire) table.expire(ts);
      }
      table.closeAll('end_of_input', ts);
      assert.equal(table.size, 0);
      assert.equal(table.bufferedBytes, 0);
      for (const s of sinks) {
        assert.deepEqual(s.violations, []);
        assert.notEqual(s.closeReason(), undefined);
      }
      assert.equal(counters.get('flows_created'), sinks.length);
    }),
    { numRuns: 200 },
  );
});
