// Wire readers for VXLAN and GENEVE over corpus bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vxlan from '../../../src/wire/vxlan';
import * as geneve from '../../../src/wire/geneve';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('VXLAN header (suricata-verify/aws-mirror-vxlan-decoder-03.pcap #3)', () => {
  const b = h('0800000054fa1100');
  assert.equal(vxlan.check(b, 0, 8), '');
  assert.equal(vxlan.vni(b, 0), 5569041);
  assert.equal(vxlan.check(b, 0, 7), 'truncated_vxlan_header');
  assert.equal(vxlan.check(h('0000000054fa1100'), 0, 8), 'vxlan_bad_flags');
  assert.equal(vxlan.check(h('ffffffff54fa11ff'), 0, 8), '');
});

test('GENEVE header and options (zeek/tunnels_geneve.pcap #1)', () => {
  const b = h('0200655800000000 000000010000000a');
  assert.equal(geneve.check(b, 0, b.length), '');
  assert.equal(geneve.version(b, 0), 0);
  assert.equal(geneve.optionsLength(b, 0), 8);
  assert.equal(geneve.headerLength(b, 0), 16);
  assert.equal(geneve.protocolType(b, 0), 0x6558);
  assert.equal(geneve.vni(b, 0), 0);
  assert.equal(geneve.isOam(b, 0), false);
  assert.equal(geneve.hasCriticalOptions(b, 0), false);
  assert.equal(geneve.optionClass(b, 8), 0);
  assert.equal(geneve.optionType(b, 8), 0);
  assert.equal(geneve.optionDataLength(b, 8), 4);
  assert.equal(geneve.check(b, 0, 15), 'truncated_geneve_header');
  assert.equal(geneve.check(b, 0, 7), 'truncated_geneve_header');
  assert.equal(geneve.check(h('4200655800000000 000000010000000a'), 0, 16), 'geneve_bad_version');
  assert.equal(geneve.check(h('0200655800000000 0000000200000000'), 0, 16), 'geneve_bad_options');
});

test('GENEVE with the AWS GWLB option class 0x0108 (crafted)', () => {
  const b = h('08c0080000000000 01080102 0102030405060708 01080202 1112131415161718 01080301 a1b2c3d4');
  assert.equal(geneve.check(b, 0, b.length), '');
  assert.equal(geneve.hasCriticalOptions(b, 0), true);
  assert.equal(geneve.isOam(b, 0), true);
  assert.equal(geneve.protocolType(b, 0), 0x0800);
  let opt = 8;
  const seen: [number, number, number][] = [];
  while (opt < geneve.headerLength(b, 0)) {
    seen.push([geneve.optionClass(b, opt), geneve.optionType(b, opt), geneve.optionDataLength(b, opt)]);
    opt += geneve.GENEVE_OPT_HEADER_LEN + geneve.optionDataLength(b, opt);
  }
  assert.deepEqual(seen, [
    [geneve.GENEVE_OPT_CLASS_AWS_GWLB, 1, 8],
    [geneve.GENEVE_OPT_CLASS_AWS_GWLB, 2, 8],
    [geneve.GENEVE_OPT_CLASS_AWS_GWLB, 3, 4],
  ]);
});
