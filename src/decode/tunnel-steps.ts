/**
 * Tunnel dissection steps: VXLAN (RFC 7348; inner Ethernet) and GENEVE (RFC 8926; inner Ethernet
 * for protocol 0x6558, else the EtherType table, e.g. IPv4 for AWS GWLB and GCP). Entering a
 * tunnel enforces the depth cap, records the innermost VNI and, for the outermost tunnel, copies
 * the outer source address (the flow key's tunnel id when there is no VNI). No allocation.
 */
import type { DecodedPacket } from './decoded-packet';
import { TUNNEL_GENEVE, TUNNEL_VXLAN, type DissectState } from './dissect-state';
import { STEP_ETHERNET } from './step-ids';
import * as vxlan from '../wire/vxlan';
import * as geneve from '../wire/geneve';
import { ETHERTYPE_TEB } from '../wire/ethernet';

function enterTunnel(s: DissectState, out: DecodedPacket, bit: number): string {
  if (s.depth >= s.limits.maxTunnelDepth) return 'tunnel_depth_exceeded';
  if (s.depth === 0 && out.ipVersion !== 0) {
    const n = out.ipVersion === 4 ? 4 : 16;
    const src = out.buf;
    const at = out.srcAddrOff;
    const dst = s.tunnelSrc;
    for (let i = 0; i < n; i++) dst[i] = src[at + i]; // Buffer.copy would allocate a view for a partial copy

    s.tunnelSrcVersion = out.ipVersion;
  }
  s.depth++;
  s.tunnelBits |= bit;
  return '';
}

export function stepVxlan(s: DissectState, out: DecodedPacket): number {
  const buf = s.buf;
  const off = s.off;
  const r = vxlan.check(buf, off, s.end - off);
  if (r !== '') return s.stop(r);
  const t = enterTunnel(s, out, TUNNEL_VXLAN);
  if (t !== '') return s.stop(t);
  out.vni = vxlan.vni(buf, off);
  s.off = off + vxlan.VXLAN_HEADER_LEN;
  s.claimedEnd = s.end;
  return STEP_ETHERNET;
}

export function stepGeneve(s: DissectState, out: DecodedPacket): number {
  const buf = s.buf;
  const off = s.off;
  const r = geneve.check(buf, off, s.end - off);
  if (r !== '') return s.stop(r);
  const t = enterTunnel(s, out, TUNNEL_GENEVE);
  if (t !== '') return s.stop(t);
  out.vni = geneve.vni(buf, off);
  const proto = geneve.protocolType(buf, off);
  s.off = off + geneve.headerLength(buf, off);
  s.claimedEnd = s.end;
  if (proto === ETHERTYPE_TEB) return STEP_ETHERNET;
  return s.registry.etherType[proto];
}
