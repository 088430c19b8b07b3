/**
 * Worker-thread entry: compiles its own redactor from the same rules and key as the main thread (so every
 * surrogate is the same whichever thread makes it) and redacts the batches it is sent, in order.
 *
 * Protocol (see worker-redact-sink.ts): workerData = { config, key, port }, all messages on `port`; in: { seq, vals, bytes } with `bytes`
 * transferred; out: { seq, vals, bytes, counters } with `bytes` transferred, where `counters` are the live
 * counters (name, increment, …) the batch counted, or { seq, error } when the batch failed as a whole
 * (the main thread then redacts it itself). The redactor itself never throws.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { Counters } from '../../observe/counters';
import type { RedactConfig } from '../config';
import { compileRedactor } from '../redactor';
import { decodeBatch, encodeResults, type Flat } from './transfer';

export interface RedactWorkerData {
  config: RedactConfig;
  key: Uint8Array;
  /** Batches in, results out (a port of its own lets the main thread poll results synchronously). */
  port: MessagePort;
}

export interface BatchIn {
  seq: number;
  vals: Flat;
  bytes: Uint8Array;
}

export type BatchOut = { seq: number; vals: Flat; bytes: Uint8Array; counters: Flat } | { seq: number; error: string };

const data = workerData as RedactWorkerData;
const counters = new Counters();
const redactor = compileRedactor(data.config, Buffer.from(data.key), counters);
const port = data.port;

port.on('message', (msg: BatchIn) => {
  let out: BatchOut;
  const transfer: ArrayBuffer[] = [];
  try {
    const exs = decodeBatch(msg);
    const inputBodies: Array<Buffer | undefined> = [];
    for (const ex of exs) {
      inputBodies.push(ex.request?.body, ex.response?.body);
      redactor.redact(ex);
    }
    const res = encodeResults(exs, inputBodies);
    out = { seq: msg.seq, vals: res.vals, bytes: res.bytes, counters: counters.drain() };
    transfer.push(res.bytes.buffer as ArrayBuffer);
  } catch (err) {
    counters.drain();
    out = { seq: msg.seq, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(out, transfer);
});
