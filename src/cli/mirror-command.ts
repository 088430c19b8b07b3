import { parseArgs } from 'node:util';
import { Pipeline } from '../pipeline';
import { Counters } from '../observe/counters';
import { EXIT_OK } from '../errors';
import { LIVE_FLUSH_MS, openOutput } from './output-options';
import type { ShutdownSignal } from '../live/shutdown-signal';
import { SINK_HELP, SINK_OPTIONS } from './sink-options';
import { attachLiveSink } from './attach-sink';
import { OverloadShedder } from '../live/overload-shedder';
import { REDACTION_HELP, redactingSink, redactionFromFlags } from './redaction-options';
import { createLogger } from '../observe/logger';
import { runLive } from '../live/live-runner';
import { UdpMirrorSource } from '../source/udp-mirror-source';
import { loadMirrorConfig, MIRROR_DEFAULTS, type FlagValues, type MirrorConfig } from '../config/mirror-config';
import type { Exchange } from '../exchange/record';

const HELP = `Usage: shadowtap mirror [options]

An AWS VPC Traffic Mirroring target (also Azure vTAP, GCP packet mirroring over GENEVE): receives
mirrored traffic on UDP, VXLAN (RFC 7348, port 4789) and optionally GENEVE (RFC 8926, port 6081:
AWS Gateway Load Balancer GENEVE→IPv4→UDP 4789→VXLAN→Ethernet, or GCP GENEVE→IP), and writes the
HTTP exchanges it carries, redacted, to stdout or -o FILE until SIGTERM/SIGINT (then open exchanges
are flushed, flagged partial). Flows are keyed by (VNI, inner 5-tuple). Nothing is ever sent back.

Receive:
      --listen ADDR:PORT       VXLAN socket (default ${MIRROR_DEFAULTS.listen})
      --geneve-listen ADDR:PORT  GENEVE socket (default off; AWS GWLB / GCP use :6081)
      --vni LIST               only these VNIs, e.g. 42,43 or 100-199 (default all)
      --vni-deny LIST          drop these VNIs
      --rcvbuf BYTES           SO_RCVBUF per socket, suffix k/m/g (default 64m, at most 1g; capped by
                               net.core.rmem_max unless the native receiver may force it: CAP_NET_ADMIN and --rcvbuf-force)
      --rcvbuf-force BOOL      native receiver: SO_RCVBUFFORCE past net.core.rmem_max (default true)
      --udp-receiver KIND      auto (default: native if built, else dgram), native (batched recvmmsg,
                               optional package udp-batch; error if unavailable) or dgram (node:dgram)
      --max-flows N            TCP connections tracked at once

Output (as in read):
  -o, --output FILE            write exchanges to FILE instead of stdout
  -f, --format FMT             jsonl (default), pb, har
${REDACTION_HELP}
Operations:
      --health-port N          TCP port for NLB/GWLB health checks: accepts while ready, resets
                               otherwise (default ${MIRROR_DEFAULTS['health-port']}, the NLB default "traffic port"; 0 = off)
      --health-host ADDR       (default 0.0.0.0)
      --http-port N            GET /healthz /readyz /readyz/sink /metrics (default ${MIRROR_DEFAULTS['http-port']}; 0 = off)
      --http-host ADDR         (default 0.0.0.0)
      --max-lag-ms N           not ready while the event loop lags more than N ms (default 1000; 0 = off)
      --shed-at PCT            overload: while the fullest UDP receive queue holds over PCT % of its buffer, set
                               a growing share of whole exchanges aside before redaction (all of them halfway
                               to full), counted as exchanges_shed_overload, instead of letting the kernel drop
                               packets that would damage many (default ${MIRROR_DEFAULTS['shed-at']}; 0 = never)
      --stats-interval S       seconds between stats log lines (default 60; 0 = never)
      --log-level LEVEL        pino level (default info)
      --config FILE            YAML file with the same keys (listen, geneve-listen, vni, vni-deny, output,
                               format, health-port, http-port, rcvbuf, redact, ...); env SHADOWTAP_CONFIG

Every option can also come from the environment as SHADOWTAP_<KEY> (e.g. SHADOWTAP_VNI=42,43,
SHADOWTAP_REDACT=false). Precedence: flags > environment > config file > defaults.

Ready (/readyz 200, health port accepting) = every UDP socket bound and not shedding load: the event
loop lagged at most --max-lag-ms in the last 1-2 s, the kernel dropped no datagram on our sockets and
no exchange was shed (--shed-at) in the last 2 s. Not ready: /readyz 503 lists the reasons. /readyz/sink adds the --sink's health
(connected, not spooling); it is not part of readiness, which decides where the mirror goes.
Exit status: 0 after a clean shutdown; 1 usage or configuration error (bad value, unknown config key,
port in use); 4 output failed.
`;

/** `shadowtap mirror`: resolves to the exit status; configuration errors throw ShadowtapError. */
export async function runMirror(argv: string[], shutdown?: ShutdownSignal): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      listen: { type: 'string' },
      'geneve-listen': { type: 'string' },
      vni: { type: 'string' },
      'vni-deny': { type: 'string' },
      rcvbuf: { type: 'string' },
      'rcvbuf-force': { type: 'string' },
      'udp-receiver': { type: 'string' },
      'max-flows': { type: 'string' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'f' },
      'redact-rules': { type: 'string' },
      'redact-key-file': { type: 'string' },
      'no-redact': { type: 'boolean' },
      'redact-workers': { type: 'string' },
      'health-port': { type: 'string' },
      'health-host': { type: 'string' },
      'http-port': { type: 'string' },
      'http-host': { type: 'string' },
      'max-lag-ms': { type: 'string' },
      'shed-at': { type: 'string' },
      'stats-interval': { type: 'string' },
      'log-level': { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...SINK_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n' + SINK_HELP);
    return EXIT_OK;
  }
  const all = values as Record<string, unknown>;
  const sinkValues: Record<string, unknown> = { output: all.output };
  for (const k of Object.keys(SINK_OPTIONS)) {
    sinkValues[k] = all[k];
    delete all[k];
  }
  const { config: configFile, help: _help, 'no-redact': noRedact, ...rest } = all;
  const flags = { ...rest, redact: noRedact ? false : undefined } as FlagValues;
  const cfg = loadMirrorConfig(flags, process.env, configFile as string | undefined);
  return runMirrorWith(cfg, undefined, undefined, sinkValues, shutdown);
}

/** Runs the mirror target with a loaded configuration (also the entry point for embedding/tests). */
export async function runMirrorWith(
  cfg: MirrorConfig,
  stop?: Promise<void>,
  onStarted?: (source: UdpMirrorSource) => void,
  sinkValues: Record<string, unknown> = {},
  shutdown?: ShutdownSignal,
): Promise<number> {
  const warn = (msg: string): void => {
    process.stderr.write(`shadowtap: ${msg}\n`);
  };
  const base = createLogger(cfg.logLevel);
  const log = base.child({ component: 'mirror' });
  const counters = new Counters();
  const redaction = redactionFromFlags({ noRedact: !cfg.redact, rulesFile: cfg.redactRules, keyFile: cfg.redactKeyFile }, warn, counters);
  const source = new UdpMirrorSource(
    { listen: cfg.listen, geneveListen: cfg.geneveListen, rcvbufBytes: cfg.rcvbufBytes, receiver: cfg.udpReceiver, forceRcvbuf: cfg.rcvbufForce },
    base.child({ component: 'udp' }),
  );
  // The shedder sits before redaction: an exchange set aside under overload costs no redaction.
  const sink = new OverloadShedder(
    redactingSink(
      attachLiveSink(sinkValues, () => openOutput(cfg.format, cfg.output, { flushAfterMs: LIVE_FLUSH_MS }), counters, (m) => log.warn(m), 'mirror'),
      redaction, cfg.redactWorkers, counters, (m) => log.warn(m)),
    () => source.queueFill(), counters, cfg.shedAtPercent / 100, undefined, (e) => {
      if (e.kind === 'start') log.warn({ queueFillPercent: e.fillPercent, shedAtPercent: cfg.shedAtPercent }, 'overload: shedding exchanges before redaction (receive queue filling)');
      else log.info({ exchangesShed: e.exchangesShed, seconds: e.seconds }, 'overload over: no exchange shed for 2 s');
    });
  const pipeline = new Pipeline(
    {
      source: source.name,
      counters,
      decoder: {
        ...(cfg.vniAllow ? { vniAllow: new Set(cfg.vniAllow) } : {}),
        ...(cfg.vniDeny ? { vniDeny: new Set(cfg.vniDeny) } : {}),
      },
      ...(cfg.maxFlows !== undefined ? { flows: { maxFlows: cfg.maxFlows } } : {}),
    },
    (ex: Exchange) => {
      sink.write(ex);
    },
  );
  log.info(
    {
      listen: `${cfg.listen.host}:${cfg.listen.port}`,
      geneveListen: cfg.geneveListen ? `${cfg.geneveListen.host}:${cfg.geneveListen.port}` : undefined,
      vniAllow: cfg.vniAllow && cfg.vniAllow.length <= 32 ? cfg.vniAllow : cfg.vniAllow ? `${cfg.vniAllow.length} VNIs` : undefined,
      vniDeny: cfg.vniDeny && cfg.vniDeny.length <= 32 ? cfg.vniDeny : cfg.vniDeny ? `${cfg.vniDeny.length} VNIs` : undefined,
      format: cfg.format,
      output: cfg.output === '-' ? 'stdout' : cfg.output,
      redact: cfg.redact,
      shedAtPercent: cfg.shedAtPercent,
      origins: cfg.origins,
    },
    'mirror target starting',
  );
  try {
    return await runLive(
      source,
      pipeline,
      sink,
      {
        httpHost: cfg.httpHost,
        httpPort: cfg.httpPort,
        healthHost: cfg.healthHost,
        healthPort: cfg.healthPort,
        statsIntervalMs: cfg.statsIntervalSeconds * 1000,
        maxEventLoopLagMs: cfg.maxLagMs,
        overload: sink,
        onStarted: () => onStarted?.(source),
        ...(shutdown ? { shutdown } : {}),
      },
      log,
      stop,
    );
  } catch (err) {
    await sink.close().catch(() => undefined);
    throw err;
  }
}
