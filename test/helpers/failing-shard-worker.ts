/**
 * A shard worker that fails on purpose, for sharded-read tests: the real worker (src/shard/shard-worker.ts),
 * plus a listener registered first that, on message number FAIL_SHARD_WORKER_AT (1-based, from the
 * environment the worker inherits), ends the thread (FAIL_SHARD_WORKER_MODE=exit), throws from the listener
 * (=throw), or answers with an error (=error; the real worker's answer then arrives second).
 */
import { parentPort } from 'node:worker_threads';

const at = Number(process.env.FAIL_SHARD_WORKER_AT ?? '1');
const mode = process.env.FAIL_SHARD_WORKER_MODE ?? 'exit';
let n = 0;
parentPort!.on('message', (msg: { type: string; round: number }) => {
  if (msg.type === 'recycle' || ++n !== at) return;
  if (mode === 'exit') process.exit(3);
  if (mode === 'throw') throw new Error('failing-shard-worker: thrown on purpose');
  parentPort!.postMessage({ round: msg.round, error: 'failing-shard-worker: refused on purpose' });
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../src/shard/shard-worker');
