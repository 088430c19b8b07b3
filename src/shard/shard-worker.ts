/**
 * Worker-thread entry of sharded `read`: one shard's connections, from decoded TCP segment to encoded
 * exchange. Runs FlowStage (flow table, reassembly, HTTP) on the segments the capture thread sends it,
 * redacts each exchange with its own redactor (same rules and key as every other thread, so the same
 * surrogates), encodes it in the output format, and sends the bytes back with each exchange's place in
 * the single-thread order (see ShardOrderKey in sharded-read.ts).
 *
 * Protocol (messages with the parent): in ShardRound (a round's records, bytes transferred) and ShardFinish
 * (close every connection); out ShardResult per message, in the order received, or { round, error } when
 * something failed (the capture thread then stops the run with that message). Counters are sent as
 * increments since the last result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DecodedPacket } from '../decode/decoded-packet';
import type { Exchange } from '../exchange/record';
import type { ConnectionMeta } from '../flow/connection-meta';
import { FlowStage } from '../flow/flow-stage';
import type { FlowTableOptions } from '../flow/flow-table';
import { Counters } from '../observe/counters';
import type { RedactConfig } from '../redact/config';
import { MemoryByteWriter } from '../sink/memory-byte-writer';
import { exchangeEncoder, type Encoding } from './shard-format';
import { KIND_EXPIRE, KIND_SEGMENT, SegmentBatchReader, type SegmentBatch } from './segment-batch';

export interface ShardWorkerData {
  source: string;
  flows: Partial<FlowTableOptions>;
  /** Each exchange is encoded once per encoding (the local output's format; the replay service's). */
  encodings: Encoding[];
  redact: { config: RedactConfig; key: Uint8Array } | null;
}

export interface ShardRound extends SegmentBatch {
  type: 'round';
  round: number;
}

export interface ShardFinish {
  type: 'finish';
  round: number;
  nowMicros: number;
}

/** The output buffers of an earlier result (one per encoding), written and given back for reuse (transferred). */
export interface ShardRecycle {
  type: 'recycle';
  buffers: ArrayBuffer[];
}

/** Phases of the order key: a packet's own exchanges, then an expiry sweep after it, then end of input. */
export const PHASE_PACKET = 0;
export const PHASE_EXPIRE = 1;
export const PHASE_FINISH = 2;

export type ShardResult =
  | {
      round: number;
      /** Per encoding, the encoded exchanges back to back. */
      outs: Uint8Array[];
      /** Per exchange: frame number, phase, sub-order (the connection's latest packet for sweeps), then its end
       *  offset in each of `outs` (an exchange an encoding could not encode ends where the previous one did). */
      keys: Float64Array;
      counters: Array<string | number>;
      outcomes: Array<string | number>;
      /** The round's input buffer, given back for reuse (absent for a finish). */
      spent?: ArrayBuffer;
    }
  | { round: number; error: string };

const data = workerData as ShardWorkerData;
const counters = new Counters();
const outcomes = new Counters();
const outs = data.encodings.map(() => new MemoryByteWriter());
const encoders = data.encodings.map((e, i) => exchangeEncoder(e, outs[i]!, counters));
// The redactor's modules load only when there is something to redact (--no-redact threads start lighter).
const redactor = data.redact
  ? (require('../redact/redactor') as typeof import('../redact/redactor')).compileRedactor(data.redact.config, Buffer.from(data.redact.key), counters)
  : null;

/** Output buffers given back by the capture thread, per encoding (at most a few: one per round in flight). */
const recycled: ArrayBuffer[][] = data.encodings.map(() => []);
const MAX_RECYCLED = 4;
let keys: number[] = [];
let event = 0;
let phase = PHASE_PACKET;

function onExchange(ex: Exchange, meta: ConnectionMeta): void {
  const done = redactor ? redactor.redact(ex) : ex;
  keys.push(event, phase, phase === PHASE_PACKET ? 0 : meta.lastFrame);
  for (let i = 0; i < encoders.length; i++) {
    encoders[i]!(done);
    keys.push(outs[i]!.length);
  }
}

const stage = new FlowStage({ source: data.source, flows: data.flows }, counters, onExchange);
const pkt = new DecodedPacket();

function runRound(msg: ShardRound): void {
  const reader = new SegmentBatchReader(msg, pkt);
  for (let kind = reader.next(); kind !== 0; kind = reader.next()) {
    event = reader.frameNumber;
    if (kind === KIND_SEGMENT) {
      phase = PHASE_PACKET;
      outcomes.inc(stage.segment(pkt, reader.nowMicros, reader.frameNumber));
    } else if (kind === KIND_EXPIRE) {
      phase = PHASE_EXPIRE;
      stage.expire(reader.nowMicros);
    }
  }
}

parentPort!.on('message', (msg: ShardRound | ShardFinish | ShardRecycle) => {
  if (msg.type === 'recycle') {
    msg.buffers.forEach((b, i) => {
      if (recycled[i] !== undefined && recycled[i]!.length < MAX_RECYCLED) recycled[i]!.push(b);
    });
    return;
  }
  let res: ShardResult;
  const transfer: ArrayBuffer[] = [];
  try {
    if (msg.type === 'round') runRound(msg);
    else {
      event = Number.MAX_SAFE_INTEGER;
      phase = PHASE_FINISH;
      stage.finish('end_of_input', msg.nowMicros);
    }
    const k = Float64Array.from(keys);
    keys = [];
    const bytes = outs.map((o, i) => o.take(recycled[i]!.pop()));
    res = { round: msg.round, outs: bytes, keys: k, counters: counters.drain(), outcomes: outcomes.drain() };
    transfer.push(...bytes.map((b) => b.buffer as ArrayBuffer), k.buffer);
    // Every view of the round's bytes is gone (the flow table copies what it keeps): give them back.
    if (msg.type === 'round') {
      res.spent = msg.bytes.buffer as ArrayBuffer;
      transfer.push(res.spent);
    }
  } catch (err) {
    res = { round: msg.round, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(res, transfer);
});
