import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counters } from '../../../src/observe/counters';
import { HalfStream, type ReassemblyBudget } from '../../../src/reassembly/half-stream';
import { RecordingSink } from './recording-sink';

/** A 40-byte IPv4+TCP header stand-in before the payload, so in-order data must be a view. */
const HDR = 40;

interface Rig {
  hs: HalfStream;
  sink: RecordingSink;
  counters: Counters;
  budget: ReassemblyBudget;
  /** Sends `payload` at `seq` (payload bytes after a fake header), plus `missing` cut-off bytes. */
  seg(seq: number, payload: string, missing?: number): void;
}

function rig(opts: { maxBytes?: number; maxSegs?: number; total?: number; budget?: ReassemblyBudget; sink?: RecordingSink; counters?: Counters } = {}): Rig {
  const sink = opts.sink ?? new RecordingSink();
  const counters = opts.counters ?? new Counters();
  const budget = opts.budget ?? { bufferedBytes: 0, maxBufferedBytesTotal: opts.total ?? 1 << 30 };
  const hs = new HalfStream(0, sink, counters, { maxBufferedBytes: opts.maxBytes ?? 1 << 20, maxSegments: opts.maxSegs ?? 100 }, budget);
  return {
    hs,
    sink,
    counters,
    budget,
    seg(seq, payload, missing = 0) {
      const buf = Buffer.alloc(HDR + payload.length, 0xee);
      buf.write(payload, HDR, 'latin1');
      hs.segment(seq >>> 0, buf, HDR, payload.length, missing, 1000 + seq);
    },
  };
}

test('in-order segments are delivered at once as views of the packet buffer', () => {
  const r = rig();
  r.hs.startAt(1001);
  r.seg(1001, 'GET / HTTP/1.1\r\n');
  r.seg(1017, 'Host: a\r\n\r\n');
  assert.deepEqual(r.sink.trace(0), ['d:GET / HTTP/1.1\r\n', 'd:Host: a\r\n\r\n']);
  assert.ok(r.sink.events.every((e) => e.t !== 'data' || e.view), 'zero copy: data is a view into the packet buffer');
  assert.equal(r.hs.nextSeq, 1028);
  assert.equal(r.counters.get('tcp_ooo_segments'), 0);
});

test('out-of-order segments are buffered and delivered in order', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(6, 'world');
  r.seg(11, '!');
  assert.deepEqual(r.sink.trace(0), []);
  assert.equal(r.hs.bufferedBytes, 6);
  assert.equal(r.budget.bufferedBytes, 6);
  r.seg(0, 'hello ');
  assert.equal(r.sink.text(0), 'hello world!');
  assert.equal(r.counters.get('tcp_ooo_segments'), 2);
  assert.equal(r.hs.bufferedBytes, 0);
  assert.equal(r.budget.bufferedBytes, 0);
});

test('duplicates: already delivered bytes are counted as retransmitted, buffered duplicates as overlap', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(0, 'abcd');
  r.seg(0, 'abcd');
  r.seg(2, 'cdef'); // half retransmission, half new
  r.seg(10, 'klm');
  r.seg(10, 'klm');
  r.seg(6, 'ghij');
  assert.equal(r.sink.text(0), 'abcdefghijklm');
  assert.equal(r.counters.get('tcp_retransmitted_bytes'), 4 + 2);
  assert.equal(r.counters.get('tcp_overlap_bytes'), 3);
});

test('overlap on both sides of a buffered segment: first copy wins', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(10, 'FIRST');   // [10,15) held
  r.seg(5, 'xxxxxyyyyyzzzzz'); // [5,20): front [5,10) and back [15,20) are new, middle overlaps
  r.seg(0, '01234');
  assert.equal(r.sink.text(0), '01234xxxxxFIRSTzzzzz');
  assert.equal(r.counters.get('tcp_overlap_bytes'), 5);
});

test('an in-order segment running into buffered data yields to it and resumes after it', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(4, 'BB');
  r.seg(0, 'aaaaxxccc'); // [0,9); [4,6) already held
  assert.deepEqual(r.sink.trace(0), ['d:aaaa', 'd:BB', 'd:ccc']);
  assert.equal(r.counters.get('tcp_overlap_bytes'), 2);
  assert.equal(r.hs.nextSeq, 9);
});

test('sequence numbers wrap at 2^32', () => {
  const r = rig();
  const isn = 0xfffffff9; // data starts at ISN+1 = 0xfffffffa
  r.hs.startAt(isn + 1);
  r.seg(0xfffffffa, 'abcd'); // up to 0xfffffffe
  r.seg(0x00000002, 'ghij'); // after the wrap, out of order
  r.seg(0xfffffffe, 'ef12'); // crosses the wrap: 0xfffffffe, 0xffffffff, 0, 1
  assert.equal(r.sink.text(0), 'abcdef12ghij');
  assert.equal(r.hs.nextSeq, 6);
  r.hs.fin(6, 5);
  assert.deepEqual(r.sink.trace(0).slice(-1), ['end:fin']);
});

test('mid-stream: the first segment seen starts the stream', () => {
  const r = rig();
  r.seg(123456789, 'HTTP/1.1 200 OK\r\n');
  assert.equal(r.hs.started, true);
  assert.equal(r.hs.startSeq, 123456789);
  r.seg(123456789 - 10, 'older data'); // before the start: treated as retransmission
  assert.equal(r.sink.text(0), 'HTTP/1.1 200 OK\r\n');
  assert.equal(r.counters.get('tcp_retransmitted_bytes'), 10);
});

test('truncated segments: the cut-off bytes become a truncated gap exactly where they fall', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(0, 'abc', 7); // 10 bytes on the wire, 3 captured
  r.seg(20, 'uvw', 2); // out of order, also truncated
  r.seg(10, 'klmnopqrst');
  r.seg(25, 'z');
  assert.deepEqual(r.sink.trace(0), ['d:abc', 't:7', 'd:klmnopqrst', 'd:uvw', 't:2', 'd:z']);
  assert.equal(r.counters.get('truncated_bytes'), 9);
  assert.equal(r.counters.get('gap_bytes'), 0);
});

test('ACK beyond a hole skips it as a gap when it reaches buffered data', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(0, 'aaaa');
  r.seg(8, 'cccc');
  r.hs.ack(6, 1); // does not reach the buffered segment: may still be in flight
  assert.equal(r.sink.text(0), 'aaaa');
  r.hs.ack(12, 2); // the receiver holds [4,8): we lost it
  assert.deepEqual(r.sink.trace(0), ['d:aaaa', 'g:4', 'd:cccc']);
  assert.equal(r.counters.get('gap_bytes'), 4);
  r.seg(4, 'bbbb'); // the lost bytes arrive late: retransmission, not delivered twice
  assert.equal(r.counters.get('tcp_retransmitted_bytes'), 4);
  assert.equal(r.sink.text(0), 'aaaa~~~~cccc');
});

test('ACK of the FIN flushes a hole before the FIN', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(0, 'ab');
  r.hs.fin(6, 1);
  assert.equal(r.hs.ended, false);
  r.hs.ack(7, 2);
  assert.deepEqual(r.sink.trace(0), ['d:ab', 'g:4', 'end:fin']);
});

test('per-direction byte cap: holes are skipped instead of stalling', () => {
  const r = rig({ maxBytes: 8 });
  r.hs.startAt(0);
  r.seg(4, 'bbbb');
  r.seg(10, 'cccc'); // 8 bytes held: at the cap, still fine
  assert.equal(r.sink.text(0), '');
  r.seg(16, 'dddd'); // 12 > 8: skip the first hole [0,4) and drain [4,8); 8 left ≤ cap
  assert.deepEqual(r.sink.trace(0), ['g:4', 'd:bbbb']);
  assert.equal(r.counters.get('tcp_ooo_overflow_bytes'), 4);
  assert.ok(r.hs.bufferedBytes <= 8);
  r.hs.flush(3);
  assert.equal(r.sink.text(0), '~~~~bbbb~~cccc~~dddd');
});

test('per-direction segment cap: holes are skipped instead of stalling', () => {
  const r = rig({ maxSegs: 2 });
  r.hs.startAt(0);
  r.seg(2, 'b');
  r.seg(4, 'c');
  r.seg(6, 'd');
  assert.equal(r.hs.bufferedSegments, 2);
  assert.equal(r.sink.text(0), '~~b');
  assert.equal(r.counters.get('gap_bytes'), 2);
});

test('global budget: the direction that pushes the total over its cap is flushed', () => {
  const budget: ReassemblyBudget = { bufferedBytes: 0, maxBufferedBytesTotal: 10 };
  const counters = new Counters();
  const a = rig({ budget, counters });
  const b = rig({ budget, counters });
  a.hs.startAt(0);
  b.hs.startAt(0);
  a.seg(5, 'AAAAAAAA'); // 8 held
  b.seg(3, 'BBBB'); // 12 > 10: b pays
  assert.equal(a.sink.text(0), '');
  assert.equal(b.sink.text(0), '~~~BBBB');
  assert.equal(budget.bufferedBytes, 8);
  a.hs.flush(1);
  assert.equal(budget.bufferedBytes, 0);
});

test('a FIN reached in order ends the direction; data beyond the FIN is dropped and counted', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(0, 'abc');
  r.hs.fin(3, 5);
  assert.deepEqual(r.sink.trace(0), ['d:abc', 'end:fin']);
  r.seg(3, 'zz');
  assert.equal(r.counters.get('tcp_data_after_fin_bytes'), 2);
  assert.deepEqual(r.sink.trace(0), ['d:abc', 'end:fin']);
  assert.deepEqual(r.sink.violations, []);
});

test('FIN before the data it follows waits, then ends when the data arrives', () => {
  const r = rig();
  r.hs.startAt(0);
  r.hs.fin(5, 1);
  r.seg(0, 'abcdefg'); // the last 2 bytes would be beyond the FIN
  assert.deepEqual(r.sink.trace(0), ['d:abcde', 'end:fin']);
  assert.equal(r.counters.get('tcp_data_after_fin_bytes'), 2);
});

test('forced flush delivers buffered data with gaps and reports the tail up to the highest ACK', () => {
  const r = rig();
  r.hs.startAt(100);
  r.seg(105, 'bb');
  r.seg(110, 'cc');
  r.hs.ack(115, 1); // covers the buffered data: holes skipped now
  assert.equal(r.sink.text(0), '~~~~~bb~~~cc');
  r.hs.flush(2);
  assert.equal(r.sink.text(0), '~~~~~bb~~~cc~~~');
  assert.equal(r.counters.get('gap_bytes'), 5 + 3 + 3);
});

test('segments far outside the window are ignored and counted', () => {
  const r = rig();
  r.hs.startAt(0);
  r.seg(0x50000000, 'far');
  r.seg(0xb0000000, 'far');
  assert.equal(r.counters.get('tcp_out_of_window_segments'), 2);
  assert.equal(r.hs.bufferedBytes, 0);
  r.hs.flush(1);
  assert.deepEqual(r.sink.events, []);
});
