/**
 * Content-Encoding decoding of a complete body with node:zlib's sync functions, bounded twice:
 * the output of each step is capped at min(maxDecodedBytes, maxDecodeRatio × step input) through
 * zlib's `maxOutputLength`, so a decompression bomb stops early instead of allocating.
 *
 * Encodings are listed in the order they were applied (RFC 9110 §8.4), so they are decoded in reverse.
 * Supported: gzip, x-gzip, deflate (zlib-wrapped, or raw as some servers send it), br, zstd when this
 * Node has zlib.zstdDecompressSync, identity. On any failure the caller keeps the bytes as received.
 *
 * Ownership: `body` is read, never modified; the result is a new Buffer (or `body` itself when nothing
 * had to be decoded).
 */
import * as zlib from 'node:zlib';

export interface DecodeLimits {
  maxDecodedBytes: number;
  maxDecodeRatio: number;
}

export interface DecodeResult {
  body: Buffer;
  /** '' on success; else 'ratio_cap', 'size_cap', 'unsupported_encoding:<name>', '<encoding>_error'. */
  error: string;
}

type SyncDecoder = (buf: Buffer, opts: zlib.ZlibOptions | zlib.BrotliOptions) => Buffer;

const gunzip = zlib.gunzipSync as SyncDecoder;
const zstd = (zlib as unknown as { zstdDecompressSync?: SyncDecoder }).zstdDecompressSync;

/** Split Content-Encoding header values into tokens, keeping each token's original spelling. */
export function contentEncodingsOf(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    if (name.length !== 16 || name.toLowerCase() !== 'content-encoding') continue;
    for (const part of headers[i + 1].split(',')) {
      const t = part.trim();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** True for a zlib (RFC 1950) header: CM=8, CINFO<=7, FCHECK valid. */
function looksLikeZlib(b: Buffer): boolean {
  return b.length >= 2 && (b[0] & 0x0f) === 8 && b[0] >> 4 <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;
}

function decoderFor(enc: string, input: Buffer): SyncDecoder | null {
  switch (enc) {
    case 'gzip':
    case 'x-gzip':
      return gunzip;
    case 'deflate':
      return (looksLikeZlib(input) ? zlib.inflateSync : zlib.inflateRawSync) as SyncDecoder;
    case 'br':
      return zlib.brotliDecompressSync as SyncDecoder;
    case 'zstd':
      return zstd ?? null;
    default:
      return null;
  }
}

/** zlib's smallest and our largest output chunk for a gzip body sized from its trailer. */
const MIN_CHUNK = 64;
const MAX_SIZED_CHUNK = 1 << 20;

/**
 * zlib output chunk size for a gzip body: the decoded size its trailer states (ISIZE, the last 4 bytes,
 * mod 2^32) plus one, so the output comes out in one buffer of about its size instead of 16 KiB pieces
 * concatenated at the end (or one 16 KiB buffer for a 2 KiB body). The trailer is only a hint: a wrong
 * one costs more chunks or a larger buffer, never a different result; bounded by `cap` + 1 and 1 MiB.
 */
function gzipChunkSize(input: Buffer, cap: number): number {
  const n = input.length;
  if (n < 18) return MIN_CHUNK;
  const isize = (input[n - 4] | (input[n - 3] << 8) | (input[n - 2] << 16)) + input[n - 1] * 0x1000000;
  const size = Math.min(isize + 1, cap + 1, MAX_SIZED_CHUNK);
  return size < MIN_CHUNK ? MIN_CHUNK : size;
}

/** Decode `body` through `encodings` (as listed in the headers). Never throws. */
export function decodeContent(body: Buffer, encodings: readonly string[], limits: DecodeLimits): DecodeResult {
  let cur = body;
  for (let i = encodings.length - 1; i >= 0; i--) {
    const enc = encodings[i].toLowerCase();
    if (enc === 'identity') continue;
    if (cur.length === 0) continue;
    const dec = decoderFor(enc, cur);
    if (dec === null) return { body, error: `unsupported_encoding:${enc}` };
    const byRatio = cur.length * limits.maxDecodeRatio;
    const ratioBound = byRatio < limits.maxDecodedBytes;
    const cap = Math.max(1, Math.floor(ratioBound ? byRatio : limits.maxDecodedBytes));
    try {
      cur = dec === gunzip ? dec(cur, { maxOutputLength: cap, chunkSize: gzipChunkSize(cur, cap) }) : dec(cur, { maxOutputLength: cap });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return { body, error: ratioBound ? 'ratio_cap' : 'size_cap' };
      return { body, error: `${enc}_error` };
    }
  }
  return { body: cur, error: '' };
}
