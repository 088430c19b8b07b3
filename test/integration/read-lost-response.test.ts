/**
 * A response lost whole on a keep-alive connection (as a mirror or a loaded capture point loses it): cut the
 * packets of one response out of the recorded mix.pcap and `read` must pair the responses after it with
 * their own requests (the client's ACKs show that it had read the lost response before asking again),
 * emitting the request of the lost one with responseMissing and closeReason "response_lost".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Decoder } from '../../src/decode/decoder';
import { DecodedPacket } from '../../src/decode/decoded-packet';
import { Counters } from '../../src/observe/counters';
import { readPcap } from '../unit/decode/pcap-records';

const ROOT = path.join(__dirname, '..', '..', '..');
const MIX = path.join(ROOT, 'pcaps', 'http', 'mix.pcap');
const BIN = path.join(ROOT, 'bin', 'shadowtap.js');

/** mix.pcap without the server's packets of the `nth` response (0-based) on the connection from client port `port`. */
function withoutResponse(out: string, port: number, nth: number): number {
  const frames = readPcap(MIX)!;
  const raw = fs.readFileSync(MIX);
  const d = new Decoder({}, new Counters());
  const p = new DecodedPacket();
  const keep: Buffer[] = [raw.subarray(0, 24)];
  let responses = -1;
  let dropped = 0;
  let off = 24;
  for (const f of frames) {
    const len = raw.readUInt32LE(off + 8);
    const record = raw.subarray(off, off + 16 + len);
    off += 16 + len;
    const fromServer = d.decode(f, p) === '' && p.srcPort === 8080 && p.dstPort === port && p.payloadLen > 0;
    if (fromServer && p.buf.toString('latin1', p.payloadOff, p.payloadOff + 7) === 'HTTP/1.') responses++;
    if (fromServer && responses === nth) {
      dropped++;
      continue;
    }
    keep.push(record);
  }
  fs.writeFileSync(out, Buffer.concat(keep));
  return dropped;
}

function read(file: string): Array<Record<string, any>> {
  const out = `${file}.jsonl`;
  const r = spawnSync(process.execPath, [BIN, 'read', file, '--no-redact', '--stats', 'none', '-o', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
}

test('keep-alive with the middle response cut out: the last response still pairs with its own request', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lost-response-'));
  try {
    const file = path.join(dir, 'lost.pcap');
    assert.ok(withoutResponse(file, 41000, 1) >= 1, 'the response to /api/users/2 had packets to drop');
    fs.copyFileSync(MIX, path.join(dir, 'mix.pcap'));
    const full = read(path.join(dir, 'mix.pcap')).filter((e) => e.connection.client.port === 41000);
    const cut = read(file).filter((e) => e.connection.client.port === 41000);
    const byUrl = new Map(cut.map((e) => [e.request?.url, e]));
    assert.deepEqual([...byUrl.keys()].sort(), ['/api/users/1', '/api/users/2', '/static/app.js']);
    const lost = byUrl.get('/api/users/2')!;
    assert.equal(lost.response, undefined);
    assert.equal(lost.completeness.responseMissing, true);
    assert.equal(lost.completeness.closeReason, 'response_lost');
    const app = byUrl.get('/static/app.js')!;
    const appFull = full.find((e) => e.request?.url === '/static/app.js')!;
    assert.equal(app.response?.status, appFull.response.status);
    assert.equal(app.response?.body, appFull.response.body, 'the response of /static/app.js, not of /api/users/2');
    assert.equal(byUrl.get('/api/users/1')!.response.body, full.find((e) => e.request?.url === '/api/users/1')!.response.body);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
