/**
 * Typed wrapper of the optional native addon `udp-batch` (native/udp-batch): a UDP socket read with
 * recvmmsg into one preallocated slab, one JS callback per batch of up to `slots` datagrams.
 *
 * Why: with node:dgram every datagram costs a fresh 64 KiB Buffer and one JS callback from libuv;
 * on the mirror target that per-datagram overhead was a large share of the CPU (measurements in
 * native/udp-batch/README.md). The addon is Linux-only and optional: `loadUdpBatch()` says why it
 * is unavailable instead of throwing, and the mirror source then falls back to node:dgram.
 *
 * Ownership: the slab is BORROWED by `onBatch`. Datagram i of a batch is
 * `slab[offset(i) .. offset(i) + length(i))`; it is valid only until `onBatch` returns (the next
 * batch overwrites it). Views (subarray, Frame.buf + off) must not be kept; copy what you keep.
 * The accessors below read the batch being delivered and are meaningful only inside `onBatch`.
 *
 * Allocation: none per datagram. `source(i)` returns a cached string per source address (a bounded
 * cache: up to 4096 IPv4 and 64 IPv6 addresses; a miss asks the addon for the text once).
 */

import { constants as osConstants } from 'node:os';
import { BoundedMap } from '../util/bounded-map';

/** The `udp-batch` module as built from native/udp-batch/src/udp_batch.c. */
export interface UdpBatchAddon {
  Receiver: new (opts: NativeReceiverOptions, onBatch: (count: number) => void) => NativeReceiver;
  HEADER_WORDS: number;
  SLOT_WORDS: number;
  FLAG_TRUNCATED: number;
  ABI: number;
  /** Bytes of slab + meta memory the addon holds (all receivers; freed after close() + GC). */
  nativeBytes?: () => number;
  /** The errno value of a stall report, onBatch(-ENOTRECOVERABLE) (131 on Linux; Node's os.constants.errno lacks it). */
  ENOTRECOVERABLE?: number;
}

interface NativeReceiverOptions {
  host: string;
  port: number;
  slots?: number;
  slotSize?: number;
  maxBatches?: number;
  rcvbuf?: number;
  forceRcvbuf?: boolean;
}

interface NativeReceiver {
  readonly slab: Buffer;
  readonly meta: Buffer;
  readonly slots: number;
  readonly slotSize: number;
  readonly maxBatches: number;
  readonly rcvbufRequested: number;
  readonly rcvbufReported: number;
  readonly rcvbufForced: boolean;
  readonly rcvbufErrno: number;
  readonly dropsAvailable: boolean;
  close(): void;
  address(): { address: string; family: 'IPv4' | 'IPv6'; port: number };
  sourceAddress(slot: number): string;
  stats(): NativeReceiverStats;
  ref(): void;
  unref(): void;
}

export interface NativeReceiverStats {
  /** Poll wakeups (fd readable). */
  wakeups: number;
  /** recvmmsg calls that returned datagrams. */
  batches: number;
  datagrams: number;
  readErrors: number;
  lastErrno: number;
  open: boolean;
  polling: boolean;
  /** Reading is suspended after 1000 failing wakeups in a row; retried from a timer (1 s doubling to 30 s). */
  stalled: boolean;
  /** Times the receiver stalled. */
  stalls: number;
}

/** ABI of native/udp-batch this wrapper was written for (the addon exports it as ABI). */
const EXPECTED_ABI = 1;

export type UdpBatchLoad = { addon: UdpBatchAddon; reason?: undefined } | { addon: undefined; reason: string };

let cached: UdpBatchLoad | undefined;

/**
 * Loads `udp-batch`. Never throws: `{ addon: undefined, reason }` when it is not installed, not
 * built, not Linux, or a different ABI. The result for the default `require` is cached.
 */
export function loadUdpBatch(require_: (id: string) => unknown = require): UdpBatchLoad {
  if (require_ === require && cached !== undefined) return cached;
  const result = tryLoad(require_);
  if (require_ === require) cached = result;
  return result;
}

function tryLoad(require_: (id: string) => unknown): UdpBatchLoad {
  if (process.platform !== 'linux') return { addon: undefined, reason: `the batched receiver (recvmmsg) is Linux only, this is ${process.platform}` };
  let mod: unknown;
  try {
    mod = require_('udp-batch');
  } catch (err) {
    const why = String((err as Error)?.message ?? err).split('\n')[0];
    return { addon: undefined, reason: `the optional package udp-batch cannot be loaded (${why}); rebuild it with npm rebuild udp-batch (needs a C compiler and make)` };
  }
  const m = mod as Partial<UdpBatchAddon> | null;
  if (m === null || typeof m !== 'object' || typeof m.Receiver !== 'function') return { addon: undefined, reason: 'the package udp-batch loaded but exports no Receiver' };
  if (m.ABI !== EXPECTED_ABI || m.HEADER_WORDS !== HEADER_WORDS || m.SLOT_WORDS !== SLOT_WORDS) {
    return { addon: undefined, reason: `the package udp-batch has ABI ${String(m.ABI)}, expected ${EXPECTED_ABI}: rebuild it from native/udp-batch` };
  }
  return { addon: m as UdpBatchAddon };
}

/** Metadata layout (Int32 words), see native/udp-batch/src/udp_batch.c. */
const HEADER_WORDS = 8;
const SLOT_WORDS = 8;
const H_COUNT = 0;
const H_DROPS = 1;
const H_SEC = 2;
const H_USEC = 3;
const S_LEN = 0;
const S_FLAGS = 1;
const S_FAMILY = 2;
const S_PORT = 3;
const S_ADDR = 4;
const FLAG_TRUNCATED = 1;

export const DEFAULT_SLOTS = 64;
export const DEFAULT_SLOT_SIZE = 65536;
export const DEFAULT_MAX_BATCHES = 16;

export interface BatchedUdpReceiverOptions {
  /** Numeric IPv4 or IPv6 address to bind ("0.0.0.0", "::", "10.0.2.50"). */
  host: string;
  /** 0 = any free port (see address()). */
  port: number;
  /** Requested SO_RCVBUF in bytes (0 = leave the kernel default). */
  rcvbufBytes: number;
  /** Try SO_RCVBUFFORCE first (needs CAP_NET_ADMIN; exceeds net.core.rmem_max). Default (undefined) true. */
  forceRcvbuf?: boolean | undefined;
  /** Datagrams per recvmmsg batch, 1-1024 (default 64). */
  slots?: number | undefined;
  /** Bytes per slot, 64-65536 (default 65536: every UDP datagram fits whole). */
  slotSize?: number | undefined;
  /** recvmmsg batches per event-loop wakeup before yielding to timers and other I/O, 1-256 (default 16). */
  maxBatchesPerWakeup?: number | undefined;
}

/** What the kernel granted for SO_RCVBUF. */
export interface RcvbufResult {
  requestedBytes: number;
  /** getsockopt(SO_RCVBUF): on Linux twice the granted size. */
  reportedBytes: number;
  /** SO_RCVBUFFORCE succeeded (net.core.rmem_max did not apply). */
  forced: boolean;
  /** errno of a failed SO_RCVBUF (0 = none). */
  errno: number;
}

/**
 * One bound UDP socket read in batches. Construct with `open()`; `onBatch(count, rx)` is called once
 * per recvmmsg batch with count >= 1; read errors go to `onError` (counted, the socket keeps going).
 * A socket whose reads keep failing (1000 failing wakeups in a row without a datagram) stalls: the
 * addon stops polling, `onError` gets one error with code 'ENOTRECOVERABLE', and it retries from a
 * timer (1 s, doubling up to 30 s); the next `onBatch` means it reads again (`stats().stalled`).
 * Errors carry `errno` as a negative number (Node's convention, like the addon's thrown errors).
 */
export class BatchedUdpReceiver {
  /** The receive slab: BORROWED by onBatch (see the module comment). */
  readonly slab: Buffer;
  readonly slotSize: number;
  readonly slots: number;
  readonly rcvbuf: RcvbufResult;
  /** The kernel reports its drop counter with each datagram (SO_RXQ_OVFL). */
  readonly dropCounterAvailable: boolean;
  private readonly native: NativeReceiver;
  private readonly meta: Int32Array;
  private closed = false;
  private readonly v4Cache = new BoundedMap<number, string>(4096);
  private lastV4 = 0;
  private lastV4Text = '';
  private readonly v6Cache: Array<{ a: number; b: number; c: number; d: number; text: string }> = [];
  private v6Next = 0;
  /** Cumulative kernel drops (SO_RXQ_OVFL), unwrapped past 2^32. */
  private dropsTotal = 0;
  private dropsLast = 0;
  /** Read errors reported by the addon. */
  readErrors = 0;

  private constructor(addon: UdpBatchAddon, opts: BatchedUdpReceiverOptions, onBatch: (count: number, rx: BatchedUdpReceiver) => void, onError: (err: NodeJS.ErrnoException) => void) {
    const nativeOpts: NativeReceiverOptions = {
      host: opts.host,
      port: opts.port,
      rcvbuf: opts.rcvbufBytes,
      forceRcvbuf: opts.forceRcvbuf ?? true,
      slots: opts.slots ?? DEFAULT_SLOTS,
      slotSize: opts.slotSize ?? DEFAULT_SLOT_SIZE,
      maxBatches: opts.maxBatchesPerWakeup ?? DEFAULT_MAX_BATCHES,
    };
    const self = this;
    const stalledErrno = addon.ENOTRECOVERABLE ?? LINUX_ENOTRECOVERABLE;
    this.native = new addon.Receiver(nativeOpts, function onNativeBatch(n: number): void {
      if (n > 0) {
        self.noteDrops();
        onBatch(n, self);
      } else if (n < 0) {
        self.readErrors++;
        onError(errnoError(-n, stalledErrno));
      }
    });
    const meta = this.native.meta;
    this.meta = new Int32Array(meta.buffer, meta.byteOffset, meta.length >> 2);
    this.slab = this.native.slab;
    this.slotSize = this.native.slotSize;
    this.slots = this.native.slots;
    this.rcvbuf = {
      requestedBytes: this.native.rcvbufRequested,
      reportedBytes: this.native.rcvbufReported,
      forced: this.native.rcvbufForced,
      errno: this.native.rcvbufErrno,
    };
    this.dropCounterAvailable = this.native.dropsAvailable;
  }

  /**
   * Creates the socket, sets SO_RCVBUF (SO_RCVBUFFORCE first unless forceRcvbuf is false) and
   * SO_RXQ_OVFL, binds and starts reading. Throws the bind/socket error as a Node-style error
   * (`code` 'EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', ...; `syscall`), or a TypeError for bad options.
   */
  static open(
    addon: UdpBatchAddon,
    opts: BatchedUdpReceiverOptions,
    onBatch: (count: number, rx: BatchedUdpReceiver) => void,
    onError: (err: NodeJS.ErrnoException) => void,
  ): BatchedUdpReceiver {
    return new BatchedUdpReceiver(addon, opts, onBatch, onError);
  }

  /** Byte offset of datagram i in `slab`. */
  offset(i: number): number {
    return i * this.slotSize;
  }

  /** Bytes of datagram i in the slab (when truncated: the slot size). */
  length(i: number): number {
    return this.meta[HEADER_WORDS + i * SLOT_WORDS + S_LEN];
  }

  /** Datagram i was longer than the slot (MSG_TRUNC): its tail is lost. */
  truncated(i: number): boolean {
    return (this.meta[HEADER_WORDS + i * SLOT_WORDS + S_FLAGS] & FLAG_TRUNCATED) !== 0;
  }

  /** Source port of datagram i. */
  sourcePort(i: number): number {
    return this.meta[HEADER_WORDS + i * SLOT_WORDS + S_PORT];
  }

  /**
   * Source address of datagram i as text ("10.0.1.15", "::1"; an IPv4 sender of a dual-stack [::]
   * socket is "10.0.1.15" too, not "::ffff:10.0.1.15"), from a bounded cache: no string is built for
   * an address seen before.
   */
  source(i: number): string {
    const m = this.meta;
    const w = HEADER_WORDS + i * SLOT_WORDS;
    const family = m[w + S_FAMILY];
    if (family === 4) {
      const a = m[w + S_ADDR];
      if (a === this.lastV4 && this.lastV4Text !== '') return this.lastV4Text;
      let text = this.v4Cache.get(a);
      if (text === undefined) {
        text = this.native.sourceAddress(i);
        this.v4Cache.set(a, text);
      }
      this.lastV4 = a;
      this.lastV4Text = text;
      return text;
    }
    if (family === 6) {
      const a = m[w + S_ADDR];
      const b = m[w + S_ADDR + 1];
      const c = m[w + S_ADDR + 2];
      const d = m[w + S_ADDR + 3];
      const cache = this.v6Cache;
      for (let k = 0; k < cache.length; k++) {
        const e = cache[k];
        if (e.a === a && e.b === b && e.c === c && e.d === d) return e.text;
      }
      const text = this.native.sourceAddress(i);
      const entry = { a, b, c, d, text };
      if (cache.length < 64) cache.push(entry);
      else {
        cache[this.v6Next] = entry;
        this.v6Next = (this.v6Next + 1) & 63;
      }
      return text;
    }
    return '';
  }

  /** Receive time of the current batch (wall clock, microseconds since the epoch). */
  batchTimeMicros(): number {
    return (this.meta[H_SEC] >>> 0) * 1_000_000 + this.meta[H_USEC];
  }

  /** Datagrams in the current batch (the count onBatch was given). */
  batchCount(): number {
    return this.meta[H_COUNT];
  }

  /**
   * The kernel's cumulative drop counter for this socket (sk_drops, via SO_RXQ_OVFL) as of the newest
   * datagram received: drops since the socket was created (receive buffer full, ...). It moves only
   * when a datagram arrives after the drops; /proc/net/udp has the same counter without that lag.
   */
  kernelDrops(): number {
    return this.dropsTotal;
  }

  /** Bound address (port 0 resolved). Throws once closed. */
  address(): { address: string; family: 'IPv4' | 'IPv6'; port: number } {
    return this.native.address();
  }

  stats(): NativeReceiverStats {
    return this.native.stats();
  }

  /** Keeps / stops keeping the event loop alive (like dgram's ref/unref). */
  ref(): void {
    this.native.ref();
  }

  unref(): void {
    this.native.unref();
  }

  /** Stops reading and closes the socket; safe in any state and from inside onBatch. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }

  isClosed(): boolean {
    return this.closed;
  }

  private noteDrops(): void {
    const d = this.meta[H_DROPS] >>> 0;
    if (d !== this.dropsLast) {
      this.dropsTotal += (d - this.dropsLast) >>> 0;
      this.dropsLast = d;
    }
  }
}

const LINUX_ENOTRECOVERABLE = 131;

/** errno (positive) → name ("EADDRINUSE") from Node's own table. */
function errnoName(errno: number, stalledErrno: number): string {
  if (errno === stalledErrno) return 'ENOTRECOVERABLE';
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

/** A read error as a Node-style error: `errno` negative (as the addon's thrown errors and libuv's). */
function errnoError(errno: number, stalledErrno: number): NodeJS.ErrnoException {
  const code = errnoName(errno, stalledErrno);
  const stalled = code === 'ENOTRECOVERABLE';
  const err: NodeJS.ErrnoException = new Error(stalled ? 'recvmmsg: the socket keeps failing; reading is suspended and retried with back-off' : `recvmmsg ${code}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = 'recvmmsg';
  return err;
}
