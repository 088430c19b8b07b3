import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emptyCompleteness, type Exchange } from '../../../src/exchange/record';

export function tmp(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `shadowtap-${tag}-`));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A small exchange like the pipeline emits for `GET /n` → 200 (n makes it unique). */
export function exchange(n: number, body = 'ok'): Exchange {
  return {
    connection: { client: { ip: '10.0.0.1', port: 40000 + (n % 1000) }, server: { ip: '10.0.0.2', port: 80 }, source: 'file:t', id: 1 + Math.floor(n / 10), tunnel: '', tunnelSource: '' },
    request: {
      method: 'GET', url: `/n/${n}`, httpVersion: '1.1', headers: [{ name: 'Host', value: 'a.example' }], body: Buffer.alloc(0),
      contentEncodings: [], wireBodySize: 0, startMicros: 1_700_000_000_000_000 + n, endMicros: 1_700_000_000_000_000 + n, trailers: [],
    },
    response: {
      status: 200, reason: 'OK', httpVersion: '1.1', headers: [{ name: 'Content-Length', value: String(body.length) }], body: Buffer.from(body),
      contentEncodings: [], wireBodySize: body.length, startMicros: 1_700_000_000_000_100 + n, endMicros: 1_700_000_000_000_100 + n, trailers: [],
    },
    completeness: emptyCompleteness(),
    redactions: [],
    index: n % 10,
    upgraded: false,
    interimStatuses: [],
  };
}
