import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../../src/decode/decoder';
import { DecodedPacket } from '../../../src/decode/decoded-packet';
import { Counters } from '../../../src/observe/counters';
import { newFrame } from '../../../src/source/frame';
import { FIRST_LAYER_GENEVE, FIRST_LAYER_VXLAN, LINKTYPE_ETHERNET } from '../../../src/wire/link-types';

// VXLAN[Ethernet[IPv4[TCP]]] as a UDP socket delivers it: VNI 4242, 10.0.0.1:40000 -> 10.0.0.2:80 SYN.
const VXLAN_SYN = '0800000000109200' + '020000000002020000000001' + '0800' +
  '4500002800010000400666cd0a0000010a000002' + '9c40005000000001000000005002ffff00000000';
// GENEVE(VNI 0, class 0x0132 options)[IPv4[TCP]] (GCP layout), same segment.
const GCP_SYN = '0500080000000000' + '01320102000000000000000101320201' + '00000007' +
  '4500002800010000400666cd0a0000010a000002' + '9c40005000000001000000005002ffff00000000';
// Ethernet[IPv4 192.0.2.1->192.0.2.9[UDP 4789[VXLAN[Ethernet[IPv4[TCP]]]]]]: outer header present.
const ETH_VXLAN_SYN = '020000000002020000000001' + '0800' + '4500005a000100004011' + '0000' + 'c0000201' + 'c0000209' +
  'c35012b500460000' + VXLAN_SYN;

function decode(hex: string, linkType: number, tunnelSource?: string): { status: string; pkt: DecodedPacket } {
  const d = new Decoder({}, new Counters());
  const f = newFrame();
  f.buf = Buffer.from(hex, 'hex');
  f.capLen = f.wireLen = f.buf.length;
  f.linkType = linkType;
  if (tunnelSource !== undefined) f.tunnelSource = tunnelSource;
  const pkt = new DecodedPacket();
  return { status: d.decode(f, pkt), pkt };
}

test('a VXLAN-first frame takes its tunnel source from the datagram address', () => {
  const { status, pkt } = decode(VXLAN_SYN, FIRST_LAYER_VXLAN, '198.51.100.7');
  assert.equal(status, '');
  assert.equal(pkt.vni, 4242);
  assert.equal(pkt.tunnel, 'vxlan');
  assert.equal(pkt.tunnelSource, '198.51.100.7');
  assert.equal(pkt.dstPort, 80);
});

test('a GENEVE-first (GCP) frame too; without the field the source stays empty', () => {
  const { status, pkt } = decode(GCP_SYN, FIRST_LAYER_GENEVE, '203.0.113.5');
  assert.equal(status, '');
  assert.equal(pkt.vni, 0);
  assert.equal(pkt.tunnel, 'geneve');
  assert.equal(pkt.tunnelSource, '203.0.113.5');
  assert.equal(decode(GCP_SYN, FIRST_LAYER_GENEVE).pkt.tunnelSource, '');
});

test('an outer IP header seen by the decoder wins over the frame field', () => {
  const { status, pkt } = decode(ETH_VXLAN_SYN, LINKTYPE_ETHERNET, '198.51.100.7');
  assert.equal(status, '');
  assert.equal(pkt.vni, 4242);
  assert.equal(pkt.tunnelSource, '192.0.2.1');
});

test('a non-tunnelled frame ignores the field', () => {
  const inner = VXLAN_SYN.slice(16);
  const { status, pkt } = decode(inner, LINKTYPE_ETHERNET, '198.51.100.7');
  assert.equal(status, '');
  assert.equal(pkt.tunnelSource, '');
});
