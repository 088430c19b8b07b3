import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Counters } from '../observe/counters';
import {
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCode,
  FrameDecoder,
  encodeFrame,
  errorCodeName,
  type DecodedFrame,
  type HelloMsg,
} from './frame-codec';
import { backoffDelay, type OutBatch, type Transport, type TransportEvents } from './transport';

/**
 * TCP or TLS connection to `shadowtap collect`: Hello → HelloAck, then batches out and acks in.
 * Reconnects with capped exponential backoff and jitter; a heartbeat every `heartbeatMs` keeps
 * NATs open, and a peer silent for three heartbeats is taken for dead (half-open connection).
 * Honours socket.write()'s return value: false is passed up and 'drain' becomes onDrain.
 */
export interface TcpTarget {
  host: string;
  port: number;
  /** TLS when present; `ca` pins the collector's CA, `cert`+`key` make it mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
}

export interface TcpTransportOptions {
  target: TcpTarget;
  hello: HelloMsg;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  heartbeatMs?: number;
  helloTimeoutMs?: number;
  maxFrameBytes?: number;
}

export class TcpTransport implements Transport {
  readonly name: string;
  private ev: TransportEvents | undefined;
  private sock: net.Socket | undefined;
  private ready = false;
  private closing = false;
  private attempt = 0;
  private outage = false;
  private lastError = '';
  private lastRx = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly base: number;
  private readonly max: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly opts: TcpTransportOptions,
    private readonly counters: Counters,
    private readonly log: (msg: string) => void,
  ) {
    const t = opts.target;
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    this.name = `${t.tls ? 'tls' : 'tcp'}://${host}:${t.port}`;
    this.base = opts.backoffBaseMs ?? 200;
    this.max = opts.backoffMaxMs ?? 30_000;
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
  }

  start(events: TransportEvents): void {
    this.ev = events;
    this.connect();
  }

  send(batch: OutBatch): boolean {
    if (!this.ready || !this.sock) return false;
    return this.sock.write(batch.frame);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.clearTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const s = this.sock;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000);
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      s.end();
    });
  }

  private connect(): void {
    if (this.closing) return;
    const t = this.opts.target;
    const sock = t.tls
      ? tls.connect({
          host: t.host,
          port: t.port,
          servername: t.tls.servername ?? (net.isIP(t.host) ? undefined : t.host),
          ...(t.tls.ca ? { ca: t.tls.ca } : {}),
          ...(t.tls.cert ? { cert: t.tls.cert } : {}),
          ...(t.tls.key ? { key: t.tls.key } : {}),
        } as tls.ConnectionOptions)
      : net.connect({ host: t.host, port: t.port });
    this.sock = sock;
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    const decoder = new FrameDecoder(this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, (f) => this.onFrame(sock, f));
    sock.once(t.tls ? 'secureConnect' : 'connect', () => {
      this.lastRx = Date.now();
      sock.write(encodeFrame({ hello: this.opts.hello }));
      this.helloTimer = setTimeout(() => {
        this.lastError = 'no HelloAck in time';
        sock.destroy();
      }, this.opts.helloTimeoutMs ?? 10_000);
      this.helloTimer.unref();
    });
    sock.on('data', (chunk: Buffer) => {
      this.lastRx = Date.now();
      const r = decoder.push(chunk);
      if (r) {
        this.counters.inc('sink_bad_frames_received');
        this.lastError = `collector sent ${r}`;
        sock.destroy();
      }
    });
    sock.on('drain', () => {
      if (this.ready && this.sock === sock) this.ev?.onDrain();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = err.code ?? err.message;
    });
    sock.on('close', () => this.onClose(sock));
  }

  private onFrame(sock: net.Socket, f: DecodedFrame): void {
    if (this.sock !== sock) return;
    switch (f.kind) {
      case 'helloAck':
        if (this.helloTimer) clearTimeout(this.helloTimer);
        this.ready = true;
        if (this.outage) this.log(`sink: connected to ${this.name} after ${this.attempt} attempt(s)`);
        this.outage = false;
        this.attempt = 0;
        this.lastError = '';
        this.heartbeatTimer = setInterval(() => this.heartbeat(sock), this.heartbeatMs);
        this.heartbeatTimer.unref();
        this.ev?.onReady();
        return;
      case 'ack':
        if (this.ready) this.ev?.onAck(f.ack.stream, f.ack.seq, f.ack.duplicate);
        return;
      case 'heartbeat':
        return;
      case 'error': {
        const code = errorCodeName(f.error.code);
        this.lastError = `${code}: ${f.error.message}`;
        this.counters.inc(`sink_error_${code.toLowerCase()}`);
        if (f.error.code === ErrorCode.AUTH_FAILED || f.error.code === ErrorCode.UNSUPPORTED_VERSION) {
          this.log(`sink: ${this.name} refused this agent: ${this.lastError}`);
          this.outage = true;
          this.ev?.onRejected(this.lastError);
        }
        return;
      }
      default:
        this.counters.inc('sink_bad_frames_received');
        this.lastError = `unexpected ${f.kind} frame from the collector`;
        sock.destroy();
    }
  }

  private heartbeat(sock: net.Socket): void {
    if (this.sock !== sock || !this.ready) return;
    if (Date.now() - this.lastRx > 3 * this.heartbeatMs) {
      this.lastError = 'collector silent for three heartbeats';
      sock.destroy();
      return;
    }
    sock.write(encodeFrame({ heartbeat: { micros: Date.now() * 1000 } }));
  }

  private clearTimers(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.helloTimer = this.heartbeatTimer = undefined;
  }

  private onClose(sock: net.Socket): void {
    if (this.sock !== sock) return;
    this.sock = undefined;
    this.clearTimers();
    const wasReady = this.ready;
    this.ready = false;
    if (wasReady) this.ev?.onDown();
    if (this.closing) return;
    if (!this.outage) {
      this.log(`sink: ${wasReady ? 'lost' : 'cannot reach'} ${this.name} (${this.lastError || 'closed'}); spooling and retrying with backoff up to ${Math.round(this.max / 1000)}s`);
      this.outage = true;
    }
    const delay = backoffDelay(this.attempt++, this.base, this.max);
    this.counters.inc('sink_reconnects');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }
}
