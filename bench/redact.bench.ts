/**
 * Redactor throughput (1 thread): MB/s of body bytes through Redactor.redact per CPU second (process.cpuUsage;
 * the machine is shared, wall-clock MB/s is shown too) on
 *  - a JSON-heavy synthetic API corpus (~0.7 KiB and ~40 KiB bodies, ~10% of records seeded with PII),
 *  - pass-through text (text/plain without findings) and a withheld binary body.
 *  - optionally real exchanges: `--capture FILE.jsonl`, the output of `shadowtap read X.pcap --no-redact` (proto3
 *    JSON lines), redacted as the `read` command does; CPU time (process.cpuUsage), MB of decoded bodies.
 *  Every body is redacted in full: the body cache (bodies.cacheBytes) is off, since the cases cycle over a fixed
 *  set of bodies; one extra line shows what a repeated body costs with the cache on.
 *  - `--redos`: instead, each adversarial 1 MiB input of test/unit/redact/redos-inputs.ts through the plain-text
 *    scanner, CPU time best of 5, against the 50 ms per 1 MiB budget (the unit test asserts only linear scaling).
 * Run: npx tsc -p tsconfig.json && node dist/bench/redact.bench.js [seconds-per-case] [case-name-filter] [--capture FILE]
 *      node dist/bench/redact.bench.js --redos [case-name-filter]
 */
import { readFileSync } from 'node:fs';
import { emptyCompleteness, Exchange, Header, HttpMessageCommon } from '../src/exchange/record';
import { compileRedactor, defaultRedactConfig } from '../src/redact';
import { Ctx } from '../src/redact/ctx';
import { redactPlain } from '../src/redact/text';
import { bestCpu, MiB, REDOS_CASES, wallMs } from '../test/unit/redact/redos-inputs';

const KEY = Buffer.alloc(32, 0x5a);
const argv = process.argv.slice(2);
const capIdx = argv.indexOf('--capture');
const captureFile = capIdx >= 0 ? argv.splice(capIdx, 2)[1] : undefined;
const redosIdx = argv.indexOf('--redos');
const redos = redosIdx >= 0;
if (redos) argv.splice(redosIdx, 1);
const secs = redos ? 0 : Number(argv[0] ?? 2);
const only = (redos ? argv[0] : argv[1]) ?? '';

let seed = 12345;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
}
const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
function word(): string {
  return words[rnd(words.length)];
}

function record(i: number): Record<string, unknown> {
  const seeded = i % 10 === 0;
  return {
    id: 100000 + i,
    uuid: `${(0x10000000 + i).toString(16)}-e29b-41d4-a716-446655440000`,
    createdAt: 1700000000000 + i * 1000,
    status: ['active', 'pending', 'closed'][i % 3],
    title: `${word()} ${word()} ${word()}`,
    price: (rnd(100000) / 100).toFixed(2),
    tags: [word(), word(), word()],
    owner: { email: seeded ? `user${i}@corp.example` : undefined, firstName: word(), country: 'DE', verified: true },
    comment: seeded ? `call me at +1415555${String(1000 + (i % 9000))} or card 4111 1111 1111 1111` : `${word()} ${word()} note ${i}`,
    links: { self: `https://api.example.com/v1/items/${i}`, next: `https://api.example.com/v1/items?page=${i + 1}` },
    metrics: { views: rnd(10000), ratio: rnd(1000) / 1000, version: '2.3.1' },
  };
}

function corpus(bodies: number, perBody: number): Buffer[] {
  const out: Buffer[] = [];
  let n = 0;
  for (let b = 0; b < bodies; b++) {
    const items: unknown[] = [];
    for (let k = 0; k < perBody; k++) items.push(record(n++));
    out.push(Buffer.from(JSON.stringify({ items, total: perBody, page: b })));
  }
  return out;
}

function ex(body: Buffer, ct: string): Exchange {
  return {
    connection: { client: { ip: '10.0.0.1', port: 1 }, server: { ip: '10.0.0.2', port: 80 }, source: 'bench', id: 1, tunnel: '', tunnelSource: '' },
    response: {
      httpVersion: '1.1', headers: [{ name: 'Content-Type', value: ct }, { name: 'Content-Length', value: String(body.length) }],
      body, contentEncodings: [], wireBodySize: body.length, startMicros: 0, endMicros: 0, trailers: [], status: 200, reason: 'OK',
    },
    completeness: emptyCompleteness(), redactions: [], index: 0, upgraded: false, interimStatuses: [],
  } as Exchange;
}

/** The default rules with the body cache off (or on, for the one line that shows it). */
function config(bodyCache = false): ReturnType<typeof defaultRedactConfig> {
  const cfg = defaultRedactConfig();
  if (!bodyCache) cfg.bodies.cacheBytes = 0;
  return cfg;
}

function run(name: string, bodies: Buffer[], ct: string, bodyCache = false): void {
  if (!name.includes(only)) return;
  const r = compileRedactor(config(bodyCache), KEY);
  const total = bodies.reduce((a, b) => a + b.length, 0);
  for (const b of bodies.slice(0, 50)) r.redact(ex(b, ct)); // warm-up
  let bytes = 0;
  let count = 0;
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const deadline = t0 + BigInt(Math.round(secs * 1e9));
  for (let i = 0; ; i++) {
    const b = bodies[i % bodies.length];
    const t = process.hrtime.bigint();
    r.redact(ex(b, ct));
    const now = process.hrtime.bigint();
    lat.push(Number(now - t) / 1e3);
    bytes += b.length;
    count++;
    if (now > deadline) break;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  lat.sort((a, b) => a - b);
  const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))];
  console.log(`${name.padEnd(34)} ${(bytes / cpu / 1e6).toFixed(1).padStart(7)} MB/s cpu (${(bytes / s / 1e6).toFixed(1)} wall)  ${count} bodies  avg ${(total / bodies.length / 1024).toFixed(1)} KiB  p99 ${p99.toFixed(0)} µs`);
}

const small = corpus(400, 1);
const large = corpus(20, 60);
const text = Array.from({ length: 50 }, (_, i) => Buffer.from(Array.from({ length: 400 }, () => `${word()} ${word()} ${i}`).join('\n')));
const binary = [Buffer.alloc(64 * 1024, 7)];

/** One proto3-JSON message back into the record shape (only what the redactor reads). */
function msgFromJson(j: Record<string, unknown>): HttpMessageCommon {
  const hs = (v: unknown): Header[] => ((v as Header[] | undefined) ?? []).map((h) => ({ name: h.name, value: h.value ?? '' }));
  return {
    httpVersion: String(j.httpVersion ?? ''), headers: hs(j.headers), trailers: hs(j.trailers),
    body: Buffer.from(String(j.body ?? ''), 'base64'), contentEncodings: (j.contentEncodings as string[] | undefined) ?? [],
    wireBodySize: Number(j.wireBodySize ?? 0), startMicros: 0, endMicros: 0,
  };
}

function captureExchanges(file: string): () => Exchange[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>);
  return () => lines.map((j) => {
    const comp = emptyCompleteness();
    Object.assign(comp, j.completeness ?? {});
    const e: Exchange = {
      connection: { client: { ip: j.connection?.client?.ip ?? '', port: 1 }, server: { ip: j.connection?.server?.ip ?? '', port: 80 }, source: 'bench', id: 1, tunnel: '', tunnelSource: '' },
      completeness: comp, redactions: [], index: 0, upgraded: false, interimStatuses: [],
    };
    if (j.request !== undefined) e.request = { ...msgFromJson(j.request), method: j.request.method ?? '', url: j.request.url ?? '' };
    if (j.response !== undefined) e.response = { ...msgFromJson(j.response), status: j.response.status ?? 0, reason: j.response.reason ?? '' };
    return e;
  });
}

/** Real exchanges: CPU seconds per pass over the whole file (fresh records each pass, built outside the timing). */
function runCapture(file: string): void {
  const make = captureExchanges(file);
  let n = 0;
  let bodyBytes = 0;
  for (const e of make()) {
    n++;
    bodyBytes += (e.request?.body.length ?? 0) + (e.response?.body.length ?? 0);
  }
  const r = compileRedactor(config(), KEY);
  for (const e of make().slice(0, 500)) r.redact(e); // warm-up
  const cpu: number[] = [];
  const until = Date.now() + secs * 1000;
  do {
    const batch = make();
    const c0 = process.cpuUsage();
    for (const e of batch) r.redact(e);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  } while (Date.now() < until || cpu.length < 3);
  cpu.sort((a, b) => a - b);
  const best = cpu[0];
  const med = cpu[Math.floor(cpu.length / 2)];
  console.log(`${'capture ' + file.split('/').pop()}`.padEnd(34) + ` ${(bodyBytes / med / 1e6).toFixed(1).padStart(7)} MB/s  ${n} exchanges  ${(bodyBytes / 1e6).toFixed(1)} MB bodies  cpu/pass median ${med.toFixed(3)} s best ${best.toFixed(3)} s (${cpu.length} passes)`);
}

const REDOS_BUDGET_MS = 50;

/** The 50 ms per 1 MiB ReDoS budget, per adversarial case: CPU ms best of 5 (wall ms of one run shown too). */
function runRedos(): void {
  const ctx = new Ctx(defaultRedactConfig(), KEY);
  const plain = (s: string): void => {
    ctx.counts = new Map();
    redactPlain(ctx, s);
  };
  console.log(`redact ReDoS budget (node ${process.version}): 1 MiB per case, CPU ms best of 5, budget ${REDOS_BUDGET_MS} ms`);
  let over = 0;
  for (const [name, make] of Object.entries(REDOS_CASES)) {
    if (!name.includes(only)) continue;
    const input = make(MiB);
    const ms = bestCpu(() => plain(input), 5) * 1e3;
    const wall = wallMs(() => plain(input));
    if (ms >= REDOS_BUDGET_MS) over++;
    console.log(`${name.padEnd(18)} ${ms.toFixed(1).padStart(7)} ms cpu  ${wall.toFixed(1).padStart(7)} ms wall  ${ms < REDOS_BUDGET_MS ? 'ok' : 'OVER BUDGET'}`);
  }
  console.log(over === 0 ? 'all within budget' : `${over} case(s) over the ${REDOS_BUDGET_MS} ms budget`);
}

if (redos) {
  runRedos();
  process.exit(0);
}
console.log(`redact bench (node ${process.version}, ${secs}s per case)`);
if (captureFile !== undefined) runCapture(captureFile);
run('json ~0.7 KiB bodies', small, 'application/json');
run('json ~40 KiB bodies', large, 'application/json');
run('text pass-through (no findings)', text, 'text/plain; charset=utf-8');
run('binary withheld (64 KiB)', binary, 'application/octet-stream');
run('json ~0.7 KiB, repeated, body cache on', small, 'application/json', true);
