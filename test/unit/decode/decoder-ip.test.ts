import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOne, dstText, payloadText, srcText } from './helpers';
import {
  IPV6_ATOMIC_FRAG_HTTP,
  IPV6_DSTOPTS_HTTP,
  IPV6_HOPOPTS_HTTP,
  IPV6_ROUTING_HTTP,
  VLAN0_HTTP_GET,
  hex,
} from './fixtures';
import { ETH_IPV4, ETH_IPV6, ipv4Header, ipv6Header, tcpHeader } from './craft';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../../../src/wire/link-types';
import { TCP_ACK, TCP_FIN } from '../../../src/decode/decoded-packet';

// IPv4[TCP[HTTP]] of zeek/http-vlan-0.pcap #4 (total length 188, 32-byte TCP header, 136 payload bytes).
const IP_TCP = VLAN0_HTTP_GET.subarray(18);

test('IPv4: Ethernet padding beyond the total length is ignored', () => {
  const padded = Buffer.concat([ETH_IPV4, IP_TCP, Buffer.alloc(9, 0xaa)]);
  const { status, out } = decodeOne(padded, LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.payloadLen, 136);
  assert.equal(out.payloadMissing, 0);
});

test('IPv4: total length beyond the capture is truncation, the missing bytes are counted', () => {
  const cut = IP_TCP.subarray(0, 100);
  const { status, out } = decodeOne(cut, LINKTYPE_RAW);
  assert.equal(status, '');
  assert.equal(out.payloadLen, 100 - 52);
  assert.equal(out.payloadMissing, 188 - 100);
  assert.equal(payloadText(out), 'GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\nUser');
});

test('IPv4: header problems are named', () => {
  assert.equal(decodeOne(IP_TCP.subarray(0, 19), LINKTYPE_RAW).status, 'truncated_ipv4_header');
  const ihl4 = Buffer.from(IP_TCP);
  ihl4[0] = 0x44;
  assert.equal(decodeOne(ihl4, LINKTYPE_RAW).status, 'bad_ipv4_header_length');
  const shortTotal = Buffer.from(IP_TCP);
  shortTotal.writeUInt16BE(19, 2);
  assert.equal(decodeOne(shortTotal, LINKTYPE_RAW).status, 'bad_ipv4_header_length');
  const ihl15 = Buffer.from(IP_TCP.subarray(0, 40));
  ihl15[0] = 0x4f; // 60-byte header, only 40 captured
  assert.equal(decodeOne(ihl15, LINKTYPE_RAW).status, 'truncated_ipv4_header');
  const v5 = Buffer.concat([ETH_IPV4, IP_TCP]);
  v5[14] = 0x55;
  assert.equal(decodeOne(v5, LINKTYPE_ETHERNET).status, 'bad_ipv4_version');
});

test('IPv4 with options: the TCP header starts after IHL * 4', () => {
  const tcp = tcpHeader({ sport: 1234, dport: 80, seq: 7, flags: TCP_ACK });
  const ip = ipv4Header({ src: [1, 2, 3, 4], dst: [5, 6, 7, 8], proto: 6, total: 24 + 20 + 3, ihlWords: 6 });
  ip[20] = 1; // NOP options
  const { status, out } = decodeOne(Buffer.concat([ip, tcp, Buffer.from('abc')]), LINKTYPE_RAW);
  assert.equal(status, '');
  assert.equal(out.srcPort, 1234);
  assert.equal(payloadText(out), 'abc');
});

test('IPv4 total length 0 (TSO super-packet on the sender): the captured bytes are the packet', () => {
  const p = Buffer.from(IP_TCP);
  p.writeUInt16BE(0, 2);
  const { status, out, counters } = decodeOne(p, LINKTYPE_RAW);
  assert.equal(status, '');
  assert.equal(out.payloadLen, 136);
  assert.equal(counters.get('ipv4_zero_total_length'), 1);
});

test('TCP: unsigned seq/ack, data offset checks, truncated header', () => {
  const tcp = tcpHeader({ sport: 65535, dport: 1, seq: 0xffffffff, ack: 0x80000000, flags: TCP_FIN | TCP_ACK, optionWords: 3 });
  const ip = ipv4Header({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 6, total: 20 + 32 });
  const { status, out } = decodeOne(Buffer.concat([ip, tcp]), LINKTYPE_RAW);
  assert.equal(status, '');
  assert.equal(out.seq, 4294967295);
  assert.equal(out.ack, 2147483648);
  assert.equal(out.srcPort, 65535);
  assert.equal(out.tcpFlags, TCP_FIN | TCP_ACK);
  assert.equal(out.payloadLen, 0);
  assert.equal(out.payloadOff, 7 + 52); // frames start at offset 7 of their buffer

  const small = Buffer.from(tcp);
  small[12] = 0x40; // data offset 4 words
  assert.equal(decodeOne(Buffer.concat([ip, small]), LINKTYPE_RAW).status, 'bad_tcp_data_offset');
  const big = Buffer.from(tcp);
  big[12] = 0xf0; // 60 bytes, more than the 32 the IP packet holds
  assert.equal(decodeOne(Buffer.concat([ip, big]), LINKTYPE_RAW).status, 'bad_tcp_data_offset');
  // Header cut by the capture but within the IP length: truncation.
  assert.equal(decodeOne(Buffer.concat([ip, tcp]).subarray(0, 45), LINKTYPE_RAW).status, 'truncated_tcp_header');
  assert.equal(decodeOne(Buffer.concat([ip, tcp]).subarray(0, 35), LINKTYPE_RAW).status, 'truncated_tcp_header');
});

test('not_tcp for other IP protocols', () => {
  const ip = ipv4Header({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2], proto: 1, total: 28 });
  assert.equal(decodeOne(Buffer.concat([ip, Buffer.alloc(8)]), LINKTYPE_RAW).status, 'not_tcp');
  const udp = ipv4Header({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2], proto: 17, total: 24 });
  assert.equal(decodeOne(Buffer.concat([udp, Buffer.alloc(4)]), LINKTYPE_RAW).status, 'truncated_udp_header');
});

test('IPv6 extension headers from ipv6-http-atomic-frag.pcap: dstopts, atomic fragment, hop-by-hop, routing', () => {
  const cases: [Buffer, number][] = [
    [IPV6_DSTOPTS_HTTP, 36951],
    [IPV6_ATOMIC_FRAG_HTTP, 59694],
    [IPV6_HOPOPTS_HTTP, 27393],
    [IPV6_ROUTING_HTTP, 45805],
  ];
  for (const [bytes, sport] of cases) {
    const { status, out, decoder } = decodeOne(bytes, LINKTYPE_ETHERNET);
    assert.equal(status, '', `sport ${sport}`);
    assert.equal(out.ipVersion, 6);
    assert.equal(srcText(out), '2001:db8:1::2');
    assert.equal(dstText(out), '2001:db8:1::1');
    assert.equal(out.ipProto, 6);
    assert.equal(out.srcPort, sport);
    assert.equal(out.dstPort, 80);
    assert.equal(payloadText(out), 'GET /bad.html\r\n');
    assert.equal(decoder.fragmentSetsPending, 0);
  }
});

test('IPv6: bad or truncated extension headers, no next header, ESP', () => {
  const badLen = Buffer.from(IPV6_DSTOPTS_HTTP);
  badLen[14 + 40 + 1] = 200; // hdr ext len far beyond the packet
  assert.equal(decodeOne(badLen, LINKTYPE_ETHERNET).status, 'ipv6_bad_extension_header');
  // Captured only partly, the packet claims more: truncation.
  assert.equal(decodeOne(IPV6_DSTOPTS_HTTP.subarray(0, 14 + 40 + 5), LINKTYPE_ETHERNET).status, 'truncated_ipv6_extension_header');
  assert.equal(decodeOne(IPV6_DSTOPTS_HTTP.subarray(0, 14 + 39), LINKTYPE_ETHERNET).status, 'truncated_ipv6_header');

  const noNext = Buffer.from(IPV6_DSTOPTS_HTTP);
  noNext[14 + 40] = 59;
  assert.equal(decodeOne(noNext, LINKTYPE_ETHERNET).status, 'ipv6_no_next_header');
  const esp = Buffer.from(IPV6_DSTOPTS_HTTP);
  esp[14 + 40] = 50;
  assert.equal(decodeOne(esp, LINKTYPE_ETHERNET).status, 'not_tcp');
  const v4 = Buffer.from(IPV6_DSTOPTS_HTTP);
  v4[14] = 0x40;
  assert.equal(decodeOne(v4, LINKTYPE_ETHERNET).status, 'bad_ipv6_version');
});

test('IPv6: a chain of 17 extension headers is refused, 16 are walked', () => {
  const src = hex('20010db8000000000000000000000001');
  const dst = hex('20010db8000000000000000000000002');
  const build = (n: number): Buffer => {
    const exts: Buffer[] = [];
    for (let i = 0; i < n; i++) exts.push(hex(i === n - 1 ? '0600000000000000' : '3c00000000000000'));
    const tcp = tcpHeader({ sport: 1, dport: 2, seq: 3, flags: TCP_ACK });
    return Buffer.concat([ETH_IPV6, ipv6Header({ src, dst, next: 60, payloadLen: n * 8 + 20 }), ...exts, tcp]);
  };
  assert.equal(decodeOne(build(16), LINKTYPE_ETHERNET).status, '');
  assert.equal(decodeOne(build(17), LINKTYPE_ETHERNET).status, 'ipv6_bad_extension_header');
});

test('AH is skipped for IPv4 and IPv6', () => {
  const ah = hex('0604000000000100000000070102030405060708090a0b0c'); // next TCP, payload len 4 => 24 bytes
  const tcp = tcpHeader({ sport: 5, dport: 6, seq: 7, flags: TCP_ACK });
  const ip = ipv4Header({ src: [1, 2, 3, 4], dst: [5, 6, 7, 8], proto: 51, total: 20 + 24 + 20 });
  const r4 = decodeOne(Buffer.concat([ip, ah, tcp]), LINKTYPE_RAW);
  assert.equal(r4.status, '');
  assert.equal(r4.out.dstPort, 6);
  const src = hex('20010db8000000000000000000000001');
  const r6 = decodeOne(Buffer.concat([ipv6Header({ src, dst: src, next: 51, payloadLen: 44 }), ah, tcp]), LINKTYPE_RAW);
  assert.equal(r6.status, '');
  assert.equal(r6.out.srcPort, 5);
  const shortAh = Buffer.from(ah);
  shortAh[1] = 0;
  assert.equal(decodeOne(Buffer.concat([ip, shortAh, tcp]), LINKTYPE_RAW).status, 'bad_ah_length');
});

test('IPv6 payload length beyond the capture: payloadMissing', () => {
  const { status, out } = decodeOne(IPV6_DSTOPTS_HTTP.subarray(0, IPV6_DSTOPTS_HTTP.length - 5), LINKTYPE_ETHERNET);
  assert.equal(status, '');
  assert.equal(out.payloadLen, 10);
  assert.equal(out.payloadMissing, 5);
});
