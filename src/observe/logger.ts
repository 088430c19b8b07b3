import pino, { type Logger } from 'pino';

/**
 * The pino logger of the long-running modes: JSON lines on stderr (stdout may carry exchanges).
 * Captured values never belong in a log line; as a second line of defence pino's own redaction
 * censors the fields where they could slip in (headers, bodies, urls, cookies, tokens).
 */
export const LOG_REDACT_PATHS = [
  'headers', '*.headers', 'body', '*.body', 'url', '*.url', 'cookie', '*.cookie', 'authorization', '*.authorization',
  'token', '*.token', 'key', '*.key', 'password', '*.password', 'request', 'response',
];

export function createLogger(level = process.env.SHADOWTAP_LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { app: 'shadowtap' },
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(opts, destination) : pino(opts, pino.destination({ fd: 2, sync: true }));
}
