/**
 * Content-Encoding decoding and body caps. Bodies are compressed with node:zlib here and sent inside
 * raw HTTP/1.1 responses (TCP payload bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { harness, meta, req, res } from './helpers';
import { decodeContent } from '../../../src/http/content-decoding';

const TEXT = Buffer.from('{"hello":"world","items":[1,2,3,4,5,6,7,8,9]}'.repeat(20));

function roundTrip(headers: string[], body: Buffer, opts = {}) {
  const h = harness(meta(), opts);
  h.send(0, req('GET', '/enc', ['Accept-Encoding: gzip, deflate, br']));
  h.send(1, res(200, 'OK', [...headers, `Content-Length: ${body.length}`], body));
  assert.equal(h.out.length, 1);
  return { ex: h.out[0], counters: h.counters };
}

for (const [name, enc] of [
  ['gzip', zlib.gzipSync(TEXT)],
  ['x-gzip', zlib.gzipSync(TEXT)],
  ['deflate', zlib.deflateSync(TEXT)],
  ['br', zlib.brotliCompressSync(TEXT)],
] as const) {
  test(`Content-Encoding ${name} is decoded; wireBodySize is the encoded size`, () => {
    const { ex } = roundTrip([`Content-Encoding: ${name}`], enc);
    assert.deepEqual(ex.response?.body, TEXT);
    assert.deepEqual(ex.response?.contentEncodings, [name]);
    assert.equal(ex.response?.wireBodySize, enc.length);
    assert.equal(ex.completeness.decodeError, '');
  });
}

test('deflate sent raw (no zlib header, as some servers do) is decoded', () => {
  const raw = zlib.deflateRawSync(TEXT);
  const { ex } = roundTrip(['Content-Encoding: deflate'], raw);
  assert.deepEqual(ex.response?.body, TEXT);
});

test('stacked encodings are decoded in reverse order and recorded as sent', () => {
  const twice = zlib.brotliCompressSync(zlib.gzipSync(TEXT));
  const { ex } = roundTrip(['Content-Encoding: GZip', 'Content-Encoding: br'], twice);
  assert.deepEqual(ex.response?.contentEncodings, ['GZip', 'br']);
  assert.deepEqual(ex.response?.body, TEXT);
  const { ex: ex2 } = roundTrip(['Content-Encoding: gzip, br'], twice);
  assert.deepEqual(ex2.response?.contentEncodings, ['gzip', 'br']);
  assert.deepEqual(ex2.response?.body, TEXT);
});

test('gzip inside chunked framing', () => {
  const gz = zlib.gzipSync(TEXT);
  const a = gz.subarray(0, 10);
  const b = gz.subarray(10);
  const body = Buffer.concat([
    Buffer.from(`${a.length.toString(16)}\r\n`),
    a,
    Buffer.from(`\r\n${b.length.toString(16)}\r\n`),
    b,
    Buffer.from('\r\n0\r\n\r\n'),
  ]);
  const h = harness();
  h.send(0, req('GET', '/'));
  h.send(1, res(200, 'OK', ['Transfer-Encoding: chunked', 'Content-Encoding: gzip'], body));
  assert.deepEqual(h.out[0].response?.body, TEXT);
  assert.equal(h.out[0].response?.wireBodySize, gz.length);
});

test('undecodable body: bytes kept as received, decodeError set', () => {
  const junk = Buffer.from('this is not gzip at all');
  const { ex, counters } = roundTrip(['Content-Encoding: gzip'], junk);
  assert.deepEqual(ex.response?.body, junk);
  assert.equal(ex.completeness.decodeError, 'gzip_error');
  assert.equal(counters.get('http_decode_error_gzip_error'), 1);
  const { ex: ex2 } = roundTrip(['Content-Encoding: compress'], junk);
  assert.equal(ex2.completeness.decodeError, 'unsupported_encoding:compress');
  assert.deepEqual(ex2.response?.body, junk);
});

test('decompression bomb stops at the ratio cap and keeps the encoded body', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024));
  assert.ok(bomb.length < 5000);
  const { ex, counters } = roundTrip(['Content-Encoding: gzip'], bomb);
  assert.equal(ex.completeness.decodeError, 'ratio_cap');
  assert.deepEqual(ex.response?.body, bomb);
  assert.equal(counters.get('http_decode_error_ratio_cap'), 1);
  // With a generous ratio, the size cap applies instead.
  const { ex: ex2 } = roundTrip(['Content-Encoding: gzip'], bomb, { maxDecodeRatio: 1e6, maxDecodedBytes: 1024 * 1024 });
  assert.equal(ex2.completeness.decodeError, 'size_cap');
});

test('decodeContent: identity and empty bodies pass through', () => {
  const lim = { maxDecodedBytes: 1000, maxDecodeRatio: 10 };
  assert.deepEqual(decodeContent(Buffer.from('abc'), ['identity'], lim), { body: Buffer.from('abc'), error: '' });
  assert.deepEqual(decodeContent(Buffer.alloc(0), ['gzip'], lim), { body: Buffer.alloc(0), error: '' });
});

test('body over maxBodyBytes: prefix kept, bodyCapped, wireBodySize is the full size, not decoded', () => {
  const body = Buffer.alloc(5000, 0x61);
  const h = harness(meta(), { maxBodyBytes: 1000 });
  h.send(0, req('POST', '/up', ['Content-Length: 5000'], body.toString('latin1')));
  h.send(1, res(200, 'OK', ['Content-Encoding: gzip', 'Content-Length: 3000'], Buffer.alloc(3000, 1)));
  const ex = h.out[0];
  assert.equal(ex.request?.body.length, 1000);
  assert.equal(ex.request?.wireBodySize, 5000);
  assert.equal(ex.completeness.bodyCapped, true);
  assert.equal(ex.completeness.requestBodyPartial, true);
  assert.equal(ex.response?.body.length, 1000);
  assert.equal(ex.completeness.decodeError, 'partial_body');
  assert.equal(h.counters.get('http_body_capped'), 2);
});

test('gzip with a wrong size in its trailer still decodes to the same bytes (the size only sizes the output buffer)', () => {
  const big = Buffer.from('abcdefghij'.repeat(20000));
  for (const claimed of [0, 1, 100, big.length - 1, big.length, big.length + 1, 0xffffffff]) {
    const gz = zlib.gzipSync(big);
    gz.writeUInt32LE(claimed, gz.length - 4);
    // node's gunzip checks ISIZE against the output; a wrong one is a gzip error either way. Same result as zlib's own call.
    const r = decodeContent(gz, ['gzip'], { maxDecodedBytes: 1 << 26, maxDecodeRatio: 1000 });
    let ref: Buffer | null = null;
    try {
      ref = zlib.gunzipSync(gz);
    } catch {
      ref = null;
    }
    if (ref === null) {
      assert.equal(r.error, 'gzip_error', `claimed ${claimed}`);
      assert.deepEqual(r.body, gz);
    } else {
      assert.equal(r.error, '', `claimed ${claimed}`);
      assert.deepEqual(r.body, ref);
    }
  }
  const exact = decodeContent(zlib.gzipSync(big), ['gzip'], { maxDecodedBytes: 1 << 26, maxDecodeRatio: 1000 });
  assert.equal(exact.error, '');
  assert.deepEqual(exact.body, big);
  // The cap still applies when the trailer asks for more room than the cap.
  const capped = decodeContent(zlib.gzipSync(big), ['gzip'], { maxDecodedBytes: 1000, maxDecodeRatio: 1000 });
  assert.equal(capped.error, 'size_cap');
});
