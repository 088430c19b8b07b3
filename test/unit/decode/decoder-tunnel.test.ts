import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOne, dstText, payloadText, srcText } from './helpers';
import {
  AWS_MIRROR_TCP_SYN,
  GENEVE_ICMP,
  GENEVE_VXLAN_DNS_TRUNCATED,
  GWLB_GENEVE_VXLAN_HTTP,
  LAB_INNER_IP_OFF,
  LAB_INNER_IP_TOTAL,
  LAB_VXLAN_HTTP_GET,
  VXLAN_ARP,
  VXLAN_ICMP,
  frameOf,
} from './fixtures';
import { FIRST_LAYER_GENEVE, FIRST_LAYER_VXLAN, LINKTYPE_ETHERNET } from '../../../src/wire/link-types';
import { TCP_ACK, TCP_PSH, TCP_SYN, DecodedPacket } from '../../../src/decode/decoded-packet';
import { Counters } from '../../../src/observe/counters';
import { Decoder } from '../../../src/decode/decoder';

test('VXLAN from vxlan-http-lab.pcap: inner TCP, VNI 4242, outer source as tunnel source', () => {
  const { status, out } = decodeOne(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.tunnel, 'vxlan');
  assert.equal(out.vni, 4242);
  assert.equal(out.depth, 1);
  assert.equal(out.tunnelSource, '10.201.0.1');
  assert.equal(srcText(out), '10.200.0.1');
  assert.equal(dstText(out), '10.200.0.2');
  assert.equal(out.srcPort, 54834);
  assert.equal(out.dstPort, 8080);
  assert.equal(out.tcpFlags, TCP_PSH | TCP_ACK);
  assert.ok(payloadText(out).startsWith('GET /hello.json HTTP/1.1\r\nHost: 10.200.0.2:8080\r\n'));
  assert.equal(out.payloadLen, LAB_INNER_IP_TOTAL - 20 - 32);
  assert.equal(out.payloadMissing, 0);
});

test('AWS mirror VXLAN from aws-mirror-vxlan-decoder-03.pcap: 24-bit VNI', () => {
  const { status, out } = decodeOne(AWS_MIRROR_TCP_SYN, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.vni, 0x54fa11);
  assert.equal(out.tunnelSource, '172.31.0.238');
  assert.equal(srcText(out), '18.196.145.224');
  assert.equal(out.srcPort, 37180);
  assert.equal(out.dstPort, 22);
  assert.equal(out.tcpFlags, TCP_SYN);
});

test('VXLAN carrying ICMP and ARP: not_tcp / not_ip with the tunnel fields filled', () => {
  const icmp = decodeOne(VXLAN_ICMP, LINKTYPE_ETHERNET);
  assert.equal(icmp.status, 'not_tcp');
  assert.equal(icmp.out.vni, 123);
  assert.equal(icmp.out.tunnelSource, '192.168.56.11');
  assert.equal(srcText(icmp.out), '10.0.0.1');
  const arp = decodeOne(VXLAN_ARP, LINKTYPE_ETHERNET);
  assert.equal(arp.status, 'not_ip');
  assert.equal(arp.out.tunnel, 'vxlan');
});

test('VXLAN: I flag required, reserved bits ignored, truncated header named', () => {
  const noI = Buffer.from(LAB_VXLAN_HTTP_GET);
  noI[42] = 0x00;
  assert.equal(decodeOne(noI, LINKTYPE_ETHERNET).status, 'vxlan_bad_flags');
  const reserved = Buffer.from(LAB_VXLAN_HTTP_GET);
  reserved[42] = 0xff; // every reserved flag bit set, plus I
  reserved[43] = 0xff;
  reserved[49] = 0xff; // reserved byte after the VNI
  const r = decodeOne(reserved, LINKTYPE_ETHERNET);
  assert.equal(r.status, '');
  assert.equal(r.out.vni, 4242);
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET.subarray(0, 49), LINKTYPE_ETHERNET).status, 'truncated_vxlan_header');
});

test('VXLAN only on configured destination ports', () => {
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET, { vxlanPorts: [8472] }).status, 'not_tcp');
  const moved = Buffer.from(LAB_VXLAN_HTTP_GET);
  moved.writeUInt16BE(8472, 36);
  assert.equal(decodeOne(moved, LINKTYPE_ETHERNET).status, 'not_tcp');
  assert.equal(decodeOne(moved, LINKTYPE_ETHERNET, { vxlanPorts: [4789, 8472] }).status, '');
  // The source port is never used for dispatch.
  const swapped = Buffer.from(LAB_VXLAN_HTTP_GET);
  swapped.writeUInt16BE(4789, 34);
  swapped.writeUInt16BE(50000, 36);
  assert.equal(decodeOne(swapped, LINKTYPE_ETHERNET).status, 'not_tcp');
});

test('truncated inner packet (snaplen): TCP payload bytes promised but missing', () => {
  const cut = LAB_VXLAN_HTTP_GET.subarray(0, 150);
  const { status, out } = decodeOne(cut, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.payloadLen, 150 - (LAB_INNER_IP_OFF + 20 + 32));
  assert.equal(out.payloadMissing, LAB_INNER_IP_OFF + LAB_INNER_IP_TOTAL - 150);
  assert.equal(payloadText(out), 'GET /hello.json HTTP/1.1\r\nHost: 10');
});

test('AWS-style truncation: outer packet complete, inner IP length larger than what was mirrored', () => {
  const keep = 150;
  const p = Buffer.from(LAB_VXLAN_HTTP_GET.subarray(0, keep));
  p.writeUInt16BE(keep - 14, 16); // outer IPv4 total length matches the truncated packet
  p.writeUInt16BE(keep - 34, 38); // outer UDP length too
  const { status, out } = decodeOne(p, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.payloadMissing, LAB_INNER_IP_OFF + LAB_INNER_IP_TOTAL - keep);
});

test('GENEVE with Ethernet payload and one option (tunnels_geneve.pcap)', () => {
  const { status, out } = decodeOne(GENEVE_ICMP, LINKTYPE_ETHERNET);
  assert.equal(status, 'not_tcp');
  assert.equal(out.tunnel, 'geneve');
  assert.equal(out.vni, 0);
  assert.equal(out.tunnelSource, '20.0.0.1');
  assert.equal(srcText(out), '30.0.0.1');
  assert.equal(out.ipProto, 1);
});

test('GENEVE: version, option TLV walk, truncation', () => {
  const v1 = Buffer.from(GENEVE_ICMP);
  v1[42] |= 0x40;
  assert.equal(decodeOne(v1, LINKTYPE_ETHERNET).status, 'geneve_bad_version');
  const badOpt = Buffer.from(GENEVE_ICMP);
  badOpt[50 + 3] = 2; // option claims 2 data words, only 1 left in Opt Len
  assert.equal(decodeOne(badOpt, LINKTYPE_ETHERNET).status, 'geneve_bad_options');
  assert.equal(decodeOne(GENEVE_ICMP.subarray(0, 55), LINKTYPE_ETHERNET).status, 'truncated_geneve_header');
  assert.equal(decodeOne(GENEVE_ICMP.subarray(0, 45), LINKTYPE_ETHERNET).status, 'truncated_geneve_header');
});

test('GENEVE → IPv4 → UDP 4789 → VXLAN (geneve-vxlan-dns-truncated.pcap)', () => {
  const { status, out } = decodeOne(GENEVE_VXLAN_DNS_TRUNCATED, LINKTYPE_ETHERNET);
  assert.equal(status, 'not_tcp');
  assert.equal(out.tunnel, 'geneve+vxlan');
  assert.equal(out.depth, 2);
  assert.equal(out.vni, 4242);
  assert.equal(out.tunnelSource, '127.0.0.1');
  assert.equal(srcText(out), '172.16.11.201');
  assert.equal(dstText(out), '1.1.1.1');
  assert.equal(out.dstPort, 53);
});

test('crafted AWS GWLB packet: GENEVE(0x0800, class 0x0108 TLVs) → IPv4 → UDP 4789 → VXLAN → Ethernet → IPv4 → TCP', () => {
  const { status, out } = decodeOne(GWLB_GENEVE_VXLAN_HTTP, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.tunnel, 'geneve+vxlan');
  assert.equal(out.vni, 4250, 'the innermost (VXLAN) VNI');
  assert.equal(out.tunnelSource, '192.168.10.5', 'outer source of the outermost tunnel packet');
  assert.equal(srcText(out), '10.0.0.1');
  assert.equal(dstText(out), '10.0.0.2');
  assert.equal(out.srcPort, 51000);
  assert.equal(out.dstPort, 80);
  assert.equal(out.seq, 0xfffffff0);
  assert.equal(out.ack, 0x01020304);
  assert.equal(payloadText(out), 'GET / HTTP/1.1\r\n\r\n');
});

test('tunnel depth cap', () => {
  assert.equal(decodeOne(GWLB_GENEVE_VXLAN_HTTP, LINKTYPE_ETHERNET, { maxTunnelDepth: 1 }).status, 'tunnel_depth_exceeded');
  assert.equal(decodeOne(GWLB_GENEVE_VXLAN_HTTP, LINKTYPE_ETHERNET, { maxTunnelDepth: 2 }).status, '');
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET, { maxTunnelDepth: 0 }).status, 'tunnel_depth_exceeded');
  // VXLAN in VXLAN in VXLAN ...: the outer 50 bytes of the lab packet repeated.
  const outer = LAB_VXLAN_HTTP_GET.subarray(0, 50);
  let p = LAB_VXLAN_HTTP_GET.subarray(50);
  for (let i = 0; i < 6; i++) p = Buffer.concat([outer, p]);
  fixLengths(p);
  assert.equal(decodeOne(p, LINKTYPE_ETHERNET).status, 'tunnel_depth_exceeded');
  assert.equal(decodeOne(p, LINKTYPE_ETHERNET, { maxTunnelDepth: 7 }).status, '');
});

/** Rewrites every Ethernet/IPv4/UDP(4789) length in a stack of lab VXLAN headers. */
function fixLengths(p: Buffer): void {
  for (let off = 0; off + 50 <= p.length && p.readUInt16BE(off + 36) === 4789; off += 50) {
    p.writeUInt16BE(p.length - off - 14, off + 16);
    p.writeUInt16BE(p.length - off - 34, off + 38);
  }
}

test('VNI allow and deny lists act on the innermost VNI', () => {
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET, { vniDeny: new Set([4242]) }).status, 'vni_denied');
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET, { vniAllow: new Set([1]) }).status, 'vni_not_allowed');
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET, { vniAllow: new Set([4242]) }).status, '');
  // GWLB: the GENEVE VNI is 0, the VXLAN one 4250; only the inner one counts.
  assert.equal(decodeOne(GWLB_GENEVE_VXLAN_HTTP, LINKTYPE_ETHERNET, { vniAllow: new Set([4250]) }).status, '');
  assert.equal(decodeOne(GWLB_GENEVE_VXLAN_HTTP, LINKTYPE_ETHERNET, { vniDeny: new Set([0]) }).status, '');
  // Non-TCP tunnelled traffic of a denied VNI is counted as denied too.
  assert.equal(decodeOne(VXLAN_ICMP, LINKTYPE_ETHERNET, { vniDeny: new Set([123]) }).status, 'vni_denied');
  // Untunnelled traffic is never filtered by VNI.
  assert.equal(decodeOne(LAB_VXLAN_HTTP_GET.subarray(50), LINKTYPE_ETHERNET, { vniAllow: new Set([1]) }).status, '');
});

test('mirror socket first layers: the frame starts at the VXLAN or GENEVE header', () => {
  const vx = decodeOne(LAB_VXLAN_HTTP_GET.subarray(42), FIRST_LAYER_VXLAN);
  assert.equal(vx.status, '');
  assert.equal(vx.out.vni, 4242);
  assert.equal(vx.out.tunnel, 'vxlan');
  assert.equal(vx.out.tunnelSource, '', 'no outer IP in the frame: the source fills it from the socket');
  const gv = decodeOne(GWLB_GENEVE_VXLAN_HTTP.subarray(42), FIRST_LAYER_GENEVE);
  assert.equal(gv.status, '');
  assert.equal(gv.out.tunnel, 'geneve+vxlan');
  assert.equal(gv.out.vni, 4250);
});

test('tunnel source text is cached while the outer source stays the same', () => {
  const counters = new Counters();
  const d = new Decoder({}, counters);
  const out = new DecodedPacket();
  assert.equal(d.decode(frameOf(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET), out), '');
  const first = out.tunnelSource;
  assert.equal(d.decode(frameOf(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET), out), '');
  assert.equal(out.tunnelSource, first);
  assert.equal(d.decode(frameOf(AWS_MIRROR_TCP_SYN, LINKTYPE_ETHERNET), out), '');
  assert.equal(out.tunnelSource, '172.31.0.238');
  assert.equal(d.decode(frameOf(LAB_VXLAN_HTTP_GET.subarray(50), LINKTYPE_ETHERNET), out), '');
  assert.equal(out.tunnelSource, '', 'reset for an untunnelled packet');
  assert.equal(out.vni, -1);
});
