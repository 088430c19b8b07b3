/** readCaptureInput: file fast path, gzip, stdin ('-'), progress, records straddling read chunks, open errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CaptureError } from '../../../src/source/capture-reader';
import { READ_CHUNK_BYTES, readCaptureInput, readCaptureStream } from '../../../src/source/file-source';
import type { Frame } from '../../../src/source/frame';
import { collect, CORPUS_DIR, corpusFile, HAVE_CORPUS, NO_CORPUS_REASON } from './helpers';

function digest(frames: string[]) {
  return {
    events: { onFrame: (f: Frame) => frames.push(`${f.tsMicros} ${f.capLen} ${f.wireLen} ${f.linkType} ` +
      createHash('sha1').update(f.buf.subarray(f.off, f.off + f.capLen)).digest('hex')) },
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<CaptureError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CaptureError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('readCaptureInput', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-file-source-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('records larger than a read and records straddling read boundaries arrive intact', async () => {
    // pcap (LE, µs, Ethernet) with 3 MB, 1-byte and 5 MB records, about 2.5 reads long.
    const parts: Buffer[] = [Buffer.from('d4c3b2a1020004000000000000000000ffffff0001000000', 'hex')];
    let seed = 1;
    for (let i = 0; i < 8; i++) {
      const cap = i % 3 === 0 ? 3_000_000 : i % 3 === 1 ? 1 : 5_000_000;
      const h = Buffer.alloc(16);
      h.writeUInt32LE(1_700_000_000 + i, 0);
      h.writeUInt32LE(i, 4);
      h.writeUInt32LE(cap, 8);
      h.writeUInt32LE(cap, 12);
      const body = Buffer.alloc(cap);
      for (let j = 0; j < cap; j += 4096) body[j] = (seed = (seed * 48271) % 2147483647) & 0xff;
      parts.push(h, body);
    }
    const input = Buffer.concat(parts);
    assert.ok(input.length > 2 * READ_CHUNK_BYTES);
    const file = path.join(dir, 'big-records.pcap');
    fs.writeFileSync(file, input);
    const got: string[] = [];
    const progress: [number, number | undefined][] = [];
    const end = await readCaptureInput(file, digest(got).events, (a, b) => progress.push([a, b]));
    const want: string[] = [];
    for (const f of collect(input).frames) want.push(`${f.ts} ${f.capLen} ${f.wireLen} ${f.linkType} ${f.data}`);
    assert.equal(got.length, 8);
    assert.deepEqual(got, want);
    assert.deepEqual(end, { format: 'pcap', records: 8, bytes: input.length });
    assert.ok(progress.length >= 3);
    assert.deepEqual(progress[progress.length - 1], [input.length, input.length]);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] > progress[i - 1][0]);
  });

  it('a truncated file reports where the cut record starts', async () => {
    const input = Buffer.from(
      'd4c3b2a1020004000000000000000000ffff000001000000' + '00000000000000000400000004000000deadbeef' + '0000000000000000080000000800000001020304',
      'hex',
    );
    const file = path.join(dir, 'cut.pcap');
    fs.writeFileSync(file, input);
    const end = await readCaptureInput(file, { onFrame() {} });
    assert.deepEqual(end, { format: 'pcap', records: 1, bytes: input.length, truncatedAt: { offset: 44, have: 20, need: 24 } });
  });

  it('empty file, text file, missing file, directory', async () => {
    const empty = path.join(dir, 'empty.pcap');
    fs.writeFileSync(empty, '');
    await rejectsWith(readCaptureInput(empty, { onFrame() {} }), 'CAP_ERR_EMPTY');
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello, this is not a capture\n');
    const e = await rejectsWith(readCaptureInput(text, { onFrame() {} }), 'CAP_ERR_NOT_A_CAPTURE');
    assert.match(e.message, /68 65 6c 6c 6f/);
    const missing = await rejectsWith(readCaptureInput(path.join(dir, 'nope.pcap'), { onFrame() {} }), 'CAP_ERR_OPEN');
    assert.match(missing.message, /nope\.pcap/);
    await rejectsWith(readCaptureInput(dir, { onFrame() {} }), 'CAP_ERR_OPEN');
  });

  it('a consumer exception passes through unchanged', async () => {
    const input = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000' + '00000000000000000400000004000000deadbeef', 'hex');
    const file = path.join(dir, 'one.pcap');
    fs.writeFileSync(file, input);
    const boom = new RangeError('consumer bug');
    await assert.rejects(readCaptureInput(file, { onFrame() { throw boom; } }), (e: unknown) => e === boom);
    await assert.rejects(readCaptureStream(Readable.from([input]), { onFrame() { throw boom; } }), (e: unknown) => e === boom);
  });

  it('corpus pcapng through the file path equals the in-memory reader', { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, async () => {
    const rel = 'lab/multi-interface.pcapng';
    const got: string[] = [];
    const end = await readCaptureInput(path.join(CORPUS_DIR, rel), digest(got).events);
    const want = collect(corpusFile(rel)).frames.map((f) => `${f.ts} ${f.capLen} ${f.wireLen} ${f.linkType} ${f.data}`);
    assert.equal(end.records, 1878);
    assert.deepEqual(got, want);
  });

  it('gzip-compressed capture is decompressed on the way', { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, async () => {
    const progress: (number | undefined)[] = [];
    let frames = 0;
    const end = await readCaptureInput(
      path.join(CORPUS_DIR, 'zeek/http_1000-requests-one-dropped-response.pcap.gz'),
      { onFrame: () => frames++ },
      (_read, total) => progress.push(total),
    );
    assert.equal(end.format, 'pcap');
    assert.equal(end.records, 4102); // MANIFEST.md packet column
    assert.equal(frames, 4102);
    assert.equal(end.truncatedAt, undefined);
    assert.ok(progress.length > 0 && progress.every((t) => t === undefined));
  });

  it("'-' reads stdin", { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, () => {
    const mod = path.resolve(__dirname, '../../../src/source/file-source.js');
    const script = `require(${JSON.stringify(mod)}).readCaptureInput('-', { onFrame() {} })` +
      '.then((e) => process.stdout.write(JSON.stringify(e)), (e) => { process.stdout.write(e.code); process.exitCode = 1; });';
    const input = corpusFile('lab/vxlan-http-lab-nanosec-bigendian.pcap');
    const r = spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(JSON.parse(r.stdout), { format: 'pcap-ns', records: 24, bytes: input.length });
  });

  it('readCaptureStream: a stream cut mid-record and one that errors', async () => {
    const input = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000' + '00000000000000000400000004000000deadbeef', 'hex');
    const end = await readCaptureStream(Readable.from([input.subarray(0, 10), input.subarray(10, 30)]), { onFrame() {} });
    assert.deepEqual(end, { format: 'pcap', records: 0, bytes: 30, truncatedAt: { offset: 24, have: 6, need: 16 } });
    const failing = new Readable({
      read() {
        this.destroy(new Error('EIO: disk on fire'));
      },
    });
    const e = await rejectsWith(readCaptureStream(failing, { onFrame() {} }), 'CAP_ERR_READ');
    assert.match(e.message, /disk on fire/);
  });
});
