/**
 * One HTTP message being assembled from parser callbacks, and its conversion to a Request/Response record.
 *
 * Bounds: the retained body is at most `maxBodyBytes` (the prefix is kept, `bodyCapped` is set);
 * decoding is bounded by content-decoding.ts. Ownership: body bytes are COPIED here (this is one of
 * the two places that copy, STYLE.md guideline 5), once, into one buffer per message; the records
 * returned own their Buffers (a body may be a view of the start of that buffer).
 */
import type { Header, HttpMessageCommon, RequestRecord, ResponseRecord } from '../exchange/record';
import type { Counters } from '../observe/counters';
import { contentEncodingsOf, decodeContent, type DecodeLimits } from './content-decoding';
import type { ParsedHead } from './llhttp';

export interface MessageLimits extends DecodeLimits {
  maxBodyBytes: number;
}

/**
 * Largest buffer allocated up front from a Content-Length; a larger body grows by doubling as its bytes arrive
 * (so a message never holds more than twice the bytes it received, plus this, whatever its Content-Length says).
 */
const PREALLOC_MAX = 64 * 1024;
/** Smallest body buffer when the length is not known (chunked, close-delimited). */
const MIN_BODY_ALLOC = 1024;
/** Empty bodies are views of this (a view is much cheaper to make than Buffer.alloc(0); it has no bytes to share). */
const NO_BYTES = Buffer.alloc(0);
/** httpVersion of HTTP/1.0 and HTTP/1.1 messages, made once. */
const HTTP_1X = ['1.0', '1.1'];

/** Placeholders while a record is filled (always replaced by fillCommon before it is returned). */
const NO_HEADERS: Header[] = [];
const NO_ENCODINGS: string[] = [];

export class MessageAssembly {
  /**
   * Requests: how much of the server's stream the client had acknowledged when this request began (see
   * HttpStream.lostResponses), -1 when unknown.
   */
  peerAcked = -1;
  method = '';
  url = '';
  status = 0;
  reason = '';
  httpVersion = '';
  /** Flat [name, value, ...] as parsed. */
  rawHeaders: string[] = [];
  rawTrailers: string[] = [];
  headDone = false;
  done = false;
  startMicros: number;
  endMicros: number;

  wireBodySize = 0;
  /** Retained body bytes: body[0, retained). One buffer, sized from the expected length when known, else grown by doubling. */
  private body: Buffer | null = null;
  private retained = 0;
  /** Expected body length (Content-Length), 0 when unknown. */
  private expected = 0;

  bodyPartial = false;
  bodyCapped = false;
  gapBytes = 0;
  truncated = false;
  parseError = '';
  decodeError = '';

  constructor(
    readonly isRequest: boolean,
    tsMicros: number,
  ) {
    this.startMicros = tsMicros;
    this.endMicros = tsMicros;
  }

  /** Copy the start line and headers out of the parser's head. */
  setHead(h: ParsedHead): void {
    this.method = h.method;
    this.url = h.url;
    this.status = h.statusCode;
    this.reason = h.reason;
    this.httpVersion = h.versionMajor === 1 && h.versionMinor < 2 ? HTTP_1X[h.versionMinor] : `${h.versionMajor}.${h.versionMinor}`;
    this.rawHeaders = h.headers;
    this.headDone = true;
  }

  /** The body is announced as `n` bytes (Content-Length): the first body byte allocates that much (up to a bound). */
  expectBody(n: number): void {
    this.expected = n;
  }

  /** Append body bytes; `view` is BORROWED, so what is retained is copied (once, into the body buffer). */
  addBody(view: Buffer, maxBodyBytes: number): void {
    const len = view.length;
    this.wireBodySize += len;
    const room = maxBodyBytes - this.retained;
    if (room <= 0) {
      if (len > 0) this.bodyCapped = true;
      return;
    }
    const take = len <= room ? len : room;
    if (take < len) this.bodyCapped = true;
    if (take === 0) return;
    const need = this.retained + take;
    let body = this.body;
    if (body === null || need > body.length) {
      let grown = body === null ? Math.max(need, this.expected > PREALLOC_MAX ? PREALLOC_MAX : this.expected, MIN_BODY_ALLOC) : Math.max(need, body.length * 2);
      // Never past the announced length: a body of known size ends in a buffer of exactly that size.
      if (this.expected >= need && grown > this.expected) grown = this.expected;
      const next = Buffer.allocUnsafe(grown > maxBodyBytes ? Math.max(need, maxBodyBytes) : grown);
      if (body !== null) body.copy(next, 0, 0, this.retained);
      this.body = body = next;
    }
    view.copy(body, this.retained, 0, take);
    this.retained = need;
  }

  /** Bytes of this message were lost. */
  addGap(n: number, truncated: boolean, inBody: boolean): void {
    this.gapBytes += n;
    if (truncated) this.truncated = true;
    if (inBody) this.bodyPartial = true;
  }

  /**
   * The first value of header `lname` (lowercase), or ''. `usual` is its usual spelling (`Content-Length`),
   * compared first so that the common case makes no lowercase copy.
   */
  header(lname: string, usual: string): string {
    const h = this.rawHeaders;
    const n = lname.length;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = h[i];
      if (name.length === n && (name === usual || name === lname || name.toLowerCase() === lname)) return h[i + 1];
    }
    return '';
  }

  private headersOf(flat: string[]): Header[] {
    const out: Header[] = new Array<Header>(flat.length >> 1);
    for (let i = 0, j = 0; i + 1 < flat.length; i += 2, j++) out[j] = { name: flat[i], value: flat[i + 1] };
    return out;
  }

  /** Concatenate and decode the body; sets decodeError. Counts decode failures. */
  private finalBody(limits: MessageLimits, counters: Counters): { body: Buffer; encodings: string[] } {
    const b = this.body;
    const raw = b === null ? NO_BYTES.subarray(0, 0) : b.length === this.retained ? b : b.subarray(0, this.retained);
    this.body = null;
    const encodings = contentEncodingsOf(this.rawHeaders);
    if (encodings.length === 0 || raw.length === 0) return { body: raw, encodings };
    if (this.bodyPartial || this.bodyCapped) {
      this.decodeError = 'partial_body';
      counters.inc('http_decode_skipped_partial_body');
      return { body: raw, encodings };
    }
    const r = decodeContent(raw, encodings, limits);
    if (r.error !== '') {
      this.decodeError = r.error;
      const colon = r.error.indexOf(':');
      counters.inc(`http_decode_error_${colon < 0 ? r.error : r.error.slice(0, colon)}`);
    }
    return { body: r.body, encodings };
  }

  /**
   * The fields requests and responses share (proto Request/Response fields 3-10) are set by fillCommon, which
   * decodes the body once. The records are made as literals with every field in place (one shape each, no
   * spread of an intermediate object).
   */
  toRequest(limits: MessageLimits, counters: Counters): RequestRecord {
    const r: RequestRecord = {
      method: this.method,
      url: this.url,
      httpVersion: this.httpVersion,
      headers: NO_HEADERS,
      body: NO_BYTES,
      contentEncodings: NO_ENCODINGS,
      wireBodySize: this.wireBodySize,
      startMicros: this.startMicros,
      endMicros: this.endMicros,
      trailers: NO_HEADERS,
    };
    this.fillCommon(r, limits, counters);
    return r;
  }

  toResponse(limits: MessageLimits, counters: Counters): ResponseRecord {
    const r: ResponseRecord = {
      status: this.status,
      reason: this.reason,
      httpVersion: this.httpVersion,
      headers: NO_HEADERS,
      body: NO_BYTES,
      contentEncodings: NO_ENCODINGS,
      wireBodySize: this.wireBodySize,
      startMicros: this.startMicros,
      endMicros: this.endMicros,
      trailers: NO_HEADERS,
    };
    this.fillCommon(r, limits, counters);
    return r;
  }

  private fillCommon(r: HttpMessageCommon, limits: MessageLimits, counters: Counters): void {
    const { body, encodings } = this.finalBody(limits, counters);
    r.headers = this.headersOf(this.rawHeaders);
    r.body = body;
    r.contentEncodings = encodings;
    r.trailers = this.headersOf(this.rawTrailers);
  }
}
