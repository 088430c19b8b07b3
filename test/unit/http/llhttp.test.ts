/** The llhttp binding itself: raw HTTP/1.1 bytes, split at every position, and its error reporting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR_OK, LlhttpParser, TYPE_REQUEST, TYPE_RESPONSE, extractLlhttpWasm, type LlhttpHandler } from '../../../src/http/llhttp';

function recorder(): { h: LlhttpHandler; events: string[]; parser?: LlhttpParser } {
  const events: string[] = [];
  const r: { h: LlhttpHandler; events: string[]; parser?: LlhttpParser } = {
    events,
    h: {
      onMessageBegin: () => void events.push('begin'),
      onHeadersComplete: (head) => {
        events.push(`head ${head.method}|${head.url}|${head.statusCode}|${head.reason}|${head.headers.join('|')}`);
        return 0;
      },
      onBody: (v) => void events.push(`body ${v.toString('latin1')}`),
      onMessageComplete: () => {
        events.push(`done ${r.parser?.head.trailers.join('|')}`);
        return 0;
      },
    },
  };
  return r;
}

test('the package still embeds the WASM binary', () => {
  const wasm = extractLlhttpWasm();
  assert.deepEqual([...wasm.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
});

test('split url, field and value callbacks are concatenated at every split point', () => {
  const msg = Buffer.from('GET /path/to?q=1 HTTP/1.1\r\nHost: h.example\r\nX-Empty:\r\nAccept: */*\r\n\r\n');
  const whole = recorder();
  const p0 = new LlhttpParser(TYPE_REQUEST, whole.h, 1 << 16);
  whole.parser = p0;
  assert.equal(p0.execute(msg), ERR_OK);
  p0.destroy();
  assert.deepEqual(whole.events, ['begin', 'head GET|/path/to?q=1|0||Host|h.example|X-Empty||Accept|*/*', 'done ']);
  for (let i = 1; i < msg.length; i++) {
    for (let j = i; j < msg.length; j += 5) {
      const r = recorder();
      const p = new LlhttpParser(TYPE_REQUEST, r.h, 1 << 16);
      r.parser = p;
      assert.equal(p.execute(msg.subarray(0, i)), ERR_OK);
      if (j > i) assert.equal(p.execute(msg.subarray(i, j)), ERR_OK);
      assert.equal(p.execute(msg.subarray(j)), ERR_OK);
      p.destroy();
      assert.deepEqual(r.events, whole.events, `split ${i}/${j}`);
    }
  }
});

test('body views point into the caller chunk; trailers are reported', () => {
  const r = recorder();
  const p = new LlhttpParser(TYPE_RESPONSE, r.h, 1 << 16);
  r.parser = p;
  const data = Buffer.from('HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n');
  assert.equal(p.execute(data), ERR_OK);
  p.destroy();
  assert.deepEqual(r.events, ['begin', 'head ||200|Fine|Transfer-Encoding|chunked', 'body abc', 'done T|1']);
});

test('errors carry llhttp name, reason and offset', () => {
  const r = recorder();
  const p = new LlhttpParser(TYPE_REQUEST, r.h, 1 << 16);
  const ret = p.execute(Buffer.from('G@T / HTTP/1.1\r\n\r\n'));
  assert.notEqual(ret, ERR_OK);
  assert.equal(p.errorName, 'HPE_INVALID_METHOD');
  assert.ok(p.errorReason.length > 0);
  assert.equal(p.errorOffset, 1);
  p.destroy();
  p.destroy();
});

test('many parsers share one instance and a large input grows the buffer', () => {
  const parsers = Array.from({ length: 50 }, () => new LlhttpParser(TYPE_REQUEST, recorder().h, 1 << 20));
  const big = Buffer.from(`POST / HTTP/1.1\r\nContent-Length: 200000\r\n\r\n${'x'.repeat(200000)}`);
  for (const p of parsers) assert.equal(p.execute(big), ERR_OK);
  for (const p of parsers) p.destroy();
});

test('interned header strings: values that differ in one byte, or only past a 4-byte word, never come back as each other', () => {
  // Span strings up to 48 bytes come from a direct-mapped cache compared 4 bytes at a time; every value here
  // shares its length and most bytes with others (as Date or request-id values do), across all byte values.
  const got: string[] = [];
  const p = new LlhttpParser(TYPE_RESPONSE, {
    onMessageBegin: () => undefined,
    onHeadersComplete: (head) => {
      got.push(...head.headers, head.reason);
      return 1;
    },
    onBody: () => undefined,
    onMessageComplete: () => 0,
  }, 1 << 16);
  const want: string[] = [];
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let m = 0; m < 3000; m++) {
    const len = 1 + rnd(48);
    const base = Array.from({ length: len }, (_, i) => String.fromCharCode(0x41 + ((i * 7) % 26)));
    const v = [...base];
    const b = 0x21 + rnd(0xff - 0x21 - 1); // one byte anywhere: visible ASCII or obs-text (0x80-0xff), not DEL
    v[rnd(len)] = String.fromCharCode(b >= 0x7f ? b + 1 : b);
    const value = v.join('').replace(/^\s+|\s+$/g, '');
    const reason = m % 3 === 0 ? 'OK' : `R${base.slice(0, 1 + rnd(len)).join('')}`;
    const name = `X-${base.slice(0, 1 + (m % len)).join('')}`;
    const msg = Buffer.from(`HTTP/1.1 200 ${reason}\r\n${name}: ${value}\r\nX: ${base.join('')}\r\n\r\n`, 'latin1');
    want.push(name, value, 'X', base.join(''), reason);
    assert.equal(p.execute(msg), ERR_OK);
  }
  p.destroy();
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`string ${i}: got ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`);
});
