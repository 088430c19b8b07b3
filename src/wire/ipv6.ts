/**
 * IPv6 fixed header, RFC 8200 §3.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Traffic Class |           Flow Label                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                                                               |
 *  +                         Source Address (16 bytes)             +
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                                                               |
 *  +                      Destination Address (16 bytes)           +
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Payload length counts everything after these 40 bytes (extension headers included); 0 means a
 * jumbogram (RFC 2675) or a BIG TCP super-packet, and the decoder then uses the captured length.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const IPV6_VERSION_TC_FLOW = 0;
export const IPV6_PAYLOAD_LENGTH = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HOP_LIMIT = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;
export const IPV6_HEADER_LEN = 40;
export const IPV6_ADDR_LEN = 16;

export function check(buf: Buffer, off: number, len: number): string {
  if (len < IPV6_HEADER_LEN) return 'truncated_ipv6_header';
  if (buf[off] >> 4 !== 6) return 'bad_ipv6_version';
  return '';
}

export function payloadLength(buf: Buffer, off: number): number {
  return (buf[off + IPV6_PAYLOAD_LENGTH] << 8) | buf[off + IPV6_PAYLOAD_LENGTH + 1];
}

export function nextHeader(buf: Buffer, off: number): number {
  return buf[off + IPV6_NEXT_HEADER];
}

export function hopLimit(buf: Buffer, off: number): number {
  return buf[off + IPV6_HOP_LIMIT];
}
