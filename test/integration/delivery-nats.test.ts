/**
 * The NATS JetStream sink against a real nats-server (Debian package nats-server, started here with
 * -js on a free loopback port). Skipped, with the reason printed, when nats-server is not installed.
 * Checks: every batch lands once in the stream even when the agent resends, payloads decode as
 * shadowtap.v1.Batch, and with the server down the batches go to the spool and arrive later.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'nats';
import { Counters } from '../../src/observe/counters';
import { openRemoteSink } from '../../src/cli/sink-options';
import { decodeBatch } from '../../src/delivery/frame-codec';
import { exchange, tmp } from '../unit/delivery/helpers';
import { freePort, sleep } from './delivery-support';

const bin = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
const skip = bin ? false : 'nats-server is not installed (apt-get install nats-server)';
if (skip) process.stdout.write(`# skipping NATS delivery tests: ${skip}\n`);

async function startNats(port: number, store: string): Promise<ChildProcess> {
  const p = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
      await nc.close();
      return p;
    } catch {
      await sleep(50);
    }
  }
  p.kill('SIGKILL');
  throw new Error('nats-server did not start');
}

async function streamContents(port: number): Promise<{ messages: number; exchanges: number }> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info('SHADOWTAP');
  let exchanges = 0;
  for (let seq = 1; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('SHADOWTAP', { seq });
    exchanges += decodeBatch(Buffer.from(m.data)).exchanges.length;
  }
  await nc.close();
  return { messages: info.state.messages, exchanges };
}

describe('delivery to NATS JetStream', { skip, timeout: 60_000 }, () => {
  it('publishes batches once each; with the server down they wait in the spool', async () => {
    const port = await freePort();
    const spool = tmp('nats-spool');
    const values = { sink: `nats://127.0.0.1:${port}/shadowtap`, spool, 'agent-id': 'n1', 'sink-flush-timeout': '1s' };
    // Server down: everything is spooled at close.
    const c1 = new Counters();
    const s1 = openRemoteSink(values, c1, 'read', () => undefined, { stream: 'read:x', sizeOnlyBatches: true, tuning: { maxBatchExchanges: 10 } })!;
    for (let i = 0; i < 50; i++) s1.write(exchange(i));
    await s1.close();
    assert.equal(c1.get('sink_exchanges_acked'), 0);
    assert.equal(c1.get('sink_spooled_batches'), 5);

    const server = await startNats(port, tmp('nats-store'));
    try {
      // Server up: the spooled 5 batches plus the same 50 exchanges again (same stream and seqs:
      // JetStream drops them as duplicates) plus 30 new ones.
      const c2 = new Counters();
      const s2 = openRemoteSink({ ...values, 'sink-flush-timeout': '10s' }, c2, 'read', () => undefined, { stream: 'read:x', sizeOnlyBatches: true, tuning: { maxBatchExchanges: 10 } })!;
      for (let i = 0; i < 80; i++) s2.write(exchange(i));
      await s2.close();
      assert.equal(c2.get('sink_spool_recovered_batches'), 5);
      assert.equal(c2.get('sink_batches_acked'), 13);
      assert.equal(c2.get('sink_batches_duplicate'), 5);
      assert.deepEqual(await streamContents(port), { messages: 8, exchanges: 80 });
    } finally {
      server.kill('SIGTERM');
    }
  });
});
