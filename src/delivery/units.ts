/** Parsers for size and duration flags ("256M", "7d"). Return undefined for text that is not one. */
const SIZE: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };
const TIME: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const mul = SIZE[m[2]!.toLowerCase()];
  return mul === undefined ? undefined : Math.floor(Number(m[1]) * mul);
}

/** Milliseconds; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|)\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * TIME[m[2]!.toLowerCase()]!);
}
