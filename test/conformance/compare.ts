/**
 * Conformance against tshark: the HTTP requests and responses tshark finds in a capture
 * (FILE.tshark.tsv beside it) must each appear in shadowtap's output, paired alike.
 * A "pair" is method + url + status ('' where a side is missing).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';

export interface Pair {
  method: string;
  url: string;
  status: string;
}

export function pairKey(p: Pair): string {
  return `${p.method || '-'} ${p.url || '-'} ${p.status || '-'}`;
}

/** Reads tshark's TSV (frame, stream, vxlan_vni, geneve_vni, method, uri, status, request_in). */
export function expectedPairs(tsvPath: string): Pair[] {
  const lines = fs.readFileSync(tsvPath, 'utf8').split('\n').filter((l) => l.length > 0).slice(1);
  const requests = new Map<string, Pair>();
  const out: Pair[] = [];
  for (const line of lines) {
    const [frame = '', , , , method = '', uri = '', status = '', requestIn = ''] = line.split('\t');
    if (method) {
      const p: Pair = { method, url: uri, status: '' };
      requests.set(frame, p);
      out.push(p);
    } else if (status) {
      const req = requestIn ? requests.get(requestIn) : undefined;
      if (req && !req.status) req.status = status;
      else out.push({ method: '', url: '', status });
    }
  }
  return out;
}

export interface RunResult {
  pairs: Pair[];
  exitCode: number;
  stats: Record<string, unknown> | undefined;
  stderr: string;
}

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'shadowtap.js');

/** Runs `shadowtap read` (gzip inputs through stdin) and returns the pairs of its output. */
export function runShadowtap(capture: string): RunResult {
  const gz = capture.endsWith('.gz');
  const args = [BIN, 'read', gz ? '-' : capture, '--stats', 'json', '--no-redact', '--no-progress'];
  const r = spawnSync(process.execPath, args, {
    input: gz ? zlib.gunzipSync(fs.readFileSync(capture)) : undefined,
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const pairs: Pair[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const ex = JSON.parse(line) as { request?: { method?: string; url?: string }; response?: { status?: number }; interimStatuses?: number[] };
    pairs.push({ method: ex.request?.method ?? '', url: ex.request?.url ?? '', status: ex.response?.status ? String(ex.response.status) : '' });
    // tshark lists a 1xx interim response (100 Continue) on its own line; shadowtap keeps it on the exchange.
    for (const s of ex.interimStatuses ?? []) pairs.push({ method: '', url: '', status: String(s) });
  }
  let stats: Record<string, unknown> | undefined;
  const lastLine = r.stderr.trim().split('\n').pop() ?? '';
  try {
    stats = JSON.parse(lastLine) as Record<string, unknown>;
  } catch {
    stats = undefined;
  }
  return { pairs, exitCode: r.status ?? -1, stats, stderr: r.stderr };
}

export interface Comparison {
  expected: number;
  found: number;
  missing: Pair[];
  extra: Pair[];
}

/**
 * Multiset comparison. A tshark request whose response tshark did not see may match a shadowtap
 * exchange with any status (shadowtap may legitimately pair more, e.g. after gap recovery).
 */
export function compare(expected: Pair[], actual: Pair[]): Comparison {
  const pool = new Map<string, number>();
  for (const p of actual) pool.set(pairKey(p), (pool.get(pairKey(p)) ?? 0) + 1);
  const missing: Pair[] = [];
  const deferred: Pair[] = [];
  const take = (k: string): boolean => {
    const n = pool.get(k) ?? 0;
    if (n === 0) return false;
    pool.set(k, n - 1);
    return true;
  };
  for (const e of expected) {
    if (take(pairKey(e))) continue;
    if (e.method && !e.status) deferred.push(e);
    else missing.push(e);
  }
  for (const e of deferred) {
    const prefix = `${e.method || '-'} ${e.url || '-'} `;
    const k = [...pool.keys()].find((key) => key.startsWith(prefix) && (pool.get(key) ?? 0) > 0);
    if (!k || !take(k)) missing.push(e);
  }
  const extra: Pair[] = [];
  for (const [k, n] of pool) {
    for (let i = 0; i < n; i++) {
      const [method = '', url = '', status = ''] = k.split(' ');
      extra.push({ method: method === '-' ? '' : method, url: url === '-' ? '' : url, status: status === '-' ? '' : status });
    }
  }
  return { expected: expected.length, found: expected.length - missing.length, missing, extra };
}

/** Every capture in a corpus folder that has a tshark TSV beside it. */
export function corpusFiles(corpusDir: string): string[] {
  const out: string[] = [];
  (function walk(dir: string): void {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|pcap\.gz)$/.test(e.name) && fs.existsSync(p + '.tshark.tsv')) out.push(p);
    }
  })(corpusDir);
  return out.sort();
}
