import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import { SCHEMA_VERSION } from '../exchange/record';
import type { Counters } from '../observe/counters';
import { VERSION } from '../version';
import { DeliverySink } from '../delivery/delivery-sink';
import { DELIVERY_PROTOCOL_VERSION } from '../delivery/frame-codec';
import { Spool } from '../delivery/spool';
import { TcpTransport } from '../delivery/tcp-transport';
import type { Transport } from '../delivery/transport';
import { parseDuration, parseSize } from '../delivery/units';

/**
 * The `--sink` family of flags, shared by read, mirror and sniff. parseArgs option specs to merge
 * into a command's own; `openRemoteSink` turns the parsed values into a DeliverySink.
 */
export const SINK_OPTIONS: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
  sink: { type: 'string' },
  'sink-token': { type: 'string' },
  'sink-ca': { type: 'string' },
  'sink-cert': { type: 'string' },
  'sink-key': { type: 'string' },
  'sink-flush-timeout': { type: 'string' },
  spool: { type: 'string' },
  'spool-max-bytes': { type: 'string' },
  'agent-id': { type: 'string' },
  'sink-queue-bytes': { type: 'string' },
};

export const SINK_HELP = `Delivery to the replay service:
      --sink URL             tcp://HOST:PORT, tls://HOST:PORT or nats://HOST:PORT/SUBJECT-PREFIX
      --sink-token T         shared token (or $SHADOWTAP_SINK_TOKEN)
      --sink-ca FILE         CA bundle that signed the collector's certificate (tls://, nats:// with TLS)
      --sink-cert FILE, --sink-key FILE   client certificate and key for mutual TLS
      --sink-flush-timeout D at exit, wait this long for acknowledgements, then spool (default 10s)
      --spool DIR            on-disk queue while the service is down (default $SHADOWTAP_STATE_DIR/spool
                             or ~/.local/state/shadowtap/spool; 'none' = memory only)
      --spool-max-bytes N    spool bound; the oldest batches are dropped and counted past it (default 1G)
      --agent-id ID          this agent's name at the service (default: the host name)
      --sink-queue-bytes N   in-memory bound of batches waiting to be sent; past it they go to the
                             spool (default 32M)
`;

export interface RemoteSinkExtra {
  /** Batch.stream; default: "live:<random>" (a new sequence space per process). */
  stream?: string;
  /** Seal batches only by size (deterministic batches; `read` sets this). */
  sizeOnlyBatches?: boolean;
  /** Overrides for tests and benchmarks. */
  tuning?: { maxBatchExchanges?: number; memoryBytes?: number; backoffMaxMs?: number; heartbeatMs?: number };
}

function str(values: Record<string, unknown>, k: string): string | undefined {
  const v = values[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function usage(msg: string): never {
  throw new ShadowtapError('CAP_ERR_USAGE', msg, EXIT_USAGE);
}

function readFileFlag(values: Record<string, unknown>, flag: string): Buffer | undefined {
  const f = str(values, flag);
  if (f === undefined) return undefined;
  try {
    return fs.readFileSync(f);
  } catch (err) {
    return usage(`--${flag} ${f}: ${(err as Error).message}`);
  }
}

export function defaultSpoolDir(): string {
  const state = process.env.SHADOWTAP_STATE_DIR || path.join(os.homedir(), '.local', 'state', 'shadowtap');
  return path.join(state, 'spool');
}

/**
 * Opens the remote sink for `--sink URL`, or returns null when there is none. Throws
 * ShadowtapError (exit 1) for bad flags. The returned sink's close() waits (bounded by
 * --sink-flush-timeout) until everything is acknowledged, then spools what is left.
 */
export function openRemoteSink(
  values: Record<string, unknown>,
  counters: Counters,
  mode: 'read' | 'mirror' | 'sniff',
  log: (msg: string) => void,
  extra: RemoteSinkExtra = {},
): DeliverySink | null {
  const url = str(values, 'sink');
  if (url === undefined) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return usage(`--sink must be a URL like tcp://collector:7070 (got "${url}")`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (!['tcp', 'tls', 'nats'].includes(scheme)) usage(`--sink: scheme must be tcp, tls or nats (got "${scheme}")`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) usage(`--sink ${url}: no host`);
  const port = u.port ? Number(u.port) : scheme === 'nats' ? 4222 : 7070;
  const token = str(values, 'sink-token') ?? process.env.SHADOWTAP_SINK_TOKEN ?? '';
  const agentId = str(values, 'agent-id') ?? os.hostname();
  const flush = str(values, 'sink-flush-timeout');
  const flushTimeoutMs = flush === undefined ? 10_000 : parseDuration(flush) ?? usage(`--sink-flush-timeout must be a duration like 10s (got "${flush}")`);
  const maxText = str(values, 'spool-max-bytes');
  const spoolMax = maxText === undefined ? 1 << 30 : parseSize(maxText) ?? usage(`--spool-max-bytes must be a size like 512M (got "${maxText}")`);
  if (spoolMax < 64 * 1024) usage('--spool-max-bytes must be at least 64K');
  const spoolDir = str(values, 'spool') ?? defaultSpoolDir();
  const ca = readFileFlag(values, 'sink-ca');
  const cert = readFileFlag(values, 'sink-cert');
  const key = readFileFlag(values, 'sink-key');
  if (!!cert !== !!key) usage('--sink-cert and --sink-key go together');
  if (scheme === 'tcp' && (ca || cert)) usage('--sink-ca/--sink-cert need a tls:// sink');
  const t = extra.tuning ?? {};
  const queueText = str(values, 'sink-queue-bytes');
  const queueBytes = queueText === undefined ? t.memoryBytes : parseSize(queueText) ?? usage(`--sink-queue-bytes must be a size like 32M (got "${queueText}")`);

  let transport: Transport;
  if (scheme === 'nats') {
    const prefix = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, '')).replace(/\//g, '.') || 'shadowtap';
    // Loaded only here: the NATS client costs ~140 ms of start-up that every other run would pay.
    const { NatsTransport } = require('../delivery/nats-transport') as typeof import('../delivery/nats-transport');
    transport = new NatsTransport(
      {
        servers: `${u.hostname}:${port}`,
        subjectPrefix: prefix,
        agentId,
        ...(token ? { token } : {}),
        ...(ca || cert ? { tls: { ...(str(values, 'sink-ca') ? { ca: str(values, 'sink-ca')! } : {}), ...(cert ? { cert: str(values, 'sink-cert')!, key: str(values, 'sink-key')! } : {}) } } : {}),
      },
      counters,
      log,
    );
  } else {
    transport = new TcpTransport(
      {
        target: { host, port, ...(scheme === 'tls' ? { tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}) },
        hello: {
          agentId,
          node: process.env.NODE_NAME || os.hostname(),
          mode,
          schemaVersion: SCHEMA_VERSION,
          token,
          protocolVersion: DELIVERY_PROTOCOL_VERSION,
          agentVersion: VERSION,
        },
        ...(t.backoffMaxMs !== undefined ? { backoffMaxMs: t.backoffMaxMs } : {}),
        ...(t.heartbeatMs !== undefined ? { heartbeatMs: t.heartbeatMs } : {}),
      },
      counters,
      log,
    );
  }
  const spool = spoolDir === 'none' ? null : Spool.open({ dir: spoolDir, maxBytes: spoolMax }, counters, log);
  return new DeliverySink(
    {
      stream: extra.stream ?? `live:${crypto.randomBytes(8).toString('hex')}`,
      lingerMs: extra.sizeOnlyBatches ? 0 : 200,
      flushTimeoutMs,
      ...(t.maxBatchExchanges !== undefined ? { maxBatchExchanges: t.maxBatchExchanges } : {}),
      ...(queueBytes !== undefined ? { memoryBytes: queueBytes } : {}),
    },
    transport,
    spool,
    counters,
    log,
  );
}
