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
