/**
 * Two real captures (zeek/zeek test traces), TCP payload per segment as extracted by tshark — see
 * fixtures/zeek-streams.ts. Expected requests and statuses are tshark's (the .tshark.tsv beside each pcap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP_GET, HTTP_PIPELINED, type Segment } from './fixtures/zeek-streams';
import { harness, meta } from './helpers';

function run(segs: Segment[], initiatorKnown: boolean, perByte = false) {
  const m = meta({
    initiatorKnown,
    ends: [
      { ip: '192.168.1.104', port: 1673 },
      { ip: '63.245.209.11', port: 80 },
    ],
  });
  const h = harness(m);
  let ts = 1_362_692_587_000_000;
  for (const [dir, hex] of segs) {
    const b = Buffer.from(hex, 'hex');
    if (perByte) for (let i = 0; i < b.length; i += 97) h.send(dir, b.subarray(i, i + 97), (ts += 10));
    else h.send(dir, b, (ts += 1000));
  }
  h.sink.onEnd(0, 'fin', ts + 1);
  h.sink.onEnd(1, 'fin', ts + 2);
  h.sink.onClose('fin', ts + 3);
  return h;
}

test('zeek http_get.pcap: one GET with a 4705-byte body', () => {
  const h = run(HTTP_GET, true);
  assert.equal(h.out.length, 1);
  const ex = h.out[0];
  assert.equal(ex.request?.method, 'GET');
  assert.equal(ex.request?.url, '/download/CHANGES.bro-aux.txt');
  assert.deepEqual(ex.request?.headers.map((x) => x.name), ['User-Agent', 'Accept', 'Host', 'Connection']);
  assert.equal(ex.response?.status, 200);
  assert.equal(ex.response?.body.length, 4705);
  assert.match(ex.response?.body.toString() ?? '', /^\n0\.26 \| 2012-08-24/);
  assert.equal(ex.completeness.responseMissing, false);
  assert.equal(ex.completeness.parseError, '');
  assert.deepEqual(h.counters.snapshot(), { http_exchanges: 1 });
});

const PIPELINED_URLS = [
  '/style/enhanced.css',
  '/script/urchin.js',
  '/images/template/screen/bullet_utility.png',
  '/images/template/screen/key-point-top.png',
  '/projects/calendar/images/header-sunbird.png',
];

for (const [label, initiatorKnown, perByte] of [
  ['with the SYN', true, false],
  ['roles from content, 97-byte segments', false, true],
] as const) {
  test(`zeek http_pipelined-requests.pcap (${label}): five pipelined exchanges in order`, () => {
    const h = run(HTTP_PIPELINED, initiatorKnown, perByte);
    assert.deepEqual(
      h.out.map((e) => [e.request?.url, e.response?.status]),
      PIPELINED_URLS.map((u) => [u, 200]),
    );
    for (const ex of h.out) {
      const cl = ex.response?.headers.find((x) => x.name.toLowerCase() === 'content-length');
      if (cl !== undefined && ex.response?.contentEncodings.length === 0) {
        assert.equal(ex.response?.body.length, Number(cl.value));
      }
      assert.equal(ex.completeness.parseError, '');
      assert.equal(ex.completeness.decodeError, '');
      assert.ok((ex.response?.startMicros ?? 0) >= (ex.request?.startMicros ?? 0));
    }
    assert.deepEqual(h.out.map((e) => e.index), [0, 1, 2, 3, 4]);
    assert.equal(h.counters.get('http_resync_skipped_bytes'), 0);
  });
}
