import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { UdpMirrorSource } from '../../../src/source/udp-mirror-source';
import { FIRST_LAYER_GENEVE, FIRST_LAYER_VXLAN } from '../../../src/wire/link-types';
import { Counters } from '../../../src/observe/counters';
import { ShadowtapError } from '../../../src/errors';
import type { Frame } from '../../../src/source/frame';
import { freePort, memLogger, waitFor } from '../../helpers/async-utils';

function send(port: number, data: Buffer): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) =>
    s.send(data, port, '127.0.0.1', (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

test('delivers whole 65507-byte datagrams (VXLAN socket) and small ones (GENEVE socket) as frames', async () => {
  const [vx, gn] = [await freePort(), await freePort()];
  const { log } = memLogger();
  const src = new UdpMirrorSource({ listen: { host: '127.0.0.1', port: vx }, geneveListen: { host: '127.0.0.1', port: gn }, rcvbufBytes: 1 << 20 }, log);
  const got: Array<{ len: number; linkType: number; tunnelSource: string | undefined; first: number; last: number; wire: number }> = [];
  await src.start((f: Frame) => {
    got.push({ len: f.capLen, linkType: f.linkType, tunnelSource: f.tunnelSource, first: f.buf[f.off], last: f.buf[f.off + f.capLen - 1], wire: f.wireLen });
  });
  try {
    assert.equal(src.ready(), true);
    assert.equal(src.name, `mirror:127.0.0.1:${vx}+geneve:127.0.0.1:${gn}`);
    const big = Buffer.alloc(65507, 0xab); // the largest UDP payload over IPv4
    big[0] = 0x08;
    big[big.length - 1] = 0xcd;
    await send(vx, big);
    await send(gn, Buffer.from('0000080000000000', 'hex'));
    await waitFor(() => got.length === 2);
    assert.deepEqual(got[0], { len: 65507, linkType: FIRST_LAYER_VXLAN, tunnelSource: '127.0.0.1', first: 0x08, last: 0xcd, wire: 65507 });
    assert.deepEqual(got[1], { len: 8, linkType: FIRST_LAYER_GENEVE, tunnelSource: '127.0.0.1', first: 0, last: 0, wire: 8 });
  } finally {
    await src.stop();
  }
  assert.equal(src.ready(), false);
});

test('SO_RCVBUF: read back; a kernel cap is logged naming net.core.rmem_max (node:dgram receiver)', async () => {
  const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const want = rmemMax * 2 + 4096; // more than the kernel grants without CAP_NET_ADMIN + SO_RCVBUFFORCE
  const { log, lines } = memLogger();
  // dgram: Node has no SO_RCVBUFFORCE (the native receiver's forcing is tested in test/unit/source/udp-mirror-receiver.test.ts).
  const src = new UdpMirrorSource({ listen: { host: '127.0.0.1', port: await freePort() }, rcvbufBytes: want, receiver: 'dgram' }, log);
  await src.start(() => undefined);
  try {
    src.pollStats(new Counters());
    const reported = src.gauges()['udp_rcvbuf_bytes{listener="vxlan"}'];
    assert.equal(reported, rmemMax * 2, 'Linux reports twice the granted size');
    const warn = lines().find((l) => l.level === 40);
    assert.ok(warn, 'a warning is logged');
    assert.match(String(warn.msg), /net\.core\.rmem_max/);
    assert.equal(warn.grantedBytes, rmemMax);
  } finally {
    await src.stop();
  }
});

test('port in use: ShadowtapError naming the address and the flag; nothing stays bound', async () => {
  const port = await freePort();
  const busy = dgram.createSocket('udp4');
  await new Promise<void>((r) => busy.bind(port, '127.0.0.1', () => r()));
  try {
    const src = new UdpMirrorSource({ listen: { host: '127.0.0.1', port }, rcvbufBytes: 65536 }, memLogger().log);
    await assert.rejects(src.start(() => undefined), (err: unknown) => {
      assert.ok(err instanceof ShadowtapError);
      assert.equal(err.code, 'CAP_ERR_LISTEN');
      assert.equal(err.message, `cannot listen on UDP 127.0.0.1:${port} for VXLAN (--listen): address already in use (another mirror agent, or a kernel vxlan device bound to this port?)`);
      return true;
    });
    assert.equal(src.ready(), false);
    // GENEVE port in use: the VXLAN socket bound first is released again.
    const vx = await freePort();
    const src2 = new UdpMirrorSource({ listen: { host: '127.0.0.1', port: vx }, geneveListen: { host: '127.0.0.1', port }, rcvbufBytes: 65536 }, memLogger().log);
    await assert.rejects(src2.start(() => undefined), /for GENEVE \(--geneve-listen\): address already in use/);
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(vx, '127.0.0.1', () => resolve());
    });
    again.close();
  } finally {
    busy.close();
  }
});

test('kernel receive drops are read from /proc/net/udp and mark the source as shedding', { skip: process.platform !== 'linux' && 'procfs is Linux only' }, async () => {
  const port = await freePort();
  const src = new UdpMirrorSource({ listen: { host: '127.0.0.1', port }, rcvbufBytes: 4096 }, memLogger().log);
  let frames = 0;
  await src.start(() => frames++);
  try {
    const counters = new Counters();
    src.pollStats(counters);
    assert.equal(counters.get('kernel_udp_socket_drops'), 0);
    assert.equal(src.shedding(), false);
    // A child blasts 3000 datagrams while this process's event loop is blocked (spawnSync): the
    // tiny receive buffer overflows and the kernel drops.
    const js = `const s=require('dgram').createSocket('udp4');let n=0;const b=Buffer.alloc(1000,8);(function go(){for(let i=0;i<100;i++)s.send(b,${port},'127.0.0.1');if(++n<30)setImmediate(go);else setTimeout(()=>s.close(),200)})()`;
    spawnSync(process.execPath, ['-e', js]);
    await new Promise((r) => setTimeout(r, 100));
    src.pollStats(counters);
    const drops = counters.get('kernel_udp_socket_drops');
    assert.ok(drops > 0, 'drops counted');
    assert.equal(src.gauges().kernel_udp_socket_drops, drops);
    assert.equal(frames + drops, 3000, `every datagram is either received (${frames}) or a kernel drop (${drops})`);
    assert.equal(src.shedding(), true);
    src.pollStats(counters);
    src.pollStats(counters);
    assert.equal(src.shedding(), false, 'shedding clears two polls after the drops stop');
  } finally {
    await src.stop();
  }
});
