import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ShadowtapError, EXIT_OK, EXIT_USAGE } from '../errors';
import { Counters } from '../observe/counters';
import { createLogger } from '../observe/logger';
import { Collector } from '../collect/collector';
import { Store } from '../collect/store';
import { parseDuration, parseSize } from '../delivery/units';

const HELP = `Usage: shadowtap collect --store DIR [options]

The replay service's receiving end: accepts agents (read/mirror/sniff --sink tcp://… or tls://…),
stores each batch of exchanges once on local disk, and acknowledges it after it is durable.
Read the store with \`shadowtap inspect DIR\`. Logs are JSON lines on stderr; runs until SIGTERM/SIGINT.

Options:
      --listen HOST:PORT     where to listen (default 0.0.0.0:7070; port 0 = any free port)
      --store DIR            store directory (created when missing)
      --token T              shared token agents must send (or $SHADOWTAP_COLLECT_TOKEN)
      --tls-cert FILE --tls-key FILE   serve TLS
      --tls-ca FILE          require client certificates signed by this CA (mutual TLS)
      --retention-bytes N    delete the oldest segments past this size (e.g. 50G; default unbounded)
      --retention-age D      delete segments older than this (e.g. 7d; default forever)
      --segment-bytes N      roll segment files at this size (default 64M)
      --idle-timeout D       close connections silent for this long (default 60s)
      --max-frame-bytes N    largest frame accepted (default 16M)
`;

function listenAddr(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) throw new ShadowtapError('CAP_ERR_USAGE', `--listen must be HOST:PORT (got "${text}")`, EXIT_USAGE);
  const port = Number(m[3]);
  if (port > 65535) throw new ShadowtapError('CAP_ERR_USAGE', `--listen port must be 0-65535 (got ${port})`, EXIT_USAGE);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function sizeFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = parseSize(v);
  if (n === undefined) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be a size like 10G (got "${v}")`, EXIT_USAGE);
  return n;
}

function durationFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = parseDuration(v);
  if (n === undefined) throw new ShadowtapError('CAP_ERR_USAGE', `${flag} must be a duration like 7d (got "${v}")`, EXIT_USAGE);
  return n;
}

function readFlagFile(v: string | undefined, flag: string): Buffer | undefined {
  if (v === undefined) return undefined;
  try {
    return fs.readFileSync(v);
  } catch (err) {
    throw new ShadowtapError('CAP_ERR_USAGE', `${flag} ${v}: ${(err as Error).message}`, EXIT_USAGE);
  }
}

export async function runCollect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      listen: { type: 'string' },
      store: { type: 'string' },
      token: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'retention-bytes': { type: 'string' },
      'retention-age': { type: 'string' },
      'segment-bytes': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-frame-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  if (positionals.length) throw new ShadowtapError('CAP_ERR_USAGE', `collect takes no arguments (got "${positionals[0]}"); try: shadowtap collect --help`, EXIT_USAGE);
  if (!values.store) throw new ShadowtapError('CAP_ERR_USAGE', 'collect needs --store DIR', EXIT_USAGE);
  const { host, port } = listenAddr(values.listen ?? '0.0.0.0:7070');
  const cert = readFlagFile(values['tls-cert'], '--tls-cert');
  const key = readFlagFile(values['tls-key'], '--tls-key');
  const ca = readFlagFile(values['tls-ca'], '--tls-ca');
  if (!!cert !== !!key) throw new ShadowtapError('CAP_ERR_USAGE', '--tls-cert and --tls-key go together', EXIT_USAGE);
  if (ca && !cert) throw new ShadowtapError('CAP_ERR_USAGE', '--tls-ca needs --tls-cert and --tls-key', EXIT_USAGE);
  const token = values.token ?? process.env.SHADOWTAP_COLLECT_TOKEN ?? '';
  const retentionBytes = sizeFlag(values['retention-bytes'], '--retention-bytes');
  const retentionAgeMs = durationFlag(values['retention-age'], '--retention-age');
  const segmentBytes = sizeFlag(values['segment-bytes'], '--segment-bytes');
  const idleTimeoutMs = durationFlag(values['idle-timeout'], '--idle-timeout');
  const maxFrameBytes = sizeFlag(values['max-frame-bytes'], '--max-frame-bytes');

  const log = createLogger().child({ component: 'collect' });
  let store: Store;
  try {
    store = await Store.open(
      {
        dir: values.store,
        ...(segmentBytes !== undefined ? { segmentBytes } : {}),
        ...(retentionBytes !== undefined ? { retentionBytes } : {}),
        ...(retentionAgeMs !== undefined ? { retentionAgeMs } : {}),
      },
      (msg, extra) => log.info(extra ?? {}, msg),
    );
  } catch (err) {
    throw new ShadowtapError('CAP_ERR_STORE', `cannot open store ${values.store}: ${(err as Error).message}`, EXIT_USAGE);
  }
  const counters = new Counters();
  const collector = new Collector(
    {
      host,
      port,
      token,
      ...(cert && key ? { tls: { cert, key, ...(ca ? { ca } : {}) } } : {}),
      ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
    },
    store,
    counters,
    log,
  );
  let addr: { host: string; port: number };
  try {
    addr = await collector.listen();
  } catch (err) {
    throw new ShadowtapError('CAP_ERR_LISTEN', `cannot listen on ${host}:${port}: ${(err as Error).message}`, EXIT_USAGE);
  }
  log.info(
    { host: addr.host, port: addr.port, store: values.store, tls: !!cert, mtls: !!ca, auth: token ? 'token' : cert && ca ? 'mtls' : 'none', batches: store.batchCount },
    'listening',
  );
  const sig = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal: sig }, 'shutting down');
  await collector.close();
  await store.close();
  log.info({ ...counters.snapshot(), ...store.stats }, 'stopped');
  return EXIT_OK;
}
