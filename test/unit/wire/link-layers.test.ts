// Wire readers for the link layers, over bytes copied from corpus captures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ethernet from '../../../src/wire/ethernet';
import * as vlan from '../../../src/wire/vlan';
import * as sll from '../../../src/wire/linux-sll';
import * as sll2 from '../../../src/wire/linux-sll2';
import * as bsdNull from '../../../src/wire/bsd-null';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('ethernet + 802.1ad/802.1Q tags (tcpdump/802.1ad_QinQ.pcap #1)', () => {
  // Ethernet[802.1ad VLAN 200[802.1Q VLAN 2001[ARP]]]
  const b = h('ffffffffffff0020d25afb3f88a8 00c88100 07d10806 0001');
  assert.equal(ethernet.check(b, 0, b.length), '');
  assert.equal(ethernet.check(b, 0, 13), 'truncated_ethernet_header');
  assert.equal(ethernet.etherType(b, 0), ethernet.ETHERTYPE_QINQ);
  assert.equal(vlan.check(b, 14, 4), '');
  assert.equal(vlan.check(b, 14, 3), 'truncated_vlan_header');
  assert.equal(vlan.vlanId(b, 14), 200);
  assert.equal(vlan.etherType(b, 14), ethernet.ETHERTYPE_VLAN);
  assert.equal(vlan.vlanId(b, 18), 2001);
  assert.equal(vlan.etherType(b, 18), ethernet.ETHERTYPE_ARP);
  assert.equal(vlan.priority(h('b0000800'), 0), 5);
});

test('Linux SLL (tcpdump/tcp-handshake-nano.pcap #1) and SLL2 (lab/sll2-any-duplicates.pcap #1)', () => {
  const a = h('00040200000000000000000000000800');
  assert.equal(sll.check(a, 0, 16), '');
  assert.equal(sll.check(a, 0, 15), 'truncated_sll_header');
  assert.equal(sll.packetType(a, 0), 4);
  assert.equal(sll.arphrdType(a, 0), 0x0200);
  assert.equal(sll.protocol(a, 0), 0x0800);
  const b = h('080000000000000400010406ca6d900e4ec70000');
  assert.equal(sll2.check(b, 0, 20), '');
  assert.equal(sll2.check(b, 0, 19), 'truncated_sll2_header');
  assert.equal(sll2.protocol(b, 0), 0x0800);
  assert.equal(sll2.interfaceIndex(b, 0), 4);
  assert.equal(sll2.packetType(b, 0), 4);
});

test('BSD null family in either byte order, loop in network order', () => {
  assert.equal(bsdNull.familyHostOrder(h('1e000000'), 0), 30);
  assert.equal(bsdNull.familyHostOrder(h('0000001e'), 0), 30);
  assert.equal(bsdNull.familyHostOrder(h('02000000'), 0), 2);
  assert.equal(bsdNull.familyNetworkOrder(h('00000018'), 0), 24);
  assert.equal(bsdNull.ipVersionOfFamily(2), 4);
  for (const f of [24, 28, 30]) assert.equal(bsdNull.ipVersionOfFamily(f), 6);
  assert.equal(bsdNull.ipVersionOfFamily(7), 0);
  assert.equal(bsdNull.check(h('000000'), 0, 3), 'truncated_null_header');
});
