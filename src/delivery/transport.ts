import type { SpoolRef } from './spool';

/**
 * A sealed batch on its way to the replay service. `frame` is the length-delimited Frame{batch}
 * (owned by the batch; transports only read it). `spoolRef` is set when the batch lives in the
 * spool, so its acknowledgement can retire the record on disk.
 */
export interface OutBatch {
  stream: string;
  seq: number;
  frame: Buffer;
  count: number;
  spoolRef?: SpoolRef;
}

export function batchKey(stream: string, seq: number): string {
  return `${stream}\u0000${seq}`;
}

/** What a transport tells the delivery sink. */
export interface TransportEvents {
  /** Connected and accepted: batches may be sent. */
  onReady(): void;
  /** The batch is durably stored by the service (or was already: duplicate). */
  onAck(stream: string, seq: number, duplicate: boolean): void;
  /** The connection is gone: every batch sent and not acknowledged must be sent again. */
  onDown(): void;
  /** send() returned false earlier; the transport takes more now. */
  onDrain(): void;
  /** The service refused this agent (bad token, unsupported version): no point waiting at close. */
  onRejected(reason: string): void;
}

/**
 * The network side of the delivery sink (TCP/TLS to `shadowtap collect`, or NATS JetStream).
 * It owns connecting, reconnecting with backoff, and heartbeats; the sink owns batching, the
 * window of unacknowledged batches, resends and the spool.
 */
export interface Transport {
  /** For logs: the URL without credentials. */
  readonly name: string;
  start(events: TransportEvents): void;
  /** Sends one batch (taken even when it returns false); false = backpressured until onDrain. */
  send(batch: OutBatch): boolean;
  /** Stops reconnecting and closes the connection. */
  close(): Promise<void>;
}

/**
 * Capped exponential backoff with jitter ("equal jitter"): half of min(max, base * 2^attempt)
 * plus a random part of the other half, so a fleet of agents does not reconnect in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, rand: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (rand() * cap) / 2);
}
