/**
 * pcapng from hand-made bytes: sections of both byte orders, per-interface link type, if_tsresol (10^-9, 2^-20) and
 * if_tsoffset, EPB / SPB / OPB, skipped NRB / ISB / custom / unknown blocks, unknown interfaces. The fixture is also
 * read by tshark (when installed) so the hand-made bytes are checked against an independent reader.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ifaceTsMicros, newIface } from '../../../src/source/pcapng-reader';
import { collect, haveTshark, NO_TSHARK_REASON, tsharkFrames } from './helpers';

const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');

// Two sections. Packet data is opaque here (the reader does not look inside frames).
const SECTION_1 = `
  # --- section 1, little endian ---
  0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000         # SHB v1.0, section length unknown
  01000000 2c000000 0100 0000 ffff0000                                   # IDB 0: LINKTYPE_ETHERNET, snaplen 65535
    0900 0100 09000000                                                   #   if_tsresol = 9 (ns)
    0e00 0800 6400000000000000                                           #   if_tsoffset = 100 s
    0000 0000 2c000000                                                   #   opt_endofopt
  01000000 20000000 1401 0000 00000000                                   # IDB 1: LINKTYPE_LINUX_SLL2, snaplen 0
    0900 0100 94000000 0000 0000 20000000                                #   if_tsresol = 0x94 (2^-20 s)
  06000000 24000000 00000000 fe9c9717 15cd853d 04000000 3c000000         # EPB if 0, ts 1700000000123456789 ns, cap 4, len 60
    deadbeef 24000000
  04000000 10000000 00000000 10000000                                    # NRB, empty
  06000000 24000000 01000000 3f550600 01001810 04000000 04000000         # EPB if 1, ts (1700000001 s + 524289/2^20) cap 4 len 4
    01020304 24000000
  03000000 14000000 04000000 cafebabe 14000000                           # SPB (interface 0), len 4
  05000000 18000000 00000000 00000000 00000000 18000000                  # ISB
  ad0b0000 14000000 00007b00 aabbccdd 14000000                           # custom block, PEN 123
  99000000 0c000000 0c000000                                             # unknown block type 0x99
`;
const SECTION_1_BAD_INTERFACE = `
  06000000 24000000 05000000 fe9c9717 15cd853d 04000000 3c000000         # EPB if 5: no such interface
    deadbeef 24000000
`;
const SECTION_2 = `
  # --- section 2, big endian: interfaces start again ---
  0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffffffffffff 0000001c         # SHB v1.0
  00000001 00000014 0065 0000 00000000 00000014                          # IDB 0: LINKTYPE_RAW, default µs
  00000002 00000024 0000 0000 00060a24 1846c071 00000004 00000004        # OPB if 0, ts 1700000002654321 µs
    c0ffee00 00000024
`;
const SECTION_2_BAD_INTERFACE = `
  00000006 00000024 00000001 00060a24 1846c071 00000004 00000004         # EPB if 1: section 2 has one interface
    11223344 00000024
`;
const TWO_SECTIONS = hex(SECTION_1 + SECTION_1_BAD_INTERFACE + SECTION_2 + SECTION_2_BAD_INTERFACE);
/** tshark stops at a packet on an unknown interface, so it checks the fixture without those two blocks. */
const TWO_SECTIONS_CLEAN = hex(SECTION_1 + SECTION_2);

describe('pcapng fixture: two sections, both byte orders', () => {
  it('delivers EPB, SPB and OPB frames with their interface link type and timestamps', () => {
    const got = collect(TWO_SECTIONS);
    assert.equal(got.error, undefined);
    assert.deepEqual(
      got.frames.map((f) => [f.ts, f.capLen, f.wireLen, f.linkType]),
      [
        [1700000100123456, 4, 60, 1], // floor(ns / 1000) + 100 s offset
        [1700000001500000, 4, 4, 276], // 524289 / 2^20 s = 0.50000095 s
        [1700000001500000, 4, 4, 1], // SPB: no timestamp of its own, takes the previous record's
        [1700000002654321, 4, 4, 101], // OPB, big-endian section
      ],
    );
    assert.deepEqual(got.end, { format: 'pcapng', records: 4, bytes: TWO_SECTIONS.length });
    assert.deepEqual(got.weirds, { pcapng_unknown_block: 1, pcapng_epb_unknown_interface: 2 });
    const data = got.frames.map((f) => f.data);
    assert.equal(new Set(data).size, 4);
  });

  it('agrees with tshark', { skip: haveTshark() ? false : NO_TSHARK_REASON }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-pcapng-'));
    try {
      const file = path.join(dir, 'two-sections.pcapng');
      fs.writeFileSync(file, TWO_SECTIONS_CLEAN);
      const ref = await tsharkFrames(file);
      const got = collect(TWO_SECTIONS_CLEAN);
      assert.deepEqual(got.frames.map((f) => f.data), collect(TWO_SECTIONS).frames.map((f) => f.data));
      assert.equal(ref.length, 4);
      assert.equal(ref.length, got.frames.length);
      ref.forEach((r, i) => {
        const f = got.frames[i];
        if (r.ts !== undefined) assert.equal(f.ts, r.ts, `frame ${i + 1}`); // tshark shows no time for the SPB
        assert.deepEqual([f.wireLen, f.capLen, f.linkType], [r.len, r.capLen, r.linkType], `frame ${i + 1}`);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SPB shorter than min(original length, snaplen) is read as far as it goes and counted', () => {
    const spb = hex(`
      0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
      01000000 14000000 0100 0000 00000000 14000000                      # IDB 0, Ethernet, snaplen 0
      03000000 14000000 3c000000 cafebabe 14000000                       # SPB: original 60 bytes, 4 in the block
      03000000 14000000 03000000 cafeba00 14000000                       # SPB: original 3 bytes + 1 padding byte
    `);
    const got = collect(spb);
    assert.deepEqual(got.frames.map((f) => [f.capLen, f.wireLen, f.ts]), [[4, 60, 0], [3, 3, 0]]);
    assert.deepEqual(got.weirds, { pcapng_spb_data_short: 1 });
  });

  it('packet blocks that do not add up are skipped and counted, framing stays intact', () => {
    const bad = hex(`
      0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
      01000000 14000000 0100 0000 40000000 14000000                      # IDB 0, Ethernet, snaplen 64
      06000000 24000000 00000000 00000000 01000000 08000000 08000000     # EPB: caplen 8 but room for 4
        deadbeef 24000000
      06000000 24000000 00000000 00000000 01000000 04000000 02000000     # EPB: orig len 2 < caplen 4
        deadbeef 24000000
      06000000 68000000 00000000 00000000 01000000 48000000 48000000     # EPB: caplen 72 > snaplen 64
        ${'00'.repeat(72)} 68000000
      06000000 1c000000 00000000 00000000 00000000 00000000 1c000000     # EPB too short to hold its fields
      01000000 10000000 0100 0000 10000000                               # IDB too short: interface 1 unusable
      06000000 24000000 01000000 00000000 00000001 04000000 04000000     # EPB on interface 1
        deadbeef 24000000
    `);
    const got = collect(bad);
    assert.equal(got.error, undefined);
    assert.deepEqual(got.frames.map((f) => [f.capLen, f.wireLen, f.ts]), [[4, 4, 1], [72, 72, 1]]);
    assert.deepEqual(got.weirds, {
      pcapng_epb_caplen_over_block: 1,
      pcapng_wirelen_under_caplen: 1,
      pcapng_caplen_over_snaplen: 1,
      pcapng_epb_too_short: 1,
      pcapng_idb_too_short: 1,
      pcapng_epb_unknown_interface: 1,
    });
  });

  it('an IDB option running past the block is counted and the interface keeps defaults', () => {
    const b = hex(`
      0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
      01000000 18000000 0100 0000 00000000 0900 4000 18000000            # if_tsresol claiming 64 bytes
      06000000 24000000 00000000 00000000 40420f00 04000000 04000000     # EPB ts 1000000 units = 1 s at µs
        deadbeef 24000000
    `);
    const got = collect(b);
    assert.deepEqual(got.frames.map((f) => f.ts), [1000000]);
    assert.deepEqual(got.weirds, { pcapng_bad_option: 1 });
  });
});

describe('pcapng timestamp conversion', () => {
  const TWO_32 = 4294967296n;
  /** Reference: exact BigInt floor((hi*2^32 + lo) * 10^6 / unitsPerSecond) + offset. */
  function reference(resol: number, offsetSec: number, hi: number, lo: number): bigint {
    const r = BigInt(resol & 0x7f);
    const units = (resol & 0x80) === 0 ? 10n ** r : 1n << r;
    return ((BigInt(hi) * TWO_32 + BigInt(lo)) * 1000000n) / units + BigInt(offsetSec) * 1000000n;
  }
  const resolutions = [0, 1, 3, 6, 7, 9, 12, 13, 15, 0x80, 0x8a, 0x94, 0x9e, 0xa0, 0xa1, 0xbf];

  it('equals exact arithmetic whenever the result is below 2^53 µs', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...resolutions),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (resol, offsetSec, hi, lo) => {
          const want = reference(resol, offsetSec, hi, lo);
          fc.pre(want >= 0n && want < 2n ** 53n);
          const got = ifaceTsMicros(newIface(true, 1, 0, resol, offsetSec), hi, lo);
          assert.equal(BigInt(got), want, `resol 0x${resol.toString(16)} hi ${hi} lo ${lo}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('is exact for ns timestamps of real dates, including rounding edges', () => {
    const ns = newIface(true, 1, 0, 9, 0);
    for (const t of [1700000000123456789n, 1700000000123456999n, 1700000000999999999n, 4102444800000000999n]) {
      const hi = Number(t >> 32n);
      const lo = Number(t & 0xffffffffn);
      assert.equal(BigInt(ifaceTsMicros(ns, hi, lo)), t / 1000n);
    }
  });
});
