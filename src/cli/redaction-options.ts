import * as fs from 'node:fs';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import type { Counters } from '../observe/counters';
import { sinkHealthy, type ExchangeSink } from '../sink/exchange-sink';
import { compileRedactor, defaultRedactConfig, loadOrCreateKey, parseRedactRules, RedactConfigError, type RedactConfig, type Redactor } from '../redact/index';
import { WorkerRedactSink } from '../redact/workers/worker-redact-sink';

/** The redaction options' help lines, the same in read, sniff and mirror (ends with a newline). */
export const REDACTION_HELP = `      --redact-rules FILE    redaction rules (YAML) on top of the built-in defaults
      --redact-key-file FILE HMAC key for redaction surrogates (default: $SHADOWTAP_REDACT_KEY or a per-node key)
      --no-redact            write captured values unredacted (warns)
      --redact-workers N|auto
                             redaction threads besides the capture thread (0 = none; auto = cores - 1,
                             at most 8; none on 1-2 cores)
`;

export interface RedactionFlags {
  noRedact: boolean;
  rulesFile?: string | undefined;
  keyFile?: string | undefined;
}

/** A compiled redactor with what it was compiled from (worker threads compile their own from the same). */
export interface Redaction {
  redactor: Redactor;
  config: RedactConfig;
  key: Buffer;
}

/**
 * The sink that every exchange passes on its way to `inner`: redaction on `workers` worker threads (in write
 * order, see WorkerRedactSink), on the calling thread when workers is 0, none for --no-redact (null).
 * The returned sink is healthy while `inner` is.
 */
export function redactingSink(inner: ExchangeSink, redaction: Redaction | null, workers: number, counters: Counters,
  warn: (msg: string) => void): ExchangeSink {
  if (redaction === null) return inner;
  const { redactor, config, key } = redaction;
  if (workers <= 0) {
    return {
      write: (ex) => inner.write(redactor.redact(ex)),
      close: () => inner.close(),
      get healthy() {
        return sinkHealthy(inner);
      },
    };
  }
  return new WorkerRedactSink(inner, { workers, config, key, counters, inline: redactor, warn });
}

/**
 * Builds the redactor once at start. Bad rules or an unreadable rules file fail here, never later.
 * Returns null only for an explicit --no-redact, after a loud warning.
 */
export function redactionFromFlags(flags: RedactionFlags, warn: (msg: string) => void, counters?: Counters): Redaction | null {
  if (flags.noRedact) {
    warn('WARNING: --no-redact: captured personal data (cookies, tokens, emails, card numbers, ...) will be written unredacted');
    return null;
  }
  let config = defaultRedactConfig();
  if (flags.rulesFile) {
    let text: string;
    try {
      text = fs.readFileSync(flags.rulesFile, 'utf8');
    } catch (err) {
      throw new ShadowtapError('CAP_ERR_REDACT_RULES', `cannot read redaction rules ${flags.rulesFile}: ${(err as Error).message}`, EXIT_USAGE);
    }
    try {
      config = parseRedactRules(text);
    } catch (err) {
      if (err instanceof RedactConfigError) throw new ShadowtapError('CAP_ERR_REDACT_RULES', `${flags.rulesFile}: ${err.message}`, EXIT_USAGE);
      throw err;
    }
  }
  try {
    const key = loadOrCreateKey(flags.keyFile);
    return { redactor: compileRedactor(config, key, counters), config, key };
  } catch (err) {
    if (err instanceof RedactConfigError) throw new ShadowtapError('CAP_ERR_REDACT_RULES', err.message, EXIT_USAGE);
    if (err instanceof ShadowtapError) throw err;
    throw new ShadowtapError('CAP_ERR_REDACT_KEY', `redaction key: ${(err as Error).message}`, EXIT_USAGE);
  }
}
