/** Shared helpers for the HTTP tests: a ConnectionMeta, a recording emit, and byte builders. */
import type { ConnectionMeta } from '../../../src/flow/connection-meta';
import type { Exchange } from '../../../src/exchange/record';
import { Counters } from '../../../src/observe/counters';
import { createHttpStream, type HttpOptions } from '../../../src/http/http-stream';
import type { Dir, StreamSink } from '../../../src/reassembly/stream-sink';

export function meta(over: Partial<ConnectionMeta> = {}): ConnectionMeta {
  return {
    id: 7,
    lastFrame: 7,
    ends: [
      { ip: '10.0.0.1', port: 51000 },
      { ip: '10.0.0.2', port: 80 },
    ],
    initiatorKnown: true,
    midStream: false,
    vni: -1,
    tunnel: '',
    tunnelSource: '',
    source: 'file:test.pcap',
    ...over,
  };
}

export interface Harness {
  sink: StreamSink;
  out: Exchange[];
  counters: Counters;
  /** Feed bytes of one direction (latin1 string or Buffer); ts auto-increments unless given. */
  send(dir: Dir, data: string | Buffer, ts?: number): void;
}

export function harness(m: ConnectionMeta = meta(), opts: Partial<HttpOptions> = {}): Harness {
  const out: Exchange[] = [];
  const counters = new Counters();
  const sink = createHttpStream(m, (ex) => out.push(ex), counters, opts);
  let t = 1_000_000;
  return {
    sink,
    out,
    counters,
    send(dir, data, ts) {
      t = ts ?? t + 1;
      // Copy into a fresh buffer and scribble over it after the call: the sink must not keep views.
      const b = Buffer.from(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      sink.onData(dir, b, t);
      b.fill(0x7e);
    },
  };
}

/** A JSON view of exchanges for deep comparisons (bodies as latin1 strings). */
export function view(exs: Exchange[]): unknown {
  return JSON.parse(
    JSON.stringify(exs, (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
        return Buffer.from((v as { data: number[] }).data).toString('latin1');
      }
      return v;
    }),
  );
}

/** Same as view() without timestamps (for comparing runs fed with different segmentations). */
export function viewNoTime(exs: Exchange[]): unknown {
  const v = view(exs) as Record<string, Record<string, unknown>>[];
  for (const ex of v) {
    for (const k of ['request', 'response']) {
      const m = ex[k];
      if (m !== undefined) {
        delete m.startMicros;
        delete m.endMicros;
      }
    }
  }
  return v;
}

export const CRLF = '\r\n';
export function req(method: string, url: string, headers: string[] = [], body = ''): string {
  return `${method} ${url} HTTP/1.1\r\nHost: example.test\r\n${headers.map((h) => h + CRLF).join('')}\r\n${body}`;
}
export function res(status: number, reason: string, headers: string[] = [], body: string | Buffer = ''): Buffer {
  const head = Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n${headers.map((h) => h + CRLF).join('')}\r\n`, 'latin1');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}
