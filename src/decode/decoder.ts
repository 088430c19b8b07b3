/**
 * The packet decoder: one frame in, one reused DecodedPacket out.
 *
 * Dissection is a loop over steps (src/decode/*-steps.ts) dispatched through the registry tables
 * built at construction (link type, EtherType, IP protocol, UDP destination port → step), with an
 * explicit tunnel depth cap and a cap on the number of steps. Supported: Ethernet with stacked
 * 802.1Q/802.1ad/QinQ tags, Linux SLL and SLL2, raw IP, BSD null/loop, IPv4 with fragment
 * reassembly, IPv6 with extension headers and fragment reassembly, AH, TCP, UDP, VXLAN and GENEVE
 * (incl. AWS GWLB GENEVE→IPv4→UDP→VXLAN→Ethernet and GCP GENEVE→IP).
 *
 * Outcomes: decode() returns '' when `out` holds a TCP segment, else one snake_case outcome under
 * which the caller counts the packet exactly once. The decoder itself only counts events that are
 * not per-packet outcomes (fragment reassembly events, ipv4_zero_total_length, decoder_internal_error).
 *
 * Ownership: `frame.buf` is BORROWED for the duration of decode(). `out.buf` is either frame.buf or
 * a reassembly buffer owned by the decoder, valid until the next decode() call.
 *
 * Allocation: none on the plain Ethernet/IPv4/TCP path; tunnelled packets allocate the tunnel
 * source string only when the outer source address changes; fragments allocate in the reassembler.
 */
import type { Counters } from '../observe/counters';
import type { Frame } from '../source/frame';
import type { DecodedPacket } from './decoded-packet';
import { DissectState, TUNNEL_GENEVE, TUNNEL_VXLAN } from './dissect-state';
import { FragmentReassembler } from './fragment-reassembler';
import { Registry } from './registry';
import * as ids from './step-ids';
import { stepEthernet, stepLoop, stepNotIp, stepNull, stepRawIp, stepSll, stepSll2, stepVlan } from './link-steps';
import { stepAuthHeader, stepIpv4, stepIpv6, stepIpv6Extension, stepIpv6Fragment, stepNoNextHeader, stepNotTcp } from './ip-steps';
import { stepTcp, stepUdp } from './transport-steps';
import { stepGeneve, stepVxlan } from './tunnel-steps';
import { ipToString } from '../wire/ip-address';

export { ipToString } from '../wire/ip-address';

export interface DecoderOptions {
  /** UDP destination ports decoded as VXLAN. Default [4789]. */
  vxlanPorts: number[];
  /** UDP destination ports decoded as GENEVE. Default [6081]. */
  genevePorts: number[];
  /** Tunnels (VXLAN/GENEVE) that may be nested; one more is 'tunnel_depth_exceeded'. Default 4. */
  maxTunnelDepth: number;
  /** When set, only tunnelled packets whose innermost VNI is in the set pass ('vni_not_allowed'). */
  vniAllow?: ReadonlySet<number>;
  /** Tunnelled packets whose innermost VNI is in the set are dropped ('vni_denied'). */
  vniDeny?: ReadonlySet<number>;
  /** IP datagrams being reassembled at once. Default 1024. */
  maxFragmentSets: number;
  /** Fragment bytes buffered in total. Default 16 MiB. */
  maxFragmentBytes: number;
  /** A datagram not complete this long (capture time) after its first fragment is dropped. Default 30 s. */
  fragmentTimeoutMicros: number;
}

export const DEFAULT_DECODER_OPTIONS: Readonly<DecoderOptions> = Object.freeze({
  vxlanPorts: [4789],
  genevePorts: [6081],
  maxTunnelDepth: 4,
  maxFragmentSets: 1024,
  maxFragmentBytes: 16 * 1024 * 1024,
  fragmentTimeoutMicros: 30_000_000,
});

/**
 * Every non-empty outcome decode() can return (for pre-registering counters and /metrics help).
 * A test asserts that decode() never returns anything else.
 */
export const DECODE_OUTCOMES: readonly string[] = Object.freeze([
  'unknown_link_type',
  'not_ip',
  'not_tcp',
  'truncated_ethernet_header',
  'truncated_vlan_header',
  'truncated_sll_header',
  'truncated_sll2_header',
  'truncated_null_header',
  'truncated_ip_header',
  'truncated_ipv4_header',
  'bad_ipv4_version',
  'bad_ipv4_header_length',
  'truncated_ipv6_header',
  'bad_ipv6_version',
  'ipv6_bad_extension_header',
  'truncated_ipv6_extension_header',
  'ipv6_no_next_header',
  'truncated_ah_header',
  'bad_ah_length',
  'truncated_tcp_header',
  'bad_tcp_data_offset',
  'truncated_udp_header',
  'truncated_vxlan_header',
  'vxlan_bad_flags',
  'truncated_geneve_header',
  'geneve_bad_version',
  'geneve_bad_options',
  'tunnel_depth_exceeded',
  'vni_denied',
  'vni_not_allowed',
  'ip_fragment_buffered',
  'ip_fragment_dropped',
  'too_many_layers',
  'decoder_internal_error',
]);

/** Steps one packet may take before it is 'too_many_layers' (VLAN stacks, extension chains, tunnels). */
export const MAX_STEPS = 64;

type Step = (s: DissectState, out: DecodedPacket) => number;

const STEPS: Step[] = new Array<Step>(ids.STEP_COUNT);
STEPS[ids.STEP_STOP] = (s) => s.stop(s.status);
STEPS[ids.STEP_ETHERNET] = stepEthernet;
STEPS[ids.STEP_VLAN] = stepVlan;
STEPS[ids.STEP_SLL] = stepSll;
STEPS[ids.STEP_SLL2] = stepSll2;
STEPS[ids.STEP_NULL] = stepNull;
STEPS[ids.STEP_LOOP] = stepLoop;
STEPS[ids.STEP_RAW_IP] = stepRawIp;
STEPS[ids.STEP_IPV4] = stepIpv4;
STEPS[ids.STEP_IPV6] = stepIpv6;
STEPS[ids.STEP_IPV6_EXT] = stepIpv6Extension;
STEPS[ids.STEP_IPV6_FRAG] = stepIpv6Fragment;
STEPS[ids.STEP_AH] = stepAuthHeader;
STEPS[ids.STEP_TCP] = stepTcp;
STEPS[ids.STEP_UDP] = stepUdp;
STEPS[ids.STEP_VXLAN] = stepVxlan;
STEPS[ids.STEP_GENEVE] = stepGeneve;
STEPS[ids.STEP_NO_NEXT] = stepNoNextHeader;
STEPS[ids.STEP_NOT_IP] = stepNotIp;
STEPS[ids.STEP_NOT_TCP] = stepNotTcp;

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`decoder option ${name} must be a non-negative integer, got ${v}`);
  return v;
}

export class Decoder {
  readonly options: Readonly<DecoderOptions>;
  private readonly state: DissectState;
  private readonly reassembler: FragmentReassembler;
  /** Cache of the last tunnel source text, keyed by its bytes. */
  private readonly lastTunnelSrc = Buffer.alloc(16);
  private lastTunnelSrcVersion = 0;
  private lastTunnelSrcText = '';

  /** Throws RangeError on bad options (configuration errors fail at start, never per packet). */
  constructor(
    opts: Partial<DecoderOptions>,
    private readonly counters: Counters,
  ) {
    const o: DecoderOptions = {
      vxlanPorts: [...(opts.vxlanPorts ?? DEFAULT_DECODER_OPTIONS.vxlanPorts)],
      genevePorts: [...(opts.genevePorts ?? DEFAULT_DECODER_OPTIONS.genevePorts)],
      maxTunnelDepth: positiveInt('maxTunnelDepth', opts.maxTunnelDepth ?? DEFAULT_DECODER_OPTIONS.maxTunnelDepth),
      maxFragmentSets: positiveInt('maxFragmentSets', opts.maxFragmentSets ?? DEFAULT_DECODER_OPTIONS.maxFragmentSets),
      maxFragmentBytes: positiveInt('maxFragmentBytes', opts.maxFragmentBytes ?? DEFAULT_DECODER_OPTIONS.maxFragmentBytes),
      fragmentTimeoutMicros: positiveInt(
        'fragmentTimeoutMicros',
        opts.fragmentTimeoutMicros ?? DEFAULT_DECODER_OPTIONS.fragmentTimeoutMicros,
      ),
    };
    if (opts.vniAllow !== undefined) o.vniAllow = opts.vniAllow;
    if (opts.vniDeny !== undefined) o.vniDeny = opts.vniDeny;
    this.options = Object.freeze(o);
    const registry = new Registry({ vxlanPorts: o.vxlanPorts, genevePorts: o.genevePorts });
    this.reassembler = new FragmentReassembler(
      { maxSets: o.maxFragmentSets, maxBytes: o.maxFragmentBytes, timeoutMicros: o.fragmentTimeoutMicros },
      counters,
    );
    this.state = new DissectState(
      registry,
      { maxTunnelDepth: o.maxTunnelDepth, vniAllow: o.vniAllow, vniDeny: o.vniDeny },
      this.reassembler,
      counters,
    );
  }

  /** IP datagrams currently being reassembled. */
  get fragmentSetsPending(): number {
    return this.reassembler.pending;
  }

  /** Fragment bytes currently buffered. */
  get fragmentBytesBuffered(): number {
    return this.reassembler.bufferedBytes;
  }

  /**
   * Decodes one frame (first layer = frame.linkType) into `out` (reset first). Returns '' when
   * `out` holds a TCP segment for the flow table, else the snake_case outcome under which the
   * caller counts this packet exactly once. Never throws, whatever the bytes.
   */
  decode(frame: Frame, out: DecodedPacket): string {
    out.reset();
    const s = this.state;
    const ts = frame.tsMicros;
    if (ts >= this.reassembler.nextDeadline) this.reassembler.expire(ts);
    let step = s.registry.linkStep(frame.linkType);
    if (step < 0) return 'unknown_link_type';
    s.begin(frame.buf, frame.off, frame.capLen, ts);
    try {
      let n = 0;
      while (step !== ids.STEP_STOP) {
        if (++n > MAX_STEPS) {
          s.status = 'too_many_layers';
          break;
        }
        step = STEPS[step](s, out);
      }
    } catch {
      // A bug, not a bad packet: count it and keep the capture loop alive.
      this.counters.inc('decoder_internal_error');
      s.status = 'decoder_internal_error';
    }
    let status = s.status;
    out.depth = s.depth;
    if (s.depth > 0) {
      const bits = s.tunnelBits;
      out.tunnel = bits === (TUNNEL_GENEVE | TUNNEL_VXLAN) ? 'geneve+vxlan' : bits === TUNNEL_GENEVE ? 'geneve' : 'vxlan';
      if (s.tunnelSrcVersion !== 0) out.tunnelSource = this.tunnelSourceText(s);
      else if (frame.tunnelSource !== undefined) out.tunnelSource = frame.tunnelSource;
      if (status !== 'tunnel_depth_exceeded' && status !== 'ip_fragment_buffered' && status !== 'ip_fragment_dropped') {
        const v = s.vniVerdict(out.vni);
        if (v !== '') status = v;
      }
    }
    return status;
  }

  private tunnelSourceText(s: DissectState): string {
    const n = s.tunnelSrcVersion === 4 ? 4 : 16;
    const cur = s.tunnelSrc;
    const last = this.lastTunnelSrc;
    let same = s.tunnelSrcVersion === this.lastTunnelSrcVersion;
    for (let i = 0; same && i < n; i++) if (cur[i] !== last[i]) same = false;
    if (same) return this.lastTunnelSrcText;
    for (let i = 0; i < n; i++) last[i] = cur[i];
    this.lastTunnelSrcVersion = s.tunnelSrcVersion;
    this.lastTunnelSrcText = ipToString(s.tunnelSrc, 0, s.tunnelSrcVersion);
    return this.lastTunnelSrcText;
  }
}
