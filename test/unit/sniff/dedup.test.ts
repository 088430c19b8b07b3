import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import fc from 'fast-check';
import { PacketDedup, dedupFrameHandler, ipHeaderOffset, DUPLICATE_OUTCOME } from '../../../src/dedup/index';
import { Pipeline } from '../../../src/pipeline';
import { readCaptureInput } from '../../../src/source/file-source';
import type { Frame } from '../../../src/source/frame';
import type { Exchange } from '../../../src/exchange/record';
import { Counters } from '../../../src/observe/counters';

// Ethernet[IPv4[TCP]] 10.0.0.1:40000 -> 10.0.0.2:8080, ttl 64, id 0x1234, DF, seq 1000, ack 2000,
// PSH|ACK, 4 payload bytes "GET ". IP checksum 0xaaaa and TCP checksum 0xbbbb (offloaded: not verified).
const ETH_IP_TCP =
  'ffeeddccbbaa' + '112233445566' + '0800' +
  '45000030' + '12344000' + '4006aaaa' + '0a000001' + '0a000002' +
  '9c401f90' + '000003e8' + '000007d0' + '5018ffff' + 'bbbb0000' +
  '47455420';
// The same IP packet as `tcpdump -i any` sees it on the next hop: SLL2 header, ttl 63, IP checksum
// 0xabab, TCP checksum filled in (0x1c2d). Everything else equal.
// SLL2[IPv4[TCP]]: protocol 0x0800, reserved, ifindex 7, ARPHRD_ETHER, PACKET_OUTGOING, halen 6, addr.
const SLL2_IP_TCP =
  '0800' + '0000' + '00000007' + '0001' + '04' + '06' + '1122334455660000' +
  '45000030' + '12344000' + '3f06abab' + '0a000001' + '0a000002' +
  '9c401f90' + '000003e8' + '000007d0' + '5018ffff' + '1c2d0000' +
  '47455420';
// Ethernet[ARP] request: no IP packet.
const ETH_ARP = 'ffffffffffff' + '112233445566' + '0806' + '0001080006040001' + '112233445566' + '0a000001' + '000000000000' + '0a000002';

function frame(hex: string, linkType: number, tsMicros: number): Frame {
  const buf = Buffer.from(hex, 'hex');
  return { buf, off: 0, capLen: buf.length, wireLen: buf.length, tsMicros, linkType };
}

function patched(hex: string, byteOff: number, value: number): string {
  const b = Buffer.from(hex, 'hex');
  b[byteOff] = value;
  return b.toString('hex');
}

test('ipHeaderOffset finds IP after Ethernet, SLL2 and stacked VLAN tags; -1 for ARP and short frames', () => {
  assert.equal(ipHeaderOffset(frame(ETH_IP_TCP, 1, 0)), 14);
  assert.equal(ipHeaderOffset(frame(SLL2_IP_TCP, 276, 0)), 20);
  assert.equal(ipHeaderOffset(frame(ETH_ARP, 1, 0)), -1);
  // Ethernet[802.1Q[802.1Q[IPv4...]]]
  const qq = ETH_IP_TCP.slice(0, 24) + '8100' + '0064' + '8100' + '00c8' + '0800' + ETH_IP_TCP.slice(28);
  assert.equal(ipHeaderOffset(frame(qq, 1, 0)), 22);
  assert.equal(ipHeaderOffset(frame('ffeeddccbbaa1122', 1, 0)), -1);
  assert.equal(ipHeaderOffset(frame(ETH_IP_TCP, 9999, 0)), -1);
});

test('the same IP packet on two interfaces (other link layer, TTL, checksums) is a duplicate once', () => {
  const d = new PacketDedup();
  assert.equal(d.isDuplicate(frame(ETH_IP_TCP, 1, 1_000)), false);
  assert.equal(d.isDuplicate(frame(SLL2_IP_TCP, 276, 1_030)), true);
  assert.equal(d.duplicates, 1);
});

test('packets that differ in seq, IP id, payload or address are not duplicates', () => {
  const d = new PacketDedup();
  assert.equal(d.isDuplicate(frame(ETH_IP_TCP, 1, 0)), false);
  assert.equal(d.isDuplicate(frame(patched(ETH_IP_TCP, 14 + 20 + 7, 0xe9), 1, 1)), false, 'seq');
  assert.equal(d.isDuplicate(frame(patched(ETH_IP_TCP, 14 + 5, 0x35), 1, 2)), false, 'ip id');
  assert.equal(d.isDuplicate(frame(patched(ETH_IP_TCP, 14 + 40 + 3, 0x21), 1, 3)), false, 'payload');
  assert.equal(d.isDuplicate(frame(patched(ETH_IP_TCP, 14 + 15, 9), 1, 4)), false, 'source address (NAT)');
  assert.equal(d.duplicates, 0);
});

test('frames without IP are never suppressed; the window is capture time', () => {
  const d = new PacketDedup({ windowMicros: 1000 });
  assert.equal(d.isDuplicate(frame(ETH_ARP, 1, 0)), false);
  assert.equal(d.isDuplicate(frame(ETH_ARP, 1, 1)), false);
  assert.equal(d.notIp, 2);
  assert.equal(d.isDuplicate(frame(ETH_IP_TCP, 1, 10_000)), false);
  assert.equal(d.isDuplicate(frame(ETH_IP_TCP, 1, 11_001)), false, 'outside the window: a new packet');
  assert.equal(d.isDuplicate(frame(ETH_IP_TCP, 1, 11_500)), true);
});

test('the table is bounded: overload overwrites the oldest slot and counts it', () => {
  const counters = new Counters();
  const d = new PacketDedup({ capacity: 1024, windowMicros: 1e9 }, counters);
  assert.equal(d.capacity, 1024);
  const base = Buffer.from(ETH_IP_TCP, 'hex');
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.from(base);
    b.writeUInt32BE(i, 14 + 20 + 4); // seq
    assert.equal(d.isDuplicate({ buf: b, off: 0, capLen: b.length, wireLen: b.length, tsMicros: i, linkType: 1 }), false);
  }
  assert.ok(counters.get('dedup_table_overwrites') >= 5000 - 1024);
});

test('never throws on arbitrary bytes and link types', () => {
  const d = new PacketDedup({ capacity: 1024 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 1, 101, 108, 113, 228, 229, 276, 12, 14, 7), fc.nat(), (bytes, lt, ts) => {
      const buf = Buffer.from(bytes);
      assert.equal(typeof d.isDuplicate({ buf, off: 0, capLen: buf.length, wireLen: buf.length, tsMicros: ts, linkType: lt }), 'boolean');
    }),
    { numRuns: 2000 },
  );
});

const DUP_PCAP = '/work/shared/corpus/lab/sll2-any-duplicates.pcap';
const corpusDir = process.env.SHADOWTAP_CORPUS ?? DUP_PCAP;

async function readExchanges(file: string, dedup: boolean): Promise<{ ex: Exchange[]; p: Pipeline }> {
  const ex: Exchange[] = [];
  const p = new Pipeline({ source: 'file:x' }, (e) => ex.push(e));
  const onFrame = dedup ? dedupFrameHandler(p) : (f: Frame): void => p.onFrame(f);
  await readCaptureInput(file, { onFrame, onWeird: (n) => p.counters.inc(n) });
  p.finish('end_of_input');
  return { ex, p };
}

test('tcpdump -i any capture with every packet twice: same exchanges, copies suppressed and counted', { skip: fs.existsSync(corpusDir) ? false : `${DUP_PCAP} not present` }, async () => {
  const plain = await readExchanges(DUP_PCAP, false);
  const dedup = await readExchanges(DUP_PCAP, true);
  const key = (e: Exchange): string => JSON.stringify([e.request?.method, e.request?.url, e.response?.status, Buffer.from(e.request?.body ?? []).toString('base64'), Buffer.from(e.response?.body ?? []).toString('base64')]);
  assert.equal(dedup.ex.length, 14, 'tshark finds 14 requests');
  assert.deepEqual(dedup.ex.map(key).sort(), plain.ex.map(key).sort());
  const outcomes = dedup.p.packetOutcomes.snapshot();
  const sum = Object.values(outcomes).reduce((a, b) => a + b, 0);
  assert.equal(sum, dedup.p.packets, 'every packet in exactly one outcome');
  assert.equal(dedup.p.packets, 1854);
  // Every frame was captured twice (eth0 and ifb0, ifindex 4 and 2): exactly half are copies.
  assert.equal(outcomes[DUPLICATE_OUTCOME], 927);
  // Without dedup reassembly sees each copy as a retransmission; with it only the capture's own
  // few real retransmissions are left.
  const before = plain.p.counters.get('tcp_retransmitted_bytes');
  const after = dedup.p.counters.get('tcp_retransmitted_bytes');
  assert.ok(before > 1_000_000, `before ${before}`);
  assert.ok(after < before / 100, `after ${after}`);
});
