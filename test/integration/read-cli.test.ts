/**
 * CLI behaviour of `shadowtap read`: exit statuses (src/errors.ts), one clear stderr line and no
 * stack trace for bad input, a capture cut inside a record, stdin, an output closed early, the
 * `--stats json` packet accounting, and a pcapng file of the shared corpus.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CLI,
  PCAPS,
  ROOT,
  SHARED_CORPUS,
  TEST_REDACT_KEY,
  matchStreams,
  parseJsonl,
  readTsv,
  runCli,
  runCliOnce,
  stackLines,
  tsharkStreams,
  type ExchangeJson,
} from './read-support';

/** stderr lines other than the --no-redact warning. */
function messageLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.includes('--no-redact'));
}

/** Offset of record `n` (1-based) of a classic little-endian pcap, as pcaps/gen/pcap-offset.js computes it. */
function recordOffset(file: string, n: number): { offset: number; capLen: number } {
  const buf = fs.readFileSync(file);
  assert.equal(buf.readUInt32LE(0), 0xa1b2c3d4, 'little-endian µs pcap');
  let off = 24;
  for (let i = 1; i < n; i++) off += 16 + buf.readUInt32LE(off + 8);
  return { offset: off, capLen: buf.readUInt32LE(off + 8) };
}

function withoutSource(exs: ExchangeJson[]): ExchangeJson[] {
  return exs.map((e) => {
    const { source: _source, ...conn } = e.connection;
    return { ...e, connection: conn };
  });
}

describe('read: a capture cut inside a record', () => {
  it('broken/cut-mid-record: everything before the cut, one warning naming the offset, exit 3', async () => {
    const cut = path.join('pcaps', 'broken', 'cut-mid-record.pcap');
    const r = await runCliOnce(['read', cut, '--no-redact', '--stats', 'json']);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(stackLines(r.stderr), []);
    // README: records 1-19 whole, then the 16-byte header of record 20 and 40 of its 265 bytes.
    const rec20 = recordOffset(path.join(PCAPS, 'http', 'loopback.pcap'), 20);
    const fileSize = fs.statSync(path.join(ROOT, cut)).size;
    assert.equal(fileSize, rec20.offset + 16 + 40, 'the capture is what the README says');
    const lines = messageLines(r.stderr).filter((l) => !l.startsWith('{')); // minus the --stats json line
    assert.equal(lines.length, 1, `one warning line, got:\n${r.stderr}`);
    assert.match(lines[0], /warning/i);
    assert.ok(lines[0].includes(String(rec20.offset)), `names offset ${rec20.offset}: ${lines[0]}`);

    const exs = parseJsonl(r.stdout);
    // The same exchanges as the uncut capture up to the cut: connection 0 whole, then the three
    // pipelined requests of connection 1 whose responses lie beyond the cut.
    const whole = parseJsonl((await runCliOnce(['read', 'pcaps/http/loopback.pcap', '--no-redact', '--stats', 'json'])).stdout);
    assert.equal(exs.length, 6);
    assert.deepEqual(withoutSource(exs.slice(0, 3)), withoutSource(whole.slice(0, 3)));
    for (const [i, e] of exs.slice(3).entries()) {
      assert.equal(e.request?.url, `/p/${i + 1}`);
      assert.deepEqual(e.request, whole[3 + i].request, 'the request before the cut is whole');
      assert.equal(e.response, undefined);
      assert.equal(e.completeness?.responseMissing, true);
      assert.equal(e.completeness?.closeReason, 'end_of_input');
    }
  });

  it('--stats json reports the cut (truncatedAt) and still counts every packet read', async () => {
    const r = await runCliOnce(['read', 'pcaps/broken/cut-mid-record.pcap', '--no-redact', '--stats', 'json']);
    assert.equal(r.code, 3);
    const s = JSON.parse(r.stderr.trim().split('\n').pop()!) as { truncatedAt: { offset: number }; packets: number };
    assert.equal(s.truncatedAt.offset, recordOffset(path.join(PCAPS, 'http', 'loopback.pcap'), 20).offset);
    assert.equal(s.packets, 19);
  });
});

describe('read: a gzip-compressed capture cut short', () => {
  it('everything decompressed before the cut, one warning, exit 3 (as for a plain capture)', async () => {
    const zlib = await import('node:zlib');
    const whole = fs.readFileSync(path.join(PCAPS, 'http', 'loopback.pcap'));
    const gz = zlib.gzipSync(whole);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-gzcut-'));
    try {
      const file = path.join(dir, 'cut.pcap.gz');
      fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
      const r = await runCliOnce(['read', file, '--no-redact', '--stats', 'none']);
      assert.equal(r.code, 3, r.stderr);
      assert.deepEqual(stackLines(r.stderr), []);
      const lines = messageLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /warning: .*cut short/);
      assert.ok(parseJsonl(r.stdout).length > 0, 'the exchanges before the cut are written');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('read: unusable input is one clear line, no stack trace', () => {
  const cases: Array<{ name: string; args: string[]; code: number; says: RegExp }> = [
    { name: 'not-a-capture.txt (bad magic)', args: ['pcaps/broken/not-a-capture.txt'], code: 2, says: /not a capture/i },
    { name: 'empty.pcap (0 bytes)', args: ['pcaps/broken/empty.pcap'], code: 2, says: /empty/i },
    { name: 'missing file', args: ['pcaps/no-such-file.pcap'], code: 2, says: /no-such-file\.pcap.*(no such file|not found|ENOENT)/i },
    { name: 'a directory', args: ['pcaps/http'], code: 2, says: /pcaps\/http.*directory/i },
    { name: 'bad --format', args: ['pcaps/http/loopback.pcap', '--format', 'xml'], code: 1, says: /--format.*xml/ },
    { name: 'unknown option', args: ['pcaps/http/loopback.pcap', '--frobnicate'], code: 1, says: /frobnicate/ },
    { name: 'no FILE', args: [], code: 1, says: /FILE/ },
  ];
  for (const c of cases) {
    it(`${c.name} → exit ${c.code}`, async () => {
      const r = await runCli(['read', ...c.args]);
      assert.equal(r.code, c.code, `exit status; stderr:\n${r.stderr}`);
      const lines = messageLines(r.stderr);
      assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${r.stderr}`);
      assert.match(lines[0], /^shadowtap: /);
      assert.match(lines[0], c.says);
      assert.deepEqual(stackLines(r.stderr), []);
      assert.equal(r.stdout.length, 0, 'nothing on stdout');
    });
  }

  it('--help prints the usage with the exit statuses, exit 0', async () => {
    const r = await runCli(['read', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout.toString(), /Usage: shadowtap read/);
    assert.match(r.stdout.toString(), /Exit status/);
  });
});

describe('read: stdin and output handling', () => {
  it("'-' reads stdin: the same exchanges as reading the file (source file:-)", async () => {
    const file = await runCliOnce(['read', 'pcaps/http/mix.pcap', '--no-redact', '--stats', 'json']);
    const piped = await runCli(['read', '-', '--no-redact', '--stats', 'none'], { stdin: fs.readFileSync(path.join(PCAPS, 'http', 'mix.pcap')) });
    assert.equal(piped.code, 0, piped.stderr);
    const a = parseJsonl(piped.stdout);
    const b = parseJsonl(file.stdout);
    assert.equal(a.length, 18);
    for (const e of a) assert.equal(e.connection.source, 'file:-');
    for (const e of b) assert.equal(e.connection.source, 'file:mix.pcap');
    assert.deepEqual(withoutSource(a), withoutSource(b));
  });

  it("'-' with a truncated stream on stdin still exits 3 with the offset", async () => {
    const bytes = fs.readFileSync(path.join(PCAPS, 'broken', 'cut-mid-record.pcap'));
    const r = await runCli(['read', '-', '--no-redact', '--stats', 'none'], { stdin: bytes });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(parseJsonl(r.stdout).length, 6);
    assert.match(messageLines(r.stderr)[0], new RegExp(String(recordOffset(path.join(PCAPS, 'http', 'loopback.pcap'), 20).offset)));
  });

  it('-o FILE writes the same bytes as stdout', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-o-'));
    try {
      const out = path.join(tmp, 'out.jsonl');
      const r = await runCli(['read', 'pcaps/vxlan/mirror-lab.pcap', '--no-redact', '--stats', 'none', '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, 0);
      const std = await runCliOnce(['read', 'pcaps/vxlan/mirror-lab.pcap', '--no-redact', '--stats', 'json']);
      assert.ok(fs.readFileSync(out).equals(std.stdout));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a reader that goes away after 100 bytes (| head -c 100): no crash, no stack trace, one line says so, exit 0', async () => {
    const child = spawn(process.execPath, [CLI, 'read', 'pcaps/http/mix.pcap', '--no-redact'], {
      cwd: ROOT,
      env: { ...process.env, SHADOWTAP_REDACT_KEY: TEST_REDACT_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let got = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 100) child.stdout.destroy();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    assert.ok(got >= 100, 'some output came first');
    assert.equal(signal, null, `not killed (${signal})`);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stackLines(stderr), []);
    assert.match(stderr, /the output was closed by its reader \(broken pipe\)/, 'said once, not silent');
    assert.equal(stderr.split('\n').filter((l) => l.includes('closed by its reader')).length, 1);
  });
});

interface Stats {
  format: string;
  packets: number;
  bytes: number;
  exchanges: number;
  packetOutcomes: Record<string, number>;
  counters: Record<string, number>;
}

describe('read --stats json: every packet lands in exactly one packetOutcomes counter', () => {
  const files = [
    'http/mix.pcap',
    'http/loopback.pcap',
    'vxlan/mirror-lab.pcap',
    'vxlan/mirror-lab-truncated.pcap',
    'vxlan/mirror-lab-oneway.pcap',
    'broken/cut-mid-record.pcap',
  ];
  for (const f of files) {
    it(f, async () => {
      const r = await runCliOnce(['read', `pcaps/${f}`, '--no-redact', '--stats', 'json']);
      assert.ok(r.code === 0 || (r.code === 3 && f.includes('cut')), r.stderr);
      const lines = messageLines(r.stderr);
      const statsLine = lines[lines.length - 1];
      const s = JSON.parse(statsLine) as Stats;
      assert.equal(s.format, 'pcap');
      assert.ok(s.packets > 0);
      const sum = Object.values(s.packetOutcomes).reduce((a, b) => a + b, 0);
      assert.equal(sum, s.packets, `sum of packetOutcomes ${JSON.stringify(s.packetOutcomes)} == packets`);
      for (const [k, v] of Object.entries(s.packetOutcomes)) {
        assert.match(k, /^[a-z0-9_]+$/, 'snake_case outcome names');
        assert.ok(Number.isInteger(v) && v > 0, `${k}: positive integer`);
      }
      assert.equal(s.exchanges, parseJsonl(r.stdout).length, 'exchanges counter == lines written');
    });
  }

  it('http/mix: the two ARP frames are not_ip, the rest reach the flow table', async () => {
    const r = await runCliOnce(['read', 'pcaps/http/mix.pcap', '--no-redact', '--stats', 'json']);
    const s = JSON.parse(messageLines(r.stderr).pop()!) as Stats;
    assert.equal(s.packets, 884);
    assert.equal(s.packetOutcomes.not_ip, 2);
  });
});

describe('read: pcapng from the shared corpus', () => {
  const file = path.join(SHARED_CORPUS, 'lab', 'multi-interface.pcapng');
  const tsv = `${file}.tshark.tsv`;
  const missing = !fs.existsSync(file) ? `${file} is not there (../shared/corpus missing)` : !fs.existsSync(tsv) ? `${tsv} is not there` : '';
  if (missing) console.log(`# skipping the pcapng corpus test: ${missing}`);
  it('lab/multi-interface.pcapng: every tshark request/response, paired alike', { skip: missing || false }, async () => {
    const r = await runCli(['read', file, '--no-redact', '--stats', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stackLines(r.stderr), []);
    const s = JSON.parse(messageLines(r.stderr).pop()!) as Stats;
    assert.equal(s.format, 'pcapng');
    assert.equal(Object.values(s.packetOutcomes).reduce((a, b) => a + b, 0), s.packets);
    const exs = parseJsonl(r.stdout);
    const rows = readTsv(tsv);
    const streams = tsharkStreams(rows);
    assert.equal(matchStreams(streams, exs).size, streams.length);
    assert.equal(exs.length, rows.filter((x) => x.status === undefined).length, 'one exchange per request');
  });
});
