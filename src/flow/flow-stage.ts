import type { DecodedPacket } from '../decode/decoded-packet';
import type { Exchange } from '../exchange/record';
import { createHttpStream, type HttpOptions } from '../http/http-stream';
import type { Counters } from '../observe/counters';
import type { CloseReason } from '../reassembly/stream-sink';
import type { ConnectionMeta } from './connection-meta';
import { FlowTable, type FlowTableOptions } from './flow-table';

/**
 * Everything after the decoder: TCP segments → FlowTable (+ reassembly) → HttpStream → onExchange, with
 * the exchange counters. No clock of its own: the caller passes capture time and decides when to expire,
 * so the same packets, times and expiry calls always give the same exchanges in the same order (which is
 * what lets `read` split connections between threads and still write what one thread writes).
 *
 * onExchange receives the connection the exchange belongs to as well (its id and its latest packet).
 */
export interface FlowStageOptions {
  source: string;
  flows?: Partial<FlowTableOptions> | undefined;
  http?: Partial<HttpOptions> | undefined;
}

export class FlowStage {
  private readonly table: FlowTable;

  constructor(opts: FlowStageOptions, private readonly counters: Counters, private readonly onExchange: (ex: Exchange, meta: ConnectionMeta) => void) {
    const http = opts.http ?? {};
    this.table = new FlowTable({ ...opts.flows, source: opts.source }, counters, (meta) =>
      createHttpStream(meta, (ex) => this.emit(ex, meta), counters, http),
    );
  }

  /** One decoded TCP segment; returns its packet-outcome counter name (see FlowTable.handle). */
  segment(pkt: DecodedPacket, nowMicros: number, frameNumber: number): string {
    return this.table.handle(pkt, nowMicros, frameNumber);
  }

  expire(nowMicros: number): void {
    this.table.expire(nowMicros);
  }

  /** Closes every connection, flushing open exchanges as partial. */
  finish(reason: CloseReason, nowMicros: number): void {
    this.table.closeAll(reason, nowMicros);
  }

  get activeFlows(): number {
    return this.table.size;
  }

  private emit(ex: Exchange, meta: ConnectionMeta): void {
    const c = this.counters;
    c.inc('exchanges_emitted');
    const k = ex.completeness;
    if (k.requestMissing) c.inc('exchanges_request_missing');
    if (k.responseMissing) c.inc('exchanges_response_missing');
    if (k.requestGapBytes || k.responseGapBytes || k.requestBodyPartial || k.responseBodyPartial) c.inc('exchanges_partial');
    if (k.parseError) c.inc('exchanges_parse_error');
    this.onExchange(ex, meta);
  }
}
