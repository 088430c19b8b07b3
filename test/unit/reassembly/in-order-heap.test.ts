/**
 * Heap guard for the in-order path (gopacket TestFullyOrderedAndCompleteStreamDoesNotAlloc in
 * spirit): a long in-order IPv4[TCP] stream through the FlowTable must not retain memory — nothing
 * is copied or buffered, and the only per-segment allocation (the subarray handed to the sink) is
 * garbage once onData returns. Needs `node --expose-gc --test …`; skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodedPacket, TCP_ACK, TCP_SYN } from '../../../src/decode/decoded-packet';
import { FlowTable } from '../../../src/flow/flow-table';
import { Counters } from '../../../src/observe/counters';
import type { StreamSink } from '../../../src/reassembly/stream-sink';
import { tcpPacket } from '../flow/tcp-packet';

const gc = (globalThis as { gc?: () => void }).gc;

test('in-order stream: no out-of-order copies and no retained heap', { skip: gc === undefined ? 'run with --expose-gc' : false }, () => {
  let bytes = 0;
  const sink: StreamSink = { onData: (_d, b) => { bytes += b.length; }, onGap: () => undefined, onEnd: () => undefined, onClose: () => undefined };
  const counters = new Counters();
  const table = new FlowTable({ source: 'heap' }, counters, () => sink);
  const ends = { src: '10.0.0.1', dst: '10.0.0.2', sport: 4000, dport: 80 };
  const pkt = new DecodedPacket();
  table.handle(tcpPacket({ ...ends, seq: 99, flags: TCP_SYN }, pkt), 0, 1);
  tcpPacket({ ...ends, seq: 100, ack: 1, flags: TCP_ACK, payload: Buffer.alloc(1000, 0x61) }, pkt);
  const N = 50_000;
  const step = (from: number): void => {
    for (let i = from; i < from + N; i++) {
      pkt.seq = (100 + i * 1000) >>> 0;
      table.handle(pkt, i, i + 2);
    }
  };
  step(0); // warm up (JIT, Map growth)
  gc!();
  const before = process.memoryUsage().heapUsed;
  step(N);
  gc!();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(bytes, 2 * N * 1000);
  assert.equal(counters.get('tcp_ooo_segments'), 0);
  assert.equal(table.bufferedBytes, 0);
  assert.ok(grown < 512 * 1024, `heap grew by ${grown} bytes over ${N} in-order segments`);
});
