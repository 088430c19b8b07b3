import * as fs from 'node:fs';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import type { Counters } from '../observe/counters';
import { compileRedactor, defaultRedactConfig, loadOrCreateKey, parseRedactRules, RedactConfigError, type Redactor } from '../redact/index';

export interface RedactionFlags {
  noRedact: boolean;
  rulesFile?: string | undefined;
  keyFile?: string | undefined;
}

/**
 * Builds the redactor once at start. Bad rules or an unreadable rules file fail here, never later.
 * Returns null only for an explicit --no-redact, after a loud warning.
 */
export function redactorFromFlags(flags: RedactionFlags, warn: (msg: string) => void, counters?: Counters): Redactor | null {
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
    return compileRedactor(config, loadOrCreateKey(flags.keyFile), counters);
  } catch (err) {
    if (err instanceof RedactConfigError) throw new ShadowtapError('CAP_ERR_REDACT_RULES', err.message, EXIT_USAGE);
    if (err instanceof ShadowtapError) throw err;
    throw new ShadowtapError('CAP_ERR_REDACT_KEY', `redaction key: ${(err as Error).message}`, EXIT_USAGE);
  }
}
