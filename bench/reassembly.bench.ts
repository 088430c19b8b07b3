/**
 * Micro-benchmark of FlowTable.handle + reassembly: in-order and out-of-order ns/segment.
 * Plain process.hrtime loop (no benchmark dependency). Run: node dist/bench/reassembly.bench.js
 *
 * Setup: CONNS connections (IPv4[TCP]) each get SEGS segments of PAYLOAD bytes round-robin; the
 * DecodedPacket is reused and only seq/ack change per segment, as the decoder would do. The sink
 * counts bytes and keeps nothing.
 */
import { DecodedPacket, TCP_ACK, TCP_SYN } from '../src/decode/decoded-packet';
import { FlowTable } from '../src/flow/flow-table';
import { Counters } from '../src/observe/counters';
import type { StreamSink } from '../src/reassembly/stream-sink';

const CONNS = 1000;
const SEGS = 200;
const PAYLOAD = 1400;

let delivered = 0;
const sink: StreamSink = {
  onData: (_d, data) => {
    delivered += data.length;
  },
  onGap: () => undefined,
  onEnd: () => undefined,
  onClose: () => undefined,
};

function packetFor(i: number): DecodedPacket {
  const p = new DecodedPacket();
  const buf = Buffer.alloc(40 + PAYLOAD, 0x61);
  buf[0] = 0x45;
  buf.writeUInt32BE(0x0a000000 + (i >> 8), 12);
  buf.writeUInt32BE(0x0a800000 + (i & 0xff), 16);
  p.buf = buf;
  p.ipVersion = 4;
  p.ipProto = 6;
  p.srcAddrOff = 12;
  p.dstAddrOff = 16;
  p.srcPort = 10000 + (i % 50000);
  p.dstPort = 80;
  p.payloadOff = 40;
  return p;
}

function run(name: string, order: (s: number) => number): void {
  const table = new FlowTable({ source: 'bench' }, new Counters(), () => sink);
  const pkts = Array.from({ length: CONNS }, (_, i) => packetFor(i));
  let frame = 0;
  for (const p of pkts) {
    p.tcpFlags = TCP_SYN;
    p.seq = 1000;
    p.payloadLen = 0;
    table.handle(p, 0, ++frame);
  }
  delivered = 0;
  if (typeof global.gc === 'function') global.gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < SEGS; s++) {
    const k = order(s);
    for (let c = 0; c < CONNS; c++) {
      const p = pkts[c];
      p.tcpFlags = TCP_ACK;
      p.seq = 1001 + k * PAYLOAD;
      p.ack = 1;
      p.payloadLen = PAYLOAD;
      table.handle(p, s, ++frame);
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const heap1 = process.memoryUsage().heapUsed;
  const n = SEGS * CONNS;
  const mb = (delivered / 1e6) / (ns / 1e9);
  table.closeAll('end_of_input', SEGS);
  console.log(
    `${name.padEnd(14)} ${(ns / n).toFixed(0).padStart(6)} ns/segment  ${(n / (ns / 1e9) / 1e6).toFixed(2)} Msegments/s  ${mb.toFixed(0)} MB/s  heap +${((heap1 - heap0) / 1e6).toFixed(1)} MB` +
      (delivered === n * PAYLOAD ? '' : `  (delivered ${delivered} of ${n * PAYLOAD})`),
  );
}

const only = process.argv[2]; // 'in-order' | 'out-of-order' | undefined (both)
for (let round = 0; round < 3; round++) {
  if (only !== 'out-of-order') run('in-order', (s) => s);
  // Pairs swapped: 1, 0, 3, 2, …: every other segment is buffered (copied) and then drained.
  if (only !== 'in-order') run('out-of-order', (s) => (s % 2 === 0 ? s + 1 : s - 1));
}
