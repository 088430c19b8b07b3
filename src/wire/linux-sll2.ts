/**
 * Linux "cooked" capture header v2, LINKTYPE_LINUX_SLL2 (276).
 * Reference: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |   Protocol type (EtherType)   |        Reserved (MBZ)         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Interface index                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          ARPHRD_ type         |  Packet type  | Addr length   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Link-layer address (8 bytes, zero padded)       |
 *  +                                                               +
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const SLL2_PROTOCOL = 0;
export const SLL2_RESERVED = 2;
export const SLL2_IFINDEX = 4;
export const SLL2_HATYPE = 8;
export const SLL2_PKTTYPE = 10;
export const SLL2_HALEN = 11;
export const SLL2_ADDR = 12;
export const SLL2_HEADER_LEN = 20;

export function check(_buf: Buffer, _off: number, len: number): string {
  return len < SLL2_HEADER_LEN ? 'truncated_sll2_header' : '';
}

/** The EtherType of the payload. */
export function protocol(buf: Buffer, off: number): number {
  return (buf[off + SLL2_PROTOCOL] << 8) | buf[off + SLL2_PROTOCOL + 1];
}

export function interfaceIndex(buf: Buffer, off: number): number {
  return buf.readUInt32BE(off + SLL2_IFINDEX);
}

export function packetType(buf: Buffer, off: number): number {
  return buf[off + SLL2_PKTTYPE];
}
