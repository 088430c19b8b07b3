/**
 * A minimal classic-pcap reader for tests (µs/ns, either byte order). The product's reader lives
 * in src/source/; this one only exists so that decoder tests do not depend on it.
 */
import { readFileSync } from 'node:fs';
import type { Frame } from '../../../src/source/frame';

/** Frames of a classic pcap file, or null when the file is not classic pcap. */
export function readPcap(path: string): Frame[] | null {
  const b = readFileSync(path);
  if (b.length < 24) return null;
  const magicLe = b.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    le = true;
    nano = magicLe === 0xa1b23c4d;
  } else {
    const magicBe = b.readUInt32BE(0);
    if (magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) return null;
    le = false;
    nano = magicBe === 0xa1b23c4d;
  }
  const r32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = r32(20) & 0x0fffffff;
  const frames: Frame[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const capLen = r32(o + 8);
    if (o + 16 + capLen > b.length) break;
    const frac = r32(o + 4);
    frames.push({
      buf: b,
      off: o + 16,
      capLen,
      wireLen: r32(o + 12),
      tsMicros: r32(o) * 1_000_000 + (nano ? Math.floor(frac / 1000) : frac),
      linkType,
    });
    o += 16 + capLen;
  }
  return frames;
}
