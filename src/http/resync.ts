/**
 * Finds the next HTTP/1.x start line after a gap or a parse error, so a fresh parser can take over.
 *
 * A candidate is a line that begins at a line start (offset 0 right after a gap counts as one, since
 * the gap may end exactly between two messages) and matches, for the client side,
 * `METHOD SP target SP HTTP/1.0|1.1` and, for the server side, `HTTP/1.0|1.1 SP 3DIGIT [SP reason]`,
 * ending in CRLF or LF. An incomplete candidate line at the end of a chunk is held (copied, at most
 * `maxLine` bytes) until the next chunk; every other byte is discarded and reported in `skipped`.
 *
 * Ownership: `scan(data)` borrows `data`; the returned Buffer is either a view into `data` or a new
 * Buffer (held tail + data). It is valid for the caller's current call only.
 */
const LF = 0x0a;

const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32} [^ \r\n]+ HTTP\/1\.[01]\r?$/;
const STATUS_LINE = /^HTTP\/1\.[01] [0-9]{3}(?: [^\r\n]*)?\r?$/;

export class StartLineScanner {
  /** Bytes discarded by the last `scan` / `dropTail` call. */
  skipped = 0;
  private tail: Buffer | null = null;
  private atLineStart = true;

  constructor(
    private readonly requestSide: boolean,
    private readonly maxLine = 8192,
  ) {}

  /** Forget held bytes (returned as a count of skipped bytes) and set whether data resumes at a line start. */
  reset(atLineStart: boolean): number {
    const dropped = this.tail === null ? 0 : this.tail.length;
    this.tail = null;
    this.atLineStart = atLineStart;
    return dropped;
  }

  /** Bytes currently held as an incomplete candidate line. */
  get held(): number {
    return this.tail === null ? 0 : this.tail.length;
  }

  /** Returns the bytes starting at the first start line found, or null (all discarded or held). */
  scan(data: Buffer): Buffer | null {
    const buf = this.tail === null ? data : Buffer.concat([this.tail, data]);
    this.tail = null;
    let s: number;
    if (this.atLineStart) s = 0;
    else {
      const nl = buf.indexOf(LF);
      if (nl < 0) {
        this.skipped = buf.length;
        return null;
      }
      s = nl + 1;
    }
    for (;;) {
      if (s >= buf.length) {
        this.skipped = buf.length;
        this.atLineStart = true;
        return null;
      }
      const e = buf.indexOf(LF, s);
      if (e < 0) {
        if (buf.length - s <= this.maxLine && this.couldStart(buf[s])) {
          this.tail = Buffer.from(buf.subarray(s));
          this.atLineStart = true;
          this.skipped = s;
        } else {
          this.skipped = buf.length;
          this.atLineStart = false;
        }
        return null;
      }
      if (e - s <= this.maxLine && this.couldStart(buf[s]) && this.matches(buf, s, e)) {
        this.skipped = s;
        this.atLineStart = true;
        return buf.subarray(s);
      }
      s = e + 1;
    }
  }

  private couldStart(c: number): boolean {
    return this.requestSide ? c >= 0x41 && c <= 0x5a : c === 0x48;
  }

  private matches(buf: Buffer, s: number, e: number): boolean {
    const line = buf.toString('latin1', s, e);
    return (this.requestSide ? REQUEST_LINE : STATUS_LINE).test(line);
  }
}
