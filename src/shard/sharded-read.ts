/**
 * `read --threads N`: the pipeline with its connections split between N worker threads.
 *
 * The capture thread reads and decodes every frame (link layers, IP, fragments, tunnels, TCP header:
 * the same Decoder as the single-thread Pipeline) and sends each TCP segment to its flow's shard (both
 * directions of a connection meet in one shard; a new flow goes to the least loaded one, see
 * shard-assigner.ts). Each shard worker (shard-worker.ts) runs the rest: flow table, reassembly, HTTP,
 * redaction and the output encoding. The capture thread writes the encoded exchanges back in the order
 * one thread would have written them.
 *
 * Why the output is the single-thread output: a connection's exchanges depend only on its own packets,
 * their capture times (the capture thread sends its clock, the latest timestamp seen, with each segment)
 * and the expiry sweeps (decided here, after the same packets as in Pipeline, and sent to every shard).
 * One thread emits a packet's exchanges while handling it, a sweep's in least-recently-used order, the end
 * of input's likewise; each encoded exchange comes back with that place — (frame number, phase, the
 * connection's latest frame for sweeps) — and the shards' lists are merged on it. Connection ids are frame
 * numbers, so they need no coordination. Where one thread's bounds (flows, buffered bytes) apply across all
 * connections, each shard gets 1/N of them: output differs from one thread's only when those bounds bite.
 *
 * Rounds: segments are packed per shard (segment-batch.ts) until ROUND_BYTES are waiting, then every
 * shard is sent its part of the round (an empty part too) and answers once. A round's exchanges are
 * written when all shards have answered it, rounds in order. Bounded: pace() (called by the file reader
 * between reads) waits while more than MAX_ROUNDS_IN_FLIGHT rounds are unanswered.
 *
 * Accounting: every frame lands in exactly one packet outcome — the decoder's here, the flow table's in
 * the shard (sent back as counts) — and the shards' counters are added to `counters` as results arrive.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Decoder, type DecoderOptions } from '../decode/decoder';
import { DecodedPacket } from '../decode/decoded-packet';
import { flowHash } from '../flow/flow-key';
import { FLOW_TABLE_DEFAULTS, type FlowTableOptions } from '../flow/flow-table';
import { Counters } from '../observe/counters';
import type { FrameConsumer, PipelineTotals } from '../pipeline';
import { CaptureClock } from '../flow/capture-clock';
import type { Frame } from '../source/frame';
import { EXIT_INTERNAL, ShadowtapError } from '../errors';
import type { RedactConfig } from '../redact/config';
import type { EncodedOutput, Encoding } from './shard-format';
import { SegmentBatchWriter } from './segment-batch';
import { ShardAssigner } from './shard-assigner';
import type { ShardFinish, ShardRecycle, ShardResult, ShardRound, ShardWorkerData } from './shard-worker';

/** Segment bytes (all shards) that close a round. */
const ROUND_BYTES = 1 << 20;
/** What a segment costs a shard besides its payload, in payload bytes (for balancing; a guess, not measured). */
const SEGMENT_OVERHEAD_BYTES = 64;
/** Rounds sent and not yet written before the reader waits. */
const MAX_ROUNDS_IN_FLIGHT = 8;
/** Young generation of a shard worker (V8's default 48 MiB per isolate is RSS that buys no time here). */
const WORKER_YOUNG_GENERATION_MB = 16;

export interface ShardedReadOptions {
  shards: number;
  source: string;
  decoder?: Partial<DecoderOptions>;
  /** Flow-table options as for Pipeline; maxFlows and maxBufferedBytesTotal are shared out between the shards. */
  flows?: Partial<FlowTableOptions>;
  /** Where the exchanges go, each with its encoding: the local output, the replay service, or both. */
  outputs: Array<{ encoding: Encoding; output: EncodedOutput }>;
  /** Share counters with what was built before (the replay-service sink); a new set when absent. */
  counters?: Counters;
  redact: { config: RedactConfig; key: Buffer } | null;
  /** The shard worker script (tests substitute a failing one). */
  workerScript?: string;
}

type Answered = Extract<ShardResult, { outs: Uint8Array[] }>;

interface Shard {
  worker: Worker;
  batch: SegmentBatchWriter;
  /** Input buffers the worker gave back, for the next rounds. */
  spent: ArrayBuffer[];
}

export class ShardedRead implements PipelineTotals, FrameConsumer {
  readonly counters: Counters;
  readonly packetOutcomes = new Counters();
  packets = 0;
  bytes = 0;
  private readonly decoder: Decoder;
  private readonly pkt = new DecodedPacket();
  private readonly shards: Shard[] = [];
  private readonly assigner: ShardAssigner;
  private readonly clock = new CaptureClock();
  private pendingBytes = 0;
  /** A shard's batch can take no more segments (its string table): the round closes now. */
  private batchFull = false;
  private round = 0;
  /** Next round to write. */
  private written = 0;
  /** Answers per round not yet written (one slot per shard). */
  private readonly answers = new Map<number, Array<Answered | undefined>>();
  private failure: ShadowtapError | undefined;
  /** Set once finish() stops the workers (their exits are expected from then on). */
  private closing = false;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: ShardedReadOptions) {
    this.counters = opts.counters ?? new Counters();
    this.decoder = new Decoder(opts.decoder ?? {}, this.counters);
    const n = opts.shards;
    const whole = { ...FLOW_TABLE_DEFAULTS, ...opts.flows };
    const flows = { ...whole, maxFlows: Math.max(1, Math.floor(whole.maxFlows / n)), maxBufferedBytesTotal: Math.floor(whole.maxBufferedBytesTotal / n) };
    this.assigner = new ShardAssigner(n, whole.idleTimeoutMicros, whole.maxFlows);
    const script = opts.workerScript ?? path.join(__dirname, 'shard-worker.js');
    for (let i = 0; i < n; i++) {
      const data: ShardWorkerData = {
        source: opts.source,
        flows,
        encodings: opts.outputs.map((o) => o.encoding),
        redact: opts.redact ? { config: opts.redact.config, key: new Uint8Array(opts.redact.key) } : null,
      };
      const worker = new Worker(script, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
      worker.on('message', (res: ShardResult) => this.onAnswer(i, res));
      worker.on('error', (err) => this.fail(`parse thread ${i + 1} failed: ${err.message}`));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(`parse thread ${i + 1} exited (code ${code}) with work outstanding`);
      });
      this.shards.push({ worker, batch: new SegmentBatchWriter(), spent: [] });
    }
  }

  onFrame(frame: Frame): void {
    const frameNumber = ++this.packets;
    this.bytes += frame.capLen;
    const clock = this.clock;
    clock.observe(frame.tsMicros);
    const pkt = this.pkt;
    const outcome = this.decoder.decode(frame, pkt);
    if (outcome === '') {
      const shard = pkt.ipVersion === 4 || pkt.ipVersion === 6 ? this.assigner.shardOf(flowHash(pkt), pkt.payloadLen + SEGMENT_OVERHEAD_BYTES, clock.nowMicros) : 0;
      const batch = this.shards[shard]!.batch;
      const before = batch.size;
      batch.segment(pkt, frameNumber, clock.nowMicros);
      this.pendingBytes += batch.size - before;
      if (batch.full) this.batchFull = true;
    } else {
      this.packetOutcomes.inc(outcome);
    }
    if (clock.sweepDue()) {
      for (const s of this.shards) s.batch.expire(frameNumber, clock.nowMicros);
      this.assigner.forgetIdle(clock.nowMicros);
    }
    if (this.pendingBytes >= ROUND_BYTES || this.batchFull) this.sendRound();
  }

  countWithheld(frame: Frame, outcome: string): void {
    this.packets++;
    this.bytes += frame.capLen;
    this.packetOutcomes.inc(outcome);
  }

  /** Between reads: sends what is waiting, and waits while too many rounds are unanswered. */
  async pace(): Promise<void> {
    if (this.pendingBytes > 0) this.sendRound();
    while (this.failure === undefined && this.round - this.written > MAX_ROUNDS_IN_FLIGHT) await this.nextAnswer();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.failure) throw this.failure;
  }

  /**
   * End of input: closes every connection in every shard, writes everything and stops the workers.
   * Rejects with the first worker failure (the output then holds the rounds written before it).
   */
  async finish(): Promise<void> {
    try {
      this.sendRound();
      const round = this.round++;
      this.answers.set(round, new Array(this.shards.length).fill(undefined));
      const msg: ShardFinish = { type: 'finish', round, nowMicros: this.clock.nowMicros };
      for (const s of this.shards) s.worker.postMessage(msg);
      while (this.failure === undefined && this.written < this.round) await this.nextAnswer();
      if (this.failure) throw this.failure;
    } finally {
      this.closing = true;
      this.answers.clear();
      await Promise.all(this.shards.map((s) => s.worker.terminate()));
    }
  }

  /** Stops the workers without waiting for what they hold (a failure elsewhere ended the run). */
  async abort(): Promise<void> {
    this.closing = true;
    this.answers.clear();
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }

  private sendRound(): void {
    if (this.failure) return;
    const round = this.round++;
    this.answers.set(round, new Array(this.shards.length).fill(undefined));
    for (const s of this.shards) {
      const b = s.batch.take(s.spent.pop());
      const msg: ShardRound = { type: 'round', round, bytes: b.bytes, strings: b.strings };
      s.worker.postMessage(msg, [b.bytes.buffer as ArrayBuffer]);
    }
    this.pendingBytes = 0;
    this.batchFull = false;
  }

  private onAnswer(shard: number, res: ShardResult): void {
    if ('error' in res) {
      this.fail(`parse thread ${shard + 1} failed: ${res.error}`);
      return;
    }
    this.counters.addDrained(res.counters);
    this.packetOutcomes.addDrained(res.outcomes);
    if (res.spent !== undefined) this.shards[shard]!.spent.push(res.spent);
    const slots = this.answers.get(res.round);
    if (slots === undefined) return;
    slots[shard] = res;
    while (this.failure === undefined) {
      const next = this.answers.get(this.written);
      if (next === undefined || next.some((a) => a === undefined)) break;
      this.answers.delete(this.written);
      this.written++;
      try {
        this.writeMerged(next as Answered[]);
      } catch (err) {
        // The output failed (ENOSPC, EIO, ...): that error, with its own exit status, ends the run.
        this.fail(err instanceof ShadowtapError ? err : `writing the output failed: ${(err as Error).message}`);
        break;
      }
      this.recycle(next as Answered[]);
    }
    this.wakeUp();
  }

  /** Writes one round's exchanges from every shard in single-thread order (see the header). */
  private writeMerged(parts: Answered[]): void {
    const outputs = this.opts.outputs;
    const stride = 3 + outputs.length;
    const at = new Array<number>(parts.length).fill(0);
    const from = parts.map(() => new Array<number>(outputs.length).fill(0));
    for (;;) {
      let best = -1;
      for (let i = 0; i < parts.length; i++) {
        if (at[i]! >= parts[i]!.keys.length) continue;
        if (best < 0 || keyBefore(parts[i]!.keys, at[i]!, parts[best]!.keys, at[best]!)) best = i;
      }
      if (best < 0) return;
      const p = parts[best]!;
      const j = at[best]!;
      const starts = from[best]!;
      for (let o = 0; o < outputs.length; o++) {
        const end = p.keys[j + 3 + o]!;
        // Empty: this encoding could not encode the exchange (counted by the shard).
        if (end > starts[o]!) outputs[o]!.output.writeExchange(p.outs[o]!.subarray(starts[o], end));
        starts[o] = end;
      }
      at[best] = j + stride;
    }
  }

  /** Gives each worker its written output buffers back. */
  private recycle(parts: Answered[]): void {
    if (this.closing) return;
    for (let i = 0; i < parts.length; i++) {
      const buffers = parts[i]!.outs.map((o) => o.buffer as ArrayBuffer);
      const msg: ShardRecycle = { type: 'recycle', buffers };
      this.shards[i]!.worker.postMessage(msg, buffers);
    }
  }

  private fail(why: string | ShadowtapError): void {
    if (this.failure) return;
    this.failure = typeof why === 'string' ? new ShadowtapError('CAP_ERR_INTERNAL', why, EXIT_INTERNAL) : why;
    this.wakeUp();
  }

  private nextAnswer(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

/** Whether the order key at a[i] (frame number, phase, sub-order) comes before the one at b[j]. */
function keyBefore(a: Float64Array, i: number, b: Float64Array, j: number): boolean {
  for (let k = 0; k < 3; k++) {
    if (a[i + k]! !== b[j + k]!) return a[i + k]! < b[j + k]!;
  }
  return false;
}
