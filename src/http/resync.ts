/**
 * Finds the next HTTP/1.x start line after a gap or a parse error, so a fresh parser can take over.
 *
 * A candidate is a line that begins at a line start or at the first byte of a chunk (the data after a gap,
 * and each TCP segment after it, may begin exactly at a message: a server writes each response head at the
 * start of a write, and a session cut by the mirror's packet length leaves each segment's first bytes; a
 * body before it need not end in a newline) and matches, for the client side,
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
  /** False right after a parse error: the data that follows is the rest of the line that failed. */
  private firstIsCandidate = true;

  constructor(
    private readonly requestSide: boolean,
    private readonly maxLine = 8192,
  ) {}

  /**
   * Forget held bytes (returned as a count of skipped bytes). `firstIsCandidate`: whether the next data may
   * begin a message at its first byte (after a gap, yes; after a parse error, no: it is the rest of the line
   * llhttp rejected, which must not be handed back to it). Later chunks' first bytes are candidates again.
   */
  reset(firstIsCandidate: boolean): number {
    const dropped = this.tail === null ? 0 : this.tail.length;
    this.tail = null;
    this.firstIsCandidate = firstIsCandidate;
    return dropped;
  }

  /** Bytes currently held as an incomplete candidate line. */
  get held(): number {
    return this.tail === null ? 0 : this.tail.length;
  }

  /** Returns the bytes starting at the first start line found, or null (all discarded or held). */
  scan(data: Buffer): Buffer | null {
    const held = this.tail === null ? 0 : this.tail.length;
    const buf = held === 0 ? data : Buffer.concat([this.tail as Buffer, data]);
    this.tail = null;
    // Candidates in order: the held line (or the chunk's first byte), then every line start.
    let s = 0;
    if (!this.firstIsCandidate) {
      this.firstIsCandidate = true;
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
        return null;
      }
      const e = buf.indexOf(LF, s);
      if (e < 0) {
        if (buf.length - s <= this.maxLine && this.couldStart(buf[s])) {
          this.tail = Buffer.from(buf.subarray(s));
          this.skipped = s;
        } else {
          this.skipped = buf.length;
        }
        return null;
      }
      if (this.candidate(buf, s, e)) {
        this.skipped = s;
        return buf.subarray(s);
      }
      // A held line that is not a start line after all: this chunk's own first byte may still begin one.
      if (s === 0 && held > 0 && held <= e && this.candidate(buf, held, e)) {
        this.skipped = held;
        return buf.subarray(held);
      }
      s = e + 1;
    }
  }

  private candidate(buf: Buffer, s: number, e: number): boolean {
    return e - s <= this.maxLine && this.couldStart(buf[s]) && this.matches(buf, s, e);
  }

  private couldStart(c: number): boolean {
    return this.requestSide ? c >= 0x41 && c <= 0x5a : c === 0x48;
  }

  private matches(buf: Buffer, s: number, e: number): boolean {
    const line = buf.toString('latin1', s, e);
    return (this.requestSide ? REQUEST_LINE : STATUS_LINE).test(line);
  }
}
