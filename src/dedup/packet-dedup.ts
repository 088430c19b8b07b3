import type { Frame } from '../source/frame';
import type { Counters } from '../observe/counters';
import { ipHeaderOffset } from './ip-offset';

/**
 * Suppresses the second copy of an IP packet that a node capture sees twice: on a pod's veth and
 * again on the bridge, on two veths of a router, or twice on `any`. Two frames are the same packet
 * when their IP packets match byte for byte except for what forwarding and checksum offload change:
 * the link layer, IPv4 TTL / IPv6 hop limit, the ECN bits, the IPv4 header checksum and the TCP/UDP
 * checksum (a copy captured before the NIC fills in an offloaded checksum differs from one captured
 * after). Copies whose addresses differ (NAT) are different packets here.
 *
 * The key is two independent 32-bit hashes over the IP header (mutable fields skipped), the TCP/UDP
 * header without its checksum, the IP length and up to the first and last SAMPLE_BYTES bytes of what
 * follows. Keys live in a fixed open-addressing table (`capacity` slots, PROBES probes per key) for
 * `windowMicros` of capture time; a slot older than that counts as free. When all probed slots hold
 * live keys the oldest is overwritten (`dedup_table_overwrites`): memory never grows, and the price
 * of overload is a missed duplicate, never a lost packet.
 *
 * A genuine retransmission that is byte-identical (same IP id, same TCP timestamp) within the window
 * is also suppressed; reassembly would have discarded it anyway.
 *
 * Ownership: the frame is only read during `isDuplicate`; nothing of it is kept but the hashes.
 * Allocation: none per packet.
 */
export interface DedupOptions {
  /** How long (capture time, µs) a packet is remembered. Default 200 ms. */
  windowMicros: number;
  /** Table slots; rounded up to a power of two, at least 1024. Default 65536 (1 MiB). */
  capacity: number;
}

export const DEFAULT_DEDUP_OPTIONS: Readonly<DedupOptions> = Object.freeze({ windowMicros: 200_000, capacity: 65536 });

/** Bytes of the payload hashed at each end. */
const SAMPLE_BYTES = 64;
const PROBES = 8;
const MAX_CAPACITY = 1 << 24;

export class PacketDedup {
  private readonly mask: number;
  private readonly key1: Int32Array;
  private readonly key2: Int32Array;
  /** Capture time of the slot's key + 1 (0 = never used). */
  private readonly seen: Float64Array;
  private readonly windowMicros: number;
  private h1 = 0;
  private h2 = 0;
  /** Frames checked, duplicates found, frames that carried no IP packet (never suppressed). */
  checked = 0;
  duplicates = 0;
  notIp = 0;

  constructor(opts: Partial<DedupOptions> = {}, private readonly counters?: Counters) {
    const window = opts.windowMicros ?? DEFAULT_DEDUP_OPTIONS.windowMicros;
    const cap = opts.capacity ?? DEFAULT_DEDUP_OPTIONS.capacity;
    if (!Number.isFinite(window) || window <= 0) throw new RangeError(`dedup window must be > 0 µs (got ${window})`);
    if (!Number.isInteger(cap) || cap < 1 || cap > MAX_CAPACITY) throw new RangeError(`dedup capacity must be 1..${MAX_CAPACITY} (got ${cap})`);
    let size = 1024;
    while (size < cap) size *= 2;
    this.mask = size - 1;
    this.key1 = new Int32Array(size);
    this.key2 = new Int32Array(size);
    this.seen = new Float64Array(size);
    this.windowMicros = window;
  }

  /** Slots in the table (memory: 16 bytes each). */
  get capacity(): number {
    return this.mask + 1;
  }

  /**
   * True when the frame's IP packet was already seen within the window (the caller drops the
   * frame); otherwise the packet is remembered and false is returned. Frames without an IP packet
   * (ARP, unknown link types, garbage) are never duplicates. Never throws.
   */
  isDuplicate(frame: Frame): boolean {
    this.checked++;
    const ip = ipHeaderOffset(frame);
    if (ip < 0 || !this.hashIp(frame.buf, ip, frame.off + frame.capLen)) {
      this.notIp++;
      return false;
    }
    return this.lookupOrInsert(this.h1 | 0, this.h2 | 0, frame.tsMicros);
  }

  private lookupOrInsert(k1: number, k2: number, now: number): boolean {
    const window = this.windowMicros;
    let slot = (k1 ^ (k1 >>> 15)) & this.mask;
    let victim = -1;
    let victimAge = -1;
    for (let i = 0; i < PROBES; i++, slot = (slot + 1) & this.mask) {
      const stamp = this.seen[slot];
      const age = stamp === 0 ? Infinity : Math.abs(now - (stamp - 1));
      if (age <= window) {
        if (this.key1[slot] === k1 && this.key2[slot] === k2) {
          this.duplicates++;
          return true;
        }
        if (victimAge !== Infinity && age > victimAge) {
          victim = slot;
          victimAge = age;
        }
      } else if (victimAge !== Infinity) {
        victim = slot; // free or expired: best place to insert
        victimAge = Infinity;
      }
    }
    if (victimAge !== Infinity) this.counters?.inc('dedup_table_overwrites');
    this.key1[victim] = k1;
    this.key2[victim] = k2;
    this.seen[victim] = now + 1;
    return false;
  }

  /** Hashes the IP packet at `ip` (bytes up to `end` are captured) into h1/h2; false if not IP. */
  private hashIp(buf: Buffer, ip: number, end: number): boolean {
    const avail = end - ip;
    if (avail < 1) return false;
    const version = buf[ip] >> 4;
    this.h1 = 0x811c9dc5;
    this.h2 = 0x3b9aca07;
    let l4: number;
    let proto: number;
    let ipEnd: number;
    if (version === 4) {
      if (avail < 20) return false;
      const hl = (buf[ip] & 0x0f) << 2;
      if (hl < 20 || hl > avail) return false;
      const total = (buf[ip + 2] << 8) | buf[ip + 3];
      this.mix(buf[ip]);
      this.mix(buf[ip + 1] & 0xfc); // DSCP without ECN
      this.range(buf, ip + 2, ip + 8); // total length, id, flags + fragment offset
      this.mix(buf[ip + 9]); // protocol (TTL at 8 and the checksum at 10-11 skipped)
      this.range(buf, ip + 12, ip + hl); // addresses, options
      proto = buf[ip + 9];
      const fragOff = ((buf[ip + 6] << 8) | buf[ip + 7]) & 0x1fff;
      if (fragOff !== 0) proto = -1; // later fragment: no transport header
      l4 = ip + hl;
      ipEnd = total >= hl ? Math.min(end, ip + total) : end;
    } else if (version === 6) {
      if (avail < 40) return false;
      this.mix(buf[ip]);
      this.mix(buf[ip + 1] & 0xcf); // traffic class without ECN, flow label high bits
      this.range(buf, ip + 2, ip + 7); // flow label, payload length, next header (hop limit skipped)
      this.range(buf, ip + 8, ip + 40);
      proto = buf[ip + 6];
      l4 = ip + 40;
      const payload = (buf[ip + 4] << 8) | buf[ip + 5];
      ipEnd = payload === 0 ? end : Math.min(end, ip + 40 + payload); // 0: jumbogram
    } else {
      return false;
    }
    let rest = l4;
    if (proto === 6 && ipEnd - l4 >= 20) {
      const thl = (buf[l4 + 12] >> 4) << 2;
      const hdrEnd = thl >= 20 && l4 + thl <= ipEnd ? l4 + thl : l4 + 20;
      this.range(buf, l4, l4 + 16); // ports, seq, ack, offset, flags, window
      this.range(buf, l4 + 18, hdrEnd); // urgent pointer, options (checksum at 16-17 skipped)
      rest = hdrEnd;
    } else if (proto === 17 && ipEnd - l4 >= 8) {
      this.range(buf, l4, l4 + 6);
      rest = l4 + 8;
    }
    const n = ipEnd - rest;
    this.mix(n & 0xff);
    this.mix((n >>> 8) & 0xff);
    this.mix(n >>> 16);
    if (n <= 2 * SAMPLE_BYTES) {
      this.range(buf, rest, ipEnd);
    } else {
      this.range(buf, rest, rest + SAMPLE_BYTES);
      this.range(buf, ipEnd - SAMPLE_BYTES, ipEnd);
    }
    return true;
  }

  private range(buf: Buffer, from: number, to: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = from; i < to; i++) {
      const b = buf[i];
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 + b + 1, 0x5bd1e995);
      h2 ^= h2 >>> 13;
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  private mix(b: number): void {
    this.h1 = Math.imul(this.h1 ^ b, 0x01000193);
    let h2 = Math.imul(this.h2 + b + 1, 0x5bd1e995);
    h2 ^= h2 >>> 13;
    this.h2 = h2;
  }
}
