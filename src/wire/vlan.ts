/**
 * IEEE 802.1Q / 802.1ad VLAN tag, as it follows the TPID (0x8100, 0x88a8 or legacy 0x9100) that
 * took the place of the Ethernet type field. Stacked tags (QinQ) simply repeat this header.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | PCP |D|        VLAN ID        |     EtherType (next layer)    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const VLAN_TCI = 0;
export const VLAN_TYPE = 2;
export const VLAN_HEADER_LEN = 4;
export const VLAN_ID_MASK = 0x0fff;

export function check(_buf: Buffer, _off: number, len: number): string {
  return len < VLAN_HEADER_LEN ? 'truncated_vlan_header' : '';
}

export function vlanId(buf: Buffer, off: number): number {
  return ((buf[off + VLAN_TCI] << 8) | buf[off + VLAN_TCI + 1]) & VLAN_ID_MASK;
}

export function priority(buf: Buffer, off: number): number {
  return buf[off + VLAN_TCI] >> 5;
}

export function etherType(buf: Buffer, off: number): number {
  return (buf[off + VLAN_TYPE] << 8) | buf[off + VLAN_TYPE + 1];
}
