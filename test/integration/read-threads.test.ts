/**
 * `read --threads N` writes what one thread writes: the same bytes, the same summary, the same exit status.
 *  1. in process, Pipeline against ShardedRead (3 shards) on captures derived from the recorded
 *     pcaps/http/mix.pcap where connections are still open when a sweep or the end of input closes
 *     them (the only places where exchanges of several shards meet in one step);
 *  2. the CLI on every capture in pcaps/ and ../shared/corpus (redaction on), and the pb and HAR formats,
 *     standard input and --dedup;
 *  3. bad input and bad flags with threads: the same errors, no hang, no stack trace.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pipeline } from '../../src/pipeline';
import { ShardedRead } from '../../src/shard/sharded-read';
import { JsonlSink } from '../../src/sink/jsonl-sink';
import { MemoryByteWriter } from '../../src/sink/memory-byte-writer';
import { readCaptureInput } from '../../src/source/file-source';
import type { FlowTableOptions } from '../../src/flow/flow-table';
import { corpusFiles } from '../conformance/compare';
import { PCAPS, SHARED_CORPUS, runCli, stackLines } from './read-support';
import { freePort, inspectLines, startCollector, stop, tmpDir } from './delivery-support';

const MIX = path.join(PCAPS, 'http', 'mix.pcap');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-threads-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A classic little-endian µs pcap (tcpdump's) rewritten: only the records `keep` accepts, each record's
 * time since the first stretched `stretch` times. The packet bytes are the recorded ones.
 */
function derive(src: string, name: string, keep: (frame: Buffer) => boolean, stretch = 1): string {
  const b = fs.readFileSync(src);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'a little-endian microsecond pcap');
  const parts = [b.subarray(0, 24)];
  let t0 = -1;
  for (let off = 24; off + 16 <= b.length; ) {
    const incl = b.readUInt32LE(off + 8);
    const frame = b.subarray(off + 16, off + 16 + incl);
    if (keep(frame)) {
      const hdr = Buffer.from(b.subarray(off, off + 16));
      const t = b.readUInt32LE(off) * 1e6 + b.readUInt32LE(off + 4);
      if (t0 < 0) t0 = t;
      const s = t0 + (t - t0) * stretch;
      hdr.writeUInt32LE(Math.floor(s / 1e6), 0);
      hdr.writeUInt32LE(Math.round(s % 1e6), 4);
      parts.push(hdr, frame);
    }
    off += 16 + incl;
  }
  const out = path.join(tmp, name);
  fs.writeFileSync(out, Buffer.concat(parts));
  return out;
}

/** Frames sent by the client 10.230.0.1 only (Ethernet, IPv4 source at byte 26): every request, no response. */
const fromClient = (f: Buffer): boolean => f.length >= 34 && f.readUInt16BE(12) === 0x0800 && f.subarray(26, 30).equals(Buffer.from([10, 230, 0, 1]));

async function singleThread(file: string, flows: Partial<FlowTableOptions>): Promise<{ bytes: Buffer; counters: Record<string, number> }> {
  const mem = new MemoryByteWriter();
  const sink = new JsonlSink(mem);
  const p = new Pipeline({ source: 'file:t', flows }, (ex) => sink.write(ex));
  await readCaptureInput(file, { onFrame: (f) => p.onFrame(f), onWeird: () => undefined });
  p.finish('end_of_input');
  return { bytes: Buffer.from(mem.take()), counters: p.counters.snapshot() };
}

async function sharded(file: string, flows: Partial<FlowTableOptions>, shards: number): Promise<{ bytes: Buffer; counters: Record<string, number> }> {
  const chunks: Buffer[] = [];
  const output = { writeExchange: (b: Uint8Array) => void chunks.push(Buffer.from(b)), close: async () => undefined };
  const s = new ShardedRead({ shards, source: 'file:t', flows, outputs: [{ encoding: 'jsonl', output }], redact: null });
  await readCaptureInput(file, { onFrame: (f) => s.onFrame(f), onWeird: () => undefined }, undefined, () => s.pace());
  await s.finish();
  return { bytes: Buffer.concat(chunks), counters: s.counters.snapshot() };
}

describe('sharded read: exchanges of several shards closed in one step come out in single-thread order', () => {
  it('end of input closes nine connections with requests still waiting', async () => {
    const file = derive(MIX, 'mix-requests-only.pcap', fromClient);
    const one = await singleThread(file, {});
    assert.ok((one.counters.flows_closed_end_of_input ?? 0) >= 9, 'every connection is still open at the end');
    for (const shards of [2, 3, 5]) {
      const many = await sharded(file, {}, shards);
      assert.ok(many.bytes.equals(one.bytes), `${shards} shards: output differs from one thread's`);
      assert.deepEqual(many.counters, one.counters);
    }
  });

  it('idle sweeps close connections of several shards at once', async () => {
    // Stretched 40x (0.34 s → 14 s) so that the 1 s sweeps run between the connections' packets.
    const file = derive(MIX, 'mix-requests-only-slow.pcap', fromClient, 40);
    const flows = { idleTimeoutMicros: 1_500_000 };
    const one = await singleThread(file, flows);
    assert.ok((one.counters.flows_closed_idle_timeout ?? 0) >= 3, `sweeps closed ${one.counters.flows_closed_idle_timeout ?? 0} connections`);
    const many = await sharded(file, flows, 3);
    assert.ok(many.bytes.equals(one.bytes), 'output differs from one thread\'s');
    assert.deepEqual(many.counters, one.counters);
  });
});

// ------------------------------------------------------------------------------ 2. the CLI

/** The summary without what differs between any two runs (time, memory). */
function summaryOf(stderr: string): Record<string, unknown> {
  const line = stderr.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `no JSON summary in: ${stderr}`);
  const s = JSON.parse(line) as Record<string, unknown>;
  delete s.seconds;
  delete s.maxRssBytes;
  return s;
}

async function sameAsOneThread(args: string[], threads = 3, stdin?: Buffer): Promise<void> {
  const opts = stdin ? { stdin, timeoutMs: 60_000 } : { timeoutMs: 60_000 };
  const [a, b] = await Promise.all([runCli([...args, '--threads', '1'], opts), runCli([...args, '--threads', String(threads)], opts)]);
  assert.equal(b.code, a.code, `exit status: ${b.stderr}`);
  assert.deepEqual(stackLines(b.stderr), []);
  assert.ok(b.stdout.equals(a.stdout), `output differs (${a.stdout.length} bytes against ${b.stdout.length})`);
  // Not a capture, or unreadable: the same one line and no summary.
  if (a.code === 2) assert.equal(b.stderr, a.stderr);
  else if (args.includes('json')) assert.deepEqual(summaryOf(b.stderr), summaryOf(a.stderr));
}

function projectCaptures(): string[] {
  const out: string[] = [];
  for (const dir of ['http', 'vxlan', 'broken']) {
    for (const f of fs.readdirSync(path.join(PCAPS, dir))) if (/\.pcap(ng)?$/.test(f)) out.push(path.join(PCAPS, dir, f));
  }
  return out.sort();
}

describe('read --threads 3 == --threads 1 (redaction on, --stats json)', () => {
  for (const file of projectCaptures()) {
    it(path.relative(PCAPS, file), () => sameAsOneThread(['read', file, '--stats', 'json']));
  }
  it('../shared/corpus, every capture', async (t) => {
    if (!fs.existsSync(SHARED_CORPUS)) {
      t.skip(`${SHARED_CORPUS} is not there`);
      return;
    }
    for (const file of corpusFiles(SHARED_CORPUS)) {
      await t.test(path.relative(SHARED_CORPUS, file), () => sameAsOneThread(['read', file, '--stats', 'json']));
    }
  });
});

describe('read --threads: formats, standard input, --dedup', () => {
  for (const format of ['pb', 'har']) {
    it(`--format ${format}`, async () => {
      const out1 = path.join(tmp, `one.${format}`);
      const out2 = path.join(tmp, `two.${format}`);
      const [a, b] = await Promise.all([
        runCli(['read', MIX, '--format', format, '-o', out1, '--threads', '1']),
        runCli(['read', MIX, '--format', format, '-o', out2, '--threads', '2']),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.ok(fs.readFileSync(out1).length > 1000);
      assert.ok(fs.readFileSync(out2).equals(fs.readFileSync(out1)), `${format} output differs`);
    });
  }

  it('standard input', () => sameAsOneThread(['read', '-', '--stats', 'json'], 2, fs.readFileSync(MIX)));

  it('--dedup (a tcpdump -i any capture)', async (t) => {
    const file = path.join(SHARED_CORPUS, 'lab', 'sll2-any-duplicates.pcap');
    if (!fs.existsSync(file)) {
      t.skip(`${file} is not there`);
      return;
    }
    await sameAsOneThread(['read', file, '--dedup', '--stats', 'json']);
  });
});

describe('read --threads with --sink: the replay service gets what one thread sends', () => {
  it('same exchanges stored, the local copy the same, nothing on stdout without -o', { timeout: 120_000 }, async () => {
    const stored: string[][] = [];
    const local: Buffer[] = [];
    for (const threads of ['1', '3']) {
      const store = tmpDir(`threads-sink-${threads}`);
      const collector = await startCollector(store, await freePort());
      try {
        const sinkArgs = ['--sink', `tcp://127.0.0.1:${collector.port}`, '--spool', 'none', '--agent-id', `t${threads}`, '--threads', threads];
        const out = path.join(tmp, `sink-local-${threads}.jsonl`);
        const withLocal = await runCli(['read', MIX, ...sinkArgs, '-o', out], { timeoutMs: 60_000 });
        assert.equal(withLocal.code, 0, withLocal.stderr);
        local.push(fs.readFileSync(out));
        const remoteOnly = await runCli(['read', MIX, ...sinkArgs], { timeoutMs: 60_000 });
        assert.equal(remoteOnly.code, 0, remoteOnly.stderr);
        assert.equal(remoteOnly.stdout.length, 0, 'with --sink and no -o, nothing on stdout');
      } finally {
        await stop(collector);
      }
      stored.push(await inspectLines(store));
    }
    assert.equal(stored[0]!.length, 18, 'the same capture sent twice is stored once (same stream, same batches)');
    assert.deepEqual(stored[1], stored[0]);
    assert.ok(local[1]!.equals(local[0]!), 'the local copy differs');
  });
});

// ------------------------------------------------------------------------------ 3. errors

describe('read --threads: bad input and bad flags', () => {
  it('an empty file and a text file: exit 2, one line, no stack', async () => {
    for (const f of ['empty.pcap', 'not-a-capture.txt']) {
      const r = await runCli(['read', path.join(PCAPS, 'broken', f), '--threads', '2'], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.signal, null);
      assert.deepEqual(stackLines(r.stderr), []);
      assert.match(r.stderr, /shadowtap: /);
    }
  });

  it('an output that fails (a full disk: /dev/full): exit 4, one line, as with one thread', async (t) => {
    if (!fs.existsSync('/dev/full')) {
      t.skip('no /dev/full here');
      return;
    }
    for (const format of ['jsonl', 'har']) {
      const r = await runCli(['read', MIX, '--threads', '2', '--format', format, '-o', '/dev/full'], { timeoutMs: 20_000 });
      assert.equal(r.code, 4, r.stderr);
      assert.deepEqual(stackLines(r.stderr), []);
      assert.match(r.stderr, /cannot write \/dev\/full/);
    }
  });

  it('--threads 0, --threads x: usage errors', async () => {
    for (const v of ['0', 'x', '99']) {
      const r = await runCli(['read', MIX, '--threads', v]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--threads: expected auto or an integer 1-16/);
    }
  });

  it('--threads 2 with --redact-workers: a usage error naming both', async () => {
    const r = await runCli(['read', MIX, '--threads', '2', '--redact-workers', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--threads and --redact-workers/);
  });
});
