/**
 * Bounded IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) fragment reassembly for the decoder.
 *
 * Keys: IPv4 (src, dst, id, protocol); IPv6 (src, dst, id). Overlaps are resolved first-wins
 * (bytes already held are never overwritten, as in the BSD/Windows policy; counted as
 * 'ip_fragment_overlap'). A datagram is complete once the last fragment (MF/M = 0) fixed its
 * length, every byte up to it is held, and the first fragment (offset 0) supplied the IP header.
 *
 * Bounds: at most `maxSets` datagrams in progress (the oldest is evicted to admit a new one) and
 * `maxBytes` buffered in total (oldest sets are evicted to make room; a set that cannot fit is
 * dropped), at most MAX_RANGES disjoint pieces per datagram, 65535 bytes per datagram. A set
 * expires `timeoutMicros` of capture time after its first fragment. Counters (events, not
 * packets): ip_fragments_reassembled, ip_fragment_sets_timed_out, ip_fragment_overflow,
 * ip_fragment_overlap, ip_fragment_inconsistent, ip_fragment_too_big, ip_fragment_too_many_holes.
 *
 * Ownership: fragment bytes are COPIED in (the caller's buffer is borrowed only during add*()).
 * A completed datagram is written into one of two grow-only output buffers owned by this object
 * (chosen by `level`, so that a datagram nested inside another reassembled one does not clobber
 * the buffer it is read from); it is valid until the next add*() call with the same level.
 * Allocation happens only on this (rare) fragment path. The reassembled IPv4 header gets the full
 * total length and cleared MF/offset, but its checksum is not recomputed (nobody downstream checks it);
 * the reassembled IPv6 header is the fixed header only, its next header set to the fragmentable part's.
 */
import type { Counters } from '../observe/counters';

export const FRAG_BUFFERED = 0;
export const FRAG_DROPPED = 1;
export const FRAG_COMPLETE = 2;

/** Largest IP datagram (IPv4 total length / IPv6 payload length are 16-bit). */
const MAX_DATAGRAM = 65535;
/** Disjoint byte ranges one datagram may hold before it is dropped (tiny-fragment floods). */
export const MAX_RANGES = 256;

export interface ReassemblyLimits {
  maxSets: number;
  maxBytes: number;
  timeoutMicros: number;
}

interface FragSet {
  created: number;
  version: number;
  proto: number;
  /** Copy of the IP header of the first fragment (IPv4: whole header; IPv6: the 40-byte fixed header), or null until it arrives. */
  header: Buffer | null;
  data: Buffer;
  /** Sorted, merged, disjoint [start, end) pairs of held bytes. */
  ranges: number[];
  /** Datagram payload length once the last fragment arrived, else -1. */
  total: number;
  /** Bytes charged against maxBytes. */
  charged: number;
}

const EMPTY = Buffer.alloc(0);

export class FragmentReassembler {
  private readonly sets = new Map<string, FragSet>();
  private bytes = 0;
  private readonly outputs: Buffer[] = [EMPTY, EMPTY];
  /** Capture time at which the oldest set expires (Infinity when none). */
  nextDeadline = Infinity;

  /** After FRAG_COMPLETE: the datagram (header + payload) is output[0, outputLen); the payload starts at outputHeaderLen. */
  output: Buffer = EMPTY;
  outputLen = 0;
  outputHeaderLen = 0;
  /** After FRAG_COMPLETE: the transport protocol of the datagram. */
  outputProto = 0;

  constructor(
    private readonly limits: ReassemblyLimits,
    private readonly counters: Counters,
  ) {}

  /** Datagrams in progress. */
  get pending(): number {
    return this.sets.size;
  }

  /** Bytes held in total. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /**
   * Adds one IPv4 fragment. `ip` is the offset of its IP header (header length `hl`) in `buf`;
   * its payload is buf[ip + hl, ip + hl + len) and belongs at byte `fragOff` of the datagram.
   * `vni`: the tunnel's VNI (-1 outside a tunnel), part of the datagram's identity as it is of a flow's:
   * the same addresses and id from two mirror sessions are two datagrams.
   */
  add4(buf: Buffer, ip: number, hl: number, len: number, fragOff: number, more: boolean, ts: number, level: number, vni: number): number {
    const id = (buf[ip + 4] << 8) | buf[ip + 5];
    const proto = buf[ip + 9];
    const key = `${vni}:4:${buf.readUInt32BE(ip + 12)}:${buf.readUInt32BE(ip + 16)}:${id}:${proto}`;
    if (fragOff + len + hl > MAX_DATAGRAM) {
      this.counters.inc('ip_fragment_too_big');
      this.drop(key);
      return FRAG_DROPPED;
    }
    const set = this.setFor(key, 4, ts);
    if (set === null) return FRAG_DROPPED;
    if (fragOff === 0 && set.header === null) {
      set.header = Buffer.from(buf.subarray(ip, ip + hl));
      set.proto = proto;
      this.charge(key, set, hl);
      if (!this.sets.has(key)) return FRAG_DROPPED;
    }
    return this.insert(key, set, buf, ip + hl, len, fragOff, more, level);
  }

  /**
   * Adds one IPv6 fragment. `ip` is the offset of the fixed IPv6 header in `buf`, `frag` that of
   * the fragment header; the fragmentable data is buf[frag + 8, frag + 8 + len). `vni` as for add4.
   */
  add6(buf: Buffer, ip: number, frag: number, len: number, fragOff: number, more: boolean, ts: number, level: number, vni: number): number {
    const id = buf.readUInt32BE(frag + 4);
    const key = `${vni}:6:${buf.toString('latin1', ip + 8, ip + 40)}:${id}`;
    if (fragOff + len > MAX_DATAGRAM) {
      this.counters.inc('ip_fragment_too_big');
      this.drop(key);
      return FRAG_DROPPED;
    }
    const set = this.setFor(key, 6, ts);
    if (set === null) return FRAG_DROPPED;
    if (fragOff === 0 && set.header === null) {
      set.header = Buffer.from(buf.subarray(ip, ip + 40));
      set.proto = buf[frag];
      this.charge(key, set, 40);
      if (!this.sets.has(key)) return FRAG_DROPPED;
    }
    return this.insert(key, set, buf, frag + 8, len, fragOff, more, level);
  }

  /** Drops every set whose timeout passed at capture time `now`. */
  expire(now: number): void {
    if (now < this.nextDeadline) return;
    for (const [key, set] of this.sets) {
      if (set.created + this.limits.timeoutMicros > now) break;
      this.counters.inc('ip_fragment_sets_timed_out');
      this.remove(key, set);
    }
    this.updateDeadline();
  }

  private setFor(key: string, version: number, ts: number): FragSet | null {
    const existing = this.sets.get(key);
    if (existing !== undefined) return existing;
    while (this.sets.size >= this.limits.maxSets) {
      if (!this.evictOldest()) return null;
    }
    const set: FragSet = { created: ts, version, proto: 0, header: null, data: EMPTY, ranges: [], total: -1, charged: 0 };
    this.sets.set(key, set);
    if (this.sets.size === 1) this.nextDeadline = ts + this.limits.timeoutMicros;
    return set;
  }

  private insert(key: string, set: FragSet, src: Buffer, srcOff: number, len: number, fragOff: number, more: boolean, level: number): number {
    const end = fragOff + len;
    const ranges = set.ranges;
    const heldEnd = ranges.length === 0 ? 0 : ranges[ranges.length - 1];
    if (!more) {
      // The last fragment fixes the length; a different length or held bytes beyond it contradict it.
      if ((set.total >= 0 && set.total !== end) || heldEnd > end) {
        this.counters.inc('ip_fragment_inconsistent');
        return FRAG_DROPPED;
      }
      set.total = end;
    } else if (set.total >= 0 && end > set.total) {
      this.counters.inc('ip_fragment_inconsistent');
      return FRAG_DROPPED;
    }

    if (len > 0) {
      if (end > set.data.length) {
        const cap = Math.min(MAX_DATAGRAM, Math.max(end, set.data.length * 2, 2048));
        this.charge(key, set, cap - set.data.length);
        if (!this.sets.has(key)) return FRAG_DROPPED;
        const grown = Buffer.allocUnsafe(cap);
        set.data.copy(grown, 0, 0, heldEnd);
        set.data = grown;
      }
      // Copy only the gaps (first wins), then merge [fragOff, end) into the ranges.
      let pos = fragOff;
      let overlapped = false;
      let i = 0;
      while (i < ranges.length && ranges[i + 1] < fragOff) i += 2;
      const firstTouched = i;
      for (; i < ranges.length && ranges[i] < end && pos < end; i += 2) {
        const rs = ranges[i];
        const re = ranges[i + 1];
        if (rs > pos) src.copy(set.data, pos, srcOff + (pos - fragOff), srcOff + (rs - fragOff));
        if (re > pos) {
          overlapped = true;
          pos = re;
        }
      }
      if (pos < end) src.copy(set.data, pos, srcOff + (pos - fragOff), srcOff + len);
      if (overlapped) this.counters.inc('ip_fragment_overlap');
      let j = firstTouched;
      let ms = fragOff;
      let me = end;
      while (j < ranges.length && ranges[j] <= end) {
        ms = Math.min(ms, ranges[j]);
        me = Math.max(me, ranges[j + 1]);
        j += 2;
      }
      ranges.splice(firstTouched, j - firstTouched, ms, me);
      if (ranges.length > 2 * MAX_RANGES) {
        this.counters.inc('ip_fragment_too_many_holes');
        this.remove(key, set);
        return FRAG_DROPPED;
      }
    }

    if (set.total < 0 || set.header === null) return FRAG_BUFFERED;
    if (set.total === 0 ? ranges.length !== 0 : ranges.length !== 2 || ranges[0] !== 0 || ranges[1] !== set.total) {
      return FRAG_BUFFERED;
    }
    this.complete(set, level);
    this.remove(key, set);
    this.counters.inc('ip_fragments_reassembled');
    return FRAG_COMPLETE;
  }

  private complete(set: FragSet, level: number): void {
    const header = set.header as Buffer;
    const hl = header.length;
    const n = hl + set.total;
    const slot = level & 1;
    let out = this.outputs[slot];
    if (out.length < n) {
      out = Buffer.allocUnsafe(Math.max(n, 2048));
      this.outputs[slot] = out;
    }
    header.copy(out, 0);
    set.data.copy(out, hl, 0, set.total);
    if (set.version === 4) {
      out[2] = n >> 8; // total length
      out[3] = n & 0xff;
      out[6] &= 0x40; // keep DF, clear MF and the offset
      out[7] = 0;
    } else {
      out[4] = set.total >> 8; // payload length
      out[5] = set.total & 0xff;
      out[6] = set.proto; // the fragment header and any unfragmentable extension headers are gone
    }
    this.output = out;
    this.outputLen = n;
    this.outputHeaderLen = hl;
    this.outputProto = set.proto;
  }

  /** Charges `n` more bytes to `set`, evicting older sets if the total cap requires; drops `set` if it still cannot fit. */
  private charge(key: string, set: FragSet, n: number): void {
    while (this.bytes + n > this.limits.maxBytes) {
      const oldest = this.sets.keys().next();
      if (oldest.done === true || oldest.value === key) {
        this.counters.inc('ip_fragment_overflow');
        this.remove(key, set);
        return;
      }
      this.evictOldest();
    }
    set.charged += n;
    this.bytes += n;
  }

  private evictOldest(): boolean {
    const first = this.sets.entries().next();
    if (first.done === true) return false;
    this.counters.inc('ip_fragment_overflow');
    this.remove(first.value[0], first.value[1]);
    return true;
  }

  private drop(key: string): void {
    const set = this.sets.get(key);
    if (set !== undefined) this.remove(key, set);
  }

  private remove(key: string, set: FragSet): void {
    if (!this.sets.delete(key)) return;
    this.bytes -= set.charged;
    set.charged = 0;
    this.updateDeadline();
  }

  private updateDeadline(): void {
    const first = this.sets.values().next();
    this.nextDeadline = first.done === true ? Infinity : first.value.created + this.limits.timeoutMicros;
  }
}
