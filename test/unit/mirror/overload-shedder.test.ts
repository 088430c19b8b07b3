/**
 * OverloadShedder: nothing shed below the start fill; a share growing to all of them halfway to a full
 * queue; a fast-filling queue met early; the share spread evenly; every shed exchange counted and none written; the fill read at most every
 * SHED_CHECK_MS; readiness held for 2 s after the last shed; health and close passed through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverloadShedder, SHED_CHECK_MS, type ShedEvent } from '../../../src/live/overload-shedder';
import { liveNotReadyReasons } from '../../../src/live/live-runner';
import { EventLoopLag } from '../../../src/live/event-loop-lag';
import { Counters } from '../../../src/observe/counters';
import type { Exchange } from '../../../src/exchange/record';
import type { ExchangeSink } from '../../../src/sink/exchange-sink';

function harness(startFill: number) {
  const clock = { t: 1000 };
  const state = { fill: 0 as number | undefined, reads: 0, healthy: true as boolean | undefined, closed: false };
  const written: number[] = [];
  const inner: ExchangeSink = {
    write: (ex) => {
      written.push((ex as unknown as { n: number }).n);
      return true;
    },
    close: async () => {
      state.closed = true;
    },
    get healthy() {
      return state.healthy;
    },
  };
  const counters = new Counters();
  const events: ShedEvent[] = [];
  const shedder = new OverloadShedder(inner, () => {
    state.reads++;
    return state.fill;
  }, counters, startFill, () => clock.t, (e) => events.push(e));
  let n = 0;
  /** Writes `k` exchanges, `stepMs` apart; returns their numbers. */
  const send = (k: number, stepMs = 0): number[] => {
    const sent: number[] = [];
    for (let i = 0; i < k; i++) {
      sent.push(n);
      shedder.write({ n: n++ } as unknown as Exchange);
      clock.t += stepMs;
    }
    return sent;
  };
  return { clock, state, written, counters, shedder, send, events, shed: () => counters.get('exchanges_shed_overload') };
}

test('below the start fill nothing is shed; from halfway to full everything is, counted and never written', () => {
  const h = harness(0.5);
  h.state.fill = 0.49;
  h.send(100, 1);
  assert.equal(h.written.length, 100);
  assert.equal(h.shed(), 0);
  assert.equal(h.shedder.shedding(), false);
  h.state.fill = 0.75; // halfway between 0.5 and a full queue
  h.clock.t += SHED_CHECK_MS;
  const during = h.send(40);
  assert.equal(h.shed(), 40);
  assert.ok(during.every((n) => !h.written.includes(n)), 'a shed exchange reaches the sink never');
  assert.equal(h.shedder.shedding(), true);
  h.state.fill = 0.1; // drained
  h.clock.t += SHED_CHECK_MS;
  const after = h.send(10);
  assert.ok(after.every((n) => h.written.includes(n)));
  assert.equal(h.shedder.shedding(), true, 'still counts as shedding right after');
  h.clock.t += 2001;
  assert.equal(h.shedder.shedding(), false, 'not after 2 s without a shed exchange');
  assert.equal(h.written.length + h.shed(), 150, 'every exchange is written or counted');
});

test('inside the band the share is proportional and spread evenly', () => {
  const h = harness(0.5);
  h.state.fill = 0.625; // halfway into the band 0.5..0.75: every second exchange
  h.send(100);
  assert.equal(h.shed(), 50);
  const kept = h.written;
  for (let i = 1; i < kept.length; i++) assert.equal(kept[i] - kept[i - 1], 2, 'shed and kept alternate');
  const q = harness(0.5);
  q.state.fill = 0.5625; // a quarter into the band
  q.send(400);
  assert.equal(q.shed(), 100);
});

test('a queue filling fast is met before it reaches the start fill; one holding still below it, or draining, is not', () => {
  const h = harness(0.5);
  // Growing by 0.1 per check (2 per second): at 0.35 the fill expected SHED_HORIZON_S ahead is past the band.
  for (const f of [0.05, 0.15, 0.25, 0.35]) {
    h.state.fill = f;
    h.send(10, SHED_CHECK_MS / 10);
  }
  assert.ok(h.shed() >= 5, `shed ${h.shed()} before the queue reached half its buffer`);
  const still = harness(0.5);
  still.state.fill = 0.45;
  still.send(200, 2); // 400 ms at a steady 45%
  assert.equal(still.shed(), 0);
  const draining = harness(0.5);
  for (const f of [0.45, 0.3, 0.2, 0.1]) {
    draining.state.fill = f;
    draining.send(10, SHED_CHECK_MS / 10);
  }
  assert.equal(draining.shed(), 0);
});

test('the fill is read at most every SHED_CHECK_MS; an unknown fill sheds nothing', () => {
  const h = harness(0.5);
  h.state.fill = undefined;
  h.send(1000, 0.1); // 100 ms in all
  assert.equal(h.shed(), 0);
  assert.ok(h.state.reads <= Math.ceil(100 / SHED_CHECK_MS) + 1, `${h.state.reads} reads`);
  h.state.fill = 1;
  h.clock.t += SHED_CHECK_MS;
  h.send(5);
  assert.equal(h.shed(), 5);
});

test('readiness reads the fill itself: a rate left by the last write does not hold it down once the queue drained', () => {
  const h = harness(0.5);
  h.state.fill = 0.9;
  h.send(1);
  assert.equal(h.shed(), 1);
  assert.equal(h.shedder.shedding(), true);
  h.state.fill = 0; // drained, and no exchange arrives any more
  h.clock.t += 2001;
  assert.equal(h.shedder.shedding(), false);
  h.state.fill = 0.95; // filling again with no exchange finished yet: not ready
  h.clock.t += SHED_CHECK_MS;
  assert.equal(h.shedder.shedding(), true);
});

test('after stop() every exchange is written (the flush at shutdown), whatever the fill', () => {
  const h = harness(0.5);
  h.state.fill = 1;
  h.send(3);
  assert.equal(h.shed(), 3);
  h.shedder.stop();
  const flushed = h.send(20);
  assert.ok(flushed.every((n) => h.written.includes(n)));
  assert.equal(h.shed(), 3);
  assert.equal(h.shedder.shedding(), false);
});

test('one report when an overload episode starts and one when it ends (2 s without shedding, or stop)', () => {
  const h = harness(0.5);
  h.state.fill = 0.8;
  h.clock.t += SHED_CHECK_MS;
  h.send(100, 5); // 500 ms of shedding, ten checks
  assert.deepEqual(h.events, [{ kind: 'start', fillPercent: 80 }]);
  h.state.fill = 0.1;
  h.send(100, 10); // 1 s below the threshold: the episode is still open
  assert.equal(h.events.length, 1);
  h.send(200, 10); // 2 s more
  assert.equal(h.events.length, 2);
  const end = h.events[1] as Extract<ShedEvent, { kind: 'end' }>;
  assert.equal(end.kind, 'end');
  assert.equal(end.exchangesShed, 100);
  assert.ok(end.seconds > 0.4 && end.seconds < 0.6, `${end.seconds} s`);
  h.state.fill = 0.9;
  h.clock.t += SHED_CHECK_MS;
  h.send(10);
  h.shedder.stop();
  assert.deepEqual(h.events.slice(2).map((e) => e.kind), ['start', 'end']);
  assert.equal((h.events[3] as Extract<ShedEvent, { kind: 'end' }>).exchangesShed, 10);
});

test('startFill 0 is a pass-through that never reads the fill', () => {
  const h = harness(0);
  h.state.fill = 1;
  h.send(20, 100);
  assert.equal(h.written.length, 20);
  assert.equal(h.state.reads, 0);
  assert.equal(h.shedder.shedding(), false);
});

test('health and close pass through; shedding makes the live mode not ready, with its reason', async () => {
  const h = harness(0.5);
  h.state.healthy = false;
  assert.equal(h.shedder.healthy, false);
  h.state.healthy = undefined;
  assert.equal(h.shedder.healthy, true);
  const src = { name: 't', start: async () => undefined, stop: async () => undefined, ready: () => true };
  const reasons = liveNotReadyReasons(src, new EventLoopLag(100), 0, { overload: h.shedder });
  assert.deepEqual(reasons(), []);
  h.state.fill = 0.9;
  h.clock.t += SHED_CHECK_MS;
  h.send(1);
  assert.deepEqual(reasons(), ['shedding exchanges (receive queue filling)']);
  await h.shedder.close();
  assert.equal(h.state.closed, true);
});
