/**
 * Whole-exchange tests per carrier: headers, cookies, credentials, URL, JSON, form, multipart, XML, text,
 * JWT, and the fail-closed paths (binary, decode error, too large, unparsable, unknown charset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { defaultRedactConfig, parseRedactRules } from '../../../src/redact';
import { dump, exchange, hdrs, redactor, rules } from './helpers';

const JSON_CT: [string, string] = ['Content-Type', 'application/json'];

test('headers: deny-list, cookies by cookie, client IP lists, URL headers, detectors elsewhere', () => {
  const ex = exchange({
    url: '/x',
    headers: hdrs(
      ['Host', 'api.example.com'],
      ['Authorization', 'Bearer opaqueTOKEN1234567890'],
      ['Proxy-Authorization', 'Basic ' + Buffer.from('alice:s3cr3t').toString('base64')],
      ['Cookie', 'sid=abcdef123456; theme=dark; csrf="q1w2e3r4"'],
      ['X-Api-Key', 'k-9f8e7d6c5b4a'],
      ['X-Forwarded-For', '198.51.100.7, 192.0.2.44:8080'],
      ['Forwarded', 'for="[2001:db8:cafe::17]:4711";proto=https;by=203.0.113.43'],
      ['Referer', 'https://shop.example/account?email=carol%40corp.example&tab=2'],
      ['X-Custom', 'reach me at dave@corp.example'],
      ['User-Agent', 'curl/8.5.0'],
    ),
  }, {
    headers: hdrs(['Set-Cookie', 'session=zyx987654; Path=/; HttpOnly; Secure'], ['Location', '/users/erin%40corp.example/profile']),
  });
  redactor().redact(ex);
  const h = Object.fromEntries(ex.request!.headers.map((x) => [x.name, x.value]));
  assert.equal(h.Host, 'api.example.com');
  assert.equal(h['User-Agent'], 'curl/8.5.0');
  assert.match(h.Authorization, /^Bearer [A-Za-z0-9]{21}$/);
  assert.notEqual(h.Authorization, 'Bearer opaqueTOKEN1234567890');
  const basic = Buffer.from(h['Proxy-Authorization'].slice(6), 'base64').toString();
  assert.match(basic, /^[a-z]{5}:[A-Za-z0-9]{8}$/);
  assert.match(h.Cookie, /^sid=[A-Za-z0-9]{12}; theme=[A-Za-z0-9]{8}; csrf="[A-Za-z0-9]{8}"$/);
  assert.notEqual(h['X-Api-Key'], 'k-9f8e7d6c5b4a');
  assert.match(h['X-Forwarded-For'], /^198\.1[89]\.\d+\.\d+, 198\.1[89]\.\d+\.\d+:8080$/);
  assert.ok(!h.Forwarded.includes('cafe::17') && !h.Forwarded.includes('203.0.113.43'), h.Forwarded);
  assert.ok(h.Forwarded.includes('proto=https'));
  assert.match(h.Referer, /^https:\/\/shop\.example\/account\?email=user_[a-z2-7]{12}(?:%40|@)example\.invalid&tab=2$/);
  assert.match(h['X-Custom'], /^reach me at user_[a-z2-7]{12}@example\.invalid$/);
  const rh = Object.fromEntries(ex.response!.headers.map((x) => [x.name, x.value]));
  assert.match(rh['Set-Cookie'], /^session=[A-Za-z0-9]{9}; Path=\/; HttpOnly; Secure$/);
  assert.match(rh.Location, /^\/users\/user_[a-z2-7]{12}(?:%40|@)example\.invalid\/profile$/);
  const r = rules(ex);
  assert.equal(r['header:cookie'], 4);
  assert.equal(r['header:authorization'], 2);
  assert.equal(r['header:api_key'], 1);
  for (const x of ex.redactions) assert.ok(!/corp|alice|s3cr3t/.test(x.rule));
});

test('url: path segments, query by name and value, userinfo, fragment; untouched parts byte-identical', () => {
  const ex = exchange({ method: 'GET', url: '/api/v1/users/frank%40corp.example/orders?page=2&password=hunter2&phone=+14155552671&sort=desc#access_token=abc.def.ghi' });
  redactor().redact(ex);
  const u = ex.request!.url;
  assert.ok(u.startsWith('/api/v1/users/user_'), u);
  assert.ok(u.includes('/orders?page=2&password='), u);
  assert.ok(!u.includes('hunter2') && !u.includes('4155552671') && !u.includes('frank') && !u.includes('abc.def.ghi'), u);
  assert.ok(u.includes('&sort=desc#access_token='), u);
  const abs = exchange({ method: 'GET', url: 'http://bob:pw123@198.51.100.9:8080/a?x=1' });
  redactor().redact(abs);
  assert.match(abs.request!.url, /^http:\/\/[a-z]{3}:[A-Za-z0-9]{8}@198\.1[89]\.\d+\.\d+:8080\/a\?x=1$/);
});

test('json: keys, paths, nested JSON string, numbers, drop, untouched bytes kept exactly', () => {
  const body = '{ "user": {"email":"gina@corp.example", "firstName":"Gina", "age": 41, "orderId": 4111111111111111},\n'
    + '  "items": [ {"sku":"A-1","price":1.50}, {"sku":"B-2","price":2e3} ],\n'
    + '  "meta": "{\\"password\\":\\"p@ss\\",\\"ip\\":\\"192.0.2.1\\"}", "esc": "h\\u0065llo \\u0040 x",\n'
    + '  "contact": "mail hank\\u0040corp.example", "card": 5555555555554444, "cvv": 123, "notes": null }';
  const cfg = parseRedactRules('keys:\n  - { name: skus, paths: ["$.items[*].sku"], mode: fixed, replacement: "SKU" }\n  - { name: dropme, keys: [age], mode: drop }\n');
  const ex = exchange({ headers: hdrs(JSON_CT, ['Content-Length', String(Buffer.byteLength(body))]), body });
  redactor(cfg).redact(ex);
  const out = ex.request!.body.toString();
  const j = JSON.parse(out);
  assert.match(j.user.email, /^user_[a-z2-7]{12}@example\.invalid$/);
  assert.match(j.user.firstName, /^[A-Z][a-z]{3}$/);
  assert.equal(j.user.age, undefined, 'dropped member');
  assert.equal(j.user.orderId, 4111111111111111, 'allow-listed key: numeric detectors off');
  assert.equal(j.items[0].sku, 'SKU');
  assert.ok(out.includes('"price":1.50') && out.includes('"price":2e3'), 'number spellings kept');
  const meta = JSON.parse(j.meta);
  assert.notEqual(meta.password, 'p@ss');
  assert.match(meta.ip, /^198\.1[89]\./);
  assert.ok(out.includes('"esc": "h\\u0065llo \\u0040 x"'), 'unchanged escaped string kept byte-identical');
  assert.ok(!out.includes('hank'));
  assert.notEqual(j.card, 5555555555554444);
  assert.equal(String(j.card).length, 16);
  assert.equal(typeof j.cvv, 'number');
  assert.notEqual(j.cvv, 123);
  assert.equal(j.notes, null);
  const cl = ex.request!.headers.find((h) => h.name === 'Content-Length')!.value;
  assert.equal(cl, String(ex.request!.body.length));
});

test('json: body without findings is returned as the same Buffer', () => {
  const body = Buffer.from('{"a":[1,2,{"b":"hello world"}],"c":true}');
  const ex = exchange({ headers: hdrs(JSON_CT), body });
  redactor().redact(ex);
  assert.equal(ex.request!.body, body);
  assert.deepEqual(ex.redactions.filter((r) => r.rule !== 'client_ip'), []);
});

test('ndjson and utf-16 JSON', () => {
  const nd = '{"email":"a1@corp.example"}\n{"x":1}\n{"m":"b2@corp.example"}\n';
  const ex = exchange({ headers: hdrs(['Content-Type', 'application/x-ndjson']), body: nd });
  redactor().redact(ex);
  const out = ex.request!.body.toString();
  assert.ok(!out.includes('corp.example') && out.split('\n').length === 4, out);
  const u16 = Buffer.from('{"email":"c3@corp.example"}', 'utf16le');
  const ex2 = exchange({ headers: hdrs(['Content-Type', 'application/json; charset=utf-16le']), body: u16 });
  redactor().redact(ex2);
  assert.ok(!ex2.request!.body.toString('utf16le').includes('c3@'), ex2.request!.body.toString('utf16le'));
});

test('form-urlencoded: names, plus-as-space, encoded values, drop', () => {
  const body = 'username=ivan+petrov&email=ivan%40corp.example&note=call+%2B14155552671&amount=10.00&remember=on';
  const ex = exchange({ headers: hdrs(['Content-Type', 'application/x-www-form-urlencoded']), body });
  redactor().redact(ex);
  const out = ex.request!.body.toString();
  const p = new URLSearchParams(out);
  assert.match(p.get('username')!, /^[a-z]{4} [a-z]{6}$/);
  assert.match(p.get('email')!, /^user_[a-z2-7]{12}@example\.invalid$/);
  assert.match(p.get('note')!, /^call \+999\d{8}$/);
  assert.equal(p.get('amount'), '10.00');
  assert.ok(out.endsWith('&amount=10.00&remember=on'), out);
});

test('multipart: field names, filenames, text parts, file parts withheld', () => {
  const b = 'XyZ123';
  const body = `--${b}\r\nContent-Disposition: form-data; name="email"\r\n\r\njudy@corp.example\r\n`
    + `--${b}\r\nContent-Disposition: form-data; name="bio"\r\n\r\nI am at 203.0.113.77\r\n`
    + `--${b}\r\nContent-Disposition: form-data; name="doc"; filename="kim@corp.example.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 \x00\x01binary\r\n`
    + `--${b}--\r\n`;
  const ex = exchange({ headers: hdrs(['Content-Type', `multipart/form-data; boundary=${b}`]), body: Buffer.from(body, 'latin1') });
  redactor().redact(ex);
  const out = ex.request!.body.toString('latin1');
  assert.ok(!out.includes('judy') && !out.includes('203.0.113.77') && !out.includes('kim@') && !out.includes('%PDF'), out);
  assert.match(out, /\[shadowtap: \d+ bytes of application\/pdf withheld, digest [0-9a-f]{16}\]/);
  assert.ok(out.startsWith(`--${b}\r\nContent-Disposition: form-data; name="email"\r\n\r\nuser_`), out);
  assert.ok(out.endsWith(`--${b}--\r\n`));
});

test('xml: element and attribute rules, entities decoded for matching but never expanded', () => {
  const body = '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x "leo@corp.example">]>\n'
    + '<r><user id="7" email="mia@corp.example"><password>pw&amp;1</password><note>ip 198.51.100.3 &#x40; '
    + 'nick&#64;corp.example &x;</note><![CDATA[card 4111111111111111]]></user></r>';
  const ex = exchange({ headers: hdrs(['Content-Type', 'application/xml']), body });
  redactor().redact(ex);
  const out = ex.request!.body.toString();
  for (const leak of ['leo@', 'mia@', 'pw&amp;1', '198.51.100.3', 'nick', '4111111111111111']) assert.ok(!out.includes(leak), `${leak} in ${out}`);
  assert.ok(out.includes('&x;'), 'entity reference kept, not expanded');
  assert.ok(out.includes('<user id="7" email="user_'), out);
});

test('jwt: claims redacted and re-signed with the staging key (HS256); without one the signature is replaced', () => {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const h = enc({ alg: 'RS256', typ: 'JWT' });
  const p = enc({ sub: 'user-829', email: 'noah@corp.example', exp: 1900000000, role: 'admin' });
  const jwt = `${h}.${p}.c2lnbmF0dXJlLWJ5dGVzLXRoYXQtYXJlLW5vdC1yZWFsbHktcnNh`;
  const cfg = parseRedactRules('jwt: { stagingKey: "staging-secret-0123456789" }\n');
  const ex = exchange({ headers: hdrs(['Authorization', `Bearer ${jwt}`]) });
  redactor(cfg).redact(ex);
  const tok = ex.request!.headers[0].value.slice(7);
  const [h2, p2, s2] = tok.split('.');
  assert.equal(JSON.parse(Buffer.from(h2, 'base64url').toString()).alg, 'HS256');
  const claims = JSON.parse(Buffer.from(p2, 'base64url').toString());
  assert.notEqual(claims.sub, 'user-829');
  assert.match(claims.email, /@example\.invalid$/);
  assert.equal(claims.exp, 1900000000);
  assert.equal(claims.role, 'admin');
  assert.equal(s2, createHmac('sha256', 'staging-secret-0123456789').update(`${h2}.${p2}`).digest('base64url'));
  const ex2 = exchange({ headers: hdrs(['Authorization', `Bearer ${jwt}`]) });
  redactor().redact(ex2);
  const [h3, , s3] = ex2.request!.headers[0].value.slice(7).split('.');
  assert.equal(h3, h, 'header unchanged without a staging key');
  assert.equal(s3.length, jwt.split('.')[2].length);
  assert.notEqual(s3, jwt.split('.')[2]);
});

test('fail closed: binary, unknown type, decode error, too large, bad JSON, unknown charset, invalid utf-8', () => {
  const cases: Array<{ ct?: string; body: Buffer; enc?: string[]; decodeError?: string; reason: string; cfg?: string }> = [
    { ct: 'application/octet-stream', body: Buffer.from([1, 2, 3, 0x40, 0x41]), reason: 'binary' },
    { body: Buffer.from('plain text with olga@corp.example'), reason: 'unknown_type' },
    { ct: 'application/json', body: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2]), enc: ['gzip'], decodeError: 'incorrect header check', reason: 'decode_error' },
    { ct: 'text/plain', body: Buffer.from('x'.repeat(200)), reason: 'too_large', cfg: 'bodies: { maxBytes: 100 }' },
    { ct: 'application/json', body: Buffer.from('{"email":"pat@corp.example"'), reason: 'parse_error' },
    { ct: 'text/plain; charset=shift_jis', body: Buffer.from('quinn@corp.example'), reason: 'charset' },
    { ct: 'text/plain', body: Buffer.from([0x61, 0xff, 0xfe, 0x62]), reason: 'charset' },
    { ct: 'text/plain', body: Buffer.from('ab\u0000cd rita@corp.example'), reason: 'binary' },
  ];
  for (const c of cases) {
    const cfg = c.cfg === undefined ? defaultRedactConfig() : parseRedactRules(c.cfg);
    const headers = c.ct === undefined ? [] : hdrs(['Content-Type', c.ct]);
    const ex = exchange({ headers, body: c.body, contentEncodings: c.enc ?? [] });
    if (c.decodeError !== undefined) ex.completeness.decodeError = c.decodeError;
    redactor(cfg).redact(ex);
    const out = ex.request!.body.toString();
    assert.match(out, new RegExp(`^\\[shadowtap: ${c.body.length} bytes of [^\\]]+ withheld, digest [0-9a-f]{16}\\]$`), `${c.reason}: ${out}`);
    assert.equal(rules(ex)[`body:${c.reason}`], 1, `${c.reason}: ${JSON.stringify(ex.redactions)}`);
  }
});

test('placeholder digest is keyed and deterministic', () => {
  const mk = () => exchange({ headers: hdrs(['Content-Type', 'image/png']), body: Buffer.from('PNGDATA') });
  const a = mk();
  const b = mk();
  redactor().redact(a);
  redactor().redact(b);
  assert.equal(a.request!.body.toString(), b.request!.body.toString());
  const c = mk();
  redactor(defaultRedactConfig(), Buffer.alloc(32, 9)).redact(c);
  assert.notEqual(a.request!.body.toString(), c.request!.body.toString());
});

test('text bodies: key=value heuristics and detectors; response reason and client IP', () => {
  const body = 'login ok for user=sam password=Tr0ub4dor&3 from 198.51.100.200\napi_key: 0123456789abcdef\n';
  const ex = exchange({ headers: hdrs(['Content-Type', 'text/plain']), body }, { headers: hdrs(['Content-Type', 'text/html']), body: '<p>Hi <b>tom@corp.example</b></p>' });
  redactor().redact(ex);
  const all = dump(ex);
  for (const leak of ['Tr0ub4dor', '198.51.100.200', '0123456789abcdef', 'tom@corp', '203.0.113.10']) assert.ok(!all.includes(leak), leak);
  assert.ok(ex.request!.body.toString().startsWith('login ok for user=sam password='));
});

test('connection: the tunnel source is replaced as the client address is (same surrogate), kept when it is the server', () => {
  const asClient = exchange({ url: '/x' });
  asClient.connection.tunnelSource = asClient.connection.client.ip;
  redactor().redact(asClient);
  assert.notEqual(asClient.connection.client.ip, '203.0.113.10');
  assert.equal(asClient.connection.tunnelSource, asClient.connection.client.ip, 'one address, one surrogate');
  assert.deepEqual(asClient.redactions.filter((r) => r.rule.endsWith('_ip')), [{ rule: 'client_ip', count: 1 }, { rule: 'tunnel_source_ip', count: 1 }]);

  const other = exchange({ url: '/x' });
  other.connection.tunnelSource = '10.9.8.7';
  redactor().redact(other);
  assert.notEqual(other.connection.tunnelSource, '10.9.8.7');
  assert.match(other.connection.tunnelSource, /^\d+\.\d+\.\d+\.\d+$/);

  const asServer = exchange({ url: '/x' });
  asServer.connection.tunnelSource = asServer.connection.server.ip;
  redactor().redact(asServer);
  assert.equal(asServer.connection.tunnelSource, '10.1.2.3', 'the server address is kept');
});

test('json: a bare "name" is a person\'s name in a person\'s object (by its key, or by an email/phone/… beside it), else kept', () => {
  const run = (o: unknown): Record<string, any> => {
    const ex = exchange({ headers: hdrs(JSON_CT), body: JSON.stringify(o) });
    redactor().redact(ex);
    return JSON.parse(ex.request!.body.toString()) as Record<string, any>;
  };
  const byKey = run({ customer: { name: 'Jane Doe', id: 3 }, users: [{ name: 'Bob Jones' }, { name: 'Ann Lee' }] });
  assert.notEqual(byKey.customer.name, 'Jane Doe');
  assert.equal(byKey.customer.id, 3);
  assert.deepEqual(byKey.users.map((u: { name: string }) => u.name === 'Bob Jones' || u.name === 'Ann Lee'), [false, false]);
  // Top level: the email after it shows whose object this is; the name is replaced as a whole, detector edits inside it give way.
  const top = run({ id: 1, name: 'Jane Doe <jane@corp.example>', plan: 'pro', email: 'jane@corp.example' });
  assert.ok(!JSON.stringify(top).includes('Jane') && !JSON.stringify(top).includes('jane@corp'), JSON.stringify(top));
  assert.equal(top.plan, 'pro');
  // Not a person's object: kept as captured.
  const product = run({ sku: 'SKU-1001', name: 'Blue Widget', price: 3, items: [{ name: 'bolt' }], service: { name: 'orders-api' } });
  assert.deepEqual(product, { sku: 'SKU-1001', name: 'Blue Widget', price: 3, items: [{ name: 'bolt' }], service: { name: 'orders-api' } });
  // The same name gets the same surrogate wherever it is replaced.
  assert.equal(run({ owner: { name: 'Jane Doe' } }).owner.name, byKey.customer.name);
});

test('json: two bare names in one person object, each with a detector hit inside: valid JSON, both replaced whole', () => {
  const body = '{"customer":{"name":"Jane Doe, +1 415 555 0100","display_name_":"x","_name":"Jon Roe, +1 415 555 0199","Name":"Ann Lee"}}';
  const ex = exchange({ headers: hdrs(JSON_CT), body });
  redactor().redact(ex);
  const out = ex.request!.body.toString();
  const parsed = JSON.parse(out) as { customer: Record<string, string> };
  for (const clear of ['Jane', 'Jon Roe', 'Ann Lee', '415 555']) assert.ok(!out.includes(clear), `${clear} in ${out}`);
  assert.deepEqual(Object.keys(parsed.customer), ['name', 'display_name_', '_name', 'Name']);
});
