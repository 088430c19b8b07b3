/**
 * Configuration of `shadowtap mirror`: defaults, then a YAML file (`--config FILE` or
 * SHADOWTAP_CONFIG), then environment variables (SHADOWTAP_*), then command-line flags; the later
 * source wins per key. Every key has one name used in all three places:
 *
 *   YAML key        flag              env                         default
 *   listen          --listen          SHADOWTAP_LISTEN            0.0.0.0:4789   (VXLAN, UDP)
 *   geneve-listen   --geneve-listen   SHADOWTAP_GENEVE_LISTEN     (off)          (GENEVE, UDP, usually :6081)
 *   vni             --vni             SHADOWTAP_VNI               (all)          allow list "42,43,100-199"
 *   vni-deny        --vni-deny        SHADOWTAP_VNI_DENY          (none)
 *   output          -o/--output       SHADOWTAP_OUTPUT            - (stdout)
 *   format          -f/--format       SHADOWTAP_FORMAT            jsonl          jsonl | pb | har
 *   health-port     --health-port     SHADOWTAP_HEALTH_PORT       4789 (TCP; 0 = off) NLB default = traffic port
 *   health-host     --health-host     SHADOWTAP_HEALTH_HOST       0.0.0.0
 *   http-port       --http-port       SHADOWTAP_HTTP_PORT         9465 (0 = off) /healthz /readyz /metrics
 *   http-host       --http-host       SHADOWTAP_HTTP_HOST         0.0.0.0
 *   rcvbuf          --rcvbuf          SHADOWTAP_RCVBUF            64m            SO_RCVBUF per socket
 *   rcvbuf-force    --rcvbuf-force    SHADOWTAP_RCVBUF_FORCE      true           native receiver: SO_RCVBUFFORCE first (CAP_NET_ADMIN)
 *   udp-receiver    --udp-receiver    SHADOWTAP_UDP_RECEIVER      auto           auto | native (udp-batch, recvmmsg) | dgram
 *   max-lag-ms      --max-lag-ms      SHADOWTAP_MAX_LAG_MS        1000 (0 = off) readiness bound on event-loop lag
 *   shed-at         --shed-at         SHADOWTAP_SHED_AT           50 (% of the receive buffer; 0 = never) overload: set whole exchanges aside
 *   stats-interval  --stats-interval  SHADOWTAP_STATS_INTERVAL    60 (s; 0 = never)
 *   log-level       --log-level       SHADOWTAP_LOG_LEVEL         info
 *   redact          --no-redact       SHADOWTAP_REDACT            true
 *   redact-rules    --redact-rules    SHADOWTAP_REDACT_RULES      (built-in rules only)
 *   redact-key-file --redact-key-file SHADOWTAP_REDACT_KEY_FILE   ($SHADOWTAP_REDACT_KEY or a per-node key)
 *   redact-workers  --redact-workers  SHADOWTAP_REDACT_WORKERS    auto           redaction threads (0 = on the capture thread; auto = cores - 1, at most 8; 0 on 1-2 cores)
 *   max-flows       --max-flows       SHADOWTAP_MAX_FLOWS         (flow table default)
 *
 * Unknown YAML keys are errors (a typo must not silently fall back to a default). Unknown
 * SHADOWTAP_* variables are ignored: the environment is shared with other commands.
 * The result is frozen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import {
  ConfigError,
  parseBoolean,
  parseByteSize,
  parseChoice,
  parseHost,
  parseHostPort,
  parseInteger,
  parsePort,
  parseRedactWorkers,
  parseString,
  parseVniList,
  type HostPort,
} from './values';
import { OUTPUT_FORMATS, type OutputFormat } from '../cli/output-options';
import { UDP_RECEIVERS, type UdpReceiverChoice } from '../source/udp-mirror-source';

export interface MirrorConfig {
  listen: HostPort;
  geneveListen?: HostPort;
  /** VNI allow list (undefined = every VNI). */
  vniAllow?: readonly number[];
  vniDeny?: readonly number[];
  output: string;
  format: OutputFormat;
  healthHost: string;
  healthPort: number;
  httpHost: string;
  httpPort: number;
  rcvbufBytes: number;
  /** Native receiver: try SO_RCVBUFFORCE (past net.core.rmem_max) before SO_RCVBUF. */
  rcvbufForce: boolean;
  udpReceiver: UdpReceiverChoice;
  maxLagMs: number;
  /** Receive-queue fill (percent) from which exchanges are shed (see OverloadShedder). 0 = never. */
  shedAtPercent: number;
  statsIntervalSeconds: number;
  logLevel: string;
  redact: boolean;
  redactRules?: string;
  redactKeyFile?: string;
  /** Redaction worker threads; 0 = redact on the capture thread. */
  redactWorkers: number;
  maxFlows?: number;
  /** Where each key's value came from (default, file, env, flag) — for the startup log line. */
  origins: Readonly<Record<string, string>>;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

interface Field {
  key: string;
  apply(cfg: Partial<MirrorConfig>, value: unknown, where: string): void;
}

const FIELDS: readonly Field[] = [
  { key: 'listen', apply: (c, v, w) => (c.listen = parseHostPort(v, w)) },
  { key: 'geneve-listen', apply: (c, v, w) => (c.geneveListen = parseHostPort(v, w)) },
  { key: 'vni', apply: (c, v, w) => (c.vniAllow = parseVniList(v, w)) },
  { key: 'vni-deny', apply: (c, v, w) => (c.vniDeny = parseVniList(v, w)) },
  { key: 'output', apply: (c, v, w) => (c.output = parseString(v, w)) },
  { key: 'format', apply: (c, v, w) => (c.format = parseChoice(v, w, OUTPUT_FORMATS)) },
  { key: 'health-port', apply: (c, v, w) => (c.healthPort = parsePort(v, w, true)) },
  { key: 'health-host', apply: (c, v, w) => (c.healthHost = parseHost(v, w)) },
  { key: 'http-port', apply: (c, v, w) => (c.httpPort = parsePort(v, w, true)) },
  { key: 'http-host', apply: (c, v, w) => (c.httpHost = parseHost(v, w)) },
  // At most 1 GiB; 1g itself is taken as 1 GiB - 1, the most the kernel takes (it doubles the value into an int).
  { key: 'rcvbuf', apply: (c, v, w) => (c.rcvbufBytes = Math.min(parseByteSize(v, w, 4096, 2 ** 30), 2 ** 30 - 1)) },
  { key: 'rcvbuf-force', apply: (c, v, w) => (c.rcvbufForce = parseBoolean(v, w)) },
  { key: 'udp-receiver', apply: (c, v, w) => (c.udpReceiver = parseChoice(v, w, UDP_RECEIVERS)) },
  { key: 'max-lag-ms', apply: (c, v, w) => (c.maxLagMs = parseInteger(v, w, 0, 600_000)) },
  { key: 'shed-at', apply: (c, v, w) => (c.shedAtPercent = parseInteger(v, w, 0, 99)) },
  { key: 'stats-interval', apply: (c, v, w) => (c.statsIntervalSeconds = parseInteger(v, w, 0, 86_400)) },
  { key: 'log-level', apply: (c, v, w) => (c.logLevel = parseChoice(v, w, LOG_LEVELS)) },
  { key: 'redact', apply: (c, v, w) => (c.redact = parseBoolean(v, w)) },
  { key: 'redact-rules', apply: (c, v, w) => (c.redactRules = parseString(v, w)) },
  { key: 'redact-key-file', apply: (c, v, w) => (c.redactKeyFile = parseString(v, w)) },
  { key: 'redact-workers', apply: (c, v, w) => (c.redactWorkers = parseRedactWorkers(v, w)) },
  { key: 'max-flows', apply: (c, v, w) => (c.maxFlows = parseInteger(v, w, 16, 10_000_000)) },
];

export const MIRROR_CONFIG_KEYS: readonly string[] = FIELDS.map((f) => f.key);

export const MIRROR_DEFAULTS = Object.freeze({
  listen: '0.0.0.0:4789',
  output: '-',
  format: 'jsonl',
  'health-host': '0.0.0.0',
  'health-port': 4789,
  'http-host': '0.0.0.0',
  'http-port': 9465,
  rcvbuf: 64 * 1024 * 1024,
  'rcvbuf-force': true,
  'udp-receiver': 'auto',
  'max-lag-ms': 1000,
  'shed-at': 50,
  'stats-interval': 60,
  'log-level': 'info',
  redact: true,
  'redact-workers': 'auto',
});

export function envName(key: string): string {
  return 'SHADOWTAP_' + key.toUpperCase().replace(/-/g, '_');
}

/** Flag values as given on the command line (already split by parseArgs): key → raw string/boolean. */
export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * Merges defaults, the YAML file, the environment and flags into a frozen MirrorConfig.
 * `configFile` undefined = SHADOWTAP_CONFIG if set, else none. Throws ConfigError (exit 1) with one
 * clear line for any bad value, unreadable file, YAML syntax error or unknown key.
 */
export function loadMirrorConfig(flags: FlagValues, env: NodeJS.ProcessEnv, configFile?: string): MirrorConfig {
  const layers: Array<{ name: string; values: Record<string, unknown>; where: (k: string) => string }> = [];
  layers.push({ name: 'default', values: { ...MIRROR_DEFAULTS }, where: (k) => `default ${k}` });
  const file = configFile ?? (env.SHADOWTAP_CONFIG ? env.SHADOWTAP_CONFIG : undefined);
  if (file !== undefined) {
    const label = path.basename(file);
    layers.push({ name: `file ${file}`, values: readYamlConfig(file), where: (k) => `${label}: ${k}` });
  }
  const fromEnv: Record<string, unknown> = {};
  for (const key of MIRROR_CONFIG_KEYS) {
    const v = env[envName(key)];
    if (v !== undefined && v !== '') fromEnv[key] = v;
  }
  layers.push({ name: 'env', values: fromEnv, where: (k) => envName(k) });
  const fromFlags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) fromFlags[k] = v;
  layers.push({ name: 'flag', values: fromFlags, where: (k) => (k === 'redact' ? '--no-redact' : `--${k}`) });

  const cfg: Partial<MirrorConfig> = {};
  const origins: Record<string, string> = {};
  for (const layer of layers) {
    for (const f of FIELDS) {
      if (!(f.key in layer.values)) continue;
      const v = layer.values[f.key];
      if (v === null && layer.name.startsWith('file')) continue; // `key:` with no value = not set
      f.apply(cfg, v, layer.where(f.key));
      origins[f.key] = layer.name;
    }
  }
  if (cfg.geneveListen && cfg.listen && cfg.geneveListen.port === cfg.listen.port && cfg.geneveListen.host === cfg.listen.host) {
    throw new ConfigError(`geneve-listen ${cfg.geneveListen.host}:${cfg.geneveListen.port} is the same socket as listen; GENEVE needs its own port (usually 6081)`);
  }
  if (cfg.httpPort && cfg.healthPort && cfg.httpPort === cfg.healthPort) {
    throw new ConfigError(`http-port and health-port are both ${cfg.httpPort}; give them different TCP ports (or 0 to turn one off)`);
  }
  if (cfg.vniAllow && cfg.vniDeny) {
    const deny = new Set(cfg.vniDeny);
    if (cfg.vniAllow.every((v) => deny.has(v))) throw new ConfigError(`vni-deny removes every VNI of the vni allow list: nothing would be captured`);
  }
  cfg.origins = Object.freeze(origins);
  return Object.freeze(cfg as MirrorConfig);
}

function readYamlConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    throw new ConfigError(`config file ${file}: not valid YAML: ${msg}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${file}: expected a mapping of keys (listen: ..., vni: ...), got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  const values = doc as Record<string, unknown>;
  for (const k of Object.keys(values)) {
    if (!MIRROR_CONFIG_KEYS.includes(k)) {
      const hint = closest(k, MIRROR_CONFIG_KEYS);
      throw new ConfigError(`config file ${file}: unknown key "${k}"${hint ? ` (did you mean "${hint}"?)` : ''}; known keys: ${MIRROR_CONFIG_KEYS.join(', ')}`);
    }
  }
  return values;
}

/** The known key within edit distance 2, if any. */
function closest(k: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of known) {
    const d = editDistance(k.toLowerCase().replace(/_/g, '-'), c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
