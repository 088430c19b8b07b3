/**
 * Throughput of `shadowtap read` against the plain file read and tshark, on one capture, in one run.
 *
 *   npm run bench -- [--runs N] [--tshark-runs N] [--no-tshark] [--write-docs]
 *   BENCH_PCAP=/var/tmp/stbench/bench-large-vxlan.pcap npm run bench
 *
 * Input: $BENCH_PCAP, else /var/tmp/stbench/bench-large.pcap (made by /work/shared/bench/make-pcaps.sh). When it
 * is absent, says how to make it and does a small run on pcaps/http/mix.pcap (exit 0).
 *
 * Measured, each in its own child process (median of N runs, default 3; tshark --tshark-runs times, default
 * once, it takes ~75 s):
 *  (a) plain read: a Node loop walking the capture's records with our reader (readCaptureInput, no-op onFrame);
 *  (b) `shadowtap read FILE -o /dev/null --no-redact --stats json`;
 *  (c) the same with redaction on (SHADOWTAP_REDACT_KEY fixed; the default, `auto`, redaction worker threads);
 *  (c0) the same with --redact-workers 0 (redaction on the capture thread) when `auto` means workers here, else
 *  (c1) with --redact-workers 1 (one worker thread), so the other setting is always measured beside the default;
 *  (bT), (cT) (b) and (c) with the other `--threads` setting: 2 where `auto` means one thread here, else 1;
 *  (d) `tshark -2` with HTTP desegmentation printing method and status of every HTTP message.
 * Per row: wall s, user+sys CPU s (compare CPU on a shared machine), packets/s, MB/s (capture file bytes), exchanges/s,
 * peak RSS, and the ratios against (a) and (d). Node children report CPU and peak RSS from process.resourceUsage()
 * through a preload (this file, loaded with -r); tshark's come from /usr/bin/time when it exists.
 * Checks that exchanges found == the request count in FILE.requests when that file exists (make-pcaps.sh writes it).
 * --write-docs writes the table into docs/benchmarks.md (one section per capture file name).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCaptureInput } from '../src/source/file-source';
import { packageRoot } from '../src/package-root';
import { defaultRedactWorkers } from '../src/redact/workers/default-workers';
import { defaultReadThreads } from '../src/shard/default-threads';

const DEFAULT_PCAP = '/var/tmp/stbench/bench-large.pcap';
const MAKE_HINT = 'PCAP_DIR=/var/tmp/stbench /work/shared/bench/make-pcaps.sh';
const FALLBACK_PCAP = 'pcaps/http/mix.pcap';
/** A fixed 32-byte key, so the redacted run does the same work every time. */
const BENCH_REDACT_KEY = '5be7c3a1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f';
const RUSAGE_ENV = 'SHADOWTAP_BENCH_RUSAGE_OUT';

interface Usage {
  wall: number;
  cpu: number | null;
  rssBytes: number | null;
}

interface Row {
  name: string;
  what: string;
  runs: Usage[];
  packets: number;
  exchanges: number | null;
}

// ---- preload mode: `node -r dist/bench/read-throughput.js ...` writes the child's resource usage at exit ----

if (require.main !== module && process.env[RUSAGE_ENV]) {
  const out = process.env[RUSAGE_ENV] as string;
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, rssBytes: u.maxRSS * 1024 }));
  });
}

// ---- child mode: the plain read ----

async function plainRead(file: string): Promise<void> {
  let records = 0;
  const end = await readCaptureInput(file, {
    onFrame: () => {
      records++;
    },
  });
  const u = process.resourceUsage();
  process.stdout.write(JSON.stringify({ records, bytes: end.bytes, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, rssBytes: u.maxRSS * 1024 }) + '\n');
}

// ---- measuring ----

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function medianOrNull(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === xs.length && v.length > 0 ? median(v) : null;
}

/** Run a Node script (with the rusage preload unless `preload` is false); returns usage and the child's output. */
function runNode(args: string[], env: NodeJS.ProcessEnv, preload = true): { usage: Usage; stdout: string; stderr: string } {
  const tmp = path.join(os.tmpdir(), `shadowtap-bench-${process.pid}-${Date.now()}.json`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, preload ? ['-r', __filename, ...args] : args, {
    env: { ...env, [RUSAGE_ENV]: tmp },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  let cpu: number | null = null;
  let rssBytes: number | null = null;
  try {
    const u = JSON.parse(fs.readFileSync(tmp, 'utf8')) as { cpu: number; rssBytes: number };
    cpu = u.cpu;
    rssBytes = u.rssBytes;
    fs.unlinkSync(tmp);
  } catch {
    /* no usage file: leave unknown */
  }
  return { usage: { wall, cpu, rssBytes }, stdout: r.stdout, stderr: r.stderr };
}

function lastJsonLine(text: string): Record<string, unknown> {
  const lines = text.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (l.startsWith('{')) return JSON.parse(l) as Record<string, unknown>;
  }
  throw new Error(`no JSON line in: ${text.slice(-500)}`);
}

function measurePlain(file: string, runs: number): Row {
  const usages: Usage[] = [];
  let packets = 0;
  for (let i = 0; i < runs; i++) {
    // The child reports its own usage (preloading this same file would make it the cached main module).
    const r = runNode([__filename, '--plain-read', file], process.env, false);
    const j = lastJsonLine(r.stdout);
    packets = Number(j.records);
    usages.push({ wall: r.usage.wall, cpu: Number(j.cpu), rssBytes: Number(j.rssBytes) });
  }
  return { name: '(a)', what: 'plain read (Node loop over the records, our reader)', runs: usages, packets, exchanges: null };
}

type ReadMode = 'no-redact' | 'default' | 'capture-thread' | 'one-worker' | 'no-redact-threads' | 'threads';

/** What `auto` means for `read` on this machine. */
const AUTO_WORKERS = defaultRedactWorkers();
const AUTO_THREADS = defaultReadThreads();
/** The `--threads` setting measured beside the default: 2 where the default is one thread, else 1. */
const OTHER_THREADS = AUTO_THREADS === 1 ? 2 : 1;

const READ_ROWS: Record<ReadMode, { name: string; what: string; flags: string[] }> = {
  'no-redact': { name: '(b)', what: '`shadowtap read -o /dev/null --no-redact`', flags: ['--no-redact'] },
  default: {
    name: '(c)',
    what: `\`shadowtap read -o /dev/null\` (redaction on, the default: ${AUTO_THREADS > 1 ? `--threads ${AUTO_THREADS}` : AUTO_WORKERS === 0 ? 'on the capture thread' : `${AUTO_WORKERS} redaction worker thread(s)`})`,
    flags: [],
  },
  'capture-thread': { name: '(c0)', what: '`shadowtap read -o /dev/null --redact-workers 0` (redaction on the capture thread)', flags: ['--redact-workers', '0'] },
  'one-worker': { name: '(c1)', what: '`shadowtap read -o /dev/null --redact-workers 1` (one redaction worker thread)', flags: ['--redact-workers', '1'] },
  'no-redact-threads': { name: '(bT)', what: `\`shadowtap read -o /dev/null --no-redact --threads ${OTHER_THREADS}\``, flags: ['--no-redact', '--threads', String(OTHER_THREADS)] },
  threads: { name: '(cT)', what: `\`shadowtap read -o /dev/null --threads ${OTHER_THREADS}\` (redaction on)`, flags: ['--threads', String(OTHER_THREADS)] },
};

function measureRead(file: string, runs: number, mode: ReadMode): Row {
  const bin = path.join(packageRoot(), 'bin', 'shadowtap.js');
  const args = [bin, 'read', file, '-o', '/dev/null', '--stats', 'json', '--no-progress', ...READ_ROWS[mode].flags];
  const env = { ...process.env, SHADOWTAP_REDACT_KEY: BENCH_REDACT_KEY };
  const usages: Usage[] = [];
  let packets = 0;
  let exchanges = 0;
  for (let i = 0; i < runs; i++) {
    const r = runNode(args, env);
    const s = lastJsonLine(r.stderr);
    packets = Number(s.packets);
    exchanges = Number(s.exchanges);
    const rss = typeof s.maxRssBytes === 'number' ? s.maxRssBytes : null;
    usages.push({ ...r.usage, rssBytes: r.usage.rssBytes ?? rss });
  }
  return {
    name: READ_ROWS[mode].name,
    what: READ_ROWS[mode].what,
    runs: usages,
    packets,
    exchanges,
  };
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** tshark `runs` times (its time varies by a third between runs on a shared VM): the row holds each run. */
function measureTshark(file: string, packets: number, runs: number): Row | string {
  const all: Row['runs'] = [];
  let exchanges: number | null = null;
  for (let i = 0; i < runs; i++) {
    const r = measureTsharkOnce(file, packets);
    if (typeof r === 'string') return r;
    all.push(...r.runs);
    exchanges = r.exchanges;
  }
  return { name: '(d)', what: 'tshark -2, HTTP desegmentation, method + status fields', runs: all, packets, exchanges };
}

function measureTsharkOnce(file: string, packets: number): Row | string {
  if (!hasCommand('tshark')) return 'tshark not installed (apt-get install tshark)';
  const tsharkArgs = ['-2', '-r', file, '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'http.desegment_body:TRUE', '-Y', 'http', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.response.code'];
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const t0 = process.hrtime.bigint();
  const r = timeBin
    ? spawnSync(timeBin, ['-f', 'BENCH_TIME %U %S %M', 'tshark', ...tsharkArgs], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    : spawnSync('tshark', tsharkArgs, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) return `tshark failed (${r.status ?? r.signal}): ${(r.stderr ?? '').slice(-300)}`;
  let requests = 0;
  for (const line of r.stdout.split('\n')) if (line !== '' && !line.startsWith('\t')) requests++;
  let cpu: number | null = null;
  let rssBytes: number | null = null;
  const m = /BENCH_TIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (m !== null) {
    cpu = Number(m[1]) + Number(m[2]);
    rssBytes = Number(m[3]) * 1024;
  }
  return { name: '(d)', what: 'tshark -2, HTTP desegmentation, method + status fields', runs: [{ wall, cpu, rssBytes }], packets, exchanges: requests };
}

// ---- report ----

interface Summary {
  row: Row;
  wall: number;
  cpu: number | null;
  rss: number | null;
}

function fmt(n: number | null, digits: number): string {
  return n === null ? 'n/a' : n.toFixed(digits);
}

function si(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0);
}

function table(rows: Summary[], fileBytes: number): string {
  const a = rows.find((r) => r.row.name === '(a)');
  const d = rows.find((r) => r.row.name === '(d)');
  const head =
    '| run | what | wall s | CPU s (user+sys) | packets/s | MB/s | exchanges/s | peak RSS MB | wall vs (a) | CPU vs (a) | speed vs tshark (d), wall | by CPU |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const lines = rows.map((s) => {
    const x = s.row.exchanges;
    const vsA = a ? `${(s.wall / a.wall).toFixed(1)}x` : 'n/a';
    const cpuVsA = a && a.cpu !== null && s.cpu !== null ? `${(s.cpu / a.cpu).toFixed(1)}x` : 'n/a';
    const vsD = d ? `${(d.wall / s.wall).toFixed(1)}x` : 'n/a';
    const cpuVsD = d && d.cpu !== null && s.cpu !== null ? `${(d.cpu / s.cpu).toFixed(1)}x` : 'n/a';
    return `| ${s.row.name} | ${s.row.what} | ${s.wall.toFixed(2)} | ${fmt(s.cpu, 2)} | ${si(s.row.packets / s.wall)} | ${(fileBytes / 1e6 / s.wall).toFixed(0)} | ${x === null ? '-' : si(x / s.wall)} | ${s.rss === null ? 'n/a' : (s.rss / 1048576).toFixed(0)} | ${vsA} | ${cpuVsA} | ${vsD} | ${cpuVsD} |`;
  });
  return head + lines.join('\n') + '\n';
}

function writeDocs(file: string, section: string): string {
  const docs = path.join(packageRoot(), 'docs', 'benchmarks.md');
  fs.mkdirSync(path.dirname(docs), { recursive: true });
  const intro =
    '# Benchmarks\n\n' +
    'Throughput of `shadowtap read` on the benchmark captures of `shared/bench/make-pcaps.sh` (real HTTP/1.1 traffic\n' +
    'recorded through the kernel: keep-alive API mix with JSON, chunked, gzip and 64 KiB bodies), measured against a\n' +
    'plain read of the same file and against tshark in the same run. Regenerate a section with\n' +
    '`BENCH_PCAP=FILE npm run bench -- --write-docs` (`--runs N`, `--no-tshark`).\n\n' +
    'Rows: (a) a Node loop walking the capture records with our reader (the floor for anything reading the file in\n' +
    'Node); (b) `shadowtap read FILE -o /dev/null --no-redact --stats json`; (c) the same with redaction on (the\n' +
    'default: `auto` worker threads, none on 1-2 cores); (c0) the same with `--redact-workers 0` (on the capture thread) or, where\n' +
    '`auto` is 0, (c1) with `--redact-workers 1`; (d) `tshark -2 -r FILE -o tcp.desegment_tcp_streams:TRUE -o http.desegment_body:TRUE -Y http -T fields\n' +
    '-e http.request.method -e http.response.code`. Medians of N runs, each in its own process; tshark median of --tshark-runs. CPU is\n' +
    'user+sys of the process, peak RSS its maxRSS. The machine is shared: compare CPU seconds rather than wall seconds.\n';
  let text = fs.existsSync(docs) ? fs.readFileSync(docs, 'utf8') : intro;
  const title = `## ${path.basename(file)}`;
  const start = text.indexOf(title + '\n');
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + title.length);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else {
    text = text.replace(/\n*$/, '\n\n') + section;
  }
  fs.writeFileSync(docs, text);
  return docs;
}

function parseArgs(argv: string[]): { runs: number; tshark: boolean; tsharkRuns: number; writeDocs: boolean } {
  let runs = 3;
  let tsharkRuns = 1;
  let tshark = true;
  let writeDocs = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a.startsWith('--runs=')) runs = Number(a.slice(7));
    else if (a === '--no-tshark') tshark = false;
    else if (a === '--tshark-runs') tsharkRuns = Number(argv[++i]);
    else if (a === '--write-docs') writeDocs = true;
    else throw new Error(`unknown argument ${a}; usage: read-throughput [--runs N] [--tshark-runs N] [--no-tshark] [--write-docs]`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(tsharkRuns) || tsharkRuns < 1) throw new Error('--tshark-runs must be a positive integer');
  return { runs, tshark, tsharkRuns, writeDocs };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--plain-read') {
    await plainRead(argv[1]);
    return 0;
  }
  const opts = parseArgs(argv);
  let file = process.env.BENCH_PCAP || DEFAULT_PCAP;
  if (!fs.existsSync(file)) {
    process.stdout.write(
      `${file} does not exist. Make the benchmark captures (about 7 minutes, root) with:\n  ${MAKE_HINT}\n` +
        `or point BENCH_PCAP at a capture. Doing a small run on ${FALLBACK_PCAP} instead (1 run, docs not written).\n\n`,
    );
    file = path.join(packageRoot(), FALLBACK_PCAP);
    opts.runs = 1;
    opts.writeDocs = false;
  }
  const fileBytes = fs.statSync(file).size;
  const loadAtStart = os.loadavg()[0].toFixed(1);
  const requestsFile = file + '.requests';
  const expected = fs.existsSync(requestsFile) ? Number(fs.readFileSync(requestsFile, 'utf8').trim()) : null;
  process.stdout.write(`bench: ${file} (${(fileBytes / 1e6).toFixed(1)} MB), median of ${opts.runs} run(s), node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

  const rows: Row[] = [];
  process.stdout.write('(a) plain read ...\n');
  rows.push(measurePlain(file, opts.runs));
  process.stdout.write('(b) read --no-redact ...\n');
  rows.push(measureRead(file, opts.runs, 'no-redact'));
  process.stdout.write('(c) read (redacted) ...\n');
  rows.push(measureRead(file, opts.runs, 'default'));
  if (AUTO_WORKERS === 0) {
    process.stdout.write('(c1) read (redacted on one worker thread) ...\n');
    rows.push(measureRead(file, opts.runs, 'one-worker'));
  } else {
    process.stdout.write('(c0) read (redacted on the capture thread) ...\n');
    rows.push(measureRead(file, opts.runs, 'capture-thread'));
  }
  process.stdout.write(`(bT) read --no-redact --threads ${OTHER_THREADS} ...\n`);
  rows.push(measureRead(file, opts.runs, 'no-redact-threads'));
  process.stdout.write(`(cT) read (redacted) --threads ${OTHER_THREADS} ...\n`);
  rows.push(measureRead(file, opts.runs, 'threads'));
  let tsharkNote = '';
  if (opts.tshark) {
    process.stdout.write(`(d) tshark (${opts.tsharkRuns} run(s); about 75 s each on bench-large) ...\n`);
    const t = measureTshark(file, rows[0].packets, opts.tsharkRuns);
    if (typeof t === 'string') tsharkNote = t;
    else rows.push(t);
  } else tsharkNote = 'tshark skipped (--no-tshark)';

  const summaries: Summary[] = rows.map((row) => ({
    row,
    wall: median(row.runs.map((u) => u.wall)),
    cpu: medianOrNull(row.runs.map((u) => u.cpu)),
    rss: medianOrNull(row.runs.map((u) => u.rssBytes)),
  }));
  const checks: string[] = [];
  let ok = true;
  if (expected !== null) {
    for (const s of summaries) {
      if (s.row.exchanges === null || s.row.name === '(d)') continue;
      const good = s.row.exchanges === expected;
      if (!good) ok = false;
      checks.push(`${s.row.name} exchanges ${s.row.exchanges} ${good ? '==' : '!='} ${expected} requests in ${path.basename(requestsFile)}${good ? '' : '  MISMATCH'}`);
    }
    const d = summaries.find((s) => s.row.name === '(d)');
    if (d && d.row.exchanges !== null) checks.push(`(d) tshark printed ${d.row.exchanges} HTTP requests`);
  } else checks.push(`no ${path.basename(requestsFile)} beside the capture: exchange count not checked`);

  const t = table(summaries, fileBytes);
  const when = new Date().toISOString().slice(0, 10);
  const section =
    `## ${path.basename(file)}\n\n` +
    `${(fileBytes / 1e6).toFixed(1)} MB, ${rows[0].packets} packets${expected !== null ? `, ${expected} HTTP requests` : ''}. ` +
    `${when}, node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadAtStart} at the start, median of ${opts.runs} run(s).\n\n` +
    t +
    '\n' +
    checks.map((c) => `- ${c}\n`).join('') +
    (tsharkNote ? `- ${tsharkNote}\n` : '') +
    '\n';
  process.stdout.write('\n' + t + '\n' + checks.join('\n') + '\n' + (tsharkNote ? tsharkNote + '\n' : ''));
  for (const s of summaries) {
    if (s.row.runs.length > 1) process.stdout.write(`${s.row.name} runs: wall ${s.row.runs.map((u) => u.wall.toFixed(2)).join(' ')}; cpu ${s.row.runs.map((u) => fmt(u.cpu, 2)).join(' ')}\n`);
  }
  if (opts.writeDocs) process.stdout.write(`wrote ${writeDocs(file, section)}\n`);
  return ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`read-throughput: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
