import { Counters } from './observe/counters';
import { Decoder, type DecoderOptions } from './decode/decoder';
import { DecodedPacket } from './decode/decoded-packet';
import { FlowTable, type FlowTableOptions } from './flow/flow-table';
import { createHttpStream, type HttpOptions } from './http/http-stream';
import type { Frame } from './source/frame';
import type { Exchange } from './exchange/record';
import type { CloseReason } from './reassembly/stream-sink';

/**
 * Wires the stages: Frame → Decoder → FlowTable (+ reassembly) → HttpStream → onExchange.
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

/** How often (capture time) idle flows are expired. */
const EXPIRE_EVERY_MICROS = 1_000_000;

export class Pipeline {
  /** Byte, flow, HTTP and exchange counters. */
  readonly counters: Counters;
  /** Exactly one increment per frame. */
  readonly packetOutcomes = new Counters();
  private readonly decoder: Decoder;
  private readonly flows: FlowTable;
  private readonly pkt = new DecodedPacket();
  private nowMicros = 0;
  private lastExpire = 0;
  packets = 0;
  bytes = 0;

  constructor(opts: PipelineOptions, private readonly onExchange: (ex: Exchange) => void) {
    this.counters = opts.counters ?? new Counters();
    this.decoder = new Decoder(opts.decoder ?? {}, this.counters);
    const http = opts.http ?? {};
    const emit = (ex: Exchange): void => this.emit(ex);
    this.flows = new FlowTable({ ...opts.flows, source: opts.source }, this.counters, (meta) =>
      createHttpStream(meta, emit, this.counters, http),
    );
  }

  onFrame(frame: Frame): void {
    this.packets++;
    this.bytes += frame.capLen;
    if (frame.tsMicros > this.nowMicros) this.nowMicros = frame.tsMicros;
    const pkt = this.pkt;
    let outcome = this.decoder.decode(frame, pkt);
    if (outcome === '') outcome = this.flows.handle(pkt, this.nowMicros);
    this.packetOutcomes.inc(outcome);
    if (this.nowMicros - this.lastExpire >= EXPIRE_EVERY_MICROS) {
      this.lastExpire = this.nowMicros;
      this.flows.expire(this.nowMicros);
    }
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
    if (nowMicros > this.nowMicros) this.nowMicros = nowMicros;
    this.lastExpire = this.nowMicros;
    this.flows.expire(this.nowMicros);
  }

  /** Closes every connection, flushing open exchanges as partial. */
  finish(reason: CloseReason): void {
    this.flows.closeAll(reason, this.nowMicros);
  }

  get activeFlows(): number {
    return this.flows.size;
  }

  private emit(ex: Exchange): void {
    this.counters.inc('exchanges_emitted');
    const c = ex.completeness;
    if (c.requestMissing) this.counters.inc('exchanges_request_missing');
    if (c.responseMissing) this.counters.inc('exchanges_response_missing');
    if (c.requestGapBytes || c.responseGapBytes || c.requestBodyPartial || c.responseBodyPartial) this.counters.inc('exchanges_partial');
    if (c.parseError) this.counters.inc('exchanges_parse_error');
    this.onExchange(ex);
  }
}
