/** Gaps, resync and parse errors: raw HTTP/1.x bytes (TCP payload) with onGap() between them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, meta, req, res } from './helpers';

test('gap inside a Content-Length body: body partial, the rest skipped by count, next exchange intact', () => {
  const h = harness();
  h.send(0, req('GET', '/1') + req('GET', '/2'));
  // Response 1 has a 20-byte body; 5 bytes arrive, 8 are lost, 7 arrive, then response 2 in the same segment.
  h.send(1, res(200, 'OK', ['Content-Length: 20'], 'AAAAA'));
  h.sink.onGap(1, 8, 1_000_100, true);
  h.send(1, Buffer.concat([Buffer.from('BBBBBBB'), res(200, 'OK', ['Content-Length: 3'], 'two')]));
  assert.equal(h.out.length, 2);
  const [a, b] = h.out;
  assert.equal(a.response?.body.toString(), 'AAAAA');
  assert.equal(a.completeness.responseBodyPartial, true);
  assert.equal(a.completeness.responseGapBytes, 8);
  assert.equal(a.completeness.truncated, true);
  assert.equal(a.completeness.parseError, '');
  assert.equal(b.request?.url, '/2');
  assert.equal(b.response?.body.toString(), 'two');
  assert.equal(b.completeness.responseBodyPartial, false);
  assert.equal(b.completeness.responseGapBytes, 0);
  assert.equal(b.completeness.truncated, false);
  assert.equal(h.counters.get('http_body_bytes_skipped_after_gap'), 7);
  assert.equal(h.counters.get('http_resync_skipped_bytes'), 0);
});

test('gap that ends exactly at the body end: the next message parses without resync', () => {
  const h = harness();
  h.send(0, req('POST', '/u', ['Content-Length: 10'], 'abcd'));
  h.sink.onGap(0, 6, 5, false);
  h.send(0, req('GET', '/after'));
  h.send(1, Buffer.concat([res(200, 'OK', ['Content-Length: 0']), res(200, 'OK', ['Content-Length: 0'])]));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].request?.body.toString(), 'abcd');
  assert.equal(h.out[0].completeness.requestBodyPartial, true);
  assert.equal(h.out[0].completeness.requestGapBytes, 6);
  assert.equal(h.out[1].request?.url, '/after');
});

test('gap running past the body end: resync at the next request line', () => {
  const h = harness();
  h.send(0, req('POST', '/u', ['Content-Length: 10'], 'abcd'));
  h.sink.onGap(0, 30, 5, false);
  h.send(0, 'tail-of-lost-request\r\n' + req('GET', '/found'));
  h.send(1, Buffer.concat([res(200, 'OK', ['Content-Length: 0']), res(200, 'OK', ['Content-Length: 0'])]));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].completeness.requestGapBytes, 6);
  assert.equal(h.out[1].request?.url, '/found');
  assert.equal(h.counters.get('http_gap_bytes_unattributed'), 24);
  assert.equal(h.counters.get('http_resync_skipped_bytes'), 'tail-of-lost-request\r\n'.length);
});

test('gap in the headers: the message is flagged and emitted, the direction resyncs', () => {
  const h = harness();
  h.send(0, 'GET /cut HTTP/1.1\r\nHost: a\r\nX-Par');
  h.sink.onGap(0, 40, 7, false);
  h.send(0, 'lost-header-tail\r\n\r\n' + req('GET', '/next'));
  h.send(1, Buffer.concat([res(500, 'Err', ['Content-Length: 0']), res(200, 'OK', ['Content-Length: 1'], 'n')]));
  assert.equal(h.out.length, 2);
  const [a, b] = h.out;
  assert.equal(a.request?.url, '/cut');
  assert.equal(a.request?.method, 'GET');
  assert.equal(a.completeness.requestGapBytes, 40);
  assert.equal(a.response?.status, 500);
  assert.equal(b.request?.url, '/next');
  assert.equal(b.response?.body.toString(), 'n');
});

test('gap inside a chunked body: partial, resync to the next status line', () => {
  const h = harness();
  h.send(0, req('GET', '/1') + req('GET', '/2'));
  h.send(1, res(200, 'OK', ['Transfer-Encoding: chunked'], '5\r\nhello\r\n8\r\nwor'));
  h.sink.onGap(1, 3, 9, false);
  h.send(1, 'ld!\r\n0\r\n\r\n');
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'ok'));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].response?.body.toString(), 'hellowor');
  assert.equal(h.out[0].completeness.responseBodyPartial, true);
  assert.equal(h.out[0].completeness.responseGapBytes, 3);
  assert.equal(h.out[1].response?.body.toString(), 'ok');
});

test('gap in a close-delimited body: the body continues to FIN, flagged partial', () => {
  const h = harness();
  h.send(0, 'GET / HTTP/1.0\r\n\r\n');
  h.send(1, 'HTTP/1.0 200 OK\r\n\r\nfirst ');
  h.sink.onGap(1, 100, 3, false);
  h.send(1, 'last');
  h.sink.onEnd(1, 'fin', 4);
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].response?.body.toString(), 'first last');
  assert.equal(h.out[0].completeness.responseGapBytes, 100);
  assert.equal(h.out[0].completeness.responseBodyPartial, true);
});

test('garbage then a valid request: parse error counted, the request parses', () => {
  const h = harness();
  h.send(0, '\x16\x03\x01garbage that is not http\r\n' + req('GET', '/ok'));
  h.send(1, res(200, 'OK', ['Content-Length: 0']));
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].request?.url, '/ok');
  assert.equal(h.out[0].completeness.parseError, '');
  assert.equal(h.counters.get('http_parse_error_invalid_method'), 1);
  assert.ok(h.counters.get('http_resync_skipped_bytes') > 20);
});

test('parse error inside a started message is recorded on its exchange', () => {
  const h = harness();
  h.send(0, req('GET', '/a'));
  h.send(1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nbad chunk\r\n');
  h.send(0, req('GET', '/b'));
  h.send(1, res(200, 'OK', ['Content-Length: 1'], 'b'));
  assert.equal(h.out.length, 2);
  assert.match(h.out[0].completeness.parseError, /^HPE_INVALID_CHUNK_SIZE: /);
  assert.equal(h.out[0].completeness.responseBodyPartial, true);
  assert.equal(h.out[1].request?.url, '/b');
  assert.equal(h.out[1].response?.body.toString(), 'b');
  assert.equal(h.counters.get('http_parse_error_invalid_chunk_size'), 1);
});

test('head over maxHeaderBytes is a parse error for that message, the next one parses', () => {
  const h = harness(meta(), { maxHeaderBytes: 200 });
  h.send(0, req('GET', '/big', [`X-Big: ${'x'.repeat(300)}`]) + req('GET', '/small'));
  h.send(1, Buffer.concat([res(431, 'Too Large', ['Content-Length: 0']), res(200, 'OK', ['Content-Length: 0'])]));
  assert.equal(h.out.length, 2);
  assert.match(h.out[0].completeness.parseError, /^HPE_HEADER_OVERFLOW: /);
  assert.equal(h.out[0].request?.url, '/big');
  assert.equal(h.out[1].request?.url, '/small');
  assert.equal(h.counters.get('http_parse_error_header_overflow'), 1);
});

test('a gap before the roles are known starts that direction in resync', () => {
  const h = harness(meta({ initiatorKnown: false }));
  h.sink.onGap(0, 50, 1, false);
  h.send(0, 'x\r\n' + req('GET', '/r'));
  h.send(1, res(200, 'OK', ['Content-Length: 0']));
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].request?.url, '/r');
  assert.equal(h.counters.get('http_gap_bytes'), 50);
});

test('the pending-request queue is bounded (one-way capture)', () => {
  const h = harness(meta(), { maxPendingExchanges: 4 });
  for (let i = 0; i < 10; i++) h.send(0, req('GET', `/${i}`));
  assert.equal(h.out.length, 6);
  assert.equal(h.out[0].request?.url, '/0');
  assert.equal(h.out[0].completeness.closeReason, 'queue_full');
  h.sink.onClose('end_of_input', 9);
  assert.equal(h.out.length, 10);
  assert.deepEqual(
    h.out.map((e) => e.index),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(h.out[9].completeness.closeReason, 'end_of_input');
});

test('a response head cut by the mirror: the next responses are found at their segment starts (JSON bodies end without a newline)', () => {
  // Each message in its own segment, as a keep-alive server writes them; round 0's head loses its last 5 bytes
  // (the session's packet length), so its body segment is skipped and resync must begin at the next segment.
  const h = harness();
  for (let i = 0; i < 4; i++) h.send(0, req('GET', `/item/${i}`));
  const head = (i: number): string => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${`{"item":${i}}`.length}\r\n\r\n`;
  const first = head(0);
  h.send(1, first.slice(0, first.length - 5));
  h.sink.onGap(1, 5, 9, true);
  h.send(1, '{"item":0}');
  for (let i = 1; i < 4; i++) {
    h.send(1, head(i));
    h.send(1, `{"item":${i}}`);
  }
  h.sink.onClose('fin', 99);
  assert.deepEqual(h.out.map((e) => [e.request?.url, e.response?.status, e.response?.body.toString() ?? '']), [
    ['/item/0', 200, ''],
    ['/item/1', 200, '{"item":1}'],
    ['/item/2', 200, '{"item":2}'],
    ['/item/3', 200, '{"item":3}'],
  ]);
  assert.equal(h.out[0].completeness.responseGapBytes, 5);
  for (const e of h.out.slice(1)) assert.equal(e.completeness.responseMissing, false);
  assert.equal(h.counters.get('http_response_missing'), 0);
});

test('a request head lost whole: the next requests are found at their segment starts (JSON bodies end without a newline)', () => {
  const h = harness();
  const post = (i: number): [string, string] => {
    const body = `{"n":${i}}`;
    return [`POST /p/${i} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body];
  };
  const [head0, body0] = post(0);
  h.sink.onGap(0, head0.length, 9, false);
  h.send(0, body0);
  for (let i = 1; i < 4; i++) {
    const [hd, bd] = post(i);
    h.send(0, hd);
    h.send(0, bd);
  }
  h.sink.onClose('fin', 99);
  const urls = h.out.filter((e) => e.request !== undefined).map((e) => [e.request?.url, e.request?.body.toString()]);
  assert.deepEqual(urls, [['/p/1', '{"n":1}'], ['/p/2', '{"n":2}'], ['/p/3', '{"n":3}']]);
});

test('a request line llhttp rejects (unknown method) is reported once and parsing goes on, in one chunk or two', () => {
  for (const chunks of [['CCM_POST /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n'], ['CCM_POST /a HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n']]) {
    const h = harness();
    for (const c of chunks) h.send(0, c);
    h.send(1, Buffer.concat([res(405, 'No', ['Content-Length: 0']), res(200, 'OK', ['Content-Length: 1'], 'b')]));
    h.sink.onClose('fin', 99);
    assert.deepEqual(h.out.map((e) => [e.request?.url, e.response?.status]), [['/a', 405], ['/b', 200]], JSON.stringify(chunks));
  }
});

test('a response whose head was lost between two messages: its request is emitted as answered-but-lost, the next response pairs with the next request', () => {
  const h = harness();
  h.send(0, req('GET', '/gh1'));
  const first = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n0123456789';
  h.sink.onGap(1, 40, 9, false); // the status line and part of the headers
  h.send(1, first.slice(40));
  h.send(0, req('GET', '/gh2'));
  h.send(1, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter');
  h.sink.onClose('fin', 99);
  assert.deepEqual(h.out.map((e) => [e.request?.url, e.response?.status ?? 0, e.response?.body.toString() ?? '', e.completeness.closeReason]), [
    ['/gh1', 0, '', 'response_lost'],
    ['/gh2', 200, 'after', ''],
  ]);
  assert.equal(h.counters.get('http_responses_lost_inferred'), 1);
});

test('a cut response is not charged to a request sent after the client had it (loss in both directions)', () => {
  const h = harness();
  const one = req('GET', '/one');
  h.sink.onGap(0, one.length, 9, false); // the request is lost
  const first = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\none\n';
  h.sink.onGap(1, 40, 9, false); // and its response's head
  h.send(1, first.slice(40));
  h.sink.onPeerAck!(0, first.length); // /two is sent once the client has all of that response
  h.send(0, req('GET', '/two'));
  h.send(1, 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntwo!');
  h.sink.onClose('fin', 99);
  const two = h.out.find((e) => e.request?.url === '/two');
  assert.equal(two?.response?.body.toString(), 'two!', JSON.stringify(h.out.map((e) => [e.request?.url, e.response?.status, e.completeness])));
  assert.equal(h.counters.get('http_responses_lost_inferred'), 0);
});
