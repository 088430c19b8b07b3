import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Store, type AppendRequest } from '../../../src/collect/store';
import { walkStore } from '../../../src/collect/read-store';
import { batchPayloadOffset, encodeBatchFrame, encodeExchange } from '../../../src/delivery/frame-codec';
import { exchange, tmp } from '../delivery/helpers';

function req(agentId: string, seq: number, n = 3): AppendRequest {
  const frame = encodeBatchFrame(seq, 's1', 0, Array.from({ length: n }, (_, i) => encodeExchange(exchange(seq * 100 + i))));
  return { agentId, node: 'node1', mode: 'read', receivedMicros: 0, stream: 's1', seq, raw: frame.subarray(batchPayloadOffset(frame)), count: n, t0: 1, t1: 2 };
}

function segFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'segments')).filter((n) => n.endsWith('.seg')).sort();
}

describe('collector store', () => {
  it('stores each (agent, stream, seq) once, also across a restart; a group of appends shares one fsync', async () => {
    const dir = tmp('store');
    const s = await Store.open({ dir });
    const r = await Promise.all([s.append(req('a', 1)), s.append(req('a', 2)), s.append(req('a', 1)), s.append(req('b', 1))]);
    assert.deepEqual(r, ['stored', 'stored', 'duplicate', 'stored']);
    assert.ok(s.stats.groups <= 2, `grouped: ${s.stats.groups} groups for 3 writes`);
    await s.close();
    const s2 = await Store.open({ dir });
    assert.equal(await s2.append(req('a', 2)), 'duplicate');
    assert.equal(await s2.append(req('a', 3)), 'stored');
    await s2.close();
    const recs = [...walkStore(dir)];
    assert.deepEqual(recs.map((x) => `${x.agentId}/${x.seq}`), ['a/1', 'a/2', 'b/1', 'a/3']);
    assert.equal(recs[0]!.exchanges.length, 3);
  });

  it('a collector killed mid-write: the torn tail is cut and records missing from the index are re-indexed', async () => {
    const dir = tmp('store');
    const s = await Store.open({ dir });
    await s.append(req('a', 1));
    await s.append(req('a', 2));
    await s.close();
    const seg = path.join(dir, 'segments', segFiles(dir)[0]!);
    const idx = seg.replace(/\.seg$/, '.idx');
    const lines = fs.readFileSync(idx, 'utf8').split('\n').filter(Boolean);
    fs.writeFileSync(idx, lines[0] + '\n'); // the index line of record 2 was never written
    fs.appendFileSync(seg, Buffer.from([0x90, 0x03, 0x0a, 0x01])); // and half of a third record was
    const s2 = await Store.open({ dir });
    assert.equal(s2.stats.truncatedBytes, 4);
    assert.equal(s2.stats.recoveredRecords, 1);
    assert.equal(await s2.append(req('a', 2)), 'duplicate', 'the re-indexed record counts for dedup');
    await s2.close();
    assert.equal([...walkStore(dir)].length, 2);
  });

  it('retention deletes the oldest segments by size and by age', async () => {
    const dir = tmp('store');
    let now = 1_000_000_000_000;
    const one = (await (async () => {
      const d = tmp('probe');
      const p = await Store.open({ dir: d });
      await p.append(req('a', 1));
      await p.close();
      return p.bytes;
    })());
    const s = await Store.open({ dir, segmentBytes: one * 2, retentionBytes: one * 8, now: () => now });
    for (let i = 1; i <= 12; i++) await s.append(req('a', i));
    await s.enforceRetention();
    assert.ok(s.bytes <= one * 8, `${s.bytes} <= ${one * 8}`);
    assert.ok(s.stats.segmentsDeleted >= 1);
    assert.ok(s.bytes > 0, "the newest data is kept");
    assert.equal(await s.append(req('a', 12)), 'duplicate');
    now += 8 * 86_400_000;
    await s.close();
    const s2 = await Store.open({ dir, retentionAgeMs: 7 * 86_400_000, now: () => now });
    assert.equal(s2.bytes, 0, 'everything is older than 7 days');
    assert.deepEqual(segFiles(dir), []);
    await s2.close();
  });
});
