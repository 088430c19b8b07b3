import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopLag } from '../../../src/live/event-loop-lag';
import { liveReadiness } from '../../../src/live/live-runner';
import type { LiveSource } from '../../../src/live/live-source';

test('EventLoopLag keeps the worst lag of the current and previous second', () => {
  const lag = new EventLoopLag(100);
  // Not started: only recorded samples count. The "expected" time starts at 0.
  lag.sample(100); // 100 ms late vs expected 0
  assert.equal(lag.lagMs, 100);
  lag.sample(200); // on time
  lag.sample(1800); // 1500 ms late, new window
  assert.equal(lag.lagMs, 1500);
  lag.sample(1900);
  lag.sample(3000); // window rolls: previous max 1500 still visible
  assert.equal(lag.lagMs, 1500);
  lag.sample(3100);
  lag.sample(4100); // rolls again: the stall is forgotten
  assert.ok(lag.lagMs < 1500);
});

test('readiness: bound source, lag within bound, no source shedding, sink ready', () => {
  const state = { bound: true, shedding: false, sink: true };
  const src: LiveSource = {
    name: 't',
    start: async () => undefined,
    stop: async () => undefined,
    ready: () => state.bound,
    shedding: () => state.shedding,
  };
  const lag = new EventLoopLag(100);
  const ready = liveReadiness(src, lag, 1000, () => state.sink);
  assert.equal(ready(), true);
  state.bound = false;
  assert.equal(ready(), false);
  state.bound = true;
  state.shedding = true;
  assert.equal(ready(), false);
  state.shedding = false;
  state.sink = false;
  assert.equal(ready(), false);
  state.sink = true;
  lag.sample(1500); // 1.5 s stall
  assert.equal(ready(), false);
  assert.equal(liveReadiness(src, lag, 0)(), true, 'max lag 0 = off');
});
