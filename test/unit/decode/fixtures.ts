/**
 * Packet fixtures for the decoder tests, fuzz properties and benchmark. Real packets were copied
 * byte for byte from the captures in /work/shared/corpus (file and 1-based frame number given);
 * crafted ones say so. Each comment gives the layer stack; each line is one layer.
 */
import type { Frame } from '../../../src/source/frame';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from '../../../src/wire/link-types';

/** Hex (whitespace allowed) to bytes. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** A Frame over a copy of `bytes` placed at a non-zero offset of a larger buffer (so that offsets are really honoured). */
export function frameOf(bytes: Buffer, linkType: number, tsMicros = 1_700_000_000_000_000, wireLen = bytes.length): Frame {
  const pad = 7;
  const buf = Buffer.alloc(bytes.length + pad + 3, 0xee);
  bytes.copy(buf, pad);
  return { buf, off: pad, capLen: bytes.length, wireLen, tsMicros, linkType };
}

// tcpdump/802.1ad_QinQ.pcap #1 — Ethernet[802.1ad VLAN 200[802.1Q VLAN 2001[ARP]]]
export const QINQ_ARP = hex(
  'ffffffffffff0020d25afb3f88a8' + // Ethernet, type 802.1ad
    '00c88100' + // S-tag: VLAN 200, next 802.1Q
    '07d10806' + // C-tag: VLAN 2001, next ARP
    '00010800060400010020d25afb3fac154f61000000000000ac154f640000000000000000000000000000', // ARP + padding
);

// tcpdump/LINKTYPE_RAW_ipv4.pcap #1 — IPv4[UDP[DNS]] 192.168.1.100:12345 -> 9.9.9.9:53
export const RAW_IPV4_UDP_DNS = hex(
  '45000039000100004011a695c0a8016409090909' + // IPv4
    '3039003500251976' + // UDP
    '123401000001000000000000076578616d706c6503636f6d0000010001', // DNS
);

// tcpdump/LINKTYPE_RAW_ipv6.pcap #1 — IPv6[UDP[DNS]] 2001:db8::1 -> 2620:fe::9
export const RAW_IPV6_UDP_DNS = hex(
  '600000000025114020010db8000000000000000000000001262000fe000000000000000000000009' + // IPv6
    '30390035002598b3' + // UDP
    '123401000001000000000000076578616d706c6503636f6d0000010001', // DNS
);

// tcpdump/tcp-handshake-nano.pcap #1 — SLL[IPv4[TCP SYN]] 131.155.215.69:46656 -> 137.116.81.94:80
export const SLL_TCP_SYN = hex(
  '00040200000000000000000000000800' + // SLL: sent by us, ARPHRD 0x0200, protocol IPv4
    '4500003c29a940004006db5f839bd7458974515e' + // IPv4
    'b64000502f842acb00000000a0026a4050c40000020405500402080a436a03620000000001030307', // TCP SYN, 40-byte header
);

// lab/sll2-any-duplicates.pcap #1 — SLL2[IPv4[TCP SYN]] 10.200.0.1:47008 -> 10.200.0.2:8089
export const SLL2_TCP_SYN = hex(
  '080000000000000400010406ca6d900e4ec70000' + // SLL2: protocol IPv4, ifindex 4
    '4500003cd8b4400040064c750ac800010ac80002' + // IPv4
    'b7a01f9985888b4c00000000a002faf015c10000020405b40402080ab8c5a484000000000103030a', // TCP SYN
);

// suricata-verify/http-ipv6.pcap #5 — NULL[IPv6[TCP[HTTP GET]]] [::1]:55717 -> [::1]:8000
export const NULL_IPV6_HTTP_GET = hex(
  '1e000000' + // BSD null: family 30 (Darwin AF_INET6), little-endian host order
    '6000c57a006a06400000000000000000000000000000000100000000000000000000000000000001' + // IPv6
    'd9a51f4011b0c5419d376318801831c7007200000101080a2df118d22df118d2' + // TCP, 32-byte header
    '474554202f20485454502f312e310d0a486f73743a205b3a3a315d3a383030300d0a557365722d4167656e743a206375726c2f372e35342e300d0a4163636570743a202a2f2a0d0a0d0a',
);

// zeek/ipv6-http-atomic-frag.pcap #8 — Ethernet[IPv6[DestOpts[TCP[HTTP]]]] [2001:db8:1::2]:36951 -> [2001:db8:1::1]:80
export const IPV6_DSTOPTS_HTTP = hex(
  'aa0004000a0400101895316a86dd' + // Ethernet
    '60000000002b3c4020010db800010000000000000000000220010db8000100000000000000000001' + // IPv6, next 60
    '0600010400000000' + // destination options (PadN), next TCP
    '90570050e31ebd4fbddbf8155018200008300000' + // TCP
    '474554202f6261642e68746d6c0d0a', // "GET /bad.html\r\n"
);

// zeek/ipv6-http-atomic-frag.pcap #16 — Ethernet[IPv6[Fragment (atomic)[TCP[HTTP]]]] :59694 -> :80
export const IPV6_ATOMIC_FRAG_HTTP = hex(
  'aa0004000a0400101895316a86dd' + // Ethernet
    '60000000002b2c4020010db800010000000000000000000220010db8000100000000000000000001' + // IPv6, next 44
    '0600000000000000' + // fragment header: next TCP, offset 0, M = 0
    'e92e005069817906fe46320c50182000f2dd0000' + // TCP
    '474554202f6261642e68746d6c0d0a',
);

// zeek/ipv6-http-atomic-frag.pcap #26 — Ethernet[IPv6[HopByHop[TCP[HTTP]]]] :27393 -> :80
export const IPV6_HOPOPTS_HTTP = hex(
  'aa0004000a0400101895316a86dd' + // Ethernet
    '60000000002b004020010db800010000000000000000000220010db8000100000000000000000001' + // IPv6, next 0
    '0600010400000000' + // hop-by-hop options (PadN), next TCP
    '6b010050515fabe2f96068535018200024f00000' + // TCP
    '474554202f6261642e68746d6c0d0a',
);

// zeek/ipv6-http-atomic-frag.pcap #36 — Ethernet[IPv6[Routing[TCP[HTTP]]]] :45805 -> :80
export const IPV6_ROUTING_HTTP = hex(
  'aa0004000a0400101895316a86dd' + // Ethernet
    '60000000002b2b4020010db800010000000000000000000220010db8000100000000000000000001' + // IPv6, next 43
    '0600000000000000' + // routing header type 0, segments left 0, next TCP
    'b2ed00501bc76ae0f329553b501820006ced0000' + // TCP
    '474554202f6261642e68746d6c0d0a',
);

// zeek/http-vlan-0.pcap #4 — Ethernet[802.1Q VLAN 0 (priority 5)[IPv4[TCP[HTTP GET]]]] 141.142.228.5:59856 -> 192.150.187.43:80
export const VLAN0_HTTP_GET = hex(
  '0010db88d2efc8bcc896d2a08100' + // Ethernet, type 802.1Q
    'b0000800' + // tag: PCP 5, VLAN 0, next IPv4
    '450000bc4a9a40004006024c8d8ee405c096bb2b' + // IPv4
    'e9d00050fe21323ba5afce3f8018202b048000000101080a164add662f894259' + // TCP PSH|ACK
    '474554202f646f776e6c6f61642f4348414e4745532e62726f2d6175782e74787420485454502f312e310d0a557365722d4167656e743a20576765742f312e3134202864617277696e31322e322e30290d0a4163636570743a202a2f2a0d0a486f73743a2062726f2e6f72670d0a436f6e6e656374696f6e3a204b6565702d416c6976650d0a0d0a',
);

// zeek/tunnels_vxlan.pcap #3 — Ethernet[IPv4[UDP 4789[VXLAN 123[Ethernet[IPv4[ICMP]]]]]]
export const VXLAN_ICMP = hex(
  '080027f21d8c080027ae4d620800' + // Ethernet
    '45000086d999400040116f65c0a8380bc0a8380c' + // IPv4 192.168.56.11 -> .12
    'bc0612b500720000' + // UDP -> 4789
    '0800000000007b00' + // VXLAN I flag, VNI 123
    '4a7f013ba271ba092b6ef8be0800' + // inner Ethernet
    '450000542f4f40004001f7570a0000010a000002' + // inner IPv4, ICMP
    '08004c8a0d3d0001a38c7c5700000000b5800a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

// zeek/tunnels_vxlan.pcap #1 — Ethernet[IPv4[UDP 4789[VXLAN 123[Ethernet[ARP]]]]]
export const VXLAN_ARP = hex(
  '080027f21d8c080027ae4d620800' + // Ethernet
    '4500004ed998400040116f9ec0a8380bc0a8380c' + // IPv4
    '9bf412b5003a0000' + // UDP -> 4789
    '0800000000007b00' + // VXLAN VNI 123
    'ffffffffffffba092b6ef8be0806' + // inner Ethernet, ARP
    '0001080006040001ba092b6ef8be0a0000010000000000000a000002',
);

// zeek/tunnels_geneve.pcap #1 — Ethernet[IPv4[UDP 6081[GENEVE 0x6558 + 1 option[Ethernet[IPv4[ICMP]]]]]]
export const GENEVE_ICMP = hex(
  '001b213cac30001b213cab640800' + // Ethernet
    '4500008ec473400040114de91400000114000002' + // IPv4 20.0.0.1 -> 20.0.0.2
    'c6d517c1007a0000' + // UDP -> 6081
    '0200655800000000' + // GENEVE: opt len 2 words, protocol 0x6558, VNI 0
    '000000010000000a' + // option class 0, type 0, 1 data word
    '76b5d50aa641b21a43d5fa4c0800' + // inner Ethernet
    '45000054000040004001fea61e0000011e000002' + // inner IPv4 30.0.0.1 -> 30.0.0.2, ICMP
    '0800c62b41b0001cc7989b5300000000c648080000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

// zeek/tunnels_geneve-vxlan-dns-truncated.pcap #1 (captured 176 of 182 bytes) —
// Ethernet[IPv4[UDP 6081[GENEVE 0x0800 VNI 4242[IPv4[UDP 4789[VXLAN 4242[Ethernet[IPv4[UDP[DNS]]]]]]]]]]
export const GENEVE_VXLAN_DNS_TRUNCATED = hex(
  '0c552183136e0c552183136d0800' + // Ethernet
    '450000a80000000020119c437f0000017f000001' + // IPv4 127.0.0.1 -> 127.0.0.1
    '2e1b17c100941f5b' + // UDP -> 6081
    '0000080000109200' + // GENEVE: no options, protocol IPv4, VNI 4242
    '450000840000000020119c677f0000017f000001' + // IPv4
    '670f12b500701f63' + // UDP -> 4789
    '0800000000109200' + // VXLAN VNI 4242
    '74acb93fd27d48f17fa3b6ff0800' + // Ethernet
    '45000052f30000004011cdbfac100bc901010101' + // IPv4 172.16.11.201 -> 1.1.1.1
    '90080035003ec791' + // UDP -> 53
    'fa480120000100000000000109636f72656c6967687403636f6d0000010001000029100000000000000c000a00088731', // DNS (cut)
);

// suricata-verify/aws-mirror-vxlan-decoder-03.pcap #3 — Ethernet[IPv4[UDP 4789[VXLAN 5569041[Ethernet[IPv4[TCP SYN]]]]]]
export const AWS_MIRROR_TCP_SYN = hex(
  '06e2439cff5e061d3c34d0770800' + // Ethernet
    '4500006e00000000ff115096ac1f00eeac1f11bc' + // IPv4 172.31.0.238 -> 172.31.17.188
    'ffc212b5005a0000' + // UDP -> 4789
    '0800000054fa1100' + // VXLAN VNI 0x54fa11
    '028569c2ab0202292374c77d0800' + // inner Ethernet
    '4500003cde1040003f060bfa12c491e0ac1f00ee' + // inner IPv4 18.196.145.224 -> 172.31.0.238
    '913c0016e7d8ab4500000000a002faf02ecf0000020405b40402080ab341f4db0000000001030307', // TCP SYN 37180 -> 22
);

// lab/vxlan-http-lab.pcap #4 — Ethernet[IPv4[UDP 4789[VXLAN 4242[Ethernet[IPv4[TCP[HTTP GET]]]]]]]
export const LAB_VXLAN_HTTP_GET = hex(
  '9e1ae7ca7d6c5aeb7b33f0c70800' + // Ethernet
    '450000bf32eb0000401131ae0ac900010ac90003' + // IPv4 10.201.0.1 -> 10.201.0.3
    'c72212b500ab0000' + // UDP -> 4789
    '0800000000109200' + // VXLAN VNI 4242
    '06ffcfec4c9e3ae84e73438f0800' + // inner Ethernet
    '4500008dbe434000400666950ac800010ac80002' + // inner IPv4 10.200.0.1 -> 10.200.0.2 (total 141)
    'd6321f90938e198b0f1e71b68018003fe5df00000101080a02c7c9faa6f443d3' + // TCP 54834 -> 8080, 32-byte header
    '474554202f68656c6c6f2e6a736f6e20485454502f312e310d0a486f73743a2031302e3230302e302e323a383038300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a',
);
/** Offset of the inner IPv4 header in LAB_VXLAN_HTTP_GET, and its total length. */
export const LAB_INNER_IP_OFF = 64;
export const LAB_INNER_IP_TOTAL = 141;

// Crafted — AWS Gateway Load Balancer layout with the GWLB TLVs (class 0x0108: type 1 endpoint id, 8 bytes;
// type 2 attachment id, 8 bytes; type 3 flow cookie, 4 bytes):
// Ethernet[IPv4[UDP 6081[GENEVE 0x0800 VNI 0 + 3 options[IPv4[UDP 4789[VXLAN 4250[Ethernet[IPv4[TCP[HTTP]]]]]]]]]]
export const GWLB_GENEVE_VXLAN_HTTP = hex(
  '0200000000010200000000020800' + // Ethernet
    '450000b00002400040110000c0a80a05c0a81406' + // IPv4 192.168.10.5 -> 192.168.20.6 (GWLB -> appliance)
    '9c4017c1009c0000' + // UDP 40000 -> 6081
    '0800080000000000' + // GENEVE: opt len 8 words, protocol IPv4, VNI 0
    '01080102 0102030405060708 01080202 1112131415161718 01080301 a1b2c3d4' + // options 0x0108 types 1, 2, 3
    '4500006c0001400040110000ac1f050aac1f0914' + // IPv4 172.31.5.10 (mirror source ENI) -> 172.31.9.20 (GWLBE)
    '823512b500580000' + // UDP 33333 -> 4789
    '0800000000109a00' + // VXLAN VNI 4250
    '0a00000000020a00000000010800' + // inner Ethernet
    '4500003a12344000400600000a0000010a000002' + // inner IPv4 10.0.0.1 -> 10.0.0.2
    'c7380050fffffff001020304501801f600000000' + // TCP 51000 -> 80, seq 0xfffffff0, PSH|ACK
    '474554202f20485454502f312e310d0a0d0a', // "GET / HTTP/1.1\r\n\r\n"
);

export interface Fixture {
  name: string;
  linkType: number;
  bytes: Buffer;
}

/** Every real or crafted fixture with its first layer (fuzz seeds, benchmark). */
export const ALL_FIXTURES: readonly Fixture[] = [
  { name: 'qinq-arp', linkType: LINKTYPE_ETHERNET, bytes: QINQ_ARP },
  { name: 'raw-ipv4-udp', linkType: LINKTYPE_RAW, bytes: RAW_IPV4_UDP_DNS },
  { name: 'raw-ipv6-udp', linkType: LINKTYPE_RAW, bytes: RAW_IPV6_UDP_DNS },
  { name: 'sll-tcp', linkType: LINKTYPE_LINUX_SLL, bytes: SLL_TCP_SYN },
  { name: 'sll2-tcp', linkType: LINKTYPE_LINUX_SLL2, bytes: SLL2_TCP_SYN },
  { name: 'null-ipv6-http', linkType: LINKTYPE_NULL, bytes: NULL_IPV6_HTTP_GET },
  { name: 'ipv6-dstopts', linkType: LINKTYPE_ETHERNET, bytes: IPV6_DSTOPTS_HTTP },
  { name: 'ipv6-atomic-frag', linkType: LINKTYPE_ETHERNET, bytes: IPV6_ATOMIC_FRAG_HTTP },
  { name: 'ipv6-hopopts', linkType: LINKTYPE_ETHERNET, bytes: IPV6_HOPOPTS_HTTP },
  { name: 'ipv6-routing', linkType: LINKTYPE_ETHERNET, bytes: IPV6_ROUTING_HTTP },
  { name: 'vlan0-http', linkType: LINKTYPE_ETHERNET, bytes: VLAN0_HTTP_GET },
  { name: 'vxlan-icmp', linkType: LINKTYPE_ETHERNET, bytes: VXLAN_ICMP },
  { name: 'vxlan-arp', linkType: LINKTYPE_ETHERNET, bytes: VXLAN_ARP },
  { name: 'geneve-icmp', linkType: LINKTYPE_ETHERNET, bytes: GENEVE_ICMP },
  { name: 'geneve-vxlan-dns', linkType: LINKTYPE_ETHERNET, bytes: GENEVE_VXLAN_DNS_TRUNCATED },
  { name: 'aws-mirror-syn', linkType: LINKTYPE_ETHERNET, bytes: AWS_MIRROR_TCP_SYN },
  { name: 'lab-vxlan-http', linkType: LINKTYPE_ETHERNET, bytes: LAB_VXLAN_HTTP_GET },
  { name: 'gwlb-geneve-vxlan-http', linkType: LINKTYPE_ETHERNET, bytes: GWLB_GENEVE_VXLAN_HTTP },
];
