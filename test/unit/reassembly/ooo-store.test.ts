import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OooStore } from '../../../src/reassembly/ooo-store';

function dump(s: OooStore): string[] {
  const out: string[] = [];
  for (let seg = s.shift(); seg !== undefined; seg = s.shift()) {
    out.push(`${seg.start}:${seg.data === null ? `#${seg.len}` : seg.data.toString('latin1')}`);
  }
  return out;
}

test('insert keeps segments sorted and trims overlap (first copy wins)', () => {
  const s = new OooStore();
  const base = 100;
  assert.equal(s.insert(base, 120, 5, Buffer.from('CCCCC'), 0, 1), 5);
  assert.equal(s.insert(base, 110, 5, Buffer.from('AAAAA'), 0, 1), 5);
  // Spans both held segments: only [115,120) and [125,130) are new.
  assert.equal(s.insert(base, 108, 22, Buffer.from('xxxxxxxxxxxxxxxxxxxxxx'), 0, 1), 2 + 5 + 5);
  assert.equal(s.count, 5);
  assert.equal(s.bytes, 22);
  assert.deepEqual(dump(s), ['108:xx', '110:AAAAA', '115:xxxxx', '120:CCCCC', '125:xxxxx']);
  assert.equal(s.bytes, 0);
});

test('a fully covered duplicate stores nothing; copies do not alias the source', () => {
  const s = new OooStore();
  const src = Buffer.from('hello');
  s.insert(0, 10, 5, src, 0, 1);
  assert.equal(s.insert(0, 11, 3, Buffer.from('zzz'), 0, 1), 0);
  src.fill(0x21);
  assert.deepEqual(dump(s), ['10:hello']);
});

test('truncated ranges are stored as markers without bytes', () => {
  const s = new OooStore();
  s.insert(0, 10, 4, null, 0, 1);
  assert.equal(s.bytes, 0);
  assert.equal(s.insert(0, 8, 8, Buffer.from('abcdefgh'), 0, 1), 4);
  assert.deepEqual(dump(s), ['8:ab', '10:#4', '14:gh']);
});

test('truncateAt drops bytes at and beyond the limit', () => {
  const s = new OooStore();
  s.insert(0, 10, 5, Buffer.from('abcde'), 0, 1);
  s.insert(0, 20, 5, Buffer.from('fghij'), 0, 1);
  assert.equal(s.truncateAt(0, 12), 3 + 5);
  assert.equal(s.bytes, 2);
  assert.deepEqual(dump(s), ['10:ab']);
});

test('insert works across the 2^32 wrap', () => {
  const s = new OooStore();
  const base = 0xfffffff0;
  s.insert(base, 0x00000002, 3, Buffer.from('wrp'), 0, 1);
  s.insert(base, 0xfffffffe, 4, Buffer.from('ab12'), 0, 1);
  assert.deepEqual(dump(s), [`${0xfffffffe}:ab12`, '2:wrp']);
});
