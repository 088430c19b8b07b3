import type { Exchange, Header } from '../exchange/record';
import type { ExchangeSink } from './exchange-sink';
import type { ByteOut } from './byte-writer';

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), streamed: the document head is written
 * first, then one entry per exchange, then the tail on close, so memory stays flat.
 * Exchanges without a request are still entries (method "", url of the server) so nothing is hidden;
 * completeness flags ride in the custom `_shadowtap` field.
 */
export class HarSink implements ExchangeSink {
  private count = 0;

  constructor(private readonly out: ByteOut, version: string) {
    out.write(`{"log":{"version":"1.2","creator":{"name":"shadowtap","version":${JSON.stringify(version)}},"entries":[\n`);
  }

  write(ex: Exchange): boolean {
    this.writeEntry(JSON.stringify(harEntry(ex)));
    return true;
  }

  /** One entry already written as JSON (UTF-8 bytes when a shard worker made it). */
  writeEntry(json: string | Uint8Array): void {
    if (this.count++) this.out.writeLatin1(',\n');
    if (typeof json === 'string') this.out.writeUtf8(json);
    else this.out.writeBytes(json);
  }

  close(): Promise<void> {
    this.out.write('\n]}}\n');
    return this.out.close();
  }
}

const TEXT_TYPE = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[a-z.+-]*\+(json|xml)))/i;

function header(list: Header[], name: string): string | undefined {
  const n = name.toLowerCase();
  for (const h of list) if (h.name.toLowerCase() === n) return h.value;
  return undefined;
}

function bodyContent(body: Buffer, mimeType: string): { text: string; encoding?: string } {
  if (body.length === 0) return { text: '' };
  if (TEXT_TYPE.test(mimeType)) {
    const text = body.toString('utf8');
    if (!text.includes('\uFFFD')) return { text };
  }
  return { text: body.toString('base64'), encoding: 'base64' };
}

function iso(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString();
}

export function harEntry(ex: Exchange): Record<string, unknown> {
  const req = ex.request;
  const res = ex.response;
  const c = ex.connection;
  const server = c.server.ip.includes(':') ? `[${c.server.ip}]:${c.server.port}` : `${c.server.ip}:${c.server.port}`;
  const host = (req && header(req.headers, 'host')) || server;
  const target = req?.url ?? '/';
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${host}${target.startsWith('/') ? '' : '/'}${target}`;
  let query: Array<{ name: string; value: string }> = [];
  try {
    query = [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    query = [];
  }
  const start = req?.startMicros || res?.startMicros || 0;
  const reqEnd = req?.endMicros || start;
  const resStart = res?.startMicros || reqEnd;
  const resEnd = res?.endMicros || resStart;
  const reqMime = (req && header(req.headers, 'content-type')) || '';
  const resMime = (res && header(res.headers, 'content-type')) || '';
  const entry: Record<string, unknown> = {
    startedDateTime: iso(start),
    time: Math.max(0, (resEnd - start) / 1000),
    request: {
      method: req?.method ?? '',
      url,
      httpVersion: req ? `HTTP/${req.httpVersion}` : '',
      cookies: [],
      headers: req?.headers.map((h) => ({ name: h.name, value: h.value })) ?? [],
      queryString: query,
      headersSize: -1,
      bodySize: req ? req.body.length : -1,
      ...(req && req.body.length ? { postData: { mimeType: reqMime, ...bodyContent(req.body, reqMime) } } : {}),
    },
    response: {
      status: res?.status ?? 0,
      statusText: res?.reason ?? '',
      httpVersion: res ? `HTTP/${res.httpVersion}` : '',
      cookies: [],
      headers: res?.headers.map((h) => ({ name: h.name, value: h.value })) ?? [],
      content: { size: res ? res.body.length : 0, mimeType: resMime, ...(res ? bodyContent(res.body, resMime) : {}) },
      redirectURL: (res && header(res.headers, 'location')) || '',
      headersSize: -1,
      bodySize: res ? res.wireBodySize : -1,
    },
    cache: {},
    timings: {
      send: Math.max(0, (reqEnd - start) / 1000),
      wait: Math.max(0, (resStart - reqEnd) / 1000),
      receive: Math.max(0, (resEnd - resStart) / 1000),
    },
    serverIPAddress: c.server.ip,
    connection: String(c.id),
    _shadowtap: {
      client: `${c.client.ip}:${c.client.port}`,
      ...(c.vni !== undefined ? { vni: c.vni } : {}),
      completeness: ex.completeness,
      redactions: ex.redactions,
    },
  };
  return entry;
}
