import type { Completeness, Exchange, Header, HttpMessageCommon } from './record';

/**
 * The proto3 canonical JSON mapping of an Exchange, built by hand for speed (the JSON lines sink
 * runs once per exchange). Rules: lowerCamelCase names, default values omitted (false, 0, '',
 * empty lists), bytes as standard base64, uint64 as decimal strings, optional fields present when set.
 */
/** `withBodies` false leaves `body` out (the JSON lines sink splices bodies in itself). */
export function exchangeToProtoJson(ex: Exchange, withBodies = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const c = ex.connection;
  const conn: Record<string, unknown> = {
    client: endpoint(c.client.ip, c.client.port),
    server: endpoint(c.server.ip, c.server.port),
  };
  if (c.vni !== undefined) conn.vni = c.vni;
  if (c.source) conn.source = c.source;
  if (c.id) conn.id = String(c.id);
  if (c.tunnel) conn.tunnel = c.tunnel;
  if (c.tunnelSource) conn.tunnelSource = c.tunnelSource;
  out.connection = conn;
  if (ex.request) {
    const r = message(ex.request, withBodies);
    if (ex.request.method) r.method = ex.request.method;
    if (ex.request.url) r.url = ex.request.url;
    out.request = reorder(r, ['method', 'url']);
  }
  if (ex.response) {
    const r = message(ex.response, withBodies);
    if (ex.response.status) r.status = ex.response.status;
    if (ex.response.reason) r.reason = ex.response.reason;
    out.response = reorder(r, ['status', 'reason']);
  }
  const comp = completeness(ex.completeness);
  if (comp) out.completeness = comp;
  if (ex.redactions.length) out.redactions = ex.redactions.map((h) => ({ rule: h.rule, count: h.count }));
  if (ex.index) out.index = ex.index;
  if (ex.upgraded) out.upgraded = true;
  if (ex.interimStatuses.length) out.interimStatuses = ex.interimStatuses.slice();
  return out;
}

function endpoint(ip: string, port: number): Record<string, unknown> {
  const e: Record<string, unknown> = {};
  if (ip) e.ip = ip;
  if (port) e.port = port;
  return e;
}

function headers(list: Header[]): Array<{ name: string; value: string }> {
  return list.map((h) => ({ name: h.name, value: h.value }));
}

function message(m: HttpMessageCommon, withBodies: boolean): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  if (m.httpVersion) r.httpVersion = m.httpVersion;
  if (m.headers.length) r.headers = headers(m.headers);
  if (withBodies && m.body.length) r.body = m.body.toString('base64');
  if (m.contentEncodings.length) r.contentEncodings = m.contentEncodings.slice();
  if (m.wireBodySize) r.wireBodySize = String(m.wireBodySize);
  if (m.startMicros) r.startMicros = String(m.startMicros);
  if (m.endMicros) r.endMicros = String(m.endMicros);
  if (m.trailers.length) r.trailers = headers(m.trailers);
  return r;
}

function reorder(r: Record<string, unknown>, first: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of first) if (k in r) o[k] = r[k];
  for (const k of Object.keys(r)) if (!(k in o)) o[k] = r[k];
  return o;
}

function completeness(c: Completeness): Record<string, unknown> | undefined {
  const o: Record<string, unknown> = {};
  if (c.requestMissing) o.requestMissing = true;
  if (c.responseMissing) o.responseMissing = true;
  if (c.requestGapBytes) o.requestGapBytes = String(c.requestGapBytes);
  if (c.responseGapBytes) o.responseGapBytes = String(c.responseGapBytes);
  if (c.requestBodyPartial) o.requestBodyPartial = true;
  if (c.responseBodyPartial) o.responseBodyPartial = true;
  if (c.truncated) o.truncated = true;
  if (c.midStream) o.midStream = true;
  if (c.parseError) o.parseError = c.parseError;
  if (c.decodeError) o.decodeError = c.decodeError;
  if (c.bodyCapped) o.bodyCapped = true;
  if (c.closeReason) o.closeReason = c.closeReason;
  if (c.pairingUncertain) o.pairingUncertain = true;
  return Object.keys(o).length ? o : undefined;
}
