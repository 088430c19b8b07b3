/**
 * HttpStream: the StreamSink of one TCP connection that turns its two byte streams into Exchange records.
 *
 * - One llhttp parser per direction (request side, response side), see llhttp.ts.
 * - Requests enter a FIFO when their head completes; each response pairs with the oldest request that has
 *   no response yet (pipelining; a response may pair before its request body ended). An exchange is
 *   emitted when both halves are done, or at close with responseMissing / requestMissing set. Every
 *   request and every response appears in exactly one emitted exchange; 1xx interim responses (100
 *   Continue, 103 Early Hints) are skipped and counted.
 * - HEAD, 1xx, 204 and 304 responses have no body (decided from the queued request; without one, a status
 *   line right after a response head, in the same input or the next, means that response had none: a HEAD
 *   answered). 101 and CONNECT 2xx switch protocols: HTTP parsing of the connection stops and later bytes
 *   are only counted.
 * - Gaps: inside a Content-Length body the rest of that body is skipped by count and parsing resumes
 *   exactly after it; inside a close-delimited body the body continues to the FIN; elsewhere the message
 *   in progress is flagged and emitted, and the direction resyncs at the next start line (resync.ts).
 *   After a gap, pairings are flagged while requests wait; responses lost whole are recognised from the
 *   client's ACKs (onPeerAck, lostResponses) and their requests emitted with closeReason "response_lost".
 * - Parse errors: the message in progress carries llhttp's "HPE_NAME: reason" and the direction resyncs.
 *
 * Bounds: body bytes retained per message (maxBodyBytes), head size (maxHeaderBytes), decoded size and
 * ratio (content-decoding.ts), queued requests (maxPendingExchanges), bytes held while an upgrade is
 * undecided (maxHeaderBytes), resync line length. Everything dropped is counted.
 *
 * Ownership: data passed to onData is BORROWED until return; retained body bytes are copied.
 * Emitted Exchange records (and their Buffers) belong to the receiver.
 */
import type { ConnectionMeta } from '../flow/connection-meta';
import type { Counters } from '../observe/counters';
import type { CloseReason, Dir, StreamSink } from '../reassembly/stream-sink';
import { emptyCompleteness, type ConnectionInfo, type Exchange } from '../exchange/record';
import { clientDirOf } from './client-side';
import {
  ERR_OK,
  ERR_PAUSED,
  ERR_PAUSED_UPGRADE,
  HEADERS_PROCEED,
  HEADERS_SKIP_BODY,
  HEADERS_UPGRADE,
  LlhttpParser,
  TYPE_REQUEST,
  TYPE_RESPONSE,
  type LlhttpHandler,
  type ParsedHead,
} from './llhttp';
import { MessageAssembly, type MessageLimits } from './message';
import { StartLineScanner } from './resync';

export interface HttpOptions {
  /** Retained body bytes per message, default 16 MiB (beyond: the prefix is kept, completeness.bodyCapped). */
  maxBodyBytes: number;
  /** Per message head, default 128 KiB (beyond: parse error HPE_HEADER_OVERFLOW, resync). */
  maxHeaderBytes: number;
  /** Content-Encoding output cap per body, default 64 MiB. */
  maxDecodedBytes: number;
  /** Decoded/encoded ratio cap, default 1000; beyond: encoded body kept, decodeError 'ratio_cap'. */
  maxDecodeRatio: number;
  /**
   * Requests waiting for a response, default 64. Beyond: the oldest finished request is emitted with
   * responseMissing and closeReason 'queue_full' (one-way capture, lost responses).
   */
  maxPendingExchanges: number;
}

export const DEFAULT_HTTP_OPTIONS: Readonly<HttpOptions> = Object.freeze({
  maxBodyBytes: 16 * 1024 * 1024,
  maxHeaderBytes: 128 * 1024,
  maxDecodedBytes: 64 * 1024 * 1024,
  maxDecodeRatio: 1000,
  maxPendingExchanges: 64,
});

/** Create the HTTP sink for one connection. Throws only for invalid options (a configuration bug). */
export function createHttpStream(
  meta: ConnectionMeta,
  emit: (ex: Exchange) => void,
  counters: Counters,
  opts?: Partial<HttpOptions>,
): StreamSink {
  const o: HttpOptions = { ...DEFAULT_HTTP_OPTIONS, ...opts };
  for (const k of Object.keys(DEFAULT_HTTP_OPTIONS) as (keyof HttpOptions)[]) {
    if (!Number.isFinite(o[k]) || o[k] <= 0) throw new RangeError(`HttpOptions.${k} must be a positive number`);
  }
  return new HttpStream(meta, emit, counters, o);
}

/** One request/response pair in the FIFO. */
interface Entry {
  req: MessageAssembly | null;
  res: MessageAssembly | null;
  /** For an upgrade/CONNECT request: did the response switch protocols? */
  upgrade: 'unknown' | 'yes' | 'no';
  /** 1xx interim statuses (100, 103, ...) seen before the final response. */
  interim: number[];
  /** Paired while whole messages may have been lost: the response may answer another request. */
  uncertain: boolean;
}

/**
 * llhttp leniency: strict by default, except what real captures in the corpus need. We observe traffic
 * that already happened, so where the peers evidently understood each other we parse rather than reject.
 * - optionalCrBeforeLf: bare-LF line endings (suricata-verify http-close-headers, zeek methods.pcap).
 * Not enabled: chunkedLength (TE chunked + Content-Length; the one corpus case, suricata-verify
 * http-chunked, is a smuggling evasion with an invalid TE value that stays an error anyway).
 * - keepAlive: more messages after "Connection: close" / HTTP/1.0 without keep-alive (suricata-verify
 *   http-gap-*); otherwise llhttp fails them with HPE_CLOSED_CONNECTION.
 */
const LENIENCY = { optionalCrBeforeLf: true, keepAlive: true };

/** An HTTP token (RFC 9110 §5.6.2), the shape of a method. */
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const MAX_SALVAGED_LINE = 8192;

/** `b` begins with `HTTP/1.`: a status line follows (at least 7 bytes needed to say so). */
function startsWithStatusLine(b: Buffer): boolean {
  return b.length >= 7 && b.toString('latin1', 0, 7) === 'HTTP/1.';
}

const M_PARSE = 0;
const M_SKIP = 1;
const M_RESYNC = 2;
const M_HELD = 3;
const M_UPGRADED = 4;
const M_EOF_BODY = 5;
const M_ENDED = 6;

/** Why a direction resyncs: a gap inside a message; a gap between two messages; a parse error (the failed line is skipped). */
const RESYNC_AFTER_GAP = 0;
const RESYNC_AFTER_GAP_BETWEEN = 1;
const RESYNC_AFTER_ERROR = 2;

/** One direction: its parser and recovery state. */
class HalfStream implements LlhttpHandler {
  readonly parser: LlhttpParser;
  readonly scanner: StartLineScanner;
  mode = M_PARSE;
  msg: MessageAssembly | null = null;
  entry: Entry | null = null;
  /** Remaining bytes of a Content-Length body; -1 when unknown (chunked, close-delimited, none). */
  bodyRemaining = -1;
  closeDelimited = false;
  skipRemaining = 0;
  /** Bytes after an upgrade request, held until the response decides (copied, bounded). */
  held: Buffer[] = [];
  heldBytes = 0;
  heldLost = false;
  heldEntry: Entry | null = null;
  /**
   * A response without its request whose head ended the input and announced a body: if the next input
   * starts with a status line instead, it answered a HEAD and had no body (see bodilessWithoutRequest).
   */
  bodilessCandidate: MessageAssembly | null = null;
  /** Capture time of the data being parsed. */
  ts = 0;
  /**
   * Resyncing after a gap that came between two messages: bytes skipped before the next start line are then the
   * rest of a message whose head was in the gap (on the server side, a response the waiting request got).
   */
  resyncAfterGapBetween = false;

  constructor(
    readonly conn: HttpStream,
    readonly isRequest: boolean,
    maxHeaderBytes: number,
  ) {
    this.parser = new LlhttpParser(isRequest ? TYPE_REQUEST : TYPE_RESPONSE, this, maxHeaderBytes, LENIENCY);
    this.scanner = new StartLineScanner(isRequest);
  }

  // ---- llhttp callbacks ----

  onMessageBegin(): void {
    this.msg = new MessageAssembly(this.isRequest, this.ts);
    if (this.isRequest) this.msg.peerAcked = this.conn.clientAcked();
    else this.conn.responseBegins();
    this.entry = null;
    this.bodyRemaining = -1;
    this.closeDelimited = false;
  }

  onHeadersComplete(head: ParsedHead): number {
    const msg = this.msg as MessageAssembly;
    msg.setHead(head);
    msg.endMicros = this.ts;
    if (this.isRequest) {
      this.entry = this.conn.queueRequest(msg);
      this.setBodyFraming(msg);
      return HEADERS_PROCEED;
    }
    const status = head.statusCode;
    if (status >= 100 && status < 200 && status !== 101) {
      this.conn.noteInterim(status);
      this.bodyRemaining = 0;
      return HEADERS_SKIP_BODY;
    }
    const entry = this.conn.pairResponse(msg);
    this.entry = entry;
    const method = entry.req === null ? '' : entry.req.method;
    const switching = status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
    this.conn.decideUpgrade(entry, switching);
    if (switching) {
      this.bodyRemaining = 0;
      return status === 101 ? HEADERS_PROCEED : HEADERS_UPGRADE;
    }
    if (method === 'HEAD' || status === 204 || status === 304 || this.bodilessWithoutRequest(entry.req === null)) {
      this.bodyRemaining = 0;
      return HEADERS_SKIP_BODY;
    }
    this.setBodyFraming(msg);
    if (entry.req === null && (this.bodyRemaining > 0 || this.bodyRemaining === -1) && this.parser.headEndsInput()) {
      this.bodilessCandidate = msg;
    }
    return HEADERS_PROCEED;
  }

  /**
   * A response whose request was not seen may answer a HEAD: its Content-Length then announces a body that
   * never comes, and taking the next response's head as that body would lose it. When the bytes right after
   * the head are a status line (`HTTP/1.`), the response had no body (counted: http_response_bodiless_inferred).
   * When the head ends the input, the same is decided on the next input (bodilessCandidate, feed()).
   */
  private bodilessWithoutRequest(requestMissing: boolean): boolean {
    if (!requestMissing) return false;
    const next = this.parser.peekAfterHead(7);
    if (next === null || !startsWithStatusLine(next)) return false;
    this.conn.counters.inc('http_response_bodiless_inferred');
    return true;
  }

  private setBodyFraming(msg: MessageAssembly): void {
    const te = msg.header('transfer-encoding', 'Transfer-Encoding').toLowerCase();
    if (te !== '') {
      this.bodyRemaining = -1;
      this.closeDelimited = !/(?:^|[\s,])chunked\s*$/.test(te) && !this.isRequest;
      return;
    }
    const cl = msg.header('content-length', 'Content-Length');
    if (cl !== '') {
      const n = Number(cl.trim());
      this.bodyRemaining = Number.isSafeInteger(n) && n >= 0 ? n : -1;
      if (this.bodyRemaining > 0) msg.expectBody(this.bodyRemaining);
      return;
    }
    this.bodyRemaining = this.isRequest ? 0 : -1;
    this.closeDelimited = !this.isRequest;
  }

  onBody(view: Buffer): void {
    const msg = this.msg as MessageAssembly;
    msg.addBody(view, this.conn.opts.maxBodyBytes);
    msg.endMicros = this.ts;
    if (this.bodyRemaining > 0) this.bodyRemaining -= view.length;
  }

  onMessageComplete(): number {
    const msg = this.msg as MessageAssembly;
    this.msg = null;
    msg.rawTrailers = this.parser.head.trailers;
    msg.endMicros = this.ts;
    if (!this.isRequest && this.entry === null) {
      this.conn.counters.inc('http_interim_responses');
      return 0;
    }
    if (!this.isRequest) this.conn.responseSeen();
    if (msg.bodyCapped) this.conn.counters.inc('http_body_capped');
    this.entry = null;
    this.conn.messageDone(msg);
    // A held request side must parse its next request before this side pairs another response.
    return this.conn.releasePending() ? ERR_PAUSED : 0;
  }

  // ---- stream input ----

  feed(input: Buffer): void {
    const c = this.conn.counters;
    let data = input;
    while (data.length > 0) {
      switch (this.mode) {
        case M_ENDED:
          c.inc('http_bytes_after_end', data.length);
          return;
        case M_UPGRADED:
          c.inc('http_upgraded_bytes', data.length);
          return;
        case M_HELD:
          this.hold(data);
          return;
        case M_EOF_BODY: {
          const msg = this.msg as MessageAssembly;
          msg.addBody(data, this.conn.opts.maxBodyBytes);
          msg.endMicros = this.ts;
          return;
        }
        case M_SKIP: {
          const n = Math.min(this.skipRemaining, data.length);
          this.skipRemaining -= n;
          data = data.subarray(n);
          const msg = this.msg as MessageAssembly;
          msg.endMicros = this.ts;
          c.inc('http_body_bytes_skipped_after_gap', n);
          if (this.skipRemaining === 0) {
            this.finishCut();
            this.mode = M_PARSE;
          }
          break;
        }
        case M_RESYNC: {
          const found = this.scanner.scan(data);
          if (this.scanner.skipped > 0) {
            c.inc('http_resync_skipped_bytes', this.scanner.skipped);
            if (!this.isRequest) {
              if (this.resyncAfterGapBetween) this.conn.responseCutInGap();
              this.conn.responseSeen(); // seen, if unparsed: no response lost whole there
            }
            this.resyncAfterGapBetween = false;
          }
          if (found === null) return;
          this.resyncAfterGapBetween = false;
          this.parser.reset();
          this.mode = M_PARSE;
          data = found;
          break;
        }
        default: {
          if (this.bodilessCandidate !== null && this.bodilessAfterAll(data)) break;
          const ret = this.parser.execute(data);
          if (ret === ERR_OK) return;
          const rest = data.subarray(this.parser.errorOffset);
          if (ret === ERR_PAUSED) {
            this.parser.resume();
            this.conn.runDeferred();
            data = rest;
            break;
          }
          if (ret === ERR_PAUSED_UPGRADE) {
            data = this.onUpgradePause(rest);
            break;
          }
          this.onParseError(data, this.parser.errorOffset);
          data = rest;
          break;
        }
      }
    }
  }

  /**
   * The candidate's head ended the previous input; `data` is the next input of this direction. When the
   * candidate is still the message in progress, has no body bytes yet and `data` starts with a status line,
   * the candidate is finished without a body (as bodilessWithoutRequest would have) and the parser starts
   * afresh on `data`. Decided once per candidate; fewer than 7 bytes: not decidable, the headers' framing stands.
   */
  private bodilessAfterAll(data: Buffer): boolean {
    const cand = this.bodilessCandidate;
    this.bodilessCandidate = null;
    if (cand === null || cand !== this.msg || cand.wireBodySize !== 0 || !startsWithStatusLine(data)) return false;
    this.conn.counters.inc('http_response_bodiless_inferred');
    this.bodyRemaining = 0;
    this.closeDelimited = false;
    // The response ended with its head: its end time is the head's, not this later input's.
    const ts = this.ts;
    this.ts = cand.endMicros;
    const ret = this.onMessageComplete();
    this.ts = ts;
    if (ret === ERR_PAUSED) this.conn.runDeferred();
    this.parser.reset();
    return true;
  }

  /** llhttp stopped after a message that may switch protocols; returns the bytes to parse further. */
  private onUpgradePause(rest: Buffer): Buffer {
    const entry = this.isRequest ? this.conn.lastRequestEntry : this.conn.lastResponseEntry;
    const decision = entry === null ? 'no' : entry.upgrade;
    if (decision === 'yes' || (!this.isRequest && this.conn.upgraded)) {
      this.mode = M_UPGRADED;
      this.conn.counters.inc('http_upgraded_bytes', rest.length);
      return rest.subarray(rest.length);
    }
    if (decision === 'unknown' && this.isRequest) {
      this.mode = M_HELD;
      this.heldEntry = entry;
      this.hold(rest);
      return rest.subarray(rest.length);
    }
    this.parser.resumeAfterUpgrade();
    return rest;
  }

  private hold(data: Buffer): void {
    const cap = this.conn.opts.maxHeaderBytes;
    const room = cap - this.heldBytes;
    const take = Math.max(0, Math.min(room, data.length));
    if (take > 0) {
      this.held.push(Buffer.from(data.subarray(0, take)));
      this.heldBytes += take;
    }
    if (take < data.length) {
      this.heldLost = true;
      this.conn.counters.inc('http_upgrade_held_overflow_bytes', data.length - take);
    }
  }

  /** The upgrade of the held request was decided; called outside any execute. */
  releaseHeld(upgraded: boolean): void {
    const held = this.held;
    const bytes = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    this.heldEntry = null;
    if (upgraded) {
      this.mode = M_UPGRADED;
      this.conn.counters.inc('http_upgraded_bytes', bytes);
      return;
    }
    this.parser.resumeAfterUpgrade();
    if (this.heldLost) {
      this.heldLost = false;
      this.startResync(RESYNC_AFTER_ERROR);
    } else this.mode = M_PARSE;
    if (bytes > 0) this.feed(held.length === 1 ? held[0] : Buffer.concat(held, bytes));
  }

  /**
   * llhttp rejected a request in its start line (unknown method such as CCM_POST, missing target or
   * version): keep what the line says so the request is still reported (with its parse error) and its
   * response pairs with it. Reads only the line holding the error position in the current chunk.
   */
  private salvageRequestLine(chunk: Buffer, errorAt: number): void {
    const at = Math.min(Math.max(errorAt, 0), chunk.length);
    const start = at === 0 ? 0 : chunk.lastIndexOf(0x0a, at - 1) + 1;
    let end = chunk.indexOf(0x0a, at);
    if (end < 0) end = chunk.length;
    if (end - start > MAX_SALVAGED_LINE) return;
    const tokens = chunk.toString('latin1', start, end).replace(/\r$/, '').split(' ').filter((t) => t !== '');
    const method = tokens[0] ?? '';
    if (!TOKEN.test(method)) return;
    const h = this.parser.head;
    h.method = method;
    h.url = tokens[1] ?? '';
    h.salvaged = true;
  }

  /** A message cut short (gap, parse error, end): emit what there is, or drop it if no start line was seen. */
  private finishCut(): void {
    const msg = this.msg;
    this.msg = null;
    const entry = this.entry;
    this.entry = null;
    if (msg === null) return;
    if (!this.isRequest) this.conn.responseSeen(); // seen in part: not a response lost whole
    if (!msg.headDone) {
      if (!this.parser.head.salvaged && !this.parser.peekStartLine()) {
        this.conn.counters.inc(this.isRequest ? 'http_request_fragments_dropped' : 'http_response_fragments_dropped');
        return;
      }
      const h = this.parser.head;
      // The last field of a cut head may itself be cut (`Content-Length: 1` of `12`): drop it.
      if ((h.headers.length & 1) === 1) h.headers.pop();
      else if (h.headers.length >= 2 && !h.salvaged) h.headers.length -= 2;
      this.conn.counters.inc('http_cut_head_last_field_dropped');
      msg.setHead(h);
      msg.headDone = false;
      if (!this.isRequest && h.statusCode >= 100 && h.statusCode < 200 && h.statusCode !== 101) return;
      if (this.isRequest) this.conn.queueRequest(msg);
      else this.conn.pairResponse(msg);
    } else if (entry === null && !this.isRequest) {
      // Interim (1xx) response cut short: nothing to pair.
      return;
    }
    msg.rawTrailers = this.parser.head.trailers;
    this.conn.counters.inc(this.isRequest ? 'http_requests_cut' : 'http_responses_cut');
    this.conn.messageDone(msg);
  }

  private onParseError(chunk: Buffer, errorAt: number): void {
    const p = this.parser;
    const name = p.errorName;
    this.conn.counters.inc(`http_parse_error_${name.replace(/^HPE_/, '').toLowerCase()}`);
    const msg = this.msg;
    if (msg !== null && this.isRequest && !msg.headDone && !p.peekStartLine()) this.salvageRequestLine(chunk, errorAt);
    if (msg !== null) {
      msg.parseError = `${name}: ${p.errorReason}`;
      msg.bodyPartial = true;
      this.finishCut();
    }
    this.startResync(RESYNC_AFTER_ERROR);
  }

  gap(n: number, truncated: boolean): void {
    const c = this.conn.counters;
    c.inc('http_gap_bytes', n);
    switch (this.mode) {
      case M_ENDED:
        return;
      case M_UPGRADED:
        c.inc('http_upgraded_gap_bytes', n);
        return;
      case M_HELD:
        this.heldLost = true;
        return;
      case M_RESYNC:
        c.inc('http_resync_skipped_bytes', this.scanner.reset(true));
        c.inc('http_gap_bytes_unattributed', n);
        return;
      case M_EOF_BODY:
        (this.msg as MessageAssembly).addGap(n, truncated, true);
        return;
      case M_SKIP: {
        const msg = this.msg as MessageAssembly;
        if (n < this.skipRemaining) {
          this.skipRemaining -= n;
          msg.addGap(n, truncated, true);
          return;
        }
        msg.addGap(this.skipRemaining, truncated, true);
        this.afterKnownBodyGap(n - this.skipRemaining);
        return;
      }
      default:
        break;
    }
    const p = this.parser;
    const msg = this.msg;
    if (msg === null || !p.inMessage) {
      // Between messages: the lost bytes may have held whole messages.
      c.inc('http_gap_bytes_unattributed', n);
      this.conn.markPairingUncertain();
      this.startResync(RESYNC_AFTER_GAP_BETWEEN);
      return;
    }
    if (p.inBody && this.bodyRemaining > 0) {
      if (n < this.bodyRemaining) {
        msg.addGap(n, truncated, true);
        this.skipRemaining = this.bodyRemaining - n;
        this.bodyRemaining = 0;
        p.reset();
        this.mode = M_SKIP;
        return;
      }
      msg.addGap(this.bodyRemaining, truncated, true);
      const beyond = n - this.bodyRemaining;
      p.reset();
      this.afterKnownBodyGap(beyond);
      return;
    }
    if (p.inBody && this.closeDelimited) {
      msg.addGap(n, truncated, true);
      p.reset();
      this.mode = M_EOF_BODY;
      return;
    }
    // Cut before it completed (in the head, a chunked body, between chunks): the body is not whole.
    msg.addGap(n, truncated, true);
    this.finishCut();
    this.conn.markPairingUncertain();
    this.startResync(RESYNC_AFTER_GAP);
  }

  /** A gap reached the end of a known-length body: finish it; resync only if the gap went beyond. */
  private afterKnownBodyGap(beyond: number): void {
    this.finishCut();
    this.skipRemaining = 0;
    if (beyond === 0) {
      this.parser.reset();
      this.mode = M_PARSE;
      return;
    }
    // The body's end is known exactly: the `beyond` bytes after it are unseen, and may hold whole responses.
    if (!this.isRequest) this.conn.unseenAfterResponse(beyond);
    this.conn.counters.inc('http_gap_bytes_unattributed', beyond);
    this.conn.markPairingUncertain();
    this.startResync(RESYNC_AFTER_GAP_BETWEEN);
  }

  /** Drops the parser's state and looks for the next start line; `cause` says where it may begin (see resync.ts). */
  private startResync(cause: number): void {
    this.parser.reset();
    this.mode = M_RESYNC;
    this.resyncAfterGapBetween = cause === RESYNC_AFTER_GAP_BETWEEN;
    this.conn.counters.inc('http_resync_skipped_bytes', this.scanner.reset(cause !== RESYNC_AFTER_ERROR));
  }

  /** The direction ended (FIN/RST) or the connection closes. */
  end(): void {
    const c = this.conn.counters;
    switch (this.mode) {
      case M_PARSE: {
        if (this.parser.inMessage) {
          const ret = this.parser.finish();
          if (ret !== ERR_OK || this.msg !== null) {
            const msg = this.msg;
            if (msg !== null && this.parser.inBody) msg.bodyPartial = true;
            this.finishCut();
          }
        }
        break;
      }
      case M_SKIP:
        this.finishCut();
        break;
      case M_EOF_BODY:
        this.finishCut();
        break;
      case M_RESYNC:
        c.inc('http_resync_skipped_bytes', this.scanner.reset(true));
        break;
      case M_HELD:
        c.inc('http_upgrade_unconfirmed_bytes', this.heldBytes);
        this.held = [];
        this.heldBytes = 0;
        break;
      default:
        break;
    }
    this.mode = M_ENDED;
  }
}

class HttpStream implements StreamSink {
  readonly limits: MessageLimits;
  private halves: [HalfStream | null, HalfStream | null] = [null, null];
  private clientDir: Dir = 0;
  private serverDir: Dir = 1;
  private decided = false;
  /** Directions that started with a gap before the roles were known. */
  private startGap: [boolean, boolean] = [false, false];
  private readonly fifo: Entry[] = [];
  /** Bytes of each direction's stream so far (data and gaps), and where the input being parsed began. */
  private readonly streamBytes: [number, number] = [0, 0];
  private readonly inputStart: [number, number] = [0, 0];
  /** Per direction: the other stream's bytes acknowledged by its latest segment (-1: unknown). */
  private readonly peerAcked: [number, number] = [-1, -1];
  /**
   * Server-stream offset up to which every byte belongs to responses we saw (parsed, cut or skipped by a
   * resync; conservatively the end of that input), the server gaps since, and where the input holding the
   * first byte of the response being parsed began.
   */
  private responsesSeenTo = 0;
  private serverGapsSince = 0;
  private responseBegan = 0;
  /**
   * A response whose head was lost in a gap and whose rest was skipped, if any: the server-stream offset where
   * its skipped bytes began. It answered the oldest waiting request sent before the client had acknowledged
   * those bytes (a request whose ACK already covers them came after it).
   */
  private responseCutAt = -1;
  /** Entry of the last request whose head completed; of the last response paired. */
  lastRequestEntry: Entry | null = null;
  lastResponseEntry: Entry | null = null;
  upgraded = false;
  private upgradedEntry: Entry | null = null;
  private index = 0;
  /**
   * Set when a gap may have swallowed whole requests or responses; from then on pairings are
   * flagged until no request is left waiting for its response (the FIFO lines up again).
   */
  private pairingUncertain = false;
  private closed = false;
  private pendingRelease: boolean | null = null;
  private readonly connection: ConnectionInfo;

  constructor(
    private readonly meta: ConnectionMeta,
    private readonly emitFn: (ex: Exchange) => void,
    readonly counters: Counters,
    readonly opts: HttpOptions,
  ) {
    this.limits = opts;
    this.connection = { client: meta.ends[0], server: meta.ends[1], source: meta.source, id: meta.id, tunnel: meta.tunnel, tunnelSource: meta.tunnelSource };
  }

  private decide(dir: Dir | -1, data: Buffer | null): void {
    this.decided = true;
    this.clientDir = clientDirOf(this.meta, dir, data);
    this.serverDir = this.clientDir === 0 ? 1 : 0;
    const serverDir = this.serverDir;
    const c = this.connection;
    c.client = this.meta.ends[this.clientDir];
    c.server = this.meta.ends[serverDir];
    if (this.meta.vni >= 0) c.vni = this.meta.vni;
    const maxHead = this.opts.maxHeaderBytes;
    const client = new HalfStream(this, true, maxHead);
    const server = new HalfStream(this, false, maxHead);
    this.halves[this.clientDir] = client;
    this.halves[serverDir] = server;
    for (const d of [0, 1] as Dir[]) {
      const h = this.halves[d] as HalfStream;
      if (this.meta.midStream || this.startGap[d]) {
        h.mode = M_RESYNC;
        h.scanner.reset(true);
      }
    }
  }

  onPeerAck(dir: Dir, acked: number): void {
    this.peerAcked[dir] = acked;
  }

  /** Server-stream bytes the client had acknowledged at its latest segment (-1: unknown). */
  clientAcked(): number {
    return this.peerAcked[this.clientDir];
  }

  onData(dir: Dir, data: Buffer, tsMicros: number): void {
    if (this.closed || data.length === 0) return;
    this.inputStart[dir] = this.streamBytes[dir];
    this.streamBytes[dir] += data.length;
    if (!this.decided) this.decide(dir, data);
    const h = this.halves[dir] as HalfStream;
    h.ts = tsMicros;
    h.feed(data);
    this.runDeferred();
  }

  onGap(dir: Dir, n: number, tsMicros: number, truncated: boolean): void {
    if (this.closed || n <= 0) return;
    this.streamBytes[dir] += n;
    if (this.decided && dir === this.serverDir) this.serverGapsSince++;
    if (!this.decided) {
      this.startGap[dir] = true;
      this.counters.inc('http_gap_bytes', n);
      this.counters.inc('http_gap_bytes_unattributed', n);
      return;
    }
    const h = this.halves[dir] as HalfStream;
    h.ts = tsMicros;
    h.gap(n, truncated);
    this.runDeferred();
  }

  onEnd(dir: Dir, _reason: 'fin' | 'rst', tsMicros: number): void {
    if (this.closed || !this.decided) return;
    const h = this.halves[dir] as HalfStream;
    h.ts = tsMicros;
    h.end();
  }

  onClose(reason: CloseReason, tsMicros: number): void {
    if (this.closed) return;
    if (this.decided) {
      for (const h of this.halves) {
        if (h === null) continue;
        if (h.ts < tsMicros) h.ts = tsMicros;
        h.end();
      }
    }
    this.closed = true;
    const entries = this.fifo.splice(0);
    for (const e of entries) this.emitEntry(e, this.upgraded && e !== this.upgradedEntry ? 'upgrade' : reason);
    for (const h of this.halves) if (h !== null) h.parser.destroy();
  }

  // ---- pairing (called by the halves) ----

  queueRequest(msg: MessageAssembly): Entry {
    const e: Entry = { req: msg, res: null, upgrade: 'unknown', interim: [], uncertain: false };
    this.fifo.push(e);
    this.lastRequestEntry = e;
    this.trimQueue();
    return e;
  }

  /** A 1xx interim response belongs to the oldest request still waiting for its final response. */
  noteInterim(status: number): void {
    for (const e of this.fifo) {
      if (e.res === null && e.req !== null) {
        e.interim.push(status);
        return;
      }
    }
    this.counters.inc('http_interim_without_request');
  }

  markPairingUncertain(): void {
    this.pairingUncertain = true;
  }

  /** After a pairing: once no request waits for a response, later pairings are certain again. */
  private settlePairing(): void {
    if (!this.pairingUncertain) return;
    for (const e of this.fifo) if (e.res === null && e.req !== null) return;
    this.pairingUncertain = false;
  }

  /** After a gap between two responses, the server side skipped the rest of one whose head the gap held. */
  responseCutInGap(): void {
    this.responseCutAt = this.inputStart[this.serverDir];
  }

  /** Emits the oldest waiting request the cut response answered (see responseCutAt), if there is one. */
  private settleCutResponse(): void {
    const at = this.responseCutAt;
    this.responseCutAt = -1;
    for (let i = 0; i < this.fifo.length; i++) {
      const e = this.fifo[i];
      if (e.res !== null || e.req === null || !e.req.done) continue;
      if (e.req.peerAcked > at) return; // sent after the client had that response: not its request
      this.fifo.splice(i, 1);
      this.counters.inc('http_responses_lost_inferred');
      this.emitEntry(e, 'response_lost');
      return;
    }
  }

  /** A response of the server was parsed to its end: the client cannot have acknowledged it as lost. */
  responseSeen(): void {
    this.responsesSeenTo = this.streamBytes[this.serverDir];
    this.serverGapsSince = 0;
  }

  /** The last `n` server bytes counted are a gap right after a response that ended exactly there. */
  unseenAfterResponse(n: number): void {
    this.responsesSeenTo = this.streamBytes[this.serverDir] - n;
    this.serverGapsSince = 1;
  }

  /** The server side began a message in the input being parsed. */
  responseBegins(): void {
    this.responseBegan = this.inputStart[this.serverDir];
  }

  /**
   * After a gap, before pairing the response whose head starts at server-stream offset >= `start`: how
   * many of the requests waiting for a response had theirs in the gap. Each waiting request sent after
   * the client had acknowledged more of the server's stream than the request before it, and more than
   * the responses we parsed cover (but not past `start`), shows one response that ended, unseen, between
   * the two requests; responses come in request order, so that many of the oldest waiting requests were
   * answered in the gap — at most one per server gap since the last response we saw (a pipelining client
   * can acknowledge one lost response in several steps). Plain keep-alive (one request at a time) is
   * repaired exactly; a pipelined burst without such steps counts none (flagged as before). A lower bound:
   * never pairs a response too late.
   */
  private lostResponses(start: number): number {
    let lost = 0;
    let prev = -1; // the previous waiting request's ACK (-1: none yet, or unknown)
    for (const e of this.fifo) {
      if (e.res !== null || e.req === null) continue;
      const a = e.req.peerAcked;
      if (prev >= 0 && a > prev && a > this.responsesSeenTo && a <= start) lost++;
      prev = a;
    }
    return Math.min(lost, this.serverGapsSince);
  }

  pairResponse(msg: MessageAssembly): Entry {
    if (this.responseCutAt >= 0) this.settleCutResponse();
    if (this.pairingUncertain) {
      let lost = this.lostResponses(this.responseBegan);
      for (let i = 0; lost > 0 && i < this.fifo.length; ) {
        const e = this.fifo[i];
        if (e.res !== null || e.req === null || !e.req.done) {
          i++;
          continue;
        }
        this.fifo.splice(i, 1);
        this.counters.inc('http_responses_lost_inferred');
        this.emitEntry(e, 'response_lost');
        lost--;
      }
    }
    for (const e of this.fifo) {
      if (e.res === null && e.req !== null) {
        e.res = msg;
        e.uncertain = this.pairingUncertain;
        this.settlePairing();
        this.lastResponseEntry = e;
        return e;
      }
    }
    const e: Entry = { req: null, res: msg, upgrade: 'no', interim: [], uncertain: this.pairingUncertain };
    this.fifo.push(e);
    this.lastResponseEntry = e;
    return e;
  }

  /** Called at a response's head: tell a request side that is holding bytes whether to resume. */
  decideUpgrade(entry: Entry, switching: boolean): void {
    entry.upgrade = switching ? 'yes' : 'no';
    if (switching) {
      this.upgraded = true;
      this.upgradedEntry = entry;
    }
    const client = this.halves[this.clientDir] as HalfStream;
    if (client.mode === M_HELD && client.heldEntry === entry) this.pendingRelease = switching;
    else if (switching && client.mode === M_PARSE && !client.parser.inMessage && (entry.req === null || entry.req.done)) {
      // The request side is idle (or its request was never seen): stop parsing it too.
      client.mode = M_UPGRADED;
    }
  }

  /** True when a held request side waits for runDeferred(). */
  releasePending(): boolean {
    return this.pendingRelease !== null;
  }

  /** Work that must run outside any parser's execute (the WASM input buffer is shared). */
  runDeferred(): void {
    const r = this.pendingRelease;
    if (r === null) return;
    this.pendingRelease = null;
    (this.halves[this.clientDir] as HalfStream).releaseHeld(r);
  }

  messageDone(msg: MessageAssembly): void {
    msg.done = true;
    const fifo = this.fifo;
    let i = 0;
    while (i < fifo.length && fifo[i].req !== msg && fifo[i].res !== msg) i++;
    if (i === fifo.length) return;
    const e = this.fifo[i];
    if ((e.req === null || e.req.done) && e.res !== null && e.res.done) {
      this.fifo.splice(i, 1);
      this.emitEntry(e, '');
    }
  }

  /** Bound the FIFO: emit the oldest finished requests without a response. */
  private trimQueue(): void {
    while (this.fifo.length > this.opts.maxPendingExchanges) {
      const i = this.fifo.findIndex((e) => e.res === null && e.req !== null && e.req.done);
      if (i < 0) return;
      const [e] = this.fifo.splice(i, 1);
      this.counters.inc('http_pending_queue_full');
      this.emitEntry(e, 'queue_full');
    }
  }

  private emitEntry(e: Entry, closeReason: string): void {
    const c = emptyCompleteness();
    const ex: Exchange = {
      // A copy per exchange: sinks and the redactor may change it (client address surrogate).
      connection: { ...this.connection, client: { ...this.connection.client }, server: { ...this.connection.server } },
      completeness: c,
      redactions: [],
      index: this.index++,
      upgraded: e === this.upgradedEntry,
      interimStatuses: e.interim,
    };
    c.midStream = this.meta.midStream;
    // Joined with '; ' as they come (no arrays per exchange).
    let errors = '';
    let decodeErrors = '';
    if (e.req !== null) {
      const m = e.req;
      ex.request = m.toRequest(this.limits, this.counters);
      c.requestGapBytes = m.gapBytes;
      c.requestBodyPartial = m.bodyPartial || m.bodyCapped;
      if (m.truncated) c.truncated = true;
      if (m.bodyCapped) c.bodyCapped = true;
      if (m.parseError !== '') errors = m.parseError;
      if (m.decodeError !== '') decodeErrors = m.decodeError;
    } else {
      c.requestMissing = true;
      this.counters.inc('http_request_missing');
    }
    if (e.res !== null) {
      const m = e.res;
      ex.response = m.toResponse(this.limits, this.counters);
      c.responseGapBytes = m.gapBytes;
      c.responseBodyPartial = m.bodyPartial || m.bodyCapped;
      if (m.truncated) c.truncated = true;
      if (m.bodyCapped) c.bodyCapped = true;
      if (m.parseError !== '') errors = errors === '' ? m.parseError : errors + '; ' + m.parseError;
      if (m.decodeError !== '') decodeErrors = decodeErrors === '' ? m.decodeError : decodeErrors + '; ' + m.decodeError;
    } else {
      c.responseMissing = true;
      this.counters.inc('http_response_missing');
    }
    c.pairingUncertain = e.uncertain;
    c.parseError = errors;
    c.decodeError = decodeErrors;
    if (c.requestMissing || c.responseMissing) c.closeReason = closeReason;
    this.counters.inc('http_exchanges');
    this.emitFn(ex);
  }
}
