import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import * as tls from 'node:tls';
import type { Logger } from 'pino';
import { SCHEMA_VERSION } from '../exchange/record';
import type { Counters } from '../observe/counters';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DELIVERY_PROTOCOL_VERSION,
  ErrorCode,
  FrameDecoder,
  encodeFrame,
  type DecodedFrame,
  type ErrorCodeName,
  type HelloMsg,
} from '../delivery/frame-codec';
import type { Store } from './store';
import { timeRange } from './segment-file';

/**
 * `shadowtap collect`'s network side: accepts agents over TCP or TLS (optionally mutual), checks
 * their Hello (token, versions), stores their batches and acknowledges each one after it is durable.
 *
 * A misbehaving connection — garbage bytes, a frame over `maxFrameBytes`, no Hello in time, silence
 * past `idleTimeoutMs` (half-open), a frame trickling in slower than `frameDeadlineMs` — gets an
 * Error frame, is closed, and costs one warn log line; other agents are not affected. Counted in
 * collect_rejected_<code>. Per connection at most `maxPendingAppends` batches wait for the store;
 * past that the socket is paused (TCP backpressure reaches the agent).
 */
export interface CollectorOptions {
  host: string;
  port: number;
  /** Shared token every Hello must carry; '' = none. */
  token?: string;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
  idleTimeoutMs?: number;
  helloTimeoutMs?: number;
  frameDeadlineMs?: number;
  maxFrameBytes?: number;
  maxPendingAppends?: number;
  maxConnections?: number;
  collectorId?: string;
}

interface Conn {
  id: number;
  sock: net.Socket;
  remote: string;
  decoder: FrameDecoder;
  hello?: HelloMsg;
  pending: number;
  paused: boolean;
  closing: boolean;
  helloTimer?: NodeJS.Timeout;
}

export class Collector {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private nextId = 1;
  private sweep: NodeJS.Timeout | undefined;
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly opts: CollectorOptions,
    private readonly store: Store,
    private readonly counters: Counters,
    private readonly log: Logger,
  ) {
    this.tokenDigest = opts.token ? crypto.createHash('sha256').update(opts.token).digest() : undefined;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const onConn = (sock: net.Socket): void => this.accept(sock);
    const t = this.opts.tls;
    const server = t
      ? tls.createServer({ cert: t.cert, key: t.key, ...(t.ca ? { ca: t.ca, requestCert: true, rejectUnauthorized: true } : {}) }, onConn)
      : net.createServer(onConn);
    if (t) {
      server.on('tlsClientError', (err: Error, sock: tls.TLSSocket) => {
        this.counters.inc('collect_rejected_tls');
        this.log.warn({ remote: `${sock.remoteAddress}:${sock.remotePort}`, code: 'TLS', reason: (err as NodeJS.ErrnoException).code ?? err.message }, 'connection rejected');
      });
    }
    server.maxConnections = this.opts.maxConnections ?? 1024;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const deadline = this.opts.frameDeadlineMs ?? 60_000;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const c of this.conns) {
        if (c.decoder.partialSince && now - c.decoder.partialSince > deadline) this.reject(c, 'IDLE_TIMEOUT', `a frame took longer than ${deadline} ms to arrive`);
      }
    }, Math.min(1000, deadline));
    this.sweep.unref();
    const a = server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Stops accepting, closes every connection (pending appends still finish), then resolves. */
  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    const s = this.server;
    for (const c of this.conns) {
      c.closing = true;
      c.sock.write(encodeFrame({ error: { code: ErrorCode.SHUTTING_DOWN, message: 'collector shutting down' } }));
      c.sock.end();
      setTimeout(() => c.sock.destroy(), 500).unref();
    }
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private accept(sock: net.Socket): void {
    const c: Conn = {
      id: this.nextId++,
      sock,
      remote: `${sock.remoteAddress}:${sock.remotePort}`,
      decoder: undefined as unknown as FrameDecoder,
      pending: 0,
      paused: false,
      closing: false,
    };
    c.decoder = new FrameDecoder(this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, (f) => this.onFrame(c, f));
    this.conns.add(c);
    this.counters.inc('collect_connections');
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.idleTimeoutMs ?? 60_000);
    sock.on('timeout', () => this.reject(c, 'IDLE_TIMEOUT', `no data for ${this.opts.idleTimeoutMs ?? 60_000} ms`));
    c.helloTimer = setTimeout(() => {
      if (!c.hello) this.reject(c, 'IDLE_TIMEOUT', 'no Hello in time');
    }, this.opts.helloTimeoutMs ?? 10_000);
    c.helloTimer.unref();
    sock.on('data', (chunk: Buffer) => {
      if (c.closing) return;
      const r = c.decoder.push(chunk);
      if (r === 'FRAME_TOO_LARGE') this.reject(c, 'FRAME_TOO_LARGE', `frame over ${this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES} bytes`);
      else if (r === 'BAD_FRAME' && !c.closing) this.reject(c, 'BAD_FRAME', 'bytes that are not a length-delimited shadowtap.v1.Frame');
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (c.helloTimer) clearTimeout(c.helloTimer);
      this.conns.delete(c);
      if (c.hello && !c.closing) this.log.info({ conn: c.id, agent: c.hello.agentId, remote: c.remote }, 'agent disconnected');
    });
  }

  private reject(c: Conn, code: ErrorCodeName, message: string): void {
    if (c.closing) return;
    c.closing = true;
    c.decoder.fail('BAD_FRAME');
    this.counters.inc(`collect_rejected_${code.toLowerCase()}`);
    this.log.warn({ conn: c.id, remote: c.remote, agent: c.hello?.agentId, code }, `connection closed: ${message}`);
    if (!c.sock.destroyed) {
      c.sock.write(encodeFrame({ error: { code: ErrorCode[code], message } }));
      c.sock.end();
      setTimeout(() => c.sock.destroy(), 1000).unref();
    }
  }

  private onFrame(c: Conn, f: DecodedFrame): void {
    if (c.closing) return;
    switch (f.kind) {
      case 'hello':
        return this.onHello(c, f.hello);
      case 'batch': {
        if (!c.hello) return this.reject(c, 'PROTOCOL_VIOLATION', 'Batch before Hello');
        const b = f.batch;
        if (b.seq <= 0) return this.reject(c, 'PROTOCOL_VIOLATION', 'Batch without a sequence number');
        const { t0, t1 } = timeRange(b.exchanges);
        const hello = c.hello;
        c.pending++;
        if (c.pending >= (this.opts.maxPendingAppends ?? 64) && !c.paused) {
          c.paused = true;
          c.sock.pause();
        }
        this.counters.inc('collect_batches_received');
        this.store
          .append({ agentId: hello.agentId, node: hello.node, mode: hello.mode, receivedMicros: 0, stream: b.stream, seq: b.seq, raw: b.raw, count: b.exchanges.length, t0, t1 })
          .then(
            (result) => {
              c.pending--;
              if (c.paused && c.pending < (this.opts.maxPendingAppends ?? 64) / 2) {
                c.paused = false;
                c.sock.resume();
              }
              this.counters.inc(result === 'stored' ? 'collect_batches_stored' : 'collect_batches_duplicate');
              if (result === 'stored') this.counters.inc('collect_exchanges_stored', b.exchanges.length);
              if (!c.sock.destroyed && !c.closing) c.sock.write(encodeFrame({ ack: { seq: b.seq, stream: b.stream, duplicate: result === 'duplicate' } }));
            },
            (err: Error) => {
              c.pending--;
              this.log.error({ err: err.message }, 'store append failed');
              this.reject(c, 'STORE_FAILED', 'the collector could not store the batch');
            },
          );
        return;
      }
      case 'heartbeat':
        if (!c.hello) return this.reject(c, 'PROTOCOL_VIOLATION', 'Heartbeat before Hello');
        c.sock.write(encodeFrame({ heartbeat: { micros: Date.now() * 1000 } }));
        return;
      case 'error':
        this.log.info({ conn: c.id, agent: c.hello?.agentId, code: f.error.code }, 'agent reported an error');
        c.closing = true;
        c.sock.end();
        return;
      default:
        return this.reject(c, 'PROTOCOL_VIOLATION', `unexpected ${f.kind} frame from an agent`);
    }
  }

  private onHello(c: Conn, h: HelloMsg): void {
    if (c.hello) return this.reject(c, 'PROTOCOL_VIOLATION', 'second Hello');
    if (this.tokenDigest) {
      const got = crypto.createHash('sha256').update(h.token ?? '').digest();
      if (!crypto.timingSafeEqual(got, this.tokenDigest)) return this.reject(c, 'AUTH_FAILED', 'bad or missing token');
    }
    const proto = h.protocolVersion || 1;
    if (proto > DELIVERY_PROTOCOL_VERSION) return this.reject(c, 'UNSUPPORTED_VERSION', `protocol version ${proto} is newer than this collector's ${DELIVERY_PROTOCOL_VERSION}`);
    if (h.schemaVersion > SCHEMA_VERSION) return this.reject(c, 'UNSUPPORTED_VERSION', `exchange schema version ${h.schemaVersion} is newer than this collector's ${SCHEMA_VERSION}`);
    if (!h.agentId) return this.reject(c, 'PROTOCOL_VIOLATION', 'Hello without an agent id');
    c.hello = h;
    if (c.helloTimer) clearTimeout(c.helloTimer);
    this.counters.inc('collect_agents_accepted');
    this.log.info({ conn: c.id, agent: h.agentId, node: h.node, mode: h.mode, schema: h.schemaVersion, version: h.agentVersion, remote: c.remote }, 'agent connected');
    c.sock.write(
      encodeFrame({
        helloAck: {
          schemaVersion: SCHEMA_VERSION,
          maxFrameBytes: this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
          collectorId: this.opts.collectorId ?? os.hostname(),
          protocolVersion: DELIVERY_PROTOCOL_VERSION,
        },
      }),
    );
  }
}
