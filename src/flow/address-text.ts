/**
 * IP address text for ConnectionMeta endpoints: IPv4 dotted quad, IPv6 in the RFC 5952 canonical
 * form (lowercase hex, no leading zeros, the longest run of two or more zero groups — the first one
 * on a tie — compressed to "::", IPv4-mapped addresses as ::ffff:a.b.c.d per RFC 5952 §5).
 *
 * Called once per connection (not per packet); reads buf[off..off+4) or buf[off..off+16), which the
 * caller has checked.
 */
export function ipv4Text(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function ipv6Text(buf: Buffer, off: number): string {
  const g: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${ipv4Text(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** Address text for an IP version (4 or 6). */
export function ipText(ipVersion: number, buf: Buffer, off: number): string {
  return ipVersion === 6 ? ipv6Text(buf, off) : ipv4Text(buf, off);
}
