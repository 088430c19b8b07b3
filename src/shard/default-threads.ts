import * as os from 'node:os';

export const MAX_READ_THREADS = 16;

/**
 * `read --threads auto`: how many threads share the connections (1 = the single-thread pipeline).
 * Provisional until measured: one per core, at most 8.
 */
export function defaultReadThreads(cores = os.availableParallelism()): number {
  return Math.min(8, Math.max(1, cores));
}
