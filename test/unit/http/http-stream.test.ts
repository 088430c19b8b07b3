/**
 * HttpStream framing and pairing, fed with raw HTTP/1.x bytes (the TCP payload layer:
 * Ethernet[IPv4[TCP[HTTP]]] with the lower layers already removed by the reassembler).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, meta, req, res, view, viewNoTime } from './helpers';

test('keep-alive: two sequential exchanges with headers in order and original case', () => {
  const h = harness();
  h.send(0, req('GET', '/a?x=1', ['X-Trace: AbC']), 10);
  h.send(1, res(200, 'OK', ['Content-Length: 5', 'Content-Type: text/plain'], 'hello'), 20);
  h.send(0, req('POST', '/b', ['Content-Length: 3'], 'abc'), 30);
  h.send(1, res(201, 'Created', ['content-length: 0']), 40);
  h.sink.onClose('fin', 50);
  assert.equal(h.out.length, 2);
  const [a, b] = h.out;
  assert.equal(a.index, 0);
  assert.equal(b.index, 1);
  assert.equal(a.request?.method, 'GET');
  assert.equal(a.request?.url, '/a?x=1');
  assert.equal(a.request?.httpVersion, '1.1');
  assert.deepEqual(a.request?.headers, [
    { name: 'Host', value: 'example.test' },
    { name: 'X-Trace', value: 'AbC' },
  ]);
  assert.equal(a.response?.status, 200);
  assert.equal(a.response?.reason, 'OK');
  assert.equal(a.response?.body.toString(), 'hello');
  assert.equal(a.response?.wireBodySize, 5);
  assert.equal(a.request?.startMicros, 10);
  assert.equal(a.response?.startMicros, 20);
  assert.equal(a.response?.endMicros, 20);
  assert.equal(b.request?.body.toString(), 'abc');
  assert.equal(b.response?.status, 201);
  assert.deepEqual(a.connection.client, { ip: '10.0.0.1', port: 51000 });
  assert.deepEqual(a.connection.server, { ip: '10.0.0.2', port: 80 });
  assert.equal(a.connection.source, 'file:test.pcap');
  assert.equal(a.connection.vni, undefined);
  for (const ex of h.out) {
    assert.equal(ex.completeness.requestMissing, false);
    assert.equal(ex.completeness.responseMissing, false);
    assert.equal(ex.completeness.parseError, '');
    assert.equal(ex.completeness.closeReason, '');
  }
  assert.equal(h.counters.get('http_exchanges'), 2);
});

test('pipelining: three requests in one segment pair with responses in order', () => {
  const h = harness();
  h.send(0, req('GET', '/1') + req('GET', '/2') + req('GET', '/3'));
  h.send(1, Buffer.concat([res(200, 'OK', ['Content-Length: 1'], 'a'), res(404, 'Not Found', ['Content-Length: 1'], 'b')]));
  h.send(1, res(200, 'OK', ['Content-Length: 1'], 'c'));
  assert.deepEqual(
    h.out.map((e) => [e.request?.url, e.response?.status, e.response?.body.toString()]),
    [
      ['/1', 200, 'a'],
      ['/2', 404, 'b'],
      ['/3', 200, 'c'],
    ],
  );
});

test('a response split at every byte position gives the same exchange', () => {
  const request = req('GET', '/split', ['Accept: */*']);
  const response = Buffer.concat([
    res(200, 'OK', ['Transfer-Encoding: chunked', 'X-Long-Header-Name: some value here']),
    Buffer.from('4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nX-Trailer: t\r\n\r\n'),
    res(204, 'No Content', ['Server: x']),
  ]);
  const whole = harness();
  whole.send(0, request);
  whole.send(1, response);
  whole.sink.onClose('fin', 1e7);
  assert.equal(whole.out.length, 2);
  assert.equal(whole.out[0].response?.body.toString(), 'Wikipedia ');
  const expected = viewNoTime(whole.out);
  for (let i = 1; i < response.length; i++) {
    for (const j of [i, Math.min(response.length - 1, i + 7)]) {
      const h = harness();
      h.send(0, request);
      h.send(1, response.subarray(0, i));
      if (j > i) h.send(1, response.subarray(i, j));
      h.send(1, response.subarray(j));
      h.sink.onClose('fin', 1e7);
      assert.deepEqual(viewNoTime(h.out), expected, `split at ${i}/${j}`);
    }
  }
});

test('a request split at every byte position (URL, names and values split across executes)', () => {
  const request = Buffer.from(req('PUT', '/some/long/path?query=value', ['Content-Length: 4', 'X-A: bb'], 'body'));
  const whole = harness();
  whole.send(0, request);
  whole.send(1, res(200, 'OK', ['Content-Length: 0']));
  const expected = viewNoTime(whole.out);
  for (let i = 1; i < request.length; i++) {
    const h = harness();
    h.send(0, request.subarray(0, i));
    h.send(0, request.subarray(i));
    h.send(1, res(200, 'OK', ['Content-Length: 0']));
    assert.deepEqual(viewNoTime(h.out), expected, `split at ${i}`);
  }
});

test('chunked body: framing removed, trailers kept, wireBodySize is the de-chunked size', () => {
  const h = harness();
  h.send(0, req('GET', '/c'));
  h.send(1, res(200, 'OK', ['Transfer-Encoding: chunked', 'Trailer: X-Checksum'], '3\r\nabc\r\n5\r\ndefgh\r\n0\r\nX-Checksum: 42\r\n\r\n'));
  assert.equal(h.out.length, 1);
  const r = h.out[0].response;
  assert.equal(r?.body.toString(), 'abcdefgh');
  assert.equal(r?.wireBodySize, 8);
  assert.deepEqual(r?.trailers, [{ name: 'X-Checksum', value: '42' }]);
});

test('HEAD response with Content-Length has no body; the next response parses', () => {
  const h = harness();
  h.send(0, req('HEAD', '/h') + req('GET', '/g'));
  h.send(1, Buffer.concat([res(200, 'OK', ['Content-Length: 1000']), res(200, 'OK', ['Content-Length: 2'], 'ok')]));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].response?.body.length, 0);
  assert.equal(h.out[0].response?.headers[0].value, '1000');
  assert.equal(h.out[1].response?.body.toString(), 'ok');
});

test('204 and 304 have no body even with framing headers', () => {
  const h = harness();
  h.send(0, req('DELETE', '/x') + req('GET', '/y', ['If-None-Match: "e"']) + req('GET', '/z'));
  h.send(
    1,
    Buffer.concat([
      res(204, 'No Content'),
      res(304, 'Not Modified', ['Content-Length: 99', 'ETag: "e"']),
      res(200, 'OK', ['Content-Length: 3'], 'zzz'),
    ]),
  );
  assert.deepEqual(
    h.out.map((e) => [e.response?.status, e.response?.body.toString()]),
    [
      [204, ''],
      [304, ''],
      [200, 'zzz'],
    ],
  );
});

test('100-continue: the interim response is skipped, the early response pairs with the POST', () => {
  const h = harness();
  h.send(0, req('POST', '/upload', ['Content-Length: 6', 'Expect: 100-continue']), 1);
  h.send(1, res(100, 'Continue'), 2);
  h.send(0, 'abc', 3);
  h.send(1, res(103, 'Early Hints', ['Link: </s.css>; rel=preload']), 4);
  h.send(0, 'def', 5);
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'ok'), 6);
  assert.equal(h.out.length, 1);
  const ex = h.out[0];
  assert.equal(ex.request?.body.toString(), 'abcdef');
  assert.equal(ex.request?.endMicros, 5);
  assert.equal(ex.response?.status, 200);
  assert.equal(ex.response?.startMicros, 6);
  assert.equal(h.counters.get('http_interim_responses'), 2);
});

test('a final response arriving before the request body ends still pairs (early 413)', () => {
  const h = harness();
  h.send(0, req('POST', '/big', ['Content-Length: 10'], 'abc'));
  h.send(1, res(413, 'Payload Too Large', ['Content-Length: 0']));
  assert.equal(h.out.length, 0);
  h.send(0, 'defghij');
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].request?.body.toString(), 'abcdefghij');
  assert.equal(h.out[0].response?.status, 413);
});

test('close-delimited response body ends at FIN', () => {
  const h = harness();
  h.send(0, 'GET /old HTTP/1.0\r\n\r\n');
  h.send(1, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart one ');
  h.send(1, 'part two');
  assert.equal(h.out.length, 0);
  h.sink.onEnd(1, 'fin', 99);
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].response?.body.toString(), 'part one part two');
  assert.equal(h.out[0].response?.httpVersion, '1.0');
  assert.equal(h.out[0].response?.endMicros, 99);
  assert.equal(h.out[0].completeness.responseBodyPartial, false);
  h.sink.onClose('fin', 100);
  assert.equal(h.out.length, 1);
});

test('response without request is emitted with requestMissing', () => {
  const h = harness();
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'hi'));
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].completeness.requestMissing, true);
  assert.equal(h.out[0].request, undefined);
  assert.equal(h.out[0].response?.body.toString(), 'hi');
  assert.equal(h.counters.get('http_request_missing'), 1);
});

test('request without response is emitted at close with responseMissing and the close reason', () => {
  const h = harness();
  h.send(0, req('GET', '/a'));
  h.send(1, res(200, 'OK', ['Content-Length: 0']));
  h.send(0, req('GET', '/lost'));
  assert.equal(h.out.length, 1);
  h.sink.onClose('idle_timeout', 500);
  assert.equal(h.out.length, 2);
  const ex = h.out[1];
  assert.equal(ex.request?.url, '/lost');
  assert.equal(ex.completeness.responseMissing, true);
  assert.equal(ex.completeness.closeReason, 'idle_timeout');
  assert.equal(ex.index, 1);
  // Nothing after close.
  h.send(1, res(200, 'OK', ['Content-Length: 0']));
  assert.equal(h.out.length, 2);
});

test('a request cut by the end of its direction is emitted once, body partial', () => {
  const h = harness();
  h.send(0, req('POST', '/p', ['Content-Length: 100'], 'only-part'));
  h.sink.onEnd(0, 'rst', 5);
  h.sink.onClose('rst', 6);
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].request?.body.toString(), 'only-part');
  assert.equal(h.out[0].completeness.requestBodyPartial, true);
  assert.equal(h.out[0].completeness.responseMissing, true);
  assert.equal(h.out[0].completeness.closeReason, 'rst');
});

test('without the SYN, roles come from the first bytes (the response direction sends first)', () => {
  const m = meta({
    initiatorKnown: false,
    midStream: true,
    ends: [
      { ip: '10.0.0.2', port: 8080 },
      { ip: '10.0.0.1', port: 40000 },
    ],
    vni: 42,
  });
  const h = harness(m);
  h.send(0, res(200, 'OK', ['Content-Length: 1'], 'x'));
  h.send(1, req('GET', '/next'));
  h.send(0, res(200, 'OK', ['Content-Length: 1'], 'y'));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].completeness.requestMissing, true);
  assert.equal(h.out[0].completeness.midStream, true);
  assert.deepEqual(h.out[1].connection.client, { ip: '10.0.0.1', port: 40000 });
  assert.deepEqual(h.out[1].connection.server, { ip: '10.0.0.2', port: 8080 });
  assert.equal(h.out[1].connection.vni, 42);
  assert.equal(h.out[1].request?.url, '/next');
  assert.equal(h.out[1].response?.body.toString(), 'y');
});

test('mid-stream pickup inside a response body resyncs at the next status line', () => {
  const m = meta({ initiatorKnown: false, midStream: true });
  const h = harness(m);
  h.send(1, 'tail of an earlier body\r\nmore\r\n');
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'ok'));
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].response?.body.toString(), 'ok');
  assert.equal(h.counters.get('http_resync_skipped_bytes'), 'tail of an earlier body\r\nmore\r\n'.length);
});

test('JSON view of a simple exchange is stable', () => {
  const h = harness();
  h.send(0, req('GET', '/'), 1);
  h.send(1, res(200, 'OK', ['Content-Length: 0']), 2);
  const v = view(h.out) as { completeness: Record<string, unknown> }[];
  assert.deepEqual(v[0].completeness, {
    requestMissing: false,
    responseMissing: false,
    requestGapBytes: 0,
    responseGapBytes: 0,
    requestBodyPartial: false,
    responseBodyPartial: false,
    truncated: false,
    midStream: false,
    parseError: '',
    decodeError: '',
    bodyCapped: false,
    closeReason: '',
    pairingUncertain: false,
  });
});

test('a response lost whole in plain keep-alive: the client ACKs show it, the next response pairs with its own request', () => {
  const r1 = res(200, 'OK', ['Content-Length: 2'], 'r1');
  const r2 = res(200, 'OK', ['Content-Length: 2'], 'r2');
  const r3 = res(200, 'OK', ['Content-Length: 2'], 'r3');
  const h = harness();
  h.sink.onPeerAck?.(0, 0);
  h.send(0, req('GET', '/1'), 1);
  h.send(1, r1, 2);
  h.sink.onPeerAck?.(0, r1.length); // the client had read /1's response before asking /2
  h.send(0, req('GET', '/2'), 3);
  h.sink.onGap(1, r2.length, 4, false); // /2's response never reached the capture
  h.sink.onPeerAck?.(0, r1.length + r2.length); // ... but the client had it before asking /3
  h.send(0, req('GET', '/3'), 5);
  h.send(1, r3, 6);
  h.sink.onPeerAck?.(0, r1.length + r2.length + r3.length);
  h.send(0, req('GET', '/4'), 7);
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'r4'), 8);
  h.sink.onClose('end_of_input', 9);
  const byUrl = new Map(h.out.map((e) => [e.request?.url, e]));
  assert.equal(byUrl.get('/1')?.response?.body.toString(), 'r1');
  assert.equal(byUrl.get('/2')?.response, undefined);
  assert.equal(byUrl.get('/2')?.completeness.responseMissing, true);
  assert.equal(byUrl.get('/2')?.completeness.closeReason, 'response_lost');
  assert.equal(byUrl.get('/3')?.response?.body.toString(), 'r3', 'paired with its own request, not with /2');
  assert.equal(byUrl.get('/4')?.response?.body.toString(), 'r4');
  assert.equal(byUrl.get('/4')?.completeness.pairingUncertain, false, 'the queue lines up again');
  assert.equal(h.counters.get('http_responses_lost_inferred'), 1);
});

test('pipelined requests: only ACK steps between waiting requests count as lost responses', () => {
  const r1 = res(200, 'OK', ['Content-Length: 2'], 'r1');
  // /1 and /2 pipelined (same ACK); /1's response lost; /3 sent after the client read it.
  const h = harness();
  h.sink.onPeerAck?.(0, 0);
  h.send(0, req('GET', '/1') + req('GET', '/2'), 1);
  h.sink.onGap(1, r1.length, 2, false);
  h.sink.onPeerAck?.(0, r1.length);
  h.send(0, req('GET', '/3'), 3);
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'r2'), 4);
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'r3'), 5);
  h.sink.onClose('end_of_input', 6);
  const byUrl = new Map(h.out.map((e) => [e.request?.url, e]));
  assert.equal(byUrl.get('/1')?.completeness.closeReason, 'response_lost');
  assert.equal(byUrl.get('/2')?.response?.body.toString(), 'r2');
  assert.equal(byUrl.get('/3')?.response?.body.toString(), 'r3');
  // Without any ACK step (all three pipelined before any response), nothing is inferred: flagged as before.
  const g = harness();
  g.sink.onPeerAck?.(0, 0);
  g.send(0, req('GET', '/1') + req('GET', '/2') + req('GET', '/3'), 1);
  g.sink.onGap(1, r1.length, 2, false);
  g.send(1, res(200, 'OK', ['Content-Length: 2'], 'r2'), 3);
  g.sink.onClose('end_of_input', 4);
  assert.equal(g.counters.get('http_responses_lost_inferred'), 0);
  assert.equal(new Map(g.out.map((e) => [e.request?.url, e])).get('/1')?.completeness.pairingUncertain, true);
});

test('one gap cutting the end of a response of known length and all of the next: the next is inferred lost', () => {
  const r1 = res(200, 'OK', ['Content-Length: 10'], '0123456789');
  const r2 = res(200, 'OK', ['Content-Length: 2'], 'r2');
  const h = harness();
  h.sink.onPeerAck?.(0, 0);
  h.send(0, req('GET', '/1'), 1);
  h.send(1, r1.subarray(0, r1.length - 5), 2);
  h.sink.onPeerAck?.(0, r1.length);
  h.send(0, req('GET', '/2'), 3);
  h.sink.onGap(1, 5 + r2.length, 4, false);
  h.sink.onPeerAck?.(0, r1.length + r2.length);
  h.send(0, req('GET', '/3'), 5);
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'r3'), 6);
  h.sink.onClose('end_of_input', 7);
  const byUrl = new Map(h.out.map((e) => [e.request?.url, e]));
  assert.equal(byUrl.get('/1')?.completeness.responseBodyPartial, true);
  assert.equal(byUrl.get('/2')?.completeness.closeReason, 'response_lost');
  assert.equal(byUrl.get('/3')?.response?.body.toString(), 'r3');
});

test('no response is inferred lost where none was (review cases): a head in two segments, a skipped tail, two ACK steps for one loss', () => {
  const pairs = (h: ReturnType<typeof harness>): string[] => {
    h.sink.onClose('end_of_input', 99);
    return h.out.map((e) => `${e.request?.url ?? '-'}=${e.response ? e.response.body.toString() : e.completeness.closeReason}`).sort();
  };
  const r1 = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n';
  // /1 and /2 pipelined; /1's last chunk lost; the client reads the first part of /2's response head, sends /3.
  const a = harness();
  a.sink.onPeerAck?.(0, 0);
  a.send(0, req('GET', '/1') + req('GET', '/2'), 1);
  a.send(1, r1, 2);
  a.sink.onGap(1, 5, 3, false);
  a.send(1, 'HTTP/1.1 200 OK\r\n', 4);
  a.sink.onPeerAck?.(0, r1.length + 5 + 17);
  a.send(0, req('GET', '/3'), 5);
  a.send(1, 'Content-Length: 2\r\n\r\nr2', 6);
  a.send(1, res(200, 'OK', ['Content-Length: 2'], 'r3'), 7);
  assert.deepEqual(pairs(a), ['/1=hello', '/2=r2', '/3=r3']);
  // The tail of a cut response arrives and is skipped by the resync; the client read it before sending /3.
  const b = harness();
  b.sink.onPeerAck?.(0, 0);
  b.send(0, req('GET', '/1') + req('GET', '/2'), 1);
  b.send(1, r1, 2);
  b.sink.onGap(1, 10, 3, false);
  b.send(1, 'world\r\n0\r\n\r\n', 4);
  b.sink.onPeerAck?.(0, r1.length + 10 + 12);
  b.send(0, req('GET', '/3'), 5);
  b.send(1, res(200, 'OK', ['Content-Length: 2'], 'r2'), 6);
  b.send(1, res(200, 'OK', ['Content-Length: 2'], 'r3'), 7);
  assert.deepEqual(pairs(b), ['/1=hello', '/2=r2', '/3=r3']);
  assert.equal(b.counters.get('http_responses_lost_inferred'), 0);
  // One lost response acknowledged in two steps by a pipelining client: one loss, not two.
  const c = harness();
  const lost = res(200, 'OK', ['Content-Length: 100'], 'x'.repeat(100));
  c.sink.onPeerAck?.(0, 0);
  c.send(0, req('GET', '/1'), 1);
  c.sink.onGap(1, lost.length, 2, false);
  c.sink.onPeerAck?.(0, 50);
  c.send(0, req('GET', '/2'), 3);
  c.sink.onPeerAck?.(0, lost.length);
  c.send(0, req('GET', '/3'), 4);
  c.send(1, res(200, 'OK', ['Content-Length: 2'], 'r2'), 5);
  c.send(1, res(200, 'OK', ['Content-Length: 2'], 'r3'), 6);
  assert.deepEqual(pairs(c), ['/1=response_lost', '/2=r2', '/3=r3']);
});

test('a gap that may hold whole responses flags every pairing made while requests are still waiting', () => {
  const h = harness();
  h.send(0, req('GET', '/1') + req('GET', '/2') + req('GET', '/3'), 1);
  h.send(1, res(200, 'OK', ['Content-Length: 1'], 'a'), 2);
  // The response to /2 is lost whole: the next response pairs with /2 although it answers /3.
  h.sink.onGap(1, res(200, 'OK', ['Content-Length: 1'], 'b').length, 3, false);
  h.send(1, res(200, 'OK', ['Content-Length: 1'], 'c'), 4);
  h.send(0, req('GET', '/4'), 5);
  h.send(1, res(200, 'OK', ['Content-Length: 1'], 'd'), 6);
  // Queue drained (/4 stays unanswered and is flushed at close); a later request pairs for sure again.
  h.sink.onClose('end_of_input', 7);
  const byUrl = new Map(h.out.map((e) => [e.request?.url, e]));
  assert.equal(byUrl.get('/1')?.completeness.pairingUncertain, false);
  assert.equal(byUrl.get('/2')?.completeness.pairingUncertain, true);
  assert.equal(byUrl.get('/2')?.response?.body.toString(), 'c');
  assert.equal(byUrl.get('/3')?.completeness.pairingUncertain, true);
  assert.equal(byUrl.get('/4')?.completeness.responseMissing, true);

  const g = harness();
  g.send(0, req('GET', '/1') + req('GET', '/2'), 1);
  g.sink.onGap(1, res(200, 'OK', ['Content-Length: 1'], 'a').length, 2, false);
  g.send(1, res(200, 'OK', ['Content-Length: 1'], 'b'), 3);
  // /2 is still waiting, so the flag stays; once nothing waits, the next pairing is certain.
  g.send(1, res(200, 'OK', ['Content-Length: 1'], 'c'), 4);
  g.send(0, req('GET', '/3'), 5);
  g.send(1, res(200, 'OK', ['Content-Length: 1'], 'd'), 6);
  g.sink.onClose('end_of_input', 7);
  const byUrl2 = new Map(g.out.map((e) => [e.request?.url, e]));
  assert.equal(byUrl2.get('/1')?.completeness.pairingUncertain, true);
  assert.equal(byUrl2.get('/2')?.completeness.pairingUncertain, true);
  assert.equal(byUrl2.get('/3')?.completeness.pairingUncertain, false);
  assert.equal(byUrl2.get('/3')?.response?.body.toString(), 'd');
});

test('leniency: bare-LF line endings and messages after "Connection: close" still parse', () => {
  const h = harness();
  h.send(0, 'GET /1 HTTP/1.0\r\n\r\n');
  h.send(1, 'HTTP/1.0 200 OK\nConnection: close\nContent-Length: 2\n\nok');
  h.send(0, 'GET /2 HTTP/1.0\r\n\r\n');
  h.send(1, 'HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\ntwo');
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].response?.body.toString(), 'ok');
  assert.deepEqual(h.out[0].response?.headers[0], { name: 'Connection', value: 'close' });
  assert.equal(h.out[1].request?.url, '/2');
  assert.equal(h.out[1].response?.body.toString(), 'two');
});

test('invalid options fail at creation', () => {
  assert.throws(() => harness(meta(), { maxBodyBytes: -1 }), RangeError);
});

test('a response without its request followed at once by another status line had no body (HEAD answered, request lost)', () => {
  const h = harness();
  // The HEAD request was not captured; its response announces 10 bytes that never come.
  h.send(1, Buffer.concat([res(200, 'OK', ['Content-Length: 10']), res(200, 'OK', ['Content-Length: 5'], 'hello')]));
  assert.equal(h.out.length, 2, JSON.stringify(view(h.out)));
  assert.equal(h.out[0].response?.body.length, 0);
  assert.equal(h.out[1].response?.body.toString(), 'hello');
  assert.equal(h.counters.get('http_response_bodiless_inferred'), 1);
});

test('the same decided on the next segment: a head that ends its segment, then a status line (Content-Length and chunked)', () => {
  for (const framing of ['Content-Length: 10', 'Transfer-Encoding: chunked']) {
    const h = harness();
    h.send(1, res(200, 'OK', [framing])); // nginx answers a HEAD with the head alone in one segment
    assert.equal(h.out.length, 0, 'not decidable yet');
    h.send(1, res(404, 'Not Found', ['Content-Length: 5'], 'gone!'));
    assert.equal(h.out.length, 2, `${framing}: ${JSON.stringify(view(h.out))}`);
    assert.equal(h.out[0].response?.status, 200);
    assert.equal(h.out[0].response?.body.length, 0);
    assert.equal(h.out[1].response?.status, 404);
    assert.equal(h.out[1].response?.body.toString(), 'gone!');
    assert.equal(h.counters.get('http_response_bodiless_inferred'), 1);
  }
});

test('decided on the next segment: the blank line split from the head; the end time stays that of the head', () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n';
  for (const [a, b] of [[head, '\r\n'], [head.slice(0, -1), '\n\r\n'], [head + '\r', '\n']]) {
    const h = harness();
    h.send(1, a, 1000);
    h.send(1, b, 1001);
    h.send(1, res(404, 'Not Found', ['Content-Length: 1'], 'x'), 60_000_000);
    assert.equal(h.out.length, 2, `${JSON.stringify([a, b])}: ${JSON.stringify(view(h.out))}`);
    assert.equal(h.out[0].response?.body.length, 0);
    assert.equal(h.out[0].response?.endMicros, 1001, 'ends with its head, not when the next response came');
    assert.equal(h.out[1].response?.status, 404);
    assert.equal(h.out[1].response?.body.toString(), 'x');
    assert.equal(h.counters.get('http_response_bodiless_inferred'), 1);
  }
  // The blank line split off, and the next response in the same segment: decided at once.
  const h = harness();
  h.send(1, head);
  h.send(1, Buffer.concat([Buffer.from('\r\n'), res(204, 'No Content', [])]));
  assert.equal(h.out.length, 2, JSON.stringify(view(h.out)));
  assert.equal(h.out[1].response?.status, 204);
});

test('a head that ends its segment keeps its body when the next segment is that body, or when the request was seen', () => {
  const h = harness();
  h.send(1, res(200, 'OK', ['Content-Length: 10']));
  h.send(1, Buffer.from('0123456789'));
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'hi'));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].response?.body.toString(), '0123456789');
  assert.equal(h.out[1].response?.body.toString(), 'hi');
  assert.equal(h.counters.get('http_response_bodiless_inferred'), 0);
  // Decided once: a later segment that starts like a status line, inside the body, stays body.
  const k = harness();
  k.send(1, res(200, 'OK', ['Content-Length: 25']));
  k.send(1, Buffer.from('abc'));
  k.send(1, Buffer.from('HTTP/1.1 200 OK\r\n\r\n...'));
  assert.equal(k.out.length, 1);
  assert.equal(k.out[0].response?.body.toString(), 'abcHTTP/1.1 200 OK\r\n\r\n...');
  // With its request seen, a body that arrives in the next segment and starts like a status line stays a body.
  const p = harness();
  p.send(0, req('GET', '/doc'));
  p.send(1, res(200, 'OK', ['Content-Length: 17']));
  p.send(1, Buffer.from('HTTP/1.1 200 OK\r\n'));
  assert.equal(p.out[0].response?.body.toString(), 'HTTP/1.1 200 OK\r\n');
  assert.equal(p.counters.get('http_response_bodiless_inferred'), 0);
});

test('without its request, a response whose body follows is kept whole (only a status line right after the head means no body)', () => {
  const h = harness();
  h.send(1, res(200, 'OK', ['Content-Length: 12'], 'HTTP/2 text!'));
  h.send(1, res(200, 'OK', ['Content-Length: 2'], 'hi'));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].response?.body.toString(), 'HTTP/2 text!');
  assert.equal(h.out[1].response?.body.toString(), 'hi');
  assert.equal(h.counters.get('http_response_bodiless_inferred'), 0);
  // With its request seen, a body that happens to start like a status line stays a body.
  const p = harness();
  p.send(0, req('GET', '/doc'));
  p.send(1, res(200, 'OK', ['Content-Length: 17'], 'HTTP/1.1 200 OK\r\n'));
  assert.equal(p.out[0].response?.body.toString(), 'HTTP/1.1 200 OK\r\n');
  assert.equal(p.counters.get('http_response_bodiless_inferred'), 0);
});
