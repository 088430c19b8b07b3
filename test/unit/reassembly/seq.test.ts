import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../../../src/reassembly/seq';

test('seq compare is wrap-safe across 2^32', () => {
  assert.equal(seqDiff(5, 0xfffffffb), 10);
  assert.equal(seqDiff(0xfffffffb, 5), -10);
  assert.ok(seqLt(0xffffffff, 0));
  assert.ok(seqGt(0, 0xffffffff));
  assert.ok(seqLe(7, 7) && seqGe(7, 7) && !seqLt(7, 7) && !seqGt(7, 7));
  assert.equal(seqAdd(0xffffffff, 1), 0);
  assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
  assert.equal(seqAdd(5, 0), 5);
});

test('seq compare within 2^31 distance', () => {
  assert.ok(seqLt(0, 0x7fffffff));
  assert.ok(seqGt(0, 0x80000001)); // 0x80000001 is "behind" 0 by 2^31 - 1
  assert.equal(seqDiff(0x80000000, 0x00000001), 0x7fffffff);
});
