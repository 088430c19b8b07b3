/**
 * What the TCP reassembler delivers, per connection, to the protocol layer (HttpStream).
 *
 * Directions: 0 is the connection's initiator when its SYN was seen, else the sender of the first
 * packet seen; 1 is the other side. The protocol layer decides which side is the HTTP client.
 *
 * Ownership: `data` is BORROWED until the call returns (it may be a view into a capture buffer).
 * Calls for one direction arrive in stream order; data, gaps and end never overlap or repeat.
 */
export type Dir = 0 | 1;

export type CloseReason = 'fin' | 'rst' | 'idle_timeout' | 'evicted' | 'end_of_input' | 'shutdown';

export interface StreamSink {
  /** In-order bytes of direction `dir`, captured at `tsMicros`. */
  onData(dir: Dir, data: Buffer, tsMicros: number): void;
  /**
   * `n` bytes of direction `dir` are lost at this point of the stream and will never come.
   * `truncated` is true when the loss comes from packets cut by snaplen / the mirror's packet length.
   */
  onGap(dir: Dir, n: number, tsMicros: number, truncated: boolean): void;
  /**
   * The segment of direction `dir` being applied acknowledges the first `acked` bytes of the other
   * direction's stream, counted from where that stream starts (as its onData and onGap bytes are counted).
   * Called before the segment's own bytes are delivered; optional (the pairing of HTTP responses uses it).
   */
  onPeerAck?(dir: Dir, acked: number): void;
  /** Direction `dir` ended: its FIN was reached in order, or a RST arrived. */
  onEnd(dir: Dir, reason: 'fin' | 'rst', tsMicros: number): void;
  /** The connection is gone; flush everything. Called exactly once, last. */
  onClose(reason: CloseReason, tsMicros: number): void;
}
