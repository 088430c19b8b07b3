/**
 * End to end on ../shared/lab/mirror-lab.sh (real kernel VXLAN mirroring, VNI 4242): pcaps/gen
 * client.js "full" (GET, POST with JSON, chunked, gzip/br/deflate, a 1 MiB response, pipelined
 * keep-alive, 100-continue upload, HEAD/304/204/404, HTTP/1.0 close-delimited) against server.js,
 * the agent (`shadowtap mirror`) in the target namespace. Every exchange appears once, bodies
 * byte-identical to what was sent, the VNI right; a request still open at SIGTERM is flushed as
 * partial and the agent exits 0. Needs root + network namespaces; skipped with the reason otherwise.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertNothingCorrupt, expectedBodies, labDown, labSkipReason, runScenario } from './mirror-lab';
import { metricValue } from './mirror-agent';

const PREFIX = 'mt';
const skip = labSkipReason();
if (skip) process.stdout.write(`# mirror-lab.test: skipped: ${skip}\n`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-lab-'));

after(() => {
  if (!skip) labDown(PREFIX);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('mirrored HTTP mix: every exchange once, bodies byte-identical, VNI right; SIGTERM flushes the open request', { skip: skip || false, timeout: 120_000 }, async () => {
  const r = await runScenario(PREFIX, ['--vni', '4242'], path.join(dir, 'full.jsonl'), true);
  assert.equal(r.exitCode, 0, r.agentLog);
  assert.equal(r.readyBefore, 200);
  assert.equal(r.healthzAfterTraffic, 200);
  const expected = expectedBodies();
  const hang = r.exchanges.filter((e) => e.request?.url === '/hangs');
  const rest = r.exchanges.filter((e) => e.request?.url !== '/hangs');
  // Every request the client sent appears exactly once, whole.
  assert.deepEqual(rest.map((e) => `${e.request?.method} ${e.request?.url}`).sort(), [...r.requests].sort());
  for (const e of rest) assert.deepEqual(e.completeness ?? {}, {}, `${e.request?.url}: ${JSON.stringify(e.completeness)}`);
  assert.equal(assertNothingCorrupt(r, expected), r.requests.length);
  for (const k of r.requests) assert.ok(expected.has(k) || k === 'GET /static/app.js', `no expectation for ${k}`);
  // The large response really went through whole.
  const large = rest.find((e) => e.request.url === '/download/large.txt');
  assert.equal(Buffer.from(large!.response.body, 'base64').length, 1024 * 1024);
  // gzip was decoded and the encoding recorded.
  const gz = rest.find((e) => e.request.url === '/api/report?enc=gzip');
  assert.deepEqual(gz!.response.contentEncodings, ['gzip']);
  // The unanswered request was flushed at SIGTERM, flagged.
  assert.equal(hang.length, 1, 'the open request was flushed');
  assert.equal(hang[0].completeness.responseMissing, true);
  assert.equal(hang[0].completeness.closeReason, 'shutdown');
  // Counters: nothing lost, nothing dropped by the kernel.
  assert.equal(metricValue(r.metrics, 'shadowtap_gap_bytes_total'), 0);
  assert.equal(metricValue(r.metrics, 'shadowtap_kernel_udp_socket_drops'), 0);
  assert.ok((metricValue(r.metrics, 'shadowtap_packets_total{outcome="tcp_to_flow"}') ?? 0) > 700);
  assert.match(r.agentLog, /"msg":"shutting down: flushing open exchanges"/);
});
