// Property: however IPv4/IPv6 fragments of one datagram are cut, duplicated, overlapped and ordered,
// the decoder delivers the original datagram exactly once, when the last missing byte arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counters } from '../../src/observe/counters';
import { DecodedPacket, TCP_ACK } from '../../src/decode/decoded-packet';
import { Decoder } from '../../src/decode/decoder';
import { LINKTYPE_ETHERNET } from '../../src/wire/link-types';
import { ETH_IPV4, ETH_IPV6, ipv4Header, ipv6FragmentHeader, ipv6Header, pattern, tcpHeader } from '../unit/decode/craft';

const SRC6 = Buffer.from('20010db8000000000000000000000001', 'hex');
const DST6 = Buffer.from('20010db8000000000000000000000002', 'hex');

/** Pieces [start, end) on 8-byte boundaries (except the final end) covering [0, len), plus extra overlapping ones. */
const plan = fc
  .record({
    len: fc.integer({ min: 24, max: 3000 }),
    cuts: fc.array(fc.integer({ min: 1, max: 374 }), { maxLength: 12 }),
    extras: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
    version: fc.constantFrom(4, 6),
  })
  .chain((p) => {
    const bounds = [...new Set(p.cuts.map((c) => c * 8).filter((c) => c < p.len))].sort((a, b) => a - b);
    const edges = [0, ...bounds, p.len];
    const pieces: [number, number][] = [];
    for (let i = 0; i + 1 < edges.length; i++) pieces.push([edges[i], edges[i + 1]]);
    for (const [a, b] of p.extras) {
      const s = (a % Math.ceil(p.len / 8)) * 8;
      const e = Math.min(p.len, s + 8 * (1 + (b % 64)));
      if (s < e && (e === p.len || e % 8 === 0)) pieces.push([s, e]);
    }
    return fc.record({ len: fc.constant(p.len), version: fc.constant(p.version), order: fc.shuffledSubarray(pieces, { minLength: pieces.length }) });
  });

test('fragments in any order, with duplicates and overlaps, reassemble to the original datagram once', () => {
  fc.assert(
    fc.property(plan, ({ len, version, order }) => {
      const body = pattern(len - 20, len);
      const l4 = Buffer.concat([tcpHeader({ sport: 1111, dport: 80, seq: 42, flags: TCP_ACK }), body]);
      const counters = new Counters();
      const d = new Decoder({}, counters);
      const out = new DecodedPacket();
      const held = new Set<number>();
      let completions = 0;
      for (const [s, e] of order) {
        const more = e < len;
        const frame =
          version === 4
            ? Buffer.concat([ETH_IPV4, ipv4Header({ src: [1, 2, 3, 4], dst: [5, 6, 7, 8], proto: 6, total: 20 + e - s, id: 9, mf: more, fragOffsetBytes: s }), l4.subarray(s, e)])
            : Buffer.concat([ETH_IPV6, ipv6Header({ src: SRC6, dst: DST6, next: 44, payloadLen: 8 + e - s }), ipv6FragmentHeader(6, s, more, 9), l4.subarray(s, e)]);
        const status = d.decode({ buf: frame, off: 0, capLen: frame.length, wireLen: frame.length, tsMicros: 1, linkType: LINKTYPE_ETHERNET }, out);
        if (s === 0 && e === len) {
          // Offset 0 and no more fragments: not a fragment at all, decoded as it is.
          assert.equal(status, '');
          completions++;
          continue;
        }
        const before = held.size;
        for (let i = s; i < e; i++) held.add(i);
        const justCompleted = before < len && held.size === len;
        assert.equal(status === '', justCompleted, `completes exactly when the last missing byte arrives (${status})`);
        if (status === '') {
          completions++;
          assert.equal(out.payloadLen, body.length);
          assert.ok(out.buf.subarray(out.payloadOff, out.payloadOff + out.payloadLen).equals(body));
          assert.equal(out.seq, 42);
          held.clear(); // a later duplicate starts a new datagram
        } else {
          assert.equal(status, 'ip_fragment_buffered');
        }
      }
      assert.ok(completions >= 1, 'the datagram completed');
      assert.equal(counters.get('decoder_internal_error'), 0);
    }),
    { numRuns: 400 },
  );
});
