import type { Exchange } from '../exchange/record';
import type { Counters } from '../observe/counters';
import { sinkHealthy, type ExchangeSink } from '../sink/exchange-sink';

/** How often (ms of wall time, at most) the receive-queue fill is read. */
export const SHED_CHECK_MS = 50;
/** How long after the last shed exchange the agent still counts as shedding (readiness). */
const SHEDDING_HOLD_MS = 2000;

/**
 * Overload policy of the live modes: whole exchanges instead of random packets. The capture thread
 * parses every packet, but when the kernel receive queue fills because the stages after parsing
 * (redaction, output) cost more than the packets leave time for, the kernel would soon drop datagrams:
 * each lost packet damages an exchange (a gap, a cut body) and can shift the pairing of the ones after it.
 * Instead, from `startFill` of the queue, a growing share of the assembled exchanges is set aside before
 * redaction — counted (`exchanges_shed_overload`), never written, never logged — reaching all of them
 * halfway between `startFill` and a full queue (the rest of the buffer is headroom for the time between two
 * checks). Bursts that the buffer absorbs below `startFill` shed nothing; under sustained overload the queue
 * settles where the share shed balances the deficit. The share is spread evenly (an error-diffusion
 * accumulator), so the output under overload is a uniform sample of complete exchanges.
 *
 * Wraps the sink that redacts and writes; placed before it. `fill` is read at most every SHED_CHECK_MS.
 * startFill in (0, 1); 0 = off (a pass-through).
 */
export class OverloadShedder implements ExchangeSink {
  /** Share of exchanges shed now, 0..1. */
  private rate = 0;
  private acc = 0;
  private lastCheck = -Infinity;
  private lastShed = -Infinity;
  /** The last fill read (for logs and gauges), -1 before the first. */
  lastFill = -1;

  constructor(
    private readonly inner: ExchangeSink,
    private readonly fill: () => number | undefined,
    private readonly counters: Counters,
    private readonly startFill: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  write(ex: Exchange): boolean {
    if (this.startFill <= 0) return this.inner.write(ex);
    const t = this.now();
    if (t - this.lastCheck >= SHED_CHECK_MS) {
      this.lastCheck = t;
      this.update(this.fill());
    }
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

  private update(fill: number | undefined): void {
    if (fill === undefined) {
      this.rate = 0;
      return;
    }
    this.lastFill = fill;
    const low = this.startFill;
    const high = low + (1 - low) / 2;
    this.rate = fill <= low ? 0 : fill >= high ? 1 : (fill - low) / (high - low);
    if (this.rate === 0) this.acc = 0;
  }

  /** Shedding now or in the last SHEDDING_HOLD_MS (not ready: the agent is not keeping up). */
  shedding(): boolean {
    return this.rate > 0 || this.now() - this.lastShed < SHEDDING_HOLD_MS;
  }

  get healthy(): boolean {
    return sinkHealthy(this.inner);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
