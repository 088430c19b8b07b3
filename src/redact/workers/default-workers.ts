import * as os from 'node:os';

/**
 * Default worker count: the cores left after the capture thread, at most 8; none on 1-2 cores. Measured on a
 * 2-core machine (docs/benchmarks.md): with one worker, `read` of bench-large saved 9-23% of wall time (two
 * runs) for 26-50% more CPU and ~100 MB of RSS (over the 256 MB aim), and `mirror` took 40,000 datagrams/s
 * without loss against 50,000 on the capture thread alone. Two busy threads there cost 30-50% more CPU each for the same work (shared caches and memory),
 * more than the overlap gains; a second isolate and its caches come on top.
 */
export function defaultRedactWorkers(cores = os.availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 1);
}
