/**
 * Transport dissection steps: TCP (the end of the road: fills the DecodedPacket) and UDP
 * (dispatch by destination port to a tunnel step, else 'not_tcp'). No allocation.
 */
import type { DecodedPacket } from './decoded-packet';
import type { DissectState } from './dissect-state';
import { STEP_NOT_TCP } from './step-ids';
import * as tcp from '../wire/tcp';
import * as udp from '../wire/udp';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ip-protocols';

export function stepTcp(s: DissectState, out: DecodedPacket): number {
  const buf = s.buf;
  const off = s.off;
  const r = tcp.check(buf, off, s.end - off, s.claimedEnd - off);
  if (r !== '') return s.stop(r);
  out.ipProto = IPPROTO_TCP;
  out.srcPort = tcp.srcPort(buf, off);
  out.dstPort = tcp.dstPort(buf, off);
  out.seq = tcp.seq(buf, off);
  out.ack = tcp.ack(buf, off);
  out.tcpFlags = tcp.flags(buf, off);
  const payloadOff = off + tcp.headerLength(buf, off);
  out.payloadOff = payloadOff;
  out.payloadLen = s.end - payloadOff;
  out.payloadMissing = s.claimedEnd - s.end;
  return s.stop('');
}

export function stepUdp(s: DissectState, out: DecodedPacket): number {
  const buf = s.buf;
  const off = s.off;
  const r = udp.check(buf, off, s.end - off);
  if (r !== '') return s.stop(r);
  const dst = udp.dstPort(buf, off);
  out.ipProto = IPPROTO_UDP;
  out.srcPort = udp.srcPort(buf, off);
  out.dstPort = dst;
  const next = s.registry.udpPort[dst];
  if (next === STEP_NOT_TCP) return s.stop('not_tcp');
  const ulen = udp.length(buf, off);
  if (ulen >= udp.UDP_HEADER_LEN && off + ulen < s.end) s.end = off + ulen;
  s.off = off + udp.UDP_HEADER_LEN;
  return next;
}
