/**
 * Interfaces that disappear while captured (pod veths on a Kubernetes node), in network namespaces
 * (root). Besides the helper's pair, two more veth pairs join the namespaces: stv0/stp0 and
 * stv1/stp1 (stvN in P-b with the server, stpN in P-a with the client), each on its own /24.
 * The agent captures the glob `-i 'stv*'`; traffic crosses both; then stv0 is deleted under the
 * agent. It must keep running (exit 0 on SIGTERM), keep capturing stv1, count the interface gone,
 * and export libpcap's own counters (libpcap_received > 0) on /metrics and in the stats line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { canUseNetns, netnsBlock, withNetnsPair } from '../helpers/netns';
import { GEN, RUN_SNIFF, startAgent, parseJsonl, waitFile, fetchInNs, metric, clientRequests } from './sniff-lab';

const why = canUseNetns() || (fs.existsSync(RUN_SNIFF) ? '' : 'dist not built');
if (why) process.stdout.write(`# sniff-iface-gone skipped: ${why}\n`);
const HTTP_PORT = 19466;

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

test("sniff -i 'stv*': a captured veth is deleted; the agent goes on with the others and counts it", { skip: why || false, timeout: 60_000 }, () =>
  withNetnsPair('sgone', async (p) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sgone-'));
    const nets = [netnsBlock('sgone0'), netnsBlock('sgone1')];
    try {
      nets.forEach((net, i) => {
        ip(['link', 'add', `stv${i}`, 'netns', p.nsB, 'type', 'veth', 'peer', 'name', `stp${i}`, 'netns', p.nsA]);
        ip(['-n', p.nsB, 'addr', 'add', `${net}.2/24`, 'dev', `stv${i}`]);
        ip(['-n', p.nsA, 'addr', 'add', `${net}.1/24`, 'dev', `stp${i}`]);
        ip(['-n', p.nsB, 'link', 'set', `stv${i}`, 'up']);
        ip(['-n', p.nsA, 'link', 'set', `stp${i}`, 'up']);
      });
      const ready = path.join(tmp, 'ready');
      p.spawn(p.nsB, process.execPath, [path.join(GEN, 'server.js'), '0.0.0.0', '8080', ready]);
      await waitFile(ready);
      const agent = await startAgent([
        'ip', 'netns', 'exec', p.nsB, process.execPath, RUN_SNIFF, '-i', 'stv*', '-f', 'tcp port 8080',
        '--http-port', String(HTTP_PORT), '--stats-interval', '1', '--rescan-interval', '1',
      ]);
      const client = async (server: string): Promise<string[]> => {
        const r = await p.exec(p.nsA, process.execPath, [path.join(GEN, 'client.js'), server, '8080', 'small'], { timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
        return clientRequests(r.stdout);
      };

      const before0 = await client(`${nets[0]}.2`);
      const before1 = await client(`${nets[1]}.2`);
      await new Promise((r) => setTimeout(r, 500));
      const [, m1] = await fetchInNs(p.nsB, HTTP_PORT, '/metrics');
      assert.equal(metric(m1, 'shadowtap_events_total{name="sniff_interfaces_open"}'), 2, m1);

      ip(['-n', p.nsB, 'link', 'del', 'stv0']); // also removes stp0
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(agent.child.exitCode, null, `the agent is still running: ${agent.stderr()}`);
      const after1 = await client(`${nets[1]}.2`);
      await new Promise((r) => setTimeout(r, 2200)); // FINs, one rescan, one stats line
      const [, m2] = await fetchInNs(p.nsB, HTTP_PORT, '/metrics');
      assert.equal(await agent.stop(), 0, agent.stderr());

      const got = parseJsonl(agent.stdout());
      const on = (net: string): string[] => got.filter((e) => e.connection?.server?.ip === `${net}.2`).map((e) => `${e.request.method}\t${e.request.url}`).sort();
      assert.ok(before0.length > 0 && after1.length > 0);
      assert.deepEqual(on(nets[0]!), [...before0].sort(), 'stv0: its exchanges before it was deleted');
      assert.deepEqual(on(nets[1]!), [...before1, ...after1].sort(), 'stv1: every exchange, before and after stv0 went away');

      assert.equal(metric(m2, 'shadowtap_events_total{name="sniff_interfaces_gone"}'), 1, m2);
      assert.equal(metric(m2, 'shadowtap_events_total{name="sniff_interfaces_open"}'), 1);
      assert.ok(metric(m2, 'shadowtap_events_total{name="libpcap_received"}') > 0, 'libpcap_received on /metrics');
      assert.equal(metric(m2, 'shadowtap_events_total{name="libpcap_dropped"}'), 0);
      const err = agent.stderr();
      assert.match(err, /"device":"stv0"/);
      assert.match(err, /interface (disappeared|went down)/i, "libpcap's message is logged");
      const statsLines = err.split('\n').filter((l) => l.includes('"msg":"stats"')).map((l) => JSON.parse(l));
      assert.ok(statsLines.some((l) => l.libpcap_received > 0), 'the stats line carries libpcap_received');
      const stopped = err.split('\n').filter((l) => l.includes('"msg":"stopped"')).map((l) => JSON.parse(l))[0];
      assert.ok(stopped?.counters?.libpcap_received > 0, 'the summary carries libpcap_received');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }),
);
