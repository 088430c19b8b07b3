/**
 * Redaction is on by default: `shadowtap read pcaps/http/mix.pcap` (no flag, SHADOWTAP_REDACT_KEY
 * fixed by read-support) must not contain any of the fake PII of pcaps/gen/fixtures.js: not raw,
 * not lower-cased, not percent-encoded, not inside any body (each body is decoded from base64 and
 * searched), not the card digits without spaces. The exchanges themselves stay intact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { bodyOf, fixtures, parseJsonl, runCli, runCliOnce, stackLines, type ExchangeJson } from './read-support';

/** Every form in which a PII value could leak. */
function needles(): Array<{ what: string; text: string }> {
  const { PII, USERS } = fixtures;
  const values: Array<[string, string]> = Object.entries(PII);
  values.push(['bearer token', PII.bearer.replace(/^Bearer /, '')]);
  values.push(['session cookie value', PII.session.replace(/^session=/, '')]);
  values.push(['session cookie value, percent-decoded', decodeURIComponent(PII.session.replace(/^session=/, ''))]);
  values.push(['card digits', PII.card.replace(/\s+/g, '')]);
  values.push(['phone digits', PII.phone.replace(/\D/g, '')]);
  for (const u of Object.values(USERS)) values.push([`user ${String(u.id)} phone`, String(u.phone)]);
  const out = new Map<string, string>();
  for (const [what, v] of values) {
    out.set(v, what);
    out.set(v.toLowerCase(), `${what}, lower-cased`);
    out.set(encodeURIComponent(v), `${what}, percent-encoded`);
    out.set(encodeURIComponent(v).toLowerCase(), `${what}, percent-encoded, lower-cased`);
  }
  return [...out].map(([text, what]) => ({ what, text }));
}

function haystacks(stdout: string, exs: ExchangeJson[]): Array<{ where: string; text: string }> {
  const out = [{ where: 'raw output', text: stdout }];
  exs.forEach((e, i) => {
    for (const side of ['request', 'response'] as const) {
      const b = bodyOf(e[side]);
      if (!b.length) continue;
      const where = `exchange ${i} (${e.request?.method} ${e.request?.url}) ${side} body`;
      out.push({ where, text: b.toString('latin1') });
      // A body left encoded (decodeError) could hide PII from a plain search: decode it here.
      const enc = e[side]?.contentEncodings ?? [];
      if (enc.length === 1 && e.completeness?.decodeError) {
        const un = { gzip: zlib.gunzipSync, 'x-gzip': zlib.gunzipSync, br: zlib.brotliDecompressSync, deflate: zlib.inflateSync }[enc[0]];
        try {
          if (un) out.push({ where: `${where}, ${enc[0]}-decoded by the test`, text: un(b).toString('latin1') });
        } catch {
          // not decodable here either
        }
      }
    }
  });
  return out;
}

describe('read: redaction is on by default', () => {
  it('http/mix: no PII value in any form, anywhere in the output', async () => {
    const r = await runCliOnce(['read', 'pcaps/http/mix.pcap', '--stats', 'none']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stackLines(r.stderr), []);
    assert.ok(!r.stderr.includes('--no-redact'), 'no --no-redact warning by default');
    const stdout = r.stdout.toString('utf8');
    const exs = parseJsonl(stdout);
    const leaks: string[] = [];
    for (const h of haystacks(stdout, exs)) {
      const lower = h.text.toLowerCase();
      for (const n of needles()) {
        if (h.text.includes(n.text) || lower.includes(n.text.toLowerCase())) leaks.push(`${h.where}: ${n.what} (${JSON.stringify(n.text)})`);
      }
    }
    assert.deepEqual(leaks, [], 'PII found in the redacted output');
  });

  it('the needles are really in the --no-redact output (the search above can fail)', async () => {
    const r = await runCliOnce(['read', 'pcaps/http/mix.pcap', '--no-redact', '--stats', 'none']);
    const stdout = r.stdout.toString('utf8');
    const all = haystacks(stdout, parseJsonl(stdout)).map((h) => h.text).join('\n');
    for (const v of [fixtures.PII.email, fixtures.PII.card, fixtures.PII.phone, fixtures.PII.bearer, fixtures.PII.session, fixtures.PII.email2]) {
      assert.ok(all.includes(v), `${v} is in the unredacted traffic`);
    }
  });

  it('redaction keeps the exchanges: same count, methods, urls, statuses; rules recorded', async () => {
    const plain = parseJsonl((await runCliOnce(['read', 'pcaps/http/mix.pcap', '--no-redact', '--stats', 'none'])).stdout);
    const red = parseJsonl((await runCliOnce(['read', 'pcaps/http/mix.pcap', '--stats', 'none'])).stdout);
    assert.equal(red.length, plain.length);
    const shape = (e: ExchangeJson): unknown[] => [e.request?.method, e.request?.url?.split('?')[0], e.response?.status, e.interimStatuses ?? []];
    assert.deepEqual(red.map(shape), plain.map(shape));
    assert.ok(red.some((e) => (e.redactions?.length ?? 0) > 0), 'redaction hits are recorded');
    // A redacted JSON body is still JSON.
    for (const e of red) {
      const ct = e.response?.headers?.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? '';
      if (ct.startsWith('application/json') && e.response?.body) {
        assert.doesNotThrow(() => JSON.parse(bodyOf(e.response).toString('utf8')), `${e.request?.url}: body still JSON`);
      }
    }
  });

  it('with a fixed key the redacted output is reproducible', async () => {
    const a = await runCli(['read', 'pcaps/vxlan/mirror-lab.pcap', '--stats', 'none']);
    const b = await runCli(['read', 'pcaps/vxlan/mirror-lab.pcap', '--stats', 'none']);
    assert.equal(a.code, 0, a.stderr);
    assert.ok(a.stdout.length > 0);
    assert.ok(a.stdout.equals(b.stdout));
  });

  it('redaction on worker threads (--redact-workers 2) writes the same bytes and counts as on the capture thread (0)', async () => {
    const counts = (stderr: string): Record<string, number> => {
      const c = (JSON.parse(stderr.trim().split('\n').pop() as string) as { counters: Record<string, number> }).counters;
      delete c.redact_batches_main_thread;
      return c;
    };
    for (const pcap of ['pcaps/http/mix.pcap', 'pcaps/vxlan/mirror-lab.pcap']) {
      const main = await runCli(['read', pcap, '--stats', 'json', '--redact-workers', '0']);
      const workers = await runCli(['read', pcap, '--stats', 'json', '--redact-workers', '2']);
      assert.equal(main.code, 0, main.stderr);
      assert.equal(workers.code, 0, workers.stderr);
      assert.ok(parseJsonl(main.stdout).some((e) => (e.redactions ?? []).length > 0), `${pcap}: something was redacted`);
      assert.ok(workers.stdout.equals(main.stdout), `${pcap}: same output`);
      assert.deepEqual(counts(workers.stderr), counts(main.stderr));
    }
  });

  it('--redact-workers takes auto or 0-64: anything else is one clear usage line', async () => {
    for (const bad of ['=-1', 'two', '65', '1.5', '']) {
      const r = await runCli(['read', 'pcaps/http/mix.pcap', bad.startsWith('=') ? `--redact-workers${bad}` : '--redact-workers', ...(bad.startsWith('=') ? [] : [bad])]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^shadowtap: --redact-workers: expected auto or an integer 0-64, got "[^"]*"\n$/);
    }
    // A value that looks like an option is refused by the argument parser: one line, usage exit status.
    const dash = await runCli(['read', 'pcaps/http/mix.pcap', '--redact-workers', '-1']);
    assert.equal(dash.code, 1, dash.stderr);
    assert.match(dash.stderr, /^shadowtap: Option '--redact-workers' argument is ambiguous\..*\n$/);
    const ok = await runCli(['read', 'pcaps/http/mix.pcap', '--redact-workers', 'auto', '--stats', 'none']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
