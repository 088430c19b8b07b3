/**
 * `shadowtap inspect` filters, end to end: `read pcaps/http/mix.pcap --sink` into a real collector,
 * then inspect the store with --path, --host, --since/--until and the har/table formats, and compare
 * with what `read` itself printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'bin', 'shadowtap.js');
const MIX = path.join(ROOT, 'pcaps', 'http', 'mix.pcap');

interface Line {
  request?: { method?: string; url?: string; startMicros?: string };
  response?: { status?: number };
}

function run(args: string[], env: NodeJS.ProcessEnv): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function lines(out: string): Line[] {
  return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
}

test('inspect filters by path, host and time, and prints har and table', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-inspect-'));
  const env = { ...process.env, SHADOWTAP_REDACT_KEY: 'ab'.repeat(32), SHADOWTAP_STATE_DIR: dir };
  const port = 20000 + (process.pid % 20000);
  const store = path.join(dir, 'store');
  const collector = spawn(process.execPath, [CLI, 'collect', '--listen', `127.0.0.1:${port}`, '--store', store], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const direct = lines(run(['read', MIX, '--stats', 'none'], env).out);
    const sent = run(['read', MIX, '--sink', `tcp://127.0.0.1:${port}`, '--spool', path.join(dir, 'spool'), '--stats', 'none'], env);
    assert.equal(sent.code, 0, sent.err);

    const all = lines(run(['inspect', store], env).out);
    assert.equal(all.length, direct.length);

    const api = lines(run(['inspect', store, '--path', '/api/'], env).out);
    const wantApi = direct.filter((l) => (l.request?.url ?? '').split('?')[0]!.startsWith('/api/'));
    assert.ok(wantApi.length > 0);
    assert.deepEqual(api.map((l) => `${l.request?.method} ${l.request?.url}`).sort(), wantApi.map((l) => `${l.request?.method} ${l.request?.url}`).sort());

    assert.equal(lines(run(['inspect', store, '--host', 'no-such-host.invalid'], env).out).length, 0);

    const times = direct.map((l) => Number(l.request?.startMicros ?? 0)).filter((t) => t > 0).sort((a, b) => a - b);
    const mid = times[Math.floor(times.length / 2)]!;
    const iso = new Date(Math.floor(mid / 1000)).toISOString();
    const before = lines(run(['inspect', store, '--until', iso], env).out);
    const after = lines(run(['inspect', store, '--since', iso], env).out);
    assert.ok(before.length > 0 && after.length > 0, `split at ${iso}: ${before.length} / ${after.length}`);
    assert.ok(before.length + after.length >= all.length, 'the two halves cover the store');
    assert.ok(before.length < all.length && after.length < all.length, 'each half is a real subset');

    const har = JSON.parse(run(['inspect', store, '--format', 'har'], env).out) as { log: { version: string; entries: unknown[] } };
    assert.equal(har.log.version, '1.2');
    assert.equal(har.log.entries.length, all.length);
    const table = run(['inspect', store, '--format', 'table'], env).out.trim().split('\n');
    assert.equal(table.length, all.length + 1, 'a header line and one row per exchange');
  } finally {
    collector.kill('SIGTERM');
    await new Promise((r) => collector.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
