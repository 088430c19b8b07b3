/**
 * Every capture in ../shared/corpus read by the capture reader: record counts (literal, from MANIFEST.md's packet
 * column), format, link types, and per-record timestamp / lengths / link type against tshark when it is installed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import {
  collect, CORPUS_DIR, corpusFile, HAVE_CORPUS, haveTshark, NO_CORPUS_REASON, NO_TSHARK_REASON, tsharkFrames,
  type TsharkFrame,
} from './helpers';

interface Expect {
  format: 'pcap' | 'pcap-ns' | 'pcapng';
  records: number;
  linkTypes: number[];
}

// Literal facts: records from MANIFEST.md (capinfos), link types from the file headers / IDBs.
const EXPECTED: Record<string, Expect> = {
  'gopacket/bigendian-test202.pcapng': { format: 'pcapng', records: 8, linkTypes: [0, 1] },
  'lab/multi-interface.pcapng': { format: 'pcapng', records: 1878, linkTypes: [1, 276] },
  'lab/sll2-any-duplicates.pcap': { format: 'pcap', records: 1854, linkTypes: [276] },
  'lab/vxlan-http-lab-nanosec-bigendian.pcap': { format: 'pcap-ns', records: 24, linkTypes: [1] },
  'lab/vxlan-http-lab.pcap': { format: 'pcap', records: 24, linkTypes: [1] },
  'suricata-verify/aws-mirror-vxlan-decoder-03.pcap': { format: 'pcap', records: 100, linkTypes: [1] },
  'suricata-verify/http-brotli-ce.pcap': { format: 'pcap', records: 16, linkTypes: [1] },
  'suricata-verify/http-chunked.pcap': { format: 'pcap', records: 5, linkTypes: [1] },
  'suricata-verify/http-close-headers.pcap': { format: 'pcap', records: 10, linkTypes: [1] },
  'suricata-verify/http-evader-000.pcap': { format: 'pcap', records: 8, linkTypes: [1] },
  'suricata-verify/http-evader-001.pcap': { format: 'pcap', records: 8, linkTypes: [1] },
  'suricata-verify/http-evader-002.pcap': { format: 'pcap', records: 8, linkTypes: [1] },
  'suricata-verify/http-gap-beyond-body.pcap': { format: 'pcap', records: 29, linkTypes: [0] },
  'suricata-verify/http-gap-simple.pcap': { format: 'pcap', records: 31, linkTypes: [0] },
  'suricata-verify/http-gap-whole-body.pcap': { format: 'pcap', records: 31, linkTypes: [0] },
  'suricata-verify/http-ipv6.pcap': { format: 'pcap', records: 14, linkTypes: [0] },
  'suricata-verify/http-pipeline-files-with-gap.pcap': { format: 'pcap', records: 169, linkTypes: [1] },
  'suricata-verify/http-start-from-response.pcap': { format: 'pcap', records: 8, linkTypes: [1] },
  'suricata-verify/vxlan-decoder-01.pcap': { format: 'pcap', records: 3, linkTypes: [1] },
  'tcpdump/802.1ad_QinQ.pcap': { format: 'pcap', records: 2, linkTypes: [1] },
  'tcpdump/LINKTYPE_RAW_ipv4.pcap': { format: 'pcap', records: 1, linkTypes: [101] },
  'tcpdump/LINKTYPE_RAW_ipv6.pcap': { format: 'pcap', records: 1, linkTypes: [101] },
  'tcpdump/empty.pcapng': { format: 'pcapng', records: 0, linkTypes: [] },
  'tcpdump/ipv4_tcp_http_xml_tso.pcap': { format: 'pcap', records: 1, linkTypes: [1] },
  'tcpdump/tcp-handshake-nano.pcap': { format: 'pcap-ns', records: 3, linkTypes: [113] },
  'tcpdump/vxlan.pcap': { format: 'pcap', records: 10, linkTypes: [1] },
  'zeek/http-vlan-0.pcap': { format: 'pcap', records: 14, linkTypes: [1] },
  'zeek/http_100-continue.pcap': { format: 'pcap', records: 66, linkTypes: [1] },
  'zeek/http_bro.org.pcap': { format: 'pcap', records: 751, linkTypes: [1] },
  'zeek/http_connect-with-header.pcap': { format: 'pcap', records: 58, linkTypes: [0] },
  'zeek/http_content-range-gap.pcap': { format: 'pcap', records: 26, linkTypes: [1] },
  'zeek/http_entity_gap.pcap': { format: 'pcap', records: 13, linkTypes: [1] },
  'zeek/http_get-gzip.pcap': { format: 'pcap', records: 14, linkTypes: [1] },
  'zeek/http_get-without-fins.pcap': { format: 'pcap', records: 11, linkTypes: [1] },
  'zeek/http_get.pcap': { format: 'pcap', records: 14, linkTypes: [1] },
  'zeek/http_get_nosyn.pcap': { format: 'pcap', records: 11, linkTypes: [1] },
  'zeek/http_http-large-gap.pcap': { format: 'pcap', records: 10, linkTypes: [1] },
  'zeek/http_http-lower-case-nonstandard-port.pcap': { format: 'pcap', records: 10, linkTypes: [1] },
  'zeek/http_http-post-large.pcap': { format: 'pcap', records: 38, linkTypes: [1] },
  'zeek/http_http-single-conn-22.pcap': { format: 'pcap', records: 28, linkTypes: [1] },
  'zeek/http_http_09.pcap': { format: 'pcap', records: 50, linkTypes: [1] },
  'zeek/http_methods.pcap': { format: 'pcap', records: 655, linkTypes: [1] },
  'zeek/http_missing-zlib-header.pcap': { format: 'pcap', records: 28, linkTypes: [1] },
  'zeek/http_multipart-form-data.pcap': { format: 'pcap', records: 7, linkTypes: [1] },
  'zeek/http_multipart.pcap': { format: 'pcap', records: 10, linkTypes: [1] },
  'zeek/http_pipelined-requests.pcap': { format: 'pcap', records: 49, linkTypes: [1] },
  'zeek/http_post.pcap': { format: 'pcap', records: 14, linkTypes: [1] },
  'zeek/http_proxy.pcap': { format: 'pcap', records: 26, linkTypes: [1] },
  'zeek/http_smuggle-http-request.pcap': { format: 'pcap', records: 23, linkTypes: [1] },
  'zeek/http_websocket.pcap': { format: 'pcap', records: 27, linkTypes: [1] },
  'zeek/http_x-gzip.pcap': { format: 'pcap', records: 7, linkTypes: [1] },
  'zeek/ipv6-http-atomic-frag.pcap': { format: 'pcap', records: 38, linkTypes: [1] },
  'zeek/pcapng-multi-interface.pcapng': { format: 'pcapng', records: 6, linkTypes: [1] },
  'zeek/tcp_fin_retransmission.pcap': { format: 'pcap', records: 5, linkTypes: [1] },
  'zeek/tcp_http-on-irc-port-missing-syn.pcapng': { format: 'pcapng', records: 13, linkTypes: [1] },
  'zeek/tcp_missing-syn.pcap': { format: 'pcap', records: 21, linkTypes: [1] },
  'zeek/tcp_reassembly.pcap': { format: 'pcap', records: 117, linkTypes: [1] },
  'zeek/tcp_retransmit-fast009.pcap': { format: 'pcap', records: 39, linkTypes: [1] },
  'zeek/tunnels_geneve-vxlan-dns-truncated.pcap': { format: 'pcap', records: 2, linkTypes: [1] },
  'zeek/tunnels_geneve.pcap': { format: 'pcap', records: 6, linkTypes: [1] },
  'zeek/tunnels_vxlan-inner-tcp-bad-checksum.pcap': { format: 'pcap', records: 1, linkTypes: [1] },
  'zeek/tunnels_vxlan.pcap': { format: 'pcap', records: 10, linkTypes: [1] },
};
// Read through file-source (gzip) in file-source.test.ts; failing on purpose: in errors.test.ts.
const ELSEWHERE = new Set(['zeek/http_1000-requests-one-dropped-response.pcap.gz', 'libpcap/pcap-invalid-version-1.pcap']);

describe('corpus captures', { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, () => {
  it('the table covers every capture in MANIFEST.md with the same packet count', () => {
    const manifest = fs.readFileSync(path.join(CORPUS_DIR, 'MANIFEST.md'), 'utf8');
    const rows = manifest.split('\n').filter((l) => /^\| [^ ]+\.(pcap|pcapng|pcap\.gz) \|/.test(l));
    assert.ok(rows.length >= 60, `only ${rows.length} manifest rows`);
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      const file = cells[1];
      const packets = cells[6];
      if (ELSEWHERE.has(file)) continue;
      const exp = EXPECTED[file];
      assert.ok(exp !== undefined, `${file} is in MANIFEST.md but not in this test`);
      assert.equal(exp.records, Number(packets), `${file}: manifest says ${packets}`);
    }
  });

  for (const [file, exp] of Object.entries(EXPECTED)) {
    it(`${file}: ${exp.records} records, ${exp.format}`, () => {
      const got = collect(corpusFile(file));
      assert.equal(got.error, undefined, got.error?.message);
      assert.ok(got.end !== undefined);
      assert.equal(got.end.format, exp.format);
      assert.equal(got.end.records, exp.records);
      assert.equal(got.frames.length, exp.records);
      assert.equal(got.end.truncatedAt, undefined);
      assert.equal(got.end.bytes, corpusFile(file).length);
      assert.deepEqual([...new Set(got.frames.map((f) => f.linkType))].sort((a, b) => a - b), exp.linkTypes);
      for (const f of got.frames) assert.ok(f.wireLen >= f.capLen, `${file}: wireLen ${f.wireLen} < capLen ${f.capLen}`);
    });
  }

  // tshark costs ~0.5 s per file, so it checks one file per format and byte order, all started at once (link types
  // of the other files are in the literal table above).
  const TSHARK_FILES = [
    'tcpdump/tcp-handshake-nano.pcap', // ns, little endian, Linux SLL
    'lab/vxlan-http-lab-nanosec-bigendian.pcap', // ns, big endian
    'lab/multi-interface.pcapng', // pcapng, Ethernet + SLL2 interfaces, µs
    'zeek/pcapng-multi-interface.pcapng', // pcapng, interfaces with µs and ns if_tsresol
    'gopacket/bigendian-test202.pcapng', // big-endian sections, BSD null + Ethernet, SPB, custom blocks, NRB/ISB
  ];
  describe('against tshark', { skip: haveTshark() ? false : NO_TSHARK_REASON }, () => {
    const refs = new Map<string, Promise<TsharkFrame[]>>();
    before(() => {
      for (const file of TSHARK_FILES) {
        const p = tsharkFrames(path.join(CORPUS_DIR, file));
        p.catch(() => undefined); // awaited (and reported) in the test
        refs.set(file, p);
      }
    });
    for (const file of TSHARK_FILES) {
      it(`${file}: timestamps, lengths and link types match tshark`, async () => {
        const ref = await (refs.get(file) as Promise<TsharkFrame[]>);
        const got = collect(corpusFile(file));
        assert.ok(ref.length > 0);
        assert.equal(got.frames.length, ref.length);
        for (let i = 0; i < ref.length; i++) {
          const r = ref[i];
          const f = got.frames[i];
          const where = `${file} frame ${i + 1}`;
          if (r.ts !== undefined) assert.equal(f.ts, r.ts, `${where}: tsMicros`);
          assert.equal(f.wireLen, r.len, `${where}: wire length`);
          assert.equal(f.capLen, r.capLen, `${where}: captured length`);
          assert.equal(f.linkType, r.linkType, `${where}: link type`);
        }
      });
    }
  });

  it('multi-interface pcapng: interfaces keep their own link type, frames in file order', () => {
    const got = collect(corpusFile('lab/multi-interface.pcapng'));
    const byType = new Map<number, number>();
    for (const f of got.frames) byType.set(f.linkType, (byType.get(f.linkType) ?? 0) + 1);
    assert.equal(byType.size, 2);
    assert.ok((byType.get(1) ?? 0) > 0 && (byType.get(276) ?? 0) > 0);
  });

  it('ns pcap (big endian) and µs pcap of the same traffic give the same µs timestamps', () => {
    const ns = collect(corpusFile('lab/vxlan-http-lab-nanosec-bigendian.pcap'));
    const us = collect(corpusFile('lab/vxlan-http-lab.pcap'));
    assert.deepEqual(ns.frames.map((f) => [f.ts, f.data]), us.frames.map((f) => [f.ts, f.data]));
  });
});
