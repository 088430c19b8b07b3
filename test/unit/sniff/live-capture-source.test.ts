import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LiveCaptureSource, globToRegExp, linkTypeOf, loadCap, resolveSelection, wireLengthOf,
  type CapDevice, type CapHandle, type CapModule, type CapStats,
} from '../../../src/source/live-capture-source';
import { parseByteSize } from '../../../src/cli/sniff-command';
import { ShadowtapError } from '../../../src/errors';
import { Counters } from '../../../src/observe/counters';
import type { Frame } from '../../../src/source/frame';

/** A stand-in for `cap`: records opens, lets the test push packets into a handle's buffer. */
class FakeCapWorld {
  devices: string[] = ['eth0', 'lo', 'any', 'nflog'];
  netdevs: string[] = ['eth0', 'lo'];
  handles: FakeHandle[] = [];
  /** device -> error message thrown by open (with a filter only when filterOnly). */
  failures = new Map<string, { msg: string; filterOnly?: boolean }>();
  module(): CapModule {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const world = this;
    class Cap extends FakeHandle {
      constructor() {
        super(world);
      }
      static deviceList(): CapDevice[] {
        return world.devices.map((name) => ({ name }));
      }
    }
    return { Cap } as unknown as CapModule;
  }
  open(device: string): FakeHandle {
    const h = this.handles.find((x) => x.device === device && x.isOpen);
    assert.ok(h, `no open handle on ${device}`);
    return h;
  }
}

class FakeHandle implements CapHandle {
  device = '';
  filter = '';
  buf: Buffer = Buffer.alloc(0);
  isOpen = false;
  closeCalls = 0;
  /** What stats() returns; undefined = it throws (as on a handle that is not open). */
  counters: CapStats | undefined = { recv: 0, drop: 0, ifdrop: 0 };
  private listener: ((n: number, t: boolean) => void) | undefined;
  private errorListener: ((err: Error) => void) | undefined;
  constructor(private readonly world: FakeCapWorld) {}
  open(device: string, filter: string, _bufSize: number, buffer: Buffer): string {
    const f = this.world.failures.get(device);
    if (f && (!f.filterOnly || filter !== '')) throw new Error(f.msg);
    this.device = device;
    this.filter = filter;
    this.buf = buffer;
    this.isOpen = true;
    this.world.handles.push(this);
    return device === 'any' ? 'LINKTYPE_LINUX_SLL' : 'ETHERNET';
  }
  close(): boolean {
    this.closeCalls++;
    const was = this.isOpen;
    this.isOpen = false;
    return was;
  }
  stats(): CapStats {
    if (!this.isOpen || !this.counters) throw new Error('Not currently capturing/open');
    return { ...this.counters };
  }
  on(event: 'packet' | 'error', listener: ((n: number, t: boolean) => void) | ((err: Error) => void)): this {
    if (event === 'packet') this.listener = listener as (n: number, t: boolean) => void;
    else this.errorListener = listener as (err: Error) => void;
    return this;
  }
  /** What native/cap does when the interface goes away under the handle. */
  fail(message: string): void {
    assert.ok(this.errorListener, 'an error listener is attached');
    this.errorListener(new Error(message));
  }
  /** Copies `bytes` into the capture buffer as cap does (cut to its length) and emits. */
  push(bytes: Buffer, wireCapLen = bytes.length): void {
    const n = Math.min(wireCapLen, this.buf.length);
    bytes.copy(this.buf, 0, 0, n);
    this.listener?.(n, wireCapLen > this.buf.length);
  }
}

// Ethernet[IPv4[TCP]] 10.0.0.1:40000 -> 10.0.0.2:8080, total length 0x0030 (48), no payload bytes beyond 8.
const PKT = Buffer.from(
  'ffeeddccbbaa112233445566' + '0800' + '4500003012344000' + '4006aaaa0a0000010a000002' + '9c401f90000003e8000007d05018ffffbbbb0000' + '47455420' + '00000000',
  'hex',
);

function source(world: FakeCapWorld, opts: { interfaces: string[]; exclude?: string[]; filter?: string; snaplen?: number }): LiveCaptureSource {
  return new LiveCaptureSource(
    { interfaces: opts.interfaces, exclude: opts.exclude ?? [], filter: opts.filter ?? '', snaplen: opts.snaplen ?? 65535, rescanMs: 0 },
    { cap: world.module(), listNetdevs: () => world.netdevs, isLoopback: (n) => n === 'lo', nowMicros: () => 42 },
  );
}

test('globs, link types, byte sizes', () => {
  assert.ok(globToRegExp('veth*').test('veth12ab'));
  assert.ok(!globToRegExp('veth*').test('eth0'));
  assert.ok(globToRegExp('cali?[0-9]').test('calix7'));
  assert.ok(globToRegExp('eth0.100').test('eth0.100'));
  assert.ok(!globToRegExp('eth0.100').test('eth0x100'));
  assert.equal(linkTypeOf('ETHERNET'), 1);
  assert.equal(linkTypeOf('LINKTYPE_LINUX_SLL'), 113);
  assert.equal(linkTypeOf('RAW'), 101);
  assert.equal(linkTypeOf('Unknown linktype 276'), 276);
  assert.equal(linkTypeOf('IEEE802_11_RADIO'), -1);
  assert.equal(parseByteSize('8m', '--buffer-size'), 8 * 1024 * 1024);
  assert.equal(parseByteSize('512K', '--buffer-size'), 512 * 1024);
  assert.equal(parseByteSize('1048576', '--buffer-size'), 1048576);
  assert.throws(() => parseByteSize('lots', '--buffer-size'), /--buffer-size must be a byte count/);
});

test('selection: any alone, any minus loopback, any minus others, literal names minus excludes', () => {
  const lo = (n: string): boolean => n === 'lo';
  assert.deepEqual(resolveSelection(['any'], [], lo).literal, ['any']);
  const noLo = resolveSelection(['any'], ['lo'], lo);
  assert.equal(noLo.anyWithoutLoopback, true);
  assert.deepEqual(noLo.literal, ['any']);
  const noEth = resolveSelection(['any'], ['eth*'], lo);
  assert.deepEqual(noEth.literal, []);
  assert.equal(noEth.patterns.length, 1);
  assert.deepEqual(resolveSelection(['eth0', 'eth1', 'eth0'], ['eth1'], lo).literal, ['eth0']);
});

test('frames: borrowed buffer, link type, clock; snaplen cut is flagged with the IP length', async () => {
  const world = new FakeCapWorld();
  const src = source(world, { interfaces: ['eth0'], snaplen: 64, filter: 'tcp port 8080' });
  const seen: Array<{ cap: number; wire: number; lt: number; ts: number; first: number; same: Buffer }> = [];
  await src.start((f: Frame) => seen.push({ cap: f.capLen, wire: f.wireLen, lt: f.linkType, ts: f.tsMicros, first: f.buf[f.off]!, same: f.buf }));
  assert.equal(src.ready(), true);
  const h = world.open('eth0');
  assert.equal(h.filter, 'tcp port 8080');
  assert.equal(h.buf.length, 64, 'snaplen is the copy buffer');
  h.push(PKT);
  const big = Buffer.concat([PKT.subarray(0, 14), Buffer.from('450005dc', 'hex'), PKT.subarray(18), Buffer.alloc(1500)]);
  h.push(big);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0]!.cap, PKT.length);
  assert.equal(seen[0]!.wire, PKT.length);
  assert.equal(seen[0]!.lt, 1);
  assert.equal(seen[0]!.ts, 42);
  assert.equal(seen[1]!.cap, 64);
  assert.equal(seen[1]!.wire, 14 + 1500, 'wire length from the IPv4 total length');
  assert.equal(seen[0]!.same, seen[1]!.same, 'one reused buffer per capture');
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_truncated_by_snaplen'), 1);
  assert.equal(c.get('sniff_interfaces_open'), 1);
  await src.stop();
  assert.equal(h.isOpen, false);
  assert.equal(src.ready(), false);
});

test('wireLengthOf never goes below capLen + 1 and never throws on junk', () => {
  const junk = Buffer.from('0102', 'hex');
  assert.equal(wireLengthOf({ buf: junk, off: 0, capLen: 2, wireLen: 2, tsMicros: 0, linkType: 1 }), 3);
});

test('globs pick up interfaces that appear later and drop the ones that go away; excludes apply', async () => {
  const world = new FakeCapWorld();
  world.netdevs = ['eth0', 'lo', 'veth1'];
  world.devices = ['eth0', 'lo', 'veth1', 'any'];
  const src = source(world, { interfaces: ['veth*', 'eth0'], exclude: ['veth9'] });
  await src.start(() => undefined);
  assert.deepEqual(src.devices, ['eth0', 'veth1']);
  world.netdevs.push('veth2', 'veth9');
  src.rescan(false);
  assert.deepEqual(src.devices, ['eth0', 'veth1', 'veth2']);
  world.netdevs = ['eth0', 'lo', 'veth2'];
  src.rescan(false);
  assert.deepEqual(src.devices, ['eth0', 'veth2']);
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_interfaces_gone'), 1);
  assert.equal(c.get('sniff_interfaces_opened'), 3);
  await src.stop();
});

test('a matching interface that cannot be opened later is skipped and counted, not fatal', async () => {
  const world = new FakeCapWorld();
  const src = source(world, { interfaces: ['veth*'] });
  await src.start(() => undefined);
  assert.equal(src.ready(), false, 'nothing captured yet');
  world.netdevs.push('veth3');
  world.failures.set('veth3', { msg: 'veth3: That device is not up' });
  src.rescan(false);
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_open_failures'), 1);
  await src.stop();
});

test('any minus lo drops loopback frames by their cooked header (ARPHRD_LOOPBACK)', async () => {
  const world = new FakeCapWorld();
  const src = source(world, { interfaces: ['any'], exclude: ['lo'] });
  let n = 0;
  await src.start(() => n++);
  const h = world.open('any');
  const sll = (hatype: number): Buffer => Buffer.concat([Buffer.from([0, 0, hatype >> 8, hatype & 0xff, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 8, 0]), PKT.subarray(14)]);
  h.push(sll(772));
  h.push(sll(1));
  assert.equal(n, 1);
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_loopback_frames_excluded'), 1);
  await src.stop();
});

test('errors name the fix: capability, available interfaces, libpcap filter message, missing libpcap', async () => {
  const world = new FakeCapWorld();
  world.failures.set('eth0', { msg: "socket: Operation not permitted" });
  await assert.rejects(source(world, { interfaces: ['eth0'] }).start(() => undefined), (e: ShadowtapError) => {
    assert.equal(e.code, 'CAP_ERR_CAPTURE_PERMISSION');
    assert.match(e.message, /CAP_NET_RAW/);
    assert.match(e.message, /setcap cap_net_raw/);
    assert.match(e.message, /capabilities\.add/);
    return true;
  });
  world.failures.clear();
  await assert.rejects(source(world, { interfaces: ['eht0'] }).start(() => undefined), (e: ShadowtapError) => {
    assert.equal(e.code, 'CAP_ERR_CAPTURE_NO_DEVICE');
    assert.match(e.message, /no interface named "eht0"; available: any, eth0, lo/);
    assert.doesNotMatch(e.message, /nflog/, 'pseudo devices are not offered');
    return true;
  });
  world.failures.set('lo', { msg: "syntax error in filter expression", filterOnly: true });
  await assert.rejects(source(world, { interfaces: ['lo'], filter: 'tcp prot 80' }).start(() => undefined), (e: ShadowtapError) => {
    assert.equal(e.code, 'CAP_ERR_CAPTURE_FILTER');
    assert.equal(e.message, 'bad capture filter "tcp prot 80": syntax error in filter expression');
    return true;
  });
  assert.throws(
    () => loadCap(() => {
      throw new Error("libpcap.so.0.8: cannot open shared object file: No such file or directory");
    }),
    (e: ShadowtapError) => e.code === 'CAP_ERR_LIBPCAP_MISSING' && /apt-get install libpcap-dev/.test(e.message) && /npm rebuild cap/.test(e.message),
  );
  assert.throws(() => source(world, { interfaces: ['lo'], snaplen: 10 }), /--snaplen must be 64..65535/);
});

test('a throwing frame handler is counted, not thrown into the native callback', async () => {
  const world = new FakeCapWorld();
  const src = source(world, { interfaces: ['eth0'] });
  await src.start(() => {
    throw new Error('bug');
  });
  world.open('eth0').push(PKT);
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_frame_handler_errors'), 1);
  await src.stop();
});

test('a handle error closes that capture only, is counted, and the rescan reopens the device when it is back', async () => {
  const world = new FakeCapWorld();
  world.netdevs = ['eth0', 'lo', 'veth1', 'veth2'];
  const logged: string[] = [];
  const log = { info: () => undefined, warn: (o: { err?: string }, m: string) => logged.push(`${m}: ${o.err}`), error: () => undefined };
  const src = new LiveCaptureSource(
    { interfaces: ['veth*', 'eth0'], exclude: [], filter: '', snaplen: 65535, rescanMs: 0 },
    { cap: world.module(), listNetdevs: () => world.netdevs, isLoopback: (n) => n === 'lo', nowMicros: () => 42, log: log as never },
  );
  let frames = 0;
  await src.start(() => frames++);
  assert.deepEqual(src.devices, ['eth0', 'veth1', 'veth2']);
  const v1 = world.open('veth1');
  v1.counters = { recv: 10, drop: 1, ifdrop: 0 };
  world.open('veth2').counters = { recv: 5, drop: 0, ifdrop: 2 };
  world.netdevs = ['eth0', 'lo', 'veth2']; // veth1 deleted
  v1.fail('The interface disappeared');
  assert.equal(v1.isOpen, false, 'the failed handle is closed');
  assert.deepEqual(src.devices, ['eth0', 'veth2'], 'the others keep capturing');
  assert.ok(logged.some((l) => l.includes('The interface disappeared')), "libpcap's message is logged");
  world.open('veth2').push(PKT);
  assert.equal(frames, 1);
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_interfaces_gone'), 1);
  assert.equal(c.get('sniff_handle_errors'), 1);
  assert.equal(c.get('libpcap_received'), 15, 'the closed handle keeps its counts');
  assert.equal(c.get('libpcap_dropped'), 1);
  assert.equal(c.get('libpcap_if_dropped'), 2);

  // eth0 (a literal name) fails while it still exists (went down): reopened by the next rescan.
  const e0 = world.open('eth0');
  e0.fail('the capture socket reported an error (bad file descriptor); the interface probably went down');
  assert.deepEqual(src.devices, ['veth2']);
  src.rescan(false);
  assert.deepEqual(src.devices, ['eth0', 'veth2']);
  assert.notEqual(world.open('eth0'), e0, 'a new handle');
  world.netdevs.push('veth1'); // veth1 is back
  src.rescan(false);
  assert.deepEqual(src.devices, ['eth0', 'veth1', 'veth2']);
  src.pollStats(c);
  assert.equal(c.get('sniff_interfaces_gone'), 2);
  assert.equal(c.get('sniff_interfaces_opened'), 5);
  assert.equal(src.ready(), true);
  await src.stop();
  assert.ok(world.handles.every((h) => !h.isOpen));
});

test('libpcap counters: summed over handles, 32-bit wraps followed, a read failure counted, closed handles kept', async () => {
  const world = new FakeCapWorld();
  world.netdevs = ['eth0', 'lo', 'veth1'];
  const src = source(world, { interfaces: ['eth0', 'veth*'] });
  await src.start(() => undefined);
  const e0 = world.open('eth0');
  const v1 = world.open('veth1');
  const c = new Counters();
  e0.counters = { recv: 2 ** 31 - 1, drop: 3, ifdrop: 0 };
  v1.counters = { recv: 7, drop: 0, ifdrop: 0 };
  src.pollStats(c);
  assert.equal(c.get('libpcap_received'), 2 ** 31 + 6);
  e0.counters = { recv: 2 ** 32 - 10, drop: 3, ifdrop: 0 };
  src.pollStats(c);
  assert.equal(c.get('libpcap_received'), 2 ** 32 - 3);
  e0.counters = { recv: 5, drop: 3, ifdrop: 0 }; // u_int wrapped: +15
  src.pollStats(c);
  assert.equal(c.get('libpcap_received'), 2 ** 32 + 12);
  v1.counters = { recv: 9, drop: 0, ifdrop: 4294967290 }; // went "backwards" by 6: not added
  src.pollStats(c);
  assert.equal(c.get('libpcap_received'), 2 ** 32 + 14);
  assert.equal(c.get('libpcap_if_dropped'), 0);
  v1.counters = undefined; // stats() throws
  src.pollStats(c);
  assert.equal(c.get('sniff_libpcap_stats_errors'), 1);
  assert.equal(c.get('libpcap_received'), 2 ** 32 + 14);
  world.netdevs = ['eth0', 'lo'];
  src.rescan(false); // veth1 gone: closed, its counts stay
  await src.stop();
  src.pollStats(c);
  assert.equal(c.get('libpcap_received'), 2 ** 32 + 14);
  assert.equal(c.get('libpcap_dropped'), 3);
});

test('a failed open closes its handle (safe with native/cap) and an upstream cap without stats() is refused', async () => {
  const world = new FakeCapWorld();
  world.netdevs.push('veth3');
  world.failures.set('veth3', { msg: 'veth3: That device is not up' });
  const src = source(world, { interfaces: ['veth*'] });
  await src.start(() => undefined);
  const c = new Counters();
  src.pollStats(c);
  assert.equal(c.get('sniff_open_failures'), 1);
  await src.stop();
  class Upstream {
    static deviceList(): CapDevice[] {
      return [];
    }
    open(): string {
      return 'ETHERNET';
    }
    close(): boolean {
      return true;
    }
  }
  assert.throws(() => loadCap(() => ({ Cap: Upstream })), (e: ShadowtapError) => e.code === 'CAP_ERR_LIBPCAP_MISSING' && /native\/cap/.test(e.message));
  assert.equal(loadCap(() => world.module()).Cap.deviceList().length, 4);
});
