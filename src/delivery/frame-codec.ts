import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { packageRoot } from '../package-root';
import type { Exchange } from '../exchange/record';

/**
 * Codec of the delivery protocol (proto/shadowtap/v1/delivery.proto): length-delimited `Frame`s.
 *
 * Batches are the hot path, so they are built by hand from exchanges that were encoded once on
 * `write()` (a repeated message field on the wire is just tag + length + the message bytes): the
 * agent never re-encodes a batch, the spool and the collector's segment files keep the same bytes.
 * Everything else goes through protobufjs.
 *
 * Bad input never throws out of this module: `FrameDecoder.push` returns an error code instead.
 */
export const DELIVERY_PROTOCOL_VERSION = 1;
/** Default cap on one frame (length prefix excluded), both sides. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Error.Code of delivery.proto. */
export const ErrorCode = {
  UNKNOWN: 0,
  AUTH_FAILED: 1,
  UNSUPPORTED_VERSION: 2,
  FRAME_TOO_LARGE: 3,
  BAD_FRAME: 4,
  PROTOCOL_VIOLATION: 5,
  IDLE_TIMEOUT: 6,
  STORE_FAILED: 7,
  SHUTTING_DOWN: 8,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

export function errorCodeName(code: number): string {
  for (const [k, v] of Object.entries(ErrorCode)) if (v === code) return k;
  return `CODE_${code}`;
}

interface Types {
  root: protobuf.Root;
  frame: protobuf.Type;
  batch: protobuf.Type;
  exchange: protobuf.Type;
  stored: protobuf.Type;
}
let types: Types | undefined;

/** Loads exchange.proto and delivery.proto once; imports resolve against proto/. */
export function deliveryTypes(): Types {
  if (types) return types;
  const protoDir = path.join(packageRoot(), 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    const rel = path.join(path.dirname(origin), target);
    return fs.existsSync(rel) ? rel : path.join(protoDir, target);
  };
  root.loadSync(path.join(protoDir, 'shadowtap', 'v1', 'delivery.proto'));
  types = {
    root,
    frame: root.lookupType('shadowtap.v1.Frame'),
    batch: root.lookupType('shadowtap.v1.Batch'),
    exchange: root.lookupType('shadowtap.v1.Exchange'),
    stored: root.lookupType('shadowtap.v1.StoredBatch'),
  };
  return types;
}

/** A protobufjs 64-bit value (number or Long) as a JS number. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  if (typeof v === 'string') return Number(v);
  return 0;
}

/** Encodes one exchange (no length prefix). The bytes are owned by the caller. */
export function encodeExchange(ex: Exchange): Uint8Array {
  return deliveryTypes().exchange.encode(ex as unknown as Record<string, unknown>).finish();
}

export interface HelloMsg {
  agentId: string;
  node: string;
  mode: string;
  schemaVersion: number;
  token: string;
  protocolVersion: number;
  agentVersion: string;
}
export interface HelloAckMsg {
  schemaVersion: number;
  maxFrameBytes: number;
  collectorId: string;
  protocolVersion: number;
}
export interface AckMsg {
  seq: number;
  stream: string;
  duplicate: boolean;
}
export interface ErrorMsg {
  code: number;
  message: string;
}

/** A control frame (everything but Batch), as the encoder takes it. */
export type ControlFrame =
  | { hello: HelloMsg }
  | { helloAck: HelloAckMsg }
  | { ack: AckMsg }
  | { heartbeat: { micros: number } }
  | { error: ErrorMsg };

/** Encodes a control frame with its varint length prefix. */
export function encodeFrame(f: ControlFrame): Buffer {
  const bytes = deliveryTypes().frame.encodeDelimited(f as unknown as Record<string, unknown>).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Field 3 of Frame (batch), wire type 2. */
const TAG_FRAME_BATCH = (3 << 3) | 2;

/**
 * Builds a length-delimited Frame{batch} from exchanges already encoded by `encodeExchange`.
 * The returned Buffer is new and owned by the caller.
 */
export function encodeBatchFrame(seq: number, stream: string, sealedMicros: number, exchanges: readonly Uint8Array[]): Buffer {
  const w = protobuf.Writer.create();
  w.fork(); // outer length prefix
  w.uint32(TAG_FRAME_BATCH).fork();
  w.uint32((1 << 3) | 0).uint64(seq);
  for (const ex of exchanges) w.uint32((2 << 3) | 2).bytes(ex);
  if (stream) w.uint32((3 << 3) | 2).string(stream);
  if (sealedMicros) w.uint32((4 << 3) | 0).uint64(sealedMicros);
  w.ldelim();
  w.ldelim();
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads a base-128 varint of at most 5 bytes (a 32-bit length). -1: incomplete, -2: too long. */
function readVarint32(buf: Uint8Array, off: number, end: number): { value: number; next: number } | -1 | -2 {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (off + i >= end) return -1;
    const b = buf[off + i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: off + i + 1 };
    shift += 7;
  }
  return -2;
}

/**
 * Where the Batch message bytes start inside a length-delimited Frame{batch} built by
 * `encodeBatchFrame` (or received and validated by `FrameDecoder`): after the length prefix, the
 * tag and the field length. -1 when `frame` is not such a frame.
 */
export function batchPayloadOffset(frame: Uint8Array): number {
  const outer = readVarint32(frame, 0, frame.length);
  if (typeof outer === 'number') return -1;
  if (frame[outer.next] !== TAG_FRAME_BATCH) return -1;
  const inner = readVarint32(frame, outer.next + 1, frame.length);
  if (typeof inner === 'number') return -1;
  if (inner.next + inner.value !== frame.length) return -1;
  return inner.next;
}

/** A decoded, validated Batch. `raw` is the Batch message bytes (a view into the frame). */
export interface BatchView {
  seq: number;
  stream: string;
  sealedMicros: number;
  exchanges: Array<Record<string, unknown>>;
  raw: Buffer;
}

export type DecodedFrame =
  | { kind: 'hello'; hello: HelloMsg }
  | { kind: 'helloAck'; helloAck: HelloAckMsg }
  | { kind: 'batch'; batch: BatchView; frameBytes: number }
  | { kind: 'ack'; ack: AckMsg }
  | { kind: 'heartbeat'; micros: number }
  | { kind: 'error'; error: ErrorMsg };

/** Decodes a Batch message (no prefix). Throws on malformed bytes (callers catch). */
export function decodeBatch(raw: Buffer): BatchView {
  const t = deliveryTypes().batch;
  const m = t.decode(raw) as unknown as { seq: unknown; stream: string; sealedMicros: unknown; exchanges: Array<Record<string, unknown>> };
  return { seq: toNum(m.seq), stream: m.stream ?? '', sealedMicros: toNum(m.sealedMicros), exchanges: m.exchanges ?? [], raw };
}

/** Decodes the body of one frame (no length prefix). Returns null for bytes that are not a Frame. */
export function decodeFrameBody(body: Buffer): DecodedFrame | null {
  try {
    if (body.length > 0 && body[0] === TAG_FRAME_BATCH) {
      const len = readVarint32(body, 1, body.length);
      if (typeof len !== 'number' && len.next + len.value === body.length) {
        return { kind: 'batch', batch: decodeBatch(body.subarray(len.next)), frameBytes: body.length };
      }
    }
    const t = deliveryTypes().frame;
    const m = t.toObject(t.decode(body), { longs: Number, defaults: true, oneofs: true }) as Record<string, unknown> & { kind?: string };
    switch (m.kind) {
      case 'hello':
        return { kind: 'hello', hello: m.hello as HelloMsg };
      case 'helloAck':
        return { kind: 'helloAck', helloAck: m.helloAck as HelloAckMsg };
      case 'ack':
        return { kind: 'ack', ack: m.ack as AckMsg };
      case 'heartbeat':
        return { kind: 'heartbeat', micros: toNum((m.heartbeat as { micros: unknown }).micros) };
      case 'error':
        return { kind: 'error', error: m.error as ErrorMsg };
      case 'batch': {
        // A batch that was not encoded as the first field (another encoder): re-encode its payload.
        const raw = Buffer.from(deliveryTypes().batch.encode(deliveryTypes().batch.fromObject(m.batch as Record<string, unknown>)).finish());
        return { kind: 'batch', batch: decodeBatch(raw), frameBytes: body.length };
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}

export type PushResult = '' | 'FRAME_TOO_LARGE' | 'BAD_FRAME';

/**
 * Incremental reader of length-delimited frames from a byte stream. `push(chunk)` hands over
 * the chunk (it is copied when a frame spans chunks) and calls `onFrame` for every complete frame;
 * the decoded objects may view the input bytes and are owned by the callee. After an error the
 * decoder stays failed (the connection is to be closed).
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private failed: PushResult = '';
  /** Set while a frame has started but not completed (for slow-sender deadlines). */
  partialSince = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (f: DecodedFrame) => void,
  ) {}

  push(chunk: Buffer): PushResult {
    if (this.failed) return this.failed;
    this.buf = this.off < this.buf.length ? Buffer.concat([this.buf.subarray(this.off), chunk]) : chunk;
    this.off = 0;
    let progressed = false;
    for (;;) {
      const len = readVarint32(this.buf, this.off, this.buf.length);
      if (len === -1) break;
      if (len === -2) return (this.failed = 'BAD_FRAME');
      if (len.value > this.maxFrameBytes) return (this.failed = 'FRAME_TOO_LARGE');
      if (len.value === 0) return (this.failed = 'BAD_FRAME');
      const end = len.next + len.value;
      if (end > this.buf.length) break;
      const f = decodeFrameBody(this.buf.subarray(len.next, end));
      this.off = end;
      if (!f) return (this.failed = 'BAD_FRAME');
      progressed = true;
      this.onFrame(f);
      if (this.failed) return this.failed;
    }
    if (this.off >= this.buf.length) {
      this.buf = Buffer.alloc(0);
      this.off = 0;
      this.partialSince = 0;
    } else if (progressed || this.partialSince === 0) {
      this.partialSince = Date.now();
    }
    return '';
  }

  /** Stops decoding (e.g. the consumer rejected a frame). */
  fail(code: PushResult): void {
    this.failed = code;
  }

  get pendingBytes(): number {
    return this.buf.length - this.off;
  }
}

/** Reads a varint of up to 64 bits as a JS number (exact below 2^53). */
function readVarint64(buf: Uint8Array, off: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (off + i >= end) return undefined;
    const b = buf[off + i]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return { value, next: off + i + 1 };
    mul *= 128;
  }
  return undefined;
}

/**
 * stream and seq of a length-delimited Frame{batch} without decoding its exchanges (used for
 * spooled batches). A corrupt frame yields seq 0, which no batch has.
 */
export function peekBatchId(frame: Uint8Array): { stream: string; seq: number } {
  const start = batchPayloadOffset(frame);
  const none = { stream: '', seq: 0 };
  if (start < 0) return none;
  let off = start;
  let seq = 0;
  let stream = '';
  while (off < frame.length) {
    const tag = readVarint64(frame, off, frame.length);
    if (!tag) return none;
    off = tag.next;
    const field = Math.floor(tag.value / 8);
    const wt = tag.value % 8;
    if (wt === 0) {
      const v = readVarint64(frame, off, frame.length);
      if (!v) return none;
      if (field === 1) seq = v.value;
      off = v.next;
    } else if (wt === 2) {
      const l = readVarint64(frame, off, frame.length);
      if (!l || l.next + l.value > frame.length) return none;
      if (field === 3) stream = Buffer.from(frame.buffer, frame.byteOffset + l.next, l.value).toString('utf8');
      off = l.next + l.value;
    } else if (wt === 1) {
      off += 8;
    } else if (wt === 5) {
      off += 4;
    } else {
      return none;
    }
  }
  return off === frame.length ? { stream, seq } : none;
}
