/**
 * /readyz/sink follows the delivery sink: a mirror agent whose --sink (behind worker redaction and a tee
 * to a local file) cannot reach the replay service answers 503 there naming the sink, while /readyz and the
 * LB health port stay ready (receiving works: readiness decides where mirrored packets go); once a
 * collector listens on that port /readyz/sink turns 200.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, httpGet, metricValue, sleep, startAgent, tcpProbe } from './mirror-agent';
import { startCollector, stop } from './delivery-support';

test('mirror --sink to a closed port: /readyz/sink 503 naming the sink until the collector is up, /readyz 200 throughout', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-readyz-sink-'));
  const [udpPort, httpPort, healthPort, sinkPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const agent = startAgent([
    '--listen', `127.0.0.1:${udpPort}`, '--http-port', String(httpPort), '--http-host', '127.0.0.1',
    '--health-port', String(healthPort), '--health-host', '127.0.0.1', '--stats-interval', '0',
    '--redact-key-file', path.join(dir, 'redact.key'), '--redact-workers', '1',
    '-o', path.join(dir, 'out.jsonl'), '--sink', `tcp://127.0.0.1:${sinkPort}`, '--spool', 'none',
  ]);
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  try {
    await agent.started();
    await sleep(500); // a refused connection attempt or two
    const r = await httpGet(`http://127.0.0.1:${httpPort}/readyz/sink`);
    assert.equal(r.status, 503, r.body);
    assert.match(r.body, /^not ready: sink not healthy/);
    assert.doesNotMatch(r.body, /source|event loop/, 'the sink is the only reason');
    assert.deepEqual(await httpGet(`http://127.0.0.1:${httpPort}/readyz`), { status: 200, body: 'ready\n' }, 'receiving works: ready');
    assert.equal((await httpGet(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
    assert.equal(await tcpProbe('127.0.0.1', healthPort), 'accepted', 'the LB health port follows the receive path only');
    const metrics = (await httpGet(`http://127.0.0.1:${httpPort}/metrics`)).body;
    assert.equal(metricValue(metrics, 'shadowtap_sink_healthy'), 0);
    assert.equal(metricValue(metrics, 'shadowtap_ready'), 1);

    collector = await startCollector(path.join(dir, 'store'), sinkPort);
    let last = r;
    for (let i = 0; i < 150 && last.status !== 200; i++) {
      await sleep(100);
      last = await httpGet(`http://127.0.0.1:${httpPort}/readyz/sink`);
    }
    assert.deepEqual(last, { status: 200, body: 'ready\n' }, 'the sink is healthy once the collector accepts the connection');
    assert.equal(metricValue((await httpGet(`http://127.0.0.1:${httpPort}/metrics`)).body, 'shadowtap_sink_healthy'), 1);
    assert.equal(await tcpProbe('127.0.0.1', healthPort), 'accepted');
    assert.equal(await agent.stop(), 0, agent.stderr());
  } finally {
    await agent.stop();
    if (collector) await stop(collector);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
