'use strict';
// HTTP/1.1 client for the sample captures, on net.Socket so that every request
// byte is exact (pipelining, Expect: 100-continue, an HTTP/1.0 request).
// Usage: node client.js HOST PORT SET [LOCAL_PORT_BASE]
//   SET = full (pcaps/http/mix.pcap), small (loopback.pcap), lab (vxlan/*.pcap)
// Connection i of a set binds local port LOCAL_PORT_BASE + i (default 41000),
// so ports are the same on every run in a fresh namespace.
//
// Connections run one after another.  For every request written the client
// prints "req\tMETHOD\tURI" and for every response read "resp\tSTATUS" on
// stdout (record.sh compares these with what tshark finds in the capture).
// Each response is framed like an HTTP client would (HEAD/1xx/204/304 without
// body, chunked with trailers, Content-Length, or until close) and checked;
// any mismatch exits 1.

const net = require('node:net');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const { PII, largeText, REPORT } = require('./fixtures');

const [host, portArg, setName, baseArg] = process.argv.slice(2);
if (!host || !portArg || !setName) {
  process.stderr.write('usage: node client.js HOST PORT full|small|lab [LOCAL_PORT_BASE]\n');
  process.exit(64);
}
const port = Number(portArg);
const localBase = Number(baseArg || 41000);
const HOST_HDR = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/** Request head (+ optional body) with a fixed header order. */
function request(method, uri, headers = [], body = null, version = 'HTTP/1.1') {
  const lines = [`${method} ${uri} ${version}`, `Host: ${HOST_HDR}`, 'User-Agent: shadowtap-pcapgen/1'];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  if (body !== null) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return { method, uri, bytes: body === null ? head : Buffer.concat([head, Buffer.from(body)]) };
}

function fail(msg) {
  throw new Error(msg);
}

/** Buffered reader over a socket: lines, n bytes, or everything until the peer closes. */
class Reader {
  constructor(sock) {
    this.buf = Buffer.alloc(0);
    this.ended = false;
    this.wake = null;
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.poke(); });
    sock.on('end', () => { this.ended = true; this.poke(); });
    sock.on('error', (e) => { this.error = e; this.ended = true; this.poke(); });
  }
  poke() { const w = this.wake; this.wake = null; if (w) w(); }
  more() {
    if (this.ended) fail('connection closed early' + (this.error ? ': ' + this.error.message : ''));
    return new Promise((r) => { this.wake = r; });
  }
  async line() {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) { const s = this.buf.subarray(0, i).toString('latin1'); this.buf = this.buf.subarray(i + 2); return s; }
      await this.more();
    }
  }
  async bytes(n) {
    while (this.buf.length < n) await this.more();
    const b = this.buf.subarray(0, n); this.buf = this.buf.subarray(n); return b;
  }
  async rest() {
    while (!this.ended) await new Promise((r) => { this.wake = r; });
    const b = this.buf; this.buf = Buffer.alloc(0); return b;
  }
}

async function readFields(rd) {
  const headers = {};
  for (;;) {
    const l = await rd.line();
    if (l === '') return headers;
    const c = l.indexOf(':');
    if (c <= 0) fail('bad header line ' + JSON.stringify(l));
    headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
}

/** Reads one response to a `method` request: {status, headers, body, trailers}. */
async function readResponse(rd, method) {
  const statusLine = await rd.line();
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine + ' ');
  if (!m) fail('bad status line ' + JSON.stringify(statusLine));
  const status = Number(m[1]);
  const headers = await readFields(rd);
  let body = Buffer.alloc(0);
  let trailers = {};
  if ((status >= 100 && status < 200) || status === 204 || status === 304 || method === 'HEAD') {
    // no body
  } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const parts = [];
    for (;;) {
      const size = parseInt((await rd.line()).split(';')[0], 16);
      if (!(size >= 0)) fail('bad chunk size');
      if (size === 0) break;
      parts.push(await rd.bytes(size));
      if ((await rd.line()) !== '') fail('chunk not followed by CRLF');
    }
    trailers = await readFields(rd);
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    body = await rd.bytes(Number(headers['content-length']));
  } else {
    body = await rd.rest();
  }
  return { status, headers, body, trailers };
}

// ---------------------------------------------------------------- checks
const json = (r) => JSON.parse(r.body.toString('utf8'));
const CHECKS = {
  user1: (r) => json(r).email === PII.email || fail('user 1 body'),
  large: (r) => r.body.equals(largeText(1024 * 1024, 0x5eed)) || fail('large body differs'),
  chunked: (r) => crypto.createHash('sha256').update(r.body).digest('hex') === r.trailers['x-content-sha256'] ||
    fail('chunked trailer checksum'),
  decoded: (r) => {
    const enc = r.headers['content-encoding'];
    const plain = enc === 'gzip' ? zlib.gunzipSync(r.body) : enc === 'br' ? zlib.brotliDecompressSync(r.body)
      : enc === 'deflate' ? zlib.inflateSync(r.body) : fail('no content-encoding');
    return JSON.parse(plain.toString('utf8')).billing.card === REPORT.billing.card || fail('decoded report');
  },
  head: (r) => (r.body.length === 0 && Number(r.headers['content-length']) > 0) || fail('HEAD response'),
  order: (r) => json(r).order.payment.card === PII.card || fail('order echo'),
  upload: (r) => json(r).received_bytes === UPLOAD.length || fail('upload size'),
  legacy: (r) => (r.headers['content-length'] === undefined && r.body.includes(PII.email)) || fail('legacy body'),
  notFound: (r) => r.body.includes('Not Found') || fail('404 body'),
};

// ---------------------------------------------------------------- scenarios
const AUTH = [['Authorization', PII.bearer], ['Cookie', PII.session]];
const ACCEPT_JSON = [['Accept', 'application/json']];
const ORDER = JSON.stringify({
  customer: { name: 'Jane Doe', email: PII.email, phone: PII.phone },
  payment: { card: PII.card, expiry: '12/30', cvv: '123' },
  items: [{ sku: 'SKU-1001', qty: 2 }, { sku: 'SKU-2002', qty: 1 }],
});
const UPLOAD = 'name,email,phone,card\n' +
  Array.from({ length: 8 }, (_, i) => `Jane Doe ${i},${PII.email},${PII.phone},${PII.card}\n`).join('');

// A connection is a list of steps; a step writes `send` (one write, which may
// hold several pipelined requests) then reads one response per `expect` entry.
const C = {
  keepAlive: [
    { send: [request('GET', '/api/users/1', [...ACCEPT_JSON, ...AUTH])], expect: [[200, 'user1']] },
    { send: [request('GET', '/api/users/2', ACCEPT_JSON)], expect: [[200]] },
    { send: [request('GET', '/static/app.js', [['Accept', '*/*']])], expect: [[200]] },
  ],
  pipelined: [
    { send: [request('GET', '/p/1'), request('GET', '/p/2'), request('GET', '/p/3')], expect: [[200], [200], [200]] },
  ],
  chunked: [{ send: [request('GET', '/stream/chunked', [['TE', 'trailers']])], expect: [[200, 'chunked']] }],
  encodings: (encs) => encs.map((e) => (
    { send: [request('GET', `/api/report?enc=${e}`, [['Accept-Encoding', e]])], expect: [[200, 'decoded']] })),
  large: [{ send: [request('GET', '/download/large.txt')], expect: [[200, 'large']] }],
  misc: [
    { send: [request('HEAD', '/api/users/1', ACCEPT_JSON)], expect: [[200, 'head']] },
    { send: [request('GET', '/static/app.js', [['If-None-Match', '"v1"']])], expect: [[304]] },
    { send: [request('DELETE', '/api/users/3', AUTH)], expect: [[204]] },
    { send: [request('GET', '/missing/page.html')], expect: [[404, 'notFound']] },
  ],
  expect100: (() => {
    const r = request('POST', '/api/upload', [['Content-Type', 'text/csv'], ['Expect', '100-continue']], UPLOAD);
    const head = r.bytes.subarray(0, r.bytes.length - Buffer.byteLength(UPLOAD));
    return [
      { send: [{ method: 'POST', uri: '/api/upload', bytes: head }], expect: [[100]] },
      { send: [{ bytes: Buffer.from(UPLOAD) }], expect: [[200, 'upload']] },
    ];
  })(),
  jsonPost: [{
    send: [request('POST', '/api/orders', [['Content-Type', 'application/json'], ...ACCEPT_JSON, ...AUTH], ORDER)],
    expect: [[201, 'order']],
  }],
  http10: [{ send: [request('GET', '/legacy/report.txt', [], null, 'HTTP/1.0')], expect: [[200, 'legacy']] }],
  labA: [
    { send: [request('GET', '/api/users/1', [...ACCEPT_JSON, ...AUTH])], expect: [[200, 'user1']] },
    { send: [request('POST', '/api/orders', [['Content-Type', 'application/json'], ...ACCEPT_JSON], ORDER)],
      expect: [[201, 'order']] },
  ],
};

const SETS = {
  full: [C.keepAlive, C.pipelined, C.chunked, C.encodings(['gzip', 'br', 'deflate']), C.large, C.misc,
    C.expect100, C.jsonPost, C.http10],
  small: [C.keepAlive, C.pipelined, C.chunked, C.encodings(['gzip']), C.misc, C.expect100, C.jsonPost, C.http10],
  lab: [C.labA, [...C.chunked, ...C.encodings(['gzip'])]],
};

async function runConnection(steps, localPort) {
  const sock = net.connect({ host, port, localPort, noDelay: true });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const rd = new Reader(sock);
  const queue = []; // methods of requests written and not yet answered (final response)
  for (const step of steps) {
    const bytes = Buffer.concat(step.send.map((r) => r.bytes));
    for (const r of step.send) {
      if (r.method) { queue.push(r.method); process.stdout.write(`req\t${r.method}\t${r.uri}\n`); }
    }
    sock.write(bytes);
    for (const [status, check] of step.expect) {
      const res = await readResponse(rd, queue[0]);
      process.stdout.write(`resp\t${res.status}\n`);
      if (res.status !== status) fail(`expected ${status}, got ${res.status} for ${queue[0]}`);
      if (res.status >= 200) queue.shift();
      if (check) CHECKS[check](res);
    }
  }
  if (rd.buf.length) fail('unexpected bytes after the last response');
  sock.end();
  if (!rd.ended) await rd.rest();
  await new Promise((r) => (sock.destroyed ? r() : sock.once('close', r)));
}

(async () => {
  const set = SETS[setName] || fail('unknown set ' + setName);
  for (let i = 0; i < set.length; i++) await runConnection(set[i], localBase + i);
})().catch((err) => {
  process.stderr.write('client: ' + err.message + '\n');
  process.exit(1);
});
