/**
 * Named counters ("weirds" in Zeek's words): every dropped packet and every lost byte is counted
 * under a snake_case reason. Cheap enough for the per-packet path (one Map lookup per increment).
 */
export class Counters {
  private readonly values = new Map<string, number>();

  inc(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Set a gauge-like value (e.g. kernel drop counts read from the OS). */
  set(name: string, n: number): void {
    this.values.set(name, n);
  }

  /** Every counter as (name, value, name, value, …), then all cleared: increments to hand on elsewhere. */
  drain(): Array<string | number> {
    const out: Array<string | number> = [];
    for (const [k, v] of this.values) out.push(k, v);
    this.values.clear();
    return out;
  }

  /** Adds increments another set's drain() gave (a worker thread's, say). */
  addDrained(flat: ReadonlyArray<string | number>): void {
    for (let i = 0; i < flat.length; i += 2) this.inc(flat[i] as string, flat[i + 1] as number);
  }

  /** A sorted plain-object copy, for the summary and /metrics. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.values.keys()].sort()) out[k] = this.values.get(k) ?? 0;
    return out;
  }
}
