/**
 * Output formats of `shadowtap read`: `--format pb -o F` decodes (src/sink/codec.ts) to the same
 * exchanges as the JSON lines output; `--format har` is HAR 1.2 with one entry per exchange.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeExchangesDelimited } from '../../src/sink/codec';
import { headerOf, jsonDiffPaths, parseJsonl, runCli, runCliOnce, withoutEmpty, type ExchangeJson } from './read-support';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-fmt-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// mix: every kind of body; oneway: exchanges without a request; cut-mid-record: exit 3 still closes the file.
const PB_CAPTURES = ['http/mix', 'vxlan/mirror-lab-oneway', 'broken/cut-mid-record'];
const HAR_CAPTURES = ['http/mix', 'vxlan/mirror-lab-oneway'];

async function jsonl(name: string): Promise<ExchangeJson[]> {
  const r = await runCliOnce(['read', `pcaps/${name}.pcap`, '--no-redact', '--stats', 'none']);
  return parseJsonl(r.stdout);
}

async function toFile(name: string, format: string): Promise<{ code: number | null; stdout: Buffer; stderr: string; bytes: Buffer }> {
  const out = path.join(tmp, `${name.replace('/', '_')}.${format}`);
  const r = await runCli(['read', `pcaps/${name}.pcap`, '--no-redact', '--stats', 'none', '--format', format, '-o', out]);
  return { ...r, bytes: fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0) };
}

describe('read --format pb: length-delimited protobuf equal to the JSON lines', () => {
  for (const name of PB_CAPTURES) {
    it(name, async () => {
      const want = await jsonl(name);
      const r = await toFile(name, 'pb');
      assert.equal(r.code, name.startsWith('broken/cut') ? 3 : 0, r.stderr);
      assert.equal(r.stdout.length, 0, 'nothing on stdout with -o');
      const got = decodeExchangesDelimited(r.bytes);
      assert.equal(got.length, want.length, 'one message per exchange');
      // Compared as proto3 values: an empty sub-message (pb may carry `completeness {}`) equals an
      // absent one, which the JSON mapping omits.
      for (let i = 0; i < want.length; i++) {
        const a = withoutEmpty(JSON.parse(JSON.stringify(got[i])));
        const b = withoutEmpty(want[i]);
        const diff = jsonDiffPaths(a, b);
        assert.deepEqual(diff, [], `exchange ${i}: pb (got) vs jsonl (golden)`);
      }
    });
  }

  it('without -o to a pipe, pb goes to stdout and decodes the same', async () => {
    const want = await jsonl('vxlan/mirror-lab');
    const r = await runCli(['read', 'pcaps/vxlan/mirror-lab.pcap', '--no-redact', '--stats', 'none', '--format', 'pb']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decodeExchangesDelimited(r.stdout).length, want.length);
  });
});

interface HarEntry {
  request: { method: string; url: string; httpVersion: string; headers: Array<{ name: string; value: string }>; postData?: { text: string; encoding?: string } };
  response: { status: number; statusText: string; content: { size: number; text?: string; encoding?: string }; bodySize: number };
  _shadowtap?: { vni?: number; completeness?: Record<string, unknown> };
}

describe('read --format har: HAR 1.2, one entry per exchange', () => {
  for (const name of HAR_CAPTURES) {
    it(name, async () => {
      const want = await jsonl(name);
      const r = await toFile(name, 'har');
      assert.equal(r.code, name.startsWith('broken/cut') ? 3 : 0, r.stderr);
      let doc: { log: { version: string; creator: { name: string }; entries: HarEntry[] } };
      try {
        doc = JSON.parse(r.bytes.toString('utf8'));
      } catch (e) {
        assert.fail(`HAR output is not JSON: ${(e as Error).message}`);
      }
      assert.equal(doc.log.version, '1.2');
      assert.equal(doc.log.creator.name, 'shadowtap');
      assert.equal(doc.log.entries.length, want.length);
      doc.log.entries.forEach((entry, i) => {
        const ex = want[i];
        assert.equal(entry.response.status, ex.response?.status ?? 0, `entry ${i} status`);
        let url: URL;
        try {
          url = new URL(entry.request.url);
        } catch {
          assert.fail(`entry ${i}: request.url is not absolute: ${entry.request.url}`);
        }
        assert.equal(url.protocol, 'http:');
        if (ex.request) {
          assert.equal(entry.request.method, ex.request.method);
          const host = headerOf(ex.request, 'host');
          assert.equal(entry.request.url, `http://${host}${ex.request.url}`, `entry ${i} url`);
          assert.equal(entry.request.httpVersion, `HTTP/${ex.request.httpVersion}`);
        } else {
          assert.equal(url.host, `${ex.connection.server.ip}:${ex.connection.server.port}`, 'no request: the server address');
        }
        if (ex.connection.vni !== undefined) assert.equal(entry._shadowtap?.vni, ex.connection.vni);
        // Body content: the same bytes as the JSON lines body, as text or base64.
        const body = Buffer.from(ex.response?.body ?? '', 'base64');
        const c = entry.response.content;
        assert.equal(c.size, body.length, `entry ${i} content.size`);
        if (body.length) {
          const harBody = c.encoding === 'base64' ? Buffer.from(c.text ?? '', 'base64') : Buffer.from(c.text ?? '', 'utf8');
          assert.ok(harBody.equals(body), `entry ${i} content bytes`);
        }
      });
    });
  }
});
