/** Classic pcap from hand-made bytes: both byte orders, µs and ns, link-type field masking, old versions, weirds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collect } from './helpers';

const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');

describe('pcap fixtures', () => {
  it('big endian, µs', () => {
    const got = collect(hex(`
      a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000001   # pcap 2.4 BE, snaplen 65535, LINKTYPE_ETHERNET
      6553f280 0001e240 00000004 0000003c deadbeef             # ts 1700000384.123456, caplen 4, len 60
      6553f281 00000000 00000002 00000002 cafe                 # ts 1700000385.000000, caplen 2
    `));
    assert.deepEqual(got.end, { format: 'pcap', records: 2, bytes: 24 + 20 + 18 });
    assert.deepEqual(got.frames.map((f) => [f.ts, f.capLen, f.wireLen, f.linkType, f.off]), [
      [1700000384123456, 4, 60, 1, 40],
      [1700000385000000, 2, 2, 1, 60],
    ]);
    assert.deepEqual(got.weirds, {});
  });

  it('little endian, ns: floor to µs; FCS bits above the link type are ignored', () => {
    const got = collect(hex(`
      4d3cb2a1 0200 0400 00000000 00000000 ffff0000 71000014   # pcap-ns 2.4 LE, LINKTYPE_LINUX_SLL, FCS bits set
      80f25365 ffc99a3b 04000000 04000000 01020304             # ts 1700000384.999999999
      80f25365 e7030000 04000000 04000000 05060708             # ts 1700000384.000000999
    `));
    assert.equal(got.end?.format, 'pcap-ns');
    assert.deepEqual(got.frames.map((f) => [f.ts, f.linkType]), [
      [1700000384999999, 113],
      [1700000384000000, 113],
    ]);
  });

  it('big endian, ns', () => {
    const got = collect(hex(`
      a1b23c4d 0002 0004 00000000 00000000 00040000 00000065   # pcap-ns 2.4 BE, LINKTYPE_RAW
      6553f280 075bcd15 00000001 00000001 45                   # ts 1700000384.123456789
    `));
    assert.deepEqual(got.frames.map((f) => [f.ts, f.linkType, f.capLen]), [[1700000384123456, 101, 1]]);
  });

  it('version 2.2: caplen and len fields interchanged are put back', () => {
    const got = collect(hex(`
      d4c3b2a1 0200 0200 00000000 00000000 ffff0000 01000000   # pcap 2.2 LE
      00000000 00000000 3c000000 04000000 deadbeef             # "caplen" 60, "len" 4: really 4 captured of 60
      00000000 00000000 04000000 04000000 cafebabe
    `));
    assert.deepEqual(got.frames.map((f) => [f.capLen, f.wireLen]), [[4, 60], [4, 4]]);
    assert.deepEqual(got.weirds, {});
  });

  it('oddities are counted, records still delivered', () => {
    const got = collect(hex(`
      d4c3b2a1 0200 0400 00000000 00000000 02000000 01000000   # snaplen 2
      01000000 00000000 04000000 04000000 deadbeef             # caplen 4 > snaplen 2
      01000000 40420f00 02000000 01000000 cafe                 # usec 1000000; orig len 1 < caplen 2
    `));
    assert.deepEqual(got.frames.map((f) => [f.ts, f.capLen, f.wireLen]), [[1000000, 4, 4], [2000000, 2, 2]]);
    assert.deepEqual(got.weirds, { pcap_caplen_over_snaplen: 1, pcap_subsecond_overflow: 1, pcap_wirelen_under_caplen: 1 });
  });

  it('a weird of a record split over chunks is counted once', () => {
    const input = hex(`
      d4c3b2a1 0200 0400 00000000 00000000 02000000 01000000
      01000000 00000000 04000000 04000000 deadbeef
    `);
    assert.deepEqual(collect(input, () => 1).weirds, { pcap_caplen_over_snaplen: 1 });
  });

  it('header only: zero records, not truncated', () => {
    const got = collect(hex('d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000'));
    assert.deepEqual(got.end, { format: 'pcap', records: 0, bytes: 24 });
  });
});
