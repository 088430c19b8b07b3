/**
 * Link-layer dissection steps: Ethernet, 802.1Q/802.1ad VLAN tags, Linux SLL/SLL2, BSD null and
 * loop, raw IP. Each step checks its header once, advances the cursor and returns the next step
 * from the registry (or STEP_STOP with the outcome in s.status). No allocation.
 */
import type { DecodedPacket } from './decoded-packet';
import type { DissectState } from './dissect-state';
import * as ethernet from '../wire/ethernet';
import * as vlan from '../wire/vlan';
import * as sll from '../wire/linux-sll';
import * as sll2 from '../wire/linux-sll2';
import * as bsdNull from '../wire/bsd-null';
import { STEP_IPV4, STEP_IPV6 } from './step-ids';

export function stepEthernet(s: DissectState, _out: DecodedPacket): number {
  const r = ethernet.check(s.buf, s.off, s.end - s.off);
  if (r !== '') return s.stop(r);
  const type = ethernet.etherType(s.buf, s.off);
  s.off += ethernet.ETH_HEADER_LEN;
  return s.registry.etherType[type];
}

export function stepVlan(s: DissectState, out: DecodedPacket): number {
  const r = vlan.check(s.buf, s.off, s.end - s.off);
  if (r !== '') return s.stop(r);
  if (out.vlan < 0) out.vlan = vlan.vlanId(s.buf, s.off);
  const type = vlan.etherType(s.buf, s.off);
  s.off += vlan.VLAN_HEADER_LEN;
  return s.registry.etherType[type];
}

export function stepSll(s: DissectState, _out: DecodedPacket): number {
  const r = sll.check(s.buf, s.off, s.end - s.off);
  if (r !== '') return s.stop(r);
  const type = sll.protocol(s.buf, s.off);
  s.off += sll.SLL_HEADER_LEN;
  return s.registry.etherType[type];
}

export function stepSll2(s: DissectState, _out: DecodedPacket): number {
  const r = sll2.check(s.buf, s.off, s.end - s.off);
  if (r !== '') return s.stop(r);
  const type = sll2.protocol(s.buf, s.off);
  s.off += sll2.SLL2_HEADER_LEN;
  return s.registry.etherType[type];
}

function afterFamily(s: DissectState, family: number): number {
  const v = bsdNull.ipVersionOfFamily(family);
  s.off += bsdNull.NULL_HEADER_LEN;
  if (v === 4) return STEP_IPV4;
  if (v === 6) return STEP_IPV6;
  return s.stop('not_ip');
}

/** LINKTYPE_NULL: 4-byte family in the capturing host's byte order (either accepted). */
export function stepNull(s: DissectState, _out: DecodedPacket): number {
  const r = bsdNull.check(s.buf, s.off, s.end - s.off);
  if (r !== '') return s.stop(r);
  return afterFamily(s, bsdNull.familyHostOrder(s.buf, s.off));
}

/** LINKTYPE_LOOP: 4-byte family in network byte order. */
export function stepLoop(s: DissectState, _out: DecodedPacket): number {
  const r = bsdNull.check(s.buf, s.off, s.end - s.off);
  if (r !== '') return s.stop(r);
  return afterFamily(s, bsdNull.familyNetworkOrder(s.buf, s.off));
}

/** Raw IP (101, 12, 14, 228, 229): the version nibble decides. */
export function stepRawIp(s: DissectState, _out: DecodedPacket): number {
  if (s.end - s.off < 1) return s.stop('truncated_ip_header');
  const v = s.buf[s.off] >> 4;
  if (v === 4) return STEP_IPV4;
  if (v === 6) return STEP_IPV6;
  return s.stop('not_ip');
}

export function stepNotIp(s: DissectState, _out: DecodedPacket): number {
  return s.stop('not_ip');
}
