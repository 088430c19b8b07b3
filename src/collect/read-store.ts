import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeStoredRecord, scanSegment, type DecodedRecord } from './segment-file';

/**
 * Read-only walk over a store directory (used by `shadowtap inspect`, safe while `collect` runs):
 * segments in order, batches in arrival order, skipping batches whose capture-time range misses
 * [sinceMicros, untilMicros]. Records past the index are found by scanning; a torn tail is skipped.
 */
export interface StoreWalkOptions {
  sinceMicros?: number;
  untilMicros?: number;
}

export function* walkStore(dir: string, opts: StoreWalkOptions = {}): Generator<DecodedRecord> {
  const segDir = path.join(dir, 'segments');
  const names = fs.readdirSync(segDir).filter((n) => /^\d{16}\.seg$/.test(n)).sort();
  for (const name of names) {
    const seg = path.join(segDir, name);
    let scan;
    try {
      scan = scanSegment(seg, seg.replace(/\.seg$/, '.idx'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted by retention meanwhile
      throw err;
    }
    let fd: number;
    try {
      fd = fs.openSync(seg, 'r');
    } catch {
      continue;
    }
    try {
      for (const e of scan.entries) {
        if (opts.sinceMicros && e.t1 && e.t1 < opts.sinceMicros) continue;
        if (opts.untilMicros && e.t0 && e.t0 > opts.untilMicros) continue;
        const buf = Buffer.allocUnsafe(e.l);
        fs.readSync(fd, buf, 0, e.l, e.o);
        let p = 0;
        while (buf[p]! & 0x80) p++;
        yield decodeStoredRecord(buf.subarray(p + 1));
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
