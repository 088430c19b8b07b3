/**
 * Writes classic pcap files (little-endian, µs, link type 1) of arbitrary TCP conversations:
 * Ethernet[IPv4[TCP[payload]]] with a three-way handshake, every turn's bytes cut into MSS-sized
 * segments (PSH on the last one), a pure ACK from the peer after each turn, and a FIN exchange
 * started by the client or by the server (a close-delimited HTTP response ends with the server's
 * FIN). The caller supplies the exact byte streams, so chunked framing, Content-Encoding, bodies of
 * any size or a decompression bomb are all just bytes here.
 *
 * IPv4 header and TCP checksums are correct. Deterministic: the same calls give the same file.
 * Memory: packets are buffered up to 1 MiB and then written; turn buffers are only read (borrowed).
 */
import * as fs from 'node:fs';

export interface Turn {
  from: 'client' | 'server';
  /** Bytes sent in this turn (borrowed, not modified). */
  bytes: Buffer;
}

export interface TcpConversation {
  /** Dotted IPv4 addresses; defaults 10.88.<n>.<n> for the client and 10.88.0.1 for the server. */
  client?: string;
  server?: string;
  clientPort: number;
  /** Default 80. */
  serverPort?: number;
  /** In order; each turn is sent completely before the next one starts. */
  turns: Turn[];
  /** Who sends the first FIN (default 'client'). Use 'server' for close-delimited responses. */
  closeBy?: 'client' | 'server';
  /** Payload bytes per segment, default 1460. */
  mss?: number;
}

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;
const MAC_C = Buffer.from('020000000001', 'hex');
const MAC_S = Buffer.from('020000000002', 'hex');

function ipBytes(ip: string): number[] {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`bad IPv4 ${ip}`);
  return p;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** One's-complement sum of `b[from, to)` as big-endian 16-bit words (odd tail padded with 0). */
function sum16(b: Buffer, from: number, to: number, acc: number): number {
  let i = from;
  for (; i + 1 < to; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < to) acc += b[i] << 8;
  return fold(acc);
}

export class HttpPcapBuilder {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly fd: number;
  private ts: number;
  private ipId = 0;
  private conns = 0;
  packets = 0;
  bytes = 24;

  constructor(file: string, startMicros = 1_700_000_000_000_000) {
    this.fd = fs.openSync(file, 'w');
    this.ts = startMicros;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20);
    this.push(h);
  }

  /** Adds one complete TCP connection (handshake, turns, close). */
  addConnection(c: TcpConversation): void {
    const n = ++this.conns;
    const cip = ipBytes(c.client ?? `10.88.${(n >> 8) & 0xff}.${(n & 0xff) || 1}`);
    const sip = ipBytes(c.server ?? '10.88.0.1');
    const sport = c.serverPort ?? 80;
    const mss = c.mss ?? 1460;
    if (!(mss > 0)) throw new RangeError('mss must be positive');
    let cseq = (0x1000_0000 + n * 7919) >>> 0;
    let sseq = (0x8000_0000 + n * 104729) >>> 0;
    const send = (fromClient: boolean, flags: number, payload: Buffer): void => {
      const seq = fromClient ? cseq : sseq;
      const ack = fromClient ? sseq : cseq;
      this.packet(fromClient, fromClient ? cip : sip, fromClient ? sip : cip, fromClient ? c.clientPort : sport,
        fromClient ? sport : c.clientPort, seq, flags === SYN ? 0 : ack, flags, payload);
      const adv = payload.length + (flags & (SYN | FIN) ? 1 : 0);
      if (fromClient) cseq = (cseq + adv) >>> 0;
      else sseq = (sseq + adv) >>> 0;
    };
    send(true, SYN, Buffer.alloc(0));
    send(false, SYN | ACK, Buffer.alloc(0));
    send(true, ACK, Buffer.alloc(0));
    for (const t of c.turns) {
      const fromClient = t.from === 'client';
      for (let o = 0; o < t.bytes.length; o += mss) {
        const end = Math.min(t.bytes.length, o + mss);
        send(fromClient, end === t.bytes.length ? PSH | ACK : ACK, t.bytes.subarray(o, end));
      }
      if (t.bytes.length) send(!fromClient, ACK, Buffer.alloc(0));
    }
    const first = (c.closeBy ?? 'client') === 'client';
    send(first, FIN | ACK, Buffer.alloc(0));
    send(!first, FIN | ACK, Buffer.alloc(0));
    send(first, ACK, Buffer.alloc(0));
  }

  /** Writes what is buffered and closes the file. */
  close(): { packets: number; bytes: number } {
    this.flush();
    fs.closeSync(this.fd);
    return { packets: this.packets, bytes: this.bytes };
  }

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    this.bytes += b.length;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.chunks.length) fs.writeSync(this.fd, Buffer.concat(this.chunks));
    this.chunks = [];
    this.size = 0;
  }

  private packet(fromClient: boolean, src: number[], dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer): void {
    const len = 14 + 20 + 20 + payload.length;
    const rec = Buffer.alloc(16 + len);
    this.ts += 11;
    rec.writeUInt32LE(Math.floor(this.ts / 1e6), 0);
    rec.writeUInt32LE(this.ts % 1e6, 4);
    rec.writeUInt32LE(len, 8);
    rec.writeUInt32LE(len, 12);
    (fromClient ? MAC_S : MAC_C).copy(rec, 16);
    (fromClient ? MAC_C : MAC_S).copy(rec, 22);
    rec.writeUInt16BE(0x0800, 28);
    const ip = 30;
    rec[ip] = 0x45;
    rec.writeUInt16BE(40 + payload.length, ip + 2);
    rec.writeUInt16BE(this.ipId++ & 0xffff, ip + 4);
    rec.writeUInt16BE(0x4000, ip + 6);
    rec[ip + 8] = 64;
    rec[ip + 9] = 6;
    for (let i = 0; i < 4; i++) {
      rec[ip + 12 + i] = src[i];
      rec[ip + 16 + i] = dst[i];
    }
    rec.writeUInt16BE(~sum16(rec, ip, ip + 20, 0) & 0xffff, ip + 10);
    const tcp = ip + 20;
    rec.writeUInt16BE(sport, tcp);
    rec.writeUInt16BE(dport, tcp + 2);
    rec.writeUInt32BE(seq >>> 0, tcp + 4);
    rec.writeUInt32BE(ack >>> 0, tcp + 8);
    rec[tcp + 12] = 5 << 4;
    rec[tcp + 13] = flags;
    rec.writeUInt16BE(65535, tcp + 14);
    payload.copy(rec, tcp + 20);
    // Checksum over the pseudo-header (addresses, protocol, TCP length) and the segment.
    let acc = sum16(rec, ip + 12, ip + 20, 0);
    acc = fold(acc + 6 + 20 + payload.length);
    acc = sum16(rec, tcp, tcp + 20 + payload.length, acc);
    rec.writeUInt16BE(~acc & 0xffff, tcp + 16);
    this.packets++;
    this.push(rec);
  }
}
