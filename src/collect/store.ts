import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeStoredRecord, indexLines, scanSegment, type IndexEntry, type StoredBatchHead } from './segment-file';

/**
 * The collector's embedded store: DIR/segments/NNNNNNNNNNNNNNNN.seg (+ .idx), append-only.
 *
 * - Each batch is stored once per (agent id, stream, seq): the dedup set is rebuilt from the index
 *   at open, so it survives a restart. A duplicate that arrives while the first copy is still being
 *   written waits for it. The dedup window is the retained data: a batch whose segment retention
 *   deleted would be stored again (agents do not resend that late: their spool is smaller).
 * - Group commit: appends queue up while a write is in progress; each group is one write(2) and one
 *   fdatasync per segment touched; every promise of the group resolves after that (ack after durable).
 * - Recovery at open: index lines are checked against the segment; records written but not indexed
 *   are re-indexed by scanning; a torn tail (collector killed mid-write) is truncated.
 * - Retention: oldest whole segments are deleted while the store is over `retentionBytes`, and any
 *   segment whose newest record is older than `retentionAgeMs` (checked after rolls and every 30 s).
 */
export interface StoreOptions {
  dir: string;
  segmentBytes?: number;
  /** 0 = unbounded */
  retentionBytes?: number;
  /** 0 = forever */
  retentionAgeMs?: number;
  /** Clock for tests (ms). */
  now?: () => number;
}

export interface AppendRequest extends StoredBatchHead {
  stream: string;
  seq: number;
  /** Batch bytes as received (borrowed until the promise resolves). */
  raw: Uint8Array;
  count: number;
  t0: number;
  t1: number;
}

export type AppendResult = 'stored' | 'duplicate';

interface Segment {
  id: number;
  seg: string;
  idx: string;
  size: number;
  entries: IndexEntry[];
  /** newest receive time (µs) */
  newest: number;
  fh?: fs.promises.FileHandle;
}

interface Queued {
  req: AppendRequest;
  key: string;
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}

const SEG_RE = /^(\d{16})\.seg$/;

export function dedupKey(agentId: string, stream: string, seq: number): string {
  return `${agentId}\u0000${stream}\u0000${seq}`;
}

export class Store {
  private readonly segments: Segment[] = [];
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, Promise<AppendResult>>();
  private queue: Queued[] = [];
  private writing = false;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private closed = false;
  /** Counts for /metrics and tests. */
  readonly stats = { batchesStored: 0, exchangesStored: 0, duplicates: 0, groups: 0, recoveredRecords: 0, truncatedBytes: 0, segmentsDeleted: 0 };

  private constructor(private readonly opts: StoreOptions, private readonly log: (msg: string, extra?: Record<string, unknown>) => void) {
    const want = opts.segmentBytes ?? 64 << 20;
    this.segmentBytes = opts.retentionBytes ? Math.max(4096, Math.min(want, Math.floor(opts.retentionBytes / 4))) : want;
    this.now = opts.now ?? Date.now;
  }

  get dir(): string {
    return this.opts.dir;
  }

  static async open(opts: StoreOptions, log: (msg: string, extra?: Record<string, unknown>) => void = () => undefined): Promise<Store> {
    const s = new Store(opts, log);
    const segDir = path.join(opts.dir, 'segments');
    fs.mkdirSync(segDir, { recursive: true, mode: 0o750 });
    const names = fs.readdirSync(segDir).filter((n) => SEG_RE.test(n)).sort();
    for (const name of names) {
      const id = Number(SEG_RE.exec(name)![1]);
      const seg = path.join(segDir, name);
      const idx = seg.replace(/\.seg$/, '.idx');
      const r = scanSegment(seg, idx);
      if (r.validBytes < r.size) {
        fs.truncateSync(seg, r.validBytes);
        s.stats.truncatedBytes += r.size - r.validBytes;
        log('store: cut torn tail of segment', { segment: name, bytes: r.size - r.validBytes });
      }
      const idxSize = fs.existsSync(idx) ? fs.statSync(idx).size : -1;
      const text = indexLines(r.entries);
      if (r.fromIndex !== r.entries.length || idxSize !== Buffer.byteLength(text)) {
        fs.writeFileSync(idx, text);
        s.stats.recoveredRecords += r.entries.length - r.fromIndex;
      }
      let newest = 0;
      for (const e of r.entries) {
        s.seen.add(dedupKey(e.a, e.s, e.q));
        if (e.r > newest) newest = e.r;
      }
      s.segments.push({ id, seg, idx, size: r.validBytes, entries: r.entries, newest: newest || fs.statSync(seg).mtimeMs * 1000 });
    }
    if (s.stats.recoveredRecords) log('store: re-indexed records written before a crash', { records: s.stats.recoveredRecords });
    s.retentionTimer = setInterval(() => void s.enforceRetention(), 30_000);
    s.retentionTimer.unref();
    await s.enforceRetention();
    return s;
  }

  /** Whether (agent, stream, seq) is durably stored. */
  has(agentId: string, stream: string, seq: number): boolean {
    return this.seen.has(dedupKey(agentId, stream, seq));
  }

  get batchCount(): number {
    return this.seen.size;
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /** Stores a batch durably (or recognises it as stored). Rejects only on I/O failure. */
  append(req: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('store closed'));
    const key = dedupKey(req.agentId, req.stream, req.seq);
    if (this.seen.has(key)) {
      this.stats.duplicates++;
      return Promise.resolve('duplicate');
    }
    const p = this.pending.get(key);
    if (p) {
      this.stats.duplicates++;
      return p.then(() => 'duplicate' as const);
    }
    const promise = new Promise<AppendResult>((resolve, reject) => this.queue.push({ req, key, resolve, reject }));
    this.pending.set(key, promise);
    void this.drain();
    return promise;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        try {
          await this.writeGroup(group);
          for (const q of group) {
            this.seen.add(q.key);
            this.pending.delete(q.key);
            this.stats.batchesStored++;
            this.stats.exchangesStored += q.req.count;
            q.resolve('stored');
          }
        } catch (err) {
          for (const q of group) {
            this.pending.delete(q.key);
            q.reject(err as Error);
          }
        }
        this.stats.groups++;
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeGroup(group: Queued[]): Promise<void> {
    let rolled = false;
    // Records per segment, in order; a group may roll over into a new segment.
    const parts = new Map<Segment, { bufs: Buffer[]; entries: IndexEntry[] }>();
    const received = this.now() * 1000;
    for (const q of group) {
      const rec = encodeStoredRecord({ agentId: q.req.agentId, node: q.req.node, mode: q.req.mode, receivedMicros: received }, q.req.raw);
      let seg = this.active();
      const planned = parts.get(seg);
      const plannedBytes = planned ? planned.bufs.reduce((n, b) => n + b.length, 0) : 0;
      if (seg.size + plannedBytes > 0 && seg.size + plannedBytes + rec.length > this.segmentBytes) {
        seg = this.newSegment();
        rolled = true;
      }
      let p = parts.get(seg);
      if (!p) parts.set(seg, (p = { bufs: [], entries: [] }));
      const off = seg.size + p.bufs.reduce((n, b) => n + b.length, 0);
      p.bufs.push(rec);
      p.entries.push({ a: q.req.agentId, s: q.req.stream, q: q.req.seq, o: off, l: rec.length, n: q.req.count, t0: q.req.t0, t1: q.req.t1, r: received });
    }
    for (const [seg, p] of parts) {
      if (!seg.fh) seg.fh = await fs.promises.open(seg.seg, 'a', 0o640);
      const buf = p.bufs.length === 1 ? p.bufs[0]! : Buffer.concat(p.bufs);
      await seg.fh.write(buf, 0, buf.length);
      await seg.fh.datasync();
      seg.size += buf.length;
      seg.entries.push(...p.entries);
      seg.newest = received;
      // The index is derived data: written after the segment is durable, rebuilt at open if lost.
      await fs.promises.appendFile(seg.idx, indexLines(p.entries));
    }
    if (rolled) await this.enforceRetention();
  }

  private active(): Segment {
    const last = this.segments[this.segments.length - 1];
    return last ?? this.newSegment();
  }

  private newSegment(): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last?.fh) {
      const fh = last.fh;
      delete last.fh;
      void fh.close();
    }
    const id = last ? last.id + 1 : 1;
    const seg = path.join(this.opts.dir, 'segments', `${String(id).padStart(16, '0')}.seg`);
    const s: Segment = { id, seg, idx: seg.replace(/\.seg$/, '.idx'), size: 0, entries: [], newest: this.now() * 1000 };
    fs.writeFileSync(s.seg, '', { flag: 'a' });
    this.segments.push(s);
    return s;
  }

  /** Deletes whole segments over the size bound (oldest first) or older than the age bound. */
  async enforceRetention(): Promise<void> {
    const maxBytes = this.opts.retentionBytes ?? 0;
    const maxAge = this.opts.retentionAgeMs ?? 0;
    if (!maxBytes && !maxAge) return;
    const cutoff = (this.now() - maxAge) * 1000;
    let total = this.bytes;
    while (this.segments.length > 0) {
      const s = this.segments[0]!;
      const isActive = this.segments.length === 1;
      const tooOld = maxAge > 0 && s.newest < cutoff && s.size > 0;
      const tooBig = maxBytes > 0 && total > maxBytes && !isActive;
      if (!tooOld && !tooBig) break;
      if (this.writing && isActive && !tooBig) break; // the active segment may be in use right now
      this.segments.shift();
      total -= s.size;
      if (s.fh) await s.fh.close();
      for (const e of s.entries) this.seen.delete(dedupKey(e.a, e.s, e.q));
      fs.rmSync(s.seg, { force: true });
      fs.rmSync(s.idx, { force: true });
      this.stats.segmentsDeleted++;
      this.log('store: retention deleted a segment', { segment: path.basename(s.seg), bytes: s.size, reason: tooOld ? 'age' : 'size' });
    }
  }

  /** Waits for queued appends, then closes files. */
  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    while (this.writing || this.queue.length) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    for (const s of this.segments) if (s.fh) await s.fh.close();
  }
}
