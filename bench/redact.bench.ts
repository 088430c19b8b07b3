/**
 * Redactor throughput (plain hrtime loop, 1 thread): MB/s of body bytes through Redactor.redact on
 *  - a JSON-heavy synthetic API corpus (~0.7 KiB and ~40 KiB bodies, ~10% of records seeded with PII),
 *  - pass-through text (text/plain without findings) and a withheld binary body.
 * Run: npx tsc -p tsconfig.json && node dist/bench/redact.bench.js [seconds-per-case] [case-name-filter]
 */
import { emptyCompleteness, Exchange } from '../src/exchange/record';
import { compileRedactor, defaultRedactConfig } from '../src/redact';

const KEY = Buffer.alloc(32, 0x5a);
const secs = Number(process.argv[2] ?? 2);
const only = process.argv[3] ?? '';

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

function run(name: string, bodies: Buffer[], ct: string): void {
  if (!name.includes(only)) return;
  const r = compileRedactor(defaultRedactConfig(), KEY);
  const total = bodies.reduce((a, b) => a + b.length, 0);
  for (const b of bodies.slice(0, 50)) r.redact(ex(b, ct)); // warm-up
  let bytes = 0;
  let count = 0;
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
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
  lat.sort((a, b) => a - b);
  const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))];
  console.log(`${name.padEnd(34)} ${(bytes / s / 1e6).toFixed(1).padStart(7)} MB/s  ${count} bodies  avg ${(total / bodies.length / 1024).toFixed(1)} KiB  p99 ${p99.toFixed(0)} µs`);
}

const small = corpus(400, 1);
const large = corpus(20, 60);
const text = Array.from({ length: 50 }, (_, i) => Buffer.from(Array.from({ length: 400 }, () => `${word()} ${word()} ${i}`).join('\n')));
const binary = [Buffer.alloc(64 * 1024, 7)];

console.log(`redact bench (node ${process.version}, ${secs}s per case)`);
run('json ~0.7 KiB bodies', small, 'application/json');
run('json ~40 KiB bodies', large, 'application/json');
run('text pass-through (no findings)', text, 'text/plain; charset=utf-8');
run('binary withheld (64 KiB)', binary, 'application/octet-stream');
