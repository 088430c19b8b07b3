/**
 * The decoder's output: one reused object of numbers and offsets per pipeline (gopacket
 * DecodingLayer style). `reset()` clears every field before each packet.
 *
 * Ownership: `buf` is the buffer the IP header and TCP payload live in: either the frame's buffer
 * (BORROWED from the source until the frame callback returns) or a buffer the IPv4/IPv6 fragment
 * reassembler built (owned by the decoder, valid until the next decode call). Offsets index `buf`.
 */
export const EMPTY_BUFFER = Buffer.alloc(0);

export class DecodedPacket {
  buf: Buffer = EMPTY_BUFFER;
  /** 4 or 6 (the innermost IP header). */
  ipVersion = 0;
  /** Offsets of the source and destination addresses in buf (4 or 16 bytes each). */
  srcAddrOff = 0;
  dstAddrOff = 0;
  /** IP protocol of the innermost transport (6 = TCP). */
  ipProto = 0;
  srcPort = 0;
  dstPort = 0;
  /** TCP fields (unsigned 32-bit as JS numbers). */
  seq = 0;
  ack = 0;
  tcpFlags = 0;
  /** TCP payload bytes present in buf at payloadOff. */
  payloadOff = 0;
  payloadLen = 0;
  /** TCP payload bytes the IP header promises but the capture does not hold (snaplen / mirror packet length). */
  payloadMissing = 0;
  /** Innermost VXLAN/GENEVE VNI, -1 when not tunnelled. */
  vni = -1;
  /** '', 'vxlan', 'geneve' or 'geneve+vxlan'. */
  tunnel = '';
  /** Outer source IP of the outermost tunnel as text ('' when not tunnelled). */
  tunnelSource = '';
  /** Outermost 802.1Q VLAN id, -1 when untagged. */
  vlan = -1;
  /** Tunnel nesting depth reached. */
  depth = 0;

  reset(): void {
    this.buf = EMPTY_BUFFER;
    this.ipVersion = 0;
    this.srcAddrOff = 0;
    this.dstAddrOff = 0;
    this.ipProto = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.seq = 0;
    this.ack = 0;
    this.tcpFlags = 0;
    this.payloadOff = 0;
    this.payloadLen = 0;
    this.payloadMissing = 0;
    this.vni = -1;
    this.tunnel = '';
    this.tunnelSource = '';
    this.vlan = -1;
    this.depth = 0;
  }
}

/** TCP flag bits. */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
