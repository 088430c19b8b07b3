import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipToString } from '../../../src/wire/ip-address';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('IPv4 dotted quad at an offset', () => {
  // IPv4 header: 45 00 0028 0000 0000 40 06 0000 | src 192.168.0.1 | dst 10.0.0.255
  const b = hex('4500 0028 0000 0000 4006 0000 c0a8 0001 0a00 00ff');
  assert.equal(ipToString(b, 12, 4), '192.168.0.1');
  assert.equal(ipToString(b, 16, 4), '10.0.0.255');
});

test('IPv6 text follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // longest run compressed
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // tie: first run
    ['20010db800000001000100010001000a', '2001:db8:0:1:1:1:1:a'], // single zero group not compressed
    ['fe800000000000000a1b2c3d4e5f6071', 'fe80::a1b:2c3d:4e5f:6071'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['20010db8000000000000000000000000', '2001:db8::'],
  ];
  for (const [h, want] of cases) assert.equal(ipToString(hex(h), 0, 6), want, h);
  const withPrefix = Buffer.concat([Buffer.alloc(8), hex('ff020000000000000000000000000001')]);
  assert.equal(ipToString(withPrefix, 8, 6), 'ff02::1');
});
