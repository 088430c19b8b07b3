/**
 * Test helper: builds the bytes of IPv4[TCP] or IPv6[TCP] packets and fills a DecodedPacket that
 * points into them, the way the decoder does (addresses, ports, seq/ack/flags, payload offsets).
 * Layer stacks built:
 *   IPv4[TCP]: 20-byte IPv4 header (proto 6) + 20-byte TCP header + payload; addresses at 12/16.
 *   IPv6[TCP]: 40-byte IPv6 header (next header 6) + 20-byte TCP header + payload; addresses at 8/24.
 * `missing` bytes are promised by the IP total length but absent from the buffer (snaplen cut).
 */
import { DecodedPacket } from '../../../src/decode/decoded-packet';

export interface SegSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  payload?: Buffer | string;
  missing?: number;
  vni?: number;
}

export function ipBytes(text: string): Buffer {
  if (text.includes(':')) {
    const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const fill = tail === undefined ? 0 : 8 - h.length - t.length;
    const groups = [...h, ...new Array<string>(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
    return out;
  }
  return Buffer.from(text.split('.').map((x) => Number(x)));
}

export function tcpPacket(s: SegSpec, out: DecodedPacket = new DecodedPacket()): DecodedPacket {
  const src = ipBytes(s.src);
  const dst = ipBytes(s.dst);
  const v6 = src.length === 16;
  const payload = typeof s.payload === 'string' ? Buffer.from(s.payload, 'latin1') : s.payload ?? Buffer.alloc(0);
  const missing = s.missing ?? 0;
  const ipLen = v6 ? 40 : 20;
  const buf = Buffer.alloc(ipLen + 20 + payload.length);
  if (v6) {
    buf[0] = 0x60;
    buf.writeUInt16BE(20 + payload.length + missing, 4);
    buf[6] = 6;
    buf[7] = 64;
    src.copy(buf, 8);
    dst.copy(buf, 24);
  } else {
    buf[0] = 0x45;
    buf.writeUInt16BE(20 + 20 + payload.length + missing, 2);
    buf[8] = 64;
    buf[9] = 6;
    src.copy(buf, 12);
    dst.copy(buf, 16);
  }
  const t = ipLen;
  buf.writeUInt16BE(s.sport, t);
  buf.writeUInt16BE(s.dport, t + 2);
  buf.writeUInt32BE(s.seq >>> 0, t + 4);
  buf.writeUInt32BE((s.ack ?? 0) >>> 0, t + 8);
  buf[t + 12] = 0x50;
  buf[t + 13] = s.flags;
  buf.writeUInt16BE(65535, t + 14);
  payload.copy(buf, t + 20);

  out.reset();
  out.buf = buf;
  out.ipVersion = v6 ? 6 : 4;
  out.srcAddrOff = v6 ? 8 : 12;
  out.dstAddrOff = v6 ? 24 : 16;
  out.ipProto = 6;
  out.srcPort = s.sport;
  out.dstPort = s.dport;
  out.seq = s.seq >>> 0;
  out.ack = (s.ack ?? 0) >>> 0;
  out.tcpFlags = s.flags;
  out.payloadOff = t + 20;
  out.payloadLen = payload.length;
  out.payloadMissing = missing;
  if (s.vni !== undefined) {
    out.vni = s.vni;
    out.tunnel = 'vxlan';
    out.tunnelSource = '10.9.9.9';
  }
  return out;
}
