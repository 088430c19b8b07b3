/**
 * What crosses the thread boundary for redaction on a worker, in both directions: only the fields the
 * redactor reads (to the worker) and only the fields it may change (back), as one flat array of strings
 * and numbers plus one packed byte buffer for the bodies.
 *
 * Why flat: structured clone writes every object key again for every object; a flat array of primitives
 * is a tag and a copy per value. Why packed bodies: a Buffer view is cloned with its whole backing store
 * (an 8 KiB pool slab, a reassembly slab), so bodies are copied once into one buffer that is transferred.
 *
 * Ownership: encodeBatch copies everything it needs (the exchanges stay the caller's). decodeBatch's
 * exchanges hold views into `bytes`, which they then own. applyResults writes results into the caller's
 * original exchanges; their new bodies are views into the result buffer (or the original body when the
 * redactor left it unchanged).
 */
import type { Exchange, Header, HttpMessageCommon, RequestRecord, ResponseRecord } from '../../exchange/record';
import { emptyCompleteness } from '../../exchange/record';

export type Flat = Array<string | number>;

export interface Packed {
  vals: Flat;
  bytes: Uint8Array;
}

/** Collects body bytes and hands out their offsets; one copy into an exact-size buffer at the end. */
class BodyPacker {
  private parts: Uint8Array[] = [];
  private total = 0;

  add(b: Uint8Array): number {
    this.parts.push(b);
    this.total += b.length;
    return b.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.total);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    this.parts = [];
    return out;
  }
}

function putHeaders(vals: Flat, hs: Header[]): void {
  vals.push(hs.length);
  for (const h of hs) vals.push(h.name, h.value);
}

/** Reads headers written by putHeaders at vals[i]; returns them and the next index. */
function takeHeaders(vals: Flat, i: number, out: Header[]): number {
  const n = vals[i++] as number;
  for (let k = 0; k < n; k++) out.push({ name: vals[i++] as string, value: vals[i++] as string });
  return i;
}

function putMessageIn(vals: Flat, bodies: BodyPacker, m: HttpMessageCommon): void {
  putHeaders(vals, m.headers);
  putHeaders(vals, m.trailers);
  vals.push(m.wireBodySize, m.contentEncodings.length, ...m.contentEncodings, bodies.add(m.body));
}

/** Main → worker: the batch's exchanges as the redactor needs them. */
export function encodeBatch(exs: readonly Exchange[]): Packed {
  const vals: Flat = [exs.length];
  const bodies = new BodyPacker();
  for (const ex of exs) {
    vals.push(ex.connection.server.ip, ex.connection.client.ip, ex.connection.tunnelSource, ex.completeness.decodeError);
    const req = ex.request;
    if (req === undefined) vals.push(0);
    else {
      vals.push(1, req.url);
      putMessageIn(vals, bodies, req);
    }
    const res = ex.response;
    if (res === undefined) vals.push(0);
    else {
      vals.push(1, res.reason);
      putMessageIn(vals, bodies, res);
    }
  }
  return { vals, bytes: bodies.finish() };
}

function emptyMessage(): HttpMessageCommon {
  return { httpVersion: '', headers: [], body: Buffer.alloc(0), contentEncodings: [], wireBodySize: 0, startMicros: 0, endMicros: 0, trailers: [] };
}

/** Cursor over a Packed input; bodies are views of `bytes` in order. */
class Reader {
  i = 0;
  private off = 0;
  constructor(readonly p: Packed) {}

  body(len: number): Buffer {
    const b = Buffer.from(this.p.bytes.buffer, this.p.bytes.byteOffset + this.off, len);
    this.off += len;
    return b;
  }

  message(m: HttpMessageCommon): void {
    const v = this.p.vals;
    this.i = takeHeaders(v, this.i, m.headers);
    this.i = takeHeaders(v, this.i, m.trailers);
    m.wireBodySize = v[this.i++] as number;
    const ne = v[this.i++] as number;
    for (let k = 0; k < ne; k++) m.contentEncodings.push(v[this.i++] as string);
    m.body = this.body(v[this.i++] as number);
  }
}

/**
 * Worker side: exchange records with the transferred fields filled in and the rest empty (the redactor
 * reads nothing else). Bodies are views of `p.bytes`.
 */
export function decodeBatch(p: Packed): Exchange[] {
  const r = new Reader(p);
  const v = p.vals;
  const n = v[r.i++] as number;
  const out: Exchange[] = [];
  for (let k = 0; k < n; k++) {
    const server = v[r.i++] as string;
    const client = v[r.i++] as string;
    const tunnelSource = v[r.i++] as string;
    const completeness = emptyCompleteness();
    completeness.decodeError = v[r.i++] as string;
    const ex: Exchange = {
      connection: { client: { ip: client, port: 0 }, server: { ip: server, port: 0 }, source: '', id: 0, tunnel: '', tunnelSource },
      completeness,
      redactions: [],
      index: k,
      upgraded: false,
      interimStatuses: [],
    };
    if (v[r.i++] === 1) {
      const req = { ...emptyMessage(), method: '', url: v[r.i++] as string } as RequestRecord;
      r.message(req);
      ex.request = req;
    }
    if (v[r.i++] === 1) {
      const res = { ...emptyMessage(), status: 0, reason: v[r.i++] as string } as ResponseRecord;
      r.message(res);
      ex.response = res;
    }
    out.push(ex);
  }
  return out;
}

/** Body length, or -1 when the redactor left the very input body in place (nothing is sent back). */
function putMessageOut(vals: Flat, bodies: BodyPacker, m: HttpMessageCommon, inputBody: Buffer | undefined): void {
  putHeaders(vals, m.headers);
  putHeaders(vals, m.trailers);
  vals.push(m.body === inputBody ? -1 : bodies.add(m.body));
}

/**
 * Worker → main: what the redactor may have changed, for exchanges redacted in place by it. `inputBodies`
 * holds each exchange's request and response body as decoded (two entries per exchange) to detect bodies
 * left unchanged.
 */
export function encodeResults(exs: readonly Exchange[], inputBodies: ReadonlyArray<Buffer | undefined>): Packed {
  const vals: Flat = [exs.length];
  const bodies = new BodyPacker();
  for (let k = 0; k < exs.length; k++) {
    const ex = exs[k];
    if (ex.request !== undefined) {
      vals.push(ex.request.url);
      putMessageOut(vals, bodies, ex.request, inputBodies[2 * k]);
    }
    if (ex.response !== undefined) {
      vals.push(ex.response.reason);
      putMessageOut(vals, bodies, ex.response, inputBodies[2 * k + 1]);
    }
    vals.push(ex.connection.client.ip, ex.connection.tunnelSource, ex.redactions.length);
    for (const h of ex.redactions) vals.push(h.rule, h.count);
  }
  return { vals, bytes: bodies.finish() };
}

/**
 * Main side: writes the results into the original exchanges (the ones encodeBatch was given, same order).
 * Throws (a programming error: the caller redacts the batch itself then) when the result does not fit.
 */
export function applyResults(exs: readonly Exchange[], p: Packed): void {
  const r = new Reader(p);
  const v = p.vals;
  if (v[r.i++] !== exs.length) throw new Error(`redaction result for ${String(v[0])} exchanges, ${exs.length} sent`);
  const message = (m: HttpMessageCommon): void => {
    const headers: Header[] = [];
    const trailers: Header[] = [];
    r.i = takeHeaders(v, r.i, headers);
    r.i = takeHeaders(v, r.i, trailers);
    m.headers = headers;
    m.trailers = trailers;
    const len = v[r.i++] as number;
    if (len >= 0) m.body = r.body(len);
  };
  for (const ex of exs) {
    if (ex.request !== undefined) {
      ex.request.url = v[r.i++] as string;
      message(ex.request);
    }
    if (ex.response !== undefined) {
      ex.response.reason = v[r.i++] as string;
      message(ex.response);
    }
    ex.connection.client.ip = v[r.i++] as string;
    ex.connection.tunnelSource = v[r.i++] as string;
    const n = v[r.i++] as number;
    const hits = [];
    for (let k = 0; k < n; k++) hits.push({ rule: v[r.i++] as string, count: v[r.i++] as number });
    ex.redactions = hits;
  }
  if (r.i !== v.length) throw new Error('redaction result longer than the batch');
}
