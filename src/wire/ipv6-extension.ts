/**
 * IPv6 extension headers with the generic layout: hop-by-hop options (RFC 8200 §4.3), routing
 * (§4.4) and destination options (§4.6).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Next Header  |  Hdr Ext Len  |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  .          Options / routing data ((Hdr Ext Len + 1) * 8 bytes in all)
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const EXT_NEXT_HEADER = 0;
export const EXT_LENGTH = 1;
export const EXT_MIN_LEN = 8;

/** '' when the whole extension header fits in `len` bytes, else 'ipv6_bad_extension_header'. */
export function check(buf: Buffer, off: number, len: number): string {
  if (len < EXT_MIN_LEN) return 'ipv6_bad_extension_header';
  if (((buf[off + EXT_LENGTH] + 1) << 3) > len) return 'ipv6_bad_extension_header';
  return '';
}

export function nextHeader(buf: Buffer, off: number): number {
  return buf[off + EXT_NEXT_HEADER];
}

/** Length of this extension header in bytes. */
export function headerLength(buf: Buffer, off: number): number {
  return (buf[off + EXT_LENGTH] + 1) << 3;
}
