/**
 * The decoder's cursor: one object per Decoder, reset at the start of every decode() call, that
 * the step functions read and advance. Holding the cursor in fields (instead of closures or
 * returned tuples) keeps the per-packet path free of allocation.
 *
 * Invariants while a step runs: the current layer starts at `off`; bytes [off, end) are captured
 * and belong to the innermost IP packet (Ethernet padding after the IP total length excluded);
 * `claimedEnd` >= `end` is where that IP packet says it ends (larger when the capture or a
 * mirror session truncated it). `buf` is the frame's buffer (borrowed) or a reassembly output
 * buffer (owned by the reassembler).
 */
import type { Counters } from '../observe/counters';
import type { FragmentReassembler } from './fragment-reassembler';
import type { Registry } from './registry';

export interface TunnelLimits {
  maxTunnelDepth: number;
  vniAllow: ReadonlySet<number> | undefined;
  vniDeny: ReadonlySet<number> | undefined;
}

export const TUNNEL_VXLAN = 1;
export const TUNNEL_GENEVE = 2;

/** Extension headers allowed in one IPv6 packet before it is 'ipv6_bad_extension_header'. */
export const MAX_IPV6_EXTENSION_HEADERS = 16;

export class DissectState {
  buf: Buffer = Buffer.alloc(0);
  off = 0;
  end = 0;
  claimedEnd = 0;
  /** Outcome once a step returned STEP_STOP ('' = TCP segment decoded). */
  status = '';
  /** Capture time of the frame, microseconds. */
  ts = 0;
  /** Tunnels entered so far. */
  depth = 0;
  /** TUNNEL_* bits seen. */
  tunnelBits = 0;
  /** Outer source address of the outermost tunnel packet (copied), and its IP version (0 = none). */
  readonly tunnelSrc = Buffer.alloc(16);
  tunnelSrcVersion = 0;
  /** Offset of the current IP header in buf. */
  ipStart = 0;
  /** IPv6 extension headers walked in the current packet. */
  extCount = 0;
  /** Reassemblies completed in this decode call (selects the reassembler output slot). */
  reassemblies = 0;

  constructor(
    readonly registry: Registry,
    readonly limits: TunnelLimits,
    readonly reassembler: FragmentReassembler,
    readonly counters: Counters,
  ) {}

  begin(buf: Buffer, off: number, capLen: number, ts: number): void {
    this.buf = buf;
    const start = off > 0 ? off : 0;
    let end = start + (capLen > 0 ? capLen : 0);
    if (end > buf.length) end = buf.length;
    this.off = start < end ? start : end;
    this.end = end;
    this.claimedEnd = end;
    this.status = '';
    this.ts = ts;
    this.depth = 0;
    this.tunnelBits = 0;
    this.tunnelSrcVersion = 0;
    this.ipStart = 0;
    this.extCount = 0;
    this.reassemblies = 0;
  }

  /** '' when the VNI passes the allow/deny lists, else 'vni_denied' / 'vni_not_allowed'. */
  vniVerdict(vni: number): string {
    const { vniDeny, vniAllow } = this.limits;
    if (vniDeny !== undefined && vniDeny.has(vni)) return 'vni_denied';
    if (vniAllow !== undefined && !vniAllow.has(vni)) return 'vni_not_allowed';
    return '';
  }

  /** Ends the dissection with an outcome; returns STEP_STOP (0) for `return s.stop(...)`. */
  stop(status: string): number {
    this.status = status;
    return 0;
  }
}
