/**
 * A cache map of at most `max` entries that is cleared, whole, when full: `set` on a map holding `max`
 * entries (or more) empties it first, then stores the one entry. Clearing rather than LRU: both calls are
 * O(1) with no per-entry bookkeeping (no recency list, no extra allocation per call), and the keys that are
 * hot come back after a clear at once; only cold keys are lost for good.
 * For caches of values that can be rebuilt (a miss costs a rebuild, never a wrong answer). The map owns
 * neither keys nor values beyond holding them: callers that must not pin a larger string store flat copies.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly max: number) {}

  /** Entries held now (≤ max). */
  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Stores `value` under `key`, after clearing the whole map when it holds `max` entries. */
  set(key: K, value: V): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
  }
}
