/**
 * Writes synthetic classic pcap files (little-endian, µs, link type 1 = Ethernet) of HTTP/1.1
 * keep-alive traffic: Ethernet[IPv4[TCP[HTTP]]], each connection a full handshake, `perConnection`
 * request/response pairs (one segment each) and a FIN exchange. IPv4 header checksums are right;
 * TCP checksums are 0 (as with checksum offload). Deterministic: the same options give the same bytes.
 */
import * as fs from 'node:fs';

export interface SynthOptions {
  exchanges: number;
  perConnection?: number;
  /** Bytes of response body per exchange (default 32). */
  bodyBytes?: number;
  /** Capture time of the first packet (µs since the epoch). */
  startMicros?: number;
}

const MAC_C = Buffer.from('02000000000102000000000208', 'hex').subarray(0, 6);
const MAC_S = Buffer.from('020000000002', 'hex');

class PcapOut {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly fd: number;
  ts: number;
  packets = 0;
  constructor(file: string, startMicros: number) {
    this.fd = fs.openSync(file, 'w');
    this.ts = startMicros;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(65535, 16);
    h.writeUInt32LE(1, 20);
    this.push(h);
  }
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.chunks.length) fs.writeSync(this.fd, Buffer.concat(this.chunks));
    this.chunks = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
  /** One Ethernet/IPv4/TCP packet. */
  tcp(fromClient: boolean, cport: number, seq: number, ack: number, flags: number, payload: Buffer): void {
    const len = 14 + 20 + 20 + payload.length;
    const rec = Buffer.alloc(16 + len);
    this.ts += 7;
    rec.writeUInt32LE(Math.floor(this.ts / 1e6), 0);
    rec.writeUInt32LE(this.ts % 1e6, 4);
    rec.writeUInt32LE(len, 8);
    rec.writeUInt32LE(len, 12);
    let o = 16;
    (fromClient ? MAC_S : MAC_C).copy(rec, o);
    (fromClient ? MAC_C : MAC_S).copy(rec, o + 6);
    rec.writeUInt16BE(0x0800, o + 12);
    o += 14;
    const ip = o;
    rec[o] = 0x45;
    rec.writeUInt16BE(20 + 20 + payload.length, o + 2);
    rec.writeUInt16BE(this.packets & 0xffff, o + 4);
    rec.writeUInt16BE(0x4000, o + 6);
    rec[o + 8] = 64;
    rec[o + 9] = 6;
    const src = fromClient ? [10, 77, 0, 1] : [10, 77, 0, 2];
    const dst = fromClient ? [10, 77, 0, 2] : [10, 77, 0, 1];
    for (let i = 0; i < 4; i++) {
      rec[o + 12 + i] = src[i]!;
      rec[o + 16 + i] = dst[i]!;
    }
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += rec.readUInt16BE(ip + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    rec.writeUInt16BE(~sum & 0xffff, ip + 10);
    o += 20;
    rec.writeUInt16BE(fromClient ? cport : 80, o);
    rec.writeUInt16BE(fromClient ? 80 : cport, o + 2);
    rec.writeUInt32BE(seq >>> 0, o + 4);
    rec.writeUInt32BE(ack >>> 0, o + 8);
    rec[o + 12] = 5 << 4;
    rec[o + 13] = flags;
    rec.writeUInt16BE(65535, o + 14);
    o += 20;
    payload.copy(rec, o);
    this.packets++;
    this.push(rec);
  }
}

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

/** Writes the capture; returns the number of exchanges and packets in it. */
export function writeSyntheticHttpPcap(file: string, opts: SynthOptions): { exchanges: number; packets: number; connections: number } {
  const per = opts.perConnection ?? 100;
  const body = Buffer.alloc(opts.bodyBytes ?? 32, 'x');
  const out = new PcapOut(file, opts.startMicros ?? 1_700_000_000_000_000);
  let done = 0;
  let conn = 0;
  while (done < opts.exchanges) {
    const cport = 10000 + (conn % 50000);
    let c = 1000 + conn * 7;
    let s = 500000 + conn * 13;
    out.tcp(true, cport, c, 0, SYN, Buffer.alloc(0));
    out.tcp(false, cport, s, c + 1, SYN | ACK, Buffer.alloc(0));
    c++;
    s++;
    out.tcp(true, cport, c, s, ACK, Buffer.alloc(0));
    const n = Math.min(per, opts.exchanges - done);
    for (let i = 0; i < n; i++) {
      const req = Buffer.from(`GET /item/${conn}/${i}?q=${done} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: synth\r\n\r\n`);
      out.tcp(true, cport, c, s, PSH | ACK, req);
      c += req.length;
      const res = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
      out.tcp(false, cport, s, c, PSH | ACK, res);
      s += res.length;
      done++;
    }
    out.tcp(true, cport, c, s, FIN | ACK, Buffer.alloc(0));
    out.tcp(false, cport, s, c + 1, FIN | ACK, Buffer.alloc(0));
    out.tcp(true, cport, c + 1, s + 1, ACK, Buffer.alloc(0));
    conn++;
  }
  out.close();
  return { exchanges: done, packets: out.packets, connections: conn };
}
