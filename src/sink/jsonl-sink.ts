import type { Completeness, ConnectionInfo, Exchange, Header, HttpMessageCommon } from '../exchange/record';
import { BoundedMap } from '../util/bounded-map';
import type { ExchangeSink } from './exchange-sink';
import type { ByteOut } from './byte-writer';

/**
 * JSON lines: one proto3-canonical-JSON Exchange per line, byte for byte what
 * `JSON.stringify(exchangeToProtoJson(ex))` gives (src/exchange/proto-json.ts states the mapping), except
 * that each message's `body` comes last in its object.
 *
 * Written by hand for speed (this runs once per exchange and its output is most of the bytes): the text
 * around the bodies is built as one string per piece from constant pieces (field names with their
 * separators and quotes, made once in `K`) and the values, and encoded straight into the writer's buffer
 * (latin1 when the line is ASCII, else UTF-8); bodies are base64-encoded and copied in as latin1, never
 * scanned by JSON.stringify nor re-encoded. Each string value is checked once: one without anything to
 * escape and without non-ASCII goes in as is, the rest through JSON.stringify, so escaping is exactly
 * JSON.stringify's.
 */
export class JsonlSink implements ExchangeSink {
  private readonly line = new Line();

  constructor(private readonly out: ByteOut) {}

  write(ex: Exchange): boolean {
    const l = this.line;
    build(l, ex);
    const out = this.out;
    const texts = l.texts;
    const bodies = l.bodies;
    const ascii = l.ascii;
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

/** A field name's texts: `"name":` when it is the first field of its object, `,"name":` after another. */
class Key {
  readonly first: string;
  readonly later: string;
  /** The same followed by the opening quote of a string value, or by the `{` of an object value. */
  readonly firstQ: string;
  readonly laterQ: string;
  readonly firstO: string;
  readonly laterO: string;

  constructor(name: string) {
    this.first = '"' + name + '":';
    this.later = ',' + this.first;
    this.firstQ = this.first + '"';
    this.laterQ = this.later + '"';
    this.firstO = this.first + '{';
    this.laterO = this.later + '{';
  }
}

/** Every field name the line uses, made once (the line is built from constant pieces and the values). */
const K = {
  connection: new Key('connection'),
  client: new Key('client'),
  server: new Key('server'),
  ip: new Key('ip'),
  port: new Key('port'),
  vni: new Key('vni'),
  source: new Key('source'),
  id: new Key('id'),
  tunnel: new Key('tunnel'),
  tunnelSource: new Key('tunnelSource'),
  request: new Key('request'),
  response: new Key('response'),
  method: new Key('method'),
  url: new Key('url'),
  status: new Key('status'),
  reason: new Key('reason'),
  httpVersion: new Key('httpVersion'),
  headers: new Key('headers'),
  contentEncodings: new Key('contentEncodings'),
  wireBodySize: new Key('wireBodySize'),
  startMicros: new Key('startMicros'),
  endMicros: new Key('endMicros'),
  trailers: new Key('trailers'),
  body: new Key('body'),
  completeness: new Key('completeness'),
  requestMissing: new Key('requestMissing'),
  responseMissing: new Key('responseMissing'),
  requestGapBytes: new Key('requestGapBytes'),
  responseGapBytes: new Key('responseGapBytes'),
  requestBodyPartial: new Key('requestBodyPartial'),
  responseBodyPartial: new Key('responseBodyPartial'),
  truncated: new Key('truncated'),
  midStream: new Key('midStream'),
  parseError: new Key('parseError'),
  decodeError: new Key('decodeError'),
  bodyCapped: new Key('bodyCapped'),
  closeReason: new Key('closeReason'),
  pairingUncertain: new Key('pairingUncertain'),
  redactions: new Key('redactions'),
  index: new Key('index'),
  upgraded: new Key('upgraded'),
  interimStatuses: new Key('interimStatuses'),
};

/** Lay out the line of `ex` in `l`: texts[0], bodies[0], texts[1], ... (each body sits between two texts). */
function build(l: Line, ex: Exchange): void {
  l.texts.length = 0;
  l.bodies.length = 0;
  l.s = '{';
  l.first = true;
  l.ascii = true;
  connection(l, ex.connection);
  const req = ex.request;
  if (req !== undefined) {
    l.open(K.request);
    if (req.method) l.str(K.method, req.method);
    if (req.url) l.str(K.url, req.url);
    message(l, req);
    l.close();
  }
  const res = ex.response;
  if (res !== undefined) {
    l.open(K.response);
    if (res.status) l.num(K.status, res.status);
    if (res.reason) l.str(K.reason, res.reason);
    message(l, res);
    l.close();
  }
  completeness(l, ex.completeness);
  if (ex.redactions.length) {
    l.key(K.redactions);
    let s = '[';
    for (let i = 0; i < ex.redactions.length; i++) {
      const h = ex.redactions[i];
      s += (i === 0 ? '{"rule":"' : ',{"rule":"') + l.inner(h.rule) + '","count":' + jsonNumber(h.count) + '}';
    }
    l.s += s + ']';
  }
  if (ex.index) l.num(K.index, ex.index);
  if (ex.upgraded) l.raw(K.upgraded, 'true');
  if (ex.interimStatuses.length) l.raw(K.interimStatuses, '[' + ex.interimStatuses.map(jsonNumber).join(',') + ']');
  l.texts.push(l.s + '}');
  l.s = '';
}

/** The line being built: `s` is the current text; `first` is true while the innermost open object has no field yet. */
class Line {
  s = '';
  first = true;
  /** False once a string with a non-ASCII character went in: the texts are then written as UTF-8, else as latin1. */
  ascii = true;
  /** The finished pieces: texts[i], then bodies[i] as base64, then texts[i + 1]. */
  readonly texts: string[] = [];
  readonly bodies: Buffer[] = [];

  /**
   * What goes between the quotes of `v` as a JSON string (exactly JSON.stringify's escaping): `v` itself
   * when it has nothing to escape and is ASCII (the quotes are part of the constant pieces around it, so
   * the common case makes no string). Clears `ascii` when `v` has non-ASCII characters.
   */
  inner(v: string): string {
    if (!NOT_PLAIN.test(v)) return v;
    const quoted = JSON.stringify(v);
    if (NON_ASCII.test(quoted)) this.ascii = false;
    return quoted.slice(1, -1);
  }

  key(k: Key): void {
    this.s += this.first ? k.first : k.later;
    this.first = false;
  }

  open(k: Key): void {
    this.s += this.first ? k.firstO : k.laterO;
    this.first = true;
  }

  /** Closing an object that is itself a field: the enclosing object now has a field. */
  close(): void {
    this.s += '}';
    this.first = false;
  }

  /** A body value: ends the current text (with the opening quote), the base64 follows, then the closing quote. */
  body(k: Key, b: Buffer): void {
    this.texts.push(this.s + (this.first ? k.firstQ : k.laterQ));
    this.bodies.push(b);
    this.s = '"';
    this.first = false;
  }

  str(k: Key, v: string): void {
    this.s += (this.first ? k.firstQ : k.laterQ) + this.inner(v) + '"';
    this.first = false;
  }

  num(k: Key, v: number): void {
    this.s += (this.first ? k.first : k.later) + jsonNumber(v);
    this.first = false;
  }

  /** A uint64 field: a decimal string in proto3 JSON. */
  u64(k: Key, v: number): void {
    this.s += (this.first ? k.firstQ : k.laterQ) + u64Text(v) + '"';
    this.first = false;
  }

  raw(k: Key, json: string): void {
    this.s += (this.first ? k.first : k.later) + json;
    this.first = false;
  }
}

/**
 * What a string may not hold to be written as is between quotes: what JSON.stringify escapes ('"', '\\',
 * C0 controls, lone surrogates) and, so that such a string is known to be ASCII, DEL and every non-ASCII
 * character. A string that has any goes through JSON.stringify.
 */
const NOT_PLAIN = /["\\\u0000-\u001f\u007f-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/;

const PAD = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];
let lastHigh = -1;
let lastHighText = '';
/** The last value converted (a message's start and end times are often the same). */
let lastU64 = -1;
let lastU64Text = '';

/**
 * String(v) for a non-negative integer below 2^53, without V8's slow double-to-string path for values
 * past 2^31 (microsecond timestamps): two small-integer conversions, the high part cached (it changes
 * every 100 s of capture time), the last value's text kept.
 */
function u64Text(v: number): string {
  if (v < 2147483648 || !Number.isSafeInteger(v)) return String(v);
  if (v === lastU64) return lastU64Text;
  const high = Math.floor(v / 1e8);
  const low = String((v - high * 1e8) | 0);
  if (high !== lastHigh) {
    lastHigh = high;
    lastHighText = String(high);
  }
  lastU64 = v;
  lastU64Text = lastHighText + (low.length < 8 ? PAD[8 - low.length] : '') + low;
  return lastU64Text;
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** A connection's text, kept while exchanges of it keep coming (several connections interleave). */
interface ConnText {
  conn: ConnectionInfo;
  /** The text has no non-ASCII character. */
  ascii: boolean;
  text: string;
}
const MAX_CONN_TEXTS = 4096;
/** By connection id; cleared when it reaches MAX_CONN_TEXTS (a bound, not an LRU: a miss only costs a rebuild). */
const connTexts = new BoundedMap<number, ConnText>(MAX_CONN_TEXTS);

function sameConnection(a: ConnectionInfo, b: ConnectionInfo): boolean {
  return (
    a.id === b.id && a.client.port === b.client.port && a.server.port === b.server.port && a.client.ip === b.client.ip &&
    a.server.ip === b.server.ip && a.vni === b.vni && a.source === b.source && a.tunnel === b.tunnel && a.tunnelSource === b.tunnelSource
  );
}

/** Appends `"connection":{...}` (always the first field of the line). */
function connection(l: Line, c: ConnectionInfo): void {
  const hit = connTexts.get(c.id);
  if (hit !== undefined && sameConnection(c, hit.conn)) {
    l.s += hit.text;
    l.first = false;
    if (!hit.ascii) l.ascii = false;
    return;
  }
  const before = l.s.length;
  const asciiBefore = l.ascii;
  l.ascii = true;
  connectionFields(l, c);
  const ascii = l.ascii;
  if (!asciiBefore) l.ascii = false;
  const copy: ConnectionInfo = { client: { ...c.client }, server: { ...c.server }, source: c.source, id: c.id, tunnel: c.tunnel, tunnelSource: c.tunnelSource };
  if (c.vni !== undefined) copy.vni = c.vni;
  connTexts.set(c.id, { conn: copy, ascii, text: l.s.slice(before) });
}

function connectionFields(l: Line, c: ConnectionInfo): void {
  l.open(K.connection);
  endpoint(l, K.client, c.client.ip, c.client.port);
  endpoint(l, K.server, c.server.ip, c.server.port);
  if (c.vni !== undefined) l.num(K.vni, c.vni);
  if (c.source) l.str(K.source, c.source);
  if (c.id) l.u64(K.id, c.id);
  if (c.tunnel) l.str(K.tunnel, c.tunnel);
  if (c.tunnelSource) l.str(K.tunnelSource, c.tunnelSource);
  l.close();
}

function endpoint(l: Line, k: Key, ip: string, port: number): void {
  l.open(k);
  if (ip) l.str(K.ip, ip);
  if (port) l.num(K.port, port);
  l.close();
}

function headers(l: Line, k: Key, list: Header[]): void {
  l.key(k);
  let s = '[';
  for (let i = 0; i < list.length; i++) {
    const h = list[i];
    s += (i === 0 ? '{"name":"' : ',{"name":"') + l.inner(h.name) + '","value":"' + l.inner(h.value) + '"}';
  }
  l.s += s + ']';
}

/** The fields of a message after its start-line fields; the body last. */
function message(l: Line, m: HttpMessageCommon): void {
  if (m.httpVersion) l.str(K.httpVersion, m.httpVersion);
  if (m.headers.length) headers(l, K.headers, m.headers);
  if (m.contentEncodings.length) {
    l.key(K.contentEncodings);
    let s = '[';
    for (let i = 0; i < m.contentEncodings.length; i++) s += (i === 0 ? '"' : ',"') + l.inner(m.contentEncodings[i]) + '"';
    l.s += s + ']';
  }
  if (m.wireBodySize) l.u64(K.wireBodySize, m.wireBodySize);
  if (m.startMicros) l.u64(K.startMicros, m.startMicros);
  if (m.endMicros) l.u64(K.endMicros, m.endMicros);
  if (m.trailers.length) headers(l, K.trailers, m.trailers);
  if (m.body.length) l.body(K.body, m.body);
}

function completeness(l: Line, c: Completeness): void {
  if (
    !c.requestMissing && !c.responseMissing && !c.requestGapBytes && !c.responseGapBytes && !c.requestBodyPartial &&
    !c.responseBodyPartial && !c.truncated && !c.midStream && !c.parseError && !c.decodeError && !c.bodyCapped && !c.closeReason &&
    !c.pairingUncertain
  ) {
    return;
  }
  l.open(K.completeness);
  if (c.requestMissing) l.raw(K.requestMissing, 'true');
  if (c.responseMissing) l.raw(K.responseMissing, 'true');
  if (c.requestGapBytes) l.u64(K.requestGapBytes, c.requestGapBytes);
  if (c.responseGapBytes) l.u64(K.responseGapBytes, c.responseGapBytes);
  if (c.requestBodyPartial) l.raw(K.requestBodyPartial, 'true');
  if (c.responseBodyPartial) l.raw(K.responseBodyPartial, 'true');
  if (c.truncated) l.raw(K.truncated, 'true');
  if (c.midStream) l.raw(K.midStream, 'true');
  if (c.parseError) l.str(K.parseError, c.parseError);
  if (c.decodeError) l.str(K.decodeError, c.decodeError);
  if (c.bodyCapped) l.raw(K.bodyCapped, 'true');
  if (c.closeReason) l.str(K.closeReason, c.closeReason);
  if (c.pairingUncertain) l.raw(K.pairingUncertain, 'true');
  l.close();
}
