import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodedPacket, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../../src/decode/decoded-packet';
import type { ConnectionMeta } from '../../../src/flow/connection-meta';
import { FlowTable, type FlowTableOptions } from '../../../src/flow/flow-table';
import { Counters } from '../../../src/observe/counters';
import { RecordingSink } from '../reassembly/recording-sink';
import { tcpPacket, type SegSpec } from './tcp-packet';

const C = '10.0.0.1';
const S = '10.0.0.2';
const CP = 40000;
const SP = 80;

class Rig {
  readonly counters = new Counters();
  readonly sinks: RecordingSink[] = [];
  readonly metas: ConnectionMeta[] = [];
  readonly table: FlowTable;
  readonly outcomes: string[] = [];
  private readonly pkt = new DecodedPacket();

  constructor(opts: Partial<FlowTableOptions> = {}) {
    this.table = new FlowTable({ source: 'file:test.pcap', ...opts }, this.counters, (meta) => {
      const s = new RecordingSink();
      this.sinks.push(s);
      this.metas.push(meta);
      return s;
    });
  }

  /** Client → server segment. */
  c(seq: number, flags: number, payload = '', ack = 0, extra: Partial<SegSpec> = {}): string {
    return this.send({ src: C, dst: S, sport: CP, dport: SP, seq, ack, flags, payload, ...extra });
  }

  /** Server → client segment. */
  s(seq: number, flags: number, payload = '', ack = 0, extra: Partial<SegSpec> = {}): string {
    return this.send({ src: S, dst: C, sport: SP, dport: CP, seq, ack, flags, payload, ...extra });
  }

  /** Packets handed to the table so far (the next one's frame number is frames + 1). */
  frames = 0;

  send(spec: SegSpec, ts = 1_000_000): string {
    const out = this.table.handle(tcpPacket(spec, this.pkt), ts, ++this.frames);
    this.outcomes.push(out);
    return out;
  }
}

const REQ = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n';
const RSP = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';

/** A full connection: handshake, one request, one response, FIN both ways. ISNs 1000 / 5000. */
function fullConnection(r: Rig, isnC = 1000, isnS = 5000): void {
  r.c(isnC, TCP_SYN);
  r.s(isnS, TCP_SYN | TCP_ACK, '', isnC + 1);
  r.c(isnC + 1, TCP_ACK, '', isnS + 1);
  r.c(isnC + 1, TCP_ACK | TCP_PSH, REQ, isnS + 1);
  r.s(isnS + 1, TCP_ACK | TCP_PSH, RSP, isnC + 1 + REQ.length);
  r.c(isnC + 1 + REQ.length, TCP_ACK | TCP_FIN, '', isnS + 1 + RSP.length);
  r.s(isnS + 1 + RSP.length, TCP_ACK | TCP_FIN, '', isnC + 2 + REQ.length);
}

test('handshake, request, response, FIN both ways: delivered, ended, closed, lingering', () => {
  const r = new Rig();
  fullConnection(r);
  assert.equal(r.sinks.length, 1);
  const sink = r.sinks[0];
  assert.deepEqual(sink.trace(0), [`d:${REQ}`, 'end:fin']);
  assert.deepEqual(sink.trace(1), [`d:${RSP}`, 'end:fin']);
  assert.equal(sink.closeReason(), 'fin');
  assert.deepEqual(sink.violations, []);
  assert.deepEqual(r.metas[0], {
    id: 1,
    lastFrame: 7,
    ends: [{ ip: C, port: CP }, { ip: S, port: SP }],
    initiatorKnown: true,
    midStream: false,
    vni: -1,
    tunnel: '',
    tunnelSource: '',
    source: 'file:test.pcap',
  });
  assert.deepEqual(r.outcomes, new Array(7).fill('tcp_to_flow'));
  assert.equal(r.table.size, 0);
  assert.equal(r.table.lingeringCount, 1);
  assert.equal(r.counters.get('flows_created'), 1);
  assert.equal(r.counters.get('flows_closed_fin'), 1);
  assert.equal(r.counters.get('tcp_payload_bytes'), REQ.length + RSP.length);

  // Late final ACK and a FIN retransmission hit the lingering tuple: no new flow.
  assert.equal(r.c(1002 + REQ.length, TCP_ACK, '', 5002 + RSP.length), 'tcp_no_flow');
  assert.equal(r.s(5001 + RSP.length, TCP_ACK | TCP_FIN, '', 1002 + REQ.length), 'tcp_no_flow');
  // A late data retransmission too (counted as bytes after close).
  assert.equal(r.s(5001, TCP_ACK | TCP_PSH, RSP, 1001 + REQ.length), 'tcp_no_flow');
  assert.equal(r.counters.get('tcp_after_close_bytes'), RSP.length);
  // A retransmission of the old SYN (same ISN) is not a new connection either.
  assert.equal(r.c(1000, TCP_SYN), 'tcp_no_flow');
  assert.equal(r.sinks.length, 1);

  // The linger ends after closedLinger of capture time.
  r.table.expire(1_000_000 + 5_000_001);
  assert.equal(r.table.lingeringCount, 0);
});

test('a new SYN on a closed tuple starts a new connection, its id the number of that SYN\'s packet', () => {
  const r = new Rig();
  fullConnection(r);
  assert.equal(r.c(90000, TCP_SYN), 'tcp_to_flow');
  assert.equal(r.sinks.length, 2);
  assert.equal(r.metas[1].id, 8);
  assert.equal(r.table.size, 1);
  assert.equal(r.table.lingeringCount, 0);
  r.s(7000, TCP_SYN | TCP_ACK, '', 90001);
  r.c(90001, TCP_ACK | TCP_PSH, 'next', 7001);
  assert.equal(r.sinks[1].text(0), 'next');
  assert.equal(r.sinks[0].events.length, 5); // the old sink got nothing more
});

test('a SYN with a new ISN on an open connection replaces it; a retransmitted SYN does not', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.c(1000, TCP_SYN);
  assert.equal(r.sinks.length, 1);
  assert.equal(r.counters.get('tcp_syn_retransmissions'), 1);
  r.c(1001, TCP_ACK | TCP_PSH, 'abc', 1);
  r.c(424242, TCP_SYN);
  assert.equal(r.sinks.length, 2);
  assert.equal(r.sinks[0].closeReason(), 'evicted');
  assert.equal(r.counters.get('flows_replaced_by_syn'), 1);
  assert.equal(r.sinks[0].text(0), 'abc');
  assert.equal(r.metas[1].id, 4);
  assert.equal(r.metas[0].lastFrame, 4, 'the replaced connection saw the replacing SYN last');
});

test('SYN-ACK seen first: its receiver is direction 0 and both streams start from it', () => {
  const r = new Rig();
  r.s(5000, TCP_SYN | TCP_ACK, '', 1001);
  assert.equal(r.metas[0].ends[0].ip, C);
  assert.equal(r.metas[0].ends[0].port, CP);
  assert.equal(r.metas[0].initiatorKnown, true);
  assert.equal(r.metas[0].midStream, false);
  // The client's first request segment is lost; the second one arrives, then the server ACKs both.
  r.c(1011, TCP_ACK, 'second', 5001);
  r.s(5001, TCP_ACK, '', 1017);
  assert.deepEqual(r.sinks[0].trace(0), ['g:10', 'd:second']);
  // A late SYN (mirror reordering) matching the SYN-ACK belongs to this connection.
  r.c(1000, TCP_SYN);
  assert.equal(r.sinks.length, 1);
});

test('mid-stream pickup: the first sender is direction 0, initiator unknown', () => {
  const r = new Rig();
  assert.equal(r.s(777777, TCP_ACK | TCP_PSH, RSP, 333), 'tcp_to_flow');
  const m = r.metas[0];
  assert.deepEqual(m.ends, [{ ip: S, port: SP }, { ip: C, port: CP }]);
  assert.equal(m.initiatorKnown, false);
  assert.equal(m.midStream, true);
  r.c(333, TCP_ACK | TCP_PSH, REQ, 777777 + RSP.length);
  assert.equal(r.sinks[0].text(0), RSP);
  assert.equal(r.sinks[0].text(1), REQ);
});

test('a packet without payload and without SYN for an unknown tuple creates nothing', () => {
  const r = new Rig();
  assert.equal(r.c(1, TCP_ACK, '', 2), 'tcp_no_flow');
  assert.equal(r.c(1, TCP_ACK | TCP_FIN, '', 2), 'tcp_no_flow');
  assert.equal(r.c(1, TCP_RST | TCP_ACK, 'x', 2), 'tcp_no_flow');
  assert.equal(r.table.size, 0);
  assert.equal(r.counters.get('flows_created'), 0);
});

test('RST ends both directions with rst, flushes buffered data, and closes with rst', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.s(5000, TCP_SYN | TCP_ACK, '', 1001);
  r.c(1001, TCP_ACK | TCP_PSH, 'ab', 5001);
  r.c(1005, TCP_ACK | TCP_PSH, 'ef', 5001); // [1003,1005) never comes
  r.s(5001, TCP_RST | TCP_ACK, '', 1003);
  const sink = r.sinks[0];
  assert.deepEqual(sink.trace(0), ['d:ab', 'g:2', 'd:ef', 'end:rst']);
  assert.deepEqual(sink.trace(1), ['end:rst']);
  assert.equal(sink.closeReason(), 'rst');
  assert.equal(r.counters.get('flows_closed_rst'), 1);
  assert.equal(r.table.lingeringCount, 1);
  assert.equal(r.table.bufferedBytes, 0);
  assert.deepEqual(sink.violations, []);
});

test('the other side acknowledging beyond a hole turns it into a gap (mirror loss fast path)', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.s(5000, TCP_SYN | TCP_ACK, '', 1001);
  r.c(1001, TCP_ACK | TCP_PSH, 'aaaa', 5001);
  r.s(5001, TCP_ACK, 'HTTP', 1005);
  r.s(5009, TCP_ACK, 'LAST', 1005); // [5005,5009) lost by the mirror
  assert.deepEqual(r.sinks[0].trace(1), ['d:HTTP']);
  r.c(1005, TCP_ACK, '', 5013);
  assert.deepEqual(r.sinks[0].trace(1), ['d:HTTP', 'g:4', 'd:LAST']);
  assert.equal(r.counters.get('gap_bytes'), 4);
});

test('the handshake ACK starts the server stream when the SYN-ACK was not captured', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.c(1001, TCP_ACK, '', 5001);
  r.c(1001, TCP_ACK | TCP_PSH, REQ, 5001);
  r.s(5101, TCP_ACK, 'tail', 1001 + REQ.length); // the first 100 response bytes were lost
  r.table.closeAll('end_of_input', 2_000_000);
  assert.deepEqual(r.sinks[0].trace(1), ['g:100', 'd:tail']);
  assert.equal(r.sinks[0].closeReason(), 'end_of_input');
});

test('truncated segments become truncated gaps where they fall', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.c(1001, TCP_ACK, 'GET /', 1, { missing: 20 });
  r.c(1026, TCP_ACK, 'rest', 1);
  assert.deepEqual(r.sinks[0].trace(0), ['d:GET /', 't:20', 'd:rest']);
  assert.equal(r.counters.get('truncated_bytes'), 20);
  assert.equal(r.counters.get('tcp_payload_bytes'), 9);
});

test('the same 4-tuple under two VNIs is two connections', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN, '', 0, { vni: 100 });
  r.c(1000, TCP_SYN, '', 0, { vni: 200 });
  r.c(1001, TCP_ACK, 'one', 1, { vni: 100 });
  r.c(1001, TCP_ACK, 'two', 1, { vni: 200 });
  assert.equal(r.table.size, 2);
  assert.equal(r.metas[0].vni, 100);
  assert.equal(r.metas[1].vni, 200);
  assert.equal(r.metas[0].tunnel, 'vxlan');
  assert.equal(r.metas[0].tunnelSource, '10.9.9.9');
  assert.equal(r.sinks[0].text(0), 'one');
  assert.equal(r.sinks[1].text(0), 'two');
});

test('IPv6 endpoints are keyed by all 16 bytes and shown in RFC 5952 form', () => {
  const r = new Rig();
  const a = '2001:db8::1';
  const b = '2001:db8::2';
  r.send({ src: a, dst: b, sport: 1234, dport: 443, seq: 1, flags: TCP_SYN });
  r.send({ src: b, dst: a, sport: 443, dport: 1234, seq: 9, ack: 2, flags: TCP_SYN | TCP_ACK });
  r.send({ src: a, dst: b, sport: 1234, dport: 443, seq: 2, ack: 10, flags: TCP_ACK, payload: 'v6' });
  // Differs from `a` only in the last byte: another connection.
  r.send({ src: '2001:db8::101', dst: b, sport: 1234, dport: 443, seq: 2, ack: 10, flags: TCP_ACK, payload: 'zz' });
  assert.equal(r.table.size, 2);
  assert.deepEqual(r.metas[0].ends, [{ ip: a, port: 1234 }, { ip: b, port: 443 }]);
  assert.equal(r.sinks[0].text(0), 'v6');
});

test('idle connections close at capture time, and expire() leaves fresh ones alone', () => {
  const r = new Rig({ idleTimeoutMicros: 10_000_000 });
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 1, flags: TCP_ACK, payload: 'a' }, 1_000_000);
  r.send({ src: C, dst: S, sport: 2, dport: 80, seq: 1, flags: TCP_ACK, payload: 'b' }, 5_000_000);
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 2, flags: TCP_ACK, payload: 'c' }, 6_000_000);
  r.table.expire(15_000_001); // conn 2 idle since 5 s, conn 1 since 6 s
  assert.equal(r.table.size, 1);
  assert.equal(r.sinks[1].closeReason(), 'idle_timeout');
  assert.equal(r.sinks[0].closeReason(), undefined);
  r.table.expire(16_000_001);
  assert.equal(r.table.size, 0);
  assert.equal(r.sinks[0].closeReason(), 'idle_timeout');
  assert.equal(r.counters.get('flows_closed_idle_timeout'), 2);
  // After an idle close nothing lingers: a late data packet starts a new (mid-stream) flow.
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 3, flags: TCP_ACK, payload: 'd' }, 17_000_000);
  assert.equal(r.metas[2].midStream, true);
});

test('when full, the least recently used connection is evicted', () => {
  const r = new Rig({ maxFlows: 2 });
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 1, flags: TCP_ACK, payload: 'a' }, 1);
  r.send({ src: C, dst: S, sport: 2, dport: 80, seq: 1, flags: TCP_ACK, payload: 'b' }, 2);
  r.send({ src: S, dst: C, sport: 80, dport: 1, seq: 9, flags: TCP_ACK, payload: 'c' }, 3); // touches conn 1
  r.send({ src: C, dst: S, sport: 3, dport: 80, seq: 1, flags: TCP_ACK, payload: 'd' }, 4);
  assert.equal(r.table.size, 2);
  assert.equal(r.sinks[1].closeReason(), 'evicted');
  assert.equal(r.sinks[0].closeReason(), undefined);
  assert.equal(r.counters.get('flows_evicted'), 1);
  assert.equal(r.counters.get('flows_closed_evicted'), 1);
});

test('when full, lingering closed tuples are dropped before open connections are evicted', () => {
  const r = new Rig({ maxFlows: 2 });
  fullConnection(r);
  r.send({ src: C, dst: S, sport: 2, dport: 80, seq: 1, flags: TCP_ACK, payload: 'b' }, 2);
  r.send({ src: C, dst: S, sport: 3, dport: 80, seq: 1, flags: TCP_ACK, payload: 'c' }, 3);
  assert.equal(r.table.size, 2);
  assert.equal(r.table.lingeringCount, 0);
  assert.equal(r.counters.get('flows_linger_dropped'), 1);
  assert.equal(r.counters.get('flows_evicted'), 0);
});

test('closeAll flushes buffered data with gaps, then closes every connection', () => {
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.c(1001, TCP_ACK, 'ab', 1);
  r.c(1010, TCP_ACK, 'jk', 1);
  r.send({ src: C, dst: S, sport: 7, dport: 80, seq: 1, flags: TCP_ACK, payload: 'x' });
  assert.equal(r.table.bufferedBytes, 2);
  r.table.closeAll('end_of_input', 9);
  assert.deepEqual(r.sinks[0].trace(0), ['d:ab', 'g:7', 'd:jk']);
  assert.equal(r.sinks[0].closeReason(), 'end_of_input');
  assert.equal(r.sinks[1].closeReason(), 'end_of_input');
  assert.equal(r.table.size, 0);
  assert.equal(r.table.bufferedBytes, 0);
  assert.equal(r.counters.get('flows_closed_end_of_input'), 2);
});

test('per-direction caps via the table: exceeding them gives gaps, never a stall', () => {
  const r = new Rig({ maxBufferedBytesPerDirection: 10, maxSegmentsPerDirection: 3 });
  r.c(0, TCP_SYN);
  for (let i = 1; i <= 10; i++) r.c(1 + i * 10, TCP_ACK, 'x'.repeat(5), 0);
  assert.ok(r.table.bufferedBytes <= 10);
  assert.ok(r.counters.get('tcp_ooo_overflow_bytes') > 0);
  r.table.closeAll('end_of_input', 1);
  assert.equal(r.sinks[0].text(0).length, 105);
  assert.deepEqual(r.sinks[0].violations, []);
});

test('bad options fail at construction', () => {
  assert.throws(() => new FlowTable({ source: 'x', maxFlows: 0 }, new Counters(), () => new RecordingSink()), RangeError);
  assert.throws(() => new FlowTable({ source: 'x', idleTimeoutMicros: Number.NaN }, new Counters(), () => new RecordingSink()), RangeError);
});

test('bytes fixture: IPv4[TCP] SYN and a data segment parsed from hex', () => {
  // IPv4[TCP] SYN 192.168.1.10:51000 -> 93.184.216.34:80 seq 0x11223344, MSS option (data offset 6)
  const syn = Buffer.from(
    '4500002c1c4640004006b1f6c0a8010a5db8d822' + 'c738005011223344000000006002faf0e4520000' + '020405b4',
    'hex',
  );
  // IPv4[TCP] ACK|PSH seq 0x11223345 payload "GET / HTTP/1.0\r\n\r\n"
  const data = Buffer.concat([
    Buffer.from('450000461c4740004006b1dbc0a8010a5db8d822' + 'c738005011223345aabbccdd5018faf000000000', 'hex'),
    Buffer.from('GET / HTTP/1.0\r\n\r\n', 'latin1'),
  ]);
  const r = new Rig();
  const pkt = new DecodedPacket();
  for (const b of [syn, data]) {
    // What the decoder does for IPv4[TCP] without options beyond what IHL/data offset say.
    const ihl = (b[0] & 0x0f) * 4;
    const doff = (b[ihl + 12] >> 4) * 4;
    pkt.reset();
    pkt.buf = b;
    pkt.ipVersion = 4;
    pkt.srcAddrOff = 12;
    pkt.dstAddrOff = 16;
    pkt.ipProto = b[9];
    pkt.srcPort = b.readUInt16BE(ihl);
    pkt.dstPort = b.readUInt16BE(ihl + 2);
    pkt.seq = b.readUInt32BE(ihl + 4);
    pkt.ack = b.readUInt32BE(ihl + 8);
    pkt.tcpFlags = b[ihl + 13];
    pkt.payloadOff = ihl + doff;
    pkt.payloadLen = Math.max(0, Math.min(b.readUInt16BE(2), b.length) - ihl - doff);
    assert.equal(r.table.handle(pkt, 1, ++r.frames), 'tcp_to_flow');
  }
  assert.deepEqual(r.metas[0].ends, [{ ip: '192.168.1.10', port: 51000 }, { ip: '93.184.216.34', port: 80 }]);
  assert.equal(r.sinks[0].text(0), 'GET / HTTP/1.0\r\n\r\n');
});

test('a packet after more than the idle timeout closes its connection first, with or without a sweep in between', () => {
  const r = new Rig({ idleTimeoutMicros: 10_000_000 });
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 1, flags: TCP_ACK, payload: 'a' }, 1_000_000);
  // No expire() call in between (no other traffic gave a sweep its chance): the late packet still finds it expired.
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 2, flags: TCP_ACK, payload: 'b' }, 12_000_000);
  assert.equal(r.sinks[0].closeReason(), 'idle_timeout');
  assert.equal(r.sinks.length, 2, 'the late packet opens a new (mid-stream) connection');
  assert.equal(r.metas[1].midStream, true);
  // Within the timeout the connection goes on.
  r.send({ src: C, dst: S, sport: 1, dport: 80, seq: 3, flags: TCP_ACK, payload: 'c' }, 21_000_000);
  assert.equal(r.sinks.length, 2);
  assert.equal(r.counters.get('flows_closed_idle_timeout'), 1);
});

test('an ACK that shows a hole in the peer\'s stream is applied before the packet\'s own data', () => {
  // The request head's second segment is lost; the response's first segment carries the ACK of all of it.
  const r = new Rig();
  r.c(1000, TCP_SYN);
  r.s(5000, TCP_SYN | TCP_ACK, '', 1001);
  r.c(1001, TCP_ACK, '', 5001);
  r.c(1001, TCP_ACK | TCP_PSH, 'GET /a HT', 5001);
  r.c(1020, TCP_ACK | TCP_PSH, 'tail', 5001); // [1010,1020) lost; 'tail' held behind the hole
  r.s(5001, TCP_ACK | TCP_PSH, 'HTTP/1.1 200', 1024);
  assert.deepEqual(r.sinks[0].trace(0), ['d:GET /a HT', 'g:10', 'd:tail']);
  const all = r.sinks[0].events.map((e) => ('dir' in e ? `${e.dir}:${e.t}` : e.t));
  assert.ok(all.indexOf('0:gap') >= 0 && all.indexOf('0:gap') < all.indexOf('1:data'), `the client's gap comes before the server's data: ${all.join(' ')}`);
});
