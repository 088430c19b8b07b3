/**
 * Linux "cooked" capture header v1, LINKTYPE_LINUX_SLL (113).
 * Reference: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Packet type          |       ARPHRD_ type            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | Link-layer address length     |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  |               Link-layer address (8 bytes, zero padded)       |
 *  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                               |   Protocol type (EtherType)   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const SLL_PKTTYPE = 0;
export const SLL_HATYPE = 2;
export const SLL_HALEN = 4;
export const SLL_ADDR = 6;
export const SLL_PROTOCOL = 14;
export const SLL_HEADER_LEN = 16;

export function check(_buf: Buffer, _off: number, len: number): string {
  return len < SLL_HEADER_LEN ? 'truncated_sll_header' : '';
}

export function packetType(buf: Buffer, off: number): number {
  return (buf[off + SLL_PKTTYPE] << 8) | buf[off + SLL_PKTTYPE + 1];
}

export function arphrdType(buf: Buffer, off: number): number {
  return (buf[off + SLL_HATYPE] << 8) | buf[off + SLL_HATYPE + 1];
}

/** The EtherType of the payload. */
export function protocol(buf: Buffer, off: number): number {
  return (buf[off + SLL_PROTOCOL] << 8) | buf[off + SLL_PROTOCOL + 1];
}
