/** In-process collector and agent for the collector tests and the TLS/NATS integration tests. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { Collector, type CollectorOptions } from '../../../src/collect/collector';
import { Store } from '../../../src/collect/store';
import { Counters } from '../../../src/observe/counters';
import { DeliverySink } from '../../../src/delivery/delivery-sink';
import { TcpTransport, type TcpTarget } from '../../../src/delivery/tcp-transport';
import type { HelloMsg } from '../../../src/delivery/frame-codec';
import { SCHEMA_VERSION } from '../../../src/exchange/record';
import { exchange, tmp } from '../delivery/helpers';

export interface Running {
  collector: Collector;
  store: Store;
  port: number;
  logs: Array<Record<string, unknown>>;
  counters: Counters;
}

export async function runCollector(opts: Partial<CollectorOptions> = {}): Promise<Running> {
  const store = await Store.open({ dir: tmp('coll') });
  const logs: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const counters = new Counters();
  const collector = new Collector({ host: '127.0.0.1', port: 0, idleTimeoutMs: 800, helloTimeoutMs: 800, ...opts }, store, counters, pino({ level: 'info' }, dest));
  const { port } = await collector.listen();
  return { collector, store, port, logs, counters };
}

export function hello(over: Partial<HelloMsg> = {}): HelloMsg {
  return { agentId: 'agent-1', node: 'n1', mode: 'read', schemaVersion: SCHEMA_VERSION, token: '', protocolVersion: 1, agentVersion: 'test', ...over };
}

/** A real agent sink (TCP transport, no spool) writing n exchanges and closing. */
export async function deliver(target: TcpTarget, n: number, h: HelloMsg = hello(), flushTimeoutMs = 5000): Promise<Counters> {
  const c = new Counters();
  const t = new TcpTransport({ target, hello: h, backoffBaseMs: 50, backoffMaxMs: 200 }, c, () => undefined);
  const sink = new DeliverySink({ stream: 'live:test', maxBatchExchanges: 10, lingerMs: 0, flushTimeoutMs }, t, null, c, () => undefined);
  for (let i = 0; i < n; i++) sink.write(exchange(i));
  await sink.close();
  return c;
}

