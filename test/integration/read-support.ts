/**
 * Shared helpers of the `shadowtap read` integration tests (read-*.test.ts): spawn the real CLI
 * (bin/shadowtap.js, which loads dist/), parse its JSON lines, read the tshark expectations beside
 * each capture (pcaps/NAME.expected.tsv) and match them against the exchanges, and reproduce the
 * exact bytes the capture generators sent (pcaps/gen/fixtures.js plus the constants of
 * pcaps/gen/client.js and server.js that those scripts do not export).
 *
 * Paths: this file compiles to dist/test/integration/read-support.js, so the repository root is
 * three levels up.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'bin', 'shadowtap.js');
export const PCAPS = path.join(ROOT, 'pcaps');
/** The shared corpus lives beside the repository (/work/shared/corpus next to /work/main). */
export const SHARED_CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus');

/** A fixed redaction key (64 hex digits = 32 bytes) so redacted output is reproducible. */
export const TEST_REDACT_KEY = '5eed'.repeat(16);

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Bytes written to the child's stdin (then closed); stdin is /dev/null otherwise. */
  stdin?: Buffer;
  /** Extra environment; SHADOWTAP_REDACT_KEY and SHADOWTAP_STATE_DIR are always set to test values. */
  env?: Record<string, string>;
  /** Kill the child after this many ms (a hung CLI fails the test instead of the whole run). */
  timeoutMs?: number;
}

let stateDir: string | undefined;
/** A private state dir, so a run without SHADOWTAP_REDACT_KEY never writes a key into $HOME. */
function testStateDir(): string {
  if (stateDir === undefined) {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-it-'));
    process.on('exit', () => fs.rmSync(stateDir as string, { recursive: true, force: true }));
  }
  return stateDir;
}

/** Runs `node bin/shadowtap.js ...args` from the repository root and collects everything. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        SHADOWTAP_REDACT_KEY: TEST_REDACT_KEY,
        SHADOWTAP_STATE_DIR: testStateDir(),
        ...opts.env,
      },
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (opts.stdin) {
      child.stdin!.on('error', () => undefined); // the CLI may exit before reading everything
      child.stdin!.end(opts.stdin);
    }
  });
}

/** Memoised runs: several tests look at the same output, the CLI runs once per argument list. */
const memo = new Map<string, Promise<CliResult>>();
export function runCliOnce(args: string[]): Promise<CliResult> {
  const key = JSON.stringify(args);
  let p = memo.get(key);
  if (p === undefined) {
    p = runCli(args);
    memo.set(key, p);
  }
  return p;
}

/** Proto3 JSON of one exchange, as much of it as the tests read. */
export interface HeaderJson {
  name: string;
  value: string;
}
export interface MessageJson {
  method?: string;
  url?: string;
  status?: number;
  reason?: string;
  httpVersion?: string;
  headers?: HeaderJson[];
  body?: string;
  contentEncodings?: string[];
  wireBodySize?: string;
  startMicros?: string;
  endMicros?: string;
  trailers?: HeaderJson[];
}
export interface ExchangeJson {
  connection: {
    client: { ip?: string; port?: number };
    server: { ip?: string; port?: number };
    vni?: number;
    source?: string;
    id?: string;
    tunnel?: string;
    tunnelSource?: string;
  };
  request?: MessageJson;
  response?: MessageJson;
  completeness?: Record<string, unknown>;
  redactions?: Array<{ rule: string; count: number }>;
  index?: number;
  upgraded?: boolean;
  interimStatuses?: number[];
}

/** Parses JSON lines; a line that is not JSON fails with its number. */
export function parseJsonl(buf: Buffer | string): ExchangeJson[] {
  const text = typeof buf === 'string' ? buf : buf.toString('utf8');
  const out: ExchangeJson[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l === '') continue;
    try {
      out.push(JSON.parse(l) as ExchangeJson);
    } catch (e) {
      throw new Error(`output line ${i + 1} is not JSON: ${(e as Error).message}: ${l.slice(0, 120)}`);
    }
  }
  return out;
}

/** The decoded body bytes of a message ('' base64 when absent, as proto3 JSON omits empty bytes). */
export function bodyOf(m: MessageJson | undefined): Buffer {
  return Buffer.from(m?.body ?? '', 'base64');
}

/** First value of header `name` (any case), or undefined. */
export function headerOf(m: MessageJson | undefined, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const h of m?.headers ?? []) if (h.name.toLowerCase() === n) return h.value;
  return undefined;
}

/** Exchanges grouped by connection id, each list in `index` order; map in first-seen order. */
export function byConnection(exs: ExchangeJson[]): Map<string, ExchangeJson[]> {
  const m = new Map<string, ExchangeJson[]>();
  for (const e of exs) {
    const id = e.connection.id ?? '0';
    let l = m.get(id);
    if (!l) m.set(id, (l = []));
    l.push(e);
  }
  for (const l of m.values()) l.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return m;
}

// ---------------------------------------------------------------------------------- tshark rows

export interface TsvRow {
  frame: number;
  stream: number;
  vni: number | undefined;
  method: string;
  uri: string;
  status: number | undefined;
}

/**
 * Reads a tshark expectation file. Columns are found by header name, so both pcaps/*.expected.tsv
 * (frame stream vxlan_vni method uri status) and the corpus' *.tshark.tsv (with geneve_vni and
 * request_in) work.
 */
export function readTsv(file: string): TsvRow[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const head = lines[0].split('\t');
  const col = (name: string): number => head.indexOf(name);
  const [cFrame, cStream, cVni, cMethod, cUri, cStatus] = ['frame', 'stream', 'vxlan_vni', 'method', 'uri', 'status'].map(col);
  if (cFrame < 0 || cStream < 0 || cMethod < 0 || cUri < 0 || cStatus < 0) throw new Error(`${file}: unexpected header ${lines[0]}`);
  return lines.slice(1).map((l) => {
    const f = l.split('\t');
    const num = (i: number): number | undefined => (i >= 0 && f[i] !== undefined && f[i] !== '' ? Number(f[i]) : undefined);
    return {
      frame: Number(f[cFrame]),
      stream: Number(f[cStream]),
      vni: num(cVni),
      method: f[cMethod] ?? '',
      uri: f[cUri] ?? '',
      status: num(cStatus),
    };
  });
}

/** What tshark saw on one TCP stream, in HTTP/1 order: requests, final responses, and 1xx per final. */
export interface TsharkStream {
  stream: number;
  vni: number | undefined;
  requests: Array<{ method: string; uri: string }>;
  finals: number[];
  /** interims[k]: the 1xx statuses that came before final response k. */
  interims: number[][];
}

export function tsharkStreams(rows: TsvRow[]): TsharkStream[] {
  const m = new Map<number, TsharkStream>();
  for (const r of rows) {
    let s = m.get(r.stream);
    if (!s) m.set(r.stream, (s = { stream: r.stream, vni: r.vni, requests: [], finals: [], interims: [[]] }));
    if (r.status === undefined) {
      s.requests.push({ method: r.method, uri: r.uri });
    } else if (r.status < 200) {
      s.interims[s.finals.length].push(r.status);
    } else {
      s.finals.push(r.status);
      s.interims.push([]);
    }
  }
  return [...m.values()];
}

/**
 * Why connection `exs` does not carry tshark stream `s` (HTTP/1 pairs the k-th request with the
 * k-th final response), or '' when it does.
 */
export function streamMismatch(s: TsharkStream, exs: ExchangeJson[]): string {
  const n = Math.max(s.requests.length, s.finals.length);
  if (exs.length < n) return `${exs.length} exchanges, tshark has ${n}`;
  for (let k = 0; k < n; k++) {
    const e = exs[k];
    const rq = s.requests[k];
    if (rq && (e.request?.method !== rq.method || e.request?.url !== rq.uri)) {
      return `exchange ${k}: request ${e.request?.method} ${e.request?.url}, tshark ${rq.method} ${rq.uri}`;
    }
    const st = s.finals[k];
    if (st !== undefined && e.response?.status !== st) return `exchange ${k}: status ${e.response?.status}, tshark ${st}`;
    const want = s.interims[k] ?? [];
    const got = e.interimStatuses ?? [];
    if (st !== undefined && JSON.stringify(want) !== JSON.stringify(got)) {
      return `exchange ${k}: interimStatuses ${JSON.stringify(got)}, tshark ${JSON.stringify(want)}`;
    }
    if ((e.connection.vni ?? undefined) !== s.vni) return `exchange ${k}: vni ${e.connection.vni}, tshark ${s.vni}`;
  }
  return '';
}

/**
 * Maps every tshark stream to a distinct connection of the output that carries it. Throws with
 * the reasons when some stream has no match.
 */
export function matchStreams(streams: TsharkStream[], exs: ExchangeJson[]): Map<number, ExchangeJson[]> {
  const conns = [...byConnection(exs).values()];
  const used = new Set<ExchangeJson[]>();
  const out = new Map<number, ExchangeJson[]>();
  const problems: string[] = [];
  for (const s of streams) {
    const why: string[] = [];
    const hit = conns.find((c) => {
      if (used.has(c)) return false;
      const m = streamMismatch(s, c);
      if (m) why.push(`conn ${c[0].connection.id} (port ${c[0].connection.client.port}): ${m}`);
      return m === '';
    });
    if (hit) {
      used.add(hit);
      out.set(s.stream, hit);
    } else {
      problems.push(`tshark stream ${s.stream} (${s.requests.map((r) => r.method + ' ' + r.uri).join(', ')}; ${s.finals.join(',')}) not found:\n    ${why.join('\n    ')}`);
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return out;
}

// ------------------------------------------------------------------------- what the generators sent

export interface Fixtures {
  PII: Record<'email' | 'email2' | 'card' | 'phone' | 'ssn' | 'bearer' | 'session', string>;
  FIXED_DATE: string;
  largeText(size: number, seed: number): Buffer;
  USERS: Record<string, Record<string, unknown>>;
  REPORT: Record<string, unknown>;
  APP_JS: string;
}

export const fixtures = require(path.join(PCAPS, 'gen', 'fixtures.js')) as Fixtures;
const { PII } = fixtures;

/**
 * The bytes of pcaps/gen/server.js and client.js that those scripts build inline (not exported):
 * written out again here from the same fixtures. A change in a generator shows up as a failing
 * body comparison, which is the point.
 */
export const SENT = (() => {
  const chunks = [
    '{"events":[\n',
    '{"type":"login","user":"' + PII.email + '","ip":"10.0.0.7"},\n',
    '{"type":"payment","card":"' + PII.card + '","amount":"19.99"},\n',
    '{"type":"sms","to":"' + PII.phone + '"}\n]}\n',
  ];
  const order = JSON.stringify({
    customer: { name: 'Jane Doe', email: PII.email, phone: PII.phone },
    payment: { card: PII.card, expiry: '12/30', cvv: '123' },
    items: [{ sku: 'SKU-1001', qty: 2 }, { sku: 'SKU-2002', qty: 1 }],
  });
  const upload = 'name,email,phone,card\n' +
    Array.from({ length: 8 }, (_, i) => `Jane Doe ${i},${PII.email},${PII.phone},${PII.card}\n`).join('');
  return {
    /** server.js LARGE */
    large: fixtures.largeText(1024 * 1024, 0x5eed),
    /** server.js REPORT_JSON, served gzip/br/deflate-encoded */
    reportJson: Buffer.from(JSON.stringify(fixtures.REPORT, null, 1)),
    /** server.js CHUNKS (the chunked body without framing) and its trailer */
    chunked: Buffer.from(chunks.join('')),
    chunkedSha: crypto.createHash('sha256').update(chunks.join('')).digest('hex'),
    notFound: '<!doctype html>\n<html><head><title>404 Not Found</title></head>\n' +
      '<body><h1>Not Found</h1><p>No route for this path. Contact support@example.com.</p></body></html>\n',
    legacy: 'LEGACY REPORT\nname: Jane Doe\nemail: ' + PII.email + '\nphone: ' + PII.phone +
      '\nThis body has no Content-Length: it ends when the server closes the connection.\n',
    /** client.js ORDER and the server's 201 echo */
    order,
    orderEcho: JSON.stringify({ id: 'ord_0001', status: 'accepted', order: JSON.parse(order) }),
    /** client.js UPLOAD (the 100-continue POST body) and the server's answer */
    upload,
    uploadAnswer: JSON.stringify({ received_bytes: upload.length, sha256: crypto.createHash('sha256').update(upload).digest('hex') }),
    users: (id: 1 | 2): string => JSON.stringify(fixtures.USERS[id]),
    appJs: fixtures.APP_JS,
  };
})();

// ------------------------------------------------------------------------------------- diffs

function short(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > 90 ? `${s.slice(0, 60)}…(${s.length} chars)` : s;
}

/** Paths at which two JSON values differ, e.g. `response.headers[3].value: "93" != "94"`. */
export function jsonDiffPaths(a: unknown, b: unknown, at = '', out: string[] = [], max = 8): string[] {
  if (out.length >= max) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) {
      const p = Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      jsonDiffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p, out, max);
    }
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${at || '(root)'}: got ${short(a)}, golden ${short(b)}`);
  return out;
}

/** A short line-and-field diff of JSON lines outputs; '' when equal. */
export function jsonlDiff(got: string, golden: string): string {
  if (got === golden) return '';
  const g = got.split('\n');
  const w = golden.split('\n');
  const out: string[] = [];
  if (g.length !== w.length) out.push(`line count: got ${g.length}, golden ${w.length}`);
  let shown = 0;
  for (let i = 0; i < Math.max(g.length, w.length) && shown < 5; i++) {
    if (g[i] === w[i]) continue;
    shown++;
    let paths: string[];
    try {
      paths = jsonDiffPaths(g[i] ? JSON.parse(g[i]) : undefined, w[i] ? JSON.parse(w[i]) : undefined);
    } catch {
      paths = [`got ${short(g[i])}`, `golden ${short(w[i])}`];
    }
    out.push(`line ${i + 1}:\n    ${paths.join('\n    ')}`);
  }
  return out.join('\n');
}

/** Lines of stderr that look like a JavaScript stack frame. */
export function stackLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^\s+at\s/.test(l) || /internal error/.test(l));
}

/** Drops `{}` values and empty arrays recursively: proto3 treats an empty sub-message like an absent one. */
export function withoutEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutEmpty);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = withoutEmpty(x);
      if (y !== null && typeof y === 'object' && Object.keys(y).length === 0) continue;
      o[k] = y;
    }
    return o;
  }
  return v;
}
