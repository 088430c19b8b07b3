/**
 * Our binding to llhttp compiled to WebAssembly, driven the undici way (STYLE.md guideline 7).
 *
 * The WASM binary is the one shipped inside the npm package `llhttp-wasm` (its out/index.js embeds it as
 * a base64 string `binaryString`); we extract it at first use and instantiate it ONCE per process. The
 * package's own JS wrapper is not used: it mallocs and copies on every execute, loses split callbacks and
 * copies every body chunk out of WASM memory.
 *
 * - One WASM instance; one `llhttp_t` per parser (per connection direction), freed by `destroy()`.
 * - WASM callbacks are module-level functions routed to the parser set in `current` (set in try/finally
 *   around every execute/finish; execute is never re-entered).
 * - Input goes through ONE grow-only buffer in WASM memory (rounded up to 4096 bytes): one copy per execute.
 * - Span callbacks (url, status, header field, header value) that llhttp splits at the end of an execute
 *   are concatenated: a piece that ends exactly at the end of the previous input and a piece of the same
 *   kind that starts exactly at offset 0 of the next input are one token.
 * - Body callbacks get a VIEW into the caller's chunk (`subarray`), not a copy out of WASM memory; the view
 *   is borrowed until the callback returns (copy what you retain).
 * - llhttp has no header-size limit; `maxHeaderBytes` is enforced here in the span callbacks.
 *
 * The WASM build is undici's API (wasm_on_headers_complete gets status, upgrade and keep-alive); it has
 * no `on_method` callback, so the method comes from llhttp_get_method + llhttp_method_name.
 * Only the scalar build ships in the package, so there is no SIMD variant to fall back from.
 */
import { readFileSync } from 'node:fs';

/** llhttp_type_t */
export const TYPE_REQUEST = 1;
export const TYPE_RESPONSE = 2;

/** llhttp_errno_t values we branch on. */
export const ERR_OK = 0;
export const ERR_PAUSED = 21;
export const ERR_PAUSED_UPGRADE = 22;
export const ERR_USER = 24;

/** What `onHeadersComplete` may return (llhttp semantics). */
export const HEADERS_PROCEED = 0;
/** The message has no body (HEAD response, 1xx, 204, 304). */
export const HEADERS_SKIP_BODY = 1;
/** No body, and the bytes after this message belong to another protocol (CONNECT 2xx). */
export const HEADERS_UPGRADE = 2;

/** Lenient flags we may enable (llhttp_set_lenient_*). */
export interface LenientOptions {
  optionalCrBeforeLf?: boolean;
  chunkedLength?: boolean;
  keepAlive?: boolean;
}

/** Callbacks of one parser. Return 0 to continue; see HEADERS_* for onHeadersComplete. */
export interface LlhttpHandler {
  /** A new message starts (first byte of its start line). */
  onMessageBegin(): void;
  /**
   * The head is complete. `head` is reused by the parser: read it during the call and keep the arrays
   * (they are replaced, not cleared, at the next message).
   */
  onHeadersComplete(head: ParsedHead): number;
  /** Body bytes after de-chunking. `view` is BORROWED (a view into the caller's chunk) until return. */
  onBody(view: Buffer): void;
  /**
   * The message is complete; `head.trailers` holds chunked trailers if any. Return ERR_PAUSED to make
   * execute stop right after this message (it returns ERR_PAUSED, errorOffset = first unparsed byte;
   * call resume() and execute the rest), else 0.
   */
  onMessageComplete(): number;
}

/** The parsed head of the current message. Names and values keep their order and case (latin1). */
export interface ParsedHead {
  method: string;
  url: string;
  statusCode: number;
  reason: string;
  versionMajor: number;
  versionMinor: number;
  /** Flat [name0, value0, name1, value1, ...]. */
  headers: string[];
  /** Chunked trailers, same layout. */
  trailers: string[];
  upgrade: boolean;
  keepAlive: boolean;
  /** True when method/url were read from a rejected start line by the HTTP stream, not by llhttp. */
  salvaged: boolean;
  /** Bytes of the head seen so far (start line + fields + values + separators, approximately). */
  headBytes: number;
}

interface LlhttpExports {
  memory: { buffer: ArrayBuffer };
  _initialize(): void;
  llhttp_alloc(type: number): number;
  llhttp_free(p: number): void;
  malloc(n: number): number;
  free(p: number): void;
  llhttp_execute(p: number, at: number, len: number): number;
  llhttp_finish(p: number): number;
  llhttp_reset(p: number): void;
  llhttp_resume(p: number): void;
  llhttp_resume_after_upgrade(p: number): void;
  llhttp_get_method(p: number): number;
  llhttp_get_http_major(p: number): number;
  llhttp_get_http_minor(p: number): number;
  llhttp_get_status_code(p: number): number;
  llhttp_get_error_reason(p: number): number;
  llhttp_get_error_pos(p: number): number;
  llhttp_errno_name(code: number): number;
  llhttp_method_name(method: number): number;
  llhttp_set_lenient_optional_cr_before_lf(p: number, on: number): void;
  llhttp_set_lenient_chunked_length(p: number, on: number): void;
  llhttp_set_lenient_keep_alive(p: number, on: number): void;
}

/** The WebAssembly global (not in the ES2022 + node type libs this project compiles with). */
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

const SPAN_NONE = 0;
const SPAN_URL = 1;
const SPAN_STATUS = 2;
const SPAN_FIELD = 3;
const SPAN_VALUE = 4;

let wasm: LlhttpExports | null = null;
let mem8: Uint8Array = new Uint8Array(0);
/** mem8 as a DataView (4-byte reads for interning); refreshed with it. */
let memView = new DataView(mem8.buffer);
/** The parser whose execute/finish is running. */
let current: LlhttpParser | null = null;
/** Grow-only input area in WASM memory. */
let inputPtr = 0;
let inputCap = 0;
const errnoNames = new Map<number, string>();
const methodNames = new Map<number, string>();

/** Where the package keeps the binary; exported for the benchmark. */
export function llhttpWasmPackageFile(): string {
  return require.resolve('llhttp-wasm');
}

/** Extract the base64 WASM binary embedded in the package's out/index.js. Throws a clear error if absent. */
export function extractLlhttpWasm(): Buffer {
  const file = llhttpWasmPackageFile();
  const text = readFileSync(file, 'utf8');
  const m = /binaryString\s*=\s*["']([A-Za-z0-9+/=]+)["']/.exec(text);
  if (m === null) {
    throw new Error(
      `llhttp: cannot find the embedded WASM (binaryString = "<base64>") in ${file}; ` +
        'the llhttp-wasm package layout changed — pin llhttp-wasm 1.0.3 or update src/http/llhttp.ts',
    );
  }
  return Buffer.from(m[1], 'base64');
}

function refreshMem(): Uint8Array {
  const w = wasm as LlhttpExports;
  if (mem8.buffer !== w.memory.buffer) {
    mem8 = new Uint8Array(w.memory.buffer);
    memView = new DataView(w.memory.buffer);
  }
  return mem8;
}

function cString(ptr: number): string {
  if (ptr === 0) return '';
  const m = refreshMem();
  let end = ptr;
  const limit = Math.min(m.length, ptr + 512);
  while (end < limit && m[end] !== 0) end++;
  return Buffer.from(m.buffer, m.byteOffset + ptr, end - ptr).toString('latin1');
}

function load(): LlhttpExports {
  if (wasm !== null) return wasm;
  const module = new WA.Module(extractLlhttpWasm());
  const instance = new WA.Instance(module, {
    env: {
      wasm_on_message_begin: (p: number): number => route(p).cbMessageBegin(),
      wasm_on_url: (p: number, at: number, len: number): number => route(p).cbSpan(SPAN_URL, at, len),
      wasm_on_status: (p: number, at: number, len: number): number => route(p).cbSpan(SPAN_STATUS, at, len),
      wasm_on_header_field: (p: number, at: number, len: number): number => route(p).cbSpan(SPAN_FIELD, at, len),
      wasm_on_header_value: (p: number, at: number, len: number): number => route(p).cbSpan(SPAN_VALUE, at, len),
      wasm_on_headers_complete: (p: number, status: number, upgrade: number, keepAlive: number): number =>
        route(p).cbHeadersComplete(status, upgrade, keepAlive),
      wasm_on_body: (p: number, at: number, len: number): number => route(p).cbBody(at, len),
      wasm_on_message_complete: (p: number): number => route(p).cbMessageComplete(),
    },
  });
  wasm = instance.exports as unknown as LlhttpExports;
  wasm._initialize();
  refreshMem();
  return wasm;
}

function route(p: number): LlhttpParser {
  const c = current;
  if (c === null || c.ptr !== p) throw new Error('llhttp: callback for a parser that is not executing');
  return c;
}

function ensureInput(len: number): void {
  const w = wasm as LlhttpExports;
  if (len <= inputCap) return;
  if (inputPtr !== 0) w.free(inputPtr);
  inputCap = Math.ceil(len / 4096) * 4096;
  inputPtr = w.malloc(inputCap);
  if (inputPtr === 0) {
    inputCap = 0;
    throw new Error(`llhttp: WASM malloc(${len}) failed`);
  }
}

/**
 * Header names, short values and reasons repeat from message to message (Content-Type, keep-alive,
 * application/json, OK): a small direct-mapped cache returns the same string for the same bytes
 * instead of making a new one each time (less allocation and GC). A slot holds the last string that hashed
 * there and a copy of its bytes; the span is hashed and compared 4 bytes at a time, read from the WASM input
 * buffer (where llhttp's span pointer points). A miss makes the string. Bounded: INTERN_SLOTS strings of at
 * most INTERN_MAX_LEN characters. URLs are not interned: they vary more and push the names out (measured).
 */
const INTERN_SLOTS = 4096;
const INTERN_MAX_LEN = 48;
const internCache: string[] = new Array<string>(INTERN_SLOTS).fill('');
/** The bytes of internCache[slot], at slot * INTERN_MAX_LEN. */
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_LEN);
const internView = new DataView(internBytes.buffer);

/**
 * The latin1 string of a span: `len` bytes at `at` in WASM memory, which are also chunk[off, off + len)
 * (the string is made from the chunk on a miss).
 */
function internSpan(at: number, len: number, chunk: Buffer, off: number): string {
  const m = memView;
  const end = at + len;
  const end4 = at + (len & ~3);
  let h = len;
  let i = at;
  for (; i < end4; i += 4) h = Math.imul(h ^ m.getInt32(i, true), 0x9e3779b1);
  for (; i < end; i++) h = Math.imul(h ^ mem8[i], 0x01000193);
  h ^= h >>> 16;
  const slot = h & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX_LEN;
  const cached = internCache[slot];
  if (cached.length === len) {
    let j = 0;
    while (j + 4 <= len && internView.getInt32(base + j, true) === m.getInt32(at + j, true)) j += 4;
    if (j + 4 > len) {
      while (j < len && internBytes[base + j] === mem8[at + j]) j++;
      if (j === len) return cached;
    }
  }
  const text = chunk.toString('latin1', off, off + len);
  internCache[slot] = text;
  for (let j = 0; j < len; j++) internBytes[base + j] = mem8[at + j];
  return text;
}

/** One llhttp_t. Not re-entrant; call `destroy()` when done (frees the WASM allocation). */
export class LlhttpParser {
  /** Pointer of the llhttp_t in WASM memory; 0 after destroy. */
  ptr: number;
  readonly head: ParsedHead = newHead();
  /** After a non-OK execute/finish: llhttp's errno name (e.g. "HPE_INVALID_METHOD") and reason. */
  errorName = '';
  errorReason = '';
  /** After a non-OK execute: offset into the executed chunk where parsing stopped. */
  errorOffset = 0;

  private chunk: Buffer | null = null;
  private chunkLen = 0;
  private lastSpan = SPAN_NONE;
  /** True when the last span piece ended exactly at the end of the previous input. */
  private lastSpanOpen = false;
  /** Offset in the current input where the last span piece ended; -1 when it ended in an earlier input. */
  private lastSpanEnd = -1;
  private inHead = false;
  private headerOverflow = false;

  constructor(
    readonly type: number,
    private readonly handler: LlhttpHandler,
    private readonly maxHeaderBytes: number,
    lenient: LenientOptions = {},
  ) {
    const w = load();
    this.ptr = w.llhttp_alloc(type);
    if (this.ptr === 0) throw new Error('llhttp: llhttp_alloc failed');
    if (lenient.optionalCrBeforeLf === true) w.llhttp_set_lenient_optional_cr_before_lf(this.ptr, 1);
    if (lenient.chunkedLength === true) w.llhttp_set_lenient_chunked_length(this.ptr, 1);
    if (lenient.keepAlive === true) w.llhttp_set_lenient_keep_alive(this.ptr, 1);
  }

  /**
   * Parse `data` (BORROWED until return). Returns llhttp's errno: ERR_OK, ERR_PAUSED_UPGRADE (the bytes
   * from `errorOffset` on belong to the upgraded protocol) or an error (see errorName/errorReason/errorOffset).
   */
  execute(data: Buffer): number {
    const w = wasm as LlhttpExports;
    if (this.ptr === 0) throw new Error('llhttp: execute after destroy');
    const len = data.length;
    ensureInput(len);
    refreshMem().set(data, inputPtr);
    this.chunk = data;
    this.chunkLen = len;
    this.lastSpanEnd = -1;
    current = this;
    let ret: number;
    try {
      ret = w.llhttp_execute(this.ptr, inputPtr, len);
    } finally {
      current = null;
      this.chunk = null;
    }
    if (ret !== ERR_OK) this.readError(ret, w.llhttp_get_error_pos(this.ptr) - inputPtr);
    return ret;
  }

  /** The peer closed: completes a close-delimited body. Returns errno like execute. */
  finish(): number {
    const w = wasm as LlhttpExports;
    if (this.ptr === 0) return ERR_OK;
    this.chunk = null;
    this.chunkLen = 0;
    current = this;
    let ret: number;
    try {
      ret = w.llhttp_finish(this.ptr);
    } finally {
      current = null;
    }
    if (ret !== ERR_OK) this.readError(ret, 0);
    return ret;
  }

  /** Back to the start state (keeps type and lenient flags). */
  reset(): void {
    if (this.ptr === 0) return;
    (wasm as LlhttpExports).llhttp_reset(this.ptr);
    this.lastSpan = SPAN_NONE;
    this.lastSpanOpen = false;
    this.inHead = false;
    this.inBody = false;
    this.headerOverflow = false;
  }

  /**
   * For a message cut before its head completed: fill head.method (requests whose URL was reached),
   * head.statusCode and the version from llhttp's state. Returns true when a start line was seen.
   */
  peekStartLine(): boolean {
    const w = wasm as LlhttpExports;
    const h = this.head;
    if (this.ptr === 0) return false;
    h.versionMajor = w.llhttp_get_http_major(this.ptr);
    h.versionMinor = w.llhttp_get_http_minor(this.ptr);
    if (this.type === TYPE_REQUEST) {
      if (h.url === '') return false;
      h.method = methodName(w.llhttp_get_method(this.ptr));
      return true;
    }
    h.statusCode = w.llhttp_get_status_code(this.ptr);
    return h.statusCode >= 100;
  }

  /**
   * Only inside onHeadersComplete: the `n` bytes that follow the message head in the current input (a view,
   * BORROWED until the callback returns), or null when that is not known here (see headEnd) or fewer than `n`
   * bytes follow.
   */
  peekAfterHead(n: number): Buffer | null {
    const start = this.headEnd();
    return start >= 0 && start + n <= this.chunkLen ? (this.chunk as Buffer).subarray(start, start + n) : null;
  }

  /**
   * Only inside onHeadersComplete: true when the message head ends exactly at the end of the current input
   * (nothing of the message's body, or of anything else, follows in it).
   */
  headEndsInput(): boolean {
    return this.chunk !== null && this.headEnd() === this.chunkLen;
  }

  /**
   * Offset in the current input just after the message head, or -1 when not known. With a piece of the head
   * in this input: the blank line after the line of the last piece (last header value or name, or the status
   * line), searched for within 256 bytes. Without one (the head's last line was in an earlier input), this
   * input starts with the rest of the blank line: its leading CR/LF bytes, at most 4, are taken as that rest.
   */
  private headEnd(): number {
    const chunk = this.chunk;
    const e = this.lastSpanEnd;
    const len = this.chunkLen;
    if (chunk === null) return -1;
    if (e < 0) {
      let k = 0;
      while (k < len && k < 4 && (chunk[k] === 0x0d || chunk[k] === 0x0a)) k++;
      return k > 0 ? k : -1;
    }
    for (let k = e; k < len && k < e + 256; k++) {
      if (chunk[k] !== 0x0a) continue;
      if (k + 2 < len && chunk[k + 1] === 0x0d && chunk[k + 2] === 0x0a) return k + 3;
      if (k + 1 < len && chunk[k + 1] === 0x0a) return k + 2;
      return -1; // the line after the last piece is not the blank line: not known here
    }
    return -1;
  }

  /** Clear a pause requested by a callback (ERR_PAUSED). */
  resume(): void {
    if (this.ptr !== 0) (wasm as LlhttpExports).llhttp_resume(this.ptr);
  }

  /** Continue parsing HTTP after llhttp paused for an upgrade that did not happen. */
  resumeAfterUpgrade(): void {
    if (this.ptr !== 0) (wasm as LlhttpExports).llhttp_resume_after_upgrade(this.ptr);
  }

  /** True while a message has begun and not completed. */
  get inMessage(): boolean {
    return this.inHead || this.inBody;
  }

  /** True between headers complete and message complete. */
  inBody = false;

  destroy(): void {
    if (this.ptr === 0) return;
    (wasm as LlhttpExports).llhttp_free(this.ptr);
    this.ptr = 0;
  }

  private readError(ret: number, offset: number): void {
    this.errorOffset = offset < 0 || offset > this.chunkLen ? this.chunkLen : offset;
    if (this.headerOverflow && ret === ERR_USER) {
      this.errorName = 'HPE_HEADER_OVERFLOW';
      this.errorReason = `Message head exceeds ${this.maxHeaderBytes} bytes`;
      return;
    }
    this.errorName = errnoName(ret);
    this.errorReason = cString((wasm as LlhttpExports).llhttp_get_error_reason(this.ptr));
  }

  // ---- WASM callbacks (only called while this parser is `current`) ----

  cbMessageBegin(): number {
    const h = this.head;
    h.method = '';
    h.url = '';
    h.statusCode = 0;
    h.reason = '';
    h.versionMajor = 0;
    h.versionMinor = 0;
    h.headers = [];
    h.trailers = [];
    h.upgrade = false;
    h.keepAlive = false;
    h.headBytes = 0;
    h.salvaged = false;
    this.lastSpan = SPAN_NONE;
    this.lastSpanOpen = false;
    this.inHead = true;
    this.inBody = false;
    this.headerOverflow = false;
    this.handler.onMessageBegin();
    return 0;
  }

  cbSpan(kind: number, at: number, len: number): number {
    const off = at - inputPtr;
    const chunk = this.chunk as Buffer;
    const text = kind !== SPAN_URL && len <= INTERN_MAX_LEN ? internSpan(at, len, chunk, off) : chunk.toString('latin1', off, off + len);
    const cont = this.lastSpanOpen && this.lastSpan === kind && off === 0;
    this.lastSpan = kind;
    this.lastSpanOpen = off + len === this.chunkLen;
    this.lastSpanEnd = off + len;
    const h = this.head;
    if (this.inHead) {
      h.headBytes += cont ? len : len + 2;
      if (h.headBytes > this.maxHeaderBytes) {
        this.headerOverflow = true;
        return -1;
      }
    }
    const list = this.inHead ? h.headers : h.trailers;
    switch (kind) {
      case SPAN_URL:
        h.url = cont ? h.url + text : text;
        break;
      case SPAN_STATUS:
        h.reason = cont ? h.reason + text : text;
        break;
      case SPAN_FIELD:
        if (cont) list[list.length - 1] += text;
        else {
          if ((list.length & 1) === 1) list.push('');
          list.push(text);
        }
        break;
      default:
        // A value piece: continuation, or the first piece of this field's value, or an obs-fold line.
        if ((list.length & 1) === 1) list.push(text);
        else if (list.length > 0) list[list.length - 1] += cont ? text : ' ' + text;
        break;
    }
    return 0;
  }

  cbHeadersComplete(status: number, upgrade: number, keepAlive: number): number {
    const w = wasm as LlhttpExports;
    const h = this.head;
    if ((h.headers.length & 1) === 1) h.headers.push('');
    h.versionMajor = w.llhttp_get_http_major(this.ptr);
    h.versionMinor = w.llhttp_get_http_minor(this.ptr);
    if (this.type === TYPE_REQUEST) h.method = methodName(w.llhttp_get_method(this.ptr));
    h.statusCode = status;
    h.upgrade = upgrade === 1;
    h.keepAlive = keepAlive === 1;
    this.lastSpan = SPAN_NONE;
    this.inHead = false;
    this.inBody = true;
    return this.handler.onHeadersComplete(h);
  }

  cbBody(at: number, len: number): number {
    this.lastSpan = SPAN_NONE;
    const off = at - inputPtr;
    this.handler.onBody((this.chunk as Buffer).subarray(off, off + len));
    return 0;
  }

  cbMessageComplete(): number {
    const h = this.head;
    if ((h.trailers.length & 1) === 1) h.trailers.push('');
    this.lastSpan = SPAN_NONE;
    this.inHead = false;
    this.inBody = false;
    return this.handler.onMessageComplete();
  }
}

function newHead(): ParsedHead {
  return {
    method: '',
    url: '',
    statusCode: 0,
    reason: '',
    versionMajor: 0,
    versionMinor: 0,
    headers: [],
    trailers: [],
    upgrade: false,
    keepAlive: false,
    salvaged: false,
    headBytes: 0,
  };
}

/** "HPE_INVALID_METHOD" for an llhttp errno. */
export function errnoName(code: number): string {
  let s = errnoNames.get(code);
  if (s === undefined) {
    s = cString(load().llhttp_errno_name(code));
    errnoNames.set(code, s);
  }
  return s;
}

function methodName(m: number): string {
  let s = methodNames.get(m);
  if (s === undefined) {
    s = cString((wasm as LlhttpExports).llhttp_method_name(m));
    methodNames.set(m, s);
  }
  return s;
}
