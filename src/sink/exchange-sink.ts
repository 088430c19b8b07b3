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
}
