/**
 * VXLAN header, RFC 7348 §5. The payload is an Ethernet frame.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |R|R|R|R|I|R|R|R|            Reserved                           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                VXLAN Network Identifier (VNI) |   Reserved    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The I flag (0x08) must be set for a valid VNI; every reserved bit is ignored on receipt.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const VXLAN_FLAGS = 0;
export const VXLAN_VNI = 4;
export const VXLAN_HEADER_LEN = 8;
export const VXLAN_FLAG_I = 0x08;
export const VXLAN_DEFAULT_PORT = 4789;

export function check(buf: Buffer, off: number, len: number): string {
  if (len < VXLAN_HEADER_LEN) return 'truncated_vxlan_header';
  if ((buf[off + VXLAN_FLAGS] & VXLAN_FLAG_I) === 0) return 'vxlan_bad_flags';
  return '';
}

/** The 24-bit VNI. */
export function vni(buf: Buffer, off: number): number {
  return (buf[off + VXLAN_VNI] << 16) | (buf[off + VXLAN_VNI + 1] << 8) | buf[off + VXLAN_VNI + 2];
}
