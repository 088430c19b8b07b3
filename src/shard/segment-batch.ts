/**
 * What the capture thread sends a shard worker: the decoded TCP segments of its connections and the
 * expiry sweeps, in packet order, packed into one byte buffer per round (transferred, never copied again).
 *
 * Record layout (little-endian):
 *   SEGMENT: u8 kind, f64 frame number, f64 capture time (µs), u8 ipVersion, u8 ipProto, u8 tcpFlags,
 *            u16 tunnel (string index), u16 srcPort, u16 dstPort, u32 seq, u32 ack, u32 payloadLen,
 *            u32 payloadMissing, i32 vni, i32 vlan, u16 depth, u16 tunnelSource (string index),
 *            source address, destination address (4 or 16 bytes each), payload.
 *   EXPIRE:  u8 kind, f64 frame number (the sweep runs after this packet), f64 capture time (µs).
 * Strings (tunnel names, tunnel source addresses) go in a table beside the bytes, at most MAX_STRINGS per
 * batch: the caller sends the batch once it is `full`.
 *
 * Ownership: SegmentBatchWriter copies what it is given (the frame buffers stay the source's); take()
 * hands over its buffer and starts a new one. SegmentBatchReader's packets are views into the batch's bytes,
 * valid for as long as the caller keeps the batch.
 */
import type { DecodedPacket } from '../decode/decoded-packet';
import { MemoryByteWriter } from '../sink/memory-byte-writer';

export const KIND_SEGMENT = 1;
export const KIND_EXPIRE = 2;

const SEGMENT_HEAD = 1 + 8 + 8 + 3 + 2 + 2 + 2 + 4 + 4 + 4 + 4 + 4 + 4 + 2 + 2;
/** Distinct strings one batch can carry (u16 indexes). A segment adds at most two. */
export const MAX_STRINGS = 0xffff;
const EXPIRE_BYTES = 1 + 8 + 8;
const INITIAL_BYTES = 256 * 1024;

/** One round's records for one shard: the bytes (a whole ArrayBuffer, to transfer) and the string table. */
export interface SegmentBatch {
  bytes: Uint8Array;
  strings: string[];
}

export class SegmentBatchWriter {
  private readonly out = new MemoryByteWriter(INITIAL_BYTES);
  private table: string[] = [''];
  private stringIndex = new Map<string, number>([['', 0]]);

  /** Bytes written since the last take(). */
  get size(): number {
    return this.out.length;
  }

  segment(pkt: DecodedPacket, frameNumber: number, nowMicros: number): void {
    const alen = pkt.ipVersion === 6 ? 16 : pkt.ipVersion === 4 ? 4 : 0;
    const len = pkt.payloadLen;
    const b = this.out.room(SEGMENT_HEAD + 2 * alen + len);
    const start = this.out.length;
    let p = start;
    b[p] = KIND_SEGMENT;
    b.writeDoubleLE(frameNumber, p + 1);
    b.writeDoubleLE(nowMicros, p + 9);
    b[p + 17] = pkt.ipVersion;
    b[p + 18] = pkt.ipProto;
    b[p + 19] = pkt.tcpFlags;
    b.writeUInt16LE(this.intern(pkt.tunnel), p + 20);
    b.writeUInt16LE(pkt.srcPort, p + 22);
    b.writeUInt16LE(pkt.dstPort, p + 24);
    b.writeUInt32LE(pkt.seq >>> 0, p + 26);
    b.writeUInt32LE(pkt.ack >>> 0, p + 30);
    b.writeUInt32LE(len, p + 34);
    b.writeUInt32LE(pkt.payloadMissing, p + 38);
    b.writeInt32LE(pkt.vni, p + 42);
    b.writeInt32LE(pkt.vlan, p + 46);
    b.writeUInt16LE(pkt.depth, p + 50);
    b.writeUInt16LE(this.intern(pkt.tunnelSource), p + 52);
    p += SEGMENT_HEAD;
    // Addresses byte by byte: a Buffer.copy of 4 or 16 bytes costs a view and a call each (measured: the
    // three copies per segment were the capture thread's largest cost); the payload in one copy.
    const src = pkt.buf;
    for (let i = 0, s = pkt.srcAddrOff, d = pkt.dstAddrOff; i < alen; i++) {
      b[p + i] = src[s + i]!;
      b[p + alen + i] = src[d + i]!;
    }
    p += 2 * alen;
    if (len > 0) p += src.copy(b, p, pkt.payloadOff, pkt.payloadOff + len);
    this.out.advance(p - start);
  }

  expire(frameNumber: number, nowMicros: number): void {
    const b = this.out.room(EXPIRE_BYTES);
    const p = this.out.length;
    b[p] = KIND_EXPIRE;
    b.writeDoubleLE(frameNumber, p + 1);
    b.writeDoubleLE(nowMicros, p + 9);
    this.out.advance(EXPIRE_BYTES);
  }

  /** The records written so far: the writer's buffer itself (to transfer); the writer goes on in
   *  `next` (a buffer given back, whose pages are already mapped) or a new one. */
  take(next?: ArrayBuffer): SegmentBatch {
    const batch = { bytes: this.out.take(next), strings: this.table };
    this.table = [''];
    this.stringIndex = new Map([['', 0]]);
    return batch;
  }

  /** Distinct strings in the batch so far (at most MAX_STRINGS). */
  get stringCount(): number {
    return this.table.length;
  }

  /** True when the next segment might not fit the string table (a segment adds at most two): send first. */
  get full(): boolean {
    return this.table.length > MAX_STRINGS - 2;
  }

  private intern(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.table.length;
      if (i >= MAX_STRINGS) throw new RangeError(`segment batch: more than ${MAX_STRINGS} distinct strings (the batch must be sent before it fills)`);
      this.table.push(s);
      this.stringIndex.set(s, i);
    }
    return i;
  }
}

/** Walks one batch's records; for a segment, `pkt` is filled with views into the batch's bytes. */
export class SegmentBatchReader {
  private readonly buf: Buffer;
  private pos = 0;
  frameNumber = 0;
  nowMicros = 0;

  constructor(private readonly batch: SegmentBatch, private readonly pkt: DecodedPacket) {
    this.buf = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  }

  /** The next record's kind (KIND_SEGMENT fills the packet), or 0 at the end. */
  next(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= b.length) return 0;
    const kind = b[p]!;
    this.frameNumber = b.readDoubleLE(p + 1);
    this.nowMicros = b.readDoubleLE(p + 9);
    if (kind === KIND_EXPIRE) {
      this.pos = p + EXPIRE_BYTES;
      return kind;
    }
    if (kind !== KIND_SEGMENT) throw new Error(`segment batch: unknown record kind ${kind} at byte ${p}`);
    const pkt = this.pkt;
    const strings = this.batch.strings;
    pkt.reset();
    pkt.buf = b;
    pkt.ipVersion = b[p + 17]!;
    pkt.ipProto = b[p + 18]!;
    pkt.tcpFlags = b[p + 19]!;
    pkt.tunnel = strings[b.readUInt16LE(p + 20)] ?? '';
    pkt.srcPort = b.readUInt16LE(p + 22);
    pkt.dstPort = b.readUInt16LE(p + 24);
    pkt.seq = b.readUInt32LE(p + 26);
    pkt.ack = b.readUInt32LE(p + 30);
    const len = b.readUInt32LE(p + 34);
    pkt.payloadLen = len;
    pkt.payloadMissing = b.readUInt32LE(p + 38);
    pkt.vni = b.readInt32LE(p + 42);
    pkt.vlan = b.readInt32LE(p + 46);
    pkt.depth = b.readUInt16LE(p + 50);
    pkt.tunnelSource = strings[b.readUInt16LE(p + 52)] ?? '';
    p += SEGMENT_HEAD;
    const alen = pkt.ipVersion === 6 ? 16 : pkt.ipVersion === 4 ? 4 : 0;
    pkt.srcAddrOff = p;
    pkt.dstAddrOff = p + alen;
    p += 2 * alen;
    pkt.payloadOff = p;
    this.pos = p + len;
    return kind;
  }
}
