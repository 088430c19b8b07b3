import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Counters } from '../observe/counters';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import { crc32 } from './crc32';

/**
 * The agent's bounded on-disk queue of sealed batches (length-delimited Frame{batch} bytes),
 * used while the collector is down or slower than the capture. It survives restarts: a new agent
 * process on the same directory sends what an earlier one left.
 *
 * Layout: DIR/lock (pid of the owner) and DIR/NNNNNNNNNNNN.spool files, each a sequence of records
 *   u32le length | u32le crc32(frame) | u32le exchange count | frame (length bytes)
 * Files are append-only; a file is deleted when every record in it is acknowledged, or when the
 * spool is over `maxBytes` (oldest file first: its unacknowledged exchanges are counted in
 * `sink_dropped_exchanges`). A torn or corrupt tail (agent killed mid-write) is cut off at open.
 *
 * Durability: records are written with write(2) before `append` returns, so they survive the
 * agent being killed; they are fsync'ed when a file is rolled or the spool closed (not per record),
 * so a power loss can take the newest records. All I/O is synchronous: `append` runs on the
 * capture path only when the in-memory queue is over its bound.
 */
const HEADER = 12;
const NAME_RE = /^(\d{12})\.spool$/;

const PENDING = 0;
const INFLIGHT = 1;
const DONE = 2;

interface SpoolRecord {
  off: number;
  len: number;
  count: number;
  state: number;
}

export class SpoolFile {
  readonly records: SpoolRecord[] = [];
  size = 0;
  done = 0;
  /** Lowest index that may still be PENDING. */
  cursor = 0;
  deleted = false;
  fd = -1;
  constructor(
    readonly id: number,
    readonly file: string,
  ) {}
}

export interface SpoolRef {
  file: SpoolFile;
  index: number;
}

export interface SpooledBatch {
  ref: SpoolRef;
  /** Handed over: a new Buffer read from disk. */
  frame: Buffer;
  count: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Roll to a new file past this size (default: maxBytes/8 within [64 KiB, 8 MiB]). */
  fileBytes?: number;
}

export class Spool {
  private readonly files: SpoolFile[] = [];
  private total = 0;
  private pending = 0;
  private readonly fileBytes: number;
  private readonly lockFile: string;
  private closed = false;

  private constructor(
    private readonly opts: SpoolOptions,
    private readonly counters: Counters,
    private readonly log: (msg: string) => void,
  ) {
    this.fileBytes = opts.fileBytes ?? Math.max(64 * 1024, Math.min(8 * 1024 * 1024, Math.floor(opts.maxBytes / 8)));
    this.lockFile = path.join(opts.dir, 'lock');
  }

  /** Opens (creating) the spool directory and recovers what an earlier process left. Throws ShadowtapError on an unusable dir. */
  static open(opts: SpoolOptions, counters: Counters, log: (msg: string) => void): Spool {
    const s = new Spool(opts, counters, log);
    try {
      fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new ShadowtapError('CAP_ERR_SPOOL', `cannot create spool directory ${opts.dir}: ${(err as Error).message}`, EXIT_USAGE);
    }
    s.lock();
    s.recover();
    return s;
  }

  private lock(): void {
    try {
      const pid = Number(fs.readFileSync(this.lockFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new ShadowtapError('CAP_ERR_SPOOL', `spool ${this.opts.dir} is in use by process ${pid}; give each agent its own --spool`, EXIT_USAGE);
      }
    } catch (err) {
      if (err instanceof ShadowtapError) throw err;
    }
    try {
      fs.writeFileSync(this.lockFile, `${process.pid}\n`, { mode: 0o600 });
    } catch (err) {
      throw new ShadowtapError('CAP_ERR_SPOOL', `cannot write ${this.lockFile}: ${(err as Error).message}`, EXIT_USAGE);
    }
  }

  private recover(): void {
    const names = fs.readdirSync(this.opts.dir).filter((n) => NAME_RE.test(n)).sort();
    let recovered = 0;
    let exchanges = 0;
    for (const name of names) {
      const f = new SpoolFile(Number(NAME_RE.exec(name)![1]), path.join(this.opts.dir, name));
      const buf = fs.readFileSync(f.file);
      let off = 0;
      while (off + HEADER <= buf.length) {
        const len = buf.readUInt32LE(off);
        const sum = buf.readUInt32LE(off + 4);
        const count = buf.readUInt32LE(off + 8);
        if (len === 0 || off + HEADER + len > buf.length) break;
        if (crc32(buf.subarray(off + HEADER, off + HEADER + len)) !== sum) break;
        f.records.push({ off: off + HEADER, len, count, state: PENDING });
        off += HEADER + len;
        exchanges += count;
      }
      if (off < buf.length) {
        this.counters.inc('sink_spool_corrupt_bytes', buf.length - off);
        this.log(`spool: ${name}: cut ${buf.length - off} bytes of torn or corrupt tail`);
        fs.truncateSync(f.file, off);
      }
      f.size = off;
      if (f.records.length === 0) {
        fs.rmSync(f.file, { force: true });
        continue;
      }
      this.files.push(f);
      this.total += f.size;
      this.pending += f.records.length;
      recovered += f.records.length;
    }
    if (recovered) {
      this.counters.inc('sink_spool_recovered_batches', recovered);
      this.log(`spool: ${recovered} batches (${exchanges} exchanges) left by an earlier run will be sent`);
    }
    this.gauge();
  }

  /** Batches waiting on disk (not in flight, not acknowledged). */
  get pendingBatches(): number {
    return this.pending;
  }

  get bytes(): number {
    return this.total;
  }

  /** Writes one sealed batch frame (borrowed until return). Drops the oldest file(s) when over the bound. */
  append(frame: Uint8Array, count: number): void {
    if (this.closed) return;
    if (HEADER + frame.length > this.opts.maxBytes) {
      this.drop(1, count, 'a batch larger than the whole spool');
      return;
    }
    let tail = this.files[this.files.length - 1];
    if (!tail || tail.deleted || tail.size >= this.fileBytes || (tail.fd < 0 && tail.records.length > 0)) {
      if (tail && tail.fd >= 0) this.seal(tail);
      if (tail && !tail.deleted && tail.done === tail.records.length) this.removeFile(tail, false);
      tail = this.newFile(tail ? tail.id + 1 : 1);
    }
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32LE(frame.length, 0);
    head.writeUInt32LE(crc32(frame), 4);
    head.writeUInt32LE(count, 8);
    try {
      fs.writevSync(tail.fd, [head, frame]);
    } catch (err) {
      this.drop(1, count, `spool write failed: ${(err as Error).message}`);
      return;
    }
    tail.records.push({ off: tail.size + HEADER, len: frame.length, count, state: PENDING });
    tail.size += HEADER + frame.length;
    this.total += HEADER + frame.length;
    this.pending++;
    this.counters.inc('sink_spooled_batches');
    while (this.total > this.opts.maxBytes && this.files.length > 1) this.dropHead();
    this.gauge();
  }

  /** The oldest pending batch, now marked in flight; undefined when none. */
  next(): SpooledBatch | undefined {
    for (const f of this.files) {
      while (f.cursor < f.records.length && f.records[f.cursor]!.state !== PENDING) f.cursor++;
      if (f.cursor >= f.records.length) continue;
      const index = f.cursor;
      const r = f.records[index]!;
      const frame = Buffer.allocUnsafe(r.len);
      try {
        const fd = fs.openSync(f.file, 'r');
        try {
          fs.readSync(fd, frame, 0, r.len, r.off);
        } finally {
          fs.closeSync(fd);
        }
      } catch (err) {
        this.log(`spool: cannot read ${path.basename(f.file)}: ${(err as Error).message}; dropping it`);
        this.removeFile(f, true);
        return this.next();
      }
      r.state = INFLIGHT;
      this.pending--;
      f.cursor++;
      return { ref: { file: f, index }, frame, count: r.count };
    }
    return undefined;
  }

  /** Whether the record still exists (its file was not dropped for space). */
  isLive(ref: SpoolRef): boolean {
    return !ref.file.deleted;
  }

  /** An in-flight record goes back to pending (the connection was lost before its ack). */
  release(ref: SpoolRef): void {
    if (ref.file.deleted) return;
    const r = ref.file.records[ref.index]!;
    if (r.state !== INFLIGHT) return;
    r.state = PENDING;
    this.pending++;
    if (ref.index < ref.file.cursor) ref.file.cursor = ref.index;
  }

  /** The record was acknowledged; its file goes when all of its records are. */
  ack(ref: SpoolRef): void {
    const f = ref.file;
    if (f.deleted) return;
    const r = f.records[ref.index]!;
    if (r.state === DONE) return;
    if (r.state === PENDING) this.pending--;
    r.state = DONE;
    f.done++;
    if (f.done === f.records.length && (f.fd < 0 || f.size >= this.fileBytes)) this.removeFile(f, false);
    this.gauge();
  }

  /** fsyncs and closes the tail; deletes files whose records are all acknowledged. Keeps the lock file only while open. */
  close(): void {
    if (this.closed) return;
    for (const f of [...this.files]) {
      if (f.fd >= 0) this.seal(f);
      if (f.done === f.records.length) this.removeFile(f, false);
    }
    this.closed = true;
    try {
      fs.rmSync(this.lockFile, { force: true });
    } catch {
      /* best effort */
    }
  }

  private newFile(id: number): SpoolFile {
    const f = new SpoolFile(id, path.join(this.opts.dir, `${String(id).padStart(12, '0')}.spool`));
    f.fd = fs.openSync(f.file, 'a', 0o600);
    this.files.push(f);
    return f;
  }

  private seal(f: SpoolFile): void {
    try {
      fs.fsyncSync(f.fd);
    } catch {
      /* counted as nothing: the data is in the page cache */
    }
    fs.closeSync(f.fd);
    f.fd = -1;
  }

  private dropHead(): void {
    const f = this.files[0]!;
    let batches = 0;
    let exchanges = 0;
    for (const r of f.records) {
      if (r.state === PENDING) {
        batches++;
        exchanges += r.count;
      }
    }
    this.removeFile(f, true);
    this.drop(batches, exchanges, 'spool full');
  }

  private drop(batches: number, exchanges: number, why: string): void {
    if (batches === 0) return;
    const first = this.counters.get('sink_dropped_batches') === 0;
    this.counters.inc('sink_dropped_batches', batches);
    this.counters.inc('sink_dropped_exchanges', exchanges);
    if (first) this.log(`spool: dropping the oldest batches (${why}); counted in sink_dropped_exchanges`);
  }

  /** `dropping` is informational: pending records of a dropped file were counted by the caller. */
  private removeFile(f: SpoolFile, _dropping: boolean): void {
    if (f.deleted) return;
    if (f.fd >= 0) {
      fs.closeSync(f.fd);
      f.fd = -1;
    }
    f.deleted = true;
    for (const r of f.records) if (r.state === PENDING) this.pending--;
    this.total -= f.size;
    const i = this.files.indexOf(f);
    if (i >= 0) this.files.splice(i, 1);
    fs.rmSync(f.file, { force: true });
  }

  private gauge(): void {
    this.counters.set('sink_spool_bytes', this.total);
    this.counters.set('sink_spool_pending_batches', this.pending);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
