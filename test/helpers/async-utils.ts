/** Small helpers shared by tests of live parts (sockets, loggers): free ports, polling, a pino logger in memory. */
import * as net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Resolves when `cond()` holds (polled every 10 ms), rejects with 'timeout' after `ms`. */
export function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error('timeout'));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

/** A pino logger writing into memory; `lines()` parses what it wrote. */
export function memLogger(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      out.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, dest), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}
