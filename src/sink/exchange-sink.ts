import type { Exchange } from '../exchange/record';

/**
 * Where redacted exchanges go. `write` never blocks the capture loop: it either buffers (bounded by
 * the implementation) or counts a drop. The record passed in is owned by the caller; a sink that
 * keeps it must copy what it needs before returning.
 */
export interface ExchangeSink {
  /** Returns false when the exchange was queued behind backpressure or dropped (see the sink's counters). */
  write(ex: Exchange): boolean;
  /** Flushes and closes; resolves when every buffered byte is written. */
  close(): Promise<void>;
  /**
   * Health (/readyz/sink and the sink_healthy gauge in the live modes): false while the sink cannot keep up or cannot deliver (e.g. the
   * replay service is unreachable). Undefined = no opinion, counts as healthy. A sink that wraps others
   * is healthy only while every inner sink is (see sinkHealthy).
   */
  readonly healthy?: boolean | undefined;
}

/** A sink's health with "no opinion" (undefined) read as healthy. */
export function sinkHealthy(sink: Pick<ExchangeSink, 'healthy'>): boolean {
  return sink.healthy !== false;
}
