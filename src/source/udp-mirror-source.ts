/**
 * The mirror target's packet source: UDP sockets that receive VPC Traffic Mirroring datagrams.
 *
 *   VXLAN  (--listen, default 0.0.0.0:4789): the datagram payload starts with the VXLAN header
 *          (AWS Traffic Mirroring to an ENI or NLB target, Azure vTAP); first layer FIRST_LAYER_VXLAN.
 *   GENEVE (--geneve-listen, usually :6081): payload starts with the GENEVE header; first layer
 *          FIRST_LAYER_GENEVE. The decoder follows the protocol type: AWS GWLB (GENEVE → IPv4 → UDP
 *          4789 → VXLAN → Ethernet) and GCP packet mirroring (GENEVE → IPv4/IPv6).
 *
 * Receive path: plain node:dgram sockets with a persistent 'message' listener (see the note on
 * dgram-as-promised below). libuv reads each datagram into a 64 KiB buffer, so datagrams up to
 * 65535 bytes (jumbo 9001-MTU mirror sources, GRO'd super-packets) arrive whole. SO_RCVBUF is set
 * to `rcvbufBytes` (default 32 MiB) and read back: Linux caps the request at net.core.rmem_max
 * (unless the process has CAP_NET_ADMIN and uses SO_RCVBUFFORCE, which Node does not offer) and
 * reports twice the granted value; a capped buffer is logged as a warning naming the sysctl.
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
 * Ownership: each Frame's `buf` is the Buffer node:dgram allocated for that datagram; it is
 * BORROWED by the frame callback (as every Frame), and the one Frame object is reused.
 * Time: tsMicros is the receive time (wall clock, microsecond resolution).
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
}

export const DEFAULT_RCVBUF_BYTES = 32 * 1024 * 1024;

interface Listener {
  kind: 'vxlan' | 'geneve';
  addr: ListenAddress;
  linkType: number;
  socket: dgram.Socket;
  bound: boolean;
  rcvbufActual: number;
}

export class UdpMirrorSource implements LiveSource {
  readonly name: string;
  private readonly listeners: Listener[] = [];
  private readonly frame: Frame = newFrame();
  private readonly stats: UdpKernelStatsReader;
  private onFrame: ((frame: Frame) => void) | undefined;
  private stopped = false;
  private lastKernelDrops = -1;
  private kernelDropsRising = 0;
  /** Datagrams received per listener kind (own count; kernel drops are separate). */
  datagrams = 0;
  private socketErrors = 0;
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

  async start(onFrame: (frame: Frame) => void): Promise<void> {
    this.onFrame = onFrame;
    await this.bind('vxlan', this.opts.listen, FIRST_LAYER_VXLAN);
    if (this.opts.geneveListen) {
      try {
        await this.bind('geneve', this.opts.geneveListen, FIRST_LAYER_GENEVE);
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
  }

  private async bind(kind: Listener['kind'], addr: ListenAddress, linkType: number): Promise<void> {
    const type = net.isIPv6(addr.host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    const l: Listener = { kind, addr, linkType, socket, bound: false, rcvbufActual: 0 };
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
      frame.tunnelSource = rinfo.address;
      this.onFrame!(frame);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        const why =
          err.code === 'EADDRINUSE'
            ? 'address already in use (another mirror agent, or a kernel vxlan device bound to this port?)'
            : err.code === 'EADDRNOTAVAIL'
              ? 'address not available on this host'
              : err.code === 'EACCES'
                ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
                : err.message;
        const flag = kind === 'vxlan' ? '--listen' : '--geneve-listen';
        reject(new ShadowtapError('CAP_ERR_LISTEN', `cannot listen on UDP ${hostPort(addr)} for ${kind.toUpperCase()} (${flag}): ${why}`, EXIT_USAGE));
      };
      socket.once('error', onError);
      socket.bind({ port: addr.port, address: addr.host, exclusive: true }, () => {
        socket.removeListener('error', onError);
        resolve();
      });
    });
    l.bound = true;
    socket.on('error', (err: Error) => {
      // Receive errors on a bound UDP socket are transient (e.g. ENOMEM); count, log, keep going.
      this.socketErrors++;
      this.log.warn({ err: err.message, listener: kind }, 'UDP socket error');
    });
    socket.on('close', () => {
      l.bound = false;
    });
    this.listeners.push(l);
    this.applyRcvbuf(l);
  }

  private applyRcvbuf(l: Listener): void {
    const want = this.opts.rcvbufBytes;
    try {
      l.socket.setRecvBufferSize(want);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, listener: l.kind, requested: want }, 'could not set SO_RCVBUF');
    }
    let actual = 0;
    try {
      actual = l.socket.getRecvBufferSize();
    } catch {
      /* unsupported platform */
    }
    l.rcvbufActual = actual;
    // Linux reports twice the granted size (the doubling covers bookkeeping overhead); granted < requested = capped.
    const granted = process.platform === 'linux' ? Math.floor(actual / 2) : actual;
    if (granted < want) {
      this.log.warn(
        { listener: l.kind, requestedBytes: want, grantedBytes: granted, reportedBytes: actual },
        `SO_RCVBUF capped by the kernel: raise net.core.rmem_max to at least ${want} (sysctl -w net.core.rmem_max=${want}) or datagrams will be dropped under bursts`,
      );
    } else {
      this.log.info({ listener: l.kind, rcvbufBytes: granted, reportedBytes: actual }, 'UDP receive buffer set');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            if (!l.bound) return resolve();
            l.socket.close(() => resolve());
          }),
      ),
    );
  }

  /** Bound (every listener) and not stopped. Load shedding is judged by the runner. */
  ready(): boolean {
    return !this.stopped && this.listeners.length > 0 && this.listeners.every((l) => l.bound);
  }

  /** Shedding load: the kernel dropped datagrams on our sockets during the last two polls (~2 s). */
  shedding(): boolean {
    return this.kernelDropsRising > 0;
  }

  /** Addresses actually bound (port 0 resolved), for tests and logs. */
  boundAddresses(): Array<{ kind: string; address: string; port: number }> {
    return this.listeners.filter((l) => l.bound).map((l) => ({ kind: l.kind, ...l.socket.address() }));
  }

  pollStats(counters: Counters): void {
    const s = this.stats.read();
    const g: Record<string, number> = {
      udp_datagrams_received: this.datagrams,
      udp_socket_errors: this.socketErrors,
    };
    for (const l of this.listeners) g[`udp_rcvbuf_bytes{listener="${l.kind}"}`] = l.rcvbufActual;
    if (s !== undefined) {
      counters.set('kernel_udp_socket_drops', s.socketDrops);
      g.kernel_udp_socket_drops = s.socketDrops;
      g.kernel_udp_rx_queue_bytes = s.rxQueueBytes;
      if (s.rcvbufErrors !== undefined) g.kernel_udp_rcvbuf_errors_netns = s.rcvbufErrors;
      if (s.inErrors !== undefined) g.kernel_udp_in_errors_netns = s.inErrors;
      if (this.lastKernelDrops >= 0 && s.socketDrops > this.lastKernelDrops) this.kernelDropsRising = 2;
      else if (this.kernelDropsRising > 0) this.kernelDropsRising--;
      this.lastKernelDrops = s.socketDrops;
    }
    this.latest = g;
  }

  /** Source statistics for /metrics (as of the last pollStats). */
  gauges(): Record<string, number> {
    return this.latest;
  }
}

function hostPort(a: ListenAddress): string {
  return net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
