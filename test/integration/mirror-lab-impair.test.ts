/**
 * End to end on ../shared/lab/mirror-lab.sh with the mirror impaired the ways AWS impairs it:
 * session packet length (--truncate), mirror loss under congestion (--loss), a filter without
 * outbound rules (--directions ingress), and an underlay MTU below the mirrored frames
 * (--underlay-mtu 1500: this kernel fragments the outer packets; the target kernel reassembles
 * them before the UDP socket). In every case the agent keeps running (/healthz 200, exit 0 on
 * SIGTERM), flags what is partial, counts what is lost, and emits nothing corrupt: every body it
 * does not flag is byte-identical to what was sent, no request appears twice.
 * Needs root + network namespaces; skipped with the reason otherwise. One lab prefix (mu), rebuilt
 * per variant.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertNothingCorrupt, expectedBodies, labDown, labSkipReason, runScenario, type ScenarioResult } from './mirror-lab';
import { metricValue } from './mirror-agent';

const PREFIX = 'mu';
const skip = labSkipReason();
if (skip) process.stdout.write(`# mirror-lab-impair.test: skipped: ${skip}\n`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-impair-'));
const expected = expectedBodies();

after(() => {
  if (!skip) labDown(PREFIX);
  if (!process.env.MIRROR_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

function common(r: ScenarioResult): void {
  assert.equal(r.exitCode, 0, r.agentLog);
  assert.equal(r.healthzAfterTraffic, 200);
  assert.ok(r.exchanges.length > 0, 'some exchanges are emitted');
  assert.ok((metricValue(r.metrics, 'shadowtap_packets_received_total') ?? 0) > 100);
  assertNothingCorrupt(r, expected);
}

const opts = { skip: skip || false, timeout: 120_000 };

test('--truncate 200: bodies cut by the session packet length are flagged, counted, never passed off as whole', opts, async () => {
  const r = await runScenario(PREFIX, ['--vni', '77', '--truncate', '200'], path.join(dir, 'trunc.jsonl'));
  common(r);
  assert.ok((metricValue(r.metrics, 'shadowtap_events_total{name="truncated_bytes"}') ?? 0) > 500_000, 'truncated bytes counted');
  const flagged = r.exchanges.filter((e) => e.completeness?.truncated || e.completeness?.responseGapBytes || e.completeness?.responseBodyPartial);
  assert.ok(flagged.length >= 1, 'truncated exchanges are flagged');
  const large = r.exchanges.find((e) => e.request?.url === '/download/large.txt');
  if (large?.response) assert.ok(large.completeness?.truncated || large.completeness?.responseGapBytes, 'the 1 MiB body cannot be whole');
});

test('--loss 5: lost mirror packets become counted gap bytes and flagged exchanges', opts, async () => {
  const r = await runScenario(PREFIX, ['--vni', '77', '--loss', '5'], path.join(dir, 'loss.jsonl'));
  common(r);
  assert.ok((metricValue(r.metrics, 'shadowtap_gap_bytes_total') ?? 0) > 0, 'gap bytes counted');
  assert.ok(
    r.exchanges.some((e) => e.completeness?.requestGapBytes || e.completeness?.responseGapBytes || e.completeness?.requestMissing || e.completeness?.responseMissing || e.completeness?.midStream),
    'some exchange is flagged',
  );
});

test('--directions ingress: one-way mirroring gives flagged half exchanges, bodies intact', opts, async () => {
  const r = await runScenario(PREFIX, ['--vni', '77', '--directions', 'ingress'], path.join(dir, 'oneway.jsonl'));
  common(r);
  for (const e of r.exchanges) assert.ok(e.completeness?.requestMissing || e.completeness?.responseMissing, JSON.stringify(e.completeness));
  const whole = r.exchanges.filter((e) => e.response && !e.completeness?.responseMissing && !e.completeness?.responseGapBytes && !e.completeness?.responseBodyPartial);
  assert.ok(whole.length >= 10, `one-way responses come through whole (${whole.length})`);
});

test('--underlay-mtu 1500: fragmented outer packets, reassembled by the target kernel: everything whole', opts, async () => {
  const r = await runScenario(PREFIX, ['--vni', '77', '--underlay-mtu', '1500'], path.join(dir, 'frag.jsonl'));
  // On failure, say what the agent counted (drops, gaps, fragments): a lost outer fragment and a bug of ours look alike.
  const why = (): string => r.metrics.split('\n').filter((l) => !l.startsWith('#') && /drop|gap|frag|trunc|missing|partial/.test(l) && !/ 0$/.test(l)).join('; ');
  common(r);
  assert.deepEqual(r.exchanges.map((e) => `${e.request?.method} ${e.request?.url}`).sort(), [...r.requests].sort(), why());
  assert.equal(assertNothingCorrupt(r, expected), r.requests.length, why());
  assert.equal(metricValue(r.metrics, 'shadowtap_gap_bytes_total'), 0, why());
});
