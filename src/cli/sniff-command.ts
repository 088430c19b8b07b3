import { parseArgs } from 'node:util';
import { Counters } from '../observe/counters';
import { Pipeline } from '../pipeline';
import { ShadowtapError, EXIT_OK, EXIT_USAGE } from '../errors';
import { LIVE_FLUSH_MS, openOutput, parseFormat } from './output-options';
import type { ShutdownSignal } from '../live/shutdown-signal';
import { SINK_HELP, SINK_OPTIONS } from './sink-options';
import { attachLiveSink } from './attach-sink';
import { REDACTION_HELP, redactingSink, redactionFromFlags } from './redaction-options';
import { parseRedactWorkers } from '../config/values';
import { createLogger } from '../observe/logger';
import { runLive } from '../live/live-runner';
import { LiveCaptureSource, loadCap, DEFAULT_LIVE_CAPTURE } from '../source/live-capture-source';
import { dedupSource, DEFAULT_DEDUP_OPTIONS } from '../dedup/index';
import type { LiveSource } from '../live/live-source';
import type { Exchange } from '../exchange/record';

export const SNIFF_DEFAULT_HTTP_PORT = 9464;

const HELP = `Usage: shadowtap sniff -i IFACE [-i IFACE ...] [options]

Captures on network interfaces with libpcap (the node sniffer of the Kubernetes DaemonSet) and writes
the HTTP exchanges it sees, redacted, to stdout or -o FILE, until SIGTERM/SIGINT (open exchanges are
flushed as partial). Serves /healthz, /readyz, /readyz/sink and Prometheus /metrics on --http-port;
/readyz is 503, with the reasons, while no interface is open or the event loop lags; /readyz/sink also
while a --sink is disconnected or spooling.

Capture:
  -i, --interface IFACE      a device name (eth0), a glob (veth*, 'cali*'), or any; repeatable. Devices
                             matching a glob that appear later (pod veths) are picked up at each rescan
      --exclude IFACE        name or glob to leave out (repeatable), e.g. -i any --exclude lo
  -f, --filter EXPR          libpcap filter, e.g. 'tcp port 8080' (default: everything)
      --snaplen N            bytes kept per packet, 64-65535 (default 65535)
      --promisc              promiscuous mode (always on: the cap binding enables it on every handle)
      --buffer-size BYTES    kernel capture buffer per interface; suffix k/m/g (default 8m)
      --rescan-interval S    seconds between device-list polls: globs pick up new devices, an interface
                             whose capture failed (went down, deleted) is reopened when it is back
                             (default 5; 0 = never)
      --no-dedup             keep packets seen twice (on a veth and the bridge, or twice on any)
      --dedup-window-ms N    how long a packet is remembered for dedup (default 200)
      --dedup-capacity N     dedup table slots, 16 bytes each (default 65536)
      --duration S           stop by itself after S seconds (tests, benchmarks)

Output (as in read):
  -o, --output FILE          write exchanges to FILE instead of stdout
  -F, --format FMT           jsonl (default), pb, har
${REDACTION_HELP}      --vxlan-port N / --geneve-port N   UDP ports carrying tunnels (repeatable)

Operations:
      --http-port N          /healthz /readyz /readyz/sink /metrics (default ${SNIFF_DEFAULT_HTTP_PORT}; 0 = off)
      --http-host ADDR       (default 0.0.0.0)
      --stats-interval S     seconds between stats log lines (default 60; 0 = never)
      --log-level LEVEL      pino level (default info; env SHADOWTAP_LOG_LEVEL)

Needs CAP_NET_RAW (root, setcap on node, or the container capability NET_RAW). An interface that goes
down or is deleted while captured is closed and counted (sniff_interfaces_gone); the others go on.
libpcap's own counters are on /metrics and in the stats line: libpcap_received, libpcap_dropped,
libpcap_if_dropped. Exit status: 0 after a clean shutdown; 1 usage, permission, interface or filter error.
`;

function intFlag(value: string | undefined, flag: string, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be an integer ${min}-${max} (got "${value}")`, EXIT_USAGE);
  return n;
}

function numberFlag(value: string | undefined, flag: string, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be a number ${min}-${max} (got "${value}")`, EXIT_USAGE);
  return n;
}

/** "8m", "512k", "1g", "1048576" → bytes. */
export function parseByteSize(value: string, flag: string): number {
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(value.trim());
  if (!m) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be a byte count like 8m, 512k or 1048576 (got "${value}")`, EXIT_USAGE);
  const unit = (m[2] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

function ports(values: string[] | undefined, flag: string): number[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values.map((v) => intFlag(v, flag, 1, 65535, 0));
}

/** `shadowtap sniff`: resolves to the exit status; configuration errors throw ShadowtapError. */
export async function runSniff(argv: string[], shutdown?: ShutdownSignal): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      interface: { type: 'string', short: 'i', multiple: true },
      exclude: { type: 'string', multiple: true },
      filter: { type: 'string', short: 'f' },
      snaplen: { type: 'string' },
      promisc: { type: 'boolean' },
      'no-promisc': { type: 'boolean' },
      'buffer-size': { type: 'string' },
      'rescan-interval': { type: 'string' },
      'no-dedup': { type: 'boolean' },
      'dedup-window-ms': { type: 'string' },
      'dedup-capacity': { type: 'string' },
      duration: { type: 'string' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'F' },
      ...SINK_OPTIONS,
      'redact-rules': { type: 'string' },
      'redact-key-file': { type: 'string' },
      'no-redact': { type: 'boolean' },
      'redact-workers': { type: 'string' },
      'vxlan-port': { type: 'string', multiple: true },
      'geneve-port': { type: 'string', multiple: true },
      'http-port': { type: 'string' },
      'http-host': { type: 'string' },
      'stats-interval': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n' + SINK_HELP);
    return EXIT_OK;
  }
  const interfaces = values.interface ?? [];
  if (interfaces.length === 0) throw new ShadowtapError('CAP_ERR_USAGE', 'sniff needs -i IFACE (a name, a glob like "veth*", or any); try: shadowtap sniff --help', EXIT_USAGE);
  if (values['no-promisc']) {
    throw new ShadowtapError('CAP_ERR_USAGE', '--no-promisc is not supported: the cap binding (0.2.1) always opens interfaces in promiscuous mode', EXIT_USAGE);
  }
  const format = parseFormat(values.format);
  const snaplen = intFlag(values.snaplen, '--snaplen', 64, 65535, DEFAULT_LIVE_CAPTURE.snaplen);
  const bufferSize = values['buffer-size'] === undefined ? DEFAULT_LIVE_CAPTURE.bufferSize : parseByteSize(values['buffer-size'], '--buffer-size');
  const rescanMs = numberFlag(values['rescan-interval'], '--rescan-interval', 0, 3600, DEFAULT_LIVE_CAPTURE.rescanMs / 1000) * 1000;
  const dedupWindowMs = numberFlag(values['dedup-window-ms'], '--dedup-window-ms', 0.001, 60_000, DEFAULT_DEDUP_OPTIONS.windowMicros / 1000);
  const dedupCapacity = intFlag(values['dedup-capacity'], '--dedup-capacity', 1024, 1 << 24, DEFAULT_DEDUP_OPTIONS.capacity);
  const duration = values.duration === undefined ? 0 : numberFlag(values.duration, '--duration', 0.001, 1e7, 0);
  const httpPort = intFlag(values['http-port'], '--http-port', 0, 65535, SNIFF_DEFAULT_HTTP_PORT);
  const statsSeconds = numberFlag(values['stats-interval'], '--stats-interval', 0, 86400, 60);
  const redactWorkers = parseRedactWorkers(values['redact-workers'], '--redact-workers');
  const vxlanPorts = ports(values['vxlan-port'], '--vxlan-port');
  const genevePorts = ports(values['geneve-port'], '--geneve-port');
  const warn = (msg: string): void => {
    process.stderr.write(`shadowtap: ${msg}\n`);
  };

  // Fails with what to install when libpcap / cap is missing; read and mirror never load cap.
  const cap = loadCap();
  const log = createLogger(values['log-level']).child({ component: 'sniff' });
  const counters = new Counters();
  const redaction = redactionFromFlags({ noRedact: !!values['no-redact'], rulesFile: values['redact-rules'], keyFile: values['redact-key-file'] }, warn, counters);
  const capture = new LiveCaptureSource(
    { interfaces, exclude: values.exclude ?? [], filter: values.filter ?? '', snaplen, bufferSize, rescanMs },
    { cap, log },
  );
  const sink = redactingSink(
    attachLiveSink(values as Record<string, unknown>, () => openOutput(format, values.output ?? '-', { flushAfterMs: LIVE_FLUSH_MS }), counters, (m) => log.warn(m), 'sniff'),
    redaction, redactWorkers, counters, (m) => log.warn(m));
  const pipeline = new Pipeline(
    {
      source: capture.name,
      counters,
      decoder: { ...(vxlanPorts ? { vxlanPorts } : {}), ...(genevePorts ? { genevePorts } : {}) },
    },
    (ex: Exchange) => {
      sink.write(ex);
    },
  );
  const source: LiveSource = values['no-dedup'] ? capture : dedupSource(capture, pipeline, { windowMicros: dedupWindowMs * 1000, capacity: dedupCapacity });
  let timer: NodeJS.Timeout | undefined;
  const stop = duration > 0 ? new Promise<void>((resolve) => (timer = setTimeout(resolve, duration * 1000))) : undefined;
  try {
    return await runLive(
      source,
      pipeline,
      sink,
      {
        httpHost: values['http-host'] ?? '0.0.0.0',
        httpPort,
        healthHost: '0.0.0.0',
        healthPort: 0,
        statsIntervalMs: statsSeconds * 1000,
        statsFields: () => ({ ...capture.libpcapStats(), interfacesOpen: capture.devices.length }),
        ...(shutdown ? { shutdown } : {}),
      },
      log,
      stop,
    );
  } catch (err) {
    await sink.close().catch(() => undefined);
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
