/**
 * IP Authentication Header, RFC 4302 §2 (IPv4 protocol 51 / IPv6 next header 51).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | Next Header   |  Payload Len  |          RESERVED             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Security Parameters Index (SPI)               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Sequence Number Field                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  +                Integrity Check Value-ICV (variable)           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The header is (Payload Len + 2) * 4 bytes long. The payload after it is in the clear.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const AH_NEXT_HEADER = 0;
export const AH_PAYLOAD_LEN = 1;
export const AH_SPI = 4;
export const AH_SEQ = 8;
export const AH_MIN_LEN = 12;

export function check(buf: Buffer, off: number, len: number): string {
  if (len < AH_MIN_LEN) return 'truncated_ah_header';
  const hl = (buf[off + AH_PAYLOAD_LEN] + 2) << 2;
  if (hl < AH_MIN_LEN) return 'bad_ah_length';
  if (hl > len) return 'truncated_ah_header';
  return '';
}

export function nextHeader(buf: Buffer, off: number): number {
  return buf[off + AH_NEXT_HEADER];
}

/** Length of the whole AH in bytes. */
export function headerLength(buf: Buffer, off: number): number {
  return (buf[off + AH_PAYLOAD_LEN] + 2) << 2;
}
