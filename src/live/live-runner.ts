import type * as http from 'node:http';
import type * as net from 'node:net';
import type { Logger } from 'pino';
import type { Pipeline } from '../pipeline';
import type { ExchangeSink } from '../sink/exchange-sink';
import type { LiveSource } from './live-source';
import { Metrics } from './metrics';
import { startHttpEndpoints } from './http-endpoints';
import { startHealthListener } from './health-listener';
import { EXIT_OK } from '../errors';

export interface LiveRunOptions {
  httpHost: string;
  /** 0 = no HTTP endpoints. */
  httpPort: number;
  healthHost: string;
  /** 0 = no TCP health-check listener. */
  healthPort: number;
  /** Period of the stats log line; 0 = never. */
  statsIntervalMs: number;
  /** Extra readiness condition (e.g. the sink is not shedding load). */
  sinkReady?: () => boolean;
}

/**
 * Runs a live source until SIGTERM/SIGINT (or `stop` resolves), then shuts down in order: stop
 * receiving, flush open exchanges as partial (close reason "shutdown"), close the sink, close the
 * listeners. Resolves to the exit status (0 after a clean shutdown).
 */
export async function runLive(
  source: LiveSource,
  pipeline: Pipeline,
  sink: ExchangeSink,
  opts: LiveRunOptions,
  log: Logger,
  stop?: Promise<void>,
): Promise<number> {
  const extras: Record<string, number> = {};
  const metrics = new Metrics(pipeline, () => extras);
  let lastSeen = 0;
  let lastPackets = 0;
  const ready = (): boolean => source.ready() && (opts.sinkReady ? opts.sinkReady() : true);
  const servers: Array<http.Server | net.Server> = [];
  try {
    if (opts.httpPort) servers.push(await startHttpEndpoints(opts.httpHost, opts.httpPort, ready, metrics, log));
    if (opts.healthPort) servers.push(await startHealthListener(opts.healthHost, opts.healthPort, ready));
    await source.start((frame) => pipeline.onFrame(frame));
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  log.info({ source: source.name, httpPort: opts.httpPort || undefined, healthPort: opts.healthPort || undefined }, 'capturing');

  const tick = setInterval(() => {
    pipeline.tick(Date.now() * 1000);
    source.pollStats?.(pipeline.counters);
  }, 1000);
  const stats = opts.statsIntervalMs
    ? setInterval(() => {
        const c = pipeline.counters.snapshot();
        lastSeen = pipeline.packets - lastPackets;
        lastPackets = pipeline.packets;
        log.info(
          {
            packets: pipeline.packets,
            packetsInInterval: lastSeen,
            flows: pipeline.activeFlows,
            exchanges: c.exchanges_emitted ?? 0,
            gapBytes: c.gap_bytes ?? 0,
            outcomes: pipeline.packetOutcomes.snapshot(),
          },
          'stats',
        );
      }, opts.statsIntervalMs)
    : undefined;

  const signalled = new Promise<string>((resolve) => {
    const on = (sig: string): void => resolve(sig);
    process.once('SIGTERM', () => on('SIGTERM'));
    process.once('SIGINT', () => on('SIGINT'));
    if (stop) void stop.then(() => on('stop'));
  });
  const why = await signalled;
  log.info({ reason: why }, 'shutting down: flushing open exchanges');
  clearInterval(tick);
  if (stats) clearInterval(stats);
  await source.stop();
  source.pollStats?.(pipeline.counters);
  pipeline.finish('shutdown');
  await sink.close();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  log.info({ packets: pipeline.packets, exchanges: pipeline.counters.get('exchanges_emitted'), counters: pipeline.counters.snapshot() }, 'stopped');
  return EXIT_OK;
}
