/**
 * Byte builders for the mirror tests: mirror datagrams (what a UDP socket on 4789/6081 receives)
 * made from real captures or from scratch.
 *
 *   VXLAN datagram        VXLAN[Ethernet[IPv4[TCP]]]                        (AWS ENI/NLB target)
 *   AWS GWLB datagram     GENEVE(0x0108 TLVs)[IPv4[UDP 4789[VXLAN[Ethernet[IPv4[TCP]]]]]]
 *   GCP datagram          GENEVE(0x0132 TLVs, VNI 0)[IPv4[TCP]]
 */
import { readCaptureInput } from '../../src/source/file-source';

/** UDP payloads (copies) of every Ethernet[IPv4[UDP]] frame of a capture, in order. */
export async function udpPayloadsFromPcap(file: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await readCaptureInput(file, {
    onFrame: (f) => {
      const b = f.buf.subarray(f.off, f.off + f.capLen);
      if (b.length < 42 || b.readUInt16BE(12) !== 0x0800) return;
      const ihl = (b[14] & 0x0f) * 4;
      if (b[14 + 9] !== 17) return;
      const udp = 14 + ihl;
      const len = b.readUInt16BE(udp + 4);
      out.push(Buffer.from(b.subarray(udp + 8, udp + len)));
    },
    onWeird: () => undefined,
  });
  return out;
}

/** A copy of a VXLAN datagram with another VNI. */
export function withVxlanVni(vxlan: Buffer, vni: number): Buffer {
  const b = Buffer.from(vxlan);
  b.writeUIntBE(vni, 4, 3);
  return b;
}

/** The inner IP packet of a VXLAN datagram (after the inner Ethernet header and any 802.1Q tags). */
export function innerIpOfVxlan(vxlan: Buffer): Buffer {
  let off = 8 + 12;
  while (vxlan.readUInt16BE(off) === 0x8100 || vxlan.readUInt16BE(off) === 0x88a8) off += 4;
  return Buffer.from(vxlan.subarray(off + 2));
}

function ipv4Checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** IPv4 header (20 bytes, checksum filled) + payload. */
export function ipv4(src: string, dst: string, proto: number, payload: Buffer, id = 1): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(id, 4);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(ipv4Bytes(src)).copy(h, 12);
  Buffer.from(ipv4Bytes(dst)).copy(h, 16);
  h.writeUInt16BE(ipv4Checksum(h), 10);
  return Buffer.concat([h, payload]);
}

/** UDP header with a zero checksum (as VXLAN senders do) + payload. */
export function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** TCP header (20 bytes; checksum left 0: mirror targets must not verify it) + payload. */
export function tcp(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, payload]);
}

export function ethernet(etherType: number, payload: Buffer): Buffer {
  const h = Buffer.from('020000000002' + '020000000001' + '0000', 'hex');
  h.writeUInt16BE(etherType, 12);
  return Buffer.concat([h, payload]);
}

/** VXLAN header (I flag, VNI) + inner frame. */
export function vxlan(vni: number, inner: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUIntBE(vni, 4, 3);
  return Buffer.concat([h, inner]);
}

/** One GENEVE option TLV: class, type, data (length a multiple of 4). */
export function geneveOption(optClass: number, type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(optClass, 0);
  h[2] = type;
  h[3] = data.length / 4;
  return Buffer.concat([h, data]);
}

/** GENEVE header (version 0) + options + payload; `protocol` 0x0800 IPv4, 0x86dd IPv6, 0x6558 Ethernet. */
export function geneve(vni: number, protocol: number, options: Buffer, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = options.length / 4;
  h.writeUInt16BE(protocol, 2);
  h.writeUIntBE(vni, 4, 3);
  return Buffer.concat([h, options, payload]);
}

/**
 * AWS Gateway Load Balancer layout: GENEVE (class 0x0108: type 1 GWLBE id, 2 attachment id, 3 flow
 * cookie) → IPv4 (mirror source ENI → GWLB endpoint) → UDP 4789 → the mirror's VXLAN datagram.
 */
export function gwlbDatagram(vxlanDatagram: Buffer, eniIp: string, gwlbeIp: string, cookie: number): Buffer {
  const c = Buffer.alloc(4);
  c.writeUInt32BE(cookie >>> 0);
  const opts = Buffer.concat([
    geneveOption(0x0108, 1, Buffer.from('0a1b2c3d4e5f6071', 'hex')),
    geneveOption(0x0108, 2, Buffer.from('1122334455667788', 'hex')),
    geneveOption(0x0108, 3, c),
  ]);
  return geneve(0, 0x0800, opts, ipv4(eniIp, gwlbeIp, 17, udp(49152 + (cookie & 0x3fff), 4789, vxlanDatagram)));
}

/** GCP Network Security Integration layout: GENEVE (VNI 0, class 0x0132 TLVs) → the inner IP packet. */
export function gcpDatagram(innerIp: Buffer): Buffer {
  const opts = Buffer.concat([geneveOption(0x0132, 1, Buffer.from('0000000000000001', 'hex')), geneveOption(0x0132, 2, Buffer.from('00000007', 'hex'))]);
  return geneve(0, innerIp[0] >> 4 === 6 ? 0x86dd : 0x0800, opts, innerIp);
}
