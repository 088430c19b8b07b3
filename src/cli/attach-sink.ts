import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Exchange } from '../exchange/record';
import type { Counters } from '../observe/counters';
import { sinkHealthy, type ExchangeSink } from '../sink/exchange-sink';
import { openRemoteSink, type RemoteSinkExtra } from './sink-options';
import type { DeliverySink } from '../delivery/delivery-sink';

/**
 * `read --sink URL`: the remote sink for one capture file, next to (or instead of) the local
 * output. The batch stream is named after the file's identity (name, size and a hash of its first
 * and last bytes), and batches are cut by size only, so reading the same capture again produces the
 * same batches with the same sequence numbers: a `read` that is killed and started again stores
 * nothing twice.
 */
export function readStreamId(input: string): string {
  if (input === '-') return `read:stdin:${crypto.randomBytes(8).toString('hex')}`;
  const st = fs.statSync(input);
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(input, 'r');
  try {
    const head = Buffer.alloc(Math.min(st.size, 1 << 20));
    fs.readSync(fd, head, 0, head.length, 0);
    h.update(head);
    const tailLen = Math.min(st.size, 64 * 1024);
    const tail = Buffer.alloc(tailLen);
    fs.readSync(fd, tail, 0, tailLen, st.size - tailLen);
    h.update(tail);
  } finally {
    fs.closeSync(fd);
  }
  return `read:${path.basename(input)}:${st.size}:${h.digest('hex').slice(0, 16)}`;
}

/** Writes every exchange to both sinks; false when either queued or dropped it. Healthy while both are. */
export class TeeSink implements ExchangeSink {
  constructor(private readonly a: ExchangeSink, private readonly b: ExchangeSink) {}
  get healthy(): boolean {
    return sinkHealthy(this.a) && sinkHealthy(this.b);
  }
  write(ex: Exchange): boolean {
    const x = this.a.write(ex);
    const y = this.b.write(ex);
    return x && y;
  }
  async close(): Promise<void> {
    await Promise.all([this.a.close(), this.b.close()]);
  }
}

/** `read --sink URL`: the replay-service sink for one capture file; null without --sink. */
export function openReadRemote(
  values: Record<string, unknown>,
  input: string,
  counters: Counters,
  warn: (msg: string) => void,
  extra: RemoteSinkExtra = {},
): DeliverySink | null {
  if (typeof values.sink !== 'string' || values.sink === '') return null;
  return openRemoteSink(values, counters, 'read', warn, { stream: readStreamId(input), sizeOnlyBatches: true, ...extra });
}

/**
 * For read-command.ts: returns `local` unchanged when there is no --sink, else a sink that writes to
 * `local` (when not null) and to the replay service. `values` are the parsed flags (SINK_OPTIONS merged).
 */
export function attachRemoteSink(
  values: Record<string, unknown>,
  input: string,
  local: ExchangeSink | null,
  counters: Counters,
  warn: (msg: string) => void,
  extra: RemoteSinkExtra = {},
): ExchangeSink | null {
  const remote = openReadRemote(values, input, counters, warn, extra);
  if (!remote) return local;
  return local ? new TeeSink(local, remote) : remote;
}

/**
 * For the live modes (mirror, sniff): `local` alone without --sink; with --sink, the replay service plus
 * `local` when the user asked for -o; with --sink and no -o, the replay service only.
 */
export function attachLiveSink(
  values: Record<string, unknown>,
  openLocal: () => ExchangeSink,
  counters: Counters,
  warn: (msg: string) => void,
  mode: 'mirror' | 'sniff',
): ExchangeSink {
  const remote = openRemoteSink(values, counters, mode, warn);
  if (!remote) return openLocal();
  return values.output === undefined ? remote : new TeeSink(openLocal(), remote);
}
