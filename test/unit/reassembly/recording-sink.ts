/** Test helper: a StreamSink that records every call and checks the StreamSink contract as it goes. */
import type { CloseReason, Dir, StreamSink } from '../../../src/reassembly/stream-sink';

export type SinkEvent =
  | { t: 'data'; dir: Dir; data: Buffer; ts: number; view: boolean }
  | { t: 'gap'; dir: Dir; n: number; truncated: boolean; ts: number }
  | { t: 'end'; dir: Dir; reason: 'fin' | 'rst'; ts: number }
  | { t: 'close'; reason: CloseReason; ts: number };

export class RecordingSink implements StreamSink {
  readonly events: SinkEvent[] = [];
  readonly violations: string[] = [];
  private readonly ended = [false, false];
  closed = false;

  onData(dir: Dir, data: Buffer, ts: number): void {
    this.check(dir, 'data');
    if (data.length === 0) this.violations.push('empty data');
    // Copy: the data is borrowed. Remember whether it was a view of a larger buffer.
    this.events.push({ t: 'data', dir, data: Buffer.from(data), ts, view: data.byteOffset > 0 || data.buffer.byteLength > data.length });
  }

  onGap(dir: Dir, n: number, ts: number, truncated: boolean): void {
    this.check(dir, 'gap');
    if (!(n > 0)) this.violations.push(`gap of ${n}`);
    this.events.push({ t: 'gap', dir, n, truncated, ts });
  }

  onEnd(dir: Dir, reason: 'fin' | 'rst', ts: number): void {
    this.check(dir, 'end');
    this.ended[dir] = true;
    this.events.push({ t: 'end', dir, reason, ts });
  }

  onClose(reason: CloseReason, ts: number): void {
    if (this.closed) this.violations.push('onClose twice');
    this.closed = true;
    this.events.push({ t: 'close', reason, ts });
  }

  private check(dir: Dir, what: string): void {
    if (this.closed) this.violations.push(`${what} after close`);
    if (this.ended[dir]) this.violations.push(`${what} after end of dir ${dir}`);
  }

  /** Direction `dir` as text, gaps as '~' per byte ('#' for truncated bytes). */
  text(dir: Dir): string {
    let s = '';
    for (const e of this.events) {
      if (e.t === 'data' && e.dir === dir) s += e.data.toString('latin1');
      else if (e.t === 'gap' && e.dir === dir) s += (e.truncated ? '#' : '~').repeat(e.n);
    }
    return s;
  }

  /** Compact trace of one direction: 'd:abc', 'g:5', 't:5', 'end:fin'. */
  trace(dir: Dir): string[] {
    const out: string[] = [];
    for (const e of this.events) {
      if (e.t === 'data' && e.dir === dir) out.push(`d:${e.data.toString('latin1')}`);
      else if (e.t === 'gap' && e.dir === dir) out.push(`${e.truncated ? 't' : 'g'}:${e.n}`);
      else if (e.t === 'end' && e.dir === dir) out.push(`end:${e.reason}`);
    }
    return out;
  }

  closeReason(): CloseReason | undefined {
    const last = this.events[this.events.length - 1];
    return last !== undefined && last.t === 'close' ? last.reason : undefined;
  }
}
