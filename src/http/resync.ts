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
/** Candidate starts remembered in a held line (bounded: the first and the latest ones). */
const MAX_HELD_STARTS = 8;

const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32} [^ \r\n]+ HTTP\/1\.[01]\r?$/;
const STATUS_LINE = /^HTTP\/1\.[01] [0-9]{3}(?: [^\r\n]*)?\r?$/;

export class StartLineScanner {
  /** Bytes discarded by the last `scan` / `dropTail` call. */
  skipped = 0;
  private tail: Buffer | null = null;
  /** Offsets in `tail` that may begin a start line: its first byte, and later chunks' first bytes held with it. */
  private tailStarts: number[] = [];
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
    this.tailStarts = [];
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
    // Candidates on the first line: where the held bytes may begin a start line, then this chunk's first byte.
    const firstStarts = held === 0 ? [0] : [...this.tailStarts, held];
    this.tail = null;
    this.tailStarts = [];
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
      const starts = s === 0 ? firstStarts : [s];
      const e = buf.indexOf(LF, s);
      if (e < 0) {
        // No line end yet: hold from the first candidate that may still begin a start line, remembering the others.
        const keep = starts.filter((c) => buf.length - c <= this.maxLine && this.couldStart(buf[c]));
        if (keep.length === 0) {
          this.skipped = buf.length;
          return null;
        }
        const from = keep[0];
        this.tail = Buffer.from(buf.subarray(from));
        this.tailStarts = (keep.length > MAX_HELD_STARTS ? [from, ...keep.slice(1 - MAX_HELD_STARTS)] : keep).map((c) => c - from);
        this.skipped = from;
        return null;
      }
      for (const c of starts) {
        if (this.candidate(buf, c, e)) {
          this.skipped = c;
          return buf.subarray(c);
        }
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
