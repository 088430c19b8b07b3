import type { Exchange } from '../exchange/record';
import type { Counters } from '../observe/counters';
import type { ExchangeSink } from '../sink/exchange-sink';
import { encodeBatchFrame, encodeExchange, peekBatchId } from './frame-codec';
import type { Spool } from './spool';
import { batchKey, type OutBatch, type Transport } from './transport';

/**
 * The agent side of delivery: an ExchangeSink that batches exchanges, keeps a window of
 * unacknowledged batches on the wire, resends them after a reconnect, and spills to the on-disk
 * spool when the in-memory queue is over its bound or the service is down.
 *
 * `write()` never blocks on the network and never awaits: it encodes the exchange (so the caller
 * keeps ownership of the record) and appends it to the open batch. Sending happens on transport
 * events. Order of sending: resends first, then the spool (oldest data), then the in-memory queue;
 * memory overflow moves the oldest in-memory batches to the spool's tail, so the spool always
 * holds older batches than memory. Everything is bounded: the open batch (maxBatch*), the window
 * (window*), memory (memoryBytes) and the spool (its maxBytes, oldest dropped and counted).
 *
 * Counters: sink_exchanges_written, sink_batches_sealed, sink_batches_sent, sink_batches_acked,
 * sink_exchanges_acked, sink_batches_duplicate, sink_batches_resent, sink_spooled_batches,
 * sink_dropped_batches, sink_dropped_exchanges, sink_oversized_exchanges, sink_encode_errors
 * (+ the transport's sink_reconnects, sink_error_*).
 */
export interface DeliveryOptions {
  /** Batch.stream: names this sequence space (see delivery.proto). */
  stream: string;
  /** First sequence number (default 1). */
  firstSeq?: number;
  maxBatchExchanges?: number;
  maxBatchBytes?: number;
  /** Seal a non-empty batch after this long; 0 = only by size (deterministic batches for `read`). */
  lingerMs?: number;
  /** Bound of sealed batches held in memory (queued + waiting for a resend). */
  memoryBytes?: number;
  windowBatches?: number;
  windowBytes?: number;
  /** close(): how long to wait for acknowledgements before spooling what is left. */
  flushTimeoutMs?: number;
  /** Exchanges larger than this encoded are dropped (counted in sink_oversized_exchanges). */
  maxExchangeBytes?: number;
}

const DEFAULTS = {
  firstSeq: 1,
  maxBatchExchanges: 500,
  maxBatchBytes: 1 << 20,
  lingerMs: 200,
  memoryBytes: 32 << 20,
  windowBatches: 16,
  windowBytes: 16 << 20,
  flushTimeoutMs: 10_000,
  maxExchangeBytes: 15 << 20,
};

export class DeliverySink implements ExchangeSink {
  private readonly o: Required<DeliveryOptions>;
  private cur: Uint8Array[] = [];
  private curBytes = 0;
  private seq: number;
  private linger: NodeJS.Timeout | undefined;
  private mem: OutBatch[] = [];
  private resend: OutBatch[] = [];
  private memBytes = 0;
  private readonly inflight = new Map<string, OutBatch>();
  private inflightBytes = 0;
  /** Batches whose (stream, seq) is already in flight (a spooled copy and a re-read one): sent after its ack. */
  private readonly twins = new Map<string, OutBatch[]>();
  private twinCount = 0;
  private ready = false;
  private blocked = false;
  private rejected = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    opts: DeliveryOptions,
    private readonly transport: Transport,
    private readonly spool: Spool | null,
    private readonly counters: Counters,
    private readonly log: (msg: string) => void,
  ) {
    this.o = { ...DEFAULTS, ...opts } as Required<DeliveryOptions>;
    this.seq = this.o.firstSeq;
    transport.start({
      onReady: () => {
        this.ready = true;
        this.blocked = false;
        this.rejected = false;
        this.pump();
      },
      onAck: (stream, seq, duplicate) => this.onAck(stream, seq, duplicate),
      onDown: () => this.onDown(),
      onDrain: () => {
        this.blocked = false;
        this.pump();
      },
      onRejected: () => {
        this.rejected = true;
        this.wake();
      },
    });
  }

  write(ex: Exchange): boolean {
    if (this.closed) return false;
    let bytes: Uint8Array;
    try {
      bytes = encodeExchange(ex);
    } catch {
      this.counters.inc('sink_encode_errors');
      return false;
    }
    return this.writeEncoded(bytes);
  }

  /**
   * One exchange already encoded by `encodeExchange` (sharded `read` encodes on its threads): batched exactly
   * as write() batches. The bytes are kept (owned by the sink from here).
   */
  writeEncoded(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (bytes.length > this.o.maxExchangeBytes) {
      this.counters.inc('sink_oversized_exchanges');
      return false;
    }
    this.counters.inc('sink_exchanges_written');
    if (this.cur.length > 0 && this.curBytes + bytes.length > this.o.maxBatchBytes) this.seal();
    this.cur.push(bytes);
    this.curBytes += bytes.length;
    if (this.cur.length >= this.o.maxBatchExchanges) this.seal();
    else if (this.cur.length === 1 && this.o.lingerMs > 0 && !this.linger) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        this.seal();
      }, this.o.lingerMs);
      this.linger.unref();
    }
    return this.ready && this.memBytes <= this.o.memoryBytes;
  }

  /** Seals the open batch (if any) now. */
  flushBatch(): void {
    this.seal();
  }

  /** Batches not yet acknowledged: in memory, in flight, and pending in the spool. */
  get unacknowledged(): number {
    return this.mem.length + this.resend.length + this.inflight.size + this.twinCount + (this.spool ? this.spool.pendingBatches : 0);
  }

  /** Healthy means connected and not shedding load to the spool (for /readyz/sink). */
  get healthy(): boolean {
    return this.ready && this.memBytes <= this.o.memoryBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.seal();
    this.closed = true;
    if (this.linger) clearTimeout(this.linger);
    await this.waitIdle(this.o.flushTimeoutMs);
    const left = this.unacknowledged;
    if (left > 0) {
      // Whatever is in memory goes to the spool; spooled batches in flight stay there.
      let spilled = 0;
      const twins = [...this.twins.values()].flat();
      this.twins.clear();
      this.twinCount = 0;
      for (const b of [...this.inflight.values(), ...twins, ...this.resend, ...this.mem]) {
        if (b.spoolRef && this.spool?.isLive(b.spoolRef)) {
          this.spool.release(b.spoolRef);
          continue;
        }
        this.toSpool(b);
        spilled++;
      }
      this.inflight.clear();
      this.resend = [];
      this.mem = [];
      this.memBytes = 0;
      this.log(
        this.spool
          ? `sink: ${left} batch(es) not acknowledged by ${this.transport.name} at exit (${spilled} moved from memory); they stay in the spool for the next run`
          : `sink: ${left} batch(es) not acknowledged by ${this.transport.name} at exit and no spool: dropped`,
      );
    }
    await this.transport.close();
    this.spool?.close();
  }

  private seal(): void {
    if (this.linger) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    if (this.cur.length === 0) return;
    const seq = this.seq++;
    const frame = encodeBatchFrame(seq, this.o.stream, Date.now() * 1000, this.cur);
    const b: OutBatch = { stream: this.o.stream, seq, frame, count: this.cur.length };
    this.cur = [];
    this.curBytes = 0;
    this.counters.inc('sink_batches_sealed');
    this.mem.push(b);
    this.memBytes += frame.length;
    while (this.memBytes > this.o.memoryBytes && this.mem.length > 0) {
      const old = this.mem.shift()!;
      this.memBytes -= old.frame.length;
      this.toSpool(old);
    }
    this.pump();
  }

  /** A batch leaves memory for the spool (or is dropped and counted when there is none). */
  private toSpool(b: OutBatch): void {
    if (this.spool) {
      this.spool.append(b.frame, b.count);
    } else {
      this.counters.inc('sink_dropped_batches');
      this.counters.inc('sink_dropped_exchanges', b.count);
    }
  }

  private pump(): void {
    while (this.ready && !this.blocked && this.inflight.size < this.o.windowBatches && this.inflightBytes < this.o.windowBytes) {
      let b = this.resend.shift();
      if (b) {
        this.memBytes -= b.frame.length;
        this.counters.inc('sink_batches_resent');
      } else {
        const s = this.spool?.next();
        if (s) {
          b = { stream: '', seq: 0, frame: s.frame, count: s.count, spoolRef: s.ref };
          identify(b);
        } else {
          b = this.mem.shift();
          if (!b) break;
          this.memBytes -= b.frame.length;
        }
      }
      const key = batchKey(b.stream, b.seq);
      if (this.inflight.has(key)) {
        const list = this.twins.get(key);
        if (list) list.push(b);
        else this.twins.set(key, [b]);
        this.twinCount++;
        continue;
      }
      this.inflight.set(key, b);
      this.inflightBytes += b.frame.length;
      this.counters.inc('sink_batches_sent');
      if (!this.transport.send(b)) this.blocked = true;
    }
    this.wake();
  }

  private onAck(stream: string, seq: number, duplicate: boolean): void {
    const key = batchKey(stream, seq);
    const b = this.inflight.get(key);
    if (!b) {
      this.counters.inc('sink_unexpected_acks');
      return;
    }
    this.inflight.delete(key);
    this.inflightBytes -= b.frame.length;
    if (b.spoolRef) this.spool?.ack(b.spoolRef);
    this.counters.inc('sink_batches_acked');
    this.counters.inc('sink_exchanges_acked', b.count);
    if (duplicate) this.counters.inc('sink_batches_duplicate');
    const twins = this.twins.get(key);
    if (twins) {
      this.twins.delete(key);
      this.twinCount -= twins.length;
      for (const t of twins) this.memBytes += t.frame.length;
      this.resend = twins.concat(this.resend);
    }
    this.pump();
  }

  private onDown(): void {
    this.ready = false;
    this.blocked = false;
    const back: OutBatch[] = [];
    for (const b of this.inflight.values()) {
      if (b.spoolRef && this.spool?.isLive(b.spoolRef)) {
        this.spool.release(b.spoolRef);
      } else {
        delete b.spoolRef;
        back.push(b);
        this.memBytes += b.frame.length;
      }
    }
    for (const list of this.twins.values()) {
      for (const b of list) {
        back.push(b);
        this.memBytes += b.frame.length;
      }
    }
    this.twins.clear();
    this.twinCount = 0;
    this.inflight.clear();
    this.inflightBytes = 0;
    this.resend = back.concat(this.resend);
  }

  private isIdle(): boolean {
    return this.unacknowledged === 0 && this.cur.length === 0;
  }

  private wake(): void {
    if (this.idleWaiters.length === 0) return;
    if (!this.isIdle() && !(this.rejected && !this.ready)) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private waitIdle(ms: number): Promise<void> {
    if (this.isIdle() || (this.rejected && !this.ready)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.idleWaiters = self.idleWaiters.filter((f) => f !== done);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }
}

/** Fills stream and seq of a batch read back from the spool (its frame says them). */
function identify(b: OutBatch): void {
  const { stream, seq } = peekBatchId(b.frame);
  b.stream = stream;
  b.seq = seq;
}
