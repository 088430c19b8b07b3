/**
 * Push-based streaming reader for capture files: classic pcap (µs and ns, both byte orders) and pcapng.
 *
 * Formats (magic = first four bytes of the input):
 *   a1b2c3d4 / d4c3b2a1  pcap, microsecond timestamps (big / little endian)   → src/source/pcap-reader.ts
 *   a1b23c4d / 4d3cb2a1  pcap, nanosecond timestamps (big / little endian)    → src/source/pcap-reader.ts
 *   0a0d0d0a             pcapng Section Header Block (byte order from its BOM) → src/source/pcapng-reader.ts
 *
 * Ownership: chunks given to push() are BORROWED until push() returns. Records that lie wholly inside a chunk are
 * handed to onFrame in place (frame.buf is the chunk, no copy). Only the incomplete record at the end of a chunk is
 * copied into a carry buffer and completed from the following chunks. The Frame passed to onFrame is one reused
 * object; frame.buf is BORROWED until onFrame returns.
 *
 * Bounds: a record longer than MAX_RECORD_BYTES is a fatal CAP_ERR_BAD_RECORD, so the carry buffer never grows past
 * that; it grows with the bytes actually received (a lying length field costs nothing until the bytes arrive) and is
 * released after an oversize record.
 *
 * Errors: bad input never throws anything but CaptureError. Fatal format errors (bad magic, impossible framing,
 * unsupported version) throw from push(); after that the reader is dead and every later push() rethrows the same error.
 * Recoverable oddities go to onWeird(name) and parsing continues.
 */
import type { Frame } from './frame';
import { PcapParser } from './pcap-reader';
import { PcapngParser } from './pcapng-reader';

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

export interface CaptureReaderEvents {
  /** Called synchronously for each record; frame.buf is BORROWED until return (see src/source/frame.ts). */
  onFrame(frame: Frame): void;
  /** Recoverable oddities, counted by name (e.g. 'pcapng_unknown_block', 'pcap_caplen_over_snaplen', 'pcapng_epb_unknown_interface'). */
  onWeird?(name: string): void;
}

/**
 * Stable codes:
 *  - CAP_ERR_NOT_A_CAPTURE       the input does not start with a pcap or pcapng magic
 *  - CAP_ERR_EMPTY               the input had 0 bytes
 *  - CAP_ERR_BAD_RECORD          framing that cannot be right (offset = start of the record/block)
 *  - CAP_ERR_UNSUPPORTED_VERSION pcap major version != 2, pcapng section major version != 1
 *  - CAP_ERR_OPEN / CAP_ERR_READ file-source only: the path cannot be opened / read
 */
export class CaptureError extends Error {
  constructor(public readonly code: string, message: string, public readonly offset?: number) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface CaptureEnd {
  format: CaptureFormat | 'none';
  /** Frames delivered to onFrame. */
  records: number;
  /** Bytes consumed from the input: everything fed to push(), including a truncated tail (see truncatedAt). */
  bytes: number;
  /**
   * Set when the input ended inside a record/block: the offset where that record starts and how many bytes were
   * there. `need` is the size of the record when its header was complete, else the size of the header still missing
   * (so a lower bound).
   */
  truncatedAt?: { offset: number; have: number; need: number };
  /** Set when a gzip-compressed input ended before its gzip stream did (a `.pcap.gz` cut short): `offset` is
   *  the decompressed bytes read. Everything decompressed before the cut was parsed. */
  compressedCut?: { offset: number };
}

/** Create with createCaptureReader(events); feed chunks of any size in order; call end() once. */
export interface CaptureReader {
  /** Parses every complete record in the data fed so far. Throws CaptureError only for fatal format errors
   *  (then no more records come). Chunks are BORROWED: the reader copies only an incomplete tail record. */
  push(chunk: Buffer): void;
  end(): CaptureEnd; // throws CaptureError('CAP_ERR_EMPTY') when nothing at all was fed
  readonly format: CaptureFormat | 'none';
}

/** Largest record (pcap caplen, pcapng block body) accepted; larger is CAP_ERR_BAD_RECORD. libpcap uses 256 MiB too. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * What the format parsers implement. parse() consumes whole items (file header, records, blocks) from
 * buf[start, end) and returns the offset just after the last whole item; when it stops early it sets `need` to the
 * number of bytes the next item needs (at least its header). It returns -1 on a fatal error after setting err*.
 * `absStart` is the absolute input offset of buf[start], for error offsets.
 */
export interface FormatParser {
  readonly format: CaptureFormat;
  need: number;
  records: number;
  errCode: string;
  errMessage: string;
  errOffset: number;
  parse(buf: Buffer, start: number, end: number, absStart: number): number;
}

const MAGIC_PCAP_US = 0xa1b2c3d4;
const MAGIC_PCAP_NS = 0xa1b23c4d;
const MAGIC_PCAPNG_SHB = 0x0a0d0d0a;
const MAGIC_LEN = 4;
const MIN_CARRY = 64 * 1024;
/** A carry buffer larger than this is dropped once empty, so one huge record does not pin memory. */
const KEEP_CARRY = 1024 * 1024;

function hexPrefix(b: Buffer, n: number): string {
  return b.subarray(0, Math.min(n, b.length)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

function notACapture(first: Buffer): CaptureError {
  let hint = '';
  if (first[0] === 0x1f && first[1] === 0x8b) hint = ' (looks gzip-compressed: decompress it first)';
  return new CaptureError(
    'CAP_ERR_NOT_A_CAPTURE',
    `not a capture file: first bytes are ${hexPrefix(first, 8)}${hint}; accepted formats are pcap ` +
      '(magic a1b2c3d4, µs), pcap-ns (magic a1b23c4d, ns), both byte orders, and pcapng (0a0d0d0a)',
    0,
  );
}

class StreamingCaptureReader implements CaptureReader {
  private parser: FormatParser | null = null;
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  /** Absolute input offset of the first byte not yet consumed as a whole item (= start of the carry, if any). */
  private offset = 0;
  private fed = 0;
  private failed: CaptureError | null = null;
  private ended = false;

  constructor(private readonly events: CaptureReaderEvents) {}

  get format(): CaptureFormat | 'none' {
    return this.parser === null ? 'none' : this.parser.format;
  }

  push(chunk: Buffer): void {
    if (this.failed !== null) throw this.failed;
    if (this.ended) throw new Error('CaptureReader.push() after end()');
    const end = chunk.length;
    if (end === 0) return;
    this.fed += end;
    let pos = 0;

    if (this.parser === null) {
      // Detect the format from the first four bytes (possibly spread over several tiny chunks).
      const take = Math.min(MAGIC_LEN - this.carryLen, end);
      this.appendCarry(chunk, 0, take);
      pos = take;
      if (this.carryLen < MAGIC_LEN) return;
      this.parser = this.detect(this.carry.subarray(0, MAGIC_LEN), chunk.subarray(take, take + 12));
    }

    // Complete the carried item first. The carry never holds more than one item: we copy at most `need` bytes,
    // and `need` never exceeds the size of the item that starts the carry.
    while (this.carryLen > 0) {
      const parser = this.parser;
      if (parser.need > this.carryLen) {
        const take = Math.min(parser.need - this.carryLen, end - pos);
        this.appendCarry(chunk, pos, pos + take);
        pos += take;
        if (this.carryLen < parser.need) return;
      }
      const used = this.parseIn(this.carry, 0, this.carryLen);
      if (used === this.carryLen) {
        this.carryLen = 0;
        if (this.carry.length > KEEP_CARRY) this.carry = Buffer.alloc(0);
      } else if (used !== 0 || parser.need <= this.carryLen) {
        // Cannot happen by the invariant above; fail loudly rather than lose bytes or spin.
        throw new Error(`capture reader: bad carry state (used ${used} of ${this.carryLen}, need ${parser.need})`);
      }
    }

    if (pos < end) {
      const used = this.parseIn(chunk, pos, end);
      if (used < end) this.appendCarry(chunk, used, end);
    }
  }

  end(): CaptureEnd {
    this.ended = true;
    if (this.fed === 0) throw new CaptureError('CAP_ERR_EMPTY', 'the capture input is empty (0 bytes)', 0);
    if (this.parser === null) {
      const e = notACapture(this.carry.subarray(0, this.carryLen));
      throw new CaptureError(e.code, `input too short (${this.fed} bytes): ${e.message}`, 0);
    }
    const out: CaptureEnd = { format: this.parser.format, records: this.parser.records, bytes: this.fed };
    if (this.failed === null && this.carryLen > 0) {
      out.truncatedAt = { offset: this.offset, have: this.carryLen, need: this.parser.need };
    }
    return out;
  }

  /** `first` holds the magic; `more` the bytes after it in this chunk (only for the error message). */
  private detect(first: Buffer, more: Buffer): FormatParser {
    const be = first.readUInt32BE(0);
    const le = first.readUInt32LE(0);
    const events = this.events;
    if (be === MAGIC_PCAP_US) return new PcapParser(events, false, false);
    if (le === MAGIC_PCAP_US) return new PcapParser(events, true, false);
    if (be === MAGIC_PCAP_NS) return new PcapParser(events, false, true);
    if (le === MAGIC_PCAP_NS) return new PcapParser(events, true, true);
    if (be === MAGIC_PCAPNG_SHB) return new PcapngParser(events);
    const err = notACapture(Buffer.concat([first, more]));
    this.failed = err;
    throw err;
  }

  private parseIn(buf: Buffer, start: number, end: number): number {
    const parser = this.parser as FormatParser;
    const used = parser.parse(buf, start, end, this.offset);
    if (used < 0) {
      this.carryLen = 0;
      this.failed = new CaptureError(parser.errCode, parser.errMessage, parser.errOffset);
      throw this.failed;
    }
    this.offset += used - start;
    return used;
  }

  /** Appends src[from, to) to the carry, growing it with the data actually received (never to a claimed length). */
  private appendCarry(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const want = this.carryLen + n;
    if (want > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(want, MIN_CARRY, Math.min(this.carry.length * 2, MAX_RECORD_BYTES + 64)));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    src.copy(this.carry, this.carryLen, from, to);
    this.carryLen = want;
  }
}

export function createCaptureReader(events: CaptureReaderEvents): CaptureReader {
  return new StreamingCaptureReader(events);
}
