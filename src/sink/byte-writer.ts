import * as fs from 'node:fs';
import { ShadowtapError, EXIT_OUTPUT_FAILED } from '../errors';

/**
 * Buffered, synchronous output to a file or stdout ('-').
 *
 * Bytes and strings are copied into ONE preallocated BUF_BYTES buffer (strings encoded in place with
 * buf.write: 'latin1' for ASCII-only text such as base64, 'utf8' for JSON text) and written with
 * fs.writeSync when it is full; data larger than the buffer is written directly. Memory stays flat
 * whatever the output speed: stdout is written with fs.writeSync(1) too, never process.stdout.write
 * (which queues without bound when stdout is a pipe slower than us). A non-blocking output that
 * reports EAGAIN is waited for (1-16 ms sleeps), which is the backpressure.
 * An output that went away (EPIPE, e.g. `| head`) makes later writes no-ops and sets `closedByPeer`.
 * With `flushAfterMs` (the long-running modes), bytes never wait longer than that for a fuller buffer: a
 * quiet agent's exchanges reach the file within that time, not at 1 MiB or at exit. A write error met by
 * that timed flush is thrown by the next write or by close().
 *
 * Ownership: data passed to write*() is copied (or written) before return; the caller keeps it.
 */
const BUF_BYTES = 1 << 20;
const STDOUT_FD = 1;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** What the sinks write their bytes to: a ByteWriter (file, stdout) or a MemoryByteWriter (a shard worker). */
export interface ByteOut {
  write(data: Buffer | string): void;
  writeBytes(data: Uint8Array): void;
  writeByte(b: number): void;
  /** `s` must hold only characters below U+0100 (one byte each), e.g. base64 or ASCII. */
  writeLatin1(s: string): void;
  writeUtf8(s: string): void;
  close(): Promise<void>;
}

export interface ByteWriterOptions {
  /** > 0: bytes are written at the latest this many ms after they were given (see above). */
  flushAfterMs?: number;
  onPeerClosed?: () => void;
}

export class ByteWriter implements ByteOut {
  private readonly buf = Buffer.allocUnsafe(BUF_BYTES);
  private pos = 0;
  private readonly fd: number;
  private readonly ownFd: boolean;
  closedByPeer = false;
  /** The timed flush armed while bytes wait (only with flushAfterMs). */
  private timer: NodeJS.Timeout | undefined;
  private timedFlushError: unknown;
  /** After close(): nothing more is written (a write then would go to whatever file got the fd number). */
  private closed = false;

  private readonly flushAfterMs: number;
  private readonly onPeerClosed: (() => void) | undefined;

  /** `onPeerClosed` hears, once, that the reader went away (EPIPE): a caller may stop producing. */
  constructor(readonly target: string, opts: ByteWriterOptions = {}) {
    this.flushAfterMs = opts.flushAfterMs ?? 0;
    this.onPeerClosed = opts.onPeerClosed;
    if (target === '-' || target === '') {
      this.fd = STDOUT_FD;
      this.ownFd = false;
    } else {
      try {
        this.fd = fs.openSync(target, 'w', 0o640);
      } catch (err) {
        throw new ShadowtapError('CAP_ERR_OUTPUT_OPEN', `cannot open output ${target}: ${(err as Error).message}`, EXIT_OUTPUT_FAILED);
      }
      this.ownFd = true;
    }
  }

  /** Bytes are copied as is; a string is written as UTF-8. */
  write(data: Buffer | string): void {
    if (typeof data === 'string') this.writeUtf8(data);
    else this.writeBytes(data);
  }

  writeBytes(data: Uint8Array): void {
    if (this.closedByPeer || this.closed) return;
    const len = data.length;
    if (len > BUF_BYTES - this.pos) {
      this.flush();
      if (len >= BUF_BYTES) {
        this.writeOut(data);
        return;
      }
    }
    this.buf.set(data, this.pos);
    this.pos += len;
    if (this.flushAfterMs > 0) this.armFlush();
  }

  writeByte(b: number): void {
    if (this.closedByPeer || this.closed) return;
    if (this.pos === BUF_BYTES) this.flush();
    this.buf[this.pos++] = b;
    if (this.flushAfterMs > 0) this.armFlush();
  }

  /** `s` must hold only characters below U+0100 (one byte each), e.g. base64 or ASCII. */
  writeLatin1(s: string): void {
    this.writeString(s, s.length, 'latin1');
  }

  writeUtf8(s: string): void {
    this.writeString(s, s.length * 3, 'utf8');
  }

  private writeString(s: string, maxBytes: number, enc: 'latin1' | 'utf8'): void {
    if (this.closedByPeer || this.closed) return;
    if (maxBytes > BUF_BYTES - this.pos) {
      this.flush();
      if (maxBytes > BUF_BYTES) {
        this.writeOut(Buffer.from(s, enc));
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, enc);
    if (this.flushAfterMs > 0) this.armFlush();
  }

  private armFlush(): void {
    if (this.timedFlushError !== undefined) {
      const err = this.timedFlushError;
      this.timedFlushError = undefined;
      throw err;
    }
    if (this.timer !== undefined || this.pos === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.timedFlushError = err;
      }
    }, this.flushAfterMs);
    this.timer.unref();
  }

  flush(): void {
    const n = this.pos;
    this.pos = 0;
    if (n === 0 || this.closedByPeer || this.closed) return;
    this.writeOut(this.buf.subarray(0, n));
  }

  private writeOut(data: Uint8Array): void {
    let off = 0;
    let wait = 1;
    while (off < data.length && !this.closedByPeer) {
      try {
        off += fs.writeSync(this.fd, data, off, data.length - off);
        wait = 1;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          sleepMs(wait);
          if (wait < 16) wait *= 2;
          continue;
        }
        if (code === 'EPIPE') {
          this.closedByPeer = true;
          this.onPeerClosed?.();
          return;
        }
        throw new ShadowtapError('CAP_ERR_OUTPUT_WRITE', `cannot write ${this.target}: ${(err as Error).message}`, EXIT_OUTPUT_FAILED);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const failed = this.timedFlushError;
    this.timedFlushError = undefined;
    try {
      if (failed !== undefined) throw failed;
      this.flush();
    } finally {
      this.closed = true;
      if (this.ownFd) fs.closeSync(this.fd);
    }
  }
}
