/**
 * The node-local HMAC key (pseudonymisation secret, GDPR Art. 4(5): it never leaves the node and is never
 * logged). Order: env SHADOWTAP_REDACT_KEY (hex or base64, >= 32 bytes) → keyFile → generate 32 random bytes
 * and write them to keyFile with mode 0600.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RedactConfigError } from './errors';

export const MIN_KEY_BYTES = 32;

/** `$SHADOWTAP_STATE_DIR/redact.key`, else `~/.local/state/shadowtap/redact.key`. */
export function defaultKeyFile(): string {
  const dir = process.env.SHADOWTAP_STATE_DIR;
  if (dir !== undefined && dir !== '') return join(dir, 'redact.key');
  return join(homedir(), '.local', 'state', 'shadowtap', 'redact.key');
}

/** Decodes a key text: hex (even length, only hex digits) or base64/base64url. Returns undefined if neither. */
export function decodeKeyText(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.length === 0) return undefined;
  if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  return undefined;
}

function checkLength(key: Buffer, where: string): Buffer {
  if (key.length < MIN_KEY_BYTES) {
    throw new RedactConfigError(`redaction key from ${where} is ${key.length} bytes; at least ${MIN_KEY_BYTES} are required`);
  }
  return key;
}

/**
 * Loads the HMAC key: from env SHADOWTAP_REDACT_KEY (hex or base64, >= 32 bytes), or keyFile; when neither exists,
 * generates 32 random bytes and writes them to keyFile with mode 0600 (default path: ~/.local/state/shadowtap/redact.key
 * or $SHADOWTAP_STATE_DIR/redact.key). Never logs the key. Throws RedactConfigError for a short or unreadable key.
 * A key file may hold raw bytes (as generated) or a hex/base64 text line.
 */
export function loadOrCreateKey(keyFile?: string): Buffer {
  const env = process.env.SHADOWTAP_REDACT_KEY;
  if (env !== undefined && env !== '') {
    const k = decodeKeyText(env);
    if (k === undefined) throw new RedactConfigError('SHADOWTAP_REDACT_KEY is neither hex nor base64');
    return checkLength(k, 'SHADOWTAP_REDACT_KEY');
  }
  const file = keyFile ?? defaultKeyFile();
  let raw: Buffer | undefined;
  try {
    raw = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new RedactConfigError(`cannot read redaction key file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (raw !== undefined) {
    // Text form when the whole file is printable hex/base64 of >= 32 bytes; raw bytes otherwise.
    const text = /^[\x20-\x7e\r\n\t]*$/.test(raw.toString('latin1')) ? decodeKeyText(raw.toString('latin1')) : undefined;
    return checkLength(text !== undefined && text.length >= MIN_KEY_BYTES ? text : raw, `key file ${file}`);
  }
  const key = randomBytes(MIN_KEY_BYTES);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // 'wx': never overwrite a key another process created in the meantime.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, key);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(file);
    throw new RedactConfigError(`cannot create redaction key file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return key;
}
