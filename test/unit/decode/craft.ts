/**
 * Small packet builders for crafted test cases (fragments, odd lengths). Fields not given are
 * zero; checksums are left zero (the decoder does not verify them).
 */
export function ipv4Header(o: {
  src: number[];
  dst: number[];
  proto: number;
  total: number;
  id?: number;
  mf?: boolean;
  fragOffsetBytes?: number;
  ihlWords?: number;
}): Buffer {
  const ihl = o.ihlWords ?? 5;
  const h = Buffer.alloc(ihl * 4);
  h[0] = 0x40 | ihl;
  h.writeUInt16BE(o.total, 2);
  h.writeUInt16BE(o.id ?? 0, 4);
  h.writeUInt16BE(((o.mf === true ? 0x2000 : 0) | ((o.fragOffsetBytes ?? 0) >> 3)) & 0xffff, 6);
  h[8] = 64;
  h[9] = o.proto;
  Buffer.from(o.src).copy(h, 12);
  Buffer.from(o.dst).copy(h, 16);
  return h;
}

export function tcpHeader(o: { sport: number; dport: number; seq: number; ack?: number; flags: number; optionWords?: number }): Buffer {
  const words = 5 + (o.optionWords ?? 0);
  const h = Buffer.alloc(words * 4, 0);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = words << 4;
  h[13] = o.flags;
  h.writeUInt16BE(65535, 14);
  for (let i = 20; i < h.length; i++) h[i] = 1; // NOP options
  return h;
}

export function udpHeader(sport: number, dport: number, payloadLen: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payloadLen, 4);
  return h;
}

export function ipv6Header(o: { src: Buffer; dst: Buffer; next: number; payloadLen: number }): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(o.payloadLen, 4);
  h[6] = o.next;
  h[7] = 64;
  o.src.copy(h, 8);
  o.dst.copy(h, 24);
  return h;
}

export function ipv6FragmentHeader(next: number, offsetBytes: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h.writeUInt16BE((offsetBytes & 0xfff8) | (more ? 1 : 0), 2);
  h.writeUInt32BE(id >>> 0, 4);
  return h;
}

export const ETH_IPV4 = Buffer.from('0200000000010200000000020800', 'hex');
export const ETH_IPV6 = Buffer.from('02000000000102000000000286dd', 'hex');

/** Deterministic bytes 0..n-1 mod 251 (so that misplaced bytes show). */
export function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}
