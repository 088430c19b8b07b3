/**
 * Value parsers shared by the configuration loaders. Each takes the raw value as it came from a
 * flag (string), an environment variable (string) or the YAML file (string, number, boolean or
 * list) plus `where` (e.g. `--vni`, `SHADOWTAP_VNI`, `mirror.yaml: vni`) and either returns the
 * typed value or throws a ConfigError whose message names `where`, the bad value and what is
 * expected. Used at start only; never on the packet path.
 */
import * as net from 'node:net';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import { defaultRedactWorkers } from '../redact/workers/default-workers';
import { defaultReadThreads, MAX_READ_THREADS } from '../shard/default-threads';

export class ConfigError extends ShadowtapError {
  constructor(message: string) {
    super('CAP_ERR_CONFIG', message, EXIT_USAGE);
    this.name = 'ConfigError';
  }
}

export const MAX_VNI = 0xffffff;

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}

function text(v: unknown, where: string, what: string): string {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new ConfigError(`${where}: expected ${what}, got ${show(v)}`);
}

export function parseInteger(v: unknown, where: string, min: number, max: number): number {
  const s = text(v, where, `an integer ${min}-${max}`);
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(`${where}: expected an integer ${min}-${max}, got ${show(v)}`);
  return n;
}

export function parseNumber(v: unknown, where: string, min: number, max: number): number {
  const s = text(v, where, `a number ${min}-${max}`);
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${where}: expected a number ${min}-${max}, got ${show(v)}`);
  return n;
}

export const MAX_REDACT_WORKERS = 64;

/**
 * Redaction worker threads: "auto" (or absent) = defaultRedactWorkers(), else an integer
 * 0-MAX_REDACT_WORKERS (0 = redact on the capture thread). For --redact-workers, its environment
 * variable and the config file key alike.
 */
export function parseRedactWorkers(v: unknown, where: string): number {
  const expected = `auto or an integer 0-${MAX_REDACT_WORKERS}`;
  if (v === undefined) return defaultRedactWorkers();
  const s = text(v, where, expected);
  if (s === 'auto') return defaultRedactWorkers();
  if (!/^\d+$/.test(s) || Number(s) > MAX_REDACT_WORKERS) throw new ConfigError(`${where}: expected ${expected}, got ${show(v)}`);
  return Number(s);
}

/** `read --threads`: auto (the measured default, defaultReadThreads) or 1-MAX_READ_THREADS. */
export function parseReadThreads(v: unknown, where: string): number {
  const expected = `auto or an integer 1-${MAX_READ_THREADS}`;
  if (v === undefined) return defaultReadThreads();
  const s = text(v, where, expected);
  if (s === 'auto') return defaultReadThreads();
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > MAX_READ_THREADS) throw new ConfigError(`${where}: expected ${expected}, got ${show(v)}`);
  return Number(s);
}

/** 0 allowed when `allowZero` (meaning "off"). */
export function parsePort(v: unknown, where: string, allowZero: boolean): number {
  return parseInteger(v, where, allowZero ? 0 : 1, 65535);
}

export function parseBoolean(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${where}: expected true or false, got ${show(v)}`);
}

export function parseString(v: unknown, where: string): string {
  const s = text(v, where, 'a string');
  if (s === '') throw new ConfigError(`${where}: must not be empty`);
  return s;
}

export function parseChoice<T extends string>(v: unknown, where: string, choices: readonly T[]): T {
  const s = text(v, where, `one of ${choices.join(', ')}`);
  if (!(choices as readonly string[]).includes(s)) throw new ConfigError(`${where}: expected one of ${choices.join(', ')}, got ${show(v)}`);
  return s as T;
}

/** "8m", "512k", "1g", "32MiB", 1048576 → bytes. */
export function parseByteSize(v: unknown, where: string, min: number, max: number): number {
  const s = text(v, where, 'a byte size like 32m, 512k or 1048576');
  const m = /^(\d+)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(s);
  if (!m) throw new ConfigError(`${where}: expected a byte size like 32m, 512k or 1048576, got ${show(v)}`);
  const unit = (m[2] ?? '').toLowerCase();
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  if (n < min || n > max) throw new ConfigError(`${where}: must be between ${min} and ${max} bytes, got ${show(v)}`);
  return n;
}

/** An IP literal (IPv6 with or without brackets). */
export function parseHost(v: unknown, where: string): string {
  const s = text(v, where, 'an IP address');
  const h = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  if (net.isIP(h) === 0) throw new ConfigError(`${where}: ${show(s)} is not an IP address (e.g. 0.0.0.0, 127.0.0.1 or ::)`);
  return h;
}

export interface HostPort {
  host: string;
  port: number;
}

/** "ADDR:PORT", "[v6]:PORT", ":PORT" (all IPv4 addresses) or "PORT". The address must be an IP literal. */
export function parseHostPort(v: unknown, where: string, defaultHost = '0.0.0.0'): HostPort {
  const s = text(v, where, 'ADDR:PORT');
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else if (/^\d+$/.test(s)) {
    host = defaultHost;
    port = s;
  } else {
    const c = s.lastIndexOf(':');
    if (c < 0 || s.indexOf(':') !== c) throw new ConfigError(`${where}: expected ADDR:PORT (e.g. 0.0.0.0:4789 or [::]:4789), got ${show(v)}`);
    host = c === 0 ? defaultHost : s.slice(0, c);
    port = s.slice(c + 1);
  }
  if (net.isIP(host) === 0) throw new ConfigError(`${where}: ${show(host)} is not an IP address (use an address such as 0.0.0.0, 10.0.0.5 or [::])`);
  return { host, port: parsePort(port, where, false) };
}

/**
 * VNI list: "42,43", "100-199,7", a YAML list [42, 43] or a single number. Each VNI 0-16777215;
 * ranges at most 65536 long; duplicates are fine. An empty list is an error (it would match nothing).
 */
export function parseVniList(v: unknown, where: string): number[] {
  const items: unknown[] = Array.isArray(v) ? v : typeof v === 'number' ? [v] : typeof v === 'string' ? v.split(',') : [v];
  const out = new Set<number>();
  for (const raw of items) {
    const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
    if (s === undefined) throw new ConfigError(`${where}: bad VNI list: ${show(raw)} is not a VNI`);
    if (s === '') {
      if (items.length === 1) throw new ConfigError(`${where}: bad VNI list: empty (give VNIs like 42,43 or a range 100-199)`);
      throw new ConfigError(`${where}: bad VNI list ${show(v)}: empty entry`);
    }
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(s);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      if (lo > MAX_VNI || hi > MAX_VNI || lo > hi) throw new ConfigError(`${where}: bad VNI range ${show(s)}: VNIs are 0-${MAX_VNI} and the range must ascend`);
      if (hi - lo >= 65536) throw new ConfigError(`${where}: VNI range ${show(s)} is too wide (at most 65536 VNIs)`);
      for (let n = lo; n <= hi; n++) out.add(n);
      continue;
    }
    if (!/^\d+$/.test(s) || Number(s) > MAX_VNI) {
      throw new ConfigError(`${where}: bad VNI list ${show(v)}: ${show(s)} is not a VNI (an integer 0-${MAX_VNI})`);
    }
    out.add(Number(s));
  }
  return [...out].sort((a, b) => a - b);
}
