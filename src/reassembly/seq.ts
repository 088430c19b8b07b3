/**
 * Wrap-safe TCP sequence arithmetic (RFC 793 §3.3, RFC 1982 serial number arithmetic).
 *
 * Sequence numbers are unsigned 32-bit values carried as JS numbers in [0, 2^32). Two numbers are
 * compared by the sign of their 32-bit difference, which is correct while they are less than 2^31
 * apart. The reassembler never lets values that far apart meet: segments more than MAX_WINDOW away
 * from the next expected byte are rejected as out of window.
 *
 * All functions are pure and allocation-free.
 */

/** Largest distance (bytes) from the next expected sequence number that a segment or ACK may lie
 *  at: 2^30, the largest window TCP window scaling allows (RFC 7323 §2.3). */
export const MAX_WINDOW = 0x40000000;

/** Signed distance a - b in [-2^31, 2^31). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
