import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counters } from '../../../src/observe/counters';
import { DecodedPacket } from '../../../src/decode/decoded-packet';
import { Decoder, type DecoderOptions } from '../../../src/decode/decoder';
import { LINKTYPE_ETHERNET } from '../../../src/wire/link-types';
import { ETH_IPV4, ETH_IPV6, ipv4Header, ipv6FragmentHeader, ipv6Header, pattern, tcpHeader, udpHeader } from './craft';
import { LAB_VXLAN_HTTP_GET, frameOf, hex } from './fixtures';
import { TCP_ACK } from '../../../src/decode/decoded-packet';

const SRC = [192, 0, 2, 1];
const DST = [198, 51, 100, 2];
const T0 = 1_000_000_000;

/** An IPv4/TCP datagram (TCP header + `payload`) cut into Ethernet[IPv4 fragment] frames at the given byte ranges. */
function fragments4(payload: Buffer, pieces: [number, number][], id = 0x4242, proto = 6): { datagram: Buffer; frames: Buffer[] } {
  const l4 = proto === 6 ? Buffer.concat([tcpHeader({ sport: 40000, dport: 80, seq: 1000, flags: TCP_ACK }), payload]) : payload;
  const frames = pieces.map(([s, e]) => {
    const ip = ipv4Header({ src: SRC, dst: DST, proto, total: 20 + (e - s), id, mf: e < l4.length, fragOffsetBytes: s });
    return Buffer.concat([ETH_IPV4, ip, l4.subarray(s, e)]);
  });
  return { datagram: l4, frames };
}

function setup(opts: Partial<DecoderOptions> = {}): { d: Decoder; out: DecodedPacket; c: Counters; feed: (b: Buffer, ts?: number) => string } {
  const c = new Counters();
  const d = new Decoder(opts, c);
  const out = new DecodedPacket();
  return { d, out, c, feed: (b, ts = T0) => d.decode(frameOf(b, LINKTYPE_ETHERNET, ts), out) };
}

test('IPv4 fragments out of order are reassembled into a decoder-owned buffer', () => {
  const payload = pattern(3000);
  const { frames } = fragments4(payload, [[2000, 3020], [0, 1000], [1000, 2000]]);
  const { d, out, c, feed } = setup();
  assert.equal(feed(frames[0]), 'ip_fragment_buffered');
  assert.equal(feed(frames[1]), 'ip_fragment_buffered');
  assert.equal(d.fragmentSetsPending, 1);
  const last = frames[2];
  assert.equal(feed(last), '');
  assert.equal(out.srcPort, 40000);
  assert.equal(out.dstPort, 80);
  assert.equal(out.seq, 1000);
  assert.equal(out.payloadLen, 3000);
  assert.equal(out.payloadMissing, 0);
  assert.ok(out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen).equals(payload));
  assert.equal(out.buf.readUInt16BE(2), 20 + 3020, 'reassembled header carries the full total length');
  assert.deepEqual([...out.buf.subarray(out.srcAddrOff, out.srcAddrOff + 4)], SRC);
  assert.deepEqual([...out.buf.subarray(out.dstAddrOff, out.dstAddrOff + 4)], DST);
  assert.equal(c.get('ip_fragments_reassembled'), 1);
  assert.equal(d.fragmentSetsPending, 0);
  assert.equal(d.fragmentBytesBuffered, 0);
});

test('overlapping fragments: first wins', () => {
  const payload = pattern(1500);
  const { frames } = fragments4(payload, [[0, 800], [1000, 1520]]);
  // A forged fragment overlapping [400, 1200) with different bytes arrives after the first and before the last.
  const l4 = Buffer.concat([tcpHeader({ sport: 40000, dport: 80, seq: 1000, flags: TCP_ACK }), payload]);
  const forged = Buffer.alloc(800, 0x58);
  const fip = ipv4Header({ src: SRC, dst: DST, proto: 6, total: 20 + 800, id: 0x4242, mf: true, fragOffsetBytes: 400 });
  const { out, c, feed } = setup();
  assert.equal(feed(frames[0]), 'ip_fragment_buffered');
  assert.equal(feed(Buffer.concat([ETH_IPV4, fip, forged])), 'ip_fragment_buffered');
  assert.equal(feed(frames[1]), '');
  const got = out.buf.subarray(out.payloadOff - 20, out.payloadOff + out.payloadLen);
  // [0, 800) was held before the forged piece; the forged piece then held [800, 1200) before the last one came.
  const want = Buffer.concat([l4.subarray(0, 800), forged.subarray(400, 800), l4.subarray(1200)]);
  assert.ok(got.equals(want), 'bytes held first are kept');
  assert.equal(got.length, 1520);
  assert.ok(c.get('ip_fragment_overlap') >= 1);
});

test('duplicate fragments, and a last fragment that contradicts the length', () => {
  const { frames } = fragments4(pattern(100), [[0, 64], [64, 120]]);
  const { out, c, feed } = setup();
  assert.equal(feed(frames[0]), 'ip_fragment_buffered');
  assert.equal(feed(frames[0]), 'ip_fragment_buffered');
  assert.equal(feed(frames[1]), '');
  assert.equal(out.payloadLen, 100);
  assert.equal(c.get('ip_fragments_reassembled'), 1);

  // Another datagram: its last piece fixes the length at 120; a second "last" piece ending at 100 contradicts it.
  const other = fragments4(pattern(100), [[64, 120], [64, 100]], 77).frames;
  const ipOff = ETH_IPV4.length;
  other[1].writeUInt16BE(64 >> 3, ipOff + 6); // clear MF: a last fragment at 64 ending at 100
  assert.equal(feed(other[0]), 'ip_fragment_buffered');
  assert.equal(feed(other[1]), 'ip_fragment_dropped');
  assert.equal(c.get('ip_fragment_inconsistent'), 1);
});

test('fragment sets time out on capture time', () => {
  const { frames } = fragments4(pattern(100), [[0, 64], [64, 120]]);
  const { d, c, feed } = setup({ fragmentTimeoutMicros: 1_000_000 });
  assert.equal(feed(frames[0], T0), 'ip_fragment_buffered');
  assert.equal(feed(hex('0000'), T0 + 999_999), 'truncated_ethernet_header');
  assert.equal(d.fragmentSetsPending, 1);
  assert.equal(feed(frames[1], T0 + 1_000_001), 'ip_fragment_buffered', 'the first piece expired: this starts a new set');
  assert.equal(c.get('ip_fragment_sets_timed_out'), 1);
  assert.equal(d.fragmentSetsPending, 1);
});

test('bounded: max sets evicts the oldest, max bytes drops what cannot fit', () => {
  const { d, c, feed } = setup({ maxFragmentSets: 2 });
  for (let id = 1; id <= 3; id++) assert.equal(feed(fragments4(pattern(100), [[0, 64]], id).frames[0]), 'ip_fragment_buffered');
  assert.equal(d.fragmentSetsPending, 2);
  assert.equal(c.get('ip_fragment_overflow'), 1);
  // The evicted set (id 1) cannot complete any more: its last piece starts a new set.
  assert.equal(feed(fragments4(pattern(100), [[64, 120]], 1).frames[0]), 'ip_fragment_buffered');

  const small = setup({ maxFragmentBytes: 1000 });
  assert.equal(small.feed(fragments4(pattern(3000), [[0, 1000]], 9).frames[0]), 'ip_fragment_dropped');
  assert.equal(small.c.get('ip_fragment_overflow'), 1);
  assert.equal(small.d.fragmentBytesBuffered, 0);
  assert.equal(small.d.fragmentSetsPending, 0);
});

test('a fragment cut by the capture is dropped, not buffered', () => {
  const { frames } = fragments4(pattern(100), [[0, 64], [64, 120]]);
  const { c, feed, d } = setup();
  assert.equal(feed(frames[0].subarray(0, frames[0].length - 10)), 'ip_fragment_dropped');
  assert.equal(c.get('ip_fragment_truncated'), 1);
  assert.equal(d.fragmentSetsPending, 0);
});

test('a datagram larger than 65535 bytes is dropped', () => {
  const ip = ipv4Header({ src: SRC, dst: DST, proto: 6, total: 20 + 100, id: 7, mf: true, fragOffsetBytes: 65528 });
  const { c, feed } = setup();
  assert.equal(feed(Buffer.concat([ETH_IPV4, ip, pattern(100)])), 'ip_fragment_dropped');
  assert.equal(c.get('ip_fragment_too_big'), 1);
});

test('IPv6 fragments (with a destination-options header after the fragment header) are reassembled', () => {
  const src = hex('20010db8000000000000000000000001');
  const dst = hex('20010db8000000000000000000000002');
  const body = pattern(2000, 3);
  const fragmentable = Buffer.concat([hex('0600010400000000'), tcpHeader({ sport: 443, dport: 50000, seq: 0xfffffffe, flags: TCP_ACK }), body]);
  const cuts: [number, number][] = [[1232, fragmentable.length], [0, 1232]];
  const { out, c, feed } = setup();
  const statuses = cuts.map(([s, e]) => {
    const fh = ipv6FragmentHeader(60, s, e < fragmentable.length, 0xdeadbeef);
    const ip = ipv6Header({ src, dst, next: 44, payloadLen: 8 + (e - s) });
    return feed(Buffer.concat([ETH_IPV6, ip, fh, fragmentable.subarray(s, e)]));
  });
  assert.deepEqual(statuses, ['ip_fragment_buffered', '']);
  assert.equal(out.ipVersion, 6);
  assert.equal(out.srcPort, 443);
  assert.equal(out.seq, 0xfffffffe);
  assert.ok(out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen).equals(body));
  assert.ok(out.buf.subarray(out.srcAddrOff, out.srcAddrOff + 16).equals(src));
  assert.equal(c.get('ip_fragments_reassembled'), 1);
});

test('fragmented outer VXLAN packet (Linux fragments oversized outer packets)', () => {
  // Ethernet[IPv4 fragments[UDP 4789[VXLAN[Ethernet[IPv4[TCP[HTTP]]]]]]] built from the lab packet's outer UDP datagram.
  const udpDatagram = LAB_VXLAN_HTTP_GET.subarray(34);
  const outerIp = LAB_VXLAN_HTTP_GET.subarray(14, 34);
  const frames = [[0, 96], [96, udpDatagram.length]].map(([s, e]) => {
    const ip = Buffer.from(outerIp);
    ip.writeUInt16BE(20 + (e - s), 2);
    ip.writeUInt16BE((e < udpDatagram.length ? 0x2000 : 0) | (s >> 3), 6);
    return Buffer.concat([LAB_VXLAN_HTTP_GET.subarray(0, 14), ip, udpDatagram.subarray(s, e)]);
  });
  const { out, feed } = setup();
  assert.equal(feed(frames[1]), 'ip_fragment_buffered');
  assert.equal(feed(frames[0]), '');
  assert.equal(out.vni, 4242);
  assert.equal(out.tunnelSource, '10.201.0.1');
  assert.equal(out.dstPort, 8080);
  assert.ok(out.buf.toString('latin1', out.payloadOff, out.payloadOff + 15) === 'GET /hello.json');
});

test('non-TCP reassembled datagram is counted as not_tcp', () => {
  const udp = Buffer.concat([udpHeader(5353, 5353, 200), pattern(200)]);
  const { feed } = setup();
  const mk = (s: number, e: number): Buffer =>
    Buffer.concat([ETH_IPV4, ipv4Header({ src: SRC, dst: DST, proto: 17, total: 20 + e - s, id: 5, mf: e < udp.length, fragOffsetBytes: s }), udp.subarray(s, e)]);
  assert.equal(feed(mk(0, 104)), 'ip_fragment_buffered');
  assert.equal(feed(mk(104, udp.length)), 'not_tcp');
});

test('inner fragments of two mirror sessions (same addresses and id, two VNIs) are two datagrams', () => {
  // Ethernet[IPv4[UDP 4789[VXLAN vni[Ethernet[IPv4 fragment]]]]]: the same inner datagram id from sessions 42 and 43,
  // their pieces interleaved as a mirror target receives them.
  const inVxlan = (vni: number, inner: Buffer): Buffer => {
    const vx = Buffer.alloc(8);
    vx[0] = 0x08;
    vx.writeUIntBE(vni, 4, 3);
    const udpPayload = Buffer.concat([vx, inner]);
    const outer = ipv4Header({ src: [10, 0, 0, 9], dst: [10, 0, 0, 5], proto: 17, total: 20 + 8 + udpPayload.length });
    return Buffer.concat([ETH_IPV4, outer, udpHeader(50000, 4789, udpPayload.length), udpPayload]);
  };
  const a = fragments4(pattern(300, 1), [[0, 160], [160, 320]], 777);
  const b = fragments4(pattern(300, 2), [[0, 160], [160, 320]], 777);
  const { out, c, feed } = setup();
  assert.equal(feed(inVxlan(42, a.frames[0])), 'ip_fragment_buffered');
  assert.equal(feed(inVxlan(43, b.frames[0])), 'ip_fragment_buffered');
  assert.equal(feed(inVxlan(43, b.frames[1])), '');
  assert.equal(out.vni, 43);
  assert.ok(out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen).equals(pattern(300, 2)), 'session 43 gets its own bytes');
  assert.equal(feed(inVxlan(42, a.frames[1])), '');
  assert.equal(out.vni, 42);
  assert.ok(out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen).equals(pattern(300, 1)), 'session 42 gets its own bytes');
  assert.equal(c.get('ip_fragment_overlap'), 0);
  assert.equal(c.get('ip_fragments_reassembled'), 2);
});
