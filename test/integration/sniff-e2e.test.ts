/**
 * End to end in network namespaces (root): the agent sniffs the server's veth while pcaps/gen/client.js
 * drives its full mix (GET keep-alive, pipelining, chunked, gzip/br/deflate, a 1 MiB body, HEAD/304/204/404,
 * 100-continue, JSON POST, HTTP/1.0 close-delimited) to pcaps/gen/server.js. tcpdump records the same
 * interface; every exchange must appear exactly once in the agent's output and be identical (redacted the
 * same way) to what `read` makes of tcpdump's capture. Also: /healthz /readyz /metrics, and running as a
 * non-root user with only CAP_NET_RAW (with and without it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { canUseNetns, withNetnsPair } from '../helpers/netns';
import { GEN, RUN_SNIFF, REDACT_KEY_HEX, startAgent, parseJsonl, exchangeKey, readPcapJson, waitFile, fetchInNs, metric, clientRequests } from './sniff-lab';

const why = canUseNetns() || (fs.existsSync(RUN_SNIFF) ? '' : 'dist not built') || (spawnSync('tcpdump', ['--version']).status === 0 ? '' : 'tcpdump missing');
const HTTP_PORT = 19464;

test('sniff on a veth: the full client mix, each exchange once, identical to read of a tcpdump capture', { skip: why || false, timeout: 60_000 }, () =>
  withNetnsPair('snf', async (p) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snf-'));
    try {
      const ready = path.join(tmp, 'ready');
      p.spawn(p.nsB, process.execPath, [path.join(GEN, 'server.js'), p.ipB, '8080', ready]);
      await waitFile(ready);
      const pcap = path.join(tmp, 'ref.pcap');
      const td = p.spawn(p.nsB, 'tcpdump', ['-i', p.ifB, '-s', '0', '-U', '-w', pcap, 'tcp port 8080']);
      await new Promise<void>((resolve) => td.stderr!.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve()));
      const agent = await startAgent(['ip', 'netns', 'exec', p.nsB, process.execPath, RUN_SNIFF, '-i', p.ifB, '-f', 'tcp port 8080', '--http-port', String(HTTP_PORT), '--stats-interval', '0']);

      const [hz] = await fetchInNs(p.nsB, HTTP_PORT, '/healthz');
      const [rz] = await fetchInNs(p.nsB, HTTP_PORT, '/readyz');
      assert.equal(hz, 200);
      assert.equal(rz, 200);

      const client = await p.exec(p.nsA, process.execPath, [path.join(GEN, 'client.js'), p.ipB, '8080', 'full'], { timeoutMs: 30_000 });
      assert.equal(client.code, 0, client.stderr);
      await new Promise((r) => setTimeout(r, 1500)); // let the last FINs reach the agent and tcpdump
      const [, metrics] = await fetchInNs(p.nsB, HTTP_PORT, '/metrics');
      assert.equal(await agent.stop(), 0, agent.stderr());
      td.kill('SIGTERM');
      await new Promise((r) => td.once('exit', r));

      const got = parseJsonl(agent.stdout());
      const sent = clientRequests(client.stdout);
      assert.equal(sent.length, 18);
      assert.equal(got.length, sent.length, 'one exchange per request');
      assert.deepEqual(got.map((e) => `${e.request.method}\t${e.request.url}`).sort(), [...sent].sort());
      for (const e of got) {
        assert.match(e.connection.source, /^sniff:snf-vb/);
        assert.equal(e.completeness?.requestGapBytes ?? 0, 0);
        assert.equal(e.completeness?.responseGapBytes ?? 0, 0);
      }
      const large = got.find((e) => e.request.url === '/download/large.txt')!;
      assert.equal(Buffer.from(large.response.body, 'base64').length, 1024 * 1024);
      assert.ok(!agent.stdout().includes('jane.doe@example.com'), 'redacted like read');

      const ref = await readPcapJson(pcap);
      assert.deepEqual(got.map(exchangeKey).sort(), ref.map(exchangeKey).sort(), 'same exchanges, bodies and redaction as read');

      assert.ok(metric(metrics, 'shadowtap_exchanges_emitted_total') >= 17, 'exchanges counted before shutdown');
      assert.ok(metric(metrics, 'shadowtap_packets_total{outcome="tcp_to_flow"}') > 0);
      assert.equal(metric(metrics, 'shadowtap_events_total{name="sniff_interfaces_open"}'), 1);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }),
);

test('non-root with only CAP_NET_RAW captures; without it the error names the capability', { skip: why || (spawnSync('setpriv', ['--version']).status === 0 ? false : 'setpriv missing'), timeout: 60_000 }, () =>
  withNetnsPair('snfu', async (p) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snfu-'));
    fs.chmodSync(tmp, 0o755);
    try {
      const ready = path.join(tmp, 'ready');
      p.spawn(p.nsB, process.execPath, [path.join(GEN, 'server.js'), p.ipB, '8080', ready]);
      await waitFile(ready);
      const nobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
      const sniffArgs = [process.execPath, RUN_SNIFF, '-i', p.ifB, '-f', 'tcp port 8080', '--http-port', '0', '--stats-interval', '0'];

      const env = ['env', `SHADOWTAP_REDACT_KEY=${REDACT_KEY_HEX}`, 'HOME=/nonexistent'];
      const denied = await p.exec(p.nsB, 'env', [...env.slice(1), ...nobody, '--inh-caps=-all', ...sniffArgs], { timeoutMs: 10_000 });
      assert.equal(denied.code, 1, denied.stderr);
      assert.match(denied.stderr, /CAP_NET_RAW/);
      assert.match(denied.stderr, /setcap|capabilities\.add/);

      const agent = await startAgent(['ip', 'netns', 'exec', p.nsB, ...nobody, '--inh-caps=+net_raw', '--ambient-caps=+net_raw', ...sniffArgs]);
      const status = fs.readFileSync(`/proc/${agent.child.pid}/status`, 'utf8');
      assert.match(status, /^Uid:\s+65534\b/m, 'runs as nobody');
      assert.match(status, /^CapEff:\s+0000000000002000$/m, 'effective capabilities: CAP_NET_RAW only');
      const client = await p.exec(p.nsA, process.execPath, [path.join(GEN, 'client.js'), p.ipB, '8080', 'small'], { timeoutMs: 30_000 });
      assert.equal(client.code, 0, client.stderr);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await agent.stop(), 0, agent.stderr());
      const got = parseJsonl(agent.stdout());
      assert.deepEqual(got.map((e) => `${e.request.method}\t${e.request.url}`).sort(), clientRequests(client.stdout).sort());
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }),
);
