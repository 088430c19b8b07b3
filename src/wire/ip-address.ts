/**
 * IP address text for the flow layer and logs: dotted quad for IPv4 (RFC 791), RFC 5952
 * canonical text for IPv6 (lowercase hex, no leading zeros, the longest run of two or more zero
 * groups — the first one on a tie — written as "::", and IPv4-mapped addresses as ::ffff:a.b.c.d).
 *
 * Allocates the returned string; callers on the per-packet path cache it (see the decoder's
 * tunnel source cache). Reads 4 or 16 bytes at `off` without checking: callers check first.
 */
export function ipToString(buf: Buffer, off: number, version: number): string {
  if (version === 4) return ipv4ToString(buf, off);
  return ipv6ToString(buf, off);
}

export function ipv4ToString(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function ipv6ToString(buf: Buffer, off: number): string {
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 §5).
  let mapped = buf[off + 10] === 0xff && buf[off + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (buf[off + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${ipv4ToString(buf, off + 12)}`;

  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g < 8; g++) {
    const zero = buf[off + 2 * g] === 0 && buf[off + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
      const runLen = g - runStart + 1;
      if (runLen > bestLen) {
        bestLen = runLen;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;

  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += '::';
      g += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((buf[off + 2 * g] << 8) | buf[off + 2 * g + 1]).toString(16);
  }
  return s;
}
