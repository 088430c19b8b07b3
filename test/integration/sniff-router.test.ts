/**
 * Dedup end to end: a router namespace forwards between two veths (client <-> router <-> server), and the
 * agent in the router sniffs `any`, so every packet is seen twice (in on one veth, out on the other with
 * TTL - 1). Every exchange must appear once, the second copies must be counted as
 * outcome="duplicate_suppressed", and none may reach reassembly (no retransmitted bytes).
 *
 *   snr-a (client) 10.231.X.1 <-veth-> 10.231.X.2 snr-b (router, agent) 10.231.Y.1 <-veth-> 10.231.Y.2 snr-c (server)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { canUseNetns, netnsBlock, withNetnsPair } from '../helpers/netns';
import { GEN, RUN_SNIFF, startAgent, parseJsonl, waitFile, fetchInNs, metric, clientRequests } from './sniff-lab';

const why = canUseNetns() || (fs.existsSync(RUN_SNIFF) ? '' : 'dist not built');
const HTTP_PORT = 19465;
const NS_C = 'snr-c';

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function inNs(ns: string, cmd: string): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${ns}: ${cmd}: ${r.stderr}`);
}

test('sniff any on a router: packets seen on both veths give one exchange each', { skip: why || false, timeout: 60_000 }, () =>
  withNetnsPair('snr', async (p) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snr-'));
    const block2 = netnsBlock('snr2');
    const routerIp2 = `${block2}.1`;
    const serverIp = `${block2}.2`;
    let server: ChildProcess | undefined;
    if (fs.existsSync(`/run/netns/${NS_C}`)) ip('netns', 'del', NS_C);
    try {
      ip('netns', 'add', NS_C);
      inNs(NS_C, 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; ip link set lo up');
      ip('link', 'add', 'snr-r2', 'netns', p.nsB, 'type', 'veth', 'peer', 'name', 'snr-s2', 'netns', NS_C);
      ip('-n', p.nsB, 'addr', 'add', `${routerIp2}/24`, 'dev', 'snr-r2');
      ip('-n', NS_C, 'addr', 'add', `${serverIp}/24`, 'dev', 'snr-s2');
      ip('-n', p.nsB, 'link', 'set', 'snr-r2', 'up');
      ip('-n', NS_C, 'link', 'set', 'snr-s2', 'up');
      ip('-n', NS_C, 'route', 'add', 'default', 'via', routerIp2);
      ip('-n', p.nsA, 'route', 'add', 'default', 'via', p.ipB);
      inNs(p.nsB, 'echo 1 > /proc/sys/net/ipv4/ip_forward');

      const ready = path.join(tmp, 'ready');
      server = spawn('ip', ['netns', 'exec', NS_C, process.execPath, path.join(GEN, 'server.js'), serverIp, '8080', ready], { stdio: 'ignore' });
      await waitFile(ready);
      const agent = await startAgent(['ip', 'netns', 'exec', p.nsB, process.execPath, RUN_SNIFF, '-i', 'any', '--exclude', 'lo', '-f', 'tcp port 8080', '--http-port', String(HTTP_PORT), '--stats-interval', '0']);
      const client = await p.exec(p.nsA, process.execPath, [path.join(GEN, 'client.js'), serverIp, '8080', 'full'], { timeoutMs: 30_000 });
      assert.equal(client.code, 0, client.stderr);
      await new Promise((r) => setTimeout(r, 1500));
      const [, metrics] = await fetchInNs(p.nsB, HTTP_PORT, '/metrics');
      assert.equal(await agent.stop(), 0, agent.stderr());

      const got = parseJsonl(agent.stdout());
      const sent = clientRequests(client.stdout);
      assert.equal(sent.length, 18);
      assert.deepEqual(got.map((e) => `${e.request.method}\t${e.request.url}`).sort(), [...sent].sort(), 'each exchange exactly once');
      const received = metric(metrics, 'shadowtap_packets_received_total');
      const dups = metric(metrics, 'shadowtap_packets_total{outcome="duplicate_suppressed"}');
      assert.ok(received > 0);
      // Every packet is seen twice; now and then the two copies of a large (GSO) packet differ in
      // segmentation and cannot be paired: allow a few unpaired frames.
      assert.ok(dups * 2 <= received && dups * 2 >= received - 8, `every packet was seen twice: ${dups} of ${received} suppressed`);
      // Copies that differ only in segmentation (a GSO super-packet on one side, segments on the other)
      // are not byte-equal and pass through; reassembly drops their overlap. Without dedup half the
      // payload would be counted as retransmitted.
      const payload = metric(metrics, 'shadowtap_events_total{name="tcp_payload_bytes"}');
      const retrans = metric(metrics, 'shadowtap_events_total{name="tcp_retransmitted_bytes"}');
      assert.ok(payload > 1024 * 1024);
      assert.ok(retrans < payload * 0.1, `retransmitted ${retrans} of ${payload}`);
      for (const e of got) {
        assert.equal(e.completeness?.requestGapBytes ?? 0, 0);
        assert.equal(e.completeness?.responseGapBytes ?? 0, 0);
      }
    } finally {
      server?.kill('SIGTERM');
      if (fs.existsSync(`/run/netns/${NS_C}`)) ip('netns', 'del', NS_C);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }),
);
