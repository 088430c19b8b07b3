import type { Exchange, Header, HttpMessageCommon } from '../exchange/record';
import { emptyCompleteness } from '../exchange/record';
import { toNum } from '../delivery/frame-codec';

/**
 * A decoded protobufjs shadowtap.v1.Exchange message → the TS record (src/exchange/record.ts), so
 * the stored exchanges go through the same JSON lines / HAR writers as `read`. Absent fields take
 * their proto3 defaults; bodies stay views into the decoded bytes (read-only use).
 */
type Msg = Record<string, unknown>;

function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function arr<T = Msg>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
function headers(v: unknown): Header[] {
  return arr(v).map((h) => ({ name: s(h.name), value: s(h.value) }));
}
function bytes(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.alloc(0);
}
function common(m: Msg): HttpMessageCommon {
  return {
    httpVersion: s(m.httpVersion),
    headers: headers(m.headers),
    body: bytes(m.body),
    contentEncodings: arr<string>(m.contentEncodings).map(String),
    wireBodySize: toNum(m.wireBodySize),
    startMicros: toNum(m.startMicros),
    endMicros: toNum(m.endMicros),
    trailers: headers(m.trailers),
  };
}

export function exchangeFromProto(m: Msg): Exchange {
  const c = (m.connection ?? {}) as Msg;
  const client = (c.client ?? {}) as Msg;
  const server = (c.server ?? {}) as Msg;
  const comp = (m.completeness ?? {}) as Msg;
  const base = emptyCompleteness();
  const ex: Exchange = {
    connection: {
      client: { ip: s(client.ip), port: toNum(client.port) },
      server: { ip: s(server.ip), port: toNum(server.port) },
      source: s(c.source),
      id: toNum(c.id),
      tunnel: s(c.tunnel),
      tunnelSource: s(c.tunnelSource),
    },
    completeness: {
      requestMissing: !!comp.requestMissing,
      responseMissing: !!comp.responseMissing,
      requestGapBytes: toNum(comp.requestGapBytes),
      responseGapBytes: toNum(comp.responseGapBytes),
      requestBodyPartial: !!comp.requestBodyPartial,
      responseBodyPartial: !!comp.responseBodyPartial,
      truncated: !!comp.truncated,
      midStream: !!comp.midStream,
      parseError: s(comp.parseError) || base.parseError,
      decodeError: s(comp.decodeError),
      bodyCapped: !!comp.bodyCapped,
      closeReason: s(comp.closeReason),
      pairingUncertain: !!comp.pairingUncertain,
    },
    redactions: arr(m.redactions).map((h) => ({ rule: s(h.rule), count: toNum(h.count) })),
    index: toNum(m.index),
    upgraded: !!m.upgraded,
    interimStatuses: arr(m.interimStatuses).map((n) => toNum(n)),
  };
  // proto3 `optional`: present only when set (protobufjs leaves it undefined or null otherwise).
  if (c.vni !== undefined && c.vni !== null && Object.prototype.hasOwnProperty.call(c, 'vni')) ex.connection.vni = toNum(c.vni);
  if (m.request) {
    const r = m.request as Msg;
    ex.request = { ...common(r), method: s(r.method), url: s(r.url) };
  }
  if (m.response) {
    const r = m.response as Msg;
    ex.response = { ...common(r), status: toNum(r.status), reason: s(r.reason) };
  }
  return ex;
}
