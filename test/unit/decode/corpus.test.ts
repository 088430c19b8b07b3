// Decodes whole captures from ../shared/corpus (skipped when absent) and compares with tshark:
// the TCP packet counts below are `tshark -r FILE -Y tcp | wc -l`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Counters } from '../../../src/observe/counters';
import { DecodedPacket } from '../../../src/decode/decoded-packet';
import { Decoder } from '../../../src/decode/decoder';
import { readPcap } from './pcap-records';

const CORPUS = process.env.SHADOWTAP_CORPUS ?? resolve(__dirname, '../../../../../shared/corpus');
const skip = existsSync(CORPUS) ? false : `corpus not found at ${CORPUS}`;

interface Expect {
  file: string;
  frames: number;
  tcp: number;
  vnis?: number[];
  tunnel?: string;
}

const EXPECT: Expect[] = [
  { file: 'tcpdump/tcp-handshake-nano.pcap', frames: 3, tcp: 3 },
  { file: 'lab/sll2-any-duplicates.pcap', frames: 1854, tcp: 1854 },
  { file: 'suricata-verify/http-ipv6.pcap', frames: 14, tcp: 14 },
  { file: 'zeek/ipv6-http-atomic-frag.pcap', frames: 38, tcp: 36 },
  { file: 'zeek/http-vlan-0.pcap', frames: 14, tcp: 14 },
  { file: 'tcpdump/802.1ad_QinQ.pcap', frames: 2, tcp: 0 },
  { file: 'zeek/tunnels_vxlan.pcap', frames: 10, tcp: 0, vnis: [123], tunnel: 'vxlan' },
  { file: 'tcpdump/vxlan.pcap', frames: 10, tcp: 0, vnis: [100], tunnel: 'vxlan' },
  { file: 'zeek/tunnels_geneve.pcap', frames: 6, tcp: 0, vnis: [0], tunnel: 'geneve' },
  { file: 'zeek/tunnels_geneve-vxlan-dns-truncated.pcap', frames: 2, tcp: 0, vnis: [4242], tunnel: 'geneve+vxlan' },
  { file: 'suricata-verify/aws-mirror-vxlan-decoder-03.pcap', frames: 100, tcp: 82, vnis: [5569041], tunnel: 'vxlan' },
  { file: 'lab/vxlan-http-lab.pcap', frames: 24, tcp: 24, vnis: [4242], tunnel: 'vxlan' },
  { file: 'lab/vxlan-http-lab-nanosec-bigendian.pcap', frames: 24, tcp: 24, vnis: [4242], tunnel: 'vxlan' },
  { file: 'zeek/tunnels_vxlan-inner-tcp-bad-checksum.pcap', frames: 1, tcp: 1, vnis: [], tunnel: 'vxlan' },
];

test('corpus captures decode like tshark sees them', { skip }, () => {
  for (const e of EXPECT) {
    const frames = readPcap(join(CORPUS, e.file));
    assert.ok(frames !== null, e.file);
    assert.equal(frames.length, e.frames, e.file);
    const d = new Decoder({}, new Counters());
    const out = new DecodedPacket();
    let tcp = 0;
    const vnis = new Set<number>();
    const tunnels = new Set<string>();
    for (const f of frames) {
      const status = d.decode(f, out);
      assert.match(status, /^(|[a-z0-9]+(_[a-z0-9]+)*)$/, e.file);
      assert.notEqual(status, 'decoder_internal_error', e.file);
      if (status === '') {
        tcp++;
        assert.ok(out.payloadOff + out.payloadLen <= out.buf.length, e.file);
      }
      if (out.vni >= 0) vnis.add(out.vni);
      if (out.tunnel !== '') tunnels.add(out.tunnel);
    }
    assert.equal(tcp, e.tcp, `${e.file}: TCP packets`);
    if (e.vnis !== undefined && e.vnis.length > 0) assert.deepEqual([...vnis], e.vnis, e.file);
    if (e.tunnel !== undefined) assert.deepEqual([...tunnels], [e.tunnel], e.file);
  }
});

test('every classic pcap in the corpus decodes without internal errors', { skip }, () => {
  const files: string[] = [];
  for (const dir of readdirSync(CORPUS, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(CORPUS, dir.name))) if (f.endsWith('.pcap')) files.push(join(CORPUS, dir.name, f));
  }
  assert.ok(files.length > 10);
  for (const file of files) {
    const frames = readPcap(file);
    if (frames === null) continue;
    const counters = new Counters();
    const d = new Decoder({}, counters);
    const out = new DecodedPacket();
    for (const f of frames) d.decode(f, out);
    assert.equal(counters.get('decoder_internal_error'), 0, file);
  }
});
