// Property tests: the decoder never throws and always returns '' or one snake_case outcome,
// on arbitrary bytes for every first layer and on mutated real packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counters } from '../../src/observe/counters';
import { DecodedPacket } from '../../src/decode/decoded-packet';
import { DECODE_OUTCOMES, Decoder } from '../../src/decode/decoder';
import * as lt from '../../src/wire/link-types';
import { ALL_FIXTURES } from '../unit/decode/fixtures';

const LINK_TYPES = [
  lt.LINKTYPE_NULL,
  lt.LINKTYPE_ETHERNET,
  lt.LINKTYPE_RAW,
  lt.LINKTYPE_LOOP,
  lt.LINKTYPE_LINUX_SLL,
  lt.LINKTYPE_IPV4,
  lt.LINKTYPE_IPV6,
  lt.LINKTYPE_LINUX_SLL2,
  lt.DLT_RAW_12,
  lt.DLT_RAW_14,
  lt.FIRST_LAYER_VXLAN,
  lt.FIRST_LAYER_GENEVE,
  999,
];
const OUTCOME = /^(|[a-z0-9]+(_[a-z0-9]+)*)$/;

function checkOne(d: Decoder, counters: Counters, out: DecodedPacket, bytes: Uint8Array, linkType: number, off = 0): void {
  const buf = Buffer.alloc(off + bytes.length);
  buf.set(bytes, off);
  let status = '';
  assert.doesNotThrow(() => {
    status = d.decode({ buf, off, capLen: bytes.length, wireLen: bytes.length, tsMicros: 1_000_000, linkType }, out);
  });
  assert.match(status, OUTCOME);
  assert.ok(status === '' || DECODE_OUTCOMES.includes(status), `undeclared outcome ${status}`);
  assert.equal(counters.get('decoder_internal_error'), 0, 'a step threw');
  if (status === '') {
    assert.ok(out.payloadLen >= 0 && out.payloadMissing >= 0);
    assert.ok(out.payloadOff + out.payloadLen <= out.buf.length);
    const addrLen = out.ipVersion === 4 ? 4 : 16;
    assert.ok(out.srcAddrOff + addrLen <= out.buf.length && out.dstAddrOff + addrLen <= out.buf.length);
  }
}

test('arbitrary bytes with every link type never throw', () => {
  const counters = new Counters();
  const d = new Decoder({}, counters);
  const out = new DecodedPacket();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...LINK_TYPES), fc.nat(8), (bytes, linkType, off) => {
      checkOne(d, counters, out, bytes, linkType, off);
    }),
    { numRuns: 3000 },
  );
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(src: Buffer, muts: { kind: 'set' | 'cut' | 'insert' | 'delete'; at: number; value: number }[]): Buffer {
  let b = Buffer.from(src);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.value]), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  }
  return b;
}

test('mutated real packets never throw (one decoder, fragment state carried across packets)', () => {
  const counters = new Counters();
  const d = new Decoder({ maxFragmentSets: 8, maxFragmentBytes: 64 * 1024 }, counters);
  const out = new DecodedPacket();
  fc.assert(
    fc.property(fc.constantFrom(...ALL_FIXTURES), fc.array(mutation, { minLength: 1, maxLength: 6 }), (fx, muts) => {
      checkOne(d, counters, out, mutate(fx.bytes, muts), fx.linkType);
      assert.ok(d.fragmentBytesBuffered <= 64 * 1024);
      assert.ok(d.fragmentSetsPending <= 8);
    }),
    { numRuns: 4000 },
  );
});

test('unmutated fixtures decode to their known outcome class', () => {
  const counters = new Counters();
  const d = new Decoder({}, counters);
  const out = new DecodedPacket();
  for (const fx of ALL_FIXTURES) {
    const status = d.decode({ buf: fx.bytes, off: 0, capLen: fx.bytes.length, wireLen: fx.bytes.length, tsMicros: 0, linkType: fx.linkType }, out);
    assert.ok(['', 'not_tcp', 'not_ip'].includes(status), `${fx.name}: ${status}`);
  }
  assert.equal(counters.get('decoder_internal_error'), 0);
});

test('the truncations of every fixture, byte by byte, give declared outcomes', () => {
  const counters = new Counters();
  const d = new Decoder({}, counters);
  const out = new DecodedPacket();
  const seen = new Set<string>();
  for (const fx of ALL_FIXTURES) {
    for (let n = 0; n <= fx.bytes.length; n++) {
      checkOne(d, counters, out, fx.bytes.subarray(0, n), fx.linkType);
      seen.add(d.decode({ buf: fx.bytes, off: 0, capLen: n, wireLen: fx.bytes.length, tsMicros: 0, linkType: fx.linkType }, out));
    }
  }
  for (const o of [
    'truncated_ethernet_header',
    'truncated_vlan_header',
    'truncated_sll_header',
    'truncated_sll2_header',
    'truncated_null_header',
    'truncated_ipv4_header',
    'truncated_ipv6_header',
    'truncated_ipv6_extension_header',
    'truncated_udp_header',
    'truncated_vxlan_header',
    'truncated_geneve_header',
    'truncated_tcp_header',
  ]) {
    assert.ok(seen.has(o), `some truncation gives ${o}`);
  }
  assert.ok(seen.has(''), 'cut TCP payloads still decode');
});
