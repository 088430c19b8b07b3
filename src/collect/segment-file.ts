import * as fs from 'node:fs';
import * as protobuf from 'protobufjs';
import { deliveryTypes, toNum } from '../delivery/frame-codec';

/**
 * One segment of the collector's store: an append-only file of length-delimited
 * shadowtap.v1.StoredBatch records (the Batch bytes exactly as the agent sent them, plus who sent
 * them and when), and beside it NAME.idx: one JSON line per record (IndexEntry). The index can
 * always be rebuilt from the segment; the segment is the truth.
 */
export interface IndexEntry {
  /** agent id, stream, seq: the dedup key */
  a: string;
  s: string;
  q: number;
  /** byte offset and length of the record (length prefix included) */
  o: number;
  l: number;
  /** exchanges in the batch */
  n: number;
  /** earliest and latest exchange start (capture time, µs); 0 when none */
  t0: number;
  t1: number;
  /** collector receive time (µs) */
  r: number;
}

export interface StoredBatchHead {
  agentId: string;
  node: string;
  mode: string;
  receivedMicros: number;
}

/** Encodes one StoredBatch record around `batchRaw` (the Batch bytes, not copied into a new message). */
export function encodeStoredRecord(head: StoredBatchHead, batchRaw: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  w.fork();
  if (head.agentId) w.uint32((1 << 3) | 2).string(head.agentId);
  if (head.node) w.uint32((2 << 3) | 2).string(head.node);
  if (head.mode) w.uint32((3 << 3) | 2).string(head.mode);
  if (head.receivedMicros) w.uint32((4 << 3) | 0).uint64(head.receivedMicros);
  w.uint32((5 << 3) | 2).bytes(batchRaw);
  w.ldelim();
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export interface DecodedRecord extends StoredBatchHead {
  stream: string;
  seq: number;
  /** protobufjs Exchange messages (64-bit fields may be Long). */
  exchanges: Array<Record<string, unknown>>;
}

/** Decodes a StoredBatch body (no prefix). Throws on malformed bytes. */
export function decodeStoredRecord(body: Uint8Array): DecodedRecord {
  const m = deliveryTypes().stored.decode(body) as unknown as {
    agentId: string;
    node: string;
    mode: string;
    receivedMicros: unknown;
    batch?: { seq: unknown; stream: string; exchanges: Array<Record<string, unknown>> };
  };
  return {
    agentId: m.agentId ?? '',
    node: m.node ?? '',
    mode: m.mode ?? '',
    receivedMicros: toNum(m.receivedMicros),
    stream: m.batch?.stream ?? '',
    seq: toNum(m.batch?.seq),
    exchanges: m.batch?.exchanges ?? [],
  };
}

/** Capture-time range of a batch's exchanges (request start, else response start). */
export function timeRange(exchanges: Array<Record<string, unknown>>): { t0: number; t1: number } {
  let t0 = 0;
  let t1 = 0;
  for (const ex of exchanges) {
    const t = exchangeStart(ex);
    if (!t) continue;
    if (!t0 || t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  return { t0, t1 };
}

export function exchangeStart(ex: Record<string, unknown>): number {
  const req = ex.request as { startMicros?: unknown } | undefined;
  const res = ex.response as { startMicros?: unknown } | undefined;
  return toNum(req?.startMicros) || toNum(res?.startMicros);
}

function readVarint(buf: Buffer, off: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 5 && off + i < buf.length; i++) {
    const b = buf[off + i]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return { value, next: off + i + 1 };
    mul *= 128;
  }
  return undefined;
}

export interface ScanResult {
  entries: IndexEntry[];
  /** Bytes of the segment covered by valid records (anything after is torn or corrupt). */
  validBytes: number;
  /** Entries that came from the index file as it was (the rest were rebuilt by scanning). */
  fromIndex: number;
  size: number;
}

/**
 * Reads a segment's index and checks it against the segment; records past the index (written but
 * not yet indexed when the collector died) are recovered by scanning. Never modifies files.
 */
export function scanSegment(segFile: string, idxFile: string): ScanResult {
  const seg = fs.readFileSync(segFile);
  const entries: IndexEntry[] = [];
  let covered = 0;
  let idxText = '';
  try {
    idxText = fs.readFileSync(idxFile, 'utf8');
  } catch {
    idxText = '';
  }
  for (const line of idxText.split('\n')) {
    if (!line) continue;
    let e: IndexEntry;
    try {
      e = JSON.parse(line) as IndexEntry;
    } catch {
      break;
    }
    if (typeof e.o !== 'number' || e.o !== covered || typeof e.l !== 'number' || e.o + e.l > seg.length) break;
    entries.push(e);
    covered = e.o + e.l;
  }
  const fromIndex = entries.length;
  let off = covered;
  while (off < seg.length) {
    const len = readVarint(seg, off);
    if (!len || len.value === 0 || len.next + len.value > seg.length) break;
    let rec: DecodedRecord;
    try {
      rec = decodeStoredRecord(seg.subarray(len.next, len.next + len.value));
    } catch {
      break;
    }
    const { t0, t1 } = timeRange(rec.exchanges);
    const l = len.next + len.value - off;
    entries.push({ a: rec.agentId, s: rec.stream, q: rec.seq, o: off, l, n: rec.exchanges.length, t0, t1, r: rec.receivedMicros });
    off += l;
  }
  return { entries, validBytes: off, fromIndex, size: seg.length };
}

export function indexLines(entries: IndexEntry[]): string {
  return entries.map((e) => JSON.stringify(e) + '\n').join('');
}
