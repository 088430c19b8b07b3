/**
 * A captured frame as every PacketSource hands it to the decoder.
 *
 * Ownership: `buf` is BORROWED. It is valid only until the callback that received the frame returns;
 * a consumer that keeps bytes must copy them. Sources reuse one Frame object per source.
 */
export interface Frame {
  buf: Buffer;
  /** Offset of the first captured byte in `buf`. */
  off: number;
  /** Bytes captured (present in `buf` from `off`). */
  capLen: number;
  /** Bytes the frame had on the wire (>= capLen; larger when cut by snaplen). */
  wireLen: number;
  /** Capture time, microseconds since the Unix epoch. */
  tsMicros: number;
  /** First layer: a LINKTYPE_* value (see src/wire/link-types.ts). */
  linkType: number;
  /**
   * Outer source address of a tunnel frame whose outer IP header is not in `buf` (the UDP mirror
   * sockets deliver the VXLAN/GENEVE header first; this is the datagram's source address). The
   * decoder uses it as the packet's tunnelSource when it saw no outer IP header itself.
   */
  tunnelSource?: string;
}

export function newFrame(): Frame {
  return { buf: Buffer.alloc(0), off: 0, capLen: 0, wireLen: 0, tsMicros: 0, linkType: 1 };
}
