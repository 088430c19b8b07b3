/**
 * Helpers of the delivery integration tests: real processes of the test-only driver
 * (dist/test/helpers/delivery-cli.js: collect / inspect / read --sink), a collector that can be
 * SIGKILLed and started again on the same port and store, and store/baseline comparisons.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, TEST_REDACT_KEY, runCli } from './read-support';

export const DRIVER = path.join(ROOT, 'dist', 'test', 'helpers', 'delivery-cli.js');

export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `shadowtap-${tag}-`));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

export { freePort } from '../helpers/async-utils';

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every child this file started; any still running when the test process ends is killed. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export function spawnDriver(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [DRIVER, ...args], {
    cwd: ROOT,
    env: { ...process.env, SHADOWTAP_REDACT_KEY: TEST_REDACT_KEY, SHADOWTAP_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  const err: Buffer[] = [];
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => Buffer.concat(err).toString('utf8'), exited };
}

/** Starts `collect` and resolves once its "listening" log line is out. */
export async function startCollector(store: string, port: number, extra: string[] = []): Promise<Proc & { port: number }> {
  const p = spawnDriver(['collect', '--listen', `127.0.0.1:${port}`, '--store', store, ...extra]);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(p.stderr());
    if (m) return { ...p, port: Number(m[1]) };
    if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`collector did not start:\n${p.stderr()}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

/** Bytes in the store's segment files (0 when none yet). */
export function storeBytes(store: string): number {
  const d = path.join(store, 'segments');
  if (!fs.existsSync(d)) return 0;
  return fs.readdirSync(d).filter((n) => n.endsWith('.seg')).reduce((n, f) => n + fs.statSync(path.join(d, f)).size, 0);
}

export function spoolFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.spool')) : [];
}

/** `inspect STORE` as JSON lines, sorted. */
export async function inspectLines(store: string): Promise<string[]> {
  const out = tmpFile('inspect.jsonl');
  const p = spawnDriver(['inspect', store, '-o', out]);
  const r = await p.exited;
  if (r.code !== 0) throw new Error(`inspect failed (${r.code}): ${p.stderr()}`);
  return fs.readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').sort();
}

let n = 0;
const scratch = tmpDir('dlv');
export function tmpFile(name: string): string {
  return path.join(scratch, `${n++}-${name}`);
}

/** `shadowtap read FILE --no-redact -o` through the real CLI, sorted lines. */
export async function baselineLines(pcap: string): Promise<string[]> {
  const out = tmpFile('baseline.jsonl');
  const r = await runCli(['read', pcap, '--no-redact', '--stats', 'none', '-o', out], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`read failed: ${r.stderr}`);
  return fs.readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').sort();
}

/** Lines that are not exactly once: missing ones and duplicated ones (a few of each, for the message). */
export function exactlyOnceProblems(got: string[], want: string[]): string {
  const count = new Map<string, number>();
  for (const l of got) count.set(l, (count.get(l) ?? 0) + 1);
  const missing: string[] = [];
  const dup: string[] = [];
  for (const l of want) {
    const c = count.get(l) ?? 0;
    if (c === 0) missing.push(l);
    else if (c > 1) dup.push(l);
    count.delete(l);
  }
  const extra = [...count.keys()];
  if (!missing.length && !dup.length && !extra.length) return '';
  const s = (a: string[]): string => a.slice(0, 2).map((l) => l.slice(0, 160)).join('\n      ');
  return `got ${got.length} lines, want ${want.length}: ${missing.length} missing, ${dup.length} duplicated, ${extra.length} unexpected\n    missing: ${s(missing)}\n    dup: ${s(dup)}\n    extra: ${s(extra)}`;
}

/** The counters JSON line the driver prints at the end of `read`. */
export function driverCounters(stderr: string): Record<string, number> {
  const line = stderr.split('\n').find((l) => l.startsWith('{"counters"'));
  if (!line) throw new Error(`no counters line in:\n${stderr}`);
  return (JSON.parse(line) as { counters: Record<string, number> }).counters;
}
