/** Builders for Exchange records as the HTTP layer emits them (bodies already de-chunked / decoded). */
import { emptyCompleteness, Exchange, Header } from '../../../src/exchange/record';
import { compileRedactor, defaultRedactConfig, RedactConfig, Redactor } from '../../../src/redact';

export const KEY = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'hex');
export const OTHER_KEY = Buffer.alloc(32, 0x42);

export function hdrs(...pairs: Array<[string, string]>): Header[] {
  return pairs.map(([name, value]) => ({ name, value }));
}

export interface MsgOpts {
  headers?: Header[];
  body?: string | Buffer;
  contentEncodings?: string[];
  trailers?: Header[];
}

function common(o: MsgOpts) {
  const body = typeof o.body === 'string' ? Buffer.from(o.body, 'utf8') : o.body ?? Buffer.alloc(0);
  return {
    httpVersion: '1.1', headers: o.headers ?? [], body, contentEncodings: o.contentEncodings ?? [],
    wireBodySize: body.length, startMicros: 1, endMicros: 2, trailers: o.trailers ?? [],
  };
}

export function exchange(req: MsgOpts & { method?: string; url?: string }, res?: MsgOpts & { status?: number }): Exchange {
  const ex: Exchange = {
    connection: {
      client: { ip: '203.0.113.10', port: 51000 }, server: { ip: '10.1.2.3', port: 80 },
      source: 'test', id: 1, tunnel: '', tunnelSource: '',
    },
    request: { ...common(req), method: req.method ?? 'POST', url: req.url ?? '/' },
    completeness: emptyCompleteness(), redactions: [], index: 0, upgraded: false, interimStatuses: [],
  };
  if (res !== undefined) ex.response = { ...common(res), status: res.status ?? 200, reason: 'OK' };
  return ex;
}

export function redactor(cfg: RedactConfig = defaultRedactConfig(), key = KEY): Redactor {
  return compileRedactor(cfg, key);
}

/** Every byte of the record a sink could write, as one string (headers, url, bodies, trailers). */
export function dump(ex: Exchange): string {
  const parts: string[] = [ex.connection.client.ip, ex.connection.tunnelSource];
  for (const m of [ex.request, ex.response]) {
    if (m === undefined) continue;
    if ('url' in m) parts.push(m.url);
    if ('reason' in m) parts.push(m.reason);
    for (const h of [...m.headers, ...m.trailers]) parts.push(`${h.name}: ${h.value}`);
    parts.push(m.body.toString('latin1'));
    parts.push(m.body.toString('utf8'));
  }
  return parts.join('\n');
}

/** The forms a leaked value could take in the output. */
export function leakForms(v: string): string[] {
  const forms = new Set<string>([v, v.toLowerCase(), encodeURIComponent(v), JSON.stringify(v).slice(1, -1),
    Buffer.from(v).toString('base64').replace(/=+$/, ''), Buffer.from(v).toString('base64url')]);
  const digits = v.replace(/[^0-9]/g, '');
  if (digits.length >= 9 && digits.length >= v.replace(/[\s+-]/g, '').length - 2) forms.add(digits);
  const compact = v.replace(/[\s-]/g, '');
  if (compact !== v && compact.length >= 9) forms.add(compact);
  return [...forms].filter((f) => f.length >= 6);
}

export function rules(ex: Exchange): Record<string, number> {
  const o: Record<string, number> = {};
  for (const r of ex.redactions) o[r.rule] = r.count;
  return o;
}
