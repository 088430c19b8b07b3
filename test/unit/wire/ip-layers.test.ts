// Wire readers for IPv4, IPv6 and its extension headers, TCP and UDP, over corpus bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ipv4 from '../../../src/wire/ipv4';
import * as ipv6 from '../../../src/wire/ipv6';
import * as ext from '../../../src/wire/ipv6-extension';
import * as frag from '../../../src/wire/ipv6-fragment';
import * as ah from '../../../src/wire/ip-auth-header';
import * as tcp from '../../../src/wire/tcp';
import * as udp from '../../../src/wire/udp';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('IPv4 + TCP SYN (tcpdump/tcp-handshake-nano.pcap #1)', () => {
  const b = h(
    '4500003c29a940004006db5f839bd7458974515e' +
      'b64000502f842acb00000000a0026a4050c40000020405500402080a436a03620000000001030307',
  );
  assert.equal(ipv4.check(b, 0, b.length), '');
  assert.equal(ipv4.headerLength(b, 0), 20);
  assert.equal(ipv4.totalLength(b, 0), 60);
  assert.equal(ipv4.id(b, 0), 0x29a9);
  assert.equal(ipv4.dontFragment(b, 0), true);
  assert.equal(ipv4.moreFragments(b, 0), false);
  assert.equal(ipv4.isFragment(b, 0), false);
  assert.equal(ipv4.ttl(b, 0), 64);
  assert.equal(ipv4.protocol(b, 0), 6);
  assert.equal(ipv4.check(b, 0, 19), 'truncated_ipv4_header');
  assert.equal(tcp.check(b, 20, 40), '');
  assert.equal(tcp.srcPort(b, 20), 46656);
  assert.equal(tcp.dstPort(b, 20), 80);
  assert.equal(tcp.seq(b, 20), 0x2f842acb);
  assert.equal(tcp.ack(b, 20), 0);
  assert.equal(tcp.headerLength(b, 20), 40);
  assert.equal(tcp.flags(b, 20), 0x02);
  assert.equal(tcp.window(b, 20), 0x6a40);
  assert.equal(tcp.check(b, 20, 39, 40), 'truncated_tcp_header');
  assert.equal(tcp.check(b, 20, 39, 39), 'bad_tcp_data_offset');
  assert.equal(tcp.check(b, 20, 19), 'truncated_tcp_header');
});

test('IPv4 fragment fields', () => {
  const b = h('45000014abcd2005400600000a0000010a000002'); // MF, offset 5 words
  assert.equal(ipv4.isFragment(b, 0), true);
  assert.equal(ipv4.moreFragments(b, 0), true);
  assert.equal(ipv4.fragmentOffset(b, 0), 40);
  const last = h('45000014abcd0005400600000a0000010a000002');
  assert.equal(ipv4.isFragment(last, 0), true);
  assert.equal(ipv4.moreFragments(last, 0), false);
  assert.equal(ipv4.check(h('46000014abcd0005400600000a0000010a000002'), 0, 20), 'bad_ipv4_header_length');
});

test('IPv6 + UDP (tcpdump/LINKTYPE_RAW_ipv6.pcap #1)', () => {
  const b = h('600000000025114020010db8000000000000000000000001262000fe000000000000000000000009 30390035002598b3');
  assert.equal(ipv6.check(b, 0, b.length), '');
  assert.equal(ipv6.check(b, 0, 39), 'truncated_ipv6_header');
  assert.equal(ipv6.payloadLength(b, 0), 0x25);
  assert.equal(ipv6.nextHeader(b, 0), 17);
  assert.equal(ipv6.hopLimit(b, 0), 64);
  assert.equal(udp.check(b, 40, 8), '');
  assert.equal(udp.check(b, 40, 7), 'truncated_udp_header');
  assert.equal(udp.srcPort(b, 40), 12345);
  assert.equal(udp.dstPort(b, 40), 53);
  assert.equal(udp.length(b, 40), 0x25);
});

test('IPv6 extension, fragment and AH headers', () => {
  const dst = h('0600010400000000'); // zeek/ipv6-http-atomic-frag.pcap #8 destination options
  assert.equal(ext.check(dst, 0, 8), '');
  assert.equal(ext.check(dst, 0, 7), 'ipv6_bad_extension_header');
  assert.equal(ext.nextHeader(dst, 0), 6);
  assert.equal(ext.headerLength(dst, 0), 8);
  assert.equal(ext.check(h('0601000000000000'), 0, 8), 'ipv6_bad_extension_header'); // 16 bytes needed
  const fh = h('3a0005a9deadbeef');
  assert.equal(frag.check(fh, 0, 8), '');
  assert.equal(frag.nextHeader(fh, 0), 58);
  assert.equal(frag.fragmentOffset(fh, 0), 0x05a8);
  assert.equal(frag.moreFragments(fh, 0), true);
  assert.equal(frag.id(fh, 0), 0xdeadbeef);
  const a = h('0604000000000100000000070102030405060708090a0b0c');
  assert.equal(ah.check(a, 0, a.length), '');
  assert.equal(ah.headerLength(a, 0), 24);
  assert.equal(ah.nextHeader(a, 0), 6);
  assert.equal(ah.check(a, 0, 23), 'truncated_ah_header');
});
