import type { Frame } from '../source/frame';
import type { Counters } from '../observe/counters';

/**
 * A packet source of the long-running modes (mirror, sniff). Frames are delivered synchronously to
 * `onFrame`; `frame.buf` is BORROWED until onFrame returns.
 */
export interface LiveSource {
  /** "mirror:0.0.0.0:4789", "sniff:eth0", ... (goes into connection.source). */
  readonly name: string;
  /** Binds / opens capture; resolves once packets can arrive. Rejects with a ShadowtapError naming the fix. */
  start(onFrame: (frame: Frame) => void): Promise<void>;
  /** Stops receiving; resolves when no more frames will be delivered. */
  stop(): Promise<void>;
  /** True while the source is bound / open (drives /readyz and the LB health check). */
  ready(): boolean;
  /** Copies source-side statistics (kernel socket drops, libpcap drops) into counters; called every second. */
  pollStats?(counters: Counters): void;
  /**
   * Optional: true while the source sees itself falling behind (e.g. the kernel dropped datagrams on
   * its sockets in the last seconds). Counts as load shedding for /readyz.
   */
  shedding?(): boolean;
  /**
   * Optional: how full the fullest kernel receive queue is, 0..1 (the kernel drops near 1); undefined when
   * unknown. Polled by the OverloadShedder at most every SHED_CHECK_MS, so it may cost a small read.
   */
  queueFill?(): number | undefined;
  /**
   * Optional gauges for /metrics, as of the last pollStats: metric name (without the shadowtap_
   * prefix, optionally with a Prometheus label set, e.g. `udp_rcvbuf_bytes{listener="vxlan"}`) → value.
   */
  gauges?(): Record<string, number>;
}
