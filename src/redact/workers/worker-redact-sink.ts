/**
 * Redaction on worker threads, in front of a sink: `write(ex)` collects exchanges into batches, each batch
 * is redacted by one of N workers (each with its own redactor from the same rules and key, so the output is
 * the same as on the main thread, byte for byte), and the inner sink receives the redacted exchanges in the
 * order they were written. Nothing unredacted ever reaches the inner sink.
 *
 * Bounded: at most `maxInFlightPerWorker` batches per worker; when every worker is that far behind, the main
 * thread redacts the next batch itself (so the producer slows to the redaction rate instead of queueing
 * without bound, and a live source's own back-pressure — socket buffer, event-loop lag, /readyz — applies).
 * A worker that fails (crash, exit, a batch it cannot handle) is counted (`redact_worker_failed`,
 * `redact_worker_batch_failed`), its batches are redacted on the main thread, and the rest go on without it.
 *
 * Ownership: exchanges written here are kept until their batch comes back, then handed to the inner sink
 * under the inner sink's usual contract.
 */
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Exchange } from '../../exchange/record';
import type { Counters } from '../../observe/counters';
import { sinkHealthy, type ExchangeSink } from '../../sink/exchange-sink';
import type { RedactConfig } from '../config';
import type { Redactor } from '../redactor';
import type { BatchIn, BatchOut, RedactWorkerData } from './redact-worker';
import { applyResults, encodeBatch } from './transfer';

export interface WorkerRedactOptions {
  /** Worker threads (≥ 1). */
  workers: number;
  config: RedactConfig;
  key: Buffer;
  /** Live counters: the workers' counts are added here as their batches return. */
  counters: Counters;
  /** The main thread's redactor (same config, key and counters): overflow batches and failed workers. */
  inline: Redactor;
  warn: (msg: string) => void;
  /** Exchanges per batch (default 32); a batch also closes at 1 MiB of bodies or when the event loop turns. */
  batchSize?: number;
  /** Batches in flight per worker before the main thread redacts (default 4). */
  maxInFlightPerWorker?: number;
  /** The worker script (tests substitute a failing one). */
  workerScript?: string;
}


const BATCH_BODY_BYTES = 1 << 20;
/**
 * A worker's young generation (V8's default is 48 MiB): measured on bench-large, 12 MiB costs no time and
 * saves ~40 MB of RSS per worker. The old generation is left to V8 (a cap would turn a large body into a crash).
 */
const WORKER_YOUNG_GENERATION_MB = 12;

interface Batch {
  seq: number;
  exs: Exchange[];
  done: boolean;
}

interface Slot {
  id: number;
  worker: Worker;
  /** Results come back here; polled synchronously while the main thread produces (receiveMessageOnPort). */
  port: MessagePort;
  alive: boolean;
  inFlight: Map<number, Batch>;
}

export class WorkerRedactSink implements ExchangeSink {
  private readonly slots: Slot[] = [];
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private pending: Exchange[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /** Batches not yet handed on, in write order. */
  private readonly queue: Batch[] = [];
  private seq = 0;
  private closing = false;
  private idle: (() => void) | undefined;

  constructor(private readonly inner: ExchangeSink, private readonly opts: WorkerRedactOptions) {
    this.batchSize = opts.batchSize ?? 32;
    this.maxInFlight = opts.maxInFlightPerWorker ?? 4;
    const script = opts.workerScript ?? path.join(__dirname, 'redact-worker.js');
    for (let id = 0; id < opts.workers; id++) {
      const { port1, port2 } = new MessageChannel();
      const workerData: RedactWorkerData = { config: opts.config, key: new Uint8Array(opts.key), port: port2 };
      let worker: Worker;
      try {
        worker = new Worker(script, { workerData, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
      } catch (err) {
        port1.close();
        opts.warn(`redaction worker could not start (${(err as Error).message}); redacting on the main thread`);
        opts.counters.inc('redact_worker_failed');
        break;
      }
      const slot: Slot = { id, worker, port: port1, alive: true, inFlight: new Map() };
      worker.unref();
      port1.on('message', (msg: BatchOut) => this.onResult(slot, msg));
      port1.unref();
      worker.on('error', (err) => this.onFailure(slot, err.message));
      worker.on('exit', (code) => this.onFailure(slot, `exited with code ${code}`));
      this.slots.push(slot);
    }
  }

  write(ex: Exchange): boolean {
    this.pending.push(ex);
    this.pendingBytes += (ex.request?.body.length ?? 0) + (ex.response?.body.length ?? 0);
    if (this.pending.length >= this.batchSize || this.pendingBytes >= BATCH_BODY_BYTES) this.dispatch();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        if (this.pending.length > 0) this.dispatch();
      });
    }
    return true;
  }

  /** Healthy while the inner sink is (this sink's own back-pressure is the main thread redacting, see above). */
  get healthy(): boolean {
    return sinkHealthy(this.inner);
  }

  /** Redacts and hands on everything written, stops the workers, then closes the inner sink. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pending.length > 0) this.dispatch();
    if (this.queue.length > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    for (const s of this.slots) s.port.close();
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => undefined)));
    await this.inner.close();
  }

  private dispatch(): void {
    const batch: Batch = { seq: this.seq++, exs: this.pending, done: false };
    this.pending = [];
    this.pendingBytes = 0;
    this.queue.push(batch);
    this.poll();
    const slot = this.pick();
    if (slot !== undefined) this.post(slot, batch);
    else {
      this.opts.counters.inc('redact_batches_main_thread');
      this.redactInline(batch);
    }
    this.deliver();
  }

  private post(slot: Slot, batch: Batch): void {
    let msg: BatchIn;
    try {
      const packed = encodeBatch(batch.exs);
      msg = { seq: batch.seq, vals: packed.vals, bytes: packed.bytes };
    } catch {
      this.opts.counters.inc('redact_worker_batch_failed');
      this.redactInline(batch);
      return;
    }
    if (slot.inFlight.size === 0) this.ref(slot, true);
    slot.inFlight.set(batch.seq, batch);
    slot.port.postMessage(msg, [msg.bytes.buffer as ArrayBuffer]);
  }

  /** Takes every result already back, without waiting for the event loop (the producer may hold it for long). */
  private poll(): void {
    for (const s of this.slots) {
      while (s.inFlight.size > 0) {
        const m = receiveMessageOnPort(s.port);
        if (m === undefined) break;
        this.onResult(s, m.message as BatchOut, false);
      }
    }
  }

  /** The live worker with the fewest batches in flight, if it has room. */
  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.alive && (best === undefined || s.inFlight.size < best.inFlight.size)) best = s;
    return best !== undefined && best.inFlight.size < this.maxInFlight ? best : undefined;
  }

  private redactInline(batch: Batch): void {
    for (const ex of batch.exs) this.opts.inline.redact(ex);
    batch.done = true;
  }

  /**
   * A worker with batches in flight keeps the process alive (its results, or the news of its death, must
   * arrive); an idle one does not, so a sink that is never closed cannot hold the process open.
   */
  private ref(slot: Slot, on: boolean): void {
    if (on) {
      slot.worker.ref();
      slot.port.ref();
    } else {
      slot.worker.unref();
      slot.port.unref();
    }
  }

  private settle(slot: Slot, seq: number): Batch | undefined {
    const batch = slot.inFlight.get(seq);
    if (batch === undefined) return undefined;
    slot.inFlight.delete(seq);
    if (slot.inFlight.size === 0) this.ref(slot, false);
    return batch;
  }

  private onResult(slot: Slot, msg: BatchOut, deliver = true): void {
    const batch = this.settle(slot, msg.seq);
    if (batch === undefined) return;
    if ('error' in msg) {
      this.opts.counters.inc('redact_worker_batch_failed');
      this.redactInline(batch);
    } else {
      try {
        applyResults(batch.exs, { vals: msg.vals, bytes: msg.bytes });
        this.opts.counters.addDrained(msg.counters);
        batch.done = true;
      } catch {
        // A result that does not fit its batch: redact again here (values already redacted stay redacted).
        this.opts.counters.inc('redact_worker_batch_failed');
        this.redactInline(batch);
      }
    }
    if (deliver) this.deliver();
  }

  private onFailure(slot: Slot, why: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    if (this.closing && slot.inFlight.size === 0) return;
    this.opts.counters.inc('redact_worker_failed');
    this.opts.warn(`redaction worker ${slot.id} failed (${why}); its exchanges are redacted on the main thread`);
    for (const seq of [...slot.inFlight.keys()]) {
      const batch = this.settle(slot, seq);
      if (batch !== undefined) this.redactInline(batch);
    }
    this.deliver();
  }

  /** Hands finished batches at the head of the queue to the inner sink, in order. */
  private deliver(): void {
    while (this.queue.length > 0 && this.queue[0].done) {
      const batch = this.queue.shift() as Batch;
      for (const ex of batch.exs) this.inner.write(ex);
    }
    if (this.queue.length === 0 && this.idle !== undefined) {
      const resolve = this.idle;
      this.idle = undefined;
      resolve();
    }
  }
}
