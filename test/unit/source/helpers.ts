/** Shared helpers for the capture-reader tests: corpus location, frame collection, tshark reference values. */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CaptureError, createCaptureReader, type CaptureEnd } from '../../../src/source/capture-reader';

const execFileAsync = promisify(execFile);

/** Repository root (this file runs from dist/test/unit/source/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** ../shared/corpus beside the repository (as in CI), or SHADOWTAP_CORPUS. */
export const CORPUS_DIR = process.env.SHADOWTAP_CORPUS ?? path.resolve(REPO_ROOT, '..', 'shared', 'corpus');
export const HAVE_CORPUS = fs.existsSync(path.join(CORPUS_DIR, 'MANIFEST.md'));
export const NO_CORPUS_REASON = `corpus not found at ${CORPUS_DIR} (set SHADOWTAP_CORPUS)`;

export function corpusFile(rel: string): Buffer {
  return fs.readFileSync(path.join(CORPUS_DIR, rel));
}

export interface SeenFrame {
  ts: number;
  capLen: number;
  wireLen: number;
  linkType: number;
  /** sha1 of the captured bytes. */
  data: string;
  /** Offset of the data in the input when the whole input was pushed as one chunk. */
  off: number;
}

export interface Collected {
  frames: SeenFrame[];
  weirds: Record<string, number>;
  end?: CaptureEnd;
  error?: CaptureError;
}

/** Feeds `input` to a fresh reader in chunks of the sizes returned by nextSize() (default: one chunk). */
export function collect(input: Buffer, nextSize?: () => number): Collected {
  const out: Collected = { frames: [], weirds: {} };
  const reader = createCaptureReader({
    onFrame(f) {
      out.frames.push({
        ts: f.tsMicros,
        capLen: f.capLen,
        wireLen: f.wireLen,
        linkType: f.linkType,
        data: createHash('sha1').update(f.buf.subarray(f.off, f.off + f.capLen)).digest('hex'),
        off: f.off,
      });
    },
    onWeird(name) {
      out.weirds[name] = (out.weirds[name] ?? 0) + 1;
    },
  });
  try {
    let pos = 0;
    while (pos < input.length) {
      const n = nextSize === undefined ? input.length : Math.max(1, nextSize());
      // Copy each chunk so that a reader keeping a reference to a chunk past push() would be caught by the
      // overwrite below.
      const chunk = Buffer.from(input.subarray(pos, pos + n));
      reader.push(chunk);
      chunk.fill(0xee);
      pos += n;
    }
    out.end = reader.end();
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    out.error = e;
  }
  return out;
}

/** Frames without the in-chunk offset (which depends on chunking). */
export function comparable(c: Collected): unknown {
  return {
    frames: c.frames.map((f) => [f.ts, f.capLen, f.wireLen, f.linkType, f.data]),
    weirds: c.weirds,
    records: c.end?.records,
    truncatedAt: c.end?.truncatedAt,
    error: c.error === undefined ? undefined : [c.error.code, c.error.offset],
  };
}

/** Deterministic PRNG (mulberry32) for chunk sizes. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let tsharkChecked: boolean | undefined;
export function haveTshark(): boolean {
  if (tsharkChecked === undefined) {
    const r = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
    tsharkChecked = r.status === 0;
  }
  return tsharkChecked;
}
export const NO_TSHARK_REASON = 'tshark is not installed';

/** wiretap WTAP_ENCAP_* (what tshark's frame.encap_type prints) → LINKTYPE_*, for the encapsulations in the corpus. */
const WTAP_TO_LINKTYPE: Record<string, number> = { '1': 1, '7': 101, '15': 0, '25': 113, '210': 276 };

export interface TsharkFrame {
  /** µs since the epoch, floor of tshark's ns value; undefined when tshark shows no time (SPB). */
  ts: number | undefined;
  len: number;
  capLen: number;
  linkType: number | undefined;
}

/** tshark's view of the packet records of a capture (rows without an encapsulation, e.g. custom blocks, dropped). */
export async function tsharkFrames(file: string): Promise<TsharkFrame[]> {
  const { stdout } = await execFileAsync(
    'tshark',
    ['-n', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.encap_type'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const out: TsharkFrame[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [time, len, capLen, encap] = line.split('\t');
    if (encap === undefined || encap === '') continue;
    out.push({
      ts: time === undefined || time === '' ? undefined : epochToMicros(time),
      len: Number(len),
      capLen: Number(capLen),
      linkType: WTAP_TO_LINKTYPE[encap],
    });
  }
  return out;
}

/** "1418145369.924505488" → 1418145369924505 (floor to µs, exact: no float parsing of the fraction). */
export function epochToMicros(s: string): number {
  const [sec, frac = ''] = s.split('.');
  const us = (frac + '000000').slice(0, 6);
  return Number(sec) * 1e6 + Number(us);
}
