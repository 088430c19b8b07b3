/**
 * The exchange's server address is the replay target, not personal data: the IPv4/IPv6 detectors keep it
 * (Host header, absolute URLs, Location, bodies), every other address is still replaced, and results cached
 * across exchanges (header memo, body cache) never carry one exchange's exemption into another's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedactRules } from '../../../src/redact';
import { dump, exchange, hdrs, redactor } from './helpers';

function make(serverIp: string, host: string, body: string) {
  const ex = exchange({
    method: 'GET', url: `http://${host}/v1/items?from=198.51.100.23`,
    headers: hdrs(['Host', host], ['X-Forwarded-For', '198.51.100.23'], ['Cookie', `sid=abc; srv=${host}`]),
  }, { headers: hdrs(['Content-Type', 'application/json'], ['Location', `http://${host}/v1/items/7`]), body });
  ex.connection.server.ip = serverIp;
  return ex;
}

test('the server address is kept in Host, URL, Location and bodies; other addresses are replaced', () => {
  const r = redactor();
  const body = JSON.stringify({ upstream: '10.1.2.3', client: '198.51.100.23' });
  const ex = make('10.1.2.3', '10.1.2.3:8080', body);
  r.redact(ex);
  assert.equal(ex.request!.headers[0].value, '10.1.2.3:8080');
  assert.equal(ex.request!.url, 'http://10.1.2.3:8080/v1/items?from=' + ex.request!.url.split('from=')[1]);
  assert.equal(ex.response!.headers[1].value, 'http://10.1.2.3:8080/v1/items/7');
  const out = dump(ex);
  assert.ok(!out.includes('198.51.100.23'), out);
  assert.ok(JSON.parse(ex.response!.body.toString()).upstream === '10.1.2.3');
  // The client address of the connection is still replaced.
  assert.notEqual(ex.connection.client.ip, '203.0.113.10');
});

test('IPv6: the server address is matched in any spelling', () => {
  const r = redactor();
  const ex = make('fd00::5', '[FD00:0:0::5]:8443', '{"peer":"fd00:0::5","other":"fd00::9"}');
  r.redact(ex);
  assert.equal(ex.request!.headers[0].value, '[FD00:0:0::5]:8443');
  const b = JSON.parse(ex.response!.body.toString());
  assert.equal(b.peer, 'fd00:0::5');
  assert.notEqual(b.other, 'fd00::9');
});

test('cached results are per server: the same Host, cookie and body toward another server are redacted', () => {
  const r = redactor();
  const body = JSON.stringify({ upstream: '10.1.2.3' });
  const first = make('10.1.2.3', '10.1.2.3', body);
  r.redact(first);
  assert.equal(first.request!.headers[0].value, '10.1.2.3');
  const second = make('10.9.9.9', '10.1.2.3', body);
  r.redact(second);
  const out = dump(second);
  assert.ok(!out.includes('10.1.2.3'), out);
  // And back: the first server's exemption still holds after the other exchange.
  const third = make('10.1.2.3', '10.1.2.3', body);
  r.redact(third);
  assert.equal(third.request!.headers[0].value, '10.1.2.3');
  assert.deepEqual(third.redactions, first.redactions);
});

test('only plain address text is kept: a merged span the URL parser would read as the address is still redacted', () => {
  // A user pattern overlapping the IPv6 hit merges both into one span; `addr]/…` parses as a URL host, but
  // it is not an address: the e-mail inside it must not survive.
  const cfg = parseRedactRules('patterns:\n  - name: odd\n    pattern: "[0-9]{4}\\\\]/[^ ]+"\n');
  const r = redactor(cfg);
  const ex = make('fe80::1', 'api.example', '');
  ex.response!.headers = hdrs(['Content-Type', 'text/plain']);
  ex.response!.body = Buffer.from('see fe80:0000:0000:0000:0000:0000:0000:0001]/ann@corp.example now');
  r.redact(ex);
  assert.ok(!ex.response!.body.toString().includes('ann@corp.example'), ex.response!.body.toString());
});

test('the server address under an ip key rule or in X-Forwarded-For stays itself, not another real-looking address', () => {
  const r = redactor();
  const ex = make('10.1.2.3', 'api.example', JSON.stringify({ ip: '10.1.2.3', client_ip: '198.51.100.23' }));
  ex.request!.headers.push({ name: 'X-Forwarded-For', value: '10.1.2.3:8080' });
  r.redact(ex);
  const b = JSON.parse(ex.response!.body.toString());
  assert.equal(b.ip, '10.1.2.3');
  assert.match(b.client_ip, /^198\.1[89]\./);
  assert.equal(ex.request!.headers.find((h) => h.value.startsWith('10.1.2.3'))?.value, '10.1.2.3:8080');
  assert.ok(!dump(ex).includes('198.51.100.23'));
});
