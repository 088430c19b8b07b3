/**
 * Helpers for the end-to-end tests on ../shared/lab/mirror-lab.sh: bring a lab up/down, run the
 * project's capture generators (pcaps/gen/server.js in the server namespace, client.js "full" in
 * the client namespace) across the mirrored link, and know which bodies were sent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const LAB = process.env.MIRROR_LAB ?? path.join(ROOT, '..', 'shared', 'lab', 'mirror-lab.sh');
const GEN = path.join(ROOT, 'pcaps', 'gen');

/** Why the lab tests cannot run here, or '' when they can. */
export function labSkipReason(): string {
  if (process.platform !== 'linux') return 'mirror lab needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'mirror lab needs root (network namespaces, tc)';
  if (!fs.existsSync(LAB)) return `mirror lab script not found at ${LAB} (set MIRROR_LAB)`;
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` is not usable here';
  return '';
}

export type LabEnv = Record<string, string>;

/** `mirror-lab.sh -p PREFIX OPTS up`; returns the MIRROR_LAB_* variables. Throws with the lab's stderr. */
export function labUp(prefix: string, opts: string[]): LabEnv {
  const r = spawnSync(LAB, ['-p', prefix, '-q', ...opts, 'up'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`mirror-lab.sh up ${opts.join(' ')} failed (${r.status}): ${r.stderr}`);
  const env: LabEnv = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(MIRROR_LAB_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/\\(.)/g, '$1');
  }
  return env;
}

export function labDown(prefix: string, opts: string[] = []): void {
  spawnSync(LAB, ['-p', prefix, '-q', ...opts, 'down'], { encoding: 'utf8', timeout: 60_000 });
}

export function nsExec(ns: string): string[] {
  return ns ? ['ip', 'netns', 'exec', ns] : [];
}

/** Runs a command in a namespace to completion. */
export function inNs(ns: string, cmd: string[], timeoutMs = 60_000): { status: number; stdout: string; stderr: string } {
  const full = [...nsExec(ns), ...cmd];
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** GET over curl inside a namespace (the agent's HTTP port lives there). */
export function nsHttpGet(ns: string, url: string): { status: number; body: string } {
  const r = inNs(ns, ['curl', '-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}', url], 10_000);
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)) || 0, body: r.stdout.slice(0, i) };
}

/** Starts pcaps/gen/server.js in the server namespace; resolves once it listens. */
export async function startServer(env: LabEnv, readyFile: string): Promise<ChildProcess> {
  fs.rmSync(readyFile, { force: true });
  const cmd = [...nsExec(env.MIRROR_LAB_SERVER_NS), process.execPath, path.join(GEN, 'server.js'), env.MIRROR_LAB_SERVER_IP, env.MIRROR_LAB_SERVER_PORT, readyFile];
  const p = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  for (let i = 0; i < 200 && !fs.existsSync(readyFile); i++) await new Promise((r) => setTimeout(r, 25));
  if (!fs.existsSync(readyFile)) throw new Error('HTTP server did not start in the server namespace');
  return p;
}

/**
 * A TCP server in the server namespace that accepts and never answers (port+1): a request sent to
 * it stays open until the agent is stopped, so SIGTERM must flush it.
 */
export function startSilentServer(env: LabEnv): ChildProcess {
  const port = Number(env.MIRROR_LAB_SERVER_PORT) + 1;
  const js = `require('net').createServer((s)=>{s.on('data',()=>{});}).listen(${port}, ${JSON.stringify(env.MIRROR_LAB_SERVER_IP)})`;
  const cmd = [...nsExec(env.MIRROR_LAB_SERVER_NS), process.execPath, '-e', js];
  return spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
}

/** Sends one request to the silent server from the client namespace and keeps the connection open. */
export function startHangingRequest(env: LabEnv): ChildProcess {
  const port = Number(env.MIRROR_LAB_SERVER_PORT) + 1;
  const js =
    `const s=require('net').connect(${port}, ${JSON.stringify(env.MIRROR_LAB_SERVER_IP)}, ()=>s.write('GET /hangs HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n'));` +
    `s.on('error',()=>{}); setTimeout(()=>{}, 600000);`;
  const cmd = [...nsExec(env.MIRROR_LAB_CLIENT_NS), process.execPath, '-e', js];
  return spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
}

/** Runs pcaps/gen/client.js SET in the client namespace. Returns its stdout ("req\tM\tURI" / "resp\tS" lines). */
export function runClient(env: LabEnv, set = 'full', localBase = 41000): { status: number; stdout: string; stderr: string } {
  return inNs(env.MIRROR_LAB_CLIENT_NS, [process.execPath, path.join(GEN, 'client.js'), env.MIRROR_LAB_SERVER_IP, env.MIRROR_LAB_SERVER_PORT, set, String(localBase)], 120_000);
}

/** Requests the client wrote, as "METHOD URI", in order. */
export function clientRequests(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('req\t'))
    .map((l) => l.split('\t').slice(1).join(' '));
}

export interface ExpectedBodies {
  request: Buffer;
  response: Buffer;
}

/**
 * What client.js "full" sends and server.js answers, per "METHOD URI" (bodies after removing
 * chunked framing and Content-Encoding), rebuilt from pcaps/gen/fixtures.js the same way the
 * generators build them.
 */
export function expectedBodies(): Map<string, ExpectedBodies> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fx = require(path.join(GEN, 'fixtures.js')) as {
    PII: Record<string, string>;
    largeText: (size: number, seed: number) => Buffer;
    USERS: Record<string, unknown>;
    REPORT: unknown;
    APP_JS: string;
  };
  const { PII } = fx;
  const ORDER = JSON.stringify({
    customer: { name: 'Jane Doe', email: PII.email, phone: PII.phone },
    payment: { card: PII.card, expiry: '12/30', cvv: '123' },
    items: [{ sku: 'SKU-1001', qty: 2 }, { sku: 'SKU-2002', qty: 1 }],
  });
  const UPLOAD = 'name,email,phone,card\n' + Array.from({ length: 8 }, (_, i) => `Jane Doe ${i},${PII.email},${PII.phone},${PII.card}\n`).join('');
  const CHUNKS = [
    '{"events":[\n',
    '{"type":"login","user":"' + PII.email + '","ip":"10.0.0.7"},\n',
    '{"type":"payment","card":"' + PII.card + '","amount":"19.99"},\n',
    '{"type":"sms","to":"' + PII.phone + '"}\n]}\n',
  ];
  const NOT_FOUND =
    '<!doctype html>\n<html><head><title>404 Not Found</title></head>\n' +
    '<body><h1>Not Found</h1><p>No route for this path. Contact support@example.com.</p></body></html>\n';
  const LEGACY =
    'LEGACY REPORT\nname: Jane Doe\nemail: ' + PII.email + '\nphone: ' + PII.phone +
    '\nThis body has no Content-Length: it ends when the server closes the connection.\n';
  const report = JSON.stringify(fx.REPORT, null, 1);
  const B = (s: string | Buffer): Buffer => (Buffer.isBuffer(s) ? s : Buffer.from(s));
  const none = Buffer.alloc(0);
  const m = new Map<string, ExpectedBodies>();
  const set = (k: string, res: string | Buffer, req: string | Buffer = none): void => void m.set(k, { request: B(req), response: B(res) });
  set('GET /api/users/1', JSON.stringify(fx.USERS['1']));
  set('GET /api/users/2', JSON.stringify(fx.USERS['2']));
  set('GET /static/app.js', fx.APP_JS); // the conditional GET's 304 has no body: handled by status
  for (const n of [1, 2, 3]) set(`GET /p/${n}`, `pipelined response ${n}\n`);
  set('GET /stream/chunked', CHUNKS.join(''));
  for (const e of ['gzip', 'br', 'deflate']) set(`GET /api/report?enc=${e}`, report);
  set('GET /download/large.txt', fx.largeText(1024 * 1024, 0x5eed));
  set('HEAD /api/users/1', none);
  set('DELETE /api/users/3', none);
  set('GET /missing/page.html', NOT_FOUND);
  set('POST /api/upload', JSON.stringify({ received_bytes: UPLOAD.length, sha256: crypto.createHash('sha256').update(UPLOAD).digest('hex') }), UPLOAD);
  set('POST /api/orders', JSON.stringify({ id: 'ord_0001', status: 'accepted', order: JSON.parse(ORDER) }), ORDER);
  set('GET /legacy/report.txt', LEGACY);
  return m;
}

/** True when nothing in the exchange's completeness says a side lost or cut bytes. */
export function requestWhole(c: Record<string, any>): boolean {
  return !c.requestMissing && !c.requestGapBytes && !c.requestBodyPartial && !c.truncated && !c.parseError && !c.bodyCapped;
}
export function responseWhole(c: Record<string, any>): boolean {
  return !c.responseMissing && !c.responseGapBytes && !c.responseBodyPartial && !c.truncated && !c.parseError && !c.decodeError && !c.bodyCapped;
}

import assert from 'node:assert/strict';
import { startAgent, readJsonl, metricValue } from './mirror-agent';

export interface ScenarioResult {
  env: LabEnv;
  requests: string[];
  exchanges: Array<Record<string, any>>;
  /** /metrics just before SIGTERM. */
  metrics: string;
  readyBefore: number;
  healthzAfterTraffic: number;
  exitCode: number;
  agentLog: string;
}

/**
 * One end-to-end run: lab up with `labOpts`, server.js in the server namespace, the agent in the
 * target namespace, client.js "full" in the client namespace (plus, with `hang`, one request that is
 * never answered), wait until the agent has seen every mirrored packet, SIGTERM, read the output.
 */
export async function runScenario(prefix: string, labOpts: string[], outFile: string, hang = false): Promise<ScenarioResult> {
  const env = labUp(prefix, labOpts);
  const tns = env.MIRROR_LAB_TARGET_NS;
  const procs: ChildProcess[] = [];
  const agent = startAgent(
    ['--listen', `${env.MIRROR_LAB_TARGET_IP}:${env.MIRROR_LAB_TARGET_PORT}`, '--no-redact', '-o', outFile, '--http-port', '9465', '--health-port', '4789', '--stats-interval', '0'],
    nsExec(tns),
  );
  try {
    procs.push(await startServer(env, `${outFile}.ready`));
    if (hang) procs.push(startSilentServer(env));
    await agent.started();
    const readyBefore = nsHttpGet(tns, `http://${env.MIRROR_LAB_TARGET_IP}:9465/readyz`).status;
    const client = runClient(env);
    assert.equal(client.status, 0, `client.js failed: ${client.stderr}`);
    if (hang) {
      procs.push(startHangingRequest(env));
      await new Promise((r) => setTimeout(r, 500));
    }
    // Wait until the agent's packet count stops moving.
    let metrics = '';
    let last = -1;
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      metrics = nsHttpGet(tns, `http://${env.MIRROR_LAB_TARGET_IP}:9465/metrics`).body;
      const n = metricValue(metrics, 'shadowtap_packets_received_total') ?? -1;
      if (n === last && n > 0) break;
      last = n;
    }
    const healthzAfterTraffic = nsHttpGet(tns, `http://${env.MIRROR_LAB_TARGET_IP}:9465/healthz`).status;
    assert.equal(agent.proc.exitCode, null, `the agent died: ${agent.stderr()}`);
    const exitCode = await agent.stop('SIGTERM');
    return { env, requests: clientRequests(client.stdout), exchanges: readJsonl(outFile), metrics, readyBefore, healthzAfterTraffic, exitCode, agentLog: agent.stderr() };
  } finally {
    await agent.stop('SIGKILL');
    for (const p of procs) p.kill('SIGKILL');
  }
}

const NO_BODY_STATUS = new Set([204, 304]);

/**
 * "Nothing corrupt": every body the agent did not flag (gap, partial, truncated, missing, parse or
 * decode error) is byte-identical to what was sent; no request appears more often than it was
 * sent; every exchange carries the lab's VNI. Returns the number of whole exchanges checked.
 */
export function assertNothingCorrupt(r: ScenarioResult, expected: Map<string, ExpectedBodies>): number {
  const sent = new Map<string, number>();
  for (const k of r.requests) sent.set(k, (sent.get(k) ?? 0) + 1);
  const seen = new Map<string, number>();
  const allResponses = new Set([...expected.values()].map((e) => e.response.toString('base64')));
  let whole = 0;
  // Connections whose response stream lost bytes before this exchange: the HTTP layer resyncs at the
  // next status line but cannot know how many responses the gap held, so request↔response pairing
  // after it is uncertain (pipelining). Bodies there must still be bytes that were sent.
  const responseGapSeen = new Set<string>();
  for (const ex of r.exchanges) {
    const c = (ex.completeness ?? {}) as Record<string, any>;
    const connId = String(ex.connection.id);
    // The product flags pairings made while whole messages may have been lost (completeness.pairingUncertain).
    const pairingUncertain = responseGapSeen.has(connId) || c.pairingUncertain === true;
    if (c.responseGapBytes || c.responseMissing) responseGapSeen.add(connId);
    assert.equal(ex.connection.vni ?? 0, Number(r.env.MIRROR_LAB_VNI), 'VNI');
    assert.equal(ex.connection.tunnel, 'vxlan');
    assert.equal(ex.connection.tunnelSource, r.env.MIRROR_LAB_SOURCE_IP);
    const req = ex.request as Record<string, any> | undefined;
    const res = ex.response as Record<string, any> | undefined;
    const key = req ? `${req.method} ${req.url}` : '';
    if (req && !c.requestMissing && !/^\/hangs$/.test(req.url)) {
      seen.set(key, (seen.get(key) ?? 0) + 1);
      assert.ok((seen.get(key) ?? 0) <= (sent.get(key) ?? 0), `"${key}" emitted more often than sent (or never sent)`);
    }
    const exp = expected.get(key);
    if (req && exp && requestWhole(c)) {
      assert.ok(Buffer.from(req.body ?? '', 'base64').equals(exp.request), `request body of ${key} differs`);
    }
    if (res && responseWhole(c)) {
      const body = Buffer.from(res.body ?? '', 'base64');
      if (req && exp && !c.requestMissing && !pairingUncertain) {
        const want = NO_BODY_STATUS.has(res.status) || req.method === 'HEAD' ? Buffer.alloc(0) : exp.response;
        assert.ok(body.equals(want), `response body of ${key} (${res.status}) differs: ${body.length} vs ${want.length} bytes`);
        whole++;
      } else {
        // KNOWN LIMITATION (HTTP layer, reported): on a response-only stream the parser cannot know
        // that a response answered HEAD, so it reads the next response's head as that body. Such a
        // body starts with a status line; it is tolerated here, any other unknown body fails.
        const headAmbiguity = c.requestMissing && /^HTTP\/1\.[01] \d{3} /.test(body.subarray(0, 16).toString('latin1'));
        assert.ok(body.length === 0 || allResponses.has(body.toString('base64')) || headAmbiguity, `response body (${res.status}, ${body.length} bytes${req ? `, paired with ${key}` : ''}) matches nothing sent`);
      }
    }
  }
  return whole;
}
