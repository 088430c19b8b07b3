import { TCP_ACK, TCP_RST, TCP_SYN, type DecodedPacket } from '../decode/decoded-packet';
import type { Counters } from '../observe/counters';
import type { ReassemblyBudget } from '../reassembly/half-stream';
import type { CloseReason, Dir, StreamSink } from '../reassembly/stream-sink';
import { ipToString } from '../wire/ip-address';
import type { ConnectionMeta } from './connection-meta';
import { ClosedTuple, Connection, SEG_DONE_FIN, SEG_DONE_RST, SEG_REPLACE } from './connection';
import { FlowList, flowHash, type FlowKey } from './flow-key';

/**
 * The TCP flow table: finds the connection of each decoded TCP segment, creates connections,
 * drives their reassembly and closes them (FIN, RST, idle timeout, eviction, end of input).
 *
 * Key: (VNI, the two (address, port) endpoints), symmetric; see flow-key.ts. Lookup hashes the
 * packet's bytes into a Map<number, chain head>; nothing is allocated per packet on the in-order
 * path (no key strings).
 *
 * Time is capture time (packet timestamps), so reading a file is deterministic.
 * Idle expiry: open connections sit in an intrusive LRU list (moved to the tail on every packet,
 * O(1) pointer updates); `expire()` pops from the head while the head is idle, so it costs O(1)
 * when nothing expires. Closed-by-FIN/RST tuples linger in a second list ordered by close time.
 *
 * Bounds: open connections + lingering tuples <= maxFlows (the oldest lingering tuple is dropped
 * first — counter flows_linger_dropped — else the least recently used connection is evicted with
 * onClose('evicted'), counter flows_evicted); out-of-order bytes per direction, segments per
 * direction, and bytes across all connections (see HalfStream for which direction pays).
 *
 * Ownership: `pkt.buf` is BORROWED for the duration of `handle`; sinks get views of it for in-order
 * data and must copy what they keep.
 */
export interface FlowTableOptions {
  /** Copied into ConnectionMeta.source. */
  source: string;
  maxFlows: number;
  idleTimeoutMicros: number;
  closedLingerMicros: number;
  maxBufferedBytesPerDirection: number;
  maxBufferedBytesTotal: number;
  maxSegmentsPerDirection: number;
}

export type SinkFactory = (meta: ConnectionMeta) => StreamSink;

export const FLOW_TABLE_DEFAULTS: Readonly<Omit<FlowTableOptions, 'source'>> = Object.freeze({
  maxFlows: 262144,
  idleTimeoutMicros: 300_000_000,
  closedLingerMicros: 5_000_000,
  maxBufferedBytesPerDirection: 4 * 1024 * 1024,
  maxBufferedBytesTotal: 256 * 1024 * 1024,
  maxSegmentsPerDirection: 4096,
});

/** Outcomes of `handle`, each a packet counter name. */
export const TCP_TO_FLOW = 'tcp_to_flow';
export const TCP_NO_FLOW = 'tcp_no_flow';

const CLOSED_COUNTER: Record<CloseReason, string> = {
  fin: 'flows_closed_fin',
  rst: 'flows_closed_rst',
  idle_timeout: 'flows_closed_idle_timeout',
  evicted: 'flows_closed_evicted',
  end_of_input: 'flows_closed_end_of_input',
  shutdown: 'flows_closed_shutdown',
};

export class FlowTable {
  private readonly opts: FlowTableOptions;
  private readonly buckets = new Map<number, FlowKey>();
  private readonly open = new FlowList<Connection>();
  private readonly lingering = new FlowList<ClosedTuple>();
  private readonly budget: ReassemblyBudget;
  private readonly limits: { maxBufferedBytes: number; maxSegments: number };

  constructor(
    opts: Partial<FlowTableOptions> & { source: string },
    private readonly counters: Counters,
    private readonly sinkFactory: SinkFactory,
  ) {
    const o: FlowTableOptions = { ...FLOW_TABLE_DEFAULTS, ...opts };
    for (const k of Object.keys(FLOW_TABLE_DEFAULTS) as (keyof typeof FLOW_TABLE_DEFAULTS)[]) {
      const v = o[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (k === 'maxFlows' && v < 1)) {
        throw new RangeError(`FlowTable option ${k} must be a ${k === 'maxFlows' ? 'positive' : 'non-negative'} number, got ${String(v)}`);
      }
    }
    this.opts = o;
    this.budget = { bufferedBytes: 0, maxBufferedBytesTotal: o.maxBufferedBytesTotal };
    this.limits = { maxBufferedBytes: o.maxBufferedBytesPerDirection, maxSegments: o.maxSegmentsPerDirection };
  }

  /** Open connections. */
  get size(): number {
    return this.open.size;
  }

  /** Closed tuples still remembered. */
  get lingeringCount(): number {
    return this.lingering.size;
  }

  /** Out-of-order bytes held across all connections. */
  get bufferedBytes(): number {
    return this.budget.bufferedBytes;
  }

  /**
   * Handles one decoded TCP segment and returns the counter under which the caller counts it
   * exactly once: 'tcp_to_flow' (taken by a connection, retransmissions included) or 'tcp_no_flow'
   * (no payload and no SYN for an unknown tuple, a RST for an unknown tuple, or anything but a new
   * SYN for a lingering closed tuple; creates nothing).
   *
   * `frameNumber` is the 1-based number of the packet in its source (a file's record number, as
   * Wireshark numbers frames): a new connection's id is the number of the packet that opened it, and
   * every connection remembers the number of its latest packet (ConnectionMeta.lastFrame).
   */
  handle(pkt: DecodedPacket, tsMicros: number, frameNumber: number): string {
    if (pkt.ipVersion !== 4 && pkt.ipVersion !== 6) return TCP_NO_FLOW;
    const hash = flowHash(pkt);
    let dir = -1;
    let entry = this.buckets.get(hash);
    while (entry !== undefined && entry !== null) {
      dir = entry.directionOf(pkt);
      if (dir >= 0) break;
      entry = entry.hashNext ?? undefined;
    }
    const flags = pkt.tcpFlags;
    const syn = (flags & TCP_SYN) !== 0;

    if (entry instanceof ClosedTuple) {
      const oldIsn = dir === 0 ? entry.isn0 : entry.isn1;
      if (!syn || (flags & TCP_RST) !== 0 || oldIsn === pkt.seq >>> 0) {
        if (pkt.payloadLen + pkt.payloadMissing > 0) this.counters.inc('tcp_after_close_bytes', pkt.payloadLen + pkt.payloadMissing);
        return TCP_NO_FLOW;
      }
      this.dropLingering(entry);
      entry = undefined;
    }

    // Idle for longer than the timeout: closed now, as a sweep between the two packets would have done, so that
    // whether it expires does not depend on other connections' packets giving the sweeps their chance.
    if (entry instanceof Connection && tsMicros - entry.lastSeenMicros > this.opts.idleTimeoutMicros) {
      this.closeConnection(entry, 'idle_timeout', tsMicros);
      entry = undefined;
    }

    let conn: Connection;
    let d: Dir;
    if (entry instanceof Connection) {
      conn = entry;
      d = dir as Dir;
      if (tsMicros > conn.lastSeenMicros) conn.lastSeenMicros = tsMicros;
      conn.meta.lastFrame = frameNumber;
      this.open.moveToTail(conn);
    } else {
      if ((!syn && pkt.payloadLen + pkt.payloadMissing === 0) || (flags & TCP_RST) !== 0) return TCP_NO_FLOW;
      conn = this.create(pkt, hash, tsMicros, frameNumber);
      d = conn.directionOf(pkt) as Dir;
    }

    let r = conn.segment(pkt, d, tsMicros);
    if (r === SEG_REPLACE) {
      this.counters.inc('flows_replaced_by_syn');
      this.closeConnection(conn, 'evicted', tsMicros);
      conn = this.create(pkt, hash, tsMicros, frameNumber);
      r = conn.segment(pkt, conn.directionOf(pkt) as Dir, tsMicros);
    }
    this.counters.inc('tcp_payload_bytes', pkt.payloadLen);
    if (r === SEG_DONE_FIN) this.closeConnection(conn, 'fin', tsMicros);
    else if (r === SEG_DONE_RST) this.closeConnection(conn, 'rst', tsMicros);
    return TCP_TO_FLOW;
  }

  /** Closes connections idle for longer than idleTimeoutMicros at capture time `nowMicros` and
   *  forgets lingering tuples older than closedLingerMicros. O(1) when nothing expires. */
  expire(nowMicros: number): void {
    const idle = this.opts.idleTimeoutMicros;
    let c = this.open.head;
    while (c !== null && nowMicros - c.lastSeenMicros > idle) {
      this.closeConnection(c, 'idle_timeout', nowMicros);
      c = this.open.head;
    }
    const linger = this.opts.closedLingerMicros;
    let t = this.lingering.head;
    while (t !== null && nowMicros - t.closedAtMicros > linger) {
      this.dropLingering(t);
      t = this.lingering.head;
    }
  }

  /** Closes every connection with onClose(reason) and forgets lingering tuples. */
  closeAll(reason: CloseReason, nowMicros: number): void {
    let c = this.open.head;
    while (c !== null) {
      this.closeConnection(c, reason, nowMicros);
      c = this.open.head;
    }
    let t = this.lingering.head;
    while (t !== null) {
      this.dropLingering(t);
      t = this.lingering.head;
    }
  }

  // ---- internals ----

  private create(pkt: DecodedPacket, hash: number, ts: number, frameNumber: number): Connection {
    if (this.open.size + this.lingering.size >= this.opts.maxFlows) this.makeRoom(ts);
    const flags = pkt.tcpFlags;
    const syn = (flags & TCP_SYN) !== 0;
    const synAck = syn && (flags & TCP_ACK) !== 0;
    // Direction 0 is the client: the SYN's sender, the SYN-ACK's receiver, else the first sender.
    const flip = synAck;
    const srcEnd = { ip: ipToString(pkt.buf, pkt.srcAddrOff, pkt.ipVersion), port: pkt.srcPort };
    const dstEnd = { ip: ipToString(pkt.buf, pkt.dstAddrOff, pkt.ipVersion), port: pkt.dstPort };
    const meta: ConnectionMeta = {
      id: frameNumber,
      lastFrame: frameNumber,
      ends: flip ? [dstEnd, srcEnd] : [srcEnd, dstEnd],
      initiatorKnown: syn,
      midStream: !syn,
      vni: pkt.vni,
      tunnel: pkt.tunnel,
      tunnelSource: pkt.tunnelSource,
      source: this.opts.source,
    };
    const sink = this.sinkFactory(meta);
    const conn = new Connection(meta, sink, this.counters, this.limits, this.budget);
    conn.setFromPacket(pkt, hash, flip);
    conn.lastSeenMicros = ts;
    this.linkHash(conn);
    this.open.push(conn);
    this.counters.inc('flows_created');
    return conn;
  }

  /** Frees one slot: the oldest lingering tuple, else the least recently used connection. */
  private makeRoom(ts: number): void {
    const t = this.lingering.head;
    if (t !== null) {
      this.counters.inc('flows_linger_dropped');
      this.dropLingering(t);
      return;
    }
    const c = this.open.head;
    if (c !== null) {
      this.counters.inc('flows_evicted');
      this.closeConnection(c, 'evicted', ts);
    }
  }

  private closeConnection(conn: Connection, reason: CloseReason, ts: number): void {
    this.open.remove(conn);
    this.unlinkHash(conn);
    this.counters.inc(CLOSED_COUNTER[reason]);
    if (reason === 'fin' || reason === 'rst') {
      const t = new ClosedTuple();
      t.copyKeyFrom(conn);
      t.closedAtMicros = ts;
      t.isn0 = conn.halves[0].synSeen ? conn.halves[0].isn : -1;
      t.isn1 = conn.halves[1].synSeen ? conn.halves[1].isn : -1;
      this.linkHash(t);
      this.lingering.push(t);
    }
    conn.close(reason, ts);
  }

  private dropLingering(t: ClosedTuple): void {
    this.lingering.remove(t);
    this.unlinkHash(t);
  }

  private linkHash(k: FlowKey): void {
    const head = this.buckets.get(k.hash);
    k.hashNext = head ?? null;
    this.buckets.set(k.hash, k);
  }

  private unlinkHash(k: FlowKey): void {
    let e = this.buckets.get(k.hash);
    if (e === k) {
      if (k.hashNext === null) this.buckets.delete(k.hash);
      else this.buckets.set(k.hash, k.hashNext);
      k.hashNext = null;
      return;
    }
    while (e !== undefined && e.hashNext !== null) {
      if (e.hashNext === k) {
        e.hashNext = k.hashNext;
        k.hashNext = null;
        return;
      }
      e = e.hashNext;
    }
  }
}
