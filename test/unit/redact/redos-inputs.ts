/**
 * Adversarial inputs for the redaction detectors, one per detector worst case (long runs of its own token
 * class, near misses that force backtracking, many anchors), at any size. Shared by redos.test.ts (linear
 * scaling, asserted) and bench/redact.bench.ts --redos (the 50 ms per 1 MiB budget, reported).
 */
import { performance } from 'node:perf_hooks';

export const MiB = 1 << 20;

/** `unit` repeated to exactly `n` code units. */
export function fill(unit: string, n: number): string {
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** Case name → input of about `n` code units (the prefix/suffix anchors add a few). */
export const REDOS_CASES: Record<string, (n: number) => string> = {
  email_local_run: (n) => fill('a', n) + '@',
  email_many_at: (n) => fill('a@', n),
  email_domain_run: (n) => '@' + fill('a', n),
  email_dots: (n) => fill('a.', n),
  digits_run: (n) => fill('1', n),
  digits_spaced: (n) => fill('1 ', n),
  digits_dashed: (n) => fill('12-', n),
  plus_digits: (n) => fill('+1', n),
  ipv4_dots: (n) => fill('1.', n),
  ipv6_hex_colon: (n) => fill('a:', n),
  ipv6_hex_run: (n) => fill('abcdef0123', n),
  iban_like: (n) => fill('DE12', n),
  iban_spaced: (n) => 'DE12 ' + fill('A ', n),
  jwt_prefix: (n) => fill('eyJ', n),
  jwt_near: (n) => 'eyJ' + fill('a', n) + '.',
  jwt_dots: (n) => fill('eyJa.', n),
  bearer_many: (n) => fill('Bearer ', n),
  bearer_long: (n) => 'Bearer ' + fill('x', n),
  basic_many: (n) => fill('Basic QUFBQUFB ', n), // decodes, no ':' (near miss)
  basic_short: (n) => fill('Basic QQ== ', n),
  aws_like: (n) => fill('AKIA', n),
  kv_pairs: (n) => fill('a=b:', n),
  kv_keys: (n) => fill('password=', n),
  percent: (n) => '%41 ' + fill('b', n),
  percent_many: (n) => fill('%4', n),
  url_like: (n) => 'https://' + fill('a/', n),
  query_like: (n) => fill('a=1&', n),
  json_open: (n) => fill('{"a":', n),
};

/** CPU seconds (user + system of this process) of `f()`. */
export function cpuSeconds(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** Best (lowest) CPU seconds of `runs` calls of `f`, after one untimed warm-up call (JIT, caches). */
export function bestCpu(f: () => void, runs: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  f();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    gc?.();
    best = Math.min(best, cpuSeconds(f));
  }
  return best;
}

/** Wall milliseconds, for reports next to CPU time. */
export function wallMs(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

export interface Scaling {
  /** CPU seconds of one call on the small input (best of runs; each timing covers `reps` calls / reps). */
  small: number;
  /** CPU seconds of one call on the big input (best of runs). */
  big: number;
  /** big / small: ≈ size ratio when linear, ≈ its square when quadratic. */
  ratio: number;
}

/**
 * Measures `run` on an input of `smallN` and of `bigN` code units in the same process. The small input is timed
 * over bigN/smallN calls in a row (the same total bytes as one big call) so that its time is not at the clock's
 * noise floor; a fixed per-call overhead then only lowers the ratio.
 */
export function measureScaling(run: (s: string) => void, make: (n: number) => string, smallN: number, bigN: number, runs: number): Scaling {
  const smallIn = make(smallN);
  const bigIn = make(bigN);
  const reps = Math.max(1, Math.round(bigN / smallN));
  const small = bestCpu(() => { for (let i = 0; i < reps; i++) run(smallIn); }, runs) / reps;
  const big = bestCpu(() => run(bigIn), runs);
  return { small, big, ratio: big / Math.max(small, 1e-6) };
}
