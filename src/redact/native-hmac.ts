/**
 * The optional native HMAC-SHA256 (native/keyed-hmac, npm package `keyed-hmac`): one Node-API call per
 * message from precomputed key states, OpenSSL's SHA-256 inside (~0.3 µs for a short value against ~1.1 µs
 * in JS on the dev machine). Optional like udp-batch: when it is not built, HmacSha256 computes in JS and the
 * output is the same bytes. `SHADOWTAP_HMAC=js` forces the JS path (for A/B measurements and tests).
 */

/** `out[offset, offset + 32) = HMAC-SHA256(key, input[0, length))`; throws on bad arguments. Buffers are borrowed. */
export type NativeMac = (input: Uint8Array, length: number, out: Uint8Array, offset: number) => void;

export interface NativeHmacLoad {
  /** Binds a key (copied into native memory); undefined when the addon is unavailable. */
  readonly keyed: ((key: Uint8Array) => NativeMac) | undefined;
  /** Why it is unavailable (undefined when loaded). */
  readonly reason: string | undefined;
}

/** ABI of native/keyed-hmac this wrapper was written for (the addon exports it as ABI). */
const EXPECTED_ABI = 1;

let cached: NativeHmacLoad | undefined;

/** Loads `keyed-hmac` once per thread. Never throws. */
export function loadNativeHmac(): NativeHmacLoad {
  if (cached === undefined) cached = tryLoad();
  return cached;
}

function tryLoad(): NativeHmacLoad {
  if (process.env.SHADOWTAP_HMAC === 'js') return { keyed: undefined, reason: 'SHADOWTAP_HMAC=js' };
  let mod: unknown;
  try {
    mod = require('keyed-hmac');
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { keyed: undefined, reason: `the optional package keyed-hmac cannot be loaded (${why}); rebuild it with npm rebuild keyed-hmac` };
  }
  const m = mod as { keyedHmac?: unknown; ABI?: unknown } | null;
  if (m === null || typeof m !== 'object' || typeof m.keyedHmac !== 'function') {
    return { keyed: undefined, reason: 'the package keyed-hmac loaded but exports no keyedHmac' };
  }
  if (m.ABI !== EXPECTED_ABI) {
    return { keyed: undefined, reason: `the package keyed-hmac has ABI ${String(m.ABI)}, expected ${EXPECTED_ABI}: rebuild it from native/keyed-hmac` };
  }
  return { keyed: m.keyedHmac as (key: Uint8Array) => NativeMac, reason: undefined };
}
