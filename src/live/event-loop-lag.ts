/**
 * Event-loop lag: how late a 100 ms timer fires. The live modes process packets synchronously on
 * the event loop, so a lagging loop means datagrams/packets pile up in kernel buffers (and are
 * dropped once those fill): the agent is not keeping up. `lagMs` is the worst lag seen in the
 * current or the previous one-second window, so a single long stall stays visible for ~1-2 s.
 * The timer is unref'd: it never keeps the process alive.
 */
export class EventLoopLag {
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;
  private windowStart = 0;
  private currentMax = 0;
  private previousMax = 0;

  constructor(private readonly periodMs = 100) {}

  start(): void {
    if (this.timer) return;
    const now = Date.now();
    this.expected = now + this.periodMs;
    this.windowStart = now;
    this.timer = setInterval(() => this.sample(Date.now()), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Exposed for tests: one timer firing at `now`. */
  sample(now: number): void {
    const lag = Math.max(0, now - this.expected);
    this.expected = now + this.periodMs;
    if (now - this.windowStart >= 1000) {
      this.previousMax = this.currentMax;
      this.currentMax = 0;
      this.windowStart = now;
    }
    if (lag > this.currentMax) this.currentMax = lag;
  }

  /** Worst lag (ms) in the current and previous one-second windows, including a stall in progress. */
  get lagMs(): number {
    const pending = this.timer ? Math.max(0, Date.now() - this.expected) : 0;
    return Math.max(this.currentMax, this.previousMax, pending);
  }
}
