import { Counters } from './observe/counters';
import { Decoder, type DecoderOptions } from './decode/decoder';
import { DecodedPacket } from './decode/decoded-packet';
import type { FlowTableOptions } from './flow/flow-table';
import { FlowStage } from './flow/flow-stage';
import { CaptureClock } from './flow/capture-clock';
import type { HttpOptions } from './http/http-stream';
import type { Frame } from './source/frame';
import type { Exchange } from './exchange/record';
import type { CloseReason } from './reassembly/stream-sink';

/**
 * Wires the stages: Frame → Decoder → FlowStage (flow table, reassembly, HTTP) → onExchange.
 * The only module that knows all stages. Synchronous: `onFrame` returns when the frame is fully
 * processed, so sources may reuse their buffers afterwards.
 *
 * Accounting: every frame lands in exactly one packet-outcome counter (`packetOutcomes`): the
 * decoder's drop reason, or the flow table's outcome for TCP segments.
 */
export interface PipelineOptions {
  source: string;
  decoder?: Partial<DecoderOptions>;
  flows?: Partial<FlowTableOptions>;
  http?: Partial<HttpOptions>;
  /** Share counters with stages built before the pipeline (redactor, sinks); a new set when absent. */
  counters?: Counters;
}

/** What a run's summary reads (the single-thread Pipeline and the sharded one both have it). */
export interface PipelineTotals {
  readonly counters: Counters;
  readonly packetOutcomes: Counters;
  readonly packets: number;
  readonly bytes: number;
}

/** What a stage in front of the pipeline (dedup) feeds: the single-thread Pipeline or the sharded one. */
export interface FrameConsumer {
  readonly counters: Counters;
  onFrame(frame: Frame): void;
  countWithheld(frame: Frame, outcome: string): void;
}

export class Pipeline implements PipelineTotals, FrameConsumer {
  /** Byte, flow, HTTP and exchange counters. */
  readonly counters: Counters;
  /** Exactly one increment per frame. */
  readonly packetOutcomes = new Counters();
  private readonly decoder: Decoder;
  private readonly flows: FlowStage;
  private readonly pkt = new DecodedPacket();
  private readonly clock = new CaptureClock();
  /** Frames seen, also the number of the latest one (connection ids are frame numbers). */
  packets = 0;
  bytes = 0;

  constructor(opts: PipelineOptions, onExchange: (ex: Exchange) => void) {
    this.counters = opts.counters ?? new Counters();
    this.decoder = new Decoder(opts.decoder ?? {}, this.counters);
    this.flows = new FlowStage({ source: opts.source, flows: opts.flows, http: opts.http }, this.counters, (ex) => onExchange(ex));
  }

  onFrame(frame: Frame): void {
    this.packets++;
    this.bytes += frame.capLen;
    const clock = this.clock;
    clock.observe(frame.tsMicros);
    const pkt = this.pkt;
    let outcome = this.decoder.decode(frame, pkt);
    if (outcome === '') outcome = this.flows.segment(pkt, clock.nowMicros, this.packets);
    this.packetOutcomes.inc(outcome);
    if (clock.sweepDue()) this.flows.expire(clock.nowMicros);
  }

  /**
   * Counts a frame that a stage in front of the pipeline (dedup) kept from entering it, so that
   * every frame still lands in exactly one packet-outcome counter.
   */
  countWithheld(frame: Frame, outcome: string): void {
    this.packets++;
    this.bytes += frame.capLen;
    this.packetOutcomes.inc(outcome);
  }

  /** Live sources call this on a wall-clock timer so idle flows expire while no packets arrive. */
  tick(nowMicros: number): void {
    this.clock.observe(nowMicros);
    this.clock.sweepNow();
    this.flows.expire(this.clock.nowMicros);
  }

  /** Closes every connection, flushing open exchanges as partial. */
  finish(reason: CloseReason): void {
    this.flows.finish(reason, this.clock.nowMicros);
  }

  get activeFlows(): number {
    return this.flows.activeFlows;
  }
}
