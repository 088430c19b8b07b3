import type { Completeness, ConnectionInfo, Exchange, Header, HttpMessageCommon } from '../exchange/record';
import type { ExchangeSink } from './exchange-sink';
import { ByteWriter } from './byte-writer';

/**
 * JSON lines: one proto3-canonical-JSON Exchange per line, byte for byte what
 * `JSON.stringify(exchangeToProtoJson(ex))` gives (src/exchange/proto-json.ts states the mapping), except
 * that each message's `body` comes last in its object.
 *
 * Written by hand for speed (this runs once per exchange and its output is most of the bytes): the text
 * around the bodies is built as one string per piece and encoded straight into the writer's buffer as
 * UTF-8; bodies are base64-encoded and copied in as latin1, never scanned by JSON.stringify nor
 * re-encoded. Strings without characters JSON must escape are quoted as is; the rest go through
 * JSON.stringify, so escaping is exactly JSON.stringify's.
 */
export class JsonlSink implements ExchangeSink {
  private readonly line = new Line();

  constructor(private readonly out: ByteWriter) {}

  write(ex: Exchange): boolean {
    const l = this.line;
    // Optimistic pass: strings quoted as they are (quotePlain). The texts are then checked once for what that
    // cannot quote (the structure adds none of it); an exchange that has any is built again with full quoting.
    build(l, ex, true);
    let ascii = true;
    for (let i = 0; i < l.texts.length; i++) {
      if (NOT_PLAIN.test(l.texts[i])) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      build(l, ex, false);
      ascii = true;
      for (let i = 0; i < l.texts.length; i++) if (NON_ASCII.test(l.texts[i])) ascii = false;
    }
    const out = this.out;
    const texts = l.texts;
    const bodies = l.bodies;
    for (let i = 0; i < texts.length; i++) {
      if (ascii) out.writeLatin1(texts[i]);
      else out.writeUtf8(texts[i]);
      if (i < bodies.length) out.writeLatin1(bodies[i].toString('base64'));
    }
    out.writeByte(0x0a);
    texts.length = 0;
    bodies.length = 0;
    return true;
  }

  close(): Promise<void> {
    return this.out.close();
  }
}

/** Lay out the line of `ex` in `l`: texts[0], bodies[0], texts[1], ... (each body sits between two texts). */
function build(l: Line, ex: Exchange, plain: boolean): void {
  l.texts.length = 0;
  l.bodies.length = 0;
  l.s = '{';
  l.first = true;
  l.plain = plain;
  connection(l, ex.connection);
  const req = ex.request;
  if (req !== undefined) {
    l.open('request');
    if (req.method) l.str('method', req.method);
    if (req.url) l.str('url', req.url);
    message(l, req);
    l.close();
  }
  const res = ex.response;
  if (res !== undefined) {
    l.open('response');
    if (res.status) l.num('status', res.status);
    if (res.reason) l.str('reason', res.reason);
    message(l, res);
    l.close();
  }
  completeness(l, ex.completeness);
  if (ex.redactions.length) {
    l.key('redactions');
    let s = '[';
    for (let i = 0; i < ex.redactions.length; i++) {
      const h = ex.redactions[i];
      s += (i === 0 ? '{"rule":' : ',{"rule":') + l.q(h.rule) + ',"count":' + jsonNumber(h.count) + '}';
    }
    l.s += s + ']';
  }
  if (ex.index) l.num('index', ex.index);
  if (ex.upgraded) l.raw('upgraded', 'true');
  if (ex.interimStatuses.length) l.raw('interimStatuses', '[' + ex.interimStatuses.map(jsonNumber).join(',') + ']');
  l.texts.push(l.s + '}');
  l.s = '';
}

/** The line being built: `s` is the current text; `first` is true while the innermost open object has no field yet. */
class Line {
  s = '';
  first = true;
  /** Quote with quotePlain (the optimistic pass) rather than quote. */
  plain = false;
  /** The finished pieces: texts[i], then bodies[i] as base64, then texts[i + 1]. */
  readonly texts: string[] = [];
  readonly bodies: Buffer[] = [];

  q(v: string): string {
    return this.plain ? quotePlain(v) : quote(v);
  }

  key(name: string): void {
    this.s += this.first ? '"' + name + '":' : ',"' + name + '":';
    this.first = false;
  }

  open(name: string): void {
    this.key(name);
    this.s += '{';
    this.first = true;
  }

  /** Closing an object that is itself a field: the enclosing object now has a field. */
  close(): void {
    this.s += '}';
    this.first = false;
  }

  /** A body value: ends the current text (with the opening quote), the base64 follows, then the closing quote. */
  body(b: Buffer): void {
    this.texts.push(this.s + '"');
    this.bodies.push(b);
    this.s = '"';
  }

  str(name: string, v: string): void {
    this.key(name);
    this.s += this.q(v);
  }

  num(name: string, v: number): void {
    this.key(name);
    this.s += jsonNumber(v);
  }

  /** A uint64 field: a decimal string in proto3 JSON. */
  u64(name: string, v: number): void {
    this.key(name);
    this.s += '"' + u64Text(v) + '"';
  }

  raw(name: string, json: string): void {
    this.key(name);
    this.s += json;
  }
}

/** Characters JSON.stringify escapes: '"', '\', C0 controls, and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/**
 * quote() for a string of printable ASCII: one with '"' or '\' (ETag values have quotes) goes to
 * JSON.stringify, the rest is quoted as is. What this gets wrong (C0 controls, DEL, non-ASCII) is
 * found in the finished texts afterwards (NOT_PLAIN).
 */
function quotePlain(s: string): string {
  return s.indexOf('"') === -1 && s.indexOf('\\') === -1 ? '"' + s + '"' : JSON.stringify(s);
}

/** What quotePlain leaves wrong: C0 controls, DEL and every non-ASCII character. Line structure and escapes have none. */
const NOT_PLAIN = /[\u0000-\u001f\u007f-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/;

const PAD = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];
let lastHigh = -1;
let lastHighText = '';

/**
 * String(v) for a non-negative integer below 2^53, without V8's slow double-to-string path for values
 * past 2^31 (microsecond timestamps): two small-integer conversions, the high part cached (it changes
 * every 100 s of capture time).
 */
function u64Text(v: number): string {
  if (v < 2147483648 || !Number.isSafeInteger(v)) return String(v);
  const high = Math.floor(v / 1e8);
  const low = String((v - high * 1e8) | 0);
  if (high !== lastHigh) {
    lastHigh = high;
    lastHighText = String(high);
  }
  return lastHighText + (low.length < 8 ? PAD[8 - low.length] : '') + low;
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** A connection's text, kept while exchanges of it keep coming (several connections interleave). */
interface ConnText {
  conn: ConnectionInfo;
  plain: boolean;
  text: string;
}
/** By connection id; cleared when it reaches MAX_CONN_TEXTS (a bound, not an LRU: a miss only costs a rebuild). */
const connTexts = new Map<number, ConnText>();
const MAX_CONN_TEXTS = 4096;

function sameConnection(a: ConnectionInfo, b: ConnectionInfo): boolean {
  return (
    a.id === b.id && a.client.port === b.client.port && a.server.port === b.server.port && a.client.ip === b.client.ip &&
    a.server.ip === b.server.ip && a.vni === b.vni && a.source === b.source && a.tunnel === b.tunnel && a.tunnelSource === b.tunnelSource
  );
}

/** Appends `"connection":{...}` (always the first field of the line). */
function connection(l: Line, c: ConnectionInfo): void {
  const hit = connTexts.get(c.id);
  if (hit !== undefined && hit.plain === l.plain && sameConnection(c, hit.conn)) {
    l.s += hit.text;
    l.first = false;
    return;
  }
  const before = l.s.length;
  connectionFields(l, c);
  if (connTexts.size >= MAX_CONN_TEXTS) connTexts.clear();
  const copy: ConnectionInfo = { client: { ...c.client }, server: { ...c.server }, source: c.source, id: c.id, tunnel: c.tunnel, tunnelSource: c.tunnelSource };
  if (c.vni !== undefined) copy.vni = c.vni;
  connTexts.set(c.id, { conn: copy, plain: l.plain, text: l.s.slice(before) });
}

function connectionFields(l: Line, c: ConnectionInfo): void {
  l.open('connection');
  endpoint(l, 'client', c.client.ip, c.client.port);
  endpoint(l, 'server', c.server.ip, c.server.port);
  if (c.vni !== undefined) l.num('vni', c.vni);
  if (c.source) l.str('source', c.source);
  if (c.id) l.u64('id', c.id);
  if (c.tunnel) l.str('tunnel', c.tunnel);
  if (c.tunnelSource) l.str('tunnelSource', c.tunnelSource);
  l.close();
}

function endpoint(l: Line, name: string, ip: string, port: number): void {
  l.open(name);
  if (ip) l.str('ip', ip);
  if (port) l.num('port', port);
  l.close();
}

function headers(l: Line, name: string, list: Header[]): void {
  l.key(name);
  let s = '[';
  for (let i = 0; i < list.length; i++) {
    const h = list[i];
    s += (i === 0 ? '{"name":' : ',{"name":') + l.q(h.name) + ',"value":' + l.q(h.value) + '}';
  }
  l.s += s + ']';
}

/** The fields of a message after its start-line fields; the body last. */
function message(l: Line, m: HttpMessageCommon): void {
  if (m.httpVersion) l.str('httpVersion', m.httpVersion);
  if (m.headers.length) headers(l, 'headers', m.headers);
  if (m.contentEncodings.length) {
    l.key('contentEncodings');
    let s = '[';
    for (let i = 0; i < m.contentEncodings.length; i++) s += (i === 0 ? '' : ',') + l.q(m.contentEncodings[i]);
    l.s += s + ']';
  }
  if (m.wireBodySize) l.u64('wireBodySize', m.wireBodySize);
  if (m.startMicros) l.u64('startMicros', m.startMicros);
  if (m.endMicros) l.u64('endMicros', m.endMicros);
  if (m.trailers.length) headers(l, 'trailers', m.trailers);
  if (m.body.length) {
    l.key('body');
    l.body(m.body);
  }
}

function completeness(l: Line, c: Completeness): void {
  if (
    !c.requestMissing && !c.responseMissing && !c.requestGapBytes && !c.responseGapBytes && !c.requestBodyPartial &&
    !c.responseBodyPartial && !c.truncated && !c.midStream && !c.parseError && !c.decodeError && !c.bodyCapped && !c.closeReason &&
    !c.pairingUncertain
  ) {
    return;
  }
  l.open('completeness');
  if (c.requestMissing) l.raw('requestMissing', 'true');
  if (c.responseMissing) l.raw('responseMissing', 'true');
  if (c.requestGapBytes) l.u64('requestGapBytes', c.requestGapBytes);
  if (c.responseGapBytes) l.u64('responseGapBytes', c.responseGapBytes);
  if (c.requestBodyPartial) l.raw('requestBodyPartial', 'true');
  if (c.responseBodyPartial) l.raw('responseBodyPartial', 'true');
  if (c.truncated) l.raw('truncated', 'true');
  if (c.midStream) l.raw('midStream', 'true');
  if (c.parseError) l.str('parseError', c.parseError);
  if (c.decodeError) l.str('decodeError', c.decodeError);
  if (c.bodyCapped) l.raw('bodyCapped', 'true');
  if (c.closeReason) l.str('closeReason', c.closeReason);
  if (c.pairingUncertain) l.raw('pairingUncertain', 'true');
  l.close();
}
