/**
 * Offline input for `shadowtap read`: a capture file path, or '-' for stdin, fed to a CaptureReader.
 *
 * Fast path (a path that is not gzip-compressed): fs.readSync into one reused READ_CHUNK_BYTES (4 MiB) buffer; records are
 * parsed in place from it (the reader copies only a record split across two reads). Between reads we yield to the
 * event loop once so timers, signals and a progress bar keep running.
 * Stream path ('-', or a path whose first bytes are the gzip magic 1f 8b): async iteration of the stream, each chunk
 * fed as is (gzip through zlib.createGunzip, so `.pcap.gz` files read directly).
 *
 * Ownership: the Frame handed to events.onFrame and its buf are BORROWED until onFrame returns (the buffer is reused
 * by the next read).
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { CaptureError, createCaptureReader, type CaptureEnd, type CaptureReaderEvents } from './capture-reader';

/** Read size. 4 MiB: large enough that per-read costs vanish (300 MB in ~75 reads), small enough that touching the
 *  fresh buffer's pages (measured ~4 ms per MiB on a loaded VM) does not dominate small files. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Awaited between reads instead of a plain turn of the event loop: the consumer's back-pressure
 *  (sharded read waits here for its threads). Its rejection ends the read with that error. */
export type Pace = () => Promise<void>;

export type ProgressFn = (bytesRead: number, totalBytes: number | undefined) => void;

/** Reads a file path (fast path: fs.readSync into one reused 4 MiB buffer, records parsed in place) or '-' for stdin
 *  (async iteration of process.stdin), feeding a CaptureReader. Reports progress (bytes read, total size when known):
 *  for a gzip file, bytesRead counts decompressed bytes and totalBytes is undefined.
 *  Rejects with CaptureError: the reader's codes, plus CAP_ERR_OPEN (cannot open/stat) and CAP_ERR_READ (I/O error). */
export async function readCaptureInput(
  path: string,
  events: CaptureReaderEvents,
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void,
  pace?: Pace,
): Promise<CaptureEnd> {
  if (path === '-') return readCaptureStream(process.stdin, events, onProgress, pace);

  let fd: number;
  let total: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new CaptureError('CAP_ERR_OPEN', `cannot open capture file ${path}: ${errText(e)}`);
  }
  let closeFd = true;
  try {
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new CaptureError('CAP_ERR_OPEN', `cannot read capture file ${path}: it is a directory`);
      if (st.isFile()) total = st.size;
    } catch (e) {
      if (e instanceof CaptureError) throw e;
      throw new CaptureError('CAP_ERR_OPEN', `cannot stat capture file ${path}: ${errText(e)}`);
    }

    // A regular file smaller than a read gets a buffer of its size (+1 so that the first read sees EOF too).
    const buf = Buffer.allocUnsafe(total !== undefined && total < READ_CHUNK_BYTES ? total + 1 : READ_CHUNK_BYTES);
    let n = readSome(fd, buf, path);
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
      // gzip: hand the fd to a read stream (it closes it) and decompress on the way.
      closeFd = false;
      const raw = fs.createReadStream('', { fd, start: 0 });
      const gunzip = zlib.createGunzip();
      raw.on('error', (err) => gunzip.destroy(err));
      raw.pipe(gunzip);
      try {
        return await readCaptureStream(gunzip, events, onProgress === undefined ? undefined : (b) => onProgress(b, undefined), pace);
      } finally {
        raw.destroy();
      }
    }

    const reader = createCaptureReader(events);
    let read = 0;
    while (n > 0) {
      read += n;
      reader.push(buf.subarray(0, n));
      if (onProgress !== undefined) onProgress(read, total);
      await (pace === undefined ? yieldToLoop() : pace());
      n = readSome(fd, buf, path);
    }
    return reader.end();
  } finally {
    if (closeFd) fs.closeSync(fd);
  }
}

/** Feeds every chunk of a readable byte stream (stdin, a gunzip stream, a socket) to a new CaptureReader.
 *  Chunks are BORROWED by the reader during push(); frames are BORROWED by onFrame until it returns. */
export async function readCaptureStream(
  stream: Readable | NodeJS.ReadableStream,
  events: CaptureReaderEvents,
  onProgress?: ProgressFn,
  pace?: Pace,
): Promise<CaptureEnd> {
  const reader = createCaptureReader(events);
  let read = 0;
  let inConsumer = false; // errors from the reader or the callbacks pass through unchanged
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      read += b.length;
      inConsumer = true;
      reader.push(b);
      if (onProgress !== undefined) onProgress(read, undefined);
      if (pace !== undefined) await pace();
      inConsumer = false;
    }
  } catch (e) {
    if (inConsumer || e instanceof CaptureError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
      // zlib's "unexpected end of file": the compressed file is cut short, as a plain capture can be.
      const end = reader.end();
      end.compressedCut = { offset: read };
      return end;
    }
    throw new CaptureError('CAP_ERR_READ', `error reading capture input: ${errText(e)}`, read);
  }
  return reader.end();
}

function readSome(fd: number, buf: Buffer, path: string): number {
  try {
    return fs.readSync(fd, buf, 0, buf.length, null);
  } catch (e) {
    throw new CaptureError('CAP_ERR_READ', `error reading capture file ${path}: ${errText(e)}`);
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function errText(e: unknown): string {
  if (e !== null && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
