/**
 * Network-namespace fixtures for tests that need real kernel traffic (root only).
 *
 * `canUseNetns()` says whether such tests can run here ('' = yes, else the reason to
 * print when skipping). `withNetnsPair(prefix, fn)` builds two fresh namespaces joined
 * by a veth pair, runs `fn`, and always tears everything down again, including every
 * process `fn` started inside the two namespaces.
 *
 * Topology for prefix P (P matches [a-z][a-z0-9]{0,9}; one prefix per test file so
 * parallel test files do not collide):
 *
 *   netns P-a                                netns P-b
 *   P-va 10.231.X.1/24  <----- veth ----->   P-vb 10.231.X.2/24
 *
 * X is derived from P (FNV-1a mod 256). Addresses exist only inside the two
 * namespaces, which have no route anywhere else; IPv6 is disabled in both (no ND/MLD
 * noise in captures); lo is up in both.
 *
 * Usage:
 *   const why = canUseNetns();
 *   test('live capture', { skip: why || false }, () => withNetnsPair('lc', async (p) => {
 *     const srv = p.spawn(p.nsB, 'node', ['server.js', p.ipB, '8080']);
 *     const r = await p.exec(p.nsA, 'curl', ['-s', `http://${p.ipB}:8080/`]);
 *     assert.equal(r.code, 0);
 *   }));
 */
import { spawn as spawnChild, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Outcome of `NetnsPair.exec`; a non-zero exit is a result, not an error. */
export interface ExecResult {
  /** Exit code, or null when the process was killed by a signal (e.g. the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the command ran past `timeoutMs` and was killed. */
  timedOut: boolean;
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this many milliseconds; default 10000. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
}

export interface NetnsPair {
  /** Namespace names: `${prefix}-a`, `${prefix}-b`. */
  nsA: string;
  nsB: string;
  /** IPv4 addresses (no prefix length) of ifA in nsA and ifB in nsB. */
  ipA: string;
  ipB: string;
  /** Veth ends: ifA lives in nsA, ifB in nsB. */
  ifA: string;
  ifB: string;
  /** Runs `cmd args` inside `ns` (nsA or nsB) to completion. */
  exec(ns: string, cmd: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a long-running `cmd args` inside `ns` (e.g. a server or tcpdump) and returns the
   * child; stdio is piped. Children still running when `fn` ends are killed at teardown.
   */
  spawn(ns: string, cmd: string, args?: readonly string[]): ChildProcess;
}

const PREFIX_RE = /^[a-z][a-z0-9]{0,9}$/;
const DEFAULT_TIMEOUT_MS = 10_000;

let cachedReason: string | undefined;

function ip(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { ok: false, out: r.error.message };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function nsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/**
 * '' when this process is root and can create and delete a network namespace;
 * otherwise a one-line reason for skipping. The probe runs once per process.
 */
export function canUseNetns(): string {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = probe();
  return cachedReason;
}

function probe(): string {
  if (process.platform !== 'linux') return `network namespaces need Linux (platform is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (ip netns)';
  const version = ip(['-V']);
  if (!version.ok) return `iproute2 'ip' not usable: ${version.out}`;
  const name = `stprobe${process.pid}`;
  const add = ip(['netns', 'add', name]);
  if (!add.ok) return `'ip netns add' failed: ${add.out}`;
  const del = ip(['netns', 'del', name]);
  if (!del.ok) return `'ip netns del' failed: ${del.out}`;
  return '';
}

/** 10.231.X with X = FNV-1a(prefix) mod 256. */
export function netnsBlock(prefix: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) {
    h ^= prefix.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `10.231.${h & 0xff}`;
}

function mustIp(args: readonly string[]): void {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
}

function disableIpv6(ns: string): void {
  // Best effort: a kernel without IPv6 has nothing to disable.
  for (const key of ['all', 'default']) {
    spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${key}/disable_ipv6`], {
      timeout: 5_000,
    });
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopChildren(children: Set<ChildProcess>): Promise<void> {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill('SIGTERM');
  const done = await Promise.all(running.map((c) => waitExit(c, 2_000)));
  running.forEach((c, i) => {
    if (!done[i]) c.kill('SIGKILL');
  });
  await Promise.all(running.map((c) => waitExit(c, 2_000)));
}

/** Kills what is still inside `ns` (only processes the test started can be there). */
function killNamespacePids(ns: string): void {
  if (!nsExists(ns)) return;
  const r = ip(['netns', 'pids', ns]);
  if (!r.ok) return;
  for (const pid of r.out.split(/\s+/).filter(Boolean).map(Number)) {
    if (pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

function teardown(names: readonly string[]): void {
  for (const ns of names) killNamespacePids(ns);
  for (const ns of names) {
    if (nsExists(ns)) ip(['netns', 'del', ns]); // deleting nsA also removes the veth pair
  }
}

/**
 * Creates the pair described in the module comment, runs `fn`, and tears everything
 * down whatever `fn` does (returns, throws or rejects). Throws if the pair cannot be
 * built (callers should have skipped on `canUseNetns() !== ''`) or if `prefix` is
 * invalid. Namespaces left over from a killed earlier run with the same prefix are
 * removed first: a prefix belongs to one test file.
 */
export async function withNetnsPair<T>(prefix: string, fn: (pair: NetnsPair) => Promise<T> | T): Promise<T> {
  if (!PREFIX_RE.test(prefix)) throw new Error(`netns prefix must match ${PREFIX_RE}, got '${prefix}'`);
  const why = canUseNetns();
  if (why !== '') throw new Error(`network namespaces unavailable: ${why}`);

  const block = netnsBlock(prefix);
  const nsA = `${prefix}-a`;
  const nsB = `${prefix}-b`;
  const ifA = `${prefix}-va`;
  const ifB = `${prefix}-vb`;
  const ipA = `${block}.1`;
  const ipB = `${block}.2`;
  const names = [nsA, nsB] as const;
  const children = new Set<ChildProcess>();

  const inPair = (ns: string): void => {
    if (ns !== nsA && ns !== nsB) throw new Error(`namespace '${ns}' is not ${nsA} or ${nsB}`);
  };

  const pair: NetnsPair = {
    nsA,
    nsB,
    ipA,
    ipB,
    ifA,
    ifB,
    exec(ns, cmd, args = [], opts = {}) {
      return new Promise<ExecResult>((resolve, reject) => {
        inPair(ns); // a throw here rejects the promise
        const child = spawnChild('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe' });
        children.add(child);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        child.stdout.on('data', (d: Buffer) => out.push(d));
        child.stderr.on('data', (d: Buffer) => err.push(d));
        child.once('error', (e) => {
          clearTimeout(timer);
          children.delete(child);
          reject(e);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          children.delete(child);
          resolve({
            code,
            signal,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
            timedOut,
          });
        });
        child.stdin.on('error', () => undefined); // command exited before reading its input
        child.stdin.end(opts.input ?? '');
      });
    },
    spawn(ns, cmd, args = []) {
      inPair(ns);
      const child = spawnChild('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe' });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
  };

  teardown(names); // leftovers of a killed earlier run
  try {
    mustIp(['netns', 'add', nsA]);
    mustIp(['netns', 'add', nsB]);
    for (const ns of names) {
      disableIpv6(ns);
      mustIp(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    mustIp(['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    mustIp(['-n', nsA, 'addr', 'add', `${ipA}/24`, 'dev', ifA]);
    mustIp(['-n', nsB, 'addr', 'add', `${ipB}/24`, 'dev', ifB]);
    mustIp(['-n', nsA, 'link', 'set', ifA, 'up']);
    mustIp(['-n', nsB, 'link', 'set', ifB, 'up']);
    return await fn(pair);
  } finally {
    await stopChildren(children);
    teardown(names);
  }
}
