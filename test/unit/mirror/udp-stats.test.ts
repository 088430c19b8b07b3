import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { parseProcNetSnmpUdp, parseProcNetUdp, UdpKernelStatsReader } from '../../../src/live/udp-stats';

// /proc/net/udp as Linux 6.x prints it: one socket on 0.0.0.0:4789 (0x12B5) with 17 drops and
// 0x300 bytes queued, one on 127.0.0.1:53 (0x0035), then a malformed line.
const PROC_NET_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 00000000:12B5 00000000:0000 07 00000000:00000300 00:00000000 00000000     0        0 482113 2 ffff8f2a3c1e0000 17
  245: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 19912 2 ffff8f2a3c1e0440 0
  garbage line
`;

const PROC_NET_SNMP = `Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 312 0 1744 2057 1744 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
`;

test('parseProcNetUdp reads port, inode, rx_queue and drops; skips malformed lines', () => {
  assert.deepEqual(parseProcNetUdp(PROC_NET_UDP), [
    { localPort: 4789, inode: 482113, rxQueueBytes: 0x300, drops: 17 },
    { localPort: 53, inode: 19912, rxQueueBytes: 0, drops: 0 },
  ]);
  assert.deepEqual(parseProcNetUdp(''), []);
});

test('parseProcNetSnmpUdp reads the Udp: pair only', () => {
  const s = parseProcNetSnmpUdp(PROC_NET_SNMP)!;
  assert.equal(s.RcvbufErrors, 1744);
  assert.equal(s.InDatagrams, 312);
  assert.equal(parseProcNetSnmpUdp('Ip: a\nIp: 1\n'), undefined);
});

test('UdpKernelStatsReader finds this process\'s own socket by inode', { skip: process.platform !== 'linux' && 'procfs is Linux only' }, async () => {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    const port = s.address().port;
    const st = new UdpKernelStatsReader([port]).read();
    assert.ok(st);
    assert.equal(st.socketsFound, 1);
    assert.equal(st.socketDrops, 0);
    assert.equal(new UdpKernelStatsReader([port === 1 ? 2 : 1]).read()!.socketsFound, 0);
  } finally {
    s.close();
  }
});
