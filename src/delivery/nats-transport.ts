import { connect, headers, nanos, type ConnectionOptions, type JetStreamClient, type NatsConnection } from 'nats';
import type { Counters } from '../observe/counters';
import { batchPayloadOffset } from './frame-codec';
import { backoffDelay, type OutBatch, type Transport, type TransportEvents } from './transport';

/**
 * Delivery to NATS JetStream instead of `shadowtap collect`: each batch is one message on
 * SUBJECT_PREFIX.batches.AGENT whose payload is the shadowtap.v1.Batch bytes (no length prefix: NATS
 * frames messages itself), with the header Nats-Msg-Id = AGENT/STREAM/SEQ so JetStream drops
 * resends within the stream's duplicate window (set to 10 minutes when this agent creates the
 * stream). The JetStream PubAck is the acknowledgement. The stream (named after the prefix,
 * upper-cased: shadowtap → SHADOWTAP) is created when missing, capturing SUBJECT_PREFIX.batches.>.
 *
 * The nats client reconnects by itself; a failed publish takes the transport down for a backoff
 * period so the sink resends everything unacknowledged.
 */
export interface NatsTargetOptions {
  servers: string;
  subjectPrefix: string;
  agentId: string;
  token?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  publishTimeoutMs?: number;
  maxInflight?: number;
}

export function natsStreamName(prefix: string): string {
  return prefix.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase() || 'SHADOWTAP';
}

function subjectToken(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

export class NatsTransport implements Transport {
  readonly name: string;
  private ev: TransportEvents | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private ready = false;
  private closing = false;
  private inflight = 0;
  private failures = 0;
  private outage = false;
  private bounceTimer: NodeJS.Timeout | undefined;
  private readonly subject: string;

  constructor(
    private readonly opts: NatsTargetOptions,
    private readonly counters: Counters,
    private readonly log: (msg: string) => void,
  ) {
    this.name = `nats://${opts.servers}/${opts.subjectPrefix}`;
    this.subject = `${opts.subjectPrefix}.batches.${subjectToken(opts.agentId)}`;
  }

  start(events: TransportEvents): void {
    this.ev = events;
    void this.run();
  }

  private async run(): Promise<void> {
    const copts: ConnectionOptions = {
      servers: this.opts.servers,
      name: `shadowtap ${this.opts.agentId}`,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      ...(this.opts.token ? { token: this.opts.token } : {}),
      ...(this.opts.tls ? { tls: { ...(this.opts.tls.ca ? { caFile: this.opts.tls.ca } : {}), ...(this.opts.tls.cert ? { certFile: this.opts.tls.cert } : {}), ...(this.opts.tls.key ? { keyFile: this.opts.tls.key } : {}) } } : {}),
    };
    let attempt = 0;
    while (!this.closing) {
      try {
        this.nc = await connect(copts);
        break;
      } catch (err) {
        if (!this.outage) this.log(`sink: cannot reach ${this.name} (${(err as Error).message}); spooling and retrying`);
        this.outage = true;
        this.counters.inc('sink_reconnects');
        await new Promise((r) => setTimeout(r, backoffDelay(attempt++, 500, 30_000)).unref());
      }
    }
    const nc = this.nc;
    if (!nc || this.closing) {
      await nc?.close();
      return;
    }
    try {
      const jsm = await nc.jetstreamManager();
      const stream = natsStreamName(this.opts.subjectPrefix);
      try {
        await jsm.streams.info(stream);
      } catch {
        await jsm.streams.add({ name: stream, subjects: [`${this.opts.subjectPrefix}.batches.>`], duplicate_window: nanos(10 * 60_000) });
      }
      this.js = nc.jetstream();
    } catch (err) {
      this.log(`sink: ${this.name}: JetStream is not usable (${(err as Error).message}); spooling`);
      this.ev?.onRejected(`jetstream: ${(err as Error).message}`);
      return;
    }
    if (this.outage) this.log(`sink: connected to ${this.name}`);
    this.outage = false;
    this.up();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.down();
        else if (s.type === 'reconnect') this.up();
      }
    })();
  }

  private up(): void {
    if (this.closing || this.ready) return;
    this.ready = true;
    this.ev?.onReady();
  }

  private down(): void {
    if (!this.ready) return;
    this.ready = false;
    this.inflight = 0;
    this.ev?.onDown();
  }

  send(batch: OutBatch): boolean {
    const js = this.js;
    if (!this.ready || !js) return false;
    const off = batchPayloadOffset(batch.frame);
    if (off < 0) {
      this.counters.inc('sink_bad_batches');
      return true;
    }
    const msgID = `${this.opts.agentId}/${batch.stream}/${batch.seq}`;
    const h = headers();
    h.set('Shadowtap-Agent', this.opts.agentId);
    this.inflight++;
    js.publish(this.subject, batch.frame.subarray(off), { msgID, headers: h, timeout: this.opts.publishTimeoutMs ?? 10_000 }).then(
      (pa) => {
        this.inflight = Math.max(0, this.inflight - 1);
        this.failures = 0;
        this.ev?.onAck(batch.stream, batch.seq, pa.duplicate);
        if (this.inflight === (this.opts.maxInflight ?? 64) - 1) this.ev?.onDrain();
      },
      (err: Error) => {
        this.counters.inc('sink_nats_publish_errors');
        if (!this.ready) return;
        this.log(`sink: publish to ${this.name} failed (${err.message}); resending after backoff`);
        this.down();
        this.bounceTimer = setTimeout(() => this.up(), backoffDelay(this.failures++, 500, 30_000));
        this.bounceTimer.unref();
      },
    );
    return this.inflight < (this.opts.maxInflight ?? 64);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.ready = false;
    if (this.bounceTimer) clearTimeout(this.bounceTimer);
    const nc = this.nc;
    if (nc && !nc.isClosed()) {
      try {
        await nc.drain();
      } catch {
        await nc.close();
      }
    }
  }
}
