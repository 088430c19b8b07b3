/**
 * Streaming behaviour on real captures: any chunking gives the same frames as one big chunk, and an input cut inside
 * a record delivers every complete record and names the cut record in truncatedAt.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collect, comparable, corpusFile, HAVE_CORPUS, NO_CORPUS_REASON, rng } from './helpers';

const SMALL = [
  'tcpdump/tcp-handshake-nano.pcap', // pcap-ns, LE, SLL
  'lab/vxlan-http-lab-nanosec-bigendian.pcap', // pcap-ns, BE
  'lab/vxlan-http-lab.pcap', // pcap µs, LE
  'gopacket/bigendian-test202.pcapng', // pcapng BE, 3 sections, SPB, custom blocks
  'zeek/pcapng-multi-interface.pcapng', // pcapng, two interfaces, ns and µs resolution
  'tcpdump/empty.pcapng', // no records
];
const LARGER = [
  'lab/multi-interface.pcapng', // 2.4 MB pcapng
  'lab/sll2-any-duplicates.pcap', // 2.4 MB pcap
  'zeek/http_http-post-large.pcap', // records larger than typical chunks
  'zeek/tcp_http-on-irc-port-missing-syn.pcapng',
];

/** Start offsets and lengths of the items of a capture (file header / blocks / records), walked independently. */
function items(buf: Buffer): { start: number; len: number; header: number }[] {
  const out: { start: number; len: number; header: number }[] = [];
  const magicBE = buf.readUInt32BE(0);
  if (magicBE === 0x0a0d0d0a) {
    let le = true;
    for (let o = 0; o < buf.length; ) {
      if (buf.readUInt32LE(o) === 0x0a0d0d0a) le = buf.readUInt32LE(o + 8) === 0x1a2b3c4d;
      const len = le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4);
      out.push({ start: o, len, header: 12 });
      o += len;
    }
    return out;
  }
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  out.push({ start: 0, len: 24, header: 24 });
  for (let o = 24; o < buf.length; ) {
    const cap = le ? buf.readUInt32LE(o + 8) : buf.readUInt32BE(o + 8);
    out.push({ start: o, len: 16 + cap, header: 16 });
    o += 16 + cap;
  }
  return out;
}

describe('chunking', { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, () => {
  for (const file of SMALL) {
    it(`${file}: 1-byte, 7-byte and random chunks give the frames of one chunk`, () => {
      const input = corpusFile(file);
      const whole = comparable(collect(input));
      assert.deepEqual(comparable(collect(input, () => 1)), whole, '1-byte chunks');
      assert.deepEqual(comparable(collect(input, () => 7)), whole, '7-byte chunks');
      for (let seed = 1; seed <= 5; seed++) {
        const r = rng(seed);
        assert.deepEqual(comparable(collect(input, () => 1 + Math.floor(r() * 300))), whole, `random seed ${seed}`);
      }
    });
  }
  for (const file of LARGER) {
    it(`${file}: 7-byte, random and record-sized chunks give the frames of one chunk`, () => {
      const input = corpusFile(file);
      const wholeC = collect(input);
      assert.ok(wholeC.frames.length > 0);
      const whole = comparable(wholeC);
      assert.deepEqual(comparable(collect(input, () => 7)), whole, '7-byte chunks');
      const r = rng(42);
      assert.deepEqual(comparable(collect(input, () => 1 + Math.floor(r() * 70000))), whole, 'random chunks');
      assert.deepEqual(comparable(collect(input, () => 1514)), whole, '1514-byte chunks');
    });
  }
  it('frames from one whole chunk are parsed in place (frame.buf is the chunk, offsets are file offsets)', () => {
    const input = corpusFile('lab/vxlan-http-lab.pcap');
    const got = collect(input);
    const its = items(input);
    assert.deepEqual(got.frames.map((f) => f.off), its.slice(1).map((i) => i.start + 16));
  });
});

describe('truncated input', { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, () => {
  for (const file of [...SMALL.filter((f) => !f.includes('empty')), 'lab/multi-interface.pcapng']) {
    it(`${file}: cut inside items delivers the complete records and names the cut one`, () => {
      const input = corpusFile(file);
      const whole = collect(input);
      const its = items(input);
      const r = rng(7);
      // Cut in every item of small files, every 97th of large ones; inside the header and inside the body.
      for (let k = 0; k < its.length; k += its.length > 200 ? 97 : 1) {
        const it = its[k];
        for (const have of new Set([1, it.header - 1, it.header, 1 + Math.floor(r() * (it.len - 1)), it.len - 1])) {
          if (have <= 0 || have >= it.len) continue;
          const cut = input.subarray(0, it.start + have);
          for (const chunking of [undefined, () => 1 + Math.floor(r() * 100)]) {
            const got = collect(cut, chunking);
            const where = `${file} item ${k} cut after ${have} of ${it.len} bytes`;
            if (got.error !== undefined) {
              // Only a cut inside the 4-byte magic makes the input unrecognisable.
              assert.equal(got.error.code, 'CAP_ERR_NOT_A_CAPTURE', where);
              assert.ok(it.start + have < 4, where);
              continue;
            }
            assert.ok(got.end !== undefined);
            const expected = whole.frames.filter((f) => f.off < it.start);
            assert.deepEqual(got.frames.map((f) => f.data), expected.map((f) => f.data), where);
            assert.equal(got.end.records, expected.length, where);
            assert.equal(got.end.bytes, cut.length, where);
            assert.deepEqual(
              got.end.truncatedAt,
              { offset: it.start, have, need: have < it.header ? it.header : it.len },
              where,
            );
          }
        }
      }
    });
  }

  it('cut exactly between records: no truncatedAt', () => {
    const input = corpusFile('lab/vxlan-http-lab.pcap');
    const its = items(input);
    const cut = input.subarray(0, its[5].start);
    const got = collect(cut, () => 13);
    assert.equal(got.end?.records, 4);
    assert.equal(got.end?.truncatedAt, undefined);
  });
});
