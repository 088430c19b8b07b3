import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Frame } from './frame';
import type { Counters } from '../observe/counters';
import type { LiveSource } from '../live/live-source';
import { ShadowtapError, EXIT_USAGE } from '../errors';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_NULL, LINKTYPE_RAW } from '../wire/link-types';
import { ipHeaderOffset } from '../dedup/ip-offset';

/**
 * LiveSource over libpcap through the npm package `cap` (0.2.1): one pcap handle per selected
 * interface, all delivering synchronously into one `onFrame`.
 *
 * Selection: `interfaces` holds names (`eth0`), globs (`veth*`, `cali?*`) or `any`. Globs match the
 * kernel's network devices (/sys/class/net) and are re-evaluated every `rescanMs`, so pod veths that
 * appear later are picked up; devices that disappeared are closed. `exclude` removes names/globs.
 * `any` without excludes is one handle on libpcap's `any` device (Linux cooked, LINKTYPE_LINUX_SLL);
 * `any` with excludes that are all loopback devices stays one `any` handle and drops frames whose
 * cooked header says ARPHRD_LOOPBACK; with other excludes it becomes the glob `*` minus them.
 *
 * Ownership: `cap` copies every packet into the one Buffer given to each handle; a frame's `buf` is
 * BORROWED until `onFrame` returns (the Frame contract) and is overwritten by the next packet.
 *
 * Handle errors: an interface that goes down or is deleted while captured makes its handle emit
 * 'error' with libpcap's message ("The interface disappeared"); that capture is closed and counted
 * (sniff_handle_errors, sniff_interfaces_gone), the others keep running, and the next rescan reopens
 * the device if it is (still or again) there — glob matches and literal names alike.
 *
 * libpcap's own counters (pcap_stats: ps_recv, ps_drop, ps_ifdrop) are summed over the open handles
 * plus what closed handles had counted, and exported by pollStats as libpcap_received,
 * libpcap_dropped and libpcap_if_dropped (32-bit wraps of a handle's counters are followed).
 *
 * This needs the cap binding vendored in native/cap (0.2.1 plus 'error' events, a close() that is
 * safe in every state, and stats()); loadCap refuses an upstream cap, whose binding aborts the process.
 * Its remaining limits:
 * - no packet timestamps: `tsMicros` is the wall clock when the packet reaches JS;
 * - snaplen is fixed at 65535 in libpcap; a smaller `snaplen` is applied by giving cap a smaller
 *   buffer (cap then copies `snaplen` bytes and flags the packet truncated);
 * - promiscuous mode is always on (on Linux that needs only CAP_NET_RAW).
 */

/** libpcap's counters of one handle since it was opened (struct pcap_stat; u_int, may wrap). */
export interface CapStats {
  recv: number;
  drop: number;
  ifdrop: number;
}

/** The parts of `cap` (native/cap) this module uses. */
export interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  /** Safe in every state (never opened, failed, closed, from a listener). */
  close(): boolean;
  /** Throws libpcap's message when the handle is not open or pcap_stats fails. */
  stats(): CapStats;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
export interface CapDevice {
  name: string;
  description?: string;
  flags?: string;
}
export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

export const LIBPCAP_INSTALL_HINT =
  'install libpcap and rebuild the optional package cap: apt-get install libpcap-dev (dnf install libpcap-devel; apk add libpcap-dev), then npm rebuild cap';

/** Loads `cap`; throws a ShadowtapError saying what to install when it is missing or not built. */
export function loadCap(require_: (id: string) => unknown = require): CapModule {
  let mod: unknown;
  try {
    mod = require_('cap');
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    throw new ShadowtapError('CAP_ERR_LIBPCAP_MISSING', `sniff needs libpcap through the npm package cap, which cannot be loaded (${why}): ${LIBPCAP_INSTALL_HINT}`, EXIT_USAGE);
  }
  const cap = (mod as Partial<CapModule>).Cap;
  if (typeof cap !== 'function' || typeof cap.deviceList !== 'function') {
    throw new ShadowtapError('CAP_ERR_LIBPCAP_MISSING', `the package cap loaded but has no Cap.deviceList: ${LIBPCAP_INSTALL_HINT}`, EXIT_USAGE);
  }
  if (typeof (cap.prototype as Partial<CapHandle> | undefined)?.stats !== 'function') {
    throw new ShadowtapError(
      'CAP_ERR_LIBPCAP_MISSING',
      `the package cap loaded is not shadowtap's patched binding (no stats(); an upstream cap aborts the process when an interface goes away): reinstall so that cap comes from native/cap (npm ci), then ${LIBPCAP_INSTALL_HINT}`,
      EXIT_USAGE,
    );
  }
  return mod as CapModule;
}

export interface LiveCaptureOptions {
  /** Names, globs or 'any'; at least one. */
  interfaces: string[];
  exclude: string[];
  /** libpcap filter expression ('' = everything). */
  filter: string;
  /** Bytes kept per packet, 64..65535. */
  snaplen: number;
  /** libpcap (kernel ring) buffer per handle, bytes. */
  bufferSize: number;
  /** Period of the device rescan (globs; reopening interfaces whose capture failed), ms; 0 = never. */
  rescanMs: number;
}

export const DEFAULT_LIVE_CAPTURE: Readonly<Omit<LiveCaptureOptions, 'interfaces'>> = Object.freeze({
  exclude: [],
  filter: '',
  snaplen: 65535,
  bufferSize: 8 * 1024 * 1024,
  rescanMs: 5000,
});

export interface LiveCaptureDeps {
  cap: CapModule;
  /** Kernel network devices (default: /sys/class/net). */
  listNetdevs?: () => string[];
  /** True for loopback devices (default: /sys/class/net/NAME/type == 772). */
  isLoopback?: (name: string) => boolean;
  /** Capture clock, µs since the epoch. */
  nowMicros?: () => number;
  log?: Logger;
}

const ARPHRD_LOOPBACK = 772;
const SLL_HATYPE = 2;

interface Capture {
  device: string;
  handle: CapHandle;
  buf: Buffer;
  frame: Frame;
  /** Last raw pcap_stats values read from this handle (to follow 32-bit wraps). */
  raw: CapStats;
}

/** libpcap counters summed over handles (JS numbers: exact far beyond 2^32). */
interface LibpcapTotals {
  recv: number;
  drop: number;
  ifdrop: number;
}

const U32 = 2 ** 32;

/**
 * Grows `into` by the increase from `prev` to `now` of each u_int counter (mod 2^32), and makes
 * `prev` = `now`. An increase of 2^31 or more is not a wrap but a counter that went backwards
 * (libpcap's ps_ifdrop once the device's /proc/net/dev line is gone): it is not added.
 */
function addStatsDelta(into: LibpcapTotals, prev: CapStats, now: CapStats): void {
  for (const k of ['recv', 'drop', 'ifdrop'] as const) {
    const v = now[k];
    if (!Number.isFinite(v) || v < 0) continue;
    const d = (((v - prev[k]) % U32) + U32) % U32;
    if (d < U32 / 2) into[k] += d;
    prev[k] = v;
  }
}

/** Converts cap's link type string to a LINKTYPE_* value (-1 when unknown). */
export function linkTypeOf(capName: string): number {
  switch (capName) {
    case 'ETHERNET':
      return LINKTYPE_ETHERNET;
    case 'LINKTYPE_LINUX_SLL':
      return LINKTYPE_LINUX_SLL;
    case 'RAW':
      return LINKTYPE_RAW;
    case 'NULL':
      return LINKTYPE_NULL;
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(capName);
      return m ? Number(m[1]) : -1;
    }
  }
}

/** Shell-style glob (`*`, `?`, `[abc]`) → anchored RegExp; a name without metacharacters matches itself. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
        re += '[' + (body.startsWith('!') ? '^' + body.slice(1) : body) + ']';
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function isGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

function defaultNetdevs(): string[] {
  try {
    return fs.readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}

function defaultIsLoopback(name: string): boolean {
  try {
    return Number(fs.readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim()) === ARPHRD_LOOPBACK;
  } catch {
    return name === 'lo';
  }
}

function wallMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** What the interface arguments resolve to. */
export interface Selection {
  /** Devices to open by their exact name (must exist at start). */
  literal: string[];
  /** Patterns matched against netdevs at start and at every rescan. */
  patterns: RegExp[];
  exclude: RegExp[];
  /** One `any` handle dropping loopback frames. */
  anyWithoutLoopback: boolean;
}

/** Resolves `-i` and `--exclude` values (see the module comment). */
export function resolveSelection(interfaces: readonly string[], exclude: readonly string[], isLoopback: (name: string) => boolean): Selection {
  const ex = exclude.map(globToRegExp);
  const sel: Selection = { literal: [], patterns: [], exclude: ex, anyWithoutLoopback: false };
  for (const name of interfaces) {
    if (name === 'any') {
      if (exclude.length === 0) sel.literal.push('any');
      else if (exclude.every((e) => !isGlob(e) && isLoopback(e))) sel.anyWithoutLoopback = true;
      else sel.patterns.push(/^.*$/);
    } else if (isGlob(name)) {
      sel.patterns.push(globToRegExp(name));
    } else if (!ex.some((r) => r.test(name))) {
      sel.literal.push(name);
    }
  }
  if (sel.anyWithoutLoopback && !sel.literal.includes('any')) sel.literal.push('any');
  sel.literal = [...new Set(sel.literal)];
  return sel;
}

export class LiveCaptureSource implements LiveSource {
  readonly name: string;
  private readonly captures = new Map<string, Capture>();
  private readonly failedDevices = new Set<string>();
  private readonly selection: Selection;
  private readonly opts: LiveCaptureOptions;
  private readonly listNetdevs: () => string[];
  private readonly nowMicros: () => number;
  private onFrame: ((frame: Frame) => void) | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private running = false;
  private handlerErrors = 0;
  private opened = 0;
  private closedGone = 0;
  private openFailures = 0;
  private truncated = 0;
  private excluded = 0;
  private handleErrors = 0;
  private statsErrors = 0;
  /** Literal devices whose handle failed; the rescan reopens them when they are present. */
  private readonly lostLiterals = new Set<string>();
  /** libpcap counters of every handle, open or closed, as of its last read. */
  private readonly libpcap: LibpcapTotals = { recv: 0, drop: 0, ifdrop: 0 };

  constructor(opts: Partial<LiveCaptureOptions> & { interfaces: string[] }, private readonly deps: LiveCaptureDeps) {
    this.opts = { ...DEFAULT_LIVE_CAPTURE, ...opts };
    const o = this.opts;
    if (o.interfaces.length === 0) throw new ShadowtapError('CAP_ERR_USAGE', 'sniff needs at least one interface (-i NAME, -i GLOB or -i any)', EXIT_USAGE);
    if (!Number.isInteger(o.snaplen) || o.snaplen < 64 || o.snaplen > 65535) {
      throw new ShadowtapError('CAP_ERR_USAGE', `--snaplen must be 64..65535 (got ${o.snaplen})`, EXIT_USAGE);
    }
    if (!Number.isInteger(o.bufferSize) || o.bufferSize < 65536 || o.bufferSize > 2 ** 31 - 1) {
      throw new ShadowtapError('CAP_ERR_USAGE', `--buffer-size must be 64 KiB..2 GiB in bytes (got ${o.bufferSize})`, EXIT_USAGE);
    }
    this.listNetdevs = deps.listNetdevs ?? defaultNetdevs;
    this.nowMicros = deps.nowMicros ?? wallMicros;
    this.selection = resolveSelection(o.interfaces, o.exclude, deps.isLoopback ?? defaultIsLoopback);
    const ex = o.exclude.length ? ` excluding ${o.exclude.join(',')}` : '';
    this.name = `sniff:${o.interfaces.join(',')}${ex}`;
  }

  /** Devices with an open handle. */
  get devices(): string[] {
    return [...this.captures.keys()].sort();
  }

  async start(onFrame: (frame: Frame) => void): Promise<void> {
    this.onFrame = onFrame;
    const available = this.deps.cap.Cap.deviceList().map((d) => d.name);
    try {
      for (const dev of this.selection.literal) {
        if (!available.includes(dev) && !this.listNetdevs().includes(dev)) {
          throw new ShadowtapError(
            'CAP_ERR_CAPTURE_NO_DEVICE',
            `no interface named "${dev}"; available: ${this.availableNames(available).join(', ')} (globs like "veth*" and "any" work too)`,
            EXIT_USAGE,
          );
        }
        this.open(dev);
      }
      if (this.selection.patterns.length) this.rescan(true);
    } catch (err) {
      this.closeAll();
      throw err;
    }
    this.running = true;
    if (this.opts.rescanMs > 0) {
      this.rescanTimer = setInterval(() => this.rescan(false), this.opts.rescanMs);
      this.rescanTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = undefined;
    this.closeAll();
    this.onFrame = undefined;
  }

  ready(): boolean {
    return this.running && this.captures.size > 0;
  }

  /** libpcap's counters summed over all handles, open (read now) and closed (as of their close). */
  libpcapStats(): { libpcap_received: number; libpcap_dropped: number; libpcap_if_dropped: number } {
    for (const c of this.captures.values()) this.readStats(c);
    return { libpcap_received: this.libpcap.recv, libpcap_dropped: this.libpcap.drop, libpcap_if_dropped: this.libpcap.ifdrop };
  }

  pollStats(counters: Counters): void {
    const lp = this.libpcapStats();
    counters.set('libpcap_received', lp.libpcap_received);
    counters.set('libpcap_dropped', lp.libpcap_dropped);
    counters.set('libpcap_if_dropped', lp.libpcap_if_dropped);
    counters.set('sniff_handle_errors', this.handleErrors);
    counters.set('sniff_libpcap_stats_errors', this.statsErrors);
    counters.set('sniff_interfaces_open', this.captures.size);
    counters.set('sniff_interfaces_opened', this.opened);
    counters.set('sniff_interfaces_gone', this.closedGone);
    counters.set('sniff_open_failures', this.openFailures);
    counters.set('sniff_truncated_by_snaplen', this.truncated);
    counters.set('sniff_loopback_frames_excluded', this.excluded);
    counters.set('sniff_frame_handler_errors', this.handlerErrors);
  }

  /**
   * Opens matching devices that are not open yet; closes pattern devices that are gone; reopens
   * literal devices whose handle failed once they are present.
   */
  rescan(atStart: boolean): void {
    const netdevs = this.listNetdevs();
    const sel = this.selection;
    for (const dev of this.lostLiterals) {
      if (this.captures.has(dev)) {
        this.lostLiterals.delete(dev);
        continue;
      }
      if (dev !== 'any' && !netdevs.includes(dev)) continue;
      try {
        this.open(dev);
        this.lostLiterals.delete(dev);
      } catch (err) {
        this.openFailures++;
        this.deps.log?.warn({ device: dev, err: (err as Error).message }, 'cannot reopen an interface whose capture failed; retrying at the next rescan');
      }
    }
    if (sel.patterns.length === 0) return;
    for (const dev of netdevs) {
      if (this.captures.has(dev) || (this.failedDevices.has(dev) && !atStart)) continue;
      if (!sel.patterns.some((r) => r.test(dev)) || sel.exclude.some((r) => r.test(dev))) continue;
      try {
        this.open(dev);
      } catch (err) {
        if (atStart && err instanceof ShadowtapError && err.code !== 'CAP_ERR_CAPTURE_OPEN') throw err; // permission, filter
        this.openFailures++;
        this.failedDevices.add(dev);
        this.deps.log?.warn({ device: dev, err: (err as Error).message }, 'cannot capture on a matching interface; it is skipped');
      }
    }
    const present = new Set(netdevs);
    for (const [dev, c] of this.captures) {
      if (!sel.literal.includes(dev) && !present.has(dev)) {
        this.closeCapture(c);
        this.captures.delete(dev);
        this.closedGone++;
        this.deps.log?.info({ device: dev }, 'interface gone; capture closed');
      }
    }
    for (const dev of this.failedDevices) if (!present.has(dev)) this.failedDevices.delete(dev);
  }

  private availableNames(fromCap: string[]): string[] {
    return [...new Set([...fromCap.filter((n) => n === 'any' || this.listNetdevs().includes(n)), ...this.listNetdevs()])].sort();
  }

  /** Opens one handle; throws a ShadowtapError naming the fix. */
  private open(device: string): void {
    const Cap = this.deps.cap.Cap;
    const handle = new Cap();
    const buf = Buffer.alloc(this.opts.snaplen);
    let capLink: string;
    try {
      capLink = handle.open(device, this.opts.filter, this.opts.bufferSize, buf);
    } catch (err) {
      handle.close(); // a failed open leaves nothing open; close() is safe (native/cap)
      throw this.explainOpenError(device, (err as Error).message);
    }
    const linkType = linkTypeOf(capLink);
    if (linkType < 0) {
      handle.close();
      throw new ShadowtapError('CAP_ERR_CAPTURE_OPEN', `cannot capture on ${device}: unsupported link type (${capLink})`, EXIT_USAGE);
    }
    const frame: Frame = { buf, off: 0, capLen: 0, wireLen: 0, tsMicros: 0, linkType };
    const dropLoopback = device === 'any' && this.selection.anyWithoutLoopback;
    const capture: Capture = { device, handle, buf, frame, raw: { recv: 0, drop: 0, ifdrop: 0 } };
    handle.on('packet', (nbytes: number, truncated: boolean) => this.deliver(frame, nbytes, truncated, dropLoopback));
    handle.on('error', (err: Error) => this.onHandleError(capture, err));
    this.captures.set(device, capture);
    this.failedDevices.delete(device);
    this.opened++;
    this.deps.log?.info({ device, linkType }, 'capture opened');
  }

  /**
   * The handle failed (libpcap's message in `err`; runs inside cap's native callback, where close()
   * is deferred safely): its counters are kept, it is closed and counted, the others go on.
   */
  private onHandleError(c: Capture, err: Error): void {
    this.handleErrors++;
    if (this.captures.get(c.device) !== c) {
      this.closeCapture(c);
      return;
    }
    this.closeCapture(c);
    this.captures.delete(c.device);
    this.closedGone++;
    if (this.selection.literal.includes(c.device)) this.lostLiterals.add(c.device);
    this.deps.log?.warn({ device: c.device, err: err?.message }, 'capture failed (interface down or gone?); closed, the other interfaces go on, the rescan reopens it when it is back');
  }

  /** Adds what libpcap counted on `c` since the last read; a failed read is counted, not thrown. */
  private readStats(c: Capture): void {
    let now: CapStats;
    try {
      now = c.handle.stats();
    } catch {
      this.statsErrors++;
      return;
    }
    addStatsDelta(this.libpcap, c.raw, now);
  }

  /** Reads the handle's final counters, then closes it (cap's close is safe in every state). */
  private closeCapture(c: Capture): void {
    this.readStats(c);
    try {
      c.handle.close();
    } catch {
      // nothing left to release
    }
  }

  private deliver(frame: Frame, nbytes: number, truncated: boolean, dropLoopback: boolean): void {
    const onFrame = this.onFrame;
    if (!onFrame) return;
    const buf = frame.buf;
    if (dropLoopback && nbytes >= 16 && ((buf[SLL_HATYPE] << 8) | buf[SLL_HATYPE + 1]) === ARPHRD_LOOPBACK) {
      this.excluded++;
      return;
    }
    frame.capLen = nbytes;
    frame.wireLen = nbytes;
    frame.tsMicros = this.nowMicros();
    if (truncated) {
      this.truncated++;
      frame.wireLen = wireLengthOf(frame);
    }
    try {
      onFrame(frame);
    } catch (err) {
      // A bug downstream must not unwind into cap's native callback (that would end the process).
      if (this.handlerErrors++ === 0) this.deps.log?.error({ err: (err as Error).stack }, 'frame handler threw; counted as sniff_frame_handler_errors');
    }
  }

  private explainOpenError(device: string, msg: string): ShadowtapError {
    if (/operation not permitted|permission|not permitted|EPERM|EACCES/i.test(msg)) {
      return new ShadowtapError(
        'CAP_ERR_CAPTURE_PERMISSION',
        `cannot capture on ${device}: ${msg}. sniff needs the capability CAP_NET_RAW (and CAP_NET_ADMIN where promiscuous mode needs it): ` +
          'run as root, or grant it to node on the host with `setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(command -v node)")"`, ' +
          'or in Kubernetes add it to the container: securityContext.capabilities.add: ["NET_RAW", "NET_ADMIN"] (deploy/kubernetes/sniff-daemonset.yaml)',
        EXIT_USAGE,
      );
    }
    if (/no such device|doesn't exist|does not exist/i.test(msg)) {
      const names = this.availableNames(this.deps.cap.Cap.deviceList().map((d) => d.name));
      return new ShadowtapError('CAP_ERR_CAPTURE_NO_DEVICE', `no interface named "${device}" (${msg}); available: ${names.join(', ')}`, EXIT_USAGE);
    }
    if (this.opts.filter !== '' && this.filterIsTheProblem(device)) {
      return new ShadowtapError('CAP_ERR_CAPTURE_FILTER', `bad capture filter "${this.opts.filter}": ${msg}`, EXIT_USAGE);
    }
    return new ShadowtapError('CAP_ERR_CAPTURE_OPEN', `cannot capture on ${device}: ${msg}`, EXIT_USAGE);
  }

  /** The open failed with a filter: does it open without one? Then libpcap rejected the filter. */
  private filterIsTheProblem(device: string): boolean {
    const probe = new this.deps.cap.Cap();
    try {
      probe.open(device, '', 65536, Buffer.alloc(64));
    } catch {
      probe.close();
      return false;
    }
    probe.close();
    return true;
  }

  private closeAll(): void {
    for (const c of this.captures.values()) this.closeCapture(c);
    this.captures.clear();
    this.lostLiterals.clear();
  }
}

/** Length on the wire of a frame cut by the snaplen, from its IP length; at least capLen + 1. */
export function wireLengthOf(frame: Frame): number {
  const ip = ipHeaderOffset(frame);
  const min = frame.capLen + 1;
  if (ip < 0 || ip + 6 > frame.off + frame.capLen) return min;
  const b = frame.buf;
  const v = b[ip] >> 4;
  const ipLen = v === 4 ? (b[ip + 2] << 8) | b[ip + 3] : 40 + ((b[ip + 4] << 8) | b[ip + 5]);
  return Math.max(min, ip - frame.off + ipLen);
}
