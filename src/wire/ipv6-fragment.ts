/**
 * IPv6 fragment header, RFC 8200 §4.5 (atomic fragments: RFC 6946).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Identification                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Fragment offset counts 8-byte units of the fragmentable part. Offset 0 with M = 0 is an atomic
 * fragment: the packet is whole and the header is simply skipped.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const FRAG_NEXT_HEADER = 0;
export const FRAG_RESERVED = 1;
export const FRAG_OFFSET_FLAGS = 2;
export const FRAG_ID = 4;
export const FRAG_HEADER_LEN = 8;

export function check(_buf: Buffer, _off: number, len: number): string {
  return len < FRAG_HEADER_LEN ? 'ipv6_bad_extension_header' : '';
}

export function nextHeader(buf: Buffer, off: number): number {
  return buf[off + FRAG_NEXT_HEADER];
}

/** Fragment offset in bytes. */
export function fragmentOffset(buf: Buffer, off: number): number {
  return ((buf[off + FRAG_OFFSET_FLAGS] << 8) | buf[off + FRAG_OFFSET_FLAGS + 1]) & 0xfff8;
}

export function moreFragments(buf: Buffer, off: number): boolean {
  return (buf[off + FRAG_OFFSET_FLAGS + 1] & 0x01) !== 0;
}

export function id(buf: Buffer, off: number): number {
  return ((buf[off + FRAG_ID] << 24) | (buf[off + FRAG_ID + 1] << 16) | (buf[off + FRAG_ID + 2] << 8) | buf[off + FRAG_ID + 3]) >>> 0;
}
