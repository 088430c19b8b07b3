/**
 * `shadowtap mirror` over loopback UDP (no root needed): mirror datagrams made from the project's
 * own kernel capture pcaps/vxlan/mirror-lab.pcap (a real TCP/HTTP session mirrored by Linux VXLAN,
 * VNI 7001: GET /api/users/1, POST /api/orders with JSON, chunked GET, gzip GET) are sent to the
 * agent three ways at once:
 *   VXLAN datagrams to --listen                  (VNI rewritten to 7002)
 *   AWS GWLB GENEVE→IPv4→UDP 4789→VXLAN datagrams to --geneve-listen   (inner VNI 7003)
 *   GCP GENEVE(VNI 0)→IPv4 datagrams to --geneve-listen
 * and each copy must give the same exchanges as `shadowtap read` gives for the pcap (bodies
 * byte-identical), under its own VNI. Also: /healthz /readyz /metrics, the LB health port,
 * SIGTERM flushing an open exchange, the VNI allow list, and configuration errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, httpGet, metricValue, readJsonl, runAgentOnce, sleep, startAgent, tcpProbe, type Agent } from './mirror-agent';
import { ethernet, gcpDatagram, gwlbDatagram, innerIpOfVxlan, ipv4, tcp, udpPayloadsFromPcap, vxlan, withVxlanVni } from './mirror-packets';

const ROOT = path.join(__dirname, '..', '..', '..');
const PCAP = path.join(ROOT, 'pcaps', 'vxlan', 'mirror-lab.pcap');
const BIN = path.join(ROOT, 'bin', 'shadowtap.js');

interface Summary {
  method: string;
  url: string;
  status: number;
  reqBody: string;
  resBody: string;
}

function summarize(ex: Record<string, any>): Summary {
  return {
    method: ex.request?.method ?? '',
    url: ex.request?.url ?? '',
    status: ex.response?.status ?? 0,
    reqBody: ex.request?.body ?? '',
    resBody: ex.response?.body ?? '',
  };
}

const byUrl = (a: Summary, b: Summary): number => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0);

let dir: string;
let reference: Summary[];
let datagrams: Buffer[];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-geneve-'));
  const r = spawnSync(process.execPath, [BIN, 'read', PCAP, '--no-redact', '-o', path.join(dir, 'ref.jsonl'), '--stats', 'none'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  reference = readJsonl(path.join(dir, 'ref.jsonl')).map(summarize).sort(byUrl);
  assert.equal(reference.length, 4, 'the reference capture holds 4 exchanges');
  datagrams = await udpPayloadsFromPcap(PCAP);
  assert.equal(datagrams.length, 32);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function send(sock: dgram.Socket, port: number, list: Buffer[]): Promise<void> {
  for (const d of list) {
    await new Promise<void>((resolve, reject) => sock.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
}

test('VXLAN, AWS GWLB GENEVE and GCP GENEVE datagrams give the exchanges of the capture; ops endpoints; SIGTERM flush', async () => {
  const [vxPort, gnPort, httpPort, healthPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const out = path.join(dir, 'out.jsonl');
  const agent: Agent = startAgent([
    '--listen', `127.0.0.1:${vxPort}`, '--geneve-listen', `127.0.0.1:${gnPort}`,
    '--http-port', String(httpPort), '--http-host', '127.0.0.1', '--health-port', String(healthPort), '--health-host', '127.0.0.1',
    '--no-redact', '-o', out, '--rcvbuf', '4m',
  ]);
  try {
    await agent.started();
    assert.equal((await httpGet(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
    assert.equal((await httpGet(`http://127.0.0.1:${httpPort}/readyz`)).status, 200);
    assert.equal(await tcpProbe('127.0.0.1', healthPort), 'accepted');

    const tx = dgram.createSocket('udp4');
    await send(tx, vxPort, datagrams.map((d) => withVxlanVni(d, 7002)));
    await send(tx, gnPort, datagrams.map((d, i) => gwlbDatagram(withVxlanVni(d, 7003), '10.201.0.1', '10.201.0.3', 0x1000 + i)));
    await send(tx, gnPort, datagrams.map((d) => gcpDatagram(innerIpOfVxlan(d))));
    // A request whose response never comes (mid-stream, VNI 9): open at SIGTERM, must be flushed.
    const req = Buffer.from('GET /still-open HTTP/1.1\r\nHost: example\r\n\r\n');
    await send(tx, vxPort, [vxlan(9, ethernet(0x0800, ipv4('10.9.0.1', '10.9.0.2', 6, tcp(40000, 80, 1000, 5000, 0x18, req))))]);
    // Garbage: counted, not fatal.
    await send(tx, vxPort, [Buffer.from('000000000000002a', 'hex'), Buffer.alloc(3)]);
    await send(tx, gnPort, [Buffer.from([0xc0, 0, 0, 0, 0, 0, 0, 0])]);
    tx.close();

    let metrics = '';
    for (let i = 0; i < 50; i++) {
      metrics = (await httpGet(`http://127.0.0.1:${httpPort}/metrics`)).body;
      if (metricValue(metrics, 'shadowtap_packets_received_total') === 32 * 3 + 4) break;
      await sleep(100);
    }
    assert.equal(metricValue(metrics, 'shadowtap_packets_received_total'), 32 * 3 + 4, metrics);
    assert.equal(metricValue(metrics, 'shadowtap_exchanges_emitted_total'), 12);
    assert.ok((metricValue(metrics, 'shadowtap_packets_total{outcome="tcp_to_flow"}') ?? 0) > 0);
    assert.equal(metricValue(metrics, 'shadowtap_packets_total{outcome="vxlan_bad_flags"}'), 1);
    assert.equal(metricValue(metrics, 'shadowtap_packets_total{outcome="truncated_vxlan_header"}'), 1);
    assert.equal(metricValue(metrics, 'shadowtap_packets_total{outcome="geneve_bad_version"}'), 1);
    assert.ok((metricValue(metrics, 'shadowtap_active_flows') ?? 0) >= 1);
    assert.equal(metricValue(metrics, 'shadowtap_gap_bytes_total'), 0);
    assert.equal(metricValue(metrics, 'shadowtap_kernel_udp_socket_drops'), 0);
    assert.equal(metricValue(metrics, 'shadowtap_ready'), 1);
    assert.ok(metricValue(metrics, 'shadowtap_event_loop_lag_seconds') !== undefined);
    assert.ok((metricValue(metrics, 'shadowtap_udp_rcvbuf_bytes{listener="geneve"}') ?? 0) > 0);
    // A quiet agent's exchanges reach the file within about a second (LIVE_FLUSH_MS), not at 1 MiB or at exit.
    let written = 0;
    for (let i = 0; i < 50 && written < 12; i++) {
      await sleep(100);
      written = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').length;
    }
    assert.equal(written, 12, 'the emitted exchanges are in the file before shutdown');

    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
    assert.equal(await tcpProbe('127.0.0.1', healthPort), 'refused');
  } finally {
    await agent.stop('SIGKILL');
  }

  const all = readJsonl(out);
  const byVni = (vni: number): Array<Record<string, any>> => all.filter((e) => (e.connection.vni ?? 0) === vni);
  for (const [vni, tunnel, tunnelSource] of [
    [7002, 'vxlan', '127.0.0.1'],
    [7003, 'geneve+vxlan', '127.0.0.1'],
    [0, 'geneve', '127.0.0.1'],
  ] as const) {
    const got = byVni(vni);
    assert.equal(got.length, 4, `VNI ${vni}: ${JSON.stringify(got.map(summarize))}`);
    for (const e of got) {
      assert.equal(e.connection.tunnel, tunnel);
      assert.equal(e.connection.tunnelSource, tunnelSource);
      assert.equal(e.connection.server.port, 8080);
      assert.ok(!e.completeness?.requestMissing && !e.completeness?.responseMissing, JSON.stringify(e.completeness));
    }
    assert.deepEqual(got.map(summarize).sort(byUrl), reference, `VNI ${vni} differs from read`);
  }
  const open = byVni(9);
  assert.equal(open.length, 1, 'the open request was flushed at SIGTERM');
  assert.equal(open[0].request.url, '/still-open');
  assert.equal(open[0].completeness.responseMissing, true);
  assert.equal(open[0].completeness.closeReason, 'shutdown');
});

test('--vni allow list: other VNIs are counted as vni_not_allowed and produce nothing', async () => {
  const [vxPort, httpPort] = [await freePort(), await freePort()];
  const out = path.join(dir, 'vni.jsonl');
  const agent = startAgent(['--listen', `127.0.0.1:${vxPort}`, '--http-port', String(httpPort), '--health-port', '0', '--vni', '7002,8000-8010', '--vni-deny', '8005', '--no-redact', '-o', out]);
  try {
    await agent.started();
    const tx = dgram.createSocket('udp4');
    await send(tx, vxPort, datagrams.map((d) => withVxlanVni(d, 7001)));
    await send(tx, vxPort, datagrams.map((d) => withVxlanVni(d, 8005)));
    await send(tx, vxPort, datagrams.map((d) => withVxlanVni(d, 7002)));
    tx.close();
    let m = '';
    for (let i = 0; i < 50; i++) {
      m = (await httpGet(`http://127.0.0.1:${httpPort}/metrics`)).body;
      if (metricValue(m, 'shadowtap_packets_received_total') === 96) break;
      await sleep(100);
    }
    assert.equal(metricValue(m, 'shadowtap_packets_total{outcome="vni_not_allowed"}'), 32);
    assert.equal(metricValue(m, 'shadowtap_packets_total{outcome="vni_denied"}'), 32);
    assert.equal(await agent.stop(), 0);
  } finally {
    await agent.stop('SIGKILL');
  }
  const got = readJsonl(out);
  assert.equal(got.length, 4);
  assert.ok(got.every((e) => e.connection.vni === 7002));
});

test('SIGTERM while the agent is still starting: a clean shutdown, exit 0', async () => {
  // Sent as soon as the agent says it is starting (before it binds and captures): a pod deleted during
  // start-up must not die of the signal (exit 143) but shut down as it does once running.
  const out = path.join(dir, 'early.jsonl');
  const agent = startAgent(['--listen', `127.0.0.1:${await freePort()}`, '--http-port', '0', '--health-port', '0', '-o', out]);
  try {
    for (let i = 0; i < 400 && !agent.stderr().includes('mirror target starting'); i++) await sleep(5);
    assert.ok(agent.stderr().includes('mirror target starting'), agent.stderr());
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
    assert.match(agent.stderr(), /shutting down/);
    assert.equal(fs.readFileSync(out, 'utf8'), '');
  } finally {
    await agent.stop('SIGKILL');
  }
});

test('configuration errors: one clear line and exit 1', async () => {
  const port = await freePort();
  const busy = dgram.createSocket('udp4');
  await new Promise<void>((r) => busy.bind(port, '127.0.0.1', () => r()));
  try {
    const inUse = await runAgentOnce(['--listen', `127.0.0.1:${port}`, '--health-port', '0', '--http-port', '0', '-o', path.join(dir, 'x.jsonl')]);
    assert.equal(inUse.code, 1);
    const lines = inUse.stderr.split('\n').filter((l) => l.startsWith('shadowtap: '));
    assert.equal(lines.length, 1, inUse.stderr);
    assert.match(lines[0], new RegExp(`cannot listen on UDP 127\\.0\\.0\\.1:${port} for VXLAN \\(--listen\\): address already in use`));
  } finally {
    busy.close();
  }
  const tcpBusy = await freePort();
  const srv = (await import('node:net')).createServer();
  await new Promise<void>((r) => srv.listen(tcpBusy, '127.0.0.1', () => r()));
  try {
    const r = await runAgentOnce(['--listen', `127.0.0.1:${await freePort()}`, '--health-port', String(tcpBusy), '--health-host', '127.0.0.1', '--http-port', '0', '-o', path.join(dir, 'x.jsonl')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /shadowtap: cannot listen on 127\.0\.0\.1:\d+ for the load-balancer health check port \(--health-port\): address already in use/);
  } finally {
    srv.close();
  }
  const badVni = await runAgentOnce(['--vni', '42,x43']);
  assert.equal(badVni.code, 1);
  assert.equal(badVni.stderr.trim(), 'shadowtap: --vni: bad VNI list "42,x43": "x43" is not a VNI (an integer 0-16777215)');
  const envVni = await runAgentOnce([], { SHADOWTAP_VNI: '16777216' });
  assert.equal(envVni.code, 1);
  assert.match(envVni.stderr, /^shadowtap: SHADOWTAP_VNI: bad VNI list "16777216"/);
  const yml = path.join(dir, 'bad.yaml');
  fs.writeFileSync(yml, 'listen: 127.0.0.1:4789\nvnis: [42]\n');
  const unknown = await runAgentOnce(['--config', yml]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^shadowtap: config file .*bad\.yaml: unknown key "vnis" \(did you mean "vni"\?\)/);
  const port0 = await runAgentOnce(['--listen', '127.0.0.1:0']);
  assert.equal(port0.code, 1);
  assert.match(port0.stderr, /--listen: expected an integer 1-65535, got "0"/);
  // Argument-parser errors: one usage line, exit 1 (main's mapping, which the driver goes through).
  for (const args of [['--no-such-flag'], ['--listen'], ['stray']]) {
    const r = await runAgentOnce(args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^shadowtap: [^\n]+\n$/, r.stderr);
  }
});
