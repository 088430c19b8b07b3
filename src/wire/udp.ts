/**
 * UDP header, RFC 768.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            Length             |           Checksum            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Length covers header and data; 0 is only legal for IPv6 jumbograms (RFC 2675).
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const UDP_SRC_PORT = 0;
export const UDP_DST_PORT = 2;
export const UDP_LENGTH = 4;
export const UDP_CHECKSUM = 6;
export const UDP_HEADER_LEN = 8;

export function check(_buf: Buffer, _off: number, len: number): string {
  return len < UDP_HEADER_LEN ? 'truncated_udp_header' : '';
}

export function srcPort(buf: Buffer, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function dstPort(buf: Buffer, off: number): number {
  return (buf[off + UDP_DST_PORT] << 8) | buf[off + UDP_DST_PORT + 1];
}

export function length(buf: Buffer, off: number): number {
  return (buf[off + UDP_LENGTH] << 8) | buf[off + UDP_LENGTH + 1];
}
