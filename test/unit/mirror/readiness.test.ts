import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopLag } from '../../../src/live/event-loop-lag';
import { liveNotReadyReasons } from '../../../src/live/live-runner';
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

test('readiness: bound source, lag within bound, no source shedding, sink healthy; each failure named', () => {
  const state = { bound: true, shedding: false, sink: true as boolean | undefined };
  const src: LiveSource = {
    name: 't',
    start: async () => undefined,
    stop: async () => undefined,
    ready: () => state.bound,
    shedding: () => state.shedding,
  };
  const sink = {
    get healthy() {
      return state.sink;
    },
  };
  const lag = new EventLoopLag(100);
  const reasons = liveNotReadyReasons(src, lag, 1000, { sink });
  assert.deepEqual(reasons(), []);
  state.bound = false;
  assert.deepEqual(reasons(), ['source not bound/open']);
  state.bound = true;
  state.shedding = true;
  assert.deepEqual(reasons(), ['source shedding load (kernel drops)']);
  state.shedding = false;
  state.sink = false;
  assert.deepEqual(reasons(), ['sink not healthy (not delivering: disconnected or spooling)']);
  state.sink = undefined;
  assert.deepEqual(reasons(), [], 'a sink with no opinion counts as healthy');
  state.sink = true;
  lag.sample(1500); // 1.5 s stall
  assert.deepEqual(reasons(), ['event loop lag 1500 ms over 1000 ms']);
  state.bound = false;
  assert.equal(reasons().length, 2, 'every reason is listed');
  state.bound = true;
  assert.deepEqual(liveNotReadyReasons(src, lag, 0)(), [], 'max lag 0 = off; no sink = no opinion');
});
