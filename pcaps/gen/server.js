'use strict';
// HTTP/1.1 server for the sample captures: a plain node:http server with fixed
// responses (see ROUTES below).  Usage: node server.js HOST PORT [READY_FILE]
// It writes READY_FILE (if given) once it listens, and exits on SIGTERM/SIGINT.
//
// Every response is deterministic: fixed Date header, fixed bodies, compressed
// bodies made with fixed zlib/brotli parameters.  Responses with a
// Content-Length are written with one res.end() so headers and body leave in
// as few segments as the kernel allows; the chunked one writes its chunks
// 20 ms apart so each chunk is its own TCP segment.

const http = require('node:http');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { PII, FIXED_DATE, largeText, USERS, REPORT, APP_JS } = require('./fixtures');

const [host, portArg, readyFile] = process.argv.slice(2);
if (!host || !portArg) {
  process.stderr.write('usage: node server.js HOST PORT [READY_FILE]\n');
  process.exit(64);
}

const LARGE = largeText(1024 * 1024, 0x5eed);
const REPORT_JSON = Buffer.from(JSON.stringify(REPORT, null, 1));
const ENCODED = {
  gzip: zlib.gzipSync(REPORT_JSON, { level: 6 }), // gzip header mtime is 0 in Node: deterministic
  br: zlib.brotliCompressSync(REPORT_JSON, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: REPORT_JSON.length },
  }),
  deflate: zlib.deflateSync(REPORT_JSON, { level: 6 }),
};
const CHUNKS = [
  '{"events":[\n',
  '{"type":"login","user":"' + PII.email + '","ip":"10.0.0.7"},\n',
  '{"type":"payment","card":"' + PII.card + '","amount":"19.99"},\n',
  '{"type":"sms","to":"' + PII.phone + '"}\n]}\n',
];
const CHUNKS_SHA = crypto.createHash('sha256').update(CHUNKS.join('')).digest('hex');
const NOT_FOUND = '<!doctype html>\n<html><head><title>404 Not Found</title></head>\n' +
  '<body><h1>Not Found</h1><p>No route for this path. Contact support@example.com.</p></body></html>\n';
const LEGACY = 'LEGACY REPORT\nname: Jane Doe\nemail: ' + PII.email + '\nphone: ' + PII.phone +
  '\nThis body has no Content-Length: it ends when the server closes the connection.\n';

function send(res, status, type, body, extra) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', buf.length);
  for (const [k, v] of Object.entries(extra || {})) res.setHeader(k, v);
  res.end(buf);
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

async function handle(req, res) {
  res.sendDate = false;
  res.setHeader('Date', FIXED_DATE);
  res.setHeader('Server', 'shadowtap-pcapgen/1');
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const m = /^\/api\/users\/(\d+)$/.exec(path);

  if (m && (req.method === 'GET' || req.method === 'HEAD') && USERS[m[1]]) {
    return send(res, 200, 'application/json', JSON.stringify(USERS[m[1]]), { 'Cache-Control': 'no-store' });
  }
  if (m && req.method === 'DELETE') {
    res.statusCode = 204;
    return res.end();
  }
  if (path === '/static/app.js' && req.method === 'GET') {
    if (req.headers['if-none-match'] === '"v1"') {
      res.statusCode = 304;
      res.setHeader('ETag', '"v1"');
      return res.end();
    }
    return send(res, 200, 'application/javascript', APP_JS, { ETag: '"v1"', 'Cache-Control': 'max-age=60' });
  }
  if (/^\/p\/\d+$/.test(path)) {
    return send(res, 200, 'text/plain', 'pipelined response ' + path.slice(3) + '\n');
  }
  if (path === '/stream/chunked') {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Trailer', 'X-Content-SHA256');
    for (const c of CHUNKS) {
      res.write(c);
      await new Promise((r) => setTimeout(r, 20));
    }
    res.addTrailers({ 'X-Content-SHA256': CHUNKS_SHA });
    return res.end();
  }
  if (path === '/api/report') {
    const enc = url.searchParams.get('enc');
    const body = ENCODED[enc];
    if (!body || !String(req.headers['accept-encoding'] || '').includes(enc)) {
      return send(res, 406, 'text/plain', 'unsupported encoding\n');
    }
    return send(res, 200, 'application/json', body, { 'Content-Encoding': enc, Vary: 'Accept-Encoding' });
  }
  if (path === '/download/large.txt') {
    return send(res, 200, 'text/plain', LARGE);
  }
  if (path === '/api/upload' && req.method === 'POST') {
    // node:http answered "100 Continue" before calling us (no 'checkContinue' listener).
    const body = await readBody(req);
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    return send(res, 200, 'application/json', JSON.stringify({ received_bytes: body.length, sha256: sha }));
  }
  if (path === '/api/orders' && req.method === 'POST') {
    const body = await readBody(req);
    let order;
    try { order = JSON.parse(body.toString('utf8')); } catch { order = null; }
    if (!order) return send(res, 400, 'application/json', '{"error":"bad json"}');
    return send(res, 201, 'application/json', JSON.stringify({ id: 'ord_0001', status: 'accepted', order }),
      { Location: '/api/orders/ord_0001' });
  }
  if (path === '/legacy/report.txt') {
    // No Content-Length: for an HTTP/1.0 request node:http neither chunks nor
    // keeps the connection, so the body is delimited by the server's FIN.
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/plain');
    return res.end(LEGACY);
  }
  await readBody(req);
  return send(res, 404, 'text/html', NOT_FOUND);
}

const server = http.createServer({ noDelay: true, keepAliveTimeout: 5000 }, (req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write('handler error: ' + err.stack + '\n');
    res.destroy();
  });
});
server.listen(Number(portArg), host, () => {
  if (readyFile) fs.writeFileSync(readyFile, String(process.pid));
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { server.close(); server.closeAllConnections(); process.exit(0); });
}
