/**
 * GENEVE header, RFC 8926 §3.4, followed by its options (§3.5).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        Virtual Network Identifier (VNI)       |    Reserved   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Variable-Length Options                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Each option (TLV):
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Option Class         |      Type     |R|R|R| Length  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Variable-Length Option Data                   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Opt Len and the option Length count 4-byte words (the option Length excludes its own 4-byte
 * header). Protocol Type is an EtherType: 0x6558 = Ethernet (classic), 0x0800/0x86DD = an IP packet
 * directly (AWS Gateway Load Balancer, GCP Network Security Integration). AWS GWLB options use
 * class 0x0108; GCP uses 0x0132.
 * Stateless: call check() once, then the readers never validate. No allocation.
 */
export const GENEVE_VER_OPTLEN = 0;
export const GENEVE_FLAGS = 1;
export const GENEVE_PROTOCOL = 2;
export const GENEVE_VNI = 4;
export const GENEVE_BASE_LEN = 8;
export const GENEVE_OPT_CLASS = 0;
export const GENEVE_OPT_TYPE = 2;
export const GENEVE_OPT_LENGTH = 3;
export const GENEVE_OPT_HEADER_LEN = 4;
export const GENEVE_DEFAULT_PORT = 6081;
export const GENEVE_OPT_CLASS_AWS_GWLB = 0x0108;
export const GENEVE_OPT_CLASS_GCP = 0x0132;

/**
 * '' when the base header and all options are captured and the options parse as TLVs that end
 * exactly at Opt Len; else 'truncated_geneve_header', 'geneve_bad_version' or 'geneve_bad_options'.
 */
export function check(buf: Buffer, off: number, len: number): string {
  if (len < GENEVE_BASE_LEN) return 'truncated_geneve_header';
  if (buf[off] >> 6 !== 0) return 'geneve_bad_version';
  const hl = headerLength(buf, off);
  if (hl > len) return 'truncated_geneve_header';
  let p = off + GENEVE_BASE_LEN;
  const end = off + hl;
  while (p < end) {
    if (end - p < GENEVE_OPT_HEADER_LEN) return 'geneve_bad_options';
    p += GENEVE_OPT_HEADER_LEN + ((buf[p + GENEVE_OPT_LENGTH] & 0x1f) << 2);
  }
  return p === end ? '' : 'geneve_bad_options';
}

export function version(buf: Buffer, off: number): number {
  return buf[off] >> 6;
}

/** Length of the options in bytes. */
export function optionsLength(buf: Buffer, off: number): number {
  return (buf[off] & 0x3f) << 2;
}

/** Base header plus options, in bytes: where the payload starts. */
export function headerLength(buf: Buffer, off: number): number {
  return GENEVE_BASE_LEN + ((buf[off] & 0x3f) << 2);
}

/** O bit: control packet (OAM). */
export function isOam(buf: Buffer, off: number): boolean {
  return (buf[off + GENEVE_FLAGS] & 0x80) !== 0;
}

/** C bit: critical options present. */
export function hasCriticalOptions(buf: Buffer, off: number): boolean {
  return (buf[off + GENEVE_FLAGS] & 0x40) !== 0;
}

export function protocolType(buf: Buffer, off: number): number {
  return (buf[off + GENEVE_PROTOCOL] << 8) | buf[off + GENEVE_PROTOCOL + 1];
}

/** The 24-bit VNI. */
export function vni(buf: Buffer, off: number): number {
  return (buf[off + GENEVE_VNI] << 16) | (buf[off + GENEVE_VNI + 1] << 8) | buf[off + GENEVE_VNI + 2];
}

/** Option readers: `opt` is the offset of an option's TLV header (first at off + GENEVE_BASE_LEN). */
export function optionClass(buf: Buffer, opt: number): number {
  return (buf[opt + GENEVE_OPT_CLASS] << 8) | buf[opt + GENEVE_OPT_CLASS + 1];
}

export function optionType(buf: Buffer, opt: number): number {
  return buf[opt + GENEVE_OPT_TYPE];
}

/** Length of the option's data in bytes (excluding its 4-byte TLV header). */
export function optionDataLength(buf: Buffer, opt: number): number {
  return (buf[opt + GENEVE_OPT_LENGTH] & 0x1f) << 2;
}
