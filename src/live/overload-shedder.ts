import type { Exchange } from '../exchange/record';
import type { Counters } from '../observe/counters';
import { sinkHealthy, type ExchangeSink } from '../sink/exchange-sink';

/** How often (ms of wall time, at most) the receive-queue fill is read. */
export const SHED_CHECK_MS = 50;
/** How long after the last shed exchange the agent still counts as shedding (readiness). */
const SHEDDING_HOLD_MS = 2000;
/** The fill is judged where it will be this far ahead (seconds) at its current growth. */
export const SHED_HORIZON_S = 0.5;

/**
 * Overload policy of `mirror` (its UDP sockets show their queue fill; libpcap's ring in `sniff` does not):
 * whole exchanges instead of random packets. The capture thread
 * parses every packet, but when the kernel receive queue fills because the stages after parsing
 * (redaction, output) cost more than the packets leave time for, the kernel would soon drop datagrams:
 * each lost packet damages an exchange (a gap, a cut body) and can shift the pairing of the ones after it.
 * Instead, once the queue is expected to pass `startFill` of its buffer, a growing share of the assembled
 * exchanges is set aside before redaction — counted (`exchanges_shed_overload`), never written, never
 * logged — reaching all of them halfway between `startFill` and a full queue. "Expected": the fill is taken
 * SHED_HORIZON_S ahead at its current growth (smoothed over the checks; a draining queue counts as steady),
 * so a queue filling fast (a cold agent at a high rate) is met early, and one that holds still below
 * `startFill` (an agent keeping up with a backlog it took on) sheds nothing. Under sustained overload the
 * queue settles where the share shed balances the deficit. The share is spread evenly (an error-diffusion
 * accumulator), so the output under overload is a uniform sample of complete exchanges. Not whole connections:
 * measured, sampling by connection shed 36-42% at rates where this sheds 9-10% (bench traffic: 33 keep-alive
 * connections of ~2,000 exchanges each, as behind a load balancer's pooled connections), the share moving in
 * steps of a connection.
 *
 * Wraps the sink that redacts and writes; placed before it. `fill` is read at most every SHED_CHECK_MS.
 * startFill in (0, 1); 0 = off (a pass-through).
 */
/** An overload episode begins (the first check with a share to shed) or ends (2 s without shedding, or stop()). */
export type ShedEvent =
  | { kind: 'start'; fillPercent: number }
  | { kind: 'end'; exchangesShed: number; seconds: number };

export class OverloadShedder implements ExchangeSink {
  /** Share of exchanges shed now, 0..1. */
  private rate = 0;
  private acc = 0;
  private lastCheck = -Infinity;
  private lastShed = -Infinity;
  /** The last fill read and when (ms); -1 before the first. */
  private lastFill = -1;
  private lastFillAt = -1;
  /** Smoothed growth of the fill, per second. */
  private growth = 0;
  /** After stop(): a pass-through (the exchanges flushed at shutdown are all written). */
  private stopped = false;
  /** The open overload episode (for `report`): when it began and the shed counter then; undefined = none. */
  private episode: { at: number; shedBefore: number } | undefined;

  /** `report` hears each episode's start and end (one log line each, not one per exchange). */
  constructor(
    private readonly inner: ExchangeSink,
    private readonly fill: () => number | undefined,
    private readonly counters: Counters,
    private readonly startFill: number,
    private readonly now: () => number = () => performance.now(),
    private readonly report: (event: ShedEvent) => void = () => undefined,
  ) {}

  write(ex: Exchange): boolean {
    if (this.startFill <= 0 || this.stopped) return this.inner.write(ex);
    const t = this.now();
    this.check(t);
    if (this.rate > 0) {
      this.acc += this.rate;
      if (this.acc >= 1) {
        this.acc -= 1;
        this.lastShed = t;
        this.counters.inc('exchanges_shed_overload');
        return true;
      }
    }
    return this.inner.write(ex);
  }

  /** Reads the fill when the last read is SHED_CHECK_MS old; opens and closes overload episodes. */
  private check(t: number): void {
    if (t - this.lastCheck < SHED_CHECK_MS) return;
    this.lastCheck = t;
    this.update(this.fill(), t);
    if (this.rate > 0 && this.episode === undefined) {
      this.episode = { at: t, shedBefore: this.counters.get('exchanges_shed_overload') };
      this.report({ kind: 'start', fillPercent: Math.round(this.lastFill * 100) });
    } else if (this.rate === 0 && this.episode !== undefined && t - Math.max(this.lastShed, this.episode.at) >= SHEDDING_HOLD_MS) {
      this.endEpisode();
    }
  }

  private endEpisode(): void {
    const e = this.episode!;
    this.episode = undefined;
    this.report({
      kind: 'end',
      exchangesShed: this.counters.get('exchanges_shed_overload') - e.shedBefore,
      seconds: Math.round(Math.max(0, this.lastShed - e.at)) / 1000,
    });
  }

  private update(fill: number | undefined, t: number): void {
    if (fill === undefined) {
      this.rate = 0;
      this.lastFillAt = -1;
      return;
    }
    if (this.lastFillAt >= 0 && t > this.lastFillAt) {
      const g = (fill - this.lastFill) / ((t - this.lastFillAt) / 1000);
      this.growth = 0.5 * this.growth + 0.5 * g;
    }
    this.lastFill = fill;
    this.lastFillAt = t;
    const expected = fill + Math.max(0, this.growth) * SHED_HORIZON_S;
    const low = this.startFill;
    const high = low + (1 - low) / 2;
    this.rate = expected <= low ? 0 : expected >= high ? 1 : (expected - low) / (high - low);
    if (this.rate === 0) this.acc = 0;
  }

  /**
   * Shedding now or in the last SHEDDING_HOLD_MS (not ready: the agent is not keeping up). Reads the fill
   * itself when no exchange did lately, so a rate left from the last write cannot hold readiness down.
   */
  shedding(): boolean {
    if (this.startFill <= 0 || this.stopped) return false;
    const t = this.now();
    this.check(t);
    return this.rate > 0 || t - this.lastShed < SHEDDING_HOLD_MS;
  }

  /** No more shedding: called when the source stopped, before open exchanges are flushed. */
  stop(): void {
    this.stopped = true;
    if (this.episode !== undefined) this.endEpisode();
  }

  get healthy(): boolean {
    return sinkHealthy(this.inner);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
