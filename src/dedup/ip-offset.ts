import type { Frame } from '../source/frame';
import {
  LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
  DLT_RAW_12, DLT_RAW_14,
} from '../wire/link-types';
import { ETH_HEADER_LEN, ETH_TYPE, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_QINQ_LEGACY, ETHERTYPE_VLAN } from '../wire/ethernet';
import { VLAN_HEADER_LEN, VLAN_TYPE } from '../wire/vlan';
import { SLL_HEADER_LEN, SLL_PROTOCOL } from '../wire/linux-sll';
import { SLL2_HEADER_LEN, SLL2_PROTOCOL } from '../wire/linux-sll2';
import { NULL_HEADER_LEN } from '../wire/bsd-null';

/** At most this many 802.1Q/802.1ad tags are skipped before giving up. */
const MAX_VLAN_TAGS = 4;

/**
 * Offset in `frame.buf` of the outermost IP header of a captured frame, or -1 when the frame
 * does not carry IPv4/IPv6 right after its link layer (ARP, LLDP, unknown link type, too short).
 * Only the link layer is looked at; the IP header itself is validated by the caller. Never throws,
 * allocates nothing.
 */
export function ipHeaderOffset(frame: Frame): number {
  const buf = frame.buf;
  const start = frame.off;
  const end = frame.off + frame.capLen;
  let off: number;
  let etherType: number;
  switch (frame.linkType) {
    case LINKTYPE_ETHERNET: {
      if (end - start < ETH_HEADER_LEN) return -1;
      etherType = (buf[start + ETH_TYPE] << 8) | buf[start + ETH_TYPE + 1];
      off = start + ETH_HEADER_LEN;
      for (let tags = 0; etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_LEGACY; tags++) {
        if (tags === MAX_VLAN_TAGS || end - off < VLAN_HEADER_LEN) return -1;
        etherType = (buf[off + VLAN_TYPE] << 8) | buf[off + VLAN_TYPE + 1];
        off += VLAN_HEADER_LEN;
      }
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (end - start < SLL_HEADER_LEN) return -1;
      etherType = (buf[start + SLL_PROTOCOL] << 8) | buf[start + SLL_PROTOCOL + 1];
      off = start + SLL_HEADER_LEN;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (end - start < SLL2_HEADER_LEN) return -1;
      etherType = (buf[start + SLL2_PROTOCOL] << 8) | buf[start + SLL2_PROTOCOL + 1];
      off = start + SLL2_HEADER_LEN;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // The address family's byte order differs between writers; the IP version nibble decides.
      if (end - start < NULL_HEADER_LEN + 1) return -1;
      return ipVersionAt(buf, start + NULL_HEADER_LEN) ? start + NULL_HEADER_LEN : -1;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case DLT_RAW_12:
    case DLT_RAW_14:
      if (end - start < 1) return -1;
      return ipVersionAt(buf, start) ? start : -1;
    default:
      return -1;
  }
  if (etherType !== ETHERTYPE_IPV4 && etherType !== ETHERTYPE_IPV6) return -1;
  return off < end ? off : -1;
}

function ipVersionAt(buf: Buffer, off: number): boolean {
  const v = buf[off] >> 4;
  return v === 4 || v === 6;
}
