/**
 * A redaction worker that fails on purpose, for worker-redact-sink tests: the real worker
 * (src/redact/workers/redact-worker.ts), plus a listener registered first that, on batch number
 * FAIL_REDACT_WORKER_AT (1-based, from the environment the worker inherits), either ends the thread
 * (FAIL_REDACT_WORKER_MODE=exit), throws from the listener (=throw), or answers the batch with an error (=error;
 * the real worker's answer to that batch then arrives second and must be ignored).
 */
import { workerData, type MessagePort } from 'node:worker_threads';

const port = (workerData as { port: MessagePort }).port;
const at = Number(process.env.FAIL_REDACT_WORKER_AT ?? '1');
const mode = process.env.FAIL_REDACT_WORKER_MODE ?? 'exit';
let n = 0;
port.on('message', (msg: { seq: number }) => {
  if (++n !== at) return;
  if (mode === 'exit') process.exit(3);
  if (mode === 'throw') throw new Error('failing-redact-worker: thrown on purpose');
  port.postMessage({ seq: msg.seq, error: 'failing-redact-worker: refused on purpose' });
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../src/redact/workers/redact-worker');
