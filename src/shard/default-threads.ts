import * as os from 'node:os';

export const MAX_READ_THREADS = 16;

/**
 * `read --threads auto`: how many threads share the connections (1 = the single-thread pipeline).
 * One per core besides the capture thread's, at most 8; one on 1-2 cores. Measured on a 2-core machine
 * (docs/benchmarks.md, "Sixth session"): two shard threads beside the capture thread cost ~60% more CPU than
 * one thread for the same work (each thread's own heap, caches, module set, and the hand-over of every
 * segment and every encoded exchange). Without redaction two cores do not win that back; with it they saved
 * 4-27% of the wall time (four runs) but need ~310 MB of RSS against 160-200 MB, over the 256 MB aim — so one
 * thread there, and `--threads 2` for whoever has the memory. The capture thread's own share (read, decode,
 * hand-over, merge) is about a third of the single-thread time without redaction and a tenth with it: that
 * is the part more cores do not split.
 */
export function defaultReadThreads(cores = os.availableParallelism()): number {
  return cores <= 2 ? 1 : Math.min(8, cores - 1);
}
