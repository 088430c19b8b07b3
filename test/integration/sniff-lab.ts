/**
 * Helpers of the sniff end-to-end tests: start the agent (test/helpers/run-sniff.ts) inside a
 * namespace, wait until it captures, stop it with SIGTERM, parse its JSON lines; run the sample
 * server/client (pcaps/gen) and read exchanges back from a pcap with the same pipeline as `read`.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { Pipeline } from '../../src/pipeline';
import { readCaptureInput } from '../../src/source/file-source';
import { compileRedactor, defaultRedactConfig } from '../../src/redact/index';
import { exchangeToProtoJson } from '../../src/exchange/proto-json';
import type { Exchange } from '../../src/exchange/record';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const RUN_SNIFF = path.join(ROOT, 'dist', 'test', 'helpers', 'run-sniff.js');
export const GEN = path.join(ROOT, 'pcaps', 'gen');
/** A fixed redaction key so that surrogates are the same in the agent and in `read`. */
export const REDACT_KEY_HEX = '5e'.repeat(32);

export interface Agent {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code after SIGTERM. */
  stop: () => Promise<number | null>;
}

/** Spawns `argv` (already wrapped in `ip netns exec ...`) and waits for the "capturing" log line. */
export async function startAgent(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Agent> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'pipe', env: { ...process.env, SHADOWTAP_REDACT_KEY: REDACT_KEY_HEX, ...env } });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stderr = (): string => Buffer.concat(err).toString('utf8');
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`agent did not start: ${stderr()}`)), 10_000);
    const check = (): void => {
      if (stderr().includes('"msg":"capturing"')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`agent exited ${code}: ${stderr()}`));
    });
  });
  return {
    child,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export function parseJsonl(text: string): Array<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

/** What must be identical between two captures of the same traffic (no timestamps, no ports). */
export function exchangeKey(e: Record<string, any>): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.stringify([
    e.request?.method, e.request?.url, e.request?.headers, e.request?.body ?? '',
    e.response?.status, e.response?.headers, e.response?.body ?? '', e.completeness ?? {},
  ]);
}

/** Exchanges of a pcap through the same pipeline + redaction as `read`, as proto3 JSON objects. */
export async function readPcapJson(file: string): Promise<Array<Record<string, any>>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const redactor = compileRedactor(defaultRedactConfig(), Buffer.from(REDACT_KEY_HEX, 'hex'));
  const out: Exchange[] = [];
  const p = new Pipeline({ source: 'file:x' }, (ex) => out.push(redactor.redact(ex)));
  await readCaptureInput(file, { onFrame: (f) => p.onFrame(f), onWeird: () => undefined });
  p.finish('end_of_input');
  return out.map((ex) => JSON.parse(JSON.stringify(exchangeToProtoJson(ex))));
}

/** Waits for a file to exist (server ready files). */
export async function waitFile(file: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GETs http://127.0.0.1:port/path inside `ns` → [status, body]. */
export function fetchInNs(ns: string, port: number, urlPath: string): Promise<[number, string]> {
  const code = `fetch('http://127.0.0.1:${port}${urlPath}').then(async r=>{process.stdout.write(r.status+'\\n'+await r.text())},e=>{process.stdout.write('0\\n'+e.message)})`;
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.once('close', () => {
      const s = Buffer.concat(out).toString('utf8');
      const nl = s.indexOf('\n');
      resolve([Number(s.slice(0, nl)), s.slice(nl + 1)]);
    });
  });
}

/** Value of one Prometheus sample line, e.g. `shadowtap_packets_total{outcome="duplicate_suppressed"}`. */
export function metric(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/** Requests the client printed ("req\tMETHOD\tURI" lines). */
export function clientRequests(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('req\t')).map((l) => l.slice(4));
}
