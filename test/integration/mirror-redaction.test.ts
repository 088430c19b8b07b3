/**
 * Live redaction in `mirror`: the mirrored exchanges redacted on two worker threads, on the capture thread,
 * and by `read` of the same capture with the same key are the same bytes (bodies, headers, URL, rule counts),
 * and personal data of the capture is gone from all of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, readJsonl, sleep, startAgent } from './mirror-agent';
import { udpPayloadsFromPcap, withVxlanVni } from './mirror-packets';

const ROOT = path.join(__dirname, '..', '..', '..');
const PCAP = path.join(ROOT, 'pcaps', 'vxlan', 'mirror-lab.pcap');
const BIN = path.join(ROOT, 'bin', 'shadowtap.js');

/** What redaction decides, without the capture/arrival times and the tunnel fields that differ by input. */
function redacted(ex: Record<string, any>): string {
  const msg = (m: Record<string, any> | undefined) =>
    m === undefined ? null : { url: m.url, status: m.status, headers: m.headers, body: m.body ?? '' };
  // The tunnel source differs by input (the pcap's VXLAN source, or the loopback sender here), and so may its rule hit.
  const redactions = (ex.redactions as Array<{ rule: string }>).filter((r) => r.rule !== 'tunnel_source_ip');
  return JSON.stringify({ client: ex.connection.client.ip, req: msg(ex.request), res: msg(ex.response), redactions });
}

async function mirrorOnce(dir: string, name: string, workers: string, datagrams: Buffer[]): Promise<string[]> {
  const [udpPort, httpPort] = [await freePort(), await freePort()];
  const out = path.join(dir, `${name}.jsonl`);
  const agent = startAgent([
    '--listen', `127.0.0.1:${udpPort}`, '--http-port', String(httpPort), '--http-host', '127.0.0.1', '--health-port', '0',
    '--stats-interval', '0', '--redact-key-file', path.join(dir, 'redact.key'), '--redact-workers', workers, '-o', out,
  ]);
  try {
    await agent.started();
    const tx = dgram.createSocket('udp4');
    for (const d of datagrams) {
      await new Promise<void>((resolve, reject) => tx.send(withVxlanVni(d, 77), udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    }
    tx.close();
    await sleep(300);
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
  } finally {
    await agent.stop('SIGKILL');
  }
  return readJsonl(out).map(redacted).sort();
}

test('mirror redaction on worker threads = on the capture thread = read, with the same key; no personal data left', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-redaction-'));
  try {
    const datagrams = await udpPayloadsFromPcap(PCAP);
    const onWorkers = await mirrorOnce(dir, 'workers', '2', datagrams);
    const inline = await mirrorOnce(dir, 'inline', '0', datagrams);
    const r = spawnSync(process.execPath, [BIN, 'read', PCAP, '--redact-key-file', path.join(dir, 'redact.key'), '-o', path.join(dir, 'read.jsonl'), '--stats', 'none'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const fromRead = readJsonl(path.join(dir, 'read.jsonl')).map(redacted).sort();
    assert.equal(onWorkers.length, 4);
    assert.deepEqual(onWorkers, inline);
    assert.deepEqual(onWorkers, fromRead);
    const hits = onWorkers.map((s) => (JSON.parse(s) as { redactions?: unknown[] }).redactions?.length ?? 0).reduce((a, b) => a + b, 0);
    assert.ok(hits > 0, 'the capture carries personal data to redact');
    // The unredacted capture's personal values appear in none of the outputs.
    const plain = spawnSync(process.execPath, [BIN, 'read', PCAP, '--no-redact', '-o', path.join(dir, 'plain.jsonl'), '--stats', 'none'], { encoding: 'utf8' });
    assert.equal(plain.status, 0, plain.stderr);
    const emails = new Set<string>();
    for (const ex of readJsonl(path.join(dir, 'plain.jsonl'))) {
      const text = [ex.request?.url, Buffer.from(ex.request?.body ?? '', 'base64').toString(), Buffer.from(ex.response?.body ?? '', 'base64').toString()].join(' ');
      for (const m of text.matchAll(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g)) if (!m[0].endsWith('example.invalid')) emails.add(m[0]);
    }
    for (const name of ['workers', 'inline', 'read']) {
      const text = fs.readFileSync(path.join(dir, `${name}.jsonl`), 'utf8');
      const decoded = text + readJsonl(path.join(dir, `${name}.jsonl`)).map((e) => Buffer.from(e.response?.body ?? '', 'base64').toString() + Buffer.from(e.request?.body ?? '', 'base64').toString()).join('');
      for (const e of emails) assert.ok(!decoded.includes(e), `${name} still holds ${e.length}-character address`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
