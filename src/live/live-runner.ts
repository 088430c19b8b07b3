import type * as http from 'node:http';
import type * as net from 'node:net';
import type { Logger } from 'pino';
import type { Pipeline } from '../pipeline';
import { sinkHealthy, type ExchangeSink } from '../sink/exchange-sink';
import type { LiveSource } from './live-source';
import { Metrics } from './metrics';
import { startHttpEndpoints } from './http-endpoints';
import { startHealthListener } from './health-listener';
import { EXIT_OK } from '../errors';
import { EventLoopLag } from './event-loop-lag';
import { ShutdownSignal } from './shutdown-signal';

/** Default bound on event-loop lag before /readyz and the LB health check report "not ready". */
export const DEFAULT_MAX_EVENT_LOOP_LAG_MS = 1000;

export interface LiveRunOptions {
  httpHost: string;
  /** 0 = no HTTP endpoints. */
  httpPort: number;
  healthHost: string;
  /** 0 = no TCP health-check listener. */
  healthPort: number;
  /** Period of the stats log line; 0 = never. */
  statsIntervalMs: number;
  /** Optional: source-specific fields of the stats log line (e.g. sniff's libpcap counters). */
  statsFields?: () => Record<string, number>;
  /**
   * Load shedding bound: while the event loop lags more than this (ms, worst of the last 1-2 s),
   * the agent is not keeping up and reports not ready. Default DEFAULT_MAX_EVENT_LOOP_LAG_MS; 0 = off.
   */
  maxEventLoopLagMs?: number;
  /** Called once the source is started and the listeners are up (tests, benchmarks). */
  onStarted?: () => void;
  /**
   * The overload shedder in front of the sink (OverloadShedder), if any: shedding counts as not ready; it is
   * stopped with the source, so the exchanges flushed at shutdown are all written.
   */
  overload?: { shedding(): boolean; stop(): void };
  /** SIGTERM/SIGINT caught since the command started (main makes it); without one, caught from here on. */
  shutdown?: ShutdownSignal;
}

/**
 * Readiness of a live mode: the source is bound/open and the pipeline is not shedding load; with `also.sink`
 * (/readyz/sink), also that the sink is healthy. Shedding = the event loop lagged more than `maxLagMs` in the
 * last 1-2 s (packets are processed synchronously on the loop, so lag means kernel buffers are filling),
 * or the source itself reports falling behind (kernel socket drops in the last seconds), or `overload`
 * (the OverloadShedder) set exchanges aside in the last seconds. The sink is
 * unhealthy when it says so (ExchangeSink.healthy, e.g. --sink not connected or spooling).
 * Returns the reasons for not being ready, one short phrase each; empty = ready. No captured data.
 */
export function liveNotReadyReasons(source: LiveSource, lag: EventLoopLag, maxLagMs: number,
  also: { sink?: Pick<ExchangeSink, 'healthy'> | undefined; overload?: { shedding(): boolean } | undefined } = {}): () => string[] {
  const { sink, overload } = also;
  return () => {
    const why: string[] = [];
    if (!source.ready()) why.push('source not bound/open');
    const lagMs = lag.lagMs;
    if (maxLagMs > 0 && lagMs > maxLagMs) why.push(`event loop lag ${Math.round(lagMs)} ms over ${maxLagMs} ms`);
    if (source.shedding?.()) why.push('source shedding load (kernel drops)');
    if (overload?.shedding()) why.push('shedding exchanges (receive queue filling)');
    if (sink && !sinkHealthy(sink)) why.push('sink not healthy (not delivering: disconnected or spooling)');
    return why;
  };
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
  const shutdown = opts.shutdown ?? new ShutdownSignal();
  const lag = new EventLoopLag();
  lag.start();
  const maxLag = opts.maxEventLoopLagMs ?? DEFAULT_MAX_EVENT_LOOP_LAG_MS;
  // /readyz, the LB health port and the `ready` gauge: the receive path (bound, not shedding). The sink's
  // health is /readyz/sink and the `sink_healthy` gauge, never readiness: readiness decides where mirrored
  // packets go (the LB health check; Kubernetes drops a not-ready pod from the Service the NLB targets), and
  // a replay service that is down is down for every target alike while the spool keeps what arrives.
  const notReady = liveNotReadyReasons(source, lag, maxLag, { overload: opts.overload });
  const ready = (): boolean => notReady().length === 0;
  const sinkNotHealthy = liveNotReadyReasons(source, lag, maxLag, { sink, overload: opts.overload });
  const metrics = new Metrics(pipeline, () => ({
    ...(source.gauges ? source.gauges() : {}),
    event_loop_lag_seconds: lag.lagMs / 1000,
    ready: ready() ? 1 : 0,
    source_bound: source.ready() ? 1 : 0,
    sink_healthy: sinkHealthy(sink) ? 1 : 0,
  }));
  let lastSeen = 0;
  let lastPackets = 0;
  const servers: Array<http.Server | net.Server> = [];
  try {
    if (opts.httpPort) servers.push(await startHttpEndpoints(opts.httpHost, opts.httpPort, { notReady, sinkNotHealthy }, metrics, log));
    if (opts.healthPort) servers.push(await startHealthListener(opts.healthHost, opts.healthPort, ready));
    await source.start((frame) => pipeline.onFrame(frame));
  } catch (err) {
    lag.stop();
    for (const s of servers) s.close();
    if (opts.shutdown === undefined) shutdown.dispose();
    throw err;
  }
  source.pollStats?.(pipeline.counters);
  opts.onStarted?.();
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
            ...(c.exchanges_shed_overload ? { exchangesShed: c.exchanges_shed_overload } : {}),
            gapBytes: c.gap_bytes ?? 0,
            outcomes: pipeline.packetOutcomes.snapshot(),
            ...(opts.statsFields ? opts.statsFields() : {}),
          },
          'stats',
        );
      }, opts.statsIntervalMs)
    : undefined;

  const why = await (stop ? Promise.race([shutdown.received, stop.then(() => 'stop')]) : shutdown.received);
  shutdown.dispose();
  log.info({ reason: why }, 'shutting down: flushing open exchanges');
  clearInterval(tick);
  if (stats) clearInterval(stats);
  await source.stop();
  source.pollStats?.(pipeline.counters);
  opts.overload?.stop();
  pipeline.finish('shutdown');
  await sink.close();
  lag.stop();
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((r) => {
          s.close(() => r());
          (s as http.Server).closeAllConnections?.();
        }),
    ),
  );
  log.info({ packets: pipeline.packets, exchanges: pipeline.counters.get('exchanges_emitted'), counters: pipeline.counters.snapshot() }, 'stopped');
  return EXIT_OK;
}
