/**
 * The mirror target's packet source: UDP sockets that receive VPC Traffic Mirroring datagrams.
 *
 *   VXLAN  (--listen, default 0.0.0.0:4789): the datagram payload starts with the VXLAN header
 *          (AWS Traffic Mirroring to an ENI or NLB target, Azure vTAP); first layer FIRST_LAYER_VXLAN.
 *   GENEVE (--geneve-listen, usually :6081): payload starts with the GENEVE header; first layer
 *          FIRST_LAYER_GENEVE. The decoder follows the protocol type: AWS GWLB (GENEVE → IPv4 → UDP
 *          4789 → VXLAN → Ethernet) and GCP packet mirroring (GENEVE → IPv4/IPv6).
 *
 * Receive path (`receiver`, default 'auto'):
 *   native  the optional addon udp-batch (native/udp-batch, src/source/batched-udp-receiver.ts):
 *           recvmmsg into one preallocated slab of 64 x 64 KiB slots, one JS callback per batch of
 *           up to 64 datagrams, at most 16 batches per event-loop wakeup (then timers and the HTTP
 *           endpoints run). SO_RCVBUFFORCE is tried first, so with CAP_NET_ADMIN the requested
 *           `rcvbufBytes` is granted past net.core.rmem_max (`forceRcvbuf: false` to obey the sysctl),
 *           and the kernel's drop counter arrives with the datagrams (SO_RXQ_OVFL).
 *   dgram   plain node:dgram sockets with a persistent 'message' listener (see the note on
 *           dgram-as-promised below); libuv reads each datagram into a fresh 64 KiB buffer and calls
 *           JS once per datagram. SO_RCVBUF is capped at net.core.rmem_max (Node has no
 *           SO_RCVBUFFORCE).
 *   auto    native when the addon loads (Linux, built at install), else dgram with a warning.
 * Either way datagrams up to 65535 bytes (jumbo 9001-MTU mirror sources, GRO'd super-packets)
 * arrive whole. SO_RCVBUF is set to `rcvbufBytes` (default 64 MiB) and read back (Linux reports
 * twice the granted value); a capped buffer is logged as a warning naming the sysctl. A datagram
 * the kernel flags MSG_TRUNC (impossible with 64 KiB slots) is dropped and counted as
 * udp_datagrams_truncated.
 *
 * A native socket whose reads keep failing stalls (the addon stops polling and retries with
 * back-off): the listener counts as unbound, so ready() is false, and one error is logged per stall
 * (udp_receiver_stalls); the first datagram read after a retry makes it ready again. An IPv4 sender
 * on a dual-stack [::] socket is named by its IPv4 address ("10.0.1.15", not "::ffff:10.0.1.15")
 * by both receivers.
 *
 * Nothing is ever sent: the sockets are bound (so the kernel sends no ICMP port-unreachable back
 * toward the mirror source) and only read from.
 *
 * Why not dgram-as-promised: its recv()/async iterator attaches a one-shot 'message' listener per
 * call and keeps no queue, so every datagram libuv delivers in the same read batch after the first
 * is dropped silently (measured: 256 of 2000 loopback datagrams reached a for-await loop), and each
 * datagram would cost a promise plus three listener add/removes. Its bind()/close() promises add
 * nothing over the few lines here, and the package is ESM-only in a CommonJS build.
 *
 * Ownership: each Frame's `buf` is BORROWED by the frame callback (as every Frame), and the one
 * Frame object is reused. native: `buf` is the receive slab and `off` the datagram's slot, both
 * overwritten by the next batch; dgram: the Buffer node:dgram allocated for that datagram.
 * `tunnelSource` comes from a per-address cache (native), so no string is built per datagram.
 * Time: tsMicros is the receive time (wall clock, microsecond resolution); native: one time per
 * recvmmsg batch.
 *
 * Kernel drops: kernel_udp_socket_drops is the sockets' sk_drops, read from /proc/net/udp{,6}
 * every second; the native receiver also gets the same counter with each datagram (SO_RXQ_OVFL)
 * and the larger of the two is reported (it is one counter seen twice, never added up), so the
 * figure is there without procfs too.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Frame } from './frame';
import { newFrame } from './frame';
import { FIRST_LAYER_GENEVE, FIRST_LAYER_VXLAN } from '../wire/link-types';
import type { LiveSource } from '../live/live-source';
import type { Counters } from '../observe/counters';
import { UdpKernelStatsReader } from '../live/udp-stats';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import {
  BatchedUdpReceiver, DEFAULT_MAX_BATCHES, DEFAULT_SLOT_SIZE, DEFAULT_SLOTS, loadUdpBatch, type UdpBatchLoad,
} from './batched-udp-receiver';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface UdpMirrorSourceOptions {
  /** VXLAN socket. */
  listen: ListenAddress;
  /** Optional GENEVE socket. */
  geneveListen?: ListenAddress | undefined;
  /** Requested SO_RCVBUF in bytes. */
  rcvbufBytes: number;
  /** Receive path (see the module comment). Default 'auto'. */
  receiver?: UdpReceiverChoice | undefined;
  /** native: try SO_RCVBUFFORCE before SO_RCVBUF (needs CAP_NET_ADMIN). Default true. */
  forceRcvbuf?: boolean | undefined;
  /** native: batch geometry (tests, tuning). Defaults: 64 slots of 65536 bytes, 16 batches per wakeup. */
  nativeSlots?: number | undefined;
  nativeSlotSize?: number | undefined;
  nativeMaxBatchesPerWakeup?: number | undefined;
  /** Loads the addon (tests inject a missing one). Default loadUdpBatch(). */
  loadNative?: (() => UdpBatchLoad) | undefined;
}

export const UDP_RECEIVERS = ['auto', 'native', 'dgram'] as const;
export type UdpReceiverChoice = (typeof UDP_RECEIVERS)[number];

export const DEFAULT_RCVBUF_BYTES = 64 * 1024 * 1024;
/** At most one 'UDP socket error' log line per this many milliseconds (every error is still counted). */
const SOCKET_ERROR_LOG_MS = 10_000;

/**
 * One listening socket, by receive path (`receiver`). Only successfully bound listeners are kept
 * (UdpMirrorSource.listeners); each owns its socket or receiver, which stop() closes.
 */
type Listener = NativeListener | DgramListener;

interface ListenerCommon {
  /** Which tunnel the socket receives (--listen: vxlan, --geneve-listen: geneve). */
  kind: 'vxlan' | 'geneve';
  addr: ListenAddress;
  linkType: number;
  /** SO_RCVBUF as getsockopt reported it (Linux: twice the granted size). */
  rcvbufActual: number;
}

interface NativeListener extends ListenerCommon {
  receiver: 'native';
  rx: BatchedUdpReceiver;
  /** Reading: false while the receiver is stalled (reads keep failing; its socket stays open) and after stop(). */
  bound: boolean;
}

interface DgramListener extends ListenerCommon {
  receiver: 'dgram';
  socket: dgram.Socket;
  /** Bound and not closed (the socket's 'close' event clears it). */
  bound: boolean;
}

export class UdpMirrorSource implements LiveSource {
  readonly name: string;
  private readonly listeners: Listener[] = [];
  private readonly frame: Frame = newFrame();
  /** Kernel counters of our sockets; made again once bound (port 0 resolves to the port the kernel chose). */
  private stats: UdpKernelStatsReader;
  private onFrame: ((frame: Frame) => void) | undefined;
  private stopped = false;
  private lastKernelDrops = -1;
  private kernelDropsRising = 0;
  /** Datagrams read from the sockets (own count, truncated ones included; kernel drops are separate). */
  datagrams = 0;
  /** Datagrams dropped because the kernel flagged them MSG_TRUNC (native receiver only). */
  truncated = 0;
  private socketErrors = 0;
  /** Time of the last 'UDP socket error' line (-1: none yet) and the errors counted but not logged since. */
  private lastErrorLogMs = -1;
  private errorsNotLogged = 0;
  /** Times a native receiver stalled (reads kept failing; see BatchedUdpReceiver). */
  private receiverStalls = 0;
  private receiverKind: 'native' | 'dgram' | undefined;
  private latest: Record<string, number> = {};

  constructor(
    private readonly opts: UdpMirrorSourceOptions,
    private readonly log: Logger,
  ) {
    const a = opts.listen;
    this.name = `mirror:${hostPort(a)}` + (opts.geneveListen ? `+geneve:${hostPort(opts.geneveListen)}` : '');
    const ports = [a.port];
    if (opts.geneveListen) ports.push(opts.geneveListen.port);
    this.stats = new UdpKernelStatsReader(ports);
  }

  /**
   * Chooses the receiver and binds the sockets. Rejects with a ShadowtapError when a port cannot be
   * bound (CAP_ERR_LISTEN) or `receiver: 'native'` was asked for and the addon is unavailable
   * (CAP_ERR_UDP_RECEIVER); nothing stays bound then.
   */
  async start(onFrame: (frame: Frame) => void): Promise<void> {
    this.onFrame = onFrame;
    const choice = this.opts.receiver ?? 'auto';
    let native: UdpBatchLoad | undefined;
    if (choice !== 'dgram') {
      native = (this.opts.loadNative ?? loadUdpBatch)();
      if (native.addon === undefined && choice === 'native') {
        throw new ShadowtapError('CAP_ERR_UDP_RECEIVER', `--udp-receiver native: the batched UDP receiver is unavailable: ${native.reason}; use --udp-receiver auto or dgram to run on node:dgram`, EXIT_USAGE);
      }
    }
    const addon = native?.addon;
    this.receiverKind = addon ? 'native' : 'dgram';
    if (addon) {
      this.log.info(
        {
          receiver: 'native',
          slots: this.opts.nativeSlots ?? DEFAULT_SLOTS,
          slotBytes: this.opts.nativeSlotSize ?? DEFAULT_SLOT_SIZE,
          maxBatchesPerWakeup: this.opts.nativeMaxBatchesPerWakeup ?? DEFAULT_MAX_BATCHES,
        },
        'UDP receiver: native batched recvmmsg (udp-batch)',
      );
    } else if (choice === 'auto') {
      this.log.warn({ receiver: 'dgram', reason: native?.reason }, 'UDP receiver: node:dgram (the batched native receiver is unavailable; expect a lower lossless rate)');
    } else {
      this.log.info({ receiver: 'dgram' }, 'UDP receiver: node:dgram');
    }
    try {
      await this.bind('vxlan', this.opts.listen, FIRST_LAYER_VXLAN, addon);
      if (this.opts.geneveListen) await this.bind('geneve', this.opts.geneveListen, FIRST_LAYER_GENEVE, addon);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.stats = new UdpKernelStatsReader(this.boundAddresses().map((a) => a.port));
  }

  /** The receiver in use once started: 'native' (udp-batch) or 'dgram'. */
  receiver(): 'native' | 'dgram' | undefined {
    return this.receiverKind;
  }

  private async bind(kind: Listener['kind'], addr: ListenAddress, linkType: number, addon: UdpBatchLoad['addon']): Promise<void> {
    if (addon) return this.bindNative(kind, addr, linkType, addon);
    const type = net.isIPv6(addr.host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    const l: DgramListener = { receiver: 'dgram', kind, addr, linkType, socket, bound: false, rcvbufActual: 0 };
    const frame = this.frame;
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      if (this.stopped) return;
      this.datagrams++;
      frame.buf = msg;
      frame.off = 0;
      frame.capLen = msg.length;
      frame.wireLen = msg.length;
      frame.tsMicros = Math.round((performance.timeOrigin + performance.now()) * 1000);
      frame.linkType = l.linkType;
      frame.tunnelSource = unmapV4(rinfo.address);
      this.onFrame!(frame);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(listenError(kind, addr, err));
      });
      socket.bind({ port: addr.port, address: addr.host, exclusive: true }, () => {
        socket.removeAllListeners('error');
        resolve();
      });
    });
    l.bound = true;
    socket.on('error', (err: Error) => {
      // Receive errors on a bound UDP socket are transient (e.g. ENOMEM); count, log, keep going.
      this.socketError(kind, err);
    });
    socket.on('close', () => {
      l.bound = false;
    });
    this.listeners.push(l);
    this.applyRcvbuf(l);
  }

  /**
   * Every receive error is counted (udp_socket_errors); the log gets the first one and then at most one line
   * per SOCKET_ERROR_LOG_MS with the number left out since, not one line per failed read (a failing socket
   * fails about a thousand times a second).
   */
  private socketError(kind: Listener['kind'], err: Error): void {
    this.socketErrors++;
    const now = performance.now();
    if (this.lastErrorLogMs >= 0 && now - this.lastErrorLogMs < SOCKET_ERROR_LOG_MS) {
      this.errorsNotLogged++;
      return;
    }
    this.log.warn({ err: err.message, listener: kind, notLoggedSincePrevious: this.errorsNotLogged }, 'UDP socket error');
    this.lastErrorLogMs = now;
    this.errorsNotLogged = 0;
  }

  private bindNative(kind: Listener['kind'], addr: ListenAddress, linkType: number, addon: NonNullable<UdpBatchLoad['addon']>): void {
    let rx: BatchedUdpReceiver;
    // The callbacks run from the event loop (libuv), never inside open(): `l` is set by then.
    try {
      rx = BatchedUdpReceiver.open(
        addon,
        {
          host: addr.host,
          port: addr.port,
          rcvbufBytes: this.opts.rcvbufBytes,
          forceRcvbuf: this.opts.forceRcvbuf,
          slots: this.opts.nativeSlots,
          slotSize: this.opts.nativeSlotSize,
          maxBatchesPerWakeup: this.opts.nativeMaxBatchesPerWakeup,
        },
        (n, batchRx) => this.onBatch(l, n, batchRx),
        (err) => {
          if (err.code === 'ENOTRECOVERABLE') {
            // Reads kept failing: the addon suspended polling and retries with back-off. Not ready
            // until a datagram is read again (onBatch marks the listener bound again).
            this.receiverStalls++;
            if (this.stopped || !l.bound) return;
            l.bound = false;
            this.log.error({ listener: kind, readErrors: l.rx.readErrors, lastErrno: l.rx.stats().lastErrno }, 'UDP receiver stalled: reads keep failing; not ready, retrying with back-off');
            return;
          }
          // Receive errors on a bound UDP socket are transient (e.g. ENOMEM); count, log, keep going.
          this.socketError(kind, err);
        },
      );
    } catch (err) {
      throw listenError(kind, addr, err as NodeJS.ErrnoException);
    }
    const l: NativeListener = { receiver: 'native', kind, addr, linkType, rx, bound: true, rcvbufActual: 0 };
    this.listeners.push(l);
    const rc = rx.rcvbuf;
    if (rc.errno !== 0) this.log.warn({ listener: kind, requested: rc.requestedBytes, errno: rc.errno }, 'could not set SO_RCVBUF');
    this.reportRcvbuf(l, rc.reportedBytes, rc.forced);
  }

  /**
   * One batch from a native receiver: one Frame per datagram, `buf` = the slab (BORROWED until this
   * returns), `off` = the slot. Stops mid-batch when the source is stopped from a frame callback.
   */
  private onBatch(l: NativeListener, n: number, rx: BatchedUdpReceiver): void {
    if (this.stopped) return;
    if (!l.bound) {
      l.bound = true; // a stalled receiver reads again
      this.log.info({ listener: l.kind }, 'UDP receiver reading again after a stall');
    }
    const frame = this.frame;
    const onFrame = this.onFrame!;
    const slab = rx.slab;
    const ts = rx.batchTimeMicros();
    const linkType = l.linkType;
    this.datagrams += n;
    for (let i = 0; i < n; i++) {
      if (rx.truncated(i)) {
        this.truncated++;
        continue;
      }
      const len = rx.length(i);
      frame.buf = slab;
      frame.off = rx.offset(i);
      frame.capLen = len;
      frame.wireLen = len;
      frame.tsMicros = ts;
      frame.linkType = linkType;
      frame.tunnelSource = rx.source(i);
      onFrame(frame);
      if (this.stopped) return;
    }
  }

  private applyRcvbuf(l: DgramListener): void {
    const want = this.opts.rcvbufBytes;
    const socket = l.socket;
    try {
      socket.setRecvBufferSize(want);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, listener: l.kind, requested: want }, 'could not set SO_RCVBUF');
    }
    let actual = 0;
    try {
      actual = socket.getRecvBufferSize();
    } catch {
      /* unsupported platform */
    }
    this.reportRcvbuf(l, actual, false);
  }

  private reportRcvbuf(l: Listener, actual: number, forced: boolean): void {
    const want = this.opts.rcvbufBytes;
    l.rcvbufActual = actual;
    // Linux reports twice the granted size (the doubling covers bookkeeping overhead); granted < requested = capped.
    const granted = process.platform === 'linux' ? Math.floor(actual / 2) : actual;
    if (granted < want) {
      const force = this.receiverKind === 'native' && this.opts.forceRcvbuf !== false ? ', or give the agent CAP_NET_ADMIN (SO_RCVBUFFORCE)' : '';
      this.log.warn(
        { listener: l.kind, requestedBytes: want, grantedBytes: granted, reportedBytes: actual },
        `SO_RCVBUF capped by the kernel: raise net.core.rmem_max to at least ${want} (sysctl -w net.core.rmem_max=${want})${force} or datagrams will be dropped under bursts`,
      );
    } else {
      this.log.info({ listener: l.kind, rcvbufBytes: granted, reportedBytes: actual, forced }, forced ? 'UDP receive buffer set (SO_RCVBUFFORCE, past net.core.rmem_max)' : 'UDP receive buffer set');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            if (l.receiver === 'native') {
              // Also when not bound (stalled): the socket is open and its retry timer armed.
              l.rx.close();
              l.bound = false;
              return resolve();
            }
            if (!l.bound) return resolve();
            l.socket.close(() => resolve());
          }),
      ),
    );
  }

  /**
   * Bound (every listener), reading (no native receiver stalled) and not stopped. Load shedding is
   * judged by the runner.
   */
  ready(): boolean {
    return !this.stopped && this.listeners.length > 0 && this.listeners.every((l) => l.bound);
  }

  /** Shedding load: the kernel dropped datagrams on our sockets during the last two polls (~2 s). */
  shedding(): boolean {
    return this.kernelDropsRising > 0;
  }

  /**
   * How full the fullest receive queue is: bytes the kernel holds for the socket (rx_queue of
   * /proc/net/udp, sk_rmem_alloc) over the buffer it may hold (SO_RCVBUF as reported, sk_rcvbuf), 0..1;
   * the kernel drops datagrams near 1. undefined without procfs. One small procfs read per call.
   */
  queueFill(): number | undefined {
    const queues = this.stats.readQueues();
    if (queues === undefined) return undefined;
    let fill = 0;
    for (const l of this.listeners) {
      if (l.rcvbufActual <= 0) continue;
      const port = listenerAddress(l)?.port;
      const q = port === undefined ? undefined : queues.get(port);
      if (q !== undefined) fill = Math.max(fill, q / l.rcvbufActual);
    }
    return fill;
  }

  /** Addresses actually bound (port 0 resolved), for tests and logs. */
  boundAddresses(): Array<{ kind: string; address: string; port: number }> {
    const out: Array<{ kind: string; address: string; port: number }> = [];
    for (const l of this.listeners) {
      const a = listenerAddress(l);
      if (a !== undefined) out.push({ kind: l.kind, ...a });
    }
    return out;
  }

  pollStats(counters: Counters): void {
    const s = this.stats.read();
    const g: Record<string, number> = {
      udp_datagrams_received: this.datagrams,
      udp_socket_errors: this.socketErrors,
      udp_receiver_stalls: this.receiverStalls,
      udp_receiver_native: this.receiverKind === 'native' ? 1 : 0,
    };
    for (const l of this.listeners) g[`udp_rcvbuf_bytes{listener="${l.kind}"}`] = l.rcvbufActual;
    // sk_drops as the native receivers last saw it with a datagram (SO_RXQ_OVFL); undefined without.
    let ovfl: number | undefined;
    for (const l of this.listeners) if (l.receiver === 'native' && l.rx.dropCounterAvailable) ovfl = (ovfl ?? 0) + l.rx.kernelDrops();
    if (this.receiverKind === 'native') {
      g.udp_datagrams_truncated = this.truncated;
      counters.set('udp_datagrams_truncated', this.truncated);
    }
    // One counter seen two ways: procfs is current, SO_RXQ_OVFL lags until the next datagram but
    // needs no procfs. Report the larger, never the sum.
    const procDrops = s !== undefined && s.socketsFound > 0 ? s.socketDrops : undefined;
    const drops = procDrops === undefined ? ovfl : ovfl === undefined ? procDrops : Math.max(procDrops, ovfl);
    if (drops !== undefined) {
      counters.set('kernel_udp_socket_drops', drops);
      g.kernel_udp_socket_drops = drops;
      if (this.lastKernelDrops >= 0 && drops > this.lastKernelDrops) this.kernelDropsRising = 2;
      else if (this.kernelDropsRising > 0) this.kernelDropsRising--;
      this.lastKernelDrops = drops;
    }
    if (s !== undefined) {
      g.kernel_udp_rx_queue_bytes = s.rxQueueBytes;
      if (s.rcvbufErrors !== undefined) g.kernel_udp_rcvbuf_errors_netns = s.rcvbufErrors;
      if (s.inErrors !== undefined) g.kernel_udp_in_errors_netns = s.inErrors;
    }
    this.latest = g;
  }

  /** Source statistics for /metrics (as of the last pollStats). */
  gauges(): Record<string, number> {
    return this.latest;
  }
}

/** A listener's bound address while its socket is open (a stalled native receiver's socket is); else undefined. */
function listenerAddress(l: Listener): { address: string; family: string; port: number } | undefined {
  if (l.receiver === 'native') return l.rx.isClosed() ? undefined : l.rx.address();
  return l.bound ? l.socket.address() : undefined;
}

function listenError(kind: Listener['kind'], addr: ListenAddress, err: NodeJS.ErrnoException): ShadowtapError {
  const why =
    err.code === 'EADDRINUSE'
      ? 'address already in use (another mirror agent, or a kernel vxlan device bound to this port?)'
      : err.code === 'EADDRNOTAVAIL'
        ? 'address not available on this host'
        : err.code === 'EACCES'
          ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
          : err.message;
  const flag = kind === 'vxlan' ? '--listen' : '--geneve-listen';
  return new ShadowtapError('CAP_ERR_LISTEN', `cannot listen on UDP ${hostPort(addr)} for ${kind.toUpperCase()} (${flag}): ${why}`, EXIT_USAGE);
}

/** "::ffff:10.0.1.15" (an IPv4 sender on a dual-stack socket) → "10.0.1.15", as the native receiver reports it. */
function unmapV4(address: string): string {
  return address.length > 7 && address.charCodeAt(0) === 58 /* : */ && address.startsWith('::ffff:') && address.includes('.', 7) ? address.slice(7) : address;
}

function hostPort(a: ListenAddress): string {
  return net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
