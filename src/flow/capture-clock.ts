/** How often (capture time) idle flows are expired. */
export const EXPIRE_EVERY_MICROS = 1_000_000;

/**
 * The pipeline's clock: capture time as the latest packet timestamp seen so far (never backwards), and the
 * cadence of idle-flow sweeps on it. The single-thread Pipeline and sharded `read` both keep time with
 * this, so their sweeps fall after the same packets (which their outputs being identical depends on).
 */
export class CaptureClock {
  nowMicros = 0;
  private lastSweep = 0;

  /** A packet's timestamp (µs). */
  observe(tsMicros: number): void {
    if (tsMicros > this.nowMicros) this.nowMicros = tsMicros;
  }

  /** True when a sweep is due at the current time (then counted as done). */
  sweepDue(): boolean {
    if (this.nowMicros - this.lastSweep < EXPIRE_EVERY_MICROS) return false;
    this.lastSweep = this.nowMicros;
    return true;
  }

  /** A sweep made now whatever the cadence (live sources on a wall-clock timer). */
  sweepNow(): void {
    this.lastSweep = this.nowMicros;
  }
}
