import type { Endpoint } from '../exchange/record';

/**
 * What the flow table knows about a connection when it creates its StreamSink.
 * Immutable after creation except `midStream`, which the flow table sets before any data is delivered,
 * and `lastFrame`, which it sets on every packet.
 */
export interface ConnectionMeta {
  /** The number of the packet that opened the connection (1-based, counted by the pipeline over every
   *  packet of its source): unique within one run, and a file's frame number as Wireshark shows it. */
  id: number;
  /** The number of the connection's latest packet (orders connections closed by one expiry sweep). */
  lastFrame: number;
  /** ends[0] is the sender of direction 0, ends[1] the sender of direction 1. */
  ends: [Endpoint, Endpoint];
  /** True when direction 0's SYN (without ACK) was seen, so direction 0 is the client. */
  initiatorKnown: boolean;
  /** True when the connection was joined without its SYN. */
  midStream: boolean;
  /** Innermost tunnel VNI, -1 when not tunnelled. */
  vni: number;
  tunnel: string;
  tunnelSource: string;
  /** "file:<name>", "mirror:<addr>", "sniff:<iface>". */
  source: string;
}
