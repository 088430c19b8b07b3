import * as fs from 'node:fs';

/**
 * Kernel-side statistics of UDP sockets, read from procfs of the network namespace this process
 * runs in (/proc/self/net/...). Linux only; on other systems (or without procfs) every reader
 * returns undefined and the caller exports nothing.
 *
 * /proc/net/udp and /proc/net/udp6 (one line per socket):
 *   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
 * `drops` is the socket's sk_drops: datagrams the kernel discarded because the receive queue
 * (SO_RCVBUF) was full, or for memory / filter reasons. `rx_queue` is the bytes queued now.
 * /proc/net/snmp "Udp:" RcvbufErrors / InErrors are namespace-wide totals.
 */

export interface UdpSocketRow {
  localPort: number;
  inode: number;
  rxQueueBytes: number;
  drops: number;
}

/** Parses the text of /proc/net/udp or /proc/net/udp6. Malformed lines are skipped. */
export function parseProcNetUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 13) continue;
    const local = f[1];
    const colon = local.lastIndexOf(':');
    const queues = f[4].split(':');
    const localPort = parseInt(local.slice(colon + 1), 16);
    const rxQueueBytes = parseInt(queues[1] ?? '', 16);
    const inode = Number(f[9]);
    const drops = Number(f[12]);
    if (colon < 0 || !Number.isFinite(localPort) || !Number.isFinite(rxQueueBytes) || !Number.isInteger(inode) || !Number.isInteger(drops)) continue;
    rows.push({ localPort, inode, rxQueueBytes, drops });
  }
  return rows;
}

/** Parses /proc/net/snmp: the "Udp:" header/value line pair as a name → number map. */
export function parseProcNetSnmpUdp(text: string): Record<string, number> | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('Udp: '));
  if (lines.length < 2) return undefined;
  const names = lines[0].trim().split(/\s+/).slice(1);
  const values = lines[1].trim().split(/\s+/).slice(1);
  if (names.length !== values.length) return undefined;
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) {
    const v = Number(values[i]);
    if (Number.isFinite(v)) out[names[i]] = v;
  }
  return out;
}

/** Inodes of the sockets this process has open (from /proc/self/fd links "socket:[N]"). */
export function ownSocketInodes(): Set<number> {
  const out = new Set<number>();
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.add(Number(m[1]));
    } catch {
      /* fd closed meanwhile */
    }
  }
  return out;
}

function readText(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

export interface UdpKernelStats {
  /** Sum of sk_drops over our sockets. */
  socketDrops: number;
  /** Bytes waiting in our sockets' receive queues. */
  rxQueueBytes: number;
  /** Our sockets found in /proc/net/udp{,6}. */
  socketsFound: number;
  /** Namespace-wide Udp RcvbufErrors / InErrors (undefined without /proc/net/snmp). */
  rcvbufErrors?: number;
  inErrors?: number;
}

/**
 * Finds this process's UDP sockets bound to `ports` and reads their kernel counters. The socket
 * inodes are resolved once (first call that finds them) and cached; call `reset()` after rebinding.
 */
export class UdpKernelStatsReader {
  private inodes: Set<number> | undefined;

  constructor(private readonly ports: readonly number[]) {}

  /**
   * Bytes queued per local port (our sockets only), from /proc/self/net/udp{,6} alone: the cheap read for
   * frequent polls (the load shedder). undefined without procfs.
   */
  readQueues(): Map<number, number> | undefined {
    const mine = this.ownRows();
    if (mine === undefined) return undefined;
    const out = new Map<number, number>();
    for (const r of mine) out.set(r.localPort, Math.max(r.rxQueueBytes, out.get(r.localPort) ?? 0));
    return out;
  }

  /** Our sockets' rows (bound to `ports`, inode among our fds); undefined without procfs. */
  private ownRows(): UdpSocketRow[] | undefined {
    const rows: UdpSocketRow[] = [];
    const v4 = readText('/proc/self/net/udp');
    const v6 = readText('/proc/self/net/udp6');
    if (v4 === undefined && v6 === undefined) return undefined;
    if (v4 !== undefined) rows.push(...parseProcNetUdp(v4));
    if (v6 !== undefined) rows.push(...parseProcNetUdp(v6));
    const mine = rows.filter((r) => this.ports.includes(r.localPort));
    if (this.inodes === undefined || !mine.some((r) => this.inodes!.has(r.inode))) {
      const own = ownSocketInodes();
      this.inodes = new Set(mine.filter((r) => own.has(r.inode)).map((r) => r.inode));
    }
    const inodes = this.inodes;
    return mine.filter((r) => inodes.has(r.inode));
  }

  reset(): void {
    this.inodes = undefined;
  }

  read(): UdpKernelStats | undefined {
    const mine = this.ownRows();
    if (mine === undefined) return undefined;
    const stats: UdpKernelStats = { socketDrops: 0, rxQueueBytes: 0, socketsFound: 0 };
    for (const r of mine) {
      stats.socketDrops += r.drops;
      stats.rxQueueBytes += r.rxQueueBytes;
      stats.socketsFound++;
    }
    const snmpText = readText('/proc/self/net/snmp');
    const snmp = snmpText === undefined ? undefined : parseProcNetSnmpUdp(snmpText);
    if (snmp?.RcvbufErrors !== undefined) stats.rcvbufErrors = snmp.RcvbufErrors;
    if (snmp?.InErrors !== undefined) stats.inErrors = snmp.InErrors;
    return stats;
  }
}
