import type { DecodedPacket } from '../decode/decoded-packet';

/**
 * The identity of a TCP flow: (VNI, the two (address, port) endpoints). Outer tunnel UDP ports are
 * never part of it; the same inner 4-tuple under two VNIs is two flows.
 *
 * The hash is symmetric (both directions hash the same) and computed straight from the packet's
 * bytes: no key string or object is allocated per packet. Entries with the same hash are chained
 * through `hashNext`; `prev`/`next` link an entry into one FlowList (LRU or linger order).
 */
export class FlowKey {
  /** ends[0] address at [0, 16), ends[1] address at [16, 32); only the first 4 bytes for IPv4. */
  readonly addrs = Buffer.alloc(32);
  port0 = 0;
  port1 = 0;
  ipVersion = 0;
  vni = -1;
  hash = 0;
  hashNext: FlowKey | null = null;
  prev: FlowKey | null = null;
  next: FlowKey | null = null;

  /** Copies the key of `pkt`; `flip` makes the packet's destination end 0. */
  setFromPacket(pkt: DecodedPacket, hash: number, flip: boolean): void {
    const alen = pkt.ipVersion === 6 ? 16 : 4;
    const a0 = flip ? pkt.dstAddrOff : pkt.srcAddrOff;
    const a1 = flip ? pkt.srcAddrOff : pkt.dstAddrOff;
    pkt.buf.copy(this.addrs, 0, a0, a0 + alen);
    pkt.buf.copy(this.addrs, 16, a1, a1 + alen);
    this.port0 = flip ? pkt.dstPort : pkt.srcPort;
    this.port1 = flip ? pkt.srcPort : pkt.dstPort;
    this.ipVersion = pkt.ipVersion;
    this.vni = pkt.vni;
    this.hash = hash;
  }

  copyKeyFrom(k: FlowKey): void {
    k.addrs.copy(this.addrs);
    this.port0 = k.port0;
    this.port1 = k.port1;
    this.ipVersion = k.ipVersion;
    this.vni = k.vni;
    this.hash = k.hash;
  }

  /** 0 when the packet's sender is end 0, 1 when it is end 1, -1 when the packet is another flow. */
  directionOf(pkt: DecodedPacket): number {
    if (pkt.vni !== this.vni || pkt.ipVersion !== this.ipVersion) return -1;
    const alen = pkt.ipVersion === 6 ? 16 : 4;
    const buf = pkt.buf;
    if (
      pkt.srcPort === this.port0 &&
      pkt.dstPort === this.port1 &&
      sameBytes(buf, pkt.srcAddrOff, this.addrs, 0, alen) &&
      sameBytes(buf, pkt.dstAddrOff, this.addrs, 16, alen)
    ) {
      return 0;
    }
    if (
      pkt.srcPort === this.port1 &&
      pkt.dstPort === this.port0 &&
      sameBytes(buf, pkt.srcAddrOff, this.addrs, 16, alen) &&
      sameBytes(buf, pkt.dstAddrOff, this.addrs, 0, alen)
    ) {
      return 1;
    }
    return -1;
  }
}

function sameBytes(a: Buffer, aOff: number, b: Buffer, bOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

function endpointHash(buf: Buffer, off: number, alen: number, port: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < alen; i++) h = Math.imul(h ^ buf[off + i], 0x01000193);
  h = Math.imul(h ^ (port & 0xff), 0x01000193);
  h = Math.imul(h ^ (port >>> 8), 0x01000193);
  return h >>> 0;
}

/** Symmetric flow hash of a TCP packet: a small non-negative integer (a V8 Smi, cheap Map key). */
export function flowHash(pkt: DecodedPacket): number {
  const alen = pkt.ipVersion === 6 ? 16 : 4;
  const a = endpointHash(pkt.buf, pkt.srcAddrOff, alen, pkt.srcPort);
  const b = endpointHash(pkt.buf, pkt.dstAddrOff, alen, pkt.dstPort);
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  let h = Math.imul(lo ^ (lo >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ hi ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ pkt.vni ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15) ^ pkt.ipVersion) & 0x3fffffff;
}

/** Intrusive doubly linked list of FlowKeys: O(1) push, remove and move-to-tail, no allocation. */
export class FlowList<T extends FlowKey> {
  head: T | null = null;
  tail: T | null = null;
  size = 0;

  push(k: T): void {
    k.prev = this.tail;
    k.next = null;
    if (this.tail !== null) this.tail.next = k;
    else this.head = k;
    this.tail = k;
    this.size++;
  }

  remove(k: T): void {
    if (k.prev !== null) k.prev.next = k.next;
    else this.head = k.next as T | null;
    if (k.next !== null) k.next.prev = k.prev;
    else this.tail = k.prev as T | null;
    k.prev = null;
    k.next = null;
    this.size--;
  }

  moveToTail(k: T): void {
    if (this.tail === k) return;
    this.remove(k);
    this.push(k);
  }
}
