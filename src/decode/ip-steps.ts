/**
 * Network-layer dissection steps: IPv4 (+ fragments), IPv6 with extension headers (hop-by-hop,
 * routing, destination options, fragment, AH), and the terminal "no next header" / "not TCP"
 * steps. Fragments go to the decoder's FragmentReassembler; when a datagram completes, the cursor
 * moves into the reassembler's output buffer and dissection continues there.
 * No allocation except on the fragment path.
 */
import type { DecodedPacket } from './decoded-packet';
import { MAX_IPV6_EXTENSION_HEADERS, type DissectState } from './dissect-state';
import { FRAG_BUFFERED, FRAG_DROPPED } from './fragment-reassembler';
import * as ipv4 from '../wire/ipv4';
import * as ipv6 from '../wire/ipv6';
import * as ext from '../wire/ipv6-extension';
import * as frag from '../wire/ipv6-fragment';
import * as ah from '../wire/ip-auth-header';

export function stepIpv4(s: DissectState, out: DecodedPacket): number {
  const buf = s.buf;
  const ip = s.off;
  const avail = s.end - ip;
  const r = ipv4.check(buf, ip, avail);
  if (r !== '') return s.stop(r);
  const hl = ipv4.headerLength(buf, ip);
  let total = ipv4.totalLength(buf, ip);
  if (total === 0) {
    // TSO / BIG TCP super-packet captured on the sending host: the length is what was captured.
    s.counters.inc('ipv4_zero_total_length');
    total = avail;
  }
  const claimed = ip + total;
  if (claimed < s.end) s.end = claimed; // Ethernet padding and trailers are not part of the packet
  s.claimedEnd = claimed;
  s.ipStart = ip;
  s.extCount = 0;
  const proto = ipv4.protocol(buf, ip);
  out.buf = buf;
  out.ipVersion = 4;
  out.srcAddrOff = ip + ipv4.IPV4_SRC;
  out.dstAddrOff = ip + ipv4.IPV4_DST;
  out.ipProto = proto;
  if (ipv4.isFragment(buf, ip)) {
    const v = fragmentPrecheck(s, out);
    if (v !== '') return s.stop(v);
    const res = s.reassembler.add4(buf, ip, hl, s.end - ip - hl, ipv4.fragmentOffset(buf, ip), ipv4.moreFragments(buf, ip), s.ts, s.reassemblies, out.vni);
    return afterFragment(s, out, res, 4);
  }
  s.off = ip + hl;
  return s.registry.ipProto[proto];
}

export function stepIpv6(s: DissectState, out: DecodedPacket): number {
  const buf = s.buf;
  const ip = s.off;
  const r = ipv6.check(buf, ip, s.end - ip);
  if (r !== '') return s.stop(r);
  const plen = ipv6.payloadLength(buf, ip);
  // Payload length 0: jumbogram / BIG TCP; the captured bytes are the packet.
  const claimed = plen === 0 ? s.end : ip + ipv6.IPV6_HEADER_LEN + plen;
  if (claimed < s.end) s.end = claimed;
  s.claimedEnd = claimed;
  s.ipStart = ip;
  s.extCount = 0;
  const nh = ipv6.nextHeader(buf, ip);
  out.buf = buf;
  out.ipVersion = 6;
  out.srcAddrOff = ip + ipv6.IPV6_SRC;
  out.dstAddrOff = ip + ipv6.IPV6_DST;
  out.ipProto = nh;
  s.off = ip + ipv6.IPV6_HEADER_LEN;
  return s.registry.ipProto[nh];
}

/** Hop-by-hop options (0), routing (43), destination options (60): skipped. */
export function stepIpv6Extension(s: DissectState, out: DecodedPacket): number {
  if (out.ipVersion !== 6) return s.stop('not_tcp');
  if (++s.extCount > MAX_IPV6_EXTENSION_HEADERS) return s.stop('ipv6_bad_extension_header');
  const buf = s.buf;
  const off = s.off;
  const r = ext.check(buf, off, s.end - off);
  if (r !== '') return s.stop(truncatedOrBad(s, r));
  const nh = ext.nextHeader(buf, off);
  s.off = off + ext.headerLength(buf, off);
  out.ipProto = nh;
  return s.registry.ipProto[nh];
}

/** IPv6 fragment header: atomic fragments are skipped, real ones reassembled. */
export function stepIpv6Fragment(s: DissectState, out: DecodedPacket): number {
  if (out.ipVersion !== 6) return s.stop('not_tcp');
  if (++s.extCount > MAX_IPV6_EXTENSION_HEADERS) return s.stop('ipv6_bad_extension_header');
  const buf = s.buf;
  const off = s.off;
  const r = frag.check(buf, off, s.end - off);
  if (r !== '') return s.stop(truncatedOrBad(s, r));
  const nh = frag.nextHeader(buf, off);
  const fo = frag.fragmentOffset(buf, off);
  const more = frag.moreFragments(buf, off);
  if (fo === 0 && !more) {
    s.off = off + frag.FRAG_HEADER_LEN;
    out.ipProto = nh;
    return s.registry.ipProto[nh];
  }
  out.ipProto = nh;
  const v = fragmentPrecheck(s, out);
  if (v !== '') return s.stop(v);
  const len = s.end - off - frag.FRAG_HEADER_LEN;
  const res = s.reassembler.add6(buf, s.ipStart, off, len, fo, more, s.ts, s.reassemblies, out.vni);
  return afterFragment(s, out, res, 6);
}

/** IP Authentication Header (IPv4 and IPv6): skipped, the payload is in the clear. */
export function stepAuthHeader(s: DissectState, out: DecodedPacket): number {
  if (++s.extCount > MAX_IPV6_EXTENSION_HEADERS) return s.stop(out.ipVersion === 6 ? 'ipv6_bad_extension_header' : 'not_tcp');
  const buf = s.buf;
  const off = s.off;
  const r = ah.check(buf, off, s.end - off);
  if (r !== '') return s.stop(r);
  const nh = ah.nextHeader(buf, off);
  s.off = off + ah.headerLength(buf, off);
  out.ipProto = nh;
  return s.registry.ipProto[nh];
}

export function stepNoNextHeader(s: DissectState, _out: DecodedPacket): number {
  return s.stop('ipv6_no_next_header');
}

export function stepNotTcp(s: DissectState, _out: DecodedPacket): number {
  return s.stop('not_tcp');
}

/** An extension header cut by the capture (but within the packet's own length) is truncation, not malformation. */
function truncatedOrBad(s: DissectState, reason: string): string {
  return s.claimedEnd > s.end ? 'truncated_ipv6_extension_header' : reason;
}

/** Before buffering a fragment: tunnelled traffic of a filtered VNI is not buffered, nor is a fragment the capture cut. */
function fragmentPrecheck(s: DissectState, out: DecodedPacket): string {
  if (s.depth > 0) {
    const v = s.vniVerdict(out.vni);
    if (v !== '') return v;
  }
  if (s.claimedEnd > s.end) {
    s.counters.inc('ip_fragment_truncated');
    return 'ip_fragment_dropped';
  }
  return '';
}

function afterFragment(s: DissectState, out: DecodedPacket, res: number, version: number): number {
  if (res === FRAG_BUFFERED) return s.stop('ip_fragment_buffered');
  if (res === FRAG_DROPPED) return s.stop('ip_fragment_dropped');
  const ra = s.reassembler;
  s.reassemblies++;
  s.buf = ra.output;
  s.ipStart = 0;
  s.off = ra.outputHeaderLen;
  s.end = ra.outputLen;
  s.claimedEnd = ra.outputLen;
  out.buf = ra.output;
  out.srcAddrOff = version === 4 ? ipv4.IPV4_SRC : ipv6.IPV6_SRC;
  out.dstAddrOff = version === 4 ? ipv4.IPV4_DST : ipv6.IPV6_DST;
  out.ipProto = ra.outputProto;
  return s.registry.ipProto[ra.outputProto];
}
