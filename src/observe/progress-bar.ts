/** A one-line progress bar on a terminal stream, redrawn at most every 200 ms. */
export class ProgressBar {
  private last = 0;
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WriteStream, private readonly total: number | undefined) {}

  update(done: number, total: number | undefined): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const t = total ?? this.total;
    const rate = done / Math.max(0.001, (now - this.started) / 1000) / 1e6;
    let line: string;
    if (t) {
      const frac = Math.min(1, done / t);
      const width = 30;
      const fill = Math.round(frac * width);
      line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${(done / 1e6).toFixed(0)}/${(t / 1e6).toFixed(0)} MB ${rate.toFixed(1)} MB/s`;
    } else {
      line = `${(done / 1e6).toFixed(0)} MB ${rate.toFixed(1)} MB/s`;
    }
    this.out.write(`\r${line}\x1b[K`);
  }

  done(): void {
    if (this.last) this.out.write('\r\x1b[K');
  }
}
