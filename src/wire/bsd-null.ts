/**
 * BSD loopback encapsulation: LINKTYPE_NULL (0, family in the capturing host's byte order) and
 * LINKTYPE_LOOP (108, family in network byte order).
 * Reference: https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Address family (AF_ value, 32 bits)             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS/iOS).
 * The capturing host's byte order is unknown to the reader, so familyHostOrder() accepts both:
 * every real AF_ value is < 256, so a little-endian read larger than 0xffff means big-endian.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const NULL_FAMILY = 0;
export const NULL_HEADER_LEN = 4;

export const AF_INET = 2;
export const AF_INET6_BSD = 24;
export const AF_INET6_FREEBSD = 28;
export const AF_INET6_DARWIN = 30;

export function check(_buf: Buffer, _off: number, len: number): string {
  return len < NULL_HEADER_LEN ? 'truncated_null_header' : '';
}

/** LINKTYPE_NULL: the family, whichever byte order the capturing host wrote it in. */
export function familyHostOrder(buf: Buffer, off: number): number {
  const le = (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
  if (le <= 0xffff) return le;
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** LINKTYPE_LOOP: the family in network byte order. */
export function familyNetworkOrder(buf: Buffer, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** 4, 6, or 0 for a family that is not IP. */
export function ipVersionOfFamily(family: number): number {
  if (family === AF_INET) return 4;
  if (family === AF_INET6_BSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN) return 6;
  return 0;
}
