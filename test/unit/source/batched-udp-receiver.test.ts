/**
 * The native batched UDP receiver (native/udp-batch through src/source/batched-udp-receiver.ts) on
 * loopback sockets: whole datagrams in order with their source, bursts split into bounded batches,
 * MSG_TRUNC flagging, SO_RCVBUFFORCE, the SO_RXQ_OVFL drop counter, close() in every state, and
 * the loader's "unavailable, here is why" answers. Review regressions: workers ending with a receiver
 * open (no SIGSEGV), closed receivers collected and their memory freed, slab/meta transfer from JS
 * (no heap corruption), the failing-socket stall and retry (recvmmsg failed by an LD_PRELOAD shim),
 * foreign objects as `this`, a host with an embedded NUL, IPv4-mapped senders named as IPv4. Datagram payloads are plain bytes: this layer
 * does not look inside them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { BatchedUdpReceiver, loadUdpBatch, type UdpBatchAddon } from '../../../src/source/batched-udp-receiver';
import { UdpKernelStatsReader } from '../../../src/live/udp-stats';
import { waitFor } from '../../helpers/async-utils';
import { FAILING_RECVMMSG } from '../../helpers/failing-recvmmsg';

const loaded = loadUdpBatch();
const addon = loaded.addon as UdpBatchAddon;
const NO_ADDON = loaded.addon === undefined ? `native receiver unavailable: ${loaded.reason}` : false;

/** Sends each payload in order from one socket; resolves with the sender's port once all are sent. */
async function sendAll(family: 'udp4' | 'udp6', host: string, port: number, payloads: Buffer[]): Promise<number> {
  const s = dgram.createSocket(family);
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  const from = s.address().port;
  for (const p of payloads) await new Promise<void>((resolve, reject) => s.send(p, port, host, (err) => (err ? reject(err) : resolve())));
  s.close();
  return from;
}

/** A child process sends `count` datagrams of `size` bytes (byte 0..3 = sequence number) while this process's loop is blocked. */
function blast(port: number, count: number, size: number): void {
  const js =
    `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(${size},7);let i=0;` +
    `(function go(){for(let k=0;k<50&&i<${count};k++,i++){const c=Buffer.from(b);c.writeUInt32BE(i,0);s.send(c,${port},'127.0.0.1')}` +
    `if(i<${count})setImmediate(go);else setTimeout(()=>s.close(),100)})()`;
  const r = spawnSync(process.execPath, ['-e', js]);
  assert.equal(r.status, 0, String(r.stderr));
}

interface Got {
  len: number;
  src: string;
  port: number;
  seq: number;
  last: number;
}

function collect(rx: BatchedUdpReceiver, n: number, got: Got[]): void {
  for (let i = 0; i < n; i++) {
    const off = rx.offset(i);
    const len = rx.length(i);
    got.push({ len, src: rx.source(i), port: rx.sourcePort(i), seq: len >= 4 ? rx.slab.readUInt32BE(off) : -1, last: rx.slab[off + len - 1] });
  }
}

test('IPv4 loopback: datagrams arrive whole and in order, up to 65507 bytes, with their source address and port', { skip: NO_ADDON }, async () => {
  const got: Got[] = [];
  const counts: number[] = [];
  const rx = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 4 << 20 }, (n, r) => {
    counts.push(n);
    assert.equal(r.batchCount(), n);
    collect(r, n, got);
  }, (err) => assert.fail(err));
  try {
    const port = rx.address().port;
    assert.equal(rx.address().address, '127.0.0.1');
    const sizes = [4, 100, 1500, 9001, 65507, 5, 65507, 8];
    const payloads = sizes.map((size, i) => {
      const b = Buffer.alloc(size, i + 1);
      b.writeUInt32BE(i, 0);
      return b;
    });
    const from = await sendAll('udp4', '127.0.0.1', port, payloads);
    await waitFor(() => got.length === sizes.length);
    assert.deepEqual(
      got,
      sizes.map((len, i) => ({ len, src: '127.0.0.1', port: from, seq: i, last: len === 4 ? 0 : i + 1 })),
    );
    assert.ok(counts.every((c) => c >= 1 && c <= rx.slots));
    const t = rx.batchTimeMicros();
    assert.ok(Math.abs(t - Date.now() * 1000) < 10_000_000, `batch time ${t} is the wall clock in microseconds`);
    const st = rx.stats();
    assert.equal(st.datagrams, sizes.length);
    assert.equal(st.readErrors, 0);
    assert.equal(rx.kernelDrops(), 0);
  } finally {
    rx.close();
  }
});

test('IPv6 ::1: source "::1"; 65527 bytes (the IPv6 maximum) arrive whole', { skip: NO_ADDON }, async (t) => {
  const got: Got[] = [];
  let rx: BatchedUdpReceiver;
  try {
    rx = BatchedUdpReceiver.open(addon, { host: '::1', port: 0, rcvbufBytes: 1 << 20 }, (n, r) => collect(r, n, got), (err) => assert.fail(err));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return t.skip('no IPv6 loopback here');
    throw err;
  }
  try {
    assert.deepEqual(rx.address(), { address: '::1', family: 'IPv6', port: rx.address().port });
    const big = Buffer.alloc(65527, 0x66);
    big.writeUInt32BE(1, 0);
    const small = Buffer.from([0, 0, 0, 2, 0x77]);
    const from = await sendAll('udp6', '::1', rx.address().port, [small, big]);
    await waitFor(() => got.length === 2);
    assert.deepEqual(got, [
      { len: 5, src: '::1', port: from, seq: 2, last: 0x77 },
      { len: 65527, src: '::1', port: from, seq: 1, last: 0x66 },
    ]);
  } finally {
    rx.close();
  }
});

test('a dual-stack [::] socket names IPv4 senders by their IPv4 address (family 4, not ::ffff:a.b.c.d)', { skip: NO_ADDON }, async () => {
  const got: Got[] = [];
  const rx = BatchedUdpReceiver.open(addon, { host: '::', port: 0, rcvbufBytes: 1 << 20 }, (n, r) => collect(r, n, got), (err) => assert.fail(err));
  try {
    const from = await sendAll('udp4', '127.0.0.1', rx.address().port, [Buffer.from([0, 0, 0, 9]), Buffer.from([0, 0, 0, 10])]);
    await waitFor(() => got.length === 2);
    assert.deepEqual(got, [
      { len: 4, src: '127.0.0.1', port: from, seq: 9, last: 9 },
      { len: 4, src: '127.0.0.1', port: from, seq: 10, last: 10 },
    ]);
    // The meta words say family 4 with the address in word 4 (the wrapper's IPv4 cache key).
    const meta = new Int32Array((rx as unknown as { meta: Int32Array }).meta);
    assert.equal(meta[8 + 2], 4);
    assert.equal(Buffer.from(meta.buffer, meta.byteOffset + (8 + 4) * 4, 4).toString('hex'), '7f000001');
  } finally {
    rx.close();
  }
});

test('a burst larger than one batch: batches of at most `slots`, bounded batches per wakeup, nothing lost or reordered', { skip: NO_ADDON }, async () => {
  const got: Got[] = [];
  const counts: number[] = [];
  const rx = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 8 << 20, slots: 8, maxBatchesPerWakeup: 4 }, (n, r) => {
    counts.push(n);
    collect(r, n, got);
  }, (err) => assert.fail(err));
  try {
    blast(rx.address().port, 500, 200); // queued while this loop is blocked in spawnSync
    await waitFor(() => got.length === 500);
    assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 500 }, (_, i) => i));
    assert.ok(got.every((g) => g.len === 200 && g.src === '127.0.0.1'));
    assert.ok(counts.every((c) => c >= 1 && c <= 8), `batch sizes ${counts.join(',')}`);
    assert.ok(counts.filter((c) => c === 8).length >= 50, 'a queued burst fills whole batches');
    const st = rx.stats();
    assert.equal(st.batches, counts.length);
    assert.ok(st.wakeups >= Math.ceil(500 / (8 * 4)), `at most 4 batches per wakeup: ${st.wakeups} wakeups for ${st.batches} batches`);
    assert.equal(rx.kernelDrops(), 0);
  } finally {
    rx.close();
  }
});

test('a datagram longer than the slot is flagged truncated (MSG_TRUNC) and its neighbours are intact', { skip: NO_ADDON }, async () => {
  const got: Array<{ len: number; trunc: boolean; first: number }> = [];
  const rx = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 1 << 20, slotSize: 1024 }, (n, r) => {
    for (let i = 0; i < n; i++) got.push({ len: r.length(i), trunc: r.truncated(i), first: r.slab[r.offset(i)] });
  }, (err) => assert.fail(err));
  try {
    assert.equal(rx.slotSize, 1024);
    await sendAll('udp4', '127.0.0.1', rx.address().port, [Buffer.alloc(1024, 1), Buffer.alloc(1025, 2), Buffer.alloc(10, 3)]);
    await waitFor(() => got.length === 3);
    assert.deepEqual(got, [
      { len: 1024, trunc: false, first: 1 },
      { len: 1024, trunc: true, first: 2 },
      { len: 10, trunc: false, first: 3 },
    ]);
  } finally {
    rx.close();
  }
});

test('SO_RCVBUFFORCE: granted past net.core.rmem_max when allowed (CAP_NET_ADMIN); forceRcvbuf false obeys the sysctl', { skip: NO_ADDON }, (t) => {
  const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const want = rmemMax * 2 + 65536;
  const plain = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: want, forceRcvbuf: false }, () => undefined, () => undefined);
  const forced = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: want }, () => undefined, () => undefined);
  try {
    assert.deepEqual(plain.rcvbuf, { requestedBytes: want, reportedBytes: rmemMax * 2, forced: false, errno: 0 });
    if (!forced.rcvbuf.forced) return t.skip('no CAP_NET_ADMIN: SO_RCVBUFFORCE refused');
    assert.deepEqual(forced.rcvbuf, { requestedBytes: want, reportedBytes: want * 2, forced: true, errno: 0 });
  } finally {
    plain.close();
    forced.close();
  }
});

test('kernel drops: the SO_RXQ_OVFL counter equals /proc/net/udp drops, and received + dropped = sent', { skip: NO_ADDON }, async () => {
  let frames = 0;
  const rx = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 4096 }, (n) => (frames += n), (err) => assert.fail(err));
  try {
    assert.equal(rx.dropCounterAvailable, true);
    const port = rx.address().port;
    blast(port, 3000, 1000); // a 4 KiB receive buffer overflows while this loop is blocked
    await new Promise((r) => setTimeout(r, 100));
    const proc = new UdpKernelStatsReader([port]).read();
    assert.ok(proc && proc.socketsFound === 1);
    assert.ok(proc.socketDrops > 0, 'the kernel dropped');
    assert.equal(frames + proc.socketDrops, 3000);
    // The counter rides on datagrams queued after the drops: send one more, then both views agree.
    await sendAll('udp4', '127.0.0.1', port, [Buffer.alloc(8)]);
    await waitFor(() => frames === 3001 - proc.socketDrops);
    assert.equal(rx.kernelDrops(), proc.socketDrops);
  } finally {
    rx.close();
  }
});

test('close(): from inside the callback while traffic flows, twice, and after; the port is free again at once', { skip: NO_ADDON }, async () => {
  let calls = 0;
  let afterClose = 0;
  let closed = false;
  const rx = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 1 << 20, slots: 4 }, (_n, r) => {
    if (closed) afterClose++;
    if (++calls === 3) {
      r.close();
      r.close();
      closed = true;
    }
  }, (err) => assert.fail(err));
  const port = rx.address().port;
  // Another process keeps sending for ~400 ms.
  const js = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(300);const t=Date.now();(function go(){for(let k=0;k<20;k++)s.send(b,${port},'127.0.0.1');if(Date.now()-t<400)setImmediate(go);else s.close()})()`;
  const child = spawn(process.execPath, ['-e', js], { stdio: 'ignore' });
  await waitFor(() => closed);
  // A second receiver closed from a timer mid-stream.
  const rx2 = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 1 << 20 }, () => undefined, (err) => assert.fail(err));
  const js2 = js.replace(String(port), String(rx2.address().port));
  const child2 = spawn(process.execPath, ['-e', js2], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 150));
  rx2.close();
  const afterClose2 = rx2.stats().datagrams;
  await Promise.all([new Promise((r) => child.once('exit', r)), new Promise((r) => child2.once('exit', r))]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(afterClose, 0, 'no callback after close()');
  assert.equal(rx.stats().open, false);
  assert.equal(rx2.stats().datagrams, afterClose2, 'nothing read after close()');
  assert.throws(() => rx.address(), /EBADF/);
  rx.close();
  // The fd is closed: the same port binds again.
  const again = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port, rcvbufBytes: 65536 }, () => undefined, () => undefined);
  again.close();
});

test('bad options and bind errors throw (never abort); a busy port says EADDRINUSE', { skip: NO_ADDON }, async () => {
  const cb = (): void => undefined;
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: 'localhost', port: 0, rcvbufBytes: 0 }, cb, cb), /numeric IPv4 or IPv6/);
  // An embedded NUL is not cut short to "127.0.0.1".
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: '127.0.0.1\0junk', port: 0, rcvbufBytes: 0 }, cb, cb), /numeric IPv4 or IPv6/);
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 0, maxBatchesPerWakeup: 257 }, cb, cb), /maxBatches: expected an integer 1-256/);
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 70000, rcvbufBytes: 0 }, cb, cb), /port: expected an integer 0-65535/);
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 0, slots: 0 }, cb, cb), /slots: expected an integer 1-1024/);
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 0, slots: 1024, slotSize: 65536 }, cb, cb), /exceeds 32 MiB/);
  assert.throws(() => BatchedUdpReceiver.open(addon, { host: '192.0.2.1', port: 0, rcvbufBytes: 0 }, cb, cb), (err: NodeJS.ErrnoException) => err.code === 'EADDRNOTAVAIL' && err.syscall === 'bind');
  const busy = dgram.createSocket('udp4');
  await new Promise<void>((r) => busy.bind(0, '127.0.0.1', () => r()));
  try {
    assert.throws(
      () => BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: busy.address().port, rcvbufBytes: 0 }, cb, cb),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE' && err.message === `bind EADDRINUSE 127.0.0.1:${busy.address().port}`,
    );
  } finally {
    busy.close();
  }
});

test('loadUdpBatch never throws: missing package, wrong exports, wrong ABI', () => {
  const missing = loadUdpBatch(() => {
    throw new Error("Cannot find module 'udp-batch'\nRequire stack: ...");
  });
  assert.equal(missing.addon, undefined);
  assert.match(missing.reason ?? '', /udp-batch cannot be loaded \(Cannot find module 'udp-batch'\); rebuild it/);
  assert.match(loadUdpBatch(() => ({})).reason ?? '', /exports no Receiver/);
  assert.match(loadUdpBatch(() => null).reason ?? '', /exports no Receiver/);
  const old = { Receiver: function Receiver() {}, ABI: 0, HEADER_WORDS: 8, SLOT_WORDS: 8 };
  assert.match(loadUdpBatch(() => old).reason ?? '', /ABI 0, expected 1/);
});

// Each receiver maps a 4 MiB slab (~13 ms to open and close on a quiet 2-core machine): 40 of them, and a timeout
// that a loaded CI machine does not reach (200 took 2.7 s quiet and hit 10 s once in a parallel full run).
test('lifetime: an unreferenced open receiver survives GC and keeps receiving; closed ones are collected; unref() lets the process exit', { skip: NO_ADDON }, () => {
  const js = `
    const { Receiver } = require('udp-batch');
    const dgram = require('dgram');
    for (let i = 0; i < 40; i++) new Receiver({ host: '127.0.0.1', port: 0 }, () => {}).close();
    let port = 0;
    (function () { port = new Receiver({ host: '127.0.0.1', port: 0 }, function (n) { console.log('batch', n); this.close(); }).address().port; })();
    for (let i = 0; i < 5; i++) global.gc();
    const s = dgram.createSocket('udp4');
    s.send(Buffer.alloc(10), port, '127.0.0.1', () => s.close());
    new Receiver({ host: '127.0.0.1', port: 0 }, () => {}).unref();
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', js], { encoding: 'utf8', timeout: 30_000, cwd: process.cwd() });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'batch 1\n', 'the receiver nobody referenced still got its datagram, then the process exited');
});

test('lifetime: a receiver left open in a worker thread is closed when the worker ends (its port is free again)', { skip: NO_ADDON }, async () => {
  const { Worker } = await import('node:worker_threads');
  const w = new Worker(`const { parentPort } = require('worker_threads'); const { Receiver } = require('udp-batch');
    const r = new Receiver({ host: '127.0.0.1', port: 0 }, () => {}); parentPort.postMessage(r.address().port);`, { eval: true });
  const port = await new Promise<number>((resolve) => w.once('message', resolve));
  await w.terminate();
  const again = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port, rcvbufBytes: 0 }, () => undefined, () => undefined);
  again.close();
});

test('a throwing callback is an uncaught exception (handler gets it, reading goes on), not an abort', { skip: NO_ADDON }, () => {
  const js = `
    const { Receiver } = require('udp-batch');
    const dgram = require('dgram');
    let batches = 0;
    process.on('uncaughtException', (err) => { console.log('caught', err.message); });
    const r = new Receiver({ host: '127.0.0.1', port: 0 }, (n) => { if (++batches === 1) throw new Error('boom'); console.log('next batch'); r.close(); });
    const s = dgram.createSocket('udp4');
    s.send(Buffer.alloc(10), r.address().port, '127.0.0.1', () => setTimeout(() => s.send(Buffer.alloc(10), r.address().port, '127.0.0.1', () => s.close()), 50));
  `;
  const r = spawnSync(process.execPath, ['-e', js], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'caught boom\nnext batch\n');
  const unhandled = spawnSync(process.execPath, ['-e', js.replace(/process\.on[^\n]*\n/, '')], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(unhandled.signal, null);
  assert.equal(unhandled.status, 1);
  assert.match(unhandled.stderr, /Error: boom/);
});

/** Compiles a small C file into dir with the system C compiler; undefined when there is none. */
function compile(dir: string, name: string, source: string, flags: string[]): string | undefined {
  const src = path.join(dir, `${name}.c`);
  const out = path.join(dir, name.endsWith('.node') ? name : `${name}.so`);
  fs.writeFileSync(src, source);
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', out, src, ...flags], { encoding: 'utf8' });
  return r.status === 0 ? out : undefined;
}

test('worker threads: a worker that exits (process.exit, or on its own with an unref()ed receiver) with a receiver open ends cleanly, no crash', { skip: NO_ADDON }, () => {
  // Each worker opens receivers and ends; the parent reports every exit code. A handle close
  // callback running after the addon was unloaded would kill the whole process with SIGSEGV.
  const js = `
    const { Worker } = require('worker_threads');
    const bodies = {
      exit: "const { Receiver } = require('udp-batch'); new Receiver({ host: '127.0.0.1', port: 0 }, () => {}); new Receiver({ host: '127.0.0.1', port: 0 }, () => {}).close(); process.exit(0);",
      unref: "const { Receiver } = require('udp-batch'); new Receiver({ host: '127.0.0.1', port: 0 }, () => {}).unref();",
      later: "const { Receiver } = require('udp-batch'); const r = new Receiver({ host: '127.0.0.1', port: 0, slots: 2, slotSize: 64 }, () => {}); r.unref(); setTimeout(() => process.exit(0), 5);",
    };
    const order = ['exit', 'unref', 'exit', 'unref', 'later', 'exit', 'unref'];
    let i = 0;
    (function next() {
      if (i === order.length) return setTimeout(() => console.log('native bytes', require('udp-batch').nativeBytes()), 50);
      const kind = order[i++];
      new Worker(bodies[kind], { eval: true }).on('exit', (code) => { console.log(kind, code); next(); });
    })();
  `;
  const r = spawnSync(process.execPath, ['-e', js], { encoding: 'utf8', timeout: 20_000, cwd: process.cwd() });
  assert.equal(r.signal, null, `the process died of ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  // The ended environments freed their receivers' memory too.
  assert.equal(r.stdout, 'exit 0\nunref 0\nexit 0\nunref 0\nlater 0\nexit 0\nunref 0\nnative bytes 0\n');
});

test('close() frees the slab: a callback that refers back to its receiver does not keep it alive (20 open/close cycles)', { skip: NO_ADDON }, async (t) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    console.log('skipped: run with --expose-gc (scripts/run-tests.js does)');
    return t.skip('global.gc unavailable');
  }
  assert.equal(typeof addon.nativeBytes, 'function');
  const nativeBytes = addon.nativeBytes!;
  // Receivers of earlier tests may still wait for collection: let them go first.
  for (let k = 0; k < 5; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  const base = nativeBytes();
  let collected = 0;
  const registry = new FinalizationRegistry<number>(() => collected++);
  // In its own (sync) function: no receiver stays on this async function's suspended frame.
  (function openAndClose(): void {
    for (let i = 0; i < 20; i++) {
      // The wrapper's onBatch closure captures the wrapper, which holds the native receiver: a cycle
      // through the addon's reference to onBatch unless close() drops it.
      const rx = BatchedUdpReceiver.open(addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 0 }, () => undefined, () => undefined);
      registry.register(rx, i);
      rx.close();
    }
  })();
  assert.equal(nativeBytes() - base, 20 * (64 * 65536 + (8 + 8 * 64) * 4), 'each receiver holds its slab and meta until collected');
  for (let k = 0; k < 100 && (nativeBytes() > base || collected < 20); k++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(collected, 20, 'every closed receiver was collected');
  assert.ok(nativeBytes() <= base, `and its native slab + meta freed (${nativeBytes() - base} bytes above the start)`);
});

test('the slab and meta cannot be freed from JS: transferring their ArrayBuffers throws or leaves the receiver working, no corruption', { skip: NO_ADDON }, () => {
  // In a child process: heap corruption shows up as a signal or an abort there.
  const js = `
    const { Receiver, nativeBytes } = require('udp-batch');
    const dgram = require('dgram');
    const { MessageChannel } = require('worker_threads');
    const base = nativeBytes();
    const seen = [];
    let rx = new Receiver({ host: '127.0.0.1', port: 0, slots: 4, slotSize: 2048 }, function (n) {
      const view = this.slab.length > 0 ? this.slab : moved;
      const meta = new Int32Array(this.meta.length > 0 ? this.meta.buffer : movedMeta);
      for (let i = 0; i < n; i++) seen.push(Buffer.from(view.subarray(i * 2048, i * 2048 + meta[8 + 8 * i])).toString());
      // As a frame consumer might: post the slab to another port, transferring it.
      try { ch.port1.postMessage(this.slab, [this.slab.buffer]); } catch (e) { outcomes.add('postMessage threw'); }
    });
    const outcomes = new Set();
    const ch = new MessageChannel();
    ch.port2.on('message', () => outcomes.add('postMessage delivered'));
    let moved, movedMeta;
    try { moved = new Uint8Array(structuredClone(rx.slab.buffer, { transfer: [rx.slab.buffer] })); outcomes.add('slab transfer returned'); } catch (e) { outcomes.add('slab transfer threw'); }
    try { movedMeta = structuredClone(rx.meta.buffer, { transfer: [rx.meta.buffer] }); outcomes.add('meta transfer returned'); } catch (e) { outcomes.add('meta transfer threw'); }
    // Where the original survived, the clone is a copy: drop it (a moved backing store freed here
    // while recvmmsg still wrote into it was the bug). Where it was detached, keep reading through it.
    if (rx.slab.length > 0) moved = null; else outcomes.add('slab detached');
    if (rx.meta.length > 0) movedMeta = null; else outcomes.add('meta detached');
    for (let i = 0; i < 5; i++) global.gc();
    const s = dgram.createSocket('udp4');
    const port = rx.address().port;
    let k = 0;
    (function send() {
      s.send(Buffer.from('datagram-' + k + '-' + 'x'.repeat(k * 100)), port, '127.0.0.1', () => { if (++k < 8) setTimeout(send, 5); else finish(); });
    })();
    function finish() {
      setTimeout(async () => {
        s.close();
        const st = rx.stats();
        rx.close(); rx = null;
        ch.port1.close();
        for (let i = 0; i < 50 && nativeBytes() > base; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
        // Churn the heap: corruption from a stray write would surface here.
        let junk = []; for (let i = 0; i < 2000; i++) junk.push(Buffer.alloc(2048, i)); junk = null; global.gc();
        console.log(JSON.stringify({ seen, datagrams: st.datagrams, freed: nativeBytes() === base, outcomes: [...outcomes].sort() }));
      }, 50);
    }
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', js], { encoding: 'utf8', timeout: 15_000, cwd: process.cwd() });
  assert.equal(r.signal, null, `the process died of ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { seen: string[]; datagrams: number; freed: boolean; outcomes: string[] };
  assert.deepEqual(out.seen, Array.from({ length: 8 }, (_, k) => `datagram-${k}-${'x'.repeat(k * 100)}`), 'every datagram read intact after the transfers');
  assert.equal(out.datagrams, 8);
  assert.equal(out.freed, true, 'the memory is freed once the receiver and every view of it are gone');
  assert.ok(out.outcomes.length >= 2, `outcomes: ${out.outcomes.join(', ')}`);
});

test('type tag: methods called on an object another Node-API addon wrapped throw a TypeError (no wild read)', { skip: NO_ADDON }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udp-batch-tag-'));
  try {
    const other = compile(
      dir,
      'other.node',
      `#include <node_api.h>
       static int payload[64];
       static napi_value make(napi_env env, napi_callback_info info) {
         napi_value o; napi_create_object(env, &o); napi_wrap(env, o, payload, NULL, NULL, NULL); return o;
       }
       NAPI_MODULE_INIT() {
         napi_value fn; napi_create_function(env, "make", NAPI_AUTO_LENGTH, make, NULL, &fn);
         napi_set_named_property(env, exports, "make", fn); return exports;
       }`,
      ['-I/usr/include/node', '-DNAPI_VERSION=8'],
    );
    if (other === undefined) return t.skip('no C compiler or Node headers to build a second addon');
    const foreign = (require(other) as { make: () => object }).make();
    const proto = (addon.Receiver as unknown as { prototype: Record<string, (...a: unknown[]) => unknown> }).prototype;
    // V8's signature check on class methods ("Illegal invocation") or the type tag in unwrap() ("not
    // a udp-batch Receiver"): either way a TypeError, never the other addon's pointer as a receiver.
    for (const m of ['stats', 'close', 'address', 'ref', 'unref']) {
      assert.throws(() => proto[m].call(foreign), (err: Error) => err instanceof TypeError && /not a udp-batch Receiver|Illegal invocation/.test(err.message), m);
    }
    assert.throws(() => proto.sourceAddress.call(foreign, 0), TypeError);
    assert.throws(() => proto.stats.call({}), TypeError);
    assert.throws(() => proto.stats.call(Object.create(proto)), TypeError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});


test('a socket whose reads keep failing stalls after 1000 failing wakeups (one error each), reports ENOTRECOVERABLE once, and reads again after the back-off', { skip: NO_ADDON }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udp-batch-fail-'));
  try {
    const shim = compile(dir, 'failing-recvmmsg', FAILING_RECVMMSG, ['-ldl']);
    if (shim === undefined) return t.skip('no C compiler for the recvmmsg shim');
    const js = `
      const { BatchedUdpReceiver, loadUdpBatch } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/source/batched-udp-receiver.js'))});
      const dgram = require('dgram');
      const errors = new Map();
      let firstErr, datagrams = 0, atStall;
      const rx = BatchedUdpReceiver.open(loadUdpBatch().addon, { host: '127.0.0.1', port: 0, rcvbufBytes: 0 }, (n) => { datagrams += n; }, (err) => {
        firstErr ??= { code: err.code, errno: err.errno, syscall: err.syscall };
        errors.set(err.code, (errors.get(err.code) ?? 0) + 1);
        if (err.code === 'ENOTRECOVERABLE') atStall = { ...rx.stats(), t: Date.now() };
      });
      const s = dgram.createSocket('udp4');
      s.send(Buffer.from('hello'), rx.address().port, '127.0.0.1', () => s.close());
      const t0 = Date.now();
      (function wait() {
        if (datagrams === 0 && Date.now() - t0 < 5000) return setTimeout(wait, 10);
        const end = rx.stats();
        rx.close();
        console.log(JSON.stringify({ firstErr, errors: Object.fromEntries(errors), datagrams, atStall, end, waitedMs: end && atStall ? Date.now() - atStall.t : -1 }));
      })();
    `;
    const r = spawnSync(process.execPath, ['-e', js], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, LD_PRELOAD: shim, FAIL_RECVMMSG: '1000' } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      firstErr: { code: string; errno: number; syscall: string };
      errors: Record<string, number>;
      datagrams: number;
      atStall: { wakeups: number; readErrors: number; polling: boolean; stalled: boolean; stalls: number };
      end: { stalled: boolean; stalls: number; datagrams: number; readErrors: number };
      waitedMs: number;
    };
    assert.deepEqual(out.firstErr, { code: 'ENOMEM', errno: -12, syscall: 'recvmmsg' }, 'errno is negative, as in the addon\'s thrown errors');
    assert.deepEqual(out.errors, { ENOMEM: 1000, ENOTRECOVERABLE: 1 });
    assert.equal(out.atStall.readErrors, 1000);
    assert.equal(out.atStall.wakeups, 1000, 'one failing read per wakeup, counted once');
    assert.equal(out.atStall.polling, false, 'no busy loop while stalled');
    assert.equal(out.atStall.stalled, true);
    assert.equal(out.datagrams, 1, 'the queued datagram is read after the retry');
    assert.equal(out.end.stalled, false);
    assert.equal(out.end.stalls, 1);
    assert.equal(out.end.readErrors, 1000);
    assert.ok(out.waitedMs >= 0, 'reading resumed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
