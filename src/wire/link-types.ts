/** LINKTYPE_* values from https://www.tcpdump.org/linktypes.html, plus internal first layers. */
export const LINKTYPE_NULL = 0; // BSD loopback: 4-byte host-order address family
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101; // raw IPv4 or IPv6
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: 4-byte network-order address family
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
/** Legacy DLT_RAW values some writers use in pcap headers. */
export const DLT_RAW_12 = 12;
export const DLT_RAW_14 = 14;
/** Internal first layers for the UDP mirror sockets: the frame starts with a VXLAN or GENEVE header. */
export const FIRST_LAYER_VXLAN = 0x10000 + 4789;
export const FIRST_LAYER_GENEVE = 0x10000 + 6081;
