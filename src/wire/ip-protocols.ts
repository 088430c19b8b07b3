/**
 * IP protocol numbers / IPv6 Next Header values used by the decoder (IANA "Assigned Internet
 * Protocol Numbers", https://www.iana.org/assignments/protocol-numbers/).
 */
export const IPPROTO_HOPOPTS = 0; // IPv6 hop-by-hop options (RFC 8200 §4.3)
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43; // IPv6 routing header (RFC 8200 §4.4)
export const IPPROTO_FRAGMENT = 44; // IPv6 fragment header (RFC 8200 §4.5)
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51; // RFC 4302
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59; // IPv6 no next header (RFC 8200 §4.7)
export const IPPROTO_DSTOPTS = 60; // IPv6 destination options (RFC 8200 §4.6)
