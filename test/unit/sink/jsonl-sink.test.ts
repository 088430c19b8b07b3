/**
 * JsonlSink writes, byte for byte, JSON.stringify of the proto3 JSON mapping (src/exchange/proto-json.ts) with each
 * message's body moved last; ByteWriter keeps bytes in order across its buffer boundary and for oversize writes.
 * Inputs: the exchanges of a real capture (pcaps/http/mix.pcap, pcap[Ethernet[IPv4[TCP[HTTP]]]]) and arbitrary
 * exchanges (fast-check) whose strings hold quotes, backslashes, controls, DEL, non-ASCII and lone surrogates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { JsonlSink } from '../../../src/sink/jsonl-sink';
import { ByteWriter } from '../../../src/sink/byte-writer';
import { exchangeToProtoJson } from '../../../src/exchange/proto-json';
import { emptyCompleteness, type Exchange, type HttpMessageCommon } from '../../../src/exchange/record';
import { exchangesFromPcap } from '../../helpers/captured-exchanges';

function tmpFile(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-sink-')), name);
}

/** The reference line: JSON.stringify of the proto JSON mapping, body last in each message. */
function referenceLine(ex: Exchange): string {
  const obj = exchangeToProtoJson(ex, true);
  for (const k of ['request', 'response']) {
    const m = obj[k] as Record<string, unknown> | undefined;
    if (m !== undefined && 'body' in m) {
      const body = m.body;
      delete m.body;
      m.body = body;
    }
  }
  return JSON.stringify(obj) + '\n';
}

async function sinkOutput(exs: Exchange[]): Promise<Buffer> {
  const file = tmpFile('out.jsonl');
  const sink = new JsonlSink(new ByteWriter(file));
  for (const ex of exs) sink.write(ex);
  await sink.close();
  return fs.readFileSync(file);
}

test('jsonl: every exchange of mix.pcap is byte-identical to JSON.stringify of the proto JSON mapping', async () => {
  const exs = await exchangesFromPcap('http/mix.pcap');
  assert.ok(exs.length > 10, `mix.pcap gave ${exs.length} exchanges`);
  assert.ok(exs.some((e) => (e.response?.body.length ?? 0) > 0), 'some response has a body');
  const got = await sinkOutput(exs);
  assert.equal(got.toString('utf8'), exs.map(referenceLine).join(''));
});

// Mostly printable ASCII (with '"' and '\\'), so that most exchanges take the optimistic path and some do not.
const text = fc.oneof(
  { weight: 40, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  fc.constantFrom('', 'W/"6553f100-f60"', 'a\\b', 'tab\there', 'nl\n', '\u007f', 'caf\u00e9', '\u20ac', '\ud800', 'x\udc00y', '\ud83d\ude00'),
);
const u64 = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constant(1763978382123456), fc.constant(1763978300000001));
const headers = fc.array(fc.record({ name: text, value: text }), { maxLength: 5 });
const common = fc.record({
  httpVersion: fc.constantFrom('', '1.1', '1.0'),
  headers,
  body: fc.oneof(fc.constant(Buffer.alloc(0)), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))),
  contentEncodings: fc.array(text, { maxLength: 2 }),
  wireBodySize: u64,
  startMicros: u64,
  endMicros: u64,
  trailers: headers,
});
const exchangeArb: fc.Arbitrary<Exchange> = fc
  .record({
    client: fc.record({ ip: fc.constantFrom('', '10.0.0.1', 'fe80::1'), port: fc.integer({ min: 0, max: 65535 }) }),
    server: fc.record({ ip: text, port: fc.integer({ min: 0, max: 65535 }) }),
    vni: fc.option(fc.integer({ min: 0, max: 2 ** 24 - 1 }), { nil: undefined }),
    source: text,
    id: u64,
    tunnel: fc.constantFrom('', 'vxlan', 'geneve'),
    tunnelSource: text,
    request: fc.option(fc.tuple(common, text, text), { nil: undefined }),
    response: fc.option(fc.tuple(common, fc.integer({ min: 0, max: 999 }), text), { nil: undefined }),
    flags: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    gaps: fc.tuple(u64, u64),
    errs: fc.tuple(text, text, text),
    redactions: fc.array(fc.record({ rule: text, count: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 3 }),
    index: fc.integer({ min: 0, max: 100000 }),
    upgraded: fc.boolean(),
    interim: fc.array(fc.integer({ min: 100, max: 199 }), { maxLength: 2 }),
  })
  .map((r) => {
    const c = emptyCompleteness();
    [c.requestMissing, c.responseMissing, c.requestBodyPartial, c.responseBodyPartial, c.truncated, c.midStream, c.bodyCapped] = r.flags;
    [c.requestGapBytes, c.responseGapBytes] = r.gaps;
    [c.parseError, c.decodeError, c.closeReason] = r.errs;
    const ex: Exchange = {
      connection: { client: r.client, server: r.server, source: r.source, id: r.id, tunnel: r.tunnel, tunnelSource: r.tunnelSource },
      completeness: c,
      redactions: r.redactions,
      index: r.index,
      upgraded: r.upgraded,
      interimStatuses: r.interim,
    };
    if (r.vni !== undefined) ex.connection.vni = r.vni;
    if (r.request) ex.request = { ...(r.request[0] as HttpMessageCommon), method: r.request[1], url: r.request[2] };
    if (r.response) ex.response = { ...(r.response[0] as HttpMessageCommon), status: r.response[1], reason: r.response[2] };
    return ex;
  });

test('jsonl: arbitrary exchanges (escapes, non-ASCII, lone surrogates, big numbers) match the reference', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(exchangeArb, { minLength: 1, maxLength: 4 }), async (exs) => {
      // Repeat each exchange so that the per-connection text cache is hit too.
      const all = exs.flatMap((e) => [e, e]);
      const got = await sinkOutput(all);
      assert.equal(got.toString('utf8'), all.map(referenceLine).join(''));
    }),
    { numRuns: 300 },
  );
});

test('ByteWriter: bytes, latin1 and utf8 strings stay in order across flushes and oversize writes', async () => {
  const file = tmpFile('bytes.bin');
  const w = new ByteWriter(file);
  const expected: Buffer[] = [];
  const big = Buffer.alloc(3 * 1024 * 1024 + 7);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const steps: Array<() => void> = [
    () => { w.writeLatin1('abc'); expected.push(Buffer.from('abc', 'latin1')); },
    () => { w.writeUtf8('\u00e9\u20ac\ud83d\ude00'); expected.push(Buffer.from('\u00e9\u20ac\ud83d\ude00', 'utf8')); },
    () => { w.writeBytes(big.subarray(0, 700_000)); expected.push(big.subarray(0, 700_000)); },
    () => { w.writeByte(0x0a); expected.push(Buffer.from([0x0a])); },
    () => { w.writeBytes(big); expected.push(big); },
    () => { const s = 'x'.repeat(1_500_000); w.writeLatin1(s); expected.push(Buffer.from(s, 'latin1')); },
    () => { const s = '\u20ac'.repeat(400_000); w.writeUtf8(s); expected.push(Buffer.from(s, 'utf8')); },
    () => { w.write('tail\n'); expected.push(Buffer.from('tail\n')); },
  ];
  for (let round = 0; round < 3; round++) for (const s of steps) s();
  await w.close();
  assert.ok(fs.readFileSync(file).equals(Buffer.concat(expected)));
});

test('ByteWriter with flushAfterMs: bytes reach the file without more writes; a failed timed flush is thrown by the next write', async () => {
  const file = tmpFile('timed.jsonl');
  const w = new ByteWriter(file, { flushAfterMs: 20 });
  w.writeLatin1('{"a":1}');
  w.writeByte(0x0a);
  assert.equal(fs.readFileSync(file, 'utf8'), '', 'buffered at first');
  let got = '';
  for (let i = 0; i < 200 && got === ''; i++) {
    await new Promise((r) => setTimeout(r, 10));
    got = fs.readFileSync(file, 'utf8');
  }
  assert.equal(got, '{"a":1}\n');
  w.writeLatin1('more\n');
  await w.close();
  assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\nmore\n');

  // Bytes given after close() are never written: the fd number may belong to another file by then.
  w.writeLatin1('late\n');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\nmore\n');
  await w.close();

  if (!fs.existsSync('/dev/full')) return;
  const full = new ByteWriter('/dev/full', { flushAfterMs: 5 });
  full.writeLatin1('x');
  await new Promise((r) => setTimeout(r, 100));
  assert.throws(() => full.writeLatin1('y'), (e: Error & { code?: string }) => e.code === 'CAP_ERR_OUTPUT_WRITE' && /ENOSPC|no space/i.test(e.message));
  await assert.rejects(full.close(), /ENOSPC|no space/i, 'the output stays failed');
});
