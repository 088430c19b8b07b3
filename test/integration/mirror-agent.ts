/**
 * Runs `shadowtap mirror` (through test/helpers/run-mirror.js) as a child process for the
 * integration tests, optionally inside a network namespace (`prefix` = ['ip','netns','exec',NS]).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const RUN_MIRROR = path.join(__dirname, '..', 'helpers', 'run-mirror.js');

export interface Agent {
  proc: ChildProcess;
  stderr(): string;
  /** Resolves once the agent logged "capturing" (rejects if it exits first or after `ms`). */
  started(ms?: number): Promise<void>;
  /** Resolves with the exit code (signal → -1). */
  exited(): Promise<number>;
  /** Sends `sig` and waits for the exit code. */
  stop(sig?: NodeJS.Signals, ms?: number): Promise<number>;
}

export function startAgent(args: string[], prefix: string[] = []): Agent {
  const cmd = [...prefix, process.execPath, RUN_MIRROR, ...args];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHADOWTAP_LOG_LEVEL: 'info' } });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exit = new Promise<number>((resolve) => proc.on('exit', (code) => resolve(code ?? -1)));
  return {
    proc,
    stderr: () => err,
    started: (ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const t0 = Date.now();
        const poll = (): void => {
          if (err.includes('"msg":"capturing"')) return resolve();
          if (proc.exitCode !== null) return reject(new Error(`agent exited ${proc.exitCode}: ${err}`));
          if (Date.now() - t0 > ms) return reject(new Error(`agent did not start in ${ms} ms: ${err}`));
          setTimeout(poll, 25);
        };
        poll();
      }),
    exited: () => exit,
    stop: async (sig = 'SIGTERM', ms = 15_000) => {
      if (proc.exitCode === null) proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), ms);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
}

/** Runs the agent to completion (for configuration errors): exit code and stderr. */
export function runAgentOnce(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [RUN_MIRROR, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stderr: err });
    });
  });
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** TCP connect to the health port: 'accepted' (peer closed cleanly) or 'reset'/'refused'. */
export function tcpProbe(host: string, port: number): Promise<'accepted' | 'reset' | 'refused'> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on('connect', () => undefined);
    s.on('end', () => resolve('accepted'));
    s.on('close', () => resolve('accepted'));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'reset'));
    s.resume();
  });
}

export function readJsonl(file: string): Array<Record<string, any>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** A value of one sample line in Prometheus text (`name{labels} value`), undefined when absent. */
export function metricValue(text: string, nameWithLabels: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(nameWithLabels + ' ')) return Number(line.slice(nameWithLabels.length + 1));
  }
  return undefined;
}

/** A free port (TCP and UDP) on 127.0.0.1, probably (closed again before use). */
export { freePort } from '../helpers/async-utils';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
