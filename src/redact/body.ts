/**
 * Body redaction: media type → walker (JSON / NDJSON, form, multipart, XML/HTML, text), declared charset
 * decoded first and re-encoded after. Fail closed: a body that cannot be decoded or parsed, a binary or
 * unknown type, a body over the size cap, or one whose Content-Encoding could not be undone is replaced
 * by a placeholder with its size and a keyed digest, never kept raw.
 * Buffers: the input body is borrowed; the result is either the same Buffer (nothing changed) or a new one.
 */
import { BoundedMap } from '../util/bounded-map';
import type { Ctx } from './ctx';
import { redactJsonText } from './json';
import { redactMultipart } from './multipart';
import { redactText } from './text';
import { redactQuery } from './url';
import { redactXml } from './xml';

export interface MediaType {
  /** `type/subtype`, lower-case; '' when absent. */
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

const MEDIA_TYPES_MAX = 256;
/** Parsed Content-Type values: a handful repeat across all traffic. Bounded (cleared when full). */
const mediaTypes = new BoundedMap<string, MediaType>(MEDIA_TYPES_MAX);

/** The media type of a Content-Type value; shared and read-only (results are cached by value). */
export function parseMediaType(v: string | undefined): MediaType {
  if (v === undefined) return parseMediaTypeText(v);
  let mt = mediaTypes.get(v);
  if (mt === undefined) {
    mt = parseMediaTypeText(v);
    if (v.length <= 256) mediaTypes.set(v, mt);
  }
  return mt;
}

function parseMediaTypeText(v: string | undefined): MediaType {
  const params = new Map<string, string>();
  if (v === undefined) return { type: '', params };
  const parts = v.split(';');
  const type = parts[0].trim().toLowerCase();
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq < 0) continue;
    let val = parts[i].slice(eq + 1).trim();
    if (val.length >= 2 && val.startsWith('"') && val.endsWith('"')) val = val.slice(1, -1);
    params.set(parts[i].slice(0, eq).trim().toLowerCase(), val);
  }
  return { type: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : '', params };
}

type Family = 'json' | 'ndjson' | 'form' | 'multipart' | 'xml' | 'text' | 'unknown';

export function family(type: string): Family {
  if (type === '') return 'unknown';
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/x-jsonlines'
    || type === 'application/json-seq' || type === 'application/ndjson') return 'ndjson';
  if (type === 'application/json' || type === 'text/json' || type.endsWith('+json') || type === 'application/jsonrequest'
    || type === 'application/json-patch+json') return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type.startsWith('multipart/')) return 'multipart';
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml') || type === 'text/html') return 'xml';
  if (type.startsWith('text/') || type === 'application/javascript' || type === 'application/x-javascript'
    || type === 'application/ecmascript' || type === 'application/graphql' || type === 'application/sql'
    || type === 'application/yaml' || type === 'application/x-yaml' || type === 'application/csv') return 'text';
  return 'unknown';
}

/** Safe text for the placeholder: a media type only, never header text beyond it. */
function typeLabel(type: string): string {
  return type === '' ? 'unknown type' : type.slice(0, 100);
}

/** The fail-closed placeholder, counted under `body:<reason>`. */
export function withhold(ctx: Ctx, body: Uint8Array, type: string, reason: string): Buffer {
  ctx.hit(`body:${reason}`);
  ctx.count(`redact_body_${reason}`);
  const digest = ctx.keyed.bytesDigest('body\u0000', body);
  return Buffer.from(`[shadowtap: ${body.length} bytes of ${typeLabel(type)} withheld, digest ${digest}]`, 'utf8');
}

type Codec = 'utf8' | 'latin1' | 'utf16le' | 'utf16be';

/** Single-byte ASCII-compatible charsets round-trip byte-exactly through latin1 (PII patterns are ASCII). */
function codecFor(charset: string | undefined, bytes: Uint8Array, sniffUtf16: boolean): Codec | undefined {
  const cs = (charset ?? '').toLowerCase().replace(/^"|"$/g, '');
  if (cs === '') {
    if (sniffUtf16 && bytes.length >= 2) {
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] !== 0 && bytes[1] === 0)) return 'utf16le';
      if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0 && bytes[1] !== 0)) return 'utf16be';
    }
    return 'utf8';
  }
  if (cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' || cs === 'ascii') return 'utf8';
  if (cs === 'utf-16le') return 'utf16le';
  if (cs === 'utf-16be') return 'utf16be';
  if (cs === 'utf-16') return bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf16be' : 'utf16le';
  if (/^(iso-?8859-\d{1,2}|latin-?\d|l\d|windows-125\d|cp125\d|koi8-[ru]|us|ansi_x3\.4-1968|macintosh)$/.test(cs)) return 'latin1';
  return undefined;
}

const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF16LE_FATAL = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

function decode(bytes: Uint8Array, codec: Codec): string | undefined {
  try {
    switch (codec) {
      case 'utf8': return UTF8_FATAL.decode(bytes);
      case 'latin1': return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
      case 'utf16le': return UTF16LE_FATAL.decode(bytes);
      case 'utf16be': {
        if (bytes.length % 2 !== 0) return undefined;
        const sw = Buffer.from(bytes);
        sw.swap16();
        return UTF16LE_FATAL.decode(sw);
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function encode(s: string, codec: Codec): Buffer {
  switch (codec) {
    case 'utf8': return Buffer.from(s, 'utf8');
    case 'latin1': return Buffer.from(s, 'latin1');
    case 'utf16le': return Buffer.from(s, 'utf16le');
    case 'utf16be': return Buffer.from(s, 'utf16le').swap16();
  }
}

/** NUL or other C0 controls (except tab/CR/LF/FF/ESC) in text mean binary. */
function looksBinary(s: string): boolean {
  return /[\u0000-\u0008\u000e-\u001a\u001c-\u001f]/.test(s);
}

function redactNdjson(ctx: Ctx, text: string): string | undefined {
  const lines = text.split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const cr = line.endsWith('\r') ? '\r' : '';
    const core = cr ? line.slice(0, -1) : line;
    const rs = core.startsWith('\u001e') ? '\u001e' : ''; // json-seq record separator
    const body = core.slice(rs.length);
    if (body.trim().length === 0) continue;
    const r = redactJsonText(ctx, body, false);
    if (r === undefined) return undefined;
    if (r !== body) {
      lines[i] = rs + r + cr;
      changed = true;
    }
  }
  return changed ? lines.join('\n') : text;
}

/**
 * Redacts bytes of the given media type. `depth` guards multipart recursion.
 * Returns the same Buffer when nothing changed.
 */
export function redactTyped(ctx: Ctx, mt: MediaType, bytes: Buffer): Buffer {
  if (bytes.length === 0) return bytes;
  if (bytes.length > ctx.cfg.bodies.maxBytes) return withhold(ctx, bytes, mt.type, 'too_large');
  for (const p of ctx.cfg.bodies.passThroughTypes) {
    if (p === mt.type || (p.endsWith('/*') && mt.type.startsWith(p.slice(0, -1)))) return bytes;
  }
  let fam = family(mt.type);
  if (fam === 'unknown') {
    if (mt.type !== '') return withhold(ctx, bytes, mt.type, 'binary');
    // No Content-Type: JSON when it parses as JSON, otherwise withheld.
    let k = 0;
    while (k < bytes.length && (bytes[k] === 32 || bytes[k] === 10 || bytes[k] === 13 || bytes[k] === 9)) k++;
    if (bytes[k] !== 0x7b && bytes[k] !== 0x5b) return withhold(ctx, bytes, mt.type, 'unknown_type');
    fam = 'json';
  }
  if (fam === 'multipart') {
    const r = redactMultipart(ctx, mt, bytes);
    return r ?? withhold(ctx, bytes, mt.type, 'parse_error');
  }
  const codec = codecFor(mt.params.get('charset'), bytes, fam === 'json' || fam === 'ndjson');
  if (codec === undefined) return withhold(ctx, bytes, mt.type, 'charset');
  const text = decode(bytes, codec);
  if (text === undefined) return withhold(ctx, bytes, mt.type, 'charset');
  // JSON rejects raw control characters in strings by itself; the other families check for binary here.
  if (fam !== 'json' && fam !== 'ndjson' && looksBinary(text)) return withhold(ctx, bytes, mt.type, 'binary');
  let out: string | undefined;
  switch (fam) {
    case 'json': out = redactJsonText(ctx, text, false); break;
    case 'ndjson': out = redactNdjson(ctx, text); break;
    case 'form': out = text.trim().length === 0 ? text : redactQuery(ctx, text.replace(/\r?\n$/, ''), true, true) + (/\r?\n$/.exec(text)?.[0] ?? ''); break;
    case 'xml': out = redactXml(ctx, text); break;
    default: out = redactText(ctx, text); break;
  }
  if (out === undefined) return withhold(ctx, bytes, mt.type, 'parse_error');
  return out === text ? bytes : encode(out, codec);
}
