import * as fs from 'node:fs';
import { ShadowtapError, EXIT_OUTPUT_FAILED } from '../errors';

/**
 * Buffered output to a file or stdout. Bytes are collected up to FLUSH_BYTES and written with
 * fs.writeSync (files) or process.stdout.write (synchronous for files and pipes on Linux).
 * An output that went away (EPIPE, e.g. `| head`) makes later writes no-ops and sets `closedByPeer`.
 */
const FLUSH_BYTES = 1 << 18;

export class ByteWriter {
  private chunks: Array<Buffer | string> = [];
  private pending = 0;
  private readonly fd: number;
  closedByPeer = false;

  constructor(readonly target: string) {
    if (target === '-' || target === '') {
      this.fd = -1;
      // A reader that went away (`| head`) surfaces as an async EPIPE 'error' event: stop writing, no crash.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') this.closedByPeer = true;
        else process.stderr.write(`shadowtap: cannot write stdout: ${err.message}\n`);
      });
    } else {
      try {
        this.fd = fs.openSync(target, 'w', 0o640);
      } catch (err) {
        throw new ShadowtapError('CAP_ERR_OUTPUT_OPEN', `cannot open output ${target}: ${(err as Error).message}`, EXIT_OUTPUT_FAILED);
      }
    }
  }

  write(data: Buffer | string): void {
    if (this.closedByPeer) return;
    this.chunks.push(data);
    this.pending += typeof data === 'string' ? data.length : data.length;
    if (this.pending >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0 || this.closedByPeer) return;
    const parts = this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.chunks = [];
    this.pending = 0;
    try {
      if (this.fd >= 0) {
        let off = 0;
        while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
      } else {
        process.stdout.write(buf);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
        this.closedByPeer = true;
        return;
      }
      throw new ShadowtapError('CAP_ERR_OUTPUT_WRITE', `cannot write ${this.target}: ${(err as Error).message}`, EXIT_OUTPUT_FAILED);
    }
  }

  async close(): Promise<void> {
    this.flush();
    if (this.fd >= 0) fs.closeSync(this.fd);
    else if (!this.closedByPeer) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  }
}
