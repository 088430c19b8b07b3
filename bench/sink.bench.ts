/**
 * Benchmark of delivery to the replay service, in one process over loopback TCP: the agent sink
 * (encode, batch, window, acks) into a real collector (frame decode, validation, group-committed
 * appends with fdatasync). Also the parts alone: exchange encoding, spool append+read.
 * Run: npx tsc -p tsconfig.json && node dist/bench/sink.bench.js [exchanges] [body-bytes]
 * Prints exchanges/s and MB/s per stage, and peak RSS. No dependencies beyond the project's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { Collector } from '../src/collect/collector';
import { Store } from '../src/collect/store';
import { Counters } from '../src/observe/counters';
import { DeliverySink } from '../src/delivery/delivery-sink';
import { encodeBatchFrame, encodeExchange } from '../src/delivery/frame-codec';
import { Spool } from '../src/delivery/spool';
import { TcpTransport } from '../src/delivery/tcp-transport';
import { SCHEMA_VERSION, emptyCompleteness, type Exchange } from '../src/exchange/record';

const N = Number(process.argv[2] ?? 100_000);
const BODY = Number(process.argv[3] ?? 256);

function exchange(n: number): Exchange {
  const body = Buffer.alloc(BODY, 'y');
  return {
    connection: { client: { ip: '10.0.0.1', port: 40000 + (n % 1000) }, server: { ip: '10.0.0.2', port: 80 }, source: 'bench', id: 1 + (n >> 4), tunnel: '', tunnelSource: '' },
    request: { method: 'GET', url: `/items/${n}?page=2`, httpVersion: '1.1', headers: [{ name: 'Host', value: 'shop.example' }, { name: 'Accept', value: '*/*' }], body: Buffer.alloc(0), contentEncodings: [], wireBodySize: 0, startMicros: 1.7e15 + n, endMicros: 1.7e15 + n, trailers: [] },
    response: { status: 200, reason: 'OK', httpVersion: '1.1', headers: [{ name: 'Content-Type', value: 'application/json' }, { name: 'Content-Length', value: String(BODY) }], body, contentEncodings: [], wireBodySize: BODY, startMicros: 1.7e15 + n + 50, endMicros: 1.7e15 + n + 60, trailers: [] },
    completeness: emptyCompleteness(),
    redactions: [],
    index: n & 15,
    upgraded: false,
    interimStatuses: [],
  };
}

function report(name: string, ns: bigint, count: number, bytes: number): void {
  const s = Number(ns) / 1e9;
  console.log(`${name.padEnd(44)} ${(count / s).toFixed(0).padStart(9)} exchanges/s ${(bytes / s / 1e6).toFixed(1).padStart(8)} MB/s  (${s.toFixed(2)} s)`);
}

async function main(): Promise<void> {
  const exs = Array.from({ length: N }, (_, i) => exchange(i));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-bench-'));
  try {
    let t = process.hrtime.bigint();
    let bytes = 0;
    const encoded = exs.map((e) => {
      const b = encodeExchange(e);
      bytes += b.length;
      return b;
    });
    report('encode Exchange (protobufjs)', process.hrtime.bigint() - t, N, bytes);

    const spool = Spool.open({ dir: path.join(tmp, 'spool'), maxBytes: 4 << 30 }, new Counters(), () => undefined);
    t = process.hrtime.bigint();
    for (let i = 0; i < N; i += 500) spool.append(encodeBatchFrame(i / 500 + 1, 'bench', 0, encoded.slice(i, i + 500)), Math.min(500, N - i));
    for (let b = spool.next(); b; b = spool.next()) spool.ack(b.ref);
    report('spool append + read back + ack (500/batch)', process.hrtime.bigint() - t, N, bytes);
    spool.close();

    const store = await Store.open({ dir: path.join(tmp, 'store') });
    const collector = new Collector({ host: '127.0.0.1', port: 0 }, store, new Counters(), pino({ level: 'warn' }, pino.destination(2)));
    const { port } = await collector.listen();
    const c = new Counters();
    const transport = new TcpTransport({ target: { host: '127.0.0.1', port }, hello: { agentId: 'bench', node: 'b', mode: 'read', schemaVersion: SCHEMA_VERSION, token: '', protocolVersion: 1, agentVersion: 'bench' } }, c, () => undefined);
    const sink = new DeliverySink({ stream: 'bench', lingerMs: 0, flushTimeoutMs: 600_000 }, transport, null, c, (m) => console.error(m));
    await new Promise((r) => setTimeout(r, 200));
    t = process.hrtime.bigint();
    for (const e of exs) sink.write(e);
    const written = process.hrtime.bigint() - t;
    await sink.close();
    const total = process.hrtime.bigint() - t;
    report('sink.write() (capture-loop cost)', written, N, bytes);
    report('write → collector → durable → acked', total, c.get('sink_exchanges_acked'), bytes);
    console.log(`store groups (fdatasync calls): ${store.stats.groups} for ${store.stats.batchesStored} batches; dropped ${c.get('sink_dropped_exchanges')}`);
    await collector.close();
    await store.close();
    console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
