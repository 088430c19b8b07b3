/** The start-line scanner used after gaps and parse errors (raw HTTP/1.x bytes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StartLineScanner } from '../../../src/http/resync';

test('request side: finds a request line at a line start, counting skipped bytes', () => {
  const s = new StartLineScanner(true);
  s.reset(false);
  const found = s.scan(Buffer.from('xx GET / HTTP/1.1\r\nGET /real HTTP/1.1\r\nHost: a\r\n\r\n'));
  assert.equal(found?.toString().split('\r\n')[0], 'GET /real HTTP/1.1');
  assert.equal(s.skipped, 19);
});

test('an incomplete candidate line is held across chunks', () => {
  const s = new StartLineScanner(true);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('junk\r\nPOST /a HT')), null);
  assert.equal(s.skipped, 6);
  assert.equal(s.held, 10);
  const found = s.scan(Buffer.from('TP/1.0\r\n\r\n'));
  assert.equal(found?.toString(), 'POST /a HTTP/1.0\r\n\r\n');
  assert.equal(s.skipped, 0);
});

test('response side: status line with or without reason; not HTTP/2 or lowercase', () => {
  const s = new StartLineScanner(false);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('HTTP/2 200 OK\r\nhttp/1.1 200 OK\r\n')), null);
  assert.equal(s.scan(Buffer.from('HTTP/1.1 204\r\n\r\n'))?.toString(), 'HTTP/1.1 204\r\n\r\n');
});

test('lines longer than maxLine are never held', () => {
  const s = new StartLineScanner(true, 16);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')), null);
  assert.equal(s.held, 0);
});

test('the first byte of a chunk is a candidate: a body without a final newline, then the next response in the next segment', () => {
  const s = new StartLineScanner(false);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('{"item":0}')), null);
  assert.equal(s.skipped, 10);
  const found = s.scan(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"item":1}'));
  assert.equal(found?.toString().split('\r\n')[0], 'HTTP/1.1 200 OK');
  assert.equal(s.skipped, 0);
});

test('a held line that is no start line: the next chunk may still begin one', () => {
  const s = new StartLineScanner(false);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('text\nHel')), null);
  assert.equal(s.held, 3);
  const found = s.scan(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
  assert.equal(found?.toString(), 'HTTP/1.1 204 No Content\r\n\r\n');
  assert.equal(s.skipped, 3, 'the held bytes are skipped');
});

test('inside a chunk only line starts are candidates (a start line right after a body in the same segment is not found)', () => {
  const s = new StartLineScanner(false);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('{"a":1}HTTP/1.1 200 OK\r\n\r\n')), null);
  const req = new StartLineScanner(true);
  req.reset(true);
  assert.equal(req.scan(Buffer.from('x=1GET / HTTP/1.1\r\n')), null);
  assert.equal(req.scan(Buffer.from('GET /b HTTP/1.1\r\n'))?.toString(), 'GET /b HTTP/1.1\r\n');
});

test('after a parse error the rest of the failed line is no candidate, even when it looks like a start line', () => {
  // llhttp rejected "CCM_POST ..." at its first byte: handing the same bytes back would fail forever.
  const s = new StartLineScanner(true);
  s.reset(false);
  const found = s.scan(Buffer.from('CCM_POST /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n'));
  assert.equal(found?.toString().split('\r\n')[0], 'GET /b HTTP/1.1');
  // The next chunk's first byte is a candidate again.
  s.reset(false);
  assert.equal(s.scan(Buffer.from('CCM_POST /a HTTP/1.1')), null);
  assert.equal(s.scan(Buffer.from('GET /c HTTP/1.1\r\n'))?.toString(), 'GET /c HTTP/1.1\r\n');
});

test('a start line split across segments after a held line that is no start line is still found', () => {
  const s = new StartLineScanner(false);
  s.reset(true);
  assert.equal(s.scan(Buffer.from('Hello')), null);
  assert.equal(s.scan(Buffer.from('HTTP/1.1 200 OK')), null);
  const found = s.scan(Buffer.from('\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(found?.toString().split('\r\n')[0], 'HTTP/1.1 200 OK');
  assert.equal(s.skipped, 5);
});
