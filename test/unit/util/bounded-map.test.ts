/** BoundedMap (src/util/bounded-map.ts): never more than `max` entries; `set` on a full map clears it first. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap } from '../../../src/util/bounded-map';

test('holds up to max entries, then set clears the whole map before storing', () => {
  const m = new BoundedMap<number, string>(3);
  m.set(1, 'a');
  m.set(2, 'b');
  m.set(3, 'c');
  assert.equal(m.size, 3);
  assert.equal(m.get(1), 'a');
  assert.equal(m.get(3), 'c');
  m.set(4, 'd'); // full: cleared, then 4 stored
  assert.equal(m.size, 1);
  assert.equal(m.get(1), undefined);
  assert.equal(m.get(2), undefined);
  assert.equal(m.get(3), undefined);
  assert.equal(m.get(4), 'd');
});

test('get after a clear misses until the key is set again', () => {
  const m = new BoundedMap<string, number>(2);
  m.set('x', 1);
  m.set('y', 2);
  m.set('z', 3);
  assert.equal(m.get('x'), undefined);
  m.set('x', 10);
  assert.equal(m.get('x'), 10);
  assert.equal(m.get('z'), 3);
  assert.equal(m.size, 2);
});

test('size never exceeds max', () => {
  const m = new BoundedMap<number, number>(16);
  for (let i = 0; i < 1000; i++) {
    m.set(i, i);
    assert.ok(m.size <= 16);
    assert.equal(m.get(i), i);
  }
  assert.equal(m.size, ((1000 - 1) % 16) + 1); // cleared at every 17th set
});

test('set on a full map clears it even when the key is already held', () => {
  const m = new BoundedMap<number, string>(2);
  m.set(1, 'a');
  m.set(2, 'b');
  m.set(2, 'B');
  assert.equal(m.size, 1);
  assert.equal(m.get(1), undefined);
  assert.equal(m.get(2), 'B');
});
