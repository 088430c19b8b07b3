/**
 * Micro benchmark of Decoder.decode over a few real packets (plain loop, process.hrtime.bigint).
 * Run: npx tsc -p tsconfig.json && node dist/bench/decode.bench.js [iterations]
 * Prints ns/packet and packets/s per packet kind. No dependencies.
 */
import { Counters } from '../src/observe/counters';
import { DecodedPacket } from '../src/decode/decoded-packet';
import { Decoder } from '../src/decode/decoder';
import { LINKTYPE_ETHERNET } from '../src/wire/link-types';
import {
  GWLB_GENEVE_VXLAN_HTTP,
  IPV6_DSTOPTS_HTTP,
  LAB_VXLAN_HTTP_GET,
  NULL_IPV6_HTTP_GET,
  SLL_TCP_SYN,
  VLAN0_HTTP_GET,
  frameOf,
} from '../test/unit/decode/fixtures';
import { LINKTYPE_LINUX_SLL, LINKTYPE_NULL } from '../src/wire/link-types';
import type { Frame } from '../src/source/frame';

const iterations = Number(process.argv[2] ?? 2_000_000);

const cases: [string, Frame][] = [
  ['Ethernet[IPv4[TCP]] (http-vlan-0 #4 untagged)', frameOf(Buffer.concat([VLAN0_HTTP_GET.subarray(0, 12), Buffer.from('0800', 'hex'), VLAN0_HTTP_GET.subarray(18)]), LINKTYPE_ETHERNET)],
  ['Ethernet[802.1Q[IPv4[TCP]]] (http-vlan-0 #4)', frameOf(VLAN0_HTTP_GET, LINKTYPE_ETHERNET)],
  ['SLL[IPv4[TCP]] (tcp-handshake-nano #1)', frameOf(SLL_TCP_SYN, LINKTYPE_LINUX_SLL)],
  ['NULL[IPv6[TCP]] (http-ipv6 #5)', frameOf(NULL_IPV6_HTTP_GET, LINKTYPE_NULL)],
  ['Ethernet[IPv6[DestOpts[TCP]]] (ipv6-http-atomic-frag #8)', frameOf(IPV6_DSTOPTS_HTTP, LINKTYPE_ETHERNET)],
  ['VXLAN mirror (vxlan-http-lab #4)', frameOf(LAB_VXLAN_HTTP_GET, LINKTYPE_ETHERNET)],
  ['GWLB GENEVE+VXLAN (crafted)', frameOf(GWLB_GENEVE_VXLAN_HTTP, LINKTYPE_ETHERNET)],
];

const decoder = new Decoder({}, new Counters());
const out = new DecodedPacket();
console.log(`decode: ${iterations} iterations per case, node ${process.version}`);
for (const [name, frame] of cases) {
  for (let i = 0; i < 50_000; i++) decoder.decode(frame, out); // warm-up
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += decoder.decode(frame, out).length + out.payloadLen;
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  if (sink < 0) console.log(sink); // keep the loop observable
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(7)} ns/packet  ${(1e9 / ns / 1e6).toFixed(2).padStart(6)} Mpps`);
}
