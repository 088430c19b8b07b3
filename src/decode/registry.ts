/**
 * The dissector's wiring as data (Zeek `packet_analysis` registrations, gopacket
 * `udpPortLayerType`): link type → first step, EtherType → step, IP protocol → step and UDP
 * destination port → step. Built once per Decoder from its options; lookups are one typed-array
 * (or, for the sparse link types, one Map) read per layer, with no allocation.
 *
 * Unknown EtherTypes map to STEP_NOT_IP, unknown IP protocols and UDP ports to STEP_NOT_TCP.
 */
import {
  DLT_RAW_12,
  DLT_RAW_14,
  FIRST_LAYER_GENEVE,
  FIRST_LAYER_VXLAN,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from '../wire/link-types';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_QINQ_LEGACY, ETHERTYPE_VLAN } from '../wire/ethernet';
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../wire/ip-protocols';
import {
  STEP_AH,
  STEP_ETHERNET,
  STEP_GENEVE,
  STEP_IPV4,
  STEP_IPV6,
  STEP_IPV6_EXT,
  STEP_IPV6_FRAG,
  STEP_LOOP,
  STEP_NO_NEXT,
  STEP_NOT_IP,
  STEP_NOT_TCP,
  STEP_NULL,
  STEP_RAW_IP,
  STEP_SLL,
  STEP_SLL2,
  STEP_TCP,
  STEP_UDP,
  STEP_VLAN,
  STEP_VXLAN,
} from './step-ids';

export interface RegistryOptions {
  vxlanPorts: readonly number[];
  genevePorts: readonly number[];
}

export class Registry {
  /** EtherType → step (65536 entries). */
  readonly etherType = new Uint8Array(65536).fill(STEP_NOT_IP);
  /** IP protocol / IPv6 next header → step (256 entries). */
  readonly ipProto = new Uint8Array(256).fill(STEP_NOT_TCP);
  /** UDP destination port → step (65536 entries). */
  readonly udpPort = new Uint8Array(65536).fill(STEP_NOT_TCP);
  private readonly linkTypes = new Map<number, number>();

  /** Throws RangeError for a port outside 1..65535 or a port given both as VXLAN and GENEVE (bad config). */
  constructor(opts: RegistryOptions) {
    this.linkTypes.set(LINKTYPE_NULL, STEP_NULL);
    this.linkTypes.set(LINKTYPE_ETHERNET, STEP_ETHERNET);
    this.linkTypes.set(LINKTYPE_RAW, STEP_RAW_IP);
    this.linkTypes.set(DLT_RAW_12, STEP_RAW_IP);
    this.linkTypes.set(DLT_RAW_14, STEP_RAW_IP);
    this.linkTypes.set(LINKTYPE_IPV4, STEP_RAW_IP);
    this.linkTypes.set(LINKTYPE_IPV6, STEP_RAW_IP);
    this.linkTypes.set(LINKTYPE_LOOP, STEP_LOOP);
    this.linkTypes.set(LINKTYPE_LINUX_SLL, STEP_SLL);
    this.linkTypes.set(LINKTYPE_LINUX_SLL2, STEP_SLL2);
    this.linkTypes.set(FIRST_LAYER_VXLAN, STEP_VXLAN);
    this.linkTypes.set(FIRST_LAYER_GENEVE, STEP_GENEVE);

    this.etherType[ETHERTYPE_IPV4] = STEP_IPV4;
    this.etherType[ETHERTYPE_IPV6] = STEP_IPV6;
    this.etherType[ETHERTYPE_VLAN] = STEP_VLAN;
    this.etherType[ETHERTYPE_QINQ] = STEP_VLAN;
    this.etherType[ETHERTYPE_QINQ_LEGACY] = STEP_VLAN;

    this.ipProto[IPPROTO_TCP] = STEP_TCP;
    this.ipProto[IPPROTO_UDP] = STEP_UDP;
    this.ipProto[IPPROTO_HOPOPTS] = STEP_IPV6_EXT;
    this.ipProto[IPPROTO_ROUTING] = STEP_IPV6_EXT;
    this.ipProto[IPPROTO_DSTOPTS] = STEP_IPV6_EXT;
    this.ipProto[IPPROTO_FRAGMENT] = STEP_IPV6_FRAG;
    this.ipProto[IPPROTO_AH] = STEP_AH;
    this.ipProto[IPPROTO_NONE] = STEP_NO_NEXT;

    for (const p of opts.vxlanPorts) this.setPort(p, STEP_VXLAN);
    for (const p of opts.genevePorts) this.setPort(p, STEP_GENEVE);
  }

  /** First step for a frame's link type, or -1 when the link type is not supported. */
  linkStep(linkType: number): number {
    const s = this.linkTypes.get(linkType);
    return s === undefined ? -1 : s;
  }

  private setPort(port: number, step: number): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad tunnel UDP port: ${port}`);
    const cur = this.udpPort[port];
    if (cur !== STEP_NOT_TCP && cur !== step) throw new RangeError(`UDP port ${port} configured for both VXLAN and GENEVE`);
    this.udpPort[port] = step;
  }
}
