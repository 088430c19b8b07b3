import type { Counters } from '../observe/counters';
import { OooStore } from './ooo-store';
import { MAX_WINDOW, seqAdd, seqDiff, seqGt } from './seq';
import type { Dir, StreamSink } from './stream-sink';

/**
 * Reassembly of one direction of a TCP connection (gopacket reassembly style).
 *
 * - Starts at ISN+1 (SYN seen) or at the first segment seen (mid-stream pickup).
 * - In-order bytes go straight to `sink.onData` as a subarray of the capture buffer: zero copy, and
 *   no allocation per in-order segment beyond that subarray.
 * - Segments ahead of the next expected byte are COPIED into a bounded OooStore (first copy wins on
 *   overlap). Bytes before the next expected byte are retransmissions and are counted, not delivered.
 * - Bytes the capture cut off (`missing`, snaplen / mirror packet length) are delivered exactly
 *   where they fall as `onGap(dir, n, ts, true)`.
 * - A hole is skipped and reported as `onGap(dir, n, ts, false)` when (a) the store exceeds the
 *   per-direction byte/segment cap or the global byte budget (this direction is the one flushed:
 *   O(1), deterministic, and the direction that pushed the total over is the one that pays),
 *   (b) the peer acknowledges up to or beyond buffered data (or beyond the FIN) that we never saw,
 *   (c) `flush()` is forced by FIN/RST/idle/evict/end of input.
 * - `onEnd(dir, 'fin')` when the FIN's sequence number is reached in order.
 *
 * Never stalls: after `flush()` every byte up to the FIN (or the highest peer ACK) is delivered or
 * reported as a gap. Sink calls for this direction are in stream order and never overlap.
 * Not re-entrant: the sink must not call back into the reassembler.
 */

/** Shared out-of-order byte budget of all connections of one FlowTable. */
export interface ReassemblyBudget {
  bufferedBytes: number;
  readonly maxBufferedBytesTotal: number;
}

export interface HalfStreamLimits {
  maxBufferedBytes: number;
  maxSegments: number;
}

export class HalfStream {
  /** True once the starting sequence number is known. */
  started = false;
  /** Next expected sequence number (valid when started). */
  nextSeq = 0;
  /** Sequence number the stream started at. */
  startSeq = 0;
  /** This direction's SYN was seen; `isn` is its sequence number. */
  synSeen = false;
  isn = 0;
  /** Sequence number of this direction's FIN (valid when finKnown). */
  finKnown = false;
  finSeq = 0;
  /** onEnd was called (FIN reached in order, or RST). */
  ended = false;
  /** Highest acknowledgement the peer sent for this direction's bytes (valid when ackSeen). */
  ackSeen = false;
  maxAck = 0;

  private readonly store = new OooStore();
  /** Bytes of `store` currently charged to the shared budget. */
  private charged = 0;

  constructor(
    readonly dir: Dir,
    private readonly sink: StreamSink,
    private readonly counters: Counters,
    private readonly limits: HalfStreamLimits,
    private readonly budget: ReassemblyBudget,
  ) {}

  /** Out-of-order bytes held. */
  get bufferedBytes(): number {
    return this.store.bytes;
  }

  /** Out-of-order segments held. */
  get bufferedSegments(): number {
    return this.store.count;
  }

  /** Sets the first expected sequence number (ISN+1, or the first segment seen). */
  startAt(seq: number): void {
    this.started = true;
    this.nextSeq = seq >>> 0;
    this.startSeq = this.nextSeq;
  }

  markSyn(isn: number): void {
    this.synSeen = true;
    this.isn = isn >>> 0;
  }

  /**
   * Payload of one segment: `len` bytes at `buf[off..]` (BORROWED until return) starting at
   * sequence `seq`, followed by `missing` bytes the capture cut off. Starts the stream mid-stream
   * when it has not started yet.
   */
  segment(seq: number, buf: Buffer, off: number, len: number, missing: number, tsMicros: number): void {
    if (len + missing <= 0) return;
    if (!this.started) this.startAt(seq);
    if (len > 0) this.consume(seq, len, buf, off, tsMicros);
    if (missing > 0) this.consume(seqAdd(seq, len), missing, null, 0, tsMicros);
  }

  /** This direction's FIN occupies sequence number `seq` (the byte after its payload). */
  fin(seq: number, tsMicros: number): void {
    if (this.ended || this.finKnown) return;
    if (!this.started) this.startAt(seq);
    const d = seqDiff(seq, this.nextSeq);
    if (d < 0 || d > MAX_WINDOW) {
      this.counters.inc('tcp_bad_fin_segments');
      return;
    }
    this.finKnown = true;
    this.finSeq = seq >>> 0;
    const dropped = this.store.truncateAt(this.nextSeq, this.finSeq);
    if (dropped > 0) this.counters.inc('tcp_data_after_fin_bytes', dropped);
    this.charge();
    this.checkEnd(tsMicros);
  }

  /**
   * The peer acknowledged every byte before `ack`. When that reaches buffered data (or the FIN)
   * the holes before it were received by the peer but lost by the capture: they are skipped as
   * gaps (the fast path for mirror loss). An ACK beyond all we hold only raises `maxAck`.
   */
  ack(ack: number, tsMicros: number): void {
    if (!this.started || this.ended) return;
    const d = seqDiff(ack, this.nextSeq);
    if (d <= 0 || d > MAX_WINDOW) return;
    if (!this.ackSeen || seqGt(ack, this.maxAck)) {
      this.ackSeen = true;
      this.maxAck = ack >>> 0;
    }
    let first = this.store.first();
    while (first !== undefined && seqDiff(first.start, ack) <= 0) {
      this.skipHole(tsMicros, false);
      first = this.store.first();
    }
    // ack > finSeq: the peer acknowledged our FIN, so it holds every byte before it.
    if (this.finKnown && !this.ended && seqGt(ack, this.finSeq)) this.flush(tsMicros);
    this.charge();
  }

  /**
   * Forced flush (FIN of both sides, RST, idle, evict, end of input): delivers everything buffered
   * with gaps in between, then reports the bytes up to the FIN, else up to the peer's highest ACK,
   * as a gap. Reaching the FIN calls onEnd('fin').
   */
  flush(tsMicros: number): void {
    if (!this.started || this.ended) {
      this.release();
      return;
    }
    while (this.store.count > 0) this.skipHole(tsMicros, false);
    this.charge();
    let target = this.nextSeq;
    if (this.finKnown) target = this.finSeq;
    else if (this.ackSeen && seqGt(this.maxAck, this.nextSeq)) target = this.maxAck;
    const gap = seqDiff(target, this.nextSeq);
    if (gap > 0) this.gap(gap, tsMicros, false);
    this.checkEnd(tsMicros);
  }

  /** RST: ends this direction (after a flush by the caller) unless it already ended. */
  endRst(tsMicros: number): void {
    if (this.ended) return;
    this.ended = true;
    this.sink.onEnd(this.dir, 'rst', tsMicros);
  }

  /** Drops buffered bytes without delivering them and returns their budget. */
  release(): void {
    this.store.clear();
    this.charge();
  }

  // ---- internals ----

  /** One contiguous range: bytes at buf[off..] or, with buf null, cut off by the capture. */
  private consume(seq: number, len: number, buf: Buffer | null, off: number, ts: number): void {
    let d = seqDiff(seq, this.nextSeq);
    if (d > MAX_WINDOW || d < -MAX_WINDOW) {
      this.counters.inc('tcp_out_of_window_segments');
      return;
    }
    if (this.finKnown) {
      const lim = seqDiff(this.finSeq, seq);
      if (lim < len) {
        const beyond = lim <= 0 ? len : len - lim;
        this.counters.inc('tcp_data_after_fin_bytes', beyond);
        len -= beyond;
        if (len <= 0) return;
      }
    }
    if (d < 0) {
      const skip = -d < len ? -d : len;
      this.counters.inc('tcp_retransmitted_bytes', skip);
      seq = seqAdd(seq, skip);
      off += skip;
      len -= skip;
      if (len === 0) return;
      d = 0;
    }
    if (d > 0) {
      this.counters.inc('tcp_ooo_segments');
      const stored = this.store.insert(this.nextSeq, seq, len, buf, off, ts);
      if (stored < len) this.counters.inc('tcp_overlap_bytes', len - stored);
      this.charge();
      this.enforceCaps(ts);
      return;
    }
    // In order. Stop at the start of each buffered segment: it arrived first, so it wins.
    while (len > 0) {
      let n = len;
      const first = this.store.first();
      if (first !== undefined) {
        const f = seqDiff(first.start, this.nextSeq);
        if (f < n) n = f;
      }
      if (n > 0) {
        this.emit(buf, off, n, ts);
        off += n;
        len -= n;
        seq = seqAdd(seq, n);
      }
      if (len === 0) break;
      this.drainStore();
      const covered = seqDiff(this.nextSeq, seq);
      const skip = covered < len ? covered : len;
      if (skip > 0) {
        this.counters.inc('tcp_overlap_bytes', skip);
        off += skip;
        len -= skip;
        seq = seqAdd(seq, skip);
      }
    }
    this.drainStore();
    this.charge();
    this.checkEnd(ts);
  }

  /** Delivers n in-order bytes (or a truncation gap when buf is null) and advances nextSeq. */
  private emit(buf: Buffer | null, off: number, n: number, ts: number): void {
    this.nextSeq = seqAdd(this.nextSeq, n);
    if (buf === null) {
      this.counters.inc('truncated_bytes', n);
      this.sink.onGap(this.dir, n, ts, true);
    } else {
      this.sink.onData(this.dir, off === 0 && n === buf.length ? buf : buf.subarray(off, off + n), ts);
    }
  }

  /** Delivers buffered segments that are now in order. */
  private drainStore(): void {
    let first = this.store.first();
    while (first !== undefined && seqDiff(first.start, this.nextSeq) <= 0) {
      this.store.shift();
      const behind = seqDiff(this.nextSeq, first.start);
      if (behind < first.len) {
        const data = first.data === null ? null : behind > 0 ? first.data.subarray(behind) : first.data;
        this.emit(data, 0, first.len - behind, first.tsMicros);
      }
      first = this.store.first();
    }
  }

  /** Skips the hole before the first buffered segment (reported as a gap) and drains. */
  private skipHole(ts: number, overflow: boolean): void {
    const first = this.store.first();
    if (first === undefined) return;
    const gap = seqDiff(first.start, this.nextSeq);
    if (gap > 0) {
      if (overflow) this.counters.inc('tcp_ooo_overflow_bytes', gap);
      this.gap(gap, ts, false);
    }
    this.drainStore();
    this.checkEnd(ts);
  }

  private gap(n: number, ts: number, truncated: boolean): void {
    this.nextSeq = seqAdd(this.nextSeq, n);
    this.counters.inc(truncated ? 'truncated_bytes' : 'gap_bytes', n);
    this.sink.onGap(this.dir, n, ts, truncated);
  }

  private enforceCaps(ts: number): void {
    const lim = this.limits;
    const budget = this.budget;
    while (
      this.store.count > 0 &&
      (this.store.bytes > lim.maxBufferedBytes ||
        this.store.count > lim.maxSegments ||
        budget.bufferedBytes > budget.maxBufferedBytesTotal)
    ) {
      this.skipHole(ts, true);
      this.charge();
    }
  }

  private checkEnd(ts: number): void {
    if (this.finKnown && !this.ended && this.nextSeq === this.finSeq) {
      this.ended = true;
      this.release();
      this.sink.onEnd(this.dir, 'fin', ts);
    }
  }

  /** Keeps the shared budget in step with this store. */
  private charge(): void {
    const b = this.store.bytes;
    if (b !== this.charged) {
      this.budget.bufferedBytes += b - this.charged;
      this.charged = b;
    }
  }
}
