/**
 * TCP header, RFC 9293 §3.1.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Sequence Number                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Acknowledgment Number                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *  |       |       |R|E|G|K|H|T|N|N|                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                           [Options]                           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Stateless: call check() once, then the readers never validate. No allocation; seq/ack are
 * returned as unsigned 32-bit numbers.
 */
export const TCP_SRC_PORT = 0;
export const TCP_DST_PORT = 2;
export const TCP_SEQ = 4;
export const TCP_ACK_NUM = 8;
export const TCP_DATA_OFFSET = 12;
export const TCP_FLAGS = 13;
export const TCP_WINDOW = 14;
export const TCP_CHECKSUM = 16;
export const TCP_URGENT = 18;
export const TCP_MIN_HEADER_LEN = 20;

/**
 * '' when the whole TCP header (options included) is in the `len` captured bytes at `off`.
 * `declaredLen` is what the IP layer says the segment holds (defaults to `len`): a data offset
 * beyond it is 'bad_tcp_data_offset'; one beyond the captured bytes only is 'truncated_tcp_header'.
 */
export function check(buf: Buffer, off: number, len: number, declaredLen: number = len): string {
  if (len < TCP_MIN_HEADER_LEN) return 'truncated_tcp_header';
  const hl = (buf[off + TCP_DATA_OFFSET] >> 4) << 2;
  if (hl < TCP_MIN_HEADER_LEN || hl > declaredLen) return 'bad_tcp_data_offset';
  if (hl > len) return 'truncated_tcp_header';
  return '';
}

export function srcPort(buf: Buffer, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function dstPort(buf: Buffer, off: number): number {
  return (buf[off + TCP_DST_PORT] << 8) | buf[off + TCP_DST_PORT + 1];
}

export function seq(buf: Buffer, off: number): number {
  return ((buf[off + TCP_SEQ] << 24) | (buf[off + TCP_SEQ + 1] << 16) | (buf[off + TCP_SEQ + 2] << 8) | buf[off + TCP_SEQ + 3]) >>> 0;
}

export function ack(buf: Buffer, off: number): number {
  return ((buf[off + TCP_ACK_NUM] << 24) | (buf[off + TCP_ACK_NUM + 1] << 16) | (buf[off + TCP_ACK_NUM + 2] << 8) | buf[off + TCP_ACK_NUM + 3]) >>> 0;
}

/** Header length in bytes (data offset * 4). */
export function headerLength(buf: Buffer, off: number): number {
  return (buf[off + TCP_DATA_OFFSET] >> 4) << 2;
}

/** The flag byte: CWR ECE URG ACK PSH RST SYN FIN (bit 7 .. bit 0). */
export function flags(buf: Buffer, off: number): number {
  return buf[off + TCP_FLAGS];
}

export function window(buf: Buffer, off: number): number {
  return (buf[off + TCP_WINDOW] << 8) | buf[off + TCP_WINDOW + 1];
}
