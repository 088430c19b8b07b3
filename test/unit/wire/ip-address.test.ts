import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipToString } from '../../../src/wire/ip-address';
import { isIP } from 'node:net';

const h = (s: string): Buffer => Buffer.from(s, 'hex');

test('IPv4 dotted quad at an offset', () => {
  assert.equal(ipToString(h('ffff0a00ff01'), 2, 4), '10.0.255.1');
});

test('IPv6 in RFC 5952 form', () => {
  const cases: [string, string][] = [
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // longest run compressed
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // tie: the first run
    ['20010db8000100000001000100010001', '2001:db8:1:0:1:1:1:1'], // a single zero group is not compressed
    ['fe800000000000000202b3fffe1e8329', 'fe80::202:b3ff:fe1e:8329'],
    ['20010DB8ABCD00120000000000000000', '2001:db8:abcd:12::'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'], // IPv4-mapped
    ['262000fe000000000000000000000009', '2620:fe::9'],
  ];
  for (const [bytes, text] of cases) {
    const s = ipToString(h(bytes), 0, 6);
    assert.equal(s, text);
    assert.equal(isIP(s), 6);
  }
});
