/**
 * Golden tests of `shadowtap read` over the recorded captures in pcaps/ (see pcaps/README.md):
 *  1. every request/response tshark found (NAME.expected.tsv) is in the output, paired alike,
 *     1xx in interimStatuses, VNI 7001 on the VXLAN captures;
 *  2. the exact `--no-redact` output of mix and mirror-lab pinned in pcaps/expected/NAME.jsonl
 *     (regenerate: `UPDATE_GOLDEN=1 node --test dist/test/integration/read-golden.test.js`);
 *  3. bodies byte-identical to what pcaps/gen/server.js and client.js sent, after decoding;
 *  4. the truncated and one-way mirror captures: exchanges flagged, no body claiming completeness
 *     it does not have, exit 0.
 * All runs use `--no-redact` (the redaction test is read-redaction.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  PCAPS,
  SENT,
  bodyOf,
  byConnection,
  headerOf,
  jsonlDiff,
  matchStreams,
  parseJsonl,
  readTsv,
  runCliOnce,
  stackLines,
  tsharkStreams,
  type ExchangeJson,
  type MessageJson,
} from './read-support';

const GOLDEN_DIR = path.join(PCAPS, 'expected');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

async function readNoRedact(name: string): Promise<{ code: number | null; text: string; exs: ExchangeJson[]; stderr: string }> {
  const r = await runCliOnce(['read', path.join('pcaps', `${name}.pcap`), '--no-redact', '--stats', 'json']);
  const text = r.stdout.toString('utf8');
  return { code: r.code, text, exs: parseJsonl(text), stderr: r.stderr };
}

/** The response of the (only) exchange whose request is `method url`. */
function find(exs: ExchangeJson[], method: string, url: string): ExchangeJson {
  const hits = exs.filter((e) => e.request?.method === method && e.request?.url === url);
  assert.equal(hits.length, 1, `exactly one ${method} ${url} (got ${hits.length})`);
  return hits[0];
}

function assertNoBody(m: MessageJson | undefined, what: string): void {
  assert.ok(m, `${what}: message present`);
  assert.equal(m.body, undefined, `${what}: no body`);
  assert.equal(m.wireBodySize, undefined, `${what}: wireBodySize 0`);
}

function assertBody(m: MessageJson | undefined, want: Buffer | string, what: string): void {
  const w = Buffer.isBuffer(want) ? want : Buffer.from(want);
  const got = bodyOf(m);
  if (!got.equals(w)) {
    let i = 0;
    while (i < got.length && i < w.length && got[i] === w[i]) i++;
    assert.fail(`${what}: body differs (got ${got.length} bytes, sent ${w.length}; first difference at byte ${i})`);
  }
}

// ------------------------------------------------------------------------------ 1. tshark pairing

const CAPTURES = [
  { name: 'http/mix', complete: true },
  { name: 'http/loopback', complete: true },
  { name: 'vxlan/mirror-lab', complete: true },
  { name: 'vxlan/mirror-lab-truncated', complete: false },
  { name: 'vxlan/mirror-lab-oneway', complete: false },
  { name: 'broken/cut-mid-record', complete: false },
];

describe('read: every tshark request/response is in the output, paired alike', () => {
  for (const cap of CAPTURES) {
    it(cap.name, async () => {
      const { code, exs, stderr } = await readNoRedact(cap.name);
      assert.equal(code, cap.name.startsWith('broken/cut') ? 3 : 0, `exit status; stderr:\n${stderr}`);
      assert.deepEqual(stackLines(stderr), []);
      const rows = readTsv(path.join(PCAPS, `${cap.name}.expected.tsv`));
      const streams = tsharkStreams(rows);
      const matched = matchStreams(streams, exs);
      assert.equal(matched.size, streams.length);
      if (cap.name.startsWith('vxlan/')) {
        for (const e of exs) {
          assert.equal(e.connection.vni, 7001, 'VNI on every VXLAN exchange');
          assert.equal(e.connection.tunnel, 'vxlan');
          assert.equal(e.connection.tunnelSource, '10.201.0.1');
        }
      } else {
        for (const e of exs) assert.equal(e.connection.vni, undefined, 'no VNI outside VXLAN');
      }
      if (cap.complete) {
        // Nothing more than tshark found, nothing flagged, one connection per tshark stream.
        const requests = rows.filter((r) => r.status === undefined).length;
        assert.equal(exs.length, requests, 'one exchange per request');
        assert.equal(byConnection(exs).size, streams.length, 'one connection per TCP stream');
        for (const e of exs) assert.equal(e.completeness, undefined, `${e.request?.method} ${e.request?.url} complete`);
        for (const s of streams) {
          const conn = matched.get(s.stream)!;
          assert.deepEqual(conn.map((e) => e.index ?? 0), conn.map((_, i) => i), 'index counts 0.. on each connection');
        }
      }
    });
  }
});

// ------------------------------------------------------------------------------ 2. golden files

describe('read: exact --no-redact output pinned in pcaps/expected/', () => {
  for (const [name, file] of [['http/mix', 'mix.jsonl'], ['vxlan/mirror-lab', 'mirror-lab.jsonl']] as const) {
    it(`${name} == pcaps/expected/${file}`, async (t) => {
      const { code, text } = await readNoRedact(name);
      assert.equal(code, 0);
      const golden = path.join(GOLDEN_DIR, file);
      if (UPDATE) {
        fs.mkdirSync(GOLDEN_DIR, { recursive: true });
        fs.writeFileSync(golden, text);
        t.diagnostic(`UPDATE_GOLDEN=1: wrote ${golden} (${text.length} bytes)`);
        return;
      }
      assert.ok(fs.existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 to create it`);
      const diff = jsonlDiff(text, fs.readFileSync(golden, 'utf8'));
      if (diff) assert.fail(`output differs from ${path.relative(process.cwd(), golden)} (UPDATE_GOLDEN=1 to accept):\n${diff}`);
    });
  }
});

// ------------------------------------------------------------------------------ 3. bodies

/** The exchanges every set shares (full, small and lab all hold these). */
function checkCommonBodies(exs: ExchangeJson[]): void {
  const u1 = find(exs, 'GET', '/api/users/1');
  assertBody(u1.response, SENT.users(1), 'GET /api/users/1');
  assert.equal(headerOf(u1.response, 'content-type'), 'application/json');
  assert.deepEqual(
    u1.request?.headers?.map((h) => h.name),
    ['Host', 'User-Agent', 'Accept', 'Authorization', 'Cookie'],
    'request headers in wire order',
  );

  const chunked = find(exs, 'GET', '/stream/chunked');
  assertBody(chunked.response, SENT.chunked, 'chunked body without framing');
  assert.equal(chunked.response?.wireBodySize, String(SENT.chunked.length), 'wireBodySize is after de-chunking');
  assert.deepEqual(chunked.response?.trailers, [{ name: 'X-Content-SHA256', value: SENT.chunkedSha }]);
  assert.equal(headerOf(chunked.response, 'transfer-encoding'), 'chunked');

  const gz = find(exs, 'GET', '/api/report?enc=gzip');
  assertBody(gz.response, SENT.reportJson, 'REPORT decoded from gzip');
  assert.deepEqual(gz.response?.contentEncodings, ['gzip']);
  assert.equal(gz.response?.wireBodySize, headerOf(gz.response, 'content-length'), 'wireBodySize = encoded length');
  assert.ok(Number(gz.response?.wireBodySize) < SENT.reportJson.length, 'the wire body was compressed');

  const order = find(exs, 'POST', '/api/orders');
  assertBody(order.request, SENT.order, 'POST /api/orders request body');
  assert.equal(order.request?.wireBodySize, String(Buffer.byteLength(SENT.order)));
  assertBody(order.response, SENT.orderEcho, 'POST /api/orders 201 body');
  assert.equal(order.response?.status, 201);
}

function checkFullAndSmallBodies(exs: ExchangeJson[]): void {
  checkCommonBodies(exs);
  assertBody(find(exs, 'GET', '/api/users/2').response, SENT.users(2), 'GET /api/users/2');
  const gets = exs.filter((e) => e.request?.url === '/static/app.js');
  assert.equal(gets.length, 2);
  assertBody(gets[0].response, SENT.appJs, 'GET /static/app.js');
  for (const n of [1, 2, 3]) assertBody(find(exs, 'GET', `/p/${n}`).response, `pipelined response ${n}\n`, `pipelined /p/${n}`);

  // HEAD, 304, 204: no body, not flagged partial, the HEAD response keeps its Content-Length.
  const head = find(exs, 'HEAD', '/api/users/1');
  assertNoBody(head.response, 'HEAD response');
  assert.equal(head.response?.status, 200);
  assert.equal(headerOf(head.response, 'content-length'), String(SENT.users(1).length));
  const cond = gets[1];
  assert.equal(headerOf(cond.request, 'if-none-match'), '"v1"');
  assert.equal(cond.response?.status, 304);
  assertNoBody(cond.response, '304 response');
  const del = find(exs, 'DELETE', '/api/users/3');
  assert.equal(del.response?.status, 204);
  assertNoBody(del.response, '204 response');
  assertNoBody(del.request, 'DELETE request');

  const nf = find(exs, 'GET', '/missing/page.html');
  assert.equal(nf.response?.status, 404);
  assertBody(nf.response, SENT.notFound, '404 body');

  // Expect: 100-continue: headers, 100, body, 200 are one exchange.
  const up = find(exs, 'POST', '/api/upload');
  assert.deepEqual(up.interimStatuses, [100]);
  assert.equal(headerOf(up.request, 'expect'), '100-continue');
  assertBody(up.request, SENT.upload, '100-continue POST body');
  assert.equal(up.response?.status, 200);
  assertBody(up.response, SENT.uploadAnswer, 'upload answer');

  // HTTP/1.0, no Content-Length: the body ends at the server's FIN and is whole.
  const legacy = find(exs, 'GET', '/legacy/report.txt');
  assert.equal(legacy.request?.httpVersion, '1.0');
  assert.equal(headerOf(legacy.response, 'content-length'), undefined);
  assertBody(legacy.response, SENT.legacy, 'close-delimited body');
  assert.equal(legacy.completeness, undefined, 'a FIN-delimited body is complete');
}

describe('read: bodies are byte-identical to what was sent, after decoding', () => {
  it('http/mix (full set: 1 MiB body, gzip/br/deflate, chunked, HEAD/204/304, 100-continue)', async () => {
    const { exs } = await readNoRedact('http/mix');
    checkFullAndSmallBodies(exs);
    const large = find(exs, 'GET', '/download/large.txt');
    assertBody(large.response, SENT.large, '1 MiB largeText body');
    assert.equal(large.response?.wireBodySize, String(1024 * 1024));
    assert.equal(large.response?.contentEncodings, undefined);
    for (const enc of ['br', 'deflate']) {
      const r = find(exs, 'GET', `/api/report?enc=${enc}`);
      assertBody(r.response, SENT.reportJson, `REPORT decoded from ${enc}`);
      assert.deepEqual(r.response?.contentEncodings, [enc]);
      assert.equal(r.response?.wireBodySize, headerOf(r.response, 'content-length'));
      assert.equal(r.completeness, undefined, `${enc}: no decode error`);
    }
  });

  it('http/loopback (small set, TCP checksums unfilled)', async () => {
    const { exs } = await readNoRedact('http/loopback');
    checkFullAndSmallBodies(exs);
  });

  it('vxlan/mirror-lab (lab set inside VXLAN)', async () => {
    const { exs } = await readNoRedact('vxlan/mirror-lab');
    checkCommonBodies(exs);
  });
});

// ------------------------------------------------------------------------------ 4. lossy mirrors

/** A message without its capture times (the lossy captures were recorded in other runs than the whole one). */
function timeless(m: MessageJson | undefined): MessageJson | undefined {
  if (!m) return m;
  const { startMicros: _s, endMicros: _e, ...rest } = m;
  return rest;
}

/** Completeness flags that admit bytes are missing from a message. */
function admitsLoss(e: ExchangeJson, side: 'request' | 'response'): boolean {
  const c = e.completeness ?? {};
  return side === 'request'
    ? !!(c.requestMissing || c.requestBodyPartial)
    : !!(c.responseMissing || c.responseBodyPartial);
}

/**
 * Compares each exchange of a lossy capture with the same exchange (client port + index) of the
 * whole capture, which holds the same traffic: a body that differs from what was sent must be
 * flagged (missing or body partial); headers must be those sent, except a last one cut by the loss.
 */
function checkAgainstWhole(lossy: ExchangeJson[], whole: ExchangeJson[]): string[] {
  const problems: string[] = [];
  for (const e of lossy) {
    const ref = whole.find((w) => w.connection.client.port === e.connection.client.port && (w.index ?? 0) === (e.index ?? 0));
    const label = `port ${e.connection.client.port} #${e.index ?? 0} (${ref?.request?.method} ${ref?.request?.url})`;
    if (!ref) {
      problems.push(`${label}: no such exchange in the whole capture`);
      continue;
    }
    for (const side of ['request', 'response'] as const) {
      const m = e[side];
      const r = ref[side];
      if (!m) {
        if (!admitsLoss(e, side)) problems.push(`${label}: ${side} absent but not flagged ${side}Missing`);
        continue;
      }
      if (!bodyOf(m).equals(bodyOf(r)) && !admitsLoss(e, side)) {
        problems.push(
          `${label}: ${side} body is ${bodyOf(m).length} bytes, ${bodyOf(r).length} were sent, ` +
            `but ${side}BodyPartial is not set (completeness ${JSON.stringify(e.completeness ?? {})})`,
        );
      }
      const sent = r?.headers ?? [];
      const got = m.headers ?? [];
      got.forEach((h, i) => {
        const same = sent.some((s) => s.name === h.name && s.value === h.value);
        const cutLast = i === got.length - 1 && sent.some((s) => s.name === h.name && s.value.startsWith(h.value));
        if (!same && !cutLast) problems.push(`${label}: ${side} header ${h.name}: ${h.value} was never sent`);
      });
    }
  }
  return problems;
}

describe('read: truncated and one-way mirror captures are flagged, nothing corrupt', () => {
  it('vxlan/mirror-lab-truncated: every cut exchange is flagged truncated, exit 0', async () => {
    const { code, exs, stderr } = await readNoRedact('vxlan/mirror-lab-truncated');
    const whole = (await readNoRedact('vxlan/mirror-lab')).exs;
    assert.equal(code, 0, stderr);
    assert.ok(exs.length > 0);
    for (const e of exs) {
      const ref = whole.find((w) => w.connection.client.port === e.connection.client.port && (w.index ?? 0) === (e.index ?? 0));
      const intact = ref !== undefined && JSON.stringify(timeless(e.request)) === JSON.stringify(timeless(ref.request)) &&
        JSON.stringify(timeless(e.response)) === JSON.stringify(timeless(ref.response));
      if (!intact) {
        assert.equal(e.completeness?.truncated, true, `${e.request?.method} ${e.request?.url}: cut by the mirror, flagged truncated`);
      }
    }
    // README: only the two short GETs of connection 1 survive whole: they must be exactly as sent.
    for (const url of ['/stream/chunked', '/api/report?enc=gzip']) {
      const e = find(exs, 'GET', url);
      assert.deepEqual(timeless(e.request), timeless(find(whole, 'GET', url).request), `${url}: request intact`);
      assert.equal(e.completeness?.requestGapBytes, undefined);
      assert.equal(e.completeness?.requestMissing, undefined);
    }
    const stats = JSON.parse(stderr.trim().split('\n').pop()!) as { truncatedBytes: number };
    assert.ok(stats.truncatedBytes > 0, 'truncated bytes counted');
  });

  it('vxlan/mirror-lab-truncated: no body or header claims to be what was sent when bytes are missing', async () => {
    const { exs } = await readNoRedact('vxlan/mirror-lab-truncated');
    const whole = (await readNoRedact('vxlan/mirror-lab')).exs;
    const problems = checkAgainstWhole(exs, whole);
    assert.deepEqual(problems, []);
  });

  it('vxlan/mirror-lab-oneway: responses only, each flagged requestMissing, bodies whole, exit 0', async () => {
    const { code, exs, stderr } = await readNoRedact('vxlan/mirror-lab-oneway');
    const whole = (await readNoRedact('vxlan/mirror-lab')).exs;
    assert.equal(code, 0, stderr);
    assert.equal(exs.length, 4);
    for (const e of exs) {
      assert.equal(e.request, undefined, 'no request was captured');
      assert.equal(e.completeness?.requestMissing, true);
      assert.equal(e.completeness?.responseMissing, undefined);
      assert.equal(e.completeness?.responseBodyPartial, undefined);
    }
    assert.deepEqual(checkAgainstWhole(exs, whole), []);
    // The responses came through whole: the same bodies as in the two-way capture.
    assert.deepEqual(
      exs.map((e) => [e.response?.status, bodyOf(e.response).toString('base64')]),
      whole.map((e) => [e.response?.status, bodyOf(e.response).toString('base64')]),
    );
  });
});
