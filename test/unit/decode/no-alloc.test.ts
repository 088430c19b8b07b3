// The plain Ethernet/IPv4/TCP path and the VXLAN path must not allocate per packet: three million
// decodes in a tight loop trigger at most one garbage collection (one may come from the test runner
// or a timer; 3M decodes allocating even 16 bytes each would fill the young generation many times over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { Counters } from '../../../src/observe/counters';
import { DecodedPacket } from '../../../src/decode/decoded-packet';
import { Decoder } from '../../../src/decode/decoder';
import { LINKTYPE_ETHERNET } from '../../../src/wire/link-types';
import { ETH_IPV4 } from './craft';
import { LAB_VXLAN_HTTP_GET, VLAN0_HTTP_GET, frameOf } from './fixtures';

async function gcCountDuring(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    n += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  await tick();
  n = 0;
  fn();
  await tick();
  await tick();
  obs.disconnect();
  return n;
}

for (const [name, bytes] of [
  ['Ethernet[IPv4[TCP]]', Buffer.concat([ETH_IPV4, VLAN0_HTTP_GET.subarray(18)])],
  ['Ethernet[IPv4[UDP[VXLAN[Ethernet[IPv4[TCP]]]]]]', LAB_VXLAN_HTTP_GET],
] as const) {
  test(`no per-packet allocation: ${name}`, async () => {
    const d = new Decoder({}, new Counters());
    const out = new DecodedPacket();
    const frame = frameOf(bytes, LINKTYPE_ETHERNET);
    for (let i = 0; i < 20_000; i++) d.decode(frame, out); // warm up (JIT, tunnel source cache)
    let ok = 0;
    const gcs = await gcCountDuring(() => {
      for (let i = 0; i < 3_000_000; i++) if (d.decode(frame, out) === '') ok++;
    });
    assert.equal(ok, 3_000_000);
    assert.ok(gcs <= 1, `garbage collections during 3M decodes: ${gcs}`);
  });
}
