import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOne, dstText, payloadText, srcText } from './helpers';
import {
  IPV6_DSTOPTS_HTTP,
  NULL_IPV6_HTTP_GET,
  QINQ_ARP,
  RAW_IPV4_UDP_DNS,
  RAW_IPV6_UDP_DNS,
  SLL2_TCP_SYN,
  SLL_TCP_SYN,
  VLAN0_HTTP_GET,
  hex,
} from './fixtures';
import {
  DLT_RAW_12,
  DLT_RAW_14,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from '../../../src/wire/link-types';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../../src/decode/decoded-packet';

test('Ethernet[802.1ad[802.1Q[ARP]]]: not_ip, outermost VLAN id recorded', () => {
  const { status, out } = decodeOne(QINQ_ARP, LINKTYPE_ETHERNET);
  assert.equal(status, 'not_ip');
  assert.equal(out.vlan, 200);
});

test('stacked tags with legacy 0x9100 then 0x8100 reach IPv4/TCP', () => {
  // Ethernet[QinQ 0x9100 VLAN 10[802.1Q VLAN 20[IPv4[TCP]]]], IPv4/TCP taken from the VLAN 0 fixture.
  const ipTcp = VLAN0_HTTP_GET.subarray(18);
  const bytes = Buffer.concat([hex('0010db88d2efc8bcc896d2a0 9100 000a 8100 0014 0800'), ipTcp]);
  const { status, out } = decodeOne(bytes, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.vlan, 10);
  assert.equal(out.dstPort, 80);
});

test('Ethernet[802.1Q VLAN 0[IPv4[TCP[HTTP]]]]', () => {
  const { status, out } = decodeOne(VLAN0_HTTP_GET, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.vlan, 0);
  assert.equal(out.ipVersion, 4);
  assert.equal(srcText(out), '141.142.228.5');
  assert.equal(dstText(out), '192.150.187.43');
  assert.equal(out.srcPort, 59856);
  assert.equal(out.dstPort, 80);
  assert.equal(out.seq, 0xfe21323b);
  assert.equal(out.ack, 0xa5afce3f);
  assert.equal(out.tcpFlags, TCP_PSH | TCP_ACK);
  assert.equal(out.payloadLen, 0xbc - 20 - 32);
  assert.ok(payloadText(out).startsWith('GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n'));
  assert.equal(out.payloadMissing, 0);
  assert.equal(out.tunnel, '');
  assert.equal(out.vni, -1);
  assert.equal(out.depth, 0);
});

test('truncated Ethernet and VLAN headers are named', () => {
  assert.equal(decodeOne(VLAN0_HTTP_GET.subarray(0, 13), LINKTYPE_ETHERNET).status, 'truncated_ethernet_header');
  assert.equal(decodeOne(VLAN0_HTTP_GET.subarray(0, 16), LINKTYPE_ETHERNET).status, 'truncated_vlan_header');
  assert.equal(decodeOne(Buffer.alloc(0), LINKTYPE_ETHERNET).status, 'truncated_ethernet_header');
});

test('802.3 length field and unknown EtherTypes are not_ip', () => {
  const llc = Buffer.concat([VLAN0_HTTP_GET.subarray(0, 12), hex('0026 424203000000')]);
  assert.equal(decodeOne(llc, LINKTYPE_ETHERNET).status, 'not_ip');
});

test('SLL[IPv4[TCP SYN]] from tcp-handshake-nano.pcap', () => {
  const { status, out } = decodeOne(SLL_TCP_SYN, LINKTYPE_LINUX_SLL);
  assert.equal(status, '');
  assert.equal(srcText(out), '131.155.215.69');
  assert.equal(dstText(out), '137.116.81.94');
  assert.equal(out.srcPort, 46656);
  assert.equal(out.dstPort, 80);
  assert.equal(out.seq, 0x2f842acb);
  assert.equal(out.tcpFlags, TCP_SYN);
  assert.equal(out.payloadLen, 0);
  assert.equal(decodeOne(SLL_TCP_SYN.subarray(0, 15), LINKTYPE_LINUX_SLL).status, 'truncated_sll_header');
});

test('SLL2[IPv4[TCP SYN]] from sll2-any-duplicates.pcap', () => {
  const { status, out } = decodeOne(SLL2_TCP_SYN, LINKTYPE_LINUX_SLL2);
  assert.equal(status, '');
  assert.equal(srcText(out), '10.200.0.1');
  assert.equal(dstText(out), '10.200.0.2');
  assert.equal(out.srcPort, 47008);
  assert.equal(out.dstPort, 8089);
  assert.equal(decodeOne(SLL2_TCP_SYN.subarray(0, 19), LINKTYPE_LINUX_SLL2).status, 'truncated_sll2_header');
});

test('raw IP link types: the version nibble decides', () => {
  for (const lt of [LINKTYPE_RAW, DLT_RAW_12, DLT_RAW_14, LINKTYPE_IPV4, LINKTYPE_IPV6]) {
    const v4 = decodeOne(RAW_IPV4_UDP_DNS, lt);
    assert.equal(v4.status, 'not_tcp', `v4 on ${lt}`);
    assert.equal(v4.out.ipVersion, 4);
    assert.equal(srcText(v4.out), '192.168.1.100');
    assert.equal(v4.out.dstPort, 53);
    const v6 = decodeOne(RAW_IPV6_UDP_DNS, lt);
    assert.equal(v6.status, 'not_tcp', `v6 on ${lt}`);
    assert.equal(v6.out.ipVersion, 6);
    assert.equal(srcText(v6.out), '2001:db8::1');
    assert.equal(dstText(v6.out), '2620:fe::9');
  }
  assert.equal(decodeOne(hex('50000000'), LINKTYPE_RAW).status, 'not_ip');
  assert.equal(decodeOne(Buffer.alloc(0), LINKTYPE_RAW).status, 'truncated_ip_header');
});

test('BSD null: host order either way; LOOP: network order', () => {
  const { status, out } = decodeOne(NULL_IPV6_HTTP_GET, LINKTYPE_NULL);
  assert.equal(status, '');
  assert.equal(srcText(out), '::1');
  assert.equal(out.srcPort, 55717);
  assert.equal(out.dstPort, 8000);
  assert.ok(payloadText(out).startsWith('GET / HTTP/1.1\r\n'));

  const ipv6 = NULL_IPV6_HTTP_GET.subarray(4);
  for (const fam of ['0000001e', '18000000', '00000018', '1c000000', '0000001c']) {
    assert.equal(decodeOne(Buffer.concat([hex(fam), ipv6]), LINKTYPE_NULL).status, '', fam);
  }
  const ipv4 = VLAN0_HTTP_GET.subarray(18);
  assert.equal(decodeOne(Buffer.concat([hex('02000000'), ipv4]), LINKTYPE_NULL).status, '');
  assert.equal(decodeOne(Buffer.concat([hex('00000002'), ipv4]), LINKTYPE_NULL).status, '');
  assert.equal(decodeOne(Buffer.concat([hex('07000000'), ipv4]), LINKTYPE_NULL).status, 'not_ip');
  assert.equal(decodeOne(Buffer.concat([hex('00000002'), ipv4]), LINKTYPE_LOOP).status, '');
  assert.equal(decodeOne(Buffer.concat([hex('0000001e'), ipv6]), LINKTYPE_LOOP).status, '');
  assert.equal(decodeOne(Buffer.concat([hex('02000000'), ipv4]), LINKTYPE_LOOP).status, 'not_ip');
  assert.equal(decodeOne(hex('020000'), LINKTYPE_NULL).status, 'truncated_null_header');
});

test('unknown link types are reported, not guessed', () => {
  assert.equal(decodeOne(IPV6_DSTOPTS_HTTP, 147).status, 'unknown_link_type');
  assert.equal(decodeOne(IPV6_DSTOPTS_HTTP, -1).status, 'unknown_link_type');
});
