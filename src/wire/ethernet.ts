/**
 * Ethernet II header (RFC 894; IEEE 802.3 clause 3.2.6 for the length/type field).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination MAC (6 bytes)                  |
 *  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                               |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  |                      Source MAC (6 bytes)                     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      EtherType / length       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A type/length value <= 1500 is an 802.3 length (LLC follows), not an EtherType.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;
export const ETH_HEADER_LEN = 14;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100; // IEEE 802.1Q C-tag
export const ETHERTYPE_QINQ = 0x88a8; // IEEE 802.1ad S-tag
export const ETHERTYPE_QINQ_LEGACY = 0x9100; // pre-standard QinQ
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_TEB = 0x6558; // Transparent Ethernet Bridging (GENEVE/GRE payload is Ethernet)
/** Largest type/length value that is an 802.3 frame length. */
export const ETH_MAX_8023_LENGTH = 1500;

/** '' when `len` bytes at `off` hold an Ethernet header, else the reason. */
export function check(_buf: Buffer, _off: number, len: number): string {
  return len < ETH_HEADER_LEN ? 'truncated_ethernet_header' : '';
}

export function etherType(buf: Buffer, off: number): number {
  return (buf[off + ETH_TYPE] << 8) | buf[off + ETH_TYPE + 1];
}
