/**
 * IPv4 header, RFC 791 §3.1.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       Source Address                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination Address                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Flags: bit 0 reserved, DF (0x4000 of the 16-bit word), MF (0x2000); the fragment offset counts
 * 8-byte units. A total length of 0 is what Linux writes for TSO/BIG TCP super-packets on the
 * sending host; check() accepts it and totalLength() reports 0 (the decoder then uses the captured
 * length). Stateless: call check() once, then the readers never validate. No allocation.
 */
export const IPV4_VERSION_IHL = 0;
export const IPV4_TOS = 1;
export const IPV4_TOTAL_LENGTH = 2;
export const IPV4_ID = 4;
export const IPV4_FLAGS_FRAG = 6;
export const IPV4_TTL = 8;
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_ADDR_LEN = 4;

const FLAG_MF = 0x2000;
const FLAG_DF = 0x4000;
const FRAG_OFFSET_MASK = 0x1fff;

/**
 * '' when `len` captured bytes at `off` hold a whole, consistent IPv4 header, else
 * 'truncated_ipv4_header', 'bad_ipv4_version' or 'bad_ipv4_header_length' (IHL < 5, or a
 * non-zero total length smaller than the header).
 */
export function check(buf: Buffer, off: number, len: number): string {
  if (len < IPV4_MIN_HEADER_LEN) return 'truncated_ipv4_header';
  const vi = buf[off];
  if (vi >> 4 !== 4) return 'bad_ipv4_version';
  const hl = (vi & 0x0f) << 2;
  if (hl < IPV4_MIN_HEADER_LEN) return 'bad_ipv4_header_length';
  const total = (buf[off + IPV4_TOTAL_LENGTH] << 8) | buf[off + IPV4_TOTAL_LENGTH + 1];
  if (total !== 0 && total < hl) return 'bad_ipv4_header_length';
  if (hl > len) return 'truncated_ipv4_header';
  return '';
}

/** Header length in bytes (IHL * 4). */
export function headerLength(buf: Buffer, off: number): number {
  return (buf[off] & 0x0f) << 2;
}

export function totalLength(buf: Buffer, off: number): number {
  return (buf[off + IPV4_TOTAL_LENGTH] << 8) | buf[off + IPV4_TOTAL_LENGTH + 1];
}

export function id(buf: Buffer, off: number): number {
  return (buf[off + IPV4_ID] << 8) | buf[off + IPV4_ID + 1];
}

export function moreFragments(buf: Buffer, off: number): boolean {
  return (((buf[off + IPV4_FLAGS_FRAG] << 8) | buf[off + IPV4_FLAGS_FRAG + 1]) & FLAG_MF) !== 0;
}

export function dontFragment(buf: Buffer, off: number): boolean {
  return (((buf[off + IPV4_FLAGS_FRAG] << 8) | buf[off + IPV4_FLAGS_FRAG + 1]) & FLAG_DF) !== 0;
}

/** Fragment offset in bytes. */
export function fragmentOffset(buf: Buffer, off: number): number {
  return ((((buf[off + IPV4_FLAGS_FRAG] << 8) | buf[off + IPV4_FLAGS_FRAG + 1]) & FRAG_OFFSET_MASK) << 3);
}

/** True when this is one fragment of a larger datagram (MF set or offset > 0). */
export function isFragment(buf: Buffer, off: number): boolean {
  return (((buf[off + IPV4_FLAGS_FRAG] << 8) | buf[off + IPV4_FLAGS_FRAG + 1]) & (FLAG_MF | FRAG_OFFSET_MASK)) !== 0;
}

export function ttl(buf: Buffer, off: number): number {
  return buf[off + IPV4_TTL];
}

export function protocol(buf: Buffer, off: number): number {
  return buf[off + IPV4_PROTOCOL];
}
