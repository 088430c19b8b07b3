import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type DecodedPacket } from '../decode/decoded-packet';
import type { Counters } from '../observe/counters';
import { HalfStream, type HalfStreamLimits, type ReassemblyBudget } from '../reassembly/half-stream';
import { seqAdd, seqDiff } from '../reassembly/seq';
import type { CloseReason, Dir, StreamSink } from '../reassembly/stream-sink';
import type { ConnectionMeta } from './connection-meta';
import { FlowKey } from './flow-key';

/** Results of Connection.segment. */
export const SEG_OK = 0;
/** Both directions reached their FIN: close with 'fin'. */
export const SEG_DONE_FIN = 1;
/** A RST ended both directions: close with 'rst'. */
export const SEG_DONE_RST = 2;
/** A SYN with a new ISN opens a new connection on this tuple: nothing of the packet was taken. */
export const SEG_REPLACE = 3;

/**
 * One open TCP connection: its key, its StreamSink and one HalfStream per direction.
 * The FlowTable owns it (lookup, LRU order, closing); this class owns the per-packet TCP logic.
 */
export class Connection extends FlowKey {
  lastSeenMicros = 0;
  readonly halves: [HalfStream, HalfStream];

  constructor(
    readonly meta: ConnectionMeta,
    readonly sink: StreamSink,
    private readonly counters: Counters,
    limits: HalfStreamLimits,
    budget: ReassemblyBudget,
  ) {
    super();
    this.halves = [
      new HalfStream(0, sink, counters, limits, budget),
      new HalfStream(1, sink, counters, limits, budget),
    ];
  }

  /**
   * Applies one segment sent by direction `dir`. `pkt.buf` is BORROWED: in-order payload is handed
   * to the sink as a view, out-of-order payload is copied by the HalfStream.
   */
  segment(pkt: DecodedPacket, dir: Dir, ts: number): number {
    const h = this.halves[dir];
    const p = this.halves[dir === 0 ? 1 : 0];
    const flags = pkt.tcpFlags;
    const seq = pkt.seq >>> 0;
    const ack = pkt.ack >>> 0;

    if ((flags & TCP_RST) !== 0) {
      h.flush(ts);
      p.flush(ts);
      this.halves[0].endRst(ts);
      this.halves[1].endRst(ts);
      return SEG_DONE_RST;
    }

    const syn = (flags & TCP_SYN) !== 0;
    const hasAck = (flags & TCP_ACK) !== 0;
    if (syn) {
      const next = seqAdd(seq, 1);
      if (!hasAck) {
        if (h.synSeen) {
          if (seq !== h.isn) return SEG_REPLACE;
          this.counters.inc('tcp_syn_retransmissions');
        } else if (h.started) {
          if (next !== h.startSeq) return SEG_REPLACE;
          h.markSyn(seq); // the SYN arrived after its SYN-ACK (mirror reordering)
        } else if (p.started) {
          return SEG_REPLACE; // the peer was talking mid-stream; this SYN opens a new connection
        } else {
          h.markSyn(seq);
          h.startAt(next);
        }
      } else {
        if (h.synSeen) {
          if (seq !== h.isn) {
            this.counters.inc('tcp_unexpected_syn');
            return SEG_OK;
          }
          this.counters.inc('tcp_syn_retransmissions');
        } else if (!h.started) {
          h.markSyn(seq);
          h.startAt(next);
        } else if (next === h.startSeq) {
          h.markSyn(seq);
        } else {
          this.counters.inc('tcp_unexpected_syn');
          return SEG_OK;
        }
        if (!p.started) p.startAt(ack);
      }
    }

    const dataSeq = syn ? seqAdd(seq, 1) : seq;
    const len = pkt.payloadLen;
    const missing = pkt.payloadMissing;
    // The ACK first: it answers what the peer sent earlier, so a hole it shows lost in the peer's stream (and
    // the bytes held behind it) reaches the HTTP layer before this packet's own data. A response carrying the
    // ACK of a request whose head was lost must find that request already cut and queued.
    const peerWasStarted = p.started;
    if (hasAck) {
      if (p.started) p.ack(ack, ts);
      else if (h.synSeen && !syn) p.startAt(ack); // handshake ACK: the peer's SYN-ACK was not captured
    }
    if (len + missing > 0) {
      if (hasAck && peerWasStarted && this.sink.onPeerAck !== undefined) {
        const acked = seqDiff(ack, p.startSeq);
        if (acked >= 0) this.sink.onPeerAck(dir, acked);
      }
      h.segment(dataSeq, pkt.buf, pkt.payloadOff, len, missing, ts);
    }

    if ((flags & TCP_FIN) !== 0) h.fin(seqAdd(dataSeq, len + missing), ts);
    // Both FINs seen: the conversation is over, so holes before either FIN will not be filled.
    if (h.finKnown && p.finKnown && !(h.ended && p.ended)) {
      h.flush(ts);
      p.flush(ts);
    }
    return h.ended && p.ended ? SEG_DONE_FIN : SEG_OK;
  }

  /** Flushes both directions (every byte delivered or reported as a gap), then onClose. */
  close(reason: CloseReason, ts: number): void {
    this.halves[0].flush(ts);
    this.halves[1].flush(ts);
    this.halves[0].release();
    this.halves[1].release();
    this.sink.onClose(reason, ts);
  }

  /** Out-of-order bytes held by both directions. */
  get bufferedBytes(): number {
    return this.halves[0].bufferedBytes + this.halves[1].bufferedBytes;
  }
}

/**
 * A tuple whose connection closed by FIN or RST, remembered for `closedLingerMicros` so late
 * ACK/FIN retransmissions create no new flow. Holds no sink and no buffers.
 */
export class ClosedTuple extends FlowKey {
  closedAtMicros = 0;
  /** ISN of each direction's SYN, -1 when unknown: a SYN with the same ISN is a late retransmission. */
  isn0 = -1;
  isn1 = -1;
}
