/**
 * Which shard a TCP segment goes to. A flow (by its symmetric flow hash, so both directions) is placed, when
 * its first segment is seen, on the shard that holds the fewest placed flows (ties: the fewest bytes sent so
 * far, then the lowest number), and stays there: a capture of a few long connections (a load balancer's
 * pooled keep-alive connections) splits evenly, where a hash alone leaves one shard with several more of
 * them than another. (Bytes so far alone were tried: connections opened in a burst after the first ones
 * started sending all went to the other shard — bench-large split 57/210 MB.)
 *
 * Deterministic: placement depends only on the segments in order, so the same capture always splits alike.
 * Distinct flows with the same hash share a shard (harmless: shards are independent).
 *
 * Bounded: a placement is forgotten once its flow has been idle for longer than the flow table's idle timeout
 * (checked every FORGET_EVERY_MICROS of capture time), never sooner, so the flow table of its shard has
 * closed the connection by then and a later segment may start afresh elsewhere. At most `maxFlows`
 * placements are kept; once that many were ever held, flows not placed go by hash (hash mod shards) from
 * then on: a flow never moves.
 */
const FORGET_EVERY_MICROS = 10_000_000;

interface Placement {
  shard: number;
  lastSeenMicros: number;
}

export class ShardAssigner {
  private readonly placed = new Map<number, Placement>();
  /** Bytes handed to each shard so far. */
  private readonly load: number[];
  /** Placements held per shard. */
  private readonly flows: number[];
  private byHashOnly = false;
  private lastForget = 0;

  constructor(private readonly shards: number, private readonly idleTimeoutMicros: number, private readonly maxFlows: number) {
    this.load = new Array<number>(shards).fill(0);
    this.flows = new Array<number>(shards).fill(0);
  }

  /** The shard of a segment of flow `hash` carrying `bytes`, at capture time `nowMicros`. */
  shardOf(hash: number, bytes: number, nowMicros: number): number {
    let p = this.placed.get(hash);
    if (p === undefined) {
      if (this.byHashOnly || this.placed.size >= this.maxFlows) {
        this.byHashOnly = true;
        const shard = hash % this.shards;
        this.load[shard]! += bytes;
        return shard;
      }
      p = { shard: this.leastLoaded(), lastSeenMicros: nowMicros };
      this.placed.set(hash, p);
      this.flows[p.shard]!++;
    } else if (nowMicros > p.lastSeenMicros) {
      p.lastSeenMicros = nowMicros;
    }
    this.load[p.shard]! += bytes;
    return p.shard;
  }

  /** Forgets placements idle for longer than the idle timeout (call at capture time `nowMicros`). */
  forgetIdle(nowMicros: number): void {
    if (nowMicros - this.lastForget < FORGET_EVERY_MICROS) return;
    this.lastForget = nowMicros;
    for (const [hash, p] of this.placed) {
      if (nowMicros - p.lastSeenMicros > this.idleTimeoutMicros) {
        this.placed.delete(hash);
        this.flows[p.shard]!--;
      }
    }
  }

  /** Placements held. */
  get size(): number {
    return this.placed.size;
  }

  private leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.shards; i++) {
      const f = this.flows[i]!;
      const fb = this.flows[best]!;
      if (f < fb || (f === fb && this.load[i]! < this.load[best]!)) best = i;
    }
    return best;
  }
}
