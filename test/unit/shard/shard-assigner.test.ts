import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ShardAssigner } from '../../../src/shard/shard-assigner';

test('connections opened in a burst after the first ones started sending still split evenly', () => {
  const a = new ShardAssigner(2, 300e6, 1000);
  // Two connections open and carry data, then 30 more open at once (bench-large's shape).
  a.shardOf(1, 64, 0);
  a.shardOf(2, 64, 0);
  for (let i = 0; i < 100; i++) a.shardOf(1 + (i % 2), 1500, i);
  const per = [0, 0];
  for (let h = 3; h <= 32; h++) per[a.shardOf(h, 64, 200)]!++;
  assert.deepEqual(per, [15, 15]);
});

test('a flow never changes shard, whatever the order of flows and sizes (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.nat(3000)), { maxLength: 400 }), fc.integer({ min: 1, max: 20 }), (n, segs, maxFlows) => {
      const a = new ShardAssigner(n, 1e12, maxFlows);
      const seen = new Map<number, number>();
      segs.forEach(([hash, bytes], i) => {
        const s = a.shardOf(hash, bytes, i);
        assert.ok(s >= 0 && s < n);
        if (seen.has(hash)) assert.equal(s, seen.get(hash), `flow ${hash} moved`);
        seen.set(hash, s);
      });
      assert.ok(a.size <= maxFlows);
    }),
  );
});

test('placements are forgotten only after the idle timeout, then the flow may be placed afresh', () => {
  const a = new ShardAssigner(3, 5_000_000, 100);
  a.shardOf(7, 100, 0);
  a.forgetIdle(10_000_000); // idle 10 s > 5 s
  assert.equal(a.size, 0);
  a.shardOf(8, 100, 10_000_000);
  a.forgetIdle(14_000_000); // checked at most every 10 s: nothing yet
  a.forgetIdle(21_000_000); // idle 11 s
  assert.equal(a.size, 0);
  a.shardOf(9, 100, 21_000_000);
  a.shardOf(9, 100, 29_000_000);
  a.forgetIdle(32_000_000); // last seen 3 s ago: kept
  assert.equal(a.size, 1);
});
