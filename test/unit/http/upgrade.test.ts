/** 101 Switching Protocols and CONNECT: raw HTTP/1.1 bytes (TCP payload), then non-HTTP bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, req, res } from './helpers';

const WS_FRAME = Buffer.from('818548656c6c6f2a2b2c2d2e', 'hex');

test('101 Upgrade ends HTTP parsing; later bytes in both directions are only counted', () => {
  const h = harness();
  h.send(0, req('GET', '/chat', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']));
  h.send(1, Buffer.concat([res(101, 'Switching Protocols', ['Upgrade: websocket', 'Connection: Upgrade']), WS_FRAME]));
  h.send(0, WS_FRAME);
  h.send(1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  h.sink.onClose('fin', 1e7);
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].upgraded, true);
  assert.equal(h.out[0].response?.status, 101);
  assert.equal(h.out[0].completeness.responseMissing, false);
  assert.equal(h.counters.get('http_upgraded_bytes'), WS_FRAME.length * 2 + 38);
  assert.equal(h.counters.get('http_parse_error_invalid_method'), 0);
});

test('client bytes sent right after an Upgrade request are held until the response decides', () => {
  const h = harness();
  h.send(0, req('GET', '/chat', ['Upgrade: websocket', 'Connection: Upgrade']) + 'raw-frame-bytes');
  h.send(1, res(101, 'Switching Protocols', ['Upgrade: websocket', 'Connection: Upgrade']));
  h.sink.onClose('fin', 1e7);
  assert.equal(h.out.length, 1);
  assert.equal(h.out[0].upgraded, true);
  assert.equal(h.counters.get('http_upgraded_bytes'), 'raw-frame-bytes'.length);
});

test('a refused Upgrade (plain 200) keeps parsing the held pipelined request', () => {
  const h = harness();
  h.send(0, req('GET', '/u', ['Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__']) + req('GET', '/next'));
  h.send(1, Buffer.concat([res(200, 'OK', ['Content-Length: 1'], 'a'), res(200, 'OK', ['Content-Length: 1'], 'b')]));
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].upgraded, false);
  assert.equal(h.out[1].request?.url, '/next');
  assert.equal(h.out[1].response?.body.toString(), 'b');
});

test('CONNECT 200 switches to a tunnel; CONNECT 407 does not', () => {
  const h = harness();
  h.send(0, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
  h.send(1, res(407, 'Proxy Authentication Required', ['Content-Length: 4'], 'auth'));
  h.send(0, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\nProxy-Authorization: Basic eDp5\r\n\r\n');
  h.send(1, res(200, 'Connection established'));
  h.send(0, Buffer.from('160301020001', 'hex'));
  h.send(1, Buffer.from('160303007a02', 'hex'));
  h.sink.onClose('fin', 1e7);
  assert.equal(h.out.length, 2);
  assert.equal(h.out[0].response?.status, 407);
  assert.equal(h.out[0].response?.body.toString(), 'auth');
  assert.equal(h.out[0].upgraded, false);
  assert.equal(h.out[1].request?.method, 'CONNECT');
  assert.equal(h.out[1].request?.url, 'example.test:443');
  assert.equal(h.out[1].upgraded, true);
  assert.equal(h.counters.get('http_upgraded_bytes'), 12);
});
